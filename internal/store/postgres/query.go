package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

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
	cols, err := db.datasetColumns(ctx, q.Dataset)
	if err != nil {
		return nil, err
	}
	after, err := store.CheckItemQuery(q, cols)
	if err != nil {
		return nil, err
	}
	if q.RunID != 0 {
		if _, err := findRun(ctx, db.pool, q.RunID); err != nil {
			return nil, err
		}
	}
	return &itemPlan{q: q, after: after}, nil
}

// datasetColumns returns the columns of the dataset, without counting its
// items as Dataset does.
func (db *DB) datasetColumns(ctx context.Context, name string) ([]string, error) {
	var cols string
	err := db.pool.QueryRow(ctx, `SELECT columns FROM datasets WHERE name = $1`, name).Scan(&cols)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "dataset %q not found", name)
	} else if err != nil {
		return nil, fmt.Errorf("find dataset %s: %w", name, err)
	}
	var out []string
	if err := json.Unmarshal([]byte(cols), &out); err != nil {
		return nil, fmt.Errorf("dataset %s: decode columns: %w", name, err)
	}
	return out, nil
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
		read, last, err := db.scanItems(ctx, p, query, args, &ids, &items)
		if err != nil {
			return nil, nil, err
		}
		// A query yields an item once per matching element of a list
		// ("Foo" and "foo" for a case-insensitive filter), and a hash
		// collision that the fold check drops: only a query that returned
		// fewer rows than asked ends the items.
		if read < want || len(ids) >= n {
			return ids, items, nil
		}
		after = last
	}
}

// scanItems runs query and appends the items it returns (id and data) to
// ids and items, projected, skipping a repeat of the previous id and an
// item that fails a case-insensitive filter. It returns how many rows it
// read and the last id.
func (db *DB) scanItems(ctx context.Context, p *itemPlan, query string, args []any, ids *[]int64, items *[]json.RawMessage) (int, int64, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return 0, 0, err
	}
	var (
		id, last int64
		data     string
		read     int
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &data}, func() error {
		read++
		last = id
		if len(*ids) > 0 && (*ids)[len(*ids)-1] == id {
			return nil
		}
		if ok, err := foldMatches(p.q.Filters, data); err != nil {
			return fmt.Errorf("item %d: %w", id, err)
		} else if !ok {
			return nil
		}
		raw := json.RawMessage(data)
		if len(p.q.Fields) > 0 {
			var err error
			if raw, err = store.Project(raw, p.q.Fields); err != nil {
				return fmt.Errorf("item %d: %w", id, err)
			}
		}
		*ids = append(*ids, id)
		*items = append(*items, raw)
		return nil
	})
	return read, last, err
}

// foldMatches checks the case-insensitive filters on an item's data: the
// query matched their hash only, PostgreSQL lacking the Go fold.
func foldMatches(filters []store.FieldFilter, data string) (bool, error) {
	var fields []store.IndexedField
	for _, f := range filters {
		if !f.Fold {
			continue
		}
		if fields == nil {
			var err error
			if fields, err = store.StoredIndexValues(data); err != nil {
				return false, err
			}
		}
		want, found := f.IndexValue(), false
		for _, fv := range fields {
			if fv.Name != f.Field {
				continue
			}
			for _, v := range fv.Values {
				if store.Fold(v) == want {
					found = true
				}
			}
		}
		if !found {
			return false, nil
		}
	}
	return true, nil
}

// fieldIDSQL is the id of a field of a dataset: NULL, which matches
// nothing, when no item ever had a value in the field.
const fieldIDSQL = `(SELECT id FROM item_fields WHERE dataset = %s AND name = %s)`

// args numbers the parameters of a query as it is built.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// itemsQuery returns the query of up to n items of p after the item id
// after, in id order, and its arguments. Every shape reads an index in id
// order from the cursor: items_dataset_id, run_items' key, or the first
// filter's (field, hash) range of item_values_key, further filters being
// probes of the same index with the item's id.
func itemsQuery(p *itemPlan, after int64, n int) (string, []any) {
	q := p.q
	var a args
	if q.RunID != 0 {
		return `SELECT r.item_id, coalesce(r.data, i.data) FROM run_items r JOIN items i ON i.id = r.item_id
			WHERE r.run_id = ` + a.add(q.RunID) + ` AND r.item_id > ` + a.add(after) + ` AND i.dataset = ` + a.add(q.Dataset) +
			` ORDER BY r.item_id LIMIT ` + a.add(n), a
	}
	if len(q.Filters) == 0 {
		query := `SELECT id, data FROM items WHERE dataset = ` + a.add(q.Dataset) + ` AND id > ` + a.add(after)
		if !q.Since.IsZero() {
			query += ` AND updated_at > ` + a.add(ms(q.Since))
		}
		return query + ` ORDER BY id LIMIT ` + a.add(n), a
	}
	var b strings.Builder
	first := q.Filters[0]
	fmt.Fprintf(&b, `SELECT i.id, i.data FROM item_values v JOIN items i ON i.id = v.item_id
		WHERE v.field_id = `+fieldIDSQL+` AND v.hash = %s AND v.item_id > %s%s`,
		a.add(q.Dataset), a.add(first.Field), a.add(store.ValueHash(first.Value)), a.add(after), valueCheck(&a, "v", first))
	for _, f := range q.Filters[1:] {
		fmt.Fprintf(&b, `
		AND EXISTS (SELECT 1 FROM item_values w WHERE w.field_id = `+fieldIDSQL+` AND w.hash = %s AND w.item_id = i.id%s)`,
			a.add(q.Dataset), a.add(f.Field), a.add(store.ValueHash(f.Value)), valueCheck(&a, "w", f))
	}
	if !q.Since.IsZero() {
		b.WriteString(`
		AND i.updated_at > ` + a.add(ms(q.Since)))
	}
	b.WriteString(`
		ORDER BY v.item_id LIMIT ` + a.add(n))
	return b.String(), a
}

// valueCheck is the condition an exact filter puts on the value of a row
// whose hash matched; a case-insensitive one is checked by foldMatches.
func valueCheck(a *args, t string, f store.FieldFilter) string {
	if f.Fold {
		return ""
	}
	return " AND " + t + ".value = " + a.add(sanitize(f.Value))
}

// FieldValues implements store.Store. It groups the field's range of
// item_values_key and sorts the groups by count.
func (db *DB) FieldValues(ctx context.Context, dataset, field string, limit int) ([]store.ValueCount, error) {
	cols, err := db.datasetColumns(ctx, dataset)
	if err != nil {
		return nil, err
	}
	if err := store.CheckColumn(dataset, cols, field); err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, trawl.Errorf(trawl.EINVALID, "invalid limit %d: want 0 (all) or more", limit)
	}
	var lim *int // NULL: no limit
	if limit > 0 {
		lim = &limit
	}
	rows, err := db.pool.Query(ctx, `SELECT value, count(*) AS n FROM item_values
		WHERE field_id = (SELECT id FROM item_fields WHERE dataset = $1 AND name = $2)
		GROUP BY value ORDER BY n DESC, value LIMIT $3`, dataset, field, lim)
	if err != nil {
		return nil, fmt.Errorf("values of %s.%s: %w", dataset, field, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ValueCount, error) {
		var v store.ValueCount
		err := row.Scan(&v.Value, &v.Count)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("values of %s.%s: %w", dataset, field, err)
	}
	if out == nil {
		out = []store.ValueCount{}
	}
	return out, nil
}
