package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// The value index of items, shared by the implementations: which values an
// item's fields put in the index, their case fold and its hash. Pure Go, so
// that every store indexes and matches exactly alike. See docs/storage.md.

// IndexedField is one field of an item and its values in the value index
// (see FieldFilter for what they are).
type IndexedField struct {
	Name   string
	Values []string
}

// ItemIndexValues returns the index values of it: its fields and "_url".
// data is the item's JSON as stored; an update finds the item's old rows
// from its old JSON (StoredIndexValues), so the rows must be exactly those of
// data. The item's Go values give them without parsing data, except in the
// cases where the two could differ (a field named twice or "_url", a
// string that is not valid UTF-8, which the JSON encoding replaces): then
// data is parsed.
func ItemIndexValues(it trawl.Item, data []byte) ([]IndexedField, error) {
	out := make([]IndexedField, 0, len(it.Fields)+1)
	for i, f := range it.Fields {
		vs, err := appendValues(nil, f.Value, true)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		if f.Name == "_url" || !allValidUTF8(vs) || slices.ContainsFunc(it.Fields[:i], func(g trawl.Field) bool { return g.Name == f.Name }) {
			return StoredIndexValues(string(data))
		}
		out = append(out, IndexedField{f.Name, vs})
	}
	if !utf8.ValidString(it.URL) {
		return StoredIndexValues(string(data))
	}
	return append(out, IndexedField{"_url", []string{it.URL}}), nil
}

func allValidUTF8(vs []string) bool {
	for _, v := range vs {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// appendValues appends the index values of a field value v: a string as it
// is, a number or boolean as its JSON text, and each such element of a list
// (top only). Null, objects and nested lists have none. The common types of
// extracted values are handled directly; any other goes through its JSON
// encoding, as stored, which is what the backfill reads (rawValues).
func appendValues(dst []string, v any, top bool) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return dst, nil
	case string:
		return append(dst, v), nil
	case json.Number:
		return append(dst, string(v)), nil
	case bool:
		if v {
			return append(dst, "true"), nil
		}
		return append(dst, "false"), nil
	case []string:
		if top {
			return append(dst, v...), nil
		}
		return dst, nil
	case []any:
		if !top {
			return dst, nil
		}
		var err error
		for _, e := range v {
			if dst, err = appendValues(dst, e, false); err != nil {
				return nil, err
			}
		}
		return dst, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return appendRawValues(dst, raw, top)
}

// appendRawValues is appendValues on a JSON encoded value.
func appendRawValues(dst []string, raw json.RawMessage, top bool) ([]string, error) {
	if len(raw) == 0 {
		return dst, nil
	}
	switch raw[0] {
	case 'n', '{':
		return dst, nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return append(dst, s), nil
	case '[':
		if !top {
			return dst, nil
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, err
		}
		var err error
		for _, e := range elems {
			if dst, err = appendRawValues(dst, e, false); err != nil {
				return nil, err
			}
		}
		return dst, nil
	default: // a number, true or false: its JSON text
		return append(dst, string(raw)), nil
	}
}

// StoredIndexValues returns the index values of a stored item (its data).
func StoredIndexValues(data string) ([]IndexedField, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &members); err != nil {
		return nil, err
	}
	out := make([]IndexedField, 0, len(members))
	for name, raw := range members {
		vs, err := appendRawValues(nil, raw, true)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
		out = append(out, IndexedField{name, vs})
	}
	return out, nil
}

// Fold returns the case fold of s: every rune replaced by the smallest rune
// of its Unicode simple-fold orbit (upper case for ASCII letters). Two
// strings have the same fold exactly when strings.EqualFold says they are
// equal. (unicode.ToLower would not do: it maps 'İ' to 'i', which
// EqualFold does not equate with 'I'.)
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.Map(foldRune, s)
		}
	}
	return strings.ToUpper(s)
}

func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

// ValueHash returns the hash of v in the value index (both stores'
// item_values.hash): the 64-bit FNV-1a
// hash of Fold(v), as a signed integer. It is stored, so it must never
// change. ASCII strings, the common case, are hashed without building
// their fold.
func ValueHash(v string) int64 {
	const offset, prime = 14695981039346656037, 1099511628211
	var h uint64 = offset
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= utf8.RuneSelf {
			h = offset
			f := Fold(v)
			for j := 0; j < len(f); j++ {
				h = (h ^ uint64(f[j])) * prime
			}
			return int64(h)
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		h = (h ^ uint64(c)) * prime
	}
	return int64(h)
}
