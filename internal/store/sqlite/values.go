package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// The value index (migration 0004): item_values holds every scalar value of
// every item's fields, so filters and distinct values read an index instead
// of parsing JSON. See docs/storage.md.

// fieldValues is one field of an item and its index values.
type fieldValues struct {
	name   string
	values []string
}

// itemFieldValues returns the index values of it: its fields and "_url".
func itemFieldValues(it trawl.Item) ([]fieldValues, error) {
	out := make([]fieldValues, 0, len(it.Fields)+1)
	for _, f := range it.Fields {
		vs, err := appendValues(nil, f.Value, true)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		out = append(out, fieldValues{f.Name, vs})
	}
	return append(out, fieldValues{"_url", []string{it.URL}}), nil
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

// rawFieldValues returns the index values of a stored item (its data).
func rawFieldValues(data string) ([]fieldValues, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &members); err != nil {
		return nil, err
	}
	out := make([]fieldValues, 0, len(members))
	for name, raw := range members {
		vs, err := appendRawValues(nil, raw, true)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
		out = append(out, fieldValues{name, vs})
	}
	return out, nil
}

// fold returns the case fold of s: every rune replaced by the smallest rune
// of its Unicode simple-fold orbit (upper case for ASCII letters). Two
// strings have the same fold exactly when strings.EqualFold says they are
// equal. (unicode.ToLower would not do: it maps 'İ' to 'i', which
// EqualFold does not equate with 'I'.)
func fold(s string) string {
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

// valueStmts are the statements that maintain the value index.
type valueStmts struct {
	insField, selField, selValues, delValue *sql.Stmt
	// insValues[k-1] inserts k rows: an item's rows go in one statement
	// (an exec costs several µs in the driver, more than a row's B-tree
	// work).
	insValues [valueBatch]*sql.Stmt
}

// valueBatch is the most value rows one insert statement writes; an item
// with more is written in several.
const valueBatch = 8

// insValuesSQL returns the insert of k value rows.
func insValuesSQL(k int) string {
	return `INSERT INTO item_values (item_id, field_id, value, folded) VALUES (?, ?, ?, ?)` +
		strings.Repeat(`, (?, ?, ?, ?)`, k-1)
}

// prepareValueStmts prepares s with prep, which keeps the first error.
func prepareValueStmts(prep func(string) *sql.Stmt) valueStmts {
	s := valueStmts{
		insField:  prep(insFieldSQL),
		selField:  prep(selFieldSQL),
		selValues: prep(selValuesSQL),
		delValue:  prep(delValueSQL),
	}
	for k := range valueBatch {
		s.insValues[k] = prep(insValuesSQL(k + 1))
	}
	return s
}

// all returns the statements of s.
func (s *valueStmts) all() []*sql.Stmt {
	return append([]*sql.Stmt{s.insField, s.selField, s.selValues, s.delValue}, s.insValues[:]...)
}

// in returns s as statements of tx.
func (s *valueStmts) in(ctx context.Context, tx *sql.Tx) valueStmts {
	t := valueStmts{
		insField:  tx.StmtContext(ctx, s.insField),
		selField:  tx.StmtContext(ctx, s.selField),
		selValues: tx.StmtContext(ctx, s.selValues),
		delValue:  tx.StmtContext(ctx, s.delValue),
	}
	for k, st := range s.insValues {
		t.insValues[k] = tx.StmtContext(ctx, st)
	}
	return t
}

const (
	insFieldSQL  = `INSERT INTO item_fields (dataset, name) VALUES (?, ?) ON CONFLICT (dataset, name) DO NOTHING`
	selFieldSQL  = `SELECT id FROM item_fields WHERE dataset = ? AND name = ?`
	selValuesSQL = `SELECT field_id, value FROM item_values WHERE item_id = ?`
	delValueSQL  = `DELETE FROM item_values WHERE item_id = ? AND field_id = ? AND value = ?`
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
	ins     []valueRow         // scratch: the rows to insert
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

// replace sets the value rows of the item with id to fields. A fresh item
// (just inserted) has no rows yet; an updated one keeps the rows whose
// values did not change, and only the difference is written.
func (x *valueIndexer) replace(ctx context.Context, id int64, fields []fieldValues, fresh bool) error {
	x.rows = x.rows[:0]
	for _, f := range fields {
		if len(f.values) == 0 {
			continue
		}
		fid, err := x.fieldID(ctx, f.name)
		if err != nil {
			return fmt.Errorf("field %s: %w", f.name, err)
		}
		vs := f.values
		if len(vs) > 1 { // a list: one row per distinct element
			vs = slices.Compact(slices.Sorted(slices.Values(vs)))
		}
		for _, v := range vs {
			x.rows = append(x.rows, valueRow{fid, v})
		}
	}
	if !fresh {
		if err := x.readOld(ctx, id); err != nil {
			return err
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
			x.args = append(x.args, id, r.fieldID, r.value, fold(r.value))
		}
		if _, err := x.insValues[len(rows)-1].ExecContext(ctx, x.args...); err != nil {
			return fmt.Errorf("values: %w", err)
		}
	}
	for r := range x.old { // values the item no longer has
		if _, err := x.delValue.ExecContext(ctx, id, r.fieldID, r.value); err != nil {
			return fmt.Errorf("value %q: %w", r.value, err)
		}
	}
	clear(x.old)
	return nil
}

// readOld loads the current value rows of the item with id into x.old.
func (x *valueIndexer) readOld(ctx context.Context, id int64) error {
	if x.old == nil {
		x.old = map[valueRow]bool{}
	}
	clear(x.old)
	rows, err := x.selValues.QueryContext(ctx, id)
	if err != nil {
		return err
	}
	for rows.Next() {
		var r valueRow
		if err := rows.Scan(&r.fieldID, &r.value); err != nil {
			rows.Close()
			return err
		}
		x.old[r] = true
	}
	return errorsJoinClose(rows)
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
			fields, err := rawFieldValues(r.data)
			if err != nil {
				return fmt.Errorf("item %d: %w", r.id, err)
			}
			x := indexers[r.dataset]
			if x == nil {
				x = newValueIndexer(s, r.dataset, nil)
				indexers[r.dataset] = x
			}
			if err := x.replace(ctx, r.id, fields, true); err != nil {
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
