package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/url"
	"strconv"

	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func extractJSON(sp *spider.Spider, p Page, uri string) (Result, error) {
	var follow []*spider.FollowRule
	for i := range sp.Follow {
		if r := &sp.Follow[i]; r.JSON != nil && applies(r.URLs, uri) {
			follow = append(follow, r)
		}
	}
	var rules []int // indexes into sp.Items
	for i := range sp.Items {
		if r := &sp.Items[i]; r.IsJSON() && applies(r.URLs, uri) {
			rules = append(rules, i)
		}
	}
	if len(follow) == 0 && len(rules) == 0 {
		return Result{}, nil
	}
	doc, err := decodeJSON(p.Body)
	if err != nil {
		return Result{}, &ParseError{URL: p.URL.String(), Err: err}
	}
	l := links{base: p.URL, max: sp.Limits.MaxLinks}
	for _, r := range follow {
		switch v := walk(doc, r.JSON.Segments).(type) {
		case string:
			l.add(v)
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					l.add(s)
				}
			}
		}
	}
	var is items
	pageURL := p.URL.String()
	res := Result{Links: l.list, LinksCapped: l.capped, Rules: make([]trawl.RuleStats, len(sp.Items))}
	for _, i := range rules {
		r, st := &sp.Items[i], &res.Rules[i]
		st.Pages = 1
		switch v := walk(doc, r.JSON.Segments).(type) {
		case []any:
			for _, e := range v {
				is.add(r, pageURL, jsonFields(r, e, p.URL))
			}
			if len(v) > 0 {
				st.Matched = 1
			}
		case map[string]any:
			is.add(r, pageURL, jsonFields(r, v, p.URL))
			st.Matched = 1
		}
	}
	res.Items, res.Invalid = is.result()
	return res, nil
}

// decodeJSON decodes exactly one JSON value. Numbers stay json.Number, the
// literal as written, so that integers beyond 2^53 (ids, say) keep every
// digit in items; it encodes back to the same literal.
func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(trimBOM(body)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty body")
		}
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the top-level value")
	}
	return v, nil
}

// walk follows a dot path through a decoded JSON value. A segment selects a
// key of an object; a numeric segment indexes an array; any other segment
// applied to an array maps over its object elements, flattening the lists
// they yield by one level and skipping elements where the key is missing or
// null. No segments is the value itself; a missing value is nil.
func walk(v any, segs []string) any {
	for _, s := range segs {
		switch t := v.(type) {
		case map[string]any:
			v = t[s]
		case []any:
			if i, ok := index(s); ok {
				if i >= len(t) {
					return nil
				}
				v = t[i]
				continue
			}
			out := make([]any, 0, len(t))
			for _, e := range t {
				m, ok := e.(map[string]any)
				if !ok {
					continue
				}
				switch ev := m[s].(type) {
				case nil:
				case []any:
					out = append(out, ev...)
				default:
					out = append(out, ev)
				}
			}
			v = out
		default:
			return nil
		}
	}
	return v
}

// index parses a segment made only of ASCII digits; one too large for an
// int is out of range of any array.
func index(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		return math.MaxInt, true
	}
	return i, true
}

// jsonFields extracts the fields of one JSON item.
func jsonFields(rule *spider.ItemRule, elem any, base *url.URL) []trawl.Field {
	fields := make([]trawl.Field, len(rule.Fields))
	for i := range rule.Fields {
		f := &rule.Fields[i]
		fields[i] = trawl.Field{Name: f.Name, Value: jsonField(f, elem, base)}
	}
	return fields
}

// jsonField extracts one field. Values keep their JSON types; Regex and URL
// apply to strings, including the strings of a list; All turns a scalar
// into a one-element list and a missing value into an empty one.
func jsonField(f *spider.Field, elem any, base *url.URL) any {
	var v any
	if f.JSON != nil {
		v = walk(elem, f.JSON.Segments)
	} else {
		v = elem
	}
	if f.Regex != nil || f.URL {
		v = jsonStrings(f, v, base)
	}
	if f.All {
		switch v.(type) {
		case nil:
			return []any{}
		case []any:
		default:
			return []any{v}
		}
	}
	return v
}

// jsonStrings applies a field's Regex and URL to the string v, or to the
// strings of the list v (into a new list: the decoded tree is not changed).
// A Regex also applies to a number, as the literal written in the JSON, and
// yields a string. A string the regex does not match is missing: nil, or
// dropped from a list.
func jsonStrings(f *spider.Field, v any, base *url.URL) any {
	switch t := v.(type) {
	case string, json.Number:
		if s, ok := jsonString(f, t, base); ok {
			return s
		}
		return nil
	case []any:
		out := make([]any, 0, len(t))
		for _, e := range t {
			if !isText(f, e) {
				out = append(out, e)
				continue
			}
			if s, ok := jsonString(f, e, base); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return v
}

// isText reports whether jsonString applies to v.
func isText(f *spider.Field, v any) bool {
	switch v.(type) {
	case string:
		return true
	case json.Number:
		return f.Regex != nil
	}
	return false
}

// jsonString applies the field's Regex and URL to a string or number. A
// number without Regex is returned as it is: it is not a URL.
func jsonString(f *spider.Field, v any, base *url.URL) (any, bool) {
	var s string
	switch t := v.(type) {
	case string:
		s = t
	case json.Number:
		if f.Regex == nil {
			return t, true
		}
		s = string(t)
	}
	if f.Regex != nil {
		var ok bool
		if s, ok = applyRegex(f, s); !ok {
			return "", false
		}
	}
	if f.URL {
		s = resolveValue(base, s)
	}
	return s, true
}
