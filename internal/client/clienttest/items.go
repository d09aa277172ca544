package clienttest

import (
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/trawl-dev/trawl/internal/export"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// items answers items, items.csv and items.jsonl: exact or folded
// filters (a list field matches when one element does), fields=
// projection, limit and an offset cursor.
func (s *Server) items(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d := s.datasets[r.PathValue("name")]
	var columns []string
	var all []json.RawMessage
	if d != nil {
		columns, all = slices.Clone(d.columns), slices.Clone(d.items)
	}
	s.mu.Unlock()
	if d == nil {
		problem(w, http.StatusNotFound, trawl.ENOTFOUND, fmt.Sprintf("dataset %s not found", r.PathValue("name")), nil)
		return
	}
	q := r.URL.Query()
	fold := q.Get("match") == "fold"
	var filters []filter
	for k, vs := range q {
		switch k {
		case "limit", "cursor", "fields", "since", "match":
			continue
		case "where":
			for _, v := range vs {
				f, val, _ := strings.Cut(v, "=")
				filters = append(filters, filter{f, val})
			}
			continue
		}
		if len(vs) > 1 {
			problem(w, http.StatusBadRequest, trawl.EINVALID, fmt.Sprintf("filter %s is given %d times", k, len(vs)), nil)
			return
		}
		filters = append(filters, filter{k, vs[0]})
	}
	for _, f := range filters {
		if !slices.Contains(columns, f.field) && f.field != "_url" {
			problem(w, http.StatusBadRequest, trawl.EINVALID, fmt.Sprintf("unknown field %q: the fields are %s", f.field, strings.Join(columns, ", ")), nil)
			return
		}
	}
	if fs := q.Get("fields"); fs != "" {
		columns = strings.Split(fs, ",")
	}
	var kept []json.RawMessage
	for _, raw := range all {
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			problem(w, http.StatusInternalServerError, trawl.EINTERNAL, "internal error", nil)
			return
		}
		if !matches(obj, filters, fold) {
			continue
		}
		kept = append(kept, project(raw, obj, columns, q.Get("fields") != ""))
	}
	start, _ := strconv.Atoi(q.Get("cursor"))
	start = min(start, len(kept))
	kept = kept[start:]
	n := len(kept)
	isPage := strings.HasSuffix(r.URL.Path, "/items")
	if isPage {
		n = 50
	}
	if l := q.Get("limit"); l != "" {
		var err error
		if n, err = strconv.Atoi(l); err != nil || n < 1 || n > 1000 && isPage {
			problem(w, http.StatusBadRequest, trawl.EINVALID, "limit must be 1 to 1000", nil)
			return
		}
	}
	next := ""
	if n < len(kept) {
		kept, next = kept[:n], strconv.Itoa(start+n)
	}
	seq := func(yield func(json.RawMessage, error) bool) {
		for _, it := range kept {
			if !yield(it, nil) {
				return
			}
		}
	}
	switch {
	case strings.HasSuffix(r.URL.Path, ".csv"):
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		_, _ = export.Write(w, export.CSV, iter.Seq2[json.RawMessage, error](seq), export.Options{Columns: append(columns, "_url")})
	case strings.HasSuffix(r.URL.Path, ".jsonl"):
		w.Header().Set("Content-Type", "application/jsonl")
		_, _ = export.Write(w, export.JSONL, iter.Seq2[json.RawMessage, error](seq), export.Options{})
	default:
		out := map[string]any{"items": append([]json.RawMessage{}, kept...)}
		if next != "" {
			out["next_cursor"] = next
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// filter is one field=value condition of an items request.
type filter struct{ field, value string }

func matches(obj map[string]any, filters []filter, fold bool) bool {
	eq := func(a, b string) bool {
		if fold {
			return strings.EqualFold(a, b)
		}
		return a == b
	}
	for _, f := range filters {
		ok := false
		switch v := obj[f.field].(type) {
		case string:
			ok = eq(v, f.value)
		case []any:
			for _, e := range v {
				if s, isStr := e.(string); isStr && eq(s, f.value) {
					ok = true
				}
			}
		case nil:
		default:
			ok = eq(fmt.Sprint(v), f.value)
		}
		if !ok {
			return false
		}
	}
	return true
}

// project keeps the named fields of an item, in that order, then _url.
func project(raw json.RawMessage, obj map[string]any, columns []string, projected bool) json.RawMessage {
	if !projected {
		return raw
	}
	var b strings.Builder
	b.WriteByte('{')
	for _, c := range append(slices.Clone(columns), "_url") {
		v, ok := obj[c]
		if !ok {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c)
		val, _ := json.Marshal(v)
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return json.RawMessage(b.String())
}
