package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// itemPlan is a validated ItemQuery.
type itemPlan struct {
	q     store.ItemQuery
	after int64 // item id of q.After
}

// planItems validates q against the dataset (ENOTFOUND, EINVALID).
func (db *DB) planItems(ctx context.Context, q store.ItemQuery) (*itemPlan, error) {
	d, err := db.datasetColumns(ctx, q.Dataset)
	if err != nil {
		return nil, err
	}
	after, err := store.CheckItemQuery(q, d.Columns)
	if err != nil {
		return nil, err
	}
	if q.RunID != 0 {
		if _, err := findRun(ctx, db.read, q.RunID); err != nil {
			return nil, err
		}
	}
	return &itemPlan{q: q, after: after}, nil
}

// datasetColumns returns the dataset with its name and columns only:
// Dataset also counts the items, which reads the whole dataset and would
// make every page cost O(items).
func (db *DB) datasetColumns(ctx context.Context, name string) (*store.Dataset, error) {
	d := &store.Dataset{Name: name}
	var cols string
	err := db.read.QueryRowContext(ctx, `SELECT columns FROM datasets WHERE name = ?`, name).Scan(&cols)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "dataset %q not found", name)
	} else if err != nil {
		return nil, fmt.Errorf("find dataset %s: %w", name, err)
	}
	if err := json.Unmarshal([]byte(cols), &d.Columns); err != nil {
		return nil, fmt.Errorf("dataset %s: decode columns: %w", name, err)
	}
	return d, nil
}

// ItemsPage implements store.Store.
func (db *DB) ItemsPage(ctx context.Context, q store.ItemQuery) (*store.ItemPage, error) {
	p, err := db.planItems(ctx, q)
	if err != nil {
		return nil, err
	}
	return store.ReadItemsPage(ctx, db.itemReader(p), q.Dataset, p.after, q.Limit)
}

// Items implements store.Store.
func (db *DB) Items(ctx context.Context, q store.ItemQuery) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		p, err := db.planItems(ctx, q)
		if err != nil {
			yield(nil, err)
			return
		}
		for raw, err := range store.ReadItems(ctx, db.itemReader(p), q.Dataset, p.after, q.Limit) {
			if !yield(raw, err) || err != nil {
				return
			}
		}
	}
}

// itemReader reads the items of p for store.ReadItems and ReadItemsPage.
func (db *DB) itemReader(p *itemPlan) store.ItemReader {
	return func(ctx context.Context, after int64, n int) ([]int64, []json.RawMessage, error) {
		return db.readItems(ctx, p, after, n)
	}
}

// readItems returns up to n items of p after the item id after, with their
// ids, projected.
func (db *DB) readItems(ctx context.Context, p *itemPlan, after int64, n int) ([]int64, []json.RawMessage, error) {
	var (
		ids   []int64
		items []json.RawMessage
	)
	for {
		want := n - len(ids)
		query, args := itemsQuery(p, after, want)
		read, err := db.scanItems(ctx, query, args, p.q.Fields, &ids, &items)
		if err != nil {
			return nil, nil, err
		}
		// A case-insensitive filter reads an item once per matching
		// element of a list ("Foo" and "foo"); scanItems drops the
		// repeats, so only a query that returned fewer rows than asked
		// ends the items.
		if read < want || len(ids) >= n {
			return ids, items, nil
		}
		after = ids[len(ids)-1]
	}
}

// scanItems runs query and appends the items it returns (id and data) to
// ids and items, projected on fields, skipping a repeat of the previous id.
// It returns how many rows it read.
func (db *DB) scanItems(ctx context.Context, query string, args []any, fields []string, ids *[]int64, items *[]json.RawMessage) (int, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	read := 0
	for rows.Next() {
		var (
			id   int64
			data string
		)
		if err := rows.Scan(&id, &data); err != nil {
			return 0, err
		}
		read++
		if len(*ids) > 0 && (*ids)[len(*ids)-1] == id {
			continue
		}
		raw := json.RawMessage(data)
		if len(fields) > 0 {
			if raw, err = store.Project(raw, fields); err != nil {
				return 0, fmt.Errorf("item %d: %w", id, err)
			}
		}
		*ids = append(*ids, id)
		*items = append(*items, raw)
	}
	return read, rows.Err()
}

// fieldIDSQL is the id of a field of a dataset: a scalar subquery that
// runs once per statement (one probe of item_fields' unique index). NULL,
// which matches nothing, when no item ever had a value in the field.
const fieldIDSQL = `(SELECT id FROM item_fields WHERE dataset = ? AND name = ?)`

