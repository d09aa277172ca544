package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/trawl-dev/trawl/internal/store"
)

// The value index (item_fields, item_values): see the migration and
// docs/storage.md. The values, their fold and hash come from package
// store, as in SQLite.

// fieldCache holds the item_fields ids that committed transactions wrote or
// read, so that a commit does not look up each field of its dataset again.
// An id, once committed, is valid for good: rows of item_fields are never
// updated nor deleted. Ids seen by a transaction are added only after it
// commits, so a rolled back insert leaves no id behind.
type fieldCache struct {
	mu  sync.Mutex
	ids map[fieldKey]int64
}

type fieldKey struct{ dataset, name string }

func newFieldCache() *fieldCache { return &fieldCache{ids: map[fieldKey]int64{}} }

func (c *fieldCache) get(k fieldKey) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.ids[k]
	return id, ok
}

func (c *fieldCache) add(ids map[fieldKey]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.Copy(c.ids, ids)
}

// valueIndexer writes the value rows of the items of one transaction.
type valueIndexer struct {
	dataset string
	cache   *fieldCache
	seen    map[fieldKey]int64 // ids looked up or added by this transaction
}

func newValueIndexer(dataset string, cache *fieldCache) *valueIndexer {
	return &valueIndexer{dataset: dataset, cache: cache, seen: map[fieldKey]int64{}}
}

// committed publishes the field ids of the transaction, once it committed.
func (x *valueIndexer) committed() { x.cache.add(x.seen) }

// ensureFields makes sure item_fields has every field with values of the
// items, inserting the new names in name order (two commits adding the
// same new fields wait for each other instead of deadlocking).
func (x *valueIndexer) ensureFields(ctx context.Context, tx pgx.Tx, items map[string]*pendingItem) error {
	names := map[string]bool{}
	for _, it := range items {
		for _, f := range it.fields {
			if len(f.Values) > 0 {
				names[f.Name] = true
			}
		}
	}
	return x.lookup(ctx, tx, names)
}

// lookup finds (adding them if needed) the ids of names not known yet.
func (x *valueIndexer) lookup(ctx context.Context, tx pgx.Tx, names map[string]bool) error {
	var missing []string
	for name := range names {
		k := fieldKey{x.dataset, name}
		if _, ok := x.seen[k]; ok {
			continue
		}
		if id, ok := x.cache.get(k); ok {
			x.seen[k] = id
			continue
		}
		missing = append(missing, name)
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	if _, err := tx.Exec(ctx, `INSERT INTO item_fields (dataset, name) SELECT $1, n FROM unnest($2::text[]) AS t(n) ORDER BY n COLLATE "C"
		ON CONFLICT (dataset, name) DO NOTHING`, x.dataset, missing); err != nil {
		return fmt.Errorf("add fields: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT id, name FROM item_fields WHERE dataset = $1 AND name = ANY($2)`, x.dataset, missing)
	if err != nil {
		return fmt.Errorf("find fields: %w", err)
	}
	var (
		id   int64
		name string
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		x.seen[fieldKey{x.dataset, name}] = id
		return nil
	})
	if err != nil {
		return fmt.Errorf("find fields: %w", err)
	}
	return nil
}

// valueRow is one row of item_values.
type valueRow struct {
	fieldID, itemID int64
	value           string
}

// rows appends the rows of an item's fields to dst: one per distinct
// value of each field.
func (x *valueIndexer) rows(dst []valueRow, itemID int64, fields []store.IndexedField) ([]valueRow, error) {
	for _, f := range fields {
		if len(f.Values) == 0 {
			continue
		}
		fid, ok := x.seen[fieldKey{x.dataset, f.Name}]
		if !ok {
			return nil, fmt.Errorf("field %s has no id", f.Name)
		}
		vs := f.Values
		if len(vs) > 1 { // a list: one row per distinct element
			vs = slices.Compact(slices.Sorted(slices.Values(vs)))
		}
		for _, v := range vs {
			dst = append(dst, valueRow{fid, itemID, v})
		}
	}
	return dst, nil
}

// write sets the value rows of the stored items: all rows of a fresh
// item; for an updated one, the rows it gained, and it loses the rows it
// no longer has. One insert and one delete for the whole commit.
func (x *valueIndexer) write(ctx context.Context, tx pgx.Tx, keys []string, items map[string]*pendingItem) error {
	oldNames := map[string]bool{}
	for _, it := range items {
		for _, f := range it.old {
			if len(f.Values) > 0 {
				oldNames[f.Name] = true
			}
		}
	}
	if err := x.lookup(ctx, tx, oldNames); err != nil {
		return err
	}
	var ins, del []valueRow
	for _, k := range keys {
		it := items[k]
		if it.skip {
			continue
		}
		rows, err := x.rows(nil, it.id, it.fields)
		if err != nil {
			return fmt.Errorf("item %s: %w", k, err)
		}
		if it.fresh {
			ins = append(ins, rows...)
			continue
		}
		old, err := x.rows(nil, it.id, it.old)
		if err != nil {
			return fmt.Errorf("item %s: %w", k, err)
		}
		had := map[valueRow]bool{}
		for _, r := range old {
			had[r] = true
		}
		for _, r := range rows {
			if had[r] {
				delete(had, r) // unchanged: kept as it is
				continue
			}
			ins = append(ins, r)
		}
		for r := range had { // values the item no longer has
			del = append(del, r)
		}
	}
	if len(del) > 0 {
		f, h, i, v := valueArrays(del)
		if _, err := tx.Exec(ctx, `DELETE FROM item_values w USING unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[]) AS t(f, h, i, v)
			WHERE w.field_id = t.f AND w.hash = t.h AND w.item_id = t.i AND w.value = t.v`, f, h, i, v); err != nil {
			return fmt.Errorf("delete values: %w", err)
		}
	}
	if len(ins) > 0 {
		f, h, i, v := valueArrays(ins)
		if _, err := tx.Exec(ctx, `INSERT INTO item_values (field_id, hash, item_id, value)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[])`, f, h, i, v); err != nil {
			return fmt.Errorf("insert values: %w", err)
		}
	}
	return nil
}

// valueArrays returns the columns of rows as arrays, the hash computed.
func valueArrays(rows []valueRow) (fields, hashes, items []int64, values []string) {
	for _, r := range rows {
		fields = append(fields, r.fieldID)
		hashes = append(hashes, store.ValueHash(r.value))
		items = append(items, r.itemID)
		values = append(values, sanitize(r.value))
	}
	return
}
