package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/trawl-dev/trawl/internal/store"
)

// The value index (migration 0004): item_values holds every scalar value of
// every item's fields, so filters and distinct values read an index instead
// of parsing JSON. See docs/storage.md.

// valueStmts are the statements that maintain the value index.
type valueStmts struct {
	insField, selField, delValue *sql.Stmt
	// insValues[k-1] inserts k rows: an item's rows go in one statement
	// (an exec costs several µs in the driver, more than a row's B-tree
	// work).
	insValues [valueBatch]*sql.Stmt
}

// valueBatch is the most value rows one insert statement writes; an item
// with more is written in several.
const valueBatch = 8

// insValuesSQL returns the insert of k value rows. OR IGNORE changes no
// result (the rows are distinct and new: replace writes only the rows the
// item did not have) but spares SQLite the statement journal, which a
// multi-row insert that could abort half-way must keep: a copy of every
// page the statement changes.
func insValuesSQL(k int) string {
	return `INSERT OR IGNORE INTO item_values (field_id, hash, item_id, value) VALUES (?, ?, ?, ?)` +
		strings.Repeat(`, (?, ?, ?, ?)`, k-1)
}

// prepareValueStmts prepares s with prep, which keeps the first error.
func prepareValueStmts(prep func(string) *sql.Stmt) valueStmts {
	s := valueStmts{
		insField: prep(insFieldSQL),
		selField: prep(selFieldSQL),
		delValue: prep(delValueSQL),
	}
	for k := range valueBatch {
		s.insValues[k] = prep(insValuesSQL(k + 1))
	}
	return s
}

// all returns the statements of s.
func (s *valueStmts) all() []*sql.Stmt {
	return append([]*sql.Stmt{s.insField, s.selField, s.delValue}, s.insValues[:]...)
}

// in returns s as statements of tx.
func (s *valueStmts) in(ctx context.Context, tx *sql.Tx) valueStmts {
	t := valueStmts{
		insField: tx.StmtContext(ctx, s.insField),
		selField: tx.StmtContext(ctx, s.selField),
		delValue: tx.StmtContext(ctx, s.delValue),
	}
	for k, st := range s.insValues {
		t.insValues[k] = tx.StmtContext(ctx, st)
	}
	return t
}

const (
	insFieldSQL = `INSERT INTO item_fields (dataset, name) VALUES (?, ?) ON CONFLICT (dataset, name) DO NOTHING`
	selFieldSQL = `SELECT id FROM item_fields WHERE dataset = ? AND name = ?`
	delValueSQL = `DELETE FROM item_values WHERE field_id = ? AND hash = ? AND item_id = ? AND value = ?`
)

// fieldCache holds the item_fields ids that committed transactions wrote or
// read, so that a commit does not look up each field of its dataset again.
// An id, once committed, is valid for good: rows of item_fields are never
// updated nor deleted (datasets are never dropped). Ids seen by a
// transaction are added only after it commits, so a rolled back insert
// leaves no id behind.
type fieldCache struct {
	mu  sync.Mutex
	ids map[fieldKey]int64
}

type fieldKey struct{ dataset, name string }

func newFieldCache() *fieldCache { return &fieldCache{ids: map[fieldKey]int64{}} }

func (c *fieldCache) get(k fieldKey) (int64, bool) {
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.ids[k]
	return id, ok
}

// add records the ids of a committed transaction.
func (c *fieldCache) add(ids map[fieldKey]int64) {
	if c == nil || len(ids) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.Copy(c.ids, ids)
}

// valueRow is one row of item_values, less its item and fold.
type valueRow struct {
	fieldID int64
	value   string
}

// valueIndexer writes the value rows of items inside one transaction.
type valueIndexer struct {
	valueStmts
	dataset string
	cache   *fieldCache        // committed ids; nil in the migration
	seen    map[fieldKey]int64 // ids looked up or added by this transaction
	rows    []valueRow         // scratch, reused across items
	ins     []valueRow         // scratch: the old rows, then the rows to insert
	args    []any              // scratch: their arguments
	old     map[valueRow]bool  // scratch, reused across updates
}

func newValueIndexer(s valueStmts, dataset string, cache *fieldCache) *valueIndexer {
	return &valueIndexer{valueStmts: s, dataset: dataset, cache: cache, seen: map[fieldKey]int64{}}
}

