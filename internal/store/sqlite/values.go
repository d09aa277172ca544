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
// data is the item's JSON as stored; an update finds the item's old rows
// from its old JSON (rawFieldValues), so the rows must be exactly those of
// data. The item's Go values give them without parsing data, except in the
// cases where the two could differ (a field named twice or "_url", a
// string that is not valid UTF-8, which the JSON encoding replaces): then
// data is parsed.
func itemFieldValues(it trawl.Item, data []byte) ([]fieldValues, error) {
	out := make([]fieldValues, 0, len(it.Fields)+1)
	for i, f := range it.Fields {
		vs, err := appendValues(nil, f.Value, true)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		if f.Name == "_url" || !allValidUTF8(vs) || slices.ContainsFunc(it.Fields[:i], func(g trawl.Field) bool { return g.Name == f.Name }) {
			return rawFieldValues(string(data))
		}
		out = append(out, fieldValues{f.Name, vs})
	}
	if !utf8.ValidString(it.URL) {
		return rawFieldValues(string(data))
	}
	return append(out, fieldValues{"_url", []string{it.URL}}), nil
}

func allValidUTF8(vs []string) bool {
	for _, v := range vs {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
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

// valueHash returns the hash column of v in item_values: the 64-bit FNV-1a
// hash of fold(v), as a signed integer. It is stored, so it must never
// change. ASCII strings, the common case, are hashed without building
// their fold.
func valueHash(v string) int64 {
	const offset, prime = 14695981039346656037, 1099511628211
	var h uint64 = offset
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= utf8.RuneSelf {
			h = offset
			f := fold(v)
			for j := 0; j < len(f); j++ {
				h = (h ^ uint64(f[j])) * prime
			}
			return int64(h)
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		h = (h ^ uint64(c)) * prime
	}
	return int64(h)
}

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
func (x *valueIndexer) replace(ctx context.Context, id int64, fields, old []fieldValues) error {
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
			x.args = append(x.args, r.fieldID, valueHash(r.value), id, r.value)
		}
		if _, err := x.insValues[len(rows)-1].ExecContext(ctx, x.args...); err != nil {
			return fmt.Errorf("values: %w", err)
		}
	}
	for r := range x.old { // values the item no longer has
		if _, err := x.delValue.ExecContext(ctx, r.fieldID, valueHash(r.value), id, r.value); err != nil {
			return fmt.Errorf("value %q: %w", r.value, err)
		}
	}
	return nil
}

// valueRows appends the rows of fields to dst: one per distinct value of
// each field.
func (x *valueIndexer) valueRows(ctx context.Context, dst []valueRow, fields []fieldValues) ([]valueRow, error) {
	for _, f := range fields {
		if len(f.values) == 0 {
			continue
		}
		fid, err := x.fieldID(ctx, f.name)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.name, err)
		}
		vs := f.values
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
			fields, err := rawFieldValues(r.data)
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