// itemsQuery returns the query of up to n items of p after the item id
// after, in id order, and its arguments. Every shape reads an index range
// in id order, so a page costs the same at any size of the dataset:
//
//   - no filter: the items table's rowid range from the cursor;
//   - filters: the first filter's range of item_values' key (the hash of
//     the value's fold; the value or its fold checked on the entry), from
//     the cursor, each row joined to its item by rowid; further filters
//     are probes of the same key with the item's id;
//   - since alone: items_updated, then a sort of the matches (recent items
//     are few; see docs/storage.md);
//   - a run: run_items' primary key.
func itemsQuery(p *itemPlan, after int64, n int) (string, []any) {
	q := p.q
	if q.RunID != 0 {
		// A run's record reads its primary key in item id order (the
		// dataset's first-stored order); data is NULL while the items row
		// still holds the run's version.
		return `SELECT r.item_id, coalesce(r.data, i.data) FROM run_items r JOIN items i ON i.id = r.item_id
			WHERE r.run_id = ? AND r.item_id > ? AND i.dataset = ? ORDER BY r.item_id LIMIT ?`,
			[]any{q.RunID, after, q.Dataset, n}
	}
	if len(q.Filters) == 0 {
		if q.Since.IsZero() {
			// "+dataset" keeps SQLite off the (dataset, key) index, which would
			// make it sort the whole dataset for every page; a rowid range scan
			// comes out in id order already.
			return `SELECT id, data FROM items WHERE +dataset = ? AND id > ? ORDER BY id LIMIT ?`,
				[]any{q.Dataset, after, n}
		}
		return `SELECT id, data FROM items INDEXED BY items_updated WHERE dataset = ? AND updated_at > ? AND id > ? ORDER BY id LIMIT ?`,
			[]any{q.Dataset, q.Since.UnixMilli(), after, n}
	}
	var b strings.Builder
	var args []any
	first := q.Filters[0]
	// Both kinds of filter read the range of the value's hash; an exact
	// one compares value on the entry, a case-insensitive one its fold.
	fmt.Fprintf(&b, `SELECT i.id, i.data FROM item_values v CROSS JOIN items i ON i.id = v.item_id
		WHERE v.field_id = %s AND v.hash = ? AND v.item_id > ? AND %s`, fieldIDSQL, valueCheck("v", first))
	args = append(args, q.Dataset, first.Field, store.ValueHash(first.Value), after, first.IndexValue())
	for _, f := range q.Filters[1:] {
		fmt.Fprintf(&b, `
		AND EXISTS (SELECT 1 FROM item_values w WHERE w.field_id = %s AND w.hash = ? AND w.item_id = i.id AND %s)`, fieldIDSQL, valueCheck("w", f))
		args = append(args, q.Dataset, f.Field, store.ValueHash(f.Value), f.IndexValue())
	}
	if !q.Since.IsZero() {
		b.WriteString(`
		AND i.updated_at > ?`)
		args = append(args, q.Since.UnixMilli())
	}
	b.WriteString(`
		ORDER BY v.item_id LIMIT ?`)
	return b.String(), append(args, n)
}

// valueCheck is the condition a filter puts on the value of a row of
// item_values (alias t) whose hash matched: equality, or equality of the
// fold (trawl_fold, registered by Open).
func valueCheck(t string, f store.FieldFilter) string {
	if f.Fold {
		return "trawl_fold(" + t + ".value) = ?"
	}
	return t + ".value = ?"
}

// FieldValues implements store.Store.
func (db *DB) FieldValues(ctx context.Context, dataset, field string, limit int) ([]store.ValueCount, error) {
	d, err := db.datasetColumns(ctx, dataset)
	if err != nil {
		return nil, err
	}
	if err := store.CheckColumn(dataset, d.Columns, field); err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, trawl.Errorf(trawl.EINVALID, "invalid limit %d: want 0 (all) or more", limit)
	}
	query, args := fieldValuesQuery(dataset, field, limit)
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("values of %s.%s: %w", dataset, field, err)
	}
	defer rows.Close()
	out := []store.ValueCount{}
	for rows.Next() {
		var v store.ValueCount
		if err := rows.Scan(&v.Value, &v.Count); err != nil {
			return nil, fmt.Errorf("values of %s.%s: %w", dataset, field, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// fieldValuesQuery groups the field's range of item_values (its key, no
// JSON); the range is in hash then item order, so the grouping sorts it,
// then the groups are sorted by count. Linear scans with a sort were judged
// worth a second index's cost on every commit.
func fieldValuesQuery(dataset, field string, limit int) (string, []any) {
	if limit == 0 {
		limit = -1 // SQLite: no limit
	}
	return `SELECT value, count(*) AS n FROM item_values
		WHERE field_id = ` + fieldIDSQL + ` GROUP BY value ORDER BY n DESC, value LIMIT ?`,
		[]any{dataset, field, limit}
}