// fieldID returns the id of the dataset's field name, adding it if new.
func (x *valueIndexer) fieldID(ctx context.Context, name string) (int64, error) {
	k := fieldKey{x.dataset, name}
	if id, ok := x.seen[k]; ok {
		return id, nil
	}
	if id, ok := x.cache.get(k); ok {
		return id, nil
	}
	if _, err := x.insField.ExecContext(ctx, x.dataset, name); err != nil {
		return 0, err
	}
	var id int64
	if err := x.selField.QueryRowContext(ctx, x.dataset, name).Scan(&id); err != nil {
		return 0, err
	}
	x.seen[k] = id
	return id, nil
}

// committed publishes the field ids of the transaction, once it committed.
func (x *valueIndexer) committed() { x.cache.add(x.seen) }

// replace sets the value rows of the item with id to fields. old are the
// values the item had, nil for a fresh item (just inserted, no rows yet);
// an updated item keeps the rows whose values did not change, and only the
// difference is written.
func (x *valueIndexer) replace(ctx context.Context, id int64, fields, old []store.IndexedField) error {
	var err error
	if x.rows, err = x.valueRows(ctx, x.rows[:0], fields); err != nil {
		return err
	}
	if x.old == nil {
		x.old = map[valueRow]bool{}
	}
	clear(x.old)
	if len(old) > 0 {
		if x.ins, err = x.valueRows(ctx, x.ins[:0], old); err != nil {
			return err
		}
		for _, r := range x.ins {
			x.old[r] = true
		}
	}
	x.ins = x.ins[:0]
	for _, r := range x.rows {
		if x.old[r] {
			delete(x.old, r) // unchanged: kept as it is
			continue
		}
		x.ins = append(x.ins, r)
	}
	for rows := range slices.Chunk(x.ins, valueBatch) {
		x.args = x.args[:0]
		for _, r := range rows {
			x.args = append(x.args, r.fieldID, store.ValueHash(r.value), id, r.value)
		}
		if _, err := x.insValues[len(rows)-1].ExecContext(ctx, x.args...); err != nil {
			return fmt.Errorf("values: %w", err)
		}
	}
	for r := range x.old { // values the item no longer has
		if _, err := x.delValue.ExecContext(ctx, r.fieldID, store.ValueHash(r.value), id, r.value); err != nil {
			return fmt.Errorf("value %q: %w", r.value, err)
		}
	}
	return nil
}

// valueRows appends the rows of fields to dst: one per distinct value of
// each field.
func (x *valueIndexer) valueRows(ctx context.Context, dst []valueRow, fields []store.IndexedField) ([]valueRow, error) {
	for _, f := range fields {
		if len(f.Values) == 0 {
			continue
		}
		fid, err := x.fieldID(ctx, f.Name)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		vs := f.Values
		if len(vs) > 1 { // a list: one row per distinct element
			vs = slices.Compact(slices.Sorted(slices.Values(vs)))
		}
		for _, v := range vs {
			dst = append(dst, valueRow{fid, v})
		}
	}
	return dst, nil
}

// backfillItemValues indexes the items stored before migration 0004, in
// batches keyed by id so that no read stays open across the writes.
func backfillItemValues(ctx context.Context, tx *sql.Tx) error {
	var err error
	s := prepareValueStmts(func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = tx.PrepareContext(ctx, q)
		return st
	})
	defer func() {
		for _, st := range s.all() {
			if st != nil {
				st.Close()
			}
		}
	}()
	if err != nil {
		return err
	}
	indexers := map[string]*valueIndexer{}
	type row struct {
		id            int64
		dataset, data string
	}
	var after int64
	for {
		rows, err := tx.QueryContext(ctx, `SELECT id, dataset, data FROM items WHERE id > ? ORDER BY id LIMIT 1000`, after)
		if err != nil {
			return err
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.dataset, &r.data); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, r)
		}
		if err := errorsJoinClose(rows); err != nil {
			return err
		}
		for _, r := range batch {
			fields, err := store.StoredIndexValues(r.data)
			if err != nil {
				return fmt.Errorf("item %d: %w", r.id, err)
			}
			x := indexers[r.dataset]
			if x == nil {
				x = newValueIndexer(s, r.dataset, nil)
				indexers[r.dataset] = x
			}
			if err := x.replace(ctx, r.id, fields, nil); err != nil {
				return fmt.Errorf("item %d: %w", r.id, err)
			}
		}
		if len(batch) < 1000 {
			return nil
		}
		after = batch[len(batch)-1].id
	}
}

func errorsJoinClose(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}
