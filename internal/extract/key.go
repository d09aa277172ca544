package extract

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// ItemKey returns the identity of an item inside its dataset: the first 16
// bytes, as 32 lowercase hex digits, of the SHA-256 of the JSON array of the
// values of the fields named by key, in the order of key. The name "_url"
// stands for url, the page the item came from; a name that is not a field
// contributes null. An empty key means every field in declared order
// (without _url).
//
// The key is stable across runs and processes: it depends only on the
// values, so a re-run updates an item instead of duplicating it. A
// json.Number (also inside lists and objects) counts as the int64 or
// float64 that JSON numbers were decoded to before they stayed literals, so
// that stored items keep their keys: an integer literal in int64 range as
// int64, any other integer literal as written (as a float64, distinct
// integers beyond 2^53 would share a key), other numbers as float64 when
// they fit one (2.50, 2.5 and 25e-1 share a key), else as written.
func ItemKey(fields []trawl.Field, url string, key []string) string {
	vals := make([]any, 0, max(len(key), len(fields)))
	if len(key) == 0 {
		for _, f := range fields {
			v, _ := keyNumbers(f.Value)
			vals = append(vals, v)
		}
	} else {
		for _, name := range key {
			v, _ := keyNumbers(keyValue(fields, url, name))
			vals = append(vals, v)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(vals); err != nil {
		// Extracted values always encode; a value built by hand that does
		// not (a channel, NaN) still gets a deterministic key.
		b.Reset()
		fmt.Fprintf(&b, "%#v", vals)
	}
	sum := sha256.Sum256(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return hex.EncodeToString(sum[:16])
}

func keyValue(fields []trawl.Field, url, name string) any {
	if name == "_url" {
		return url
	}
	for _, f := range fields {
		if f.Name == name {
			return f.Value
		}
	}
	return nil
}

// keyNumbers returns v with every json.Number replaced as ItemKey
// describes, and whether it replaced any. Lists and objects are copied only
// when they hold a number.
func keyNumbers(v any) (any, bool) {
	switch t := v.(type) {
	case json.Number:
		return keyNumber(t), true
	case []any:
		var out []any
		for i, e := range t {
			if k, changed := keyNumbers(e); changed {
				if out == nil {
					out = slices.Clone(t)
				}
				out[i] = k
			}
		}
		if out != nil {
			return out, true
		}
	case map[string]any:
		var out map[string]any
		for name, e := range t {
			if k, changed := keyNumbers(e); changed {
				if out == nil {
					out = maps.Clone(t)
				}
				out[name] = k
			}
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}

func keyNumber(n json.Number) any {
	s := string(n)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	if strings.TrimLeft(strings.TrimPrefix(s, "-"), "0123456789") == "" {
		return n // an integer beyond int64: exact
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return n
}
