package api

import (
	"encoding/json"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func (s *server) listDatasets(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	sets, err := s.st.Datasets(r.Context())
	if err != nil {
		return err
	}
	if sets == nil {
		sets = []store.Dataset{}
	}
	return writeJSON(w, http.StatusOK, struct {
		Datasets []store.Dataset `json:"datasets"`
	}{sets})
}

func (s *server) items(w http.ResponseWriter, r *http.Request) error {
	q, err := itemQuery(r, defaultItemsLimit)
	if err != nil {
		return err
	}
	page, err := s.st.ItemsPage(r.Context(), q)
	if err != nil {
		return err
	}
	resp := struct {
		Items      []json.RawMessage `json:"items"`
		NextCursor string            `json:"next_cursor,omitempty"`
	}{Items: page.Items, NextCursor: string(page.Next)}
	if resp.Items == nil {
		resp.Items = []json.RawMessage{}
	}
	return writeJSON(w, http.StatusOK, resp)
}

// Default and maximum number of values of the fields route.
const (
	defaultValuesLimit = 100
	maxValuesLimit     = 10000
)

func (s *server) fieldValues(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := onlyParams(q, "limit"); err != nil {
		return err
	}
	limit, err := intParam(q, "limit", defaultValuesLimit, maxValuesLimit)
	if err != nil {
		return err
	}
	field := chi.URLParam(r, "field")
	values, err := s.st.FieldValues(r.Context(), chi.URLParam(r, "name"), field, limit)
	if err != nil {
		return err
	}
	if values == nil {
		values = []store.ValueCount{}
	}
	return writeJSON(w, http.StatusOK, struct {
		Field  string             `json:"field"`
		Values []store.ValueCount `json:"values"`
	}{field, values})
}

// Parameters of the items routes that are not filters. A field with one of
// these names is filtered with where=NAME=VALUE.
var reservedParams = []string{"limit", "cursor", "fields", "since", "match", "where"}

// itemQuery reads the query of an items route: limit (def when absent; 0
// = no default and no cap, for the exports), cursor, fields, since, match, where, and every other
// parameter as a filter: NAME=VALUE matches exactly (or ignoring case with
// match=fold), NAME~=VALUE ignoring case.
func itemQuery(r *http.Request, def int) (store.ItemQuery, error) {
	q := store.ItemQuery{Dataset: chi.URLParam(r, "name")}
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return q, trawl.Errorf(trawl.EINVALID, "malformed query string: %v", err)
	}
	for _, name := range reservedParams {
		if v := params[name]; len(v) > 1 && name != "where" {
			return q, trawl.Errorf(trawl.EINVALID, "parameter %s given %d times: give it once", name, len(v))
		}
	}
	maxLimit := maxItemsLimit
	if def == 0 { // an export: no page, so no page size cap
		maxLimit = math.MaxInt32
	}
	if q.Limit, err = intParam(params, "limit", def, maxLimit); err != nil {
		return q, err
	}
	q.After = store.Cursor(params.Get("cursor"))
	if params.Has("fields") {
		for f := range strings.SplitSeq(params.Get("fields"), ",") {
			if f = strings.TrimSpace(f); f == "" {
				return q, trawl.Errorf(trawl.EINVALID, "invalid fields %q: want field names separated by commas", params.Get("fields"))
			}
			q.Fields = append(q.Fields, f)
		}
	}
	if v := params.Get("since"); v != "" {
		if q.Since, err = time.Parse(time.RFC3339, v); err != nil {
			return q, trawl.Errorf(trawl.EINVALID, "invalid since %q: want an RFC 3339 time like 2026-01-02T15:04:05Z", v)
		}
	}
	fold := false
	switch m := params.Get("match"); m {
	case "", "exact":
	case "fold":
		fold = true
	default:
		return q, trawl.Errorf(trawl.EINVALID, "invalid match %q: want exact or fold", m)
	}
	q.Filters, err = filters(params, fold)
	return q, err
}

// filters reads the filters of an items query: every parameter that is not
// reserved, and every where=NAME=VALUE. A field is filtered once at most.
func filters(params url.Values, fold bool) ([]store.FieldFilter, error) {
	var out []store.FieldFilter
	seen := map[string]bool{}
	add := func(name, value string) error {
		f := store.FieldFilter{Field: name, Value: value, Fold: fold}
		if n, ok := strings.CutSuffix(name, "~"); ok {
			f.Field, f.Fold = n, true
		}
		if f.Field == "" {
			return trawl.Errorf(trawl.EINVALID, "filter %q names no field: write FIELD=VALUE", name+"="+value)
		}
		if seen[f.Field] {
			return trawl.Errorf(trawl.EINVALID, "field %s is filtered more than once: filter a field once", f.Field)
		}
		seen[f.Field] = true
		out = append(out, f)
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(params)) {
		values := params[name]
		if slices.Contains(reservedParams, name) {
			continue
		}
		if len(values) > 1 {
			return nil, trawl.Errorf(trawl.EINVALID, "field %s is filtered more than once: filter a field once", name)
		}
		if err := add(name, values[0]); err != nil {
			return nil, err
		}
	}
	for _, w := range params["where"] {
		name, value, ok := strings.Cut(w, "=")
		if !ok {
			return nil, trawl.Errorf(trawl.EINVALID, "invalid where %q: want where=FIELD=VALUE", w)
		}
		if err := add(name, value); err != nil {
			return nil, err
		}
	}
	return out, nil
}
