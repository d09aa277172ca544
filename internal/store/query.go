package store

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// CheckItemQuery validates q against the columns of its dataset, as every
// implementation must (see ItemQuery), and returns the item id its After
// cursor names (0 = from the first). It does not check that q.RunID
// exists: that needs the database.
func CheckItemQuery(q ItemQuery, columns []string) (after int64, err error) {
	after, err = q.After.ItemID()
	if err != nil {
		return 0, err
	}
	if q.Limit < 0 {
		return 0, trawl.Errorf(trawl.EINVALID, "invalid limit %d: want 0 (all) or more", q.Limit)
	}
	for _, f := range q.Filters {
		if err := CheckColumn(q.Dataset, columns, f.Field); err != nil {
			return 0, err
		}
	}
	for i, f := range q.Fields {
		if err := CheckColumn(q.Dataset, columns, f); err != nil {
			return 0, err
		}
		if slices.Contains(q.Fields[:i], f) {
			return 0, trawl.Errorf(trawl.EINVALID, "field %q is listed twice in the projection", f)
		}
	}
	if q.RunID != 0 && (len(q.Filters) > 0 || !q.Since.IsZero()) {
		return 0, trawl.Errorf(trawl.EINVALID, "filters and since cannot be combined with a run: they select current items, a run's record holds the versions it stored")
	}
	return after, nil
}

// CheckColumn returns EINVALID, naming field and listing the columns, when
// field is not one of the columns of dataset.
func CheckColumn(dataset string, columns []string, field string) error {
	if !slices.Contains(columns, field) {
		return trawl.Errorf(trawl.EINVALID, "unknown field %q: dataset %s has the fields %s", field, dataset, strings.Join(columns, ", "))
	}
	return nil
}

// IndexValue is the value f compares with an entry of the value index
// whose hash is ValueHash(f.Value): the value itself, or its Fold when
// f.Fold is set (then compared with the entry's fold).
func (f FieldFilter) IndexValue() string {
	if f.Fold {
		return Fold(f.Value)
	}
	return f.Value
}

// CheckRunQuery validates q (see Store.Runs) and returns its page size.
func CheckRunQuery(q RunQuery) (limit int, err error) {
	if q.Limit < 0 {
		return 0, trawl.Errorf(trawl.EINVALID, "limit %d is negative", q.Limit)
	}
	switch q.Status {
	case "", trawl.RunQueued, trawl.RunRunning, trawl.RunSucceeded, trawl.RunFailed, trawl.RunCanceled:
	default:
		return 0, trawl.Errorf(trawl.EINVALID, "unknown run status %q (want queued, running, succeeded, failed or canceled)", q.Status)
	}
	if q.Limit == 0 {
		return RunsLimit, nil
	}
	return q.Limit, nil
}

// RunsLimit is the page size of Runs when RunQuery.Limit is 0.
const RunsLimit = 100

// SpidersLimit is the page size of Spiders when SpiderQuery.Limit is 0.
const SpidersLimit = 100

// Project returns the members of the item data named by fields, in that
// order; a member the item lacks (a column added after it was stored) is
// left out, as it is from the whole item.
func Project(data json.RawMessage, fields []string) (json.RawMessage, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(data))
	b = append(b, '{')
	for _, f := range fields {
		v, ok := members[f]
		if !ok {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		k, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// MergeColumns returns a dataset's columns after a run declared columns:
// the existing ones in their order, then the new ones in declared order,
// and "_url" last. Every store keeps a dataset's columns by this rule.
func MergeColumns(existing, columns []string) []string {
	cols := slices.DeleteFunc(slices.Clone(existing), func(c string) bool { return c == "_url" })
	for _, c := range columns {
		if !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	return append(cols, "_url")
}
