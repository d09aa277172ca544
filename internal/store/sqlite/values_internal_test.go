package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "trawl.db"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// commitItems stores items as the results of one page of a new run of
// spider "s" (dataset "s") and returns the run.
func commitItems(t *testing.T, db *DB, items ...trawl.Item) *trawl.Run {
	t.Helper()
	ctx := context.Background()
	run, err := db.CreateRun(ctx, store.CreateRunParams{Spider: "s", SpecHash: "h", Columns: []string{"name", "tags"},
		StartURLs: []store.NewURL{{URL: "http://h/", Host: "h"}}})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := db.QueuedPages(ctx, run.ID, "h", 0, 1)
	if err != nil || len(pages) != 1 {
		t.Fatalf("queued pages = %v, %v", pages, err)
	}
	if _, err := db.CommitPages(ctx, store.CommitParams{RunID: run.ID, Dataset: "s",
		Pages: []store.PageResult{{PageID: pages[0].ID, Status: 200, Items: items}}}); err != nil {
		t.Fatal(err)
	}
	return run
}

func filteredKeys(t *testing.T, db *DB, filters ...store.FieldFilter) []string {
	t.Helper()
	page, err := db.ItemsPage(context.Background(), store.ItemQuery{Dataset: "s", Filters: filters})
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for _, raw := range page.Items {
		var it struct{ Name string }
		if err := json.Unmarshal(raw, &it); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, it.Name)
	}
	return keys
}

// TestValueHashCollision plants a row whose hash is that of another value,
// as a collision of the 64-bit hash would: filters must check the value
// itself, exact or folded, first filter or further one.
func TestValueHashCollision(t *testing.T) {
	db := openTemp(t)
	commitItems(t, db,
		trawl.Item{Key: "a", URL: "http://h/a", Fields: []trawl.Field{{Name: "name", Value: "a"}, {Name: "tags", Value: []string{"x"}}}},
		trawl.Item{Key: "b", URL: "http://h/b", Fields: []trawl.Field{{Name: "name", Value: "b"}, {Name: "tags", Value: []string{"y"}}}},
	)
	ctx := context.Background()
	// Item b's tag "y" filed under the hash of "X": a collision.
	if _, err := db.write.ExecContext(ctx, `INSERT INTO item_values (field_id, hash, item_id, value)
		SELECT field_id, ?, item_id, value FROM item_values WHERE value = 'y'`, store.ValueHash("X")); err != nil {
		t.Fatal(err)
	}
	f := func(field, value string, fold bool) store.FieldFilter {
		return store.FieldFilter{Field: field, Value: value, Fold: fold}
	}
	tests := []struct {
		name    string
		filters []store.FieldFilter
		want    []string
	}{
		{"exact", []store.FieldFilter{f("tags", "x", false)}, []string{"a"}},
		{"fold", []store.FieldFilter{f("tags", "X", true)}, []string{"a"}},
		{"second, exact", []store.FieldFilter{f("name", "b", false), f("tags", "x", false)}, []string{}},
		{"second, fold", []store.FieldFilter{f("name", "b", false), f("tags", "X", true)}, []string{}},
		{"the real value", []store.FieldFilter{f("tags", "Y", true)}, []string{"b"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, filteredKeys(t, db, tt.filters...)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestUpdateReplacesValueRows updates items by later runs, including
// values that the JSON encoding changes (invalid UTF-8) and a removed
// field: an update finds the old rows from the stored JSON, so none may be
// left behind.
func TestUpdateReplacesValueRows(t *testing.T) {
	db := openTemp(t)
	item := func(name string, tags any) trawl.Item {
		return trawl.Item{Key: "k", URL: "http://h/k", Fields: []trawl.Field{{Name: "name", Value: name}, {Name: "tags", Value: tags}}}
	}
	commitItems(t, db, item("bad \xff\xfe utf-8", []any{"t1", "t2", "t2", 3}))
	commitItems(t, db, item("bad \xff utf-8", []string{"t2", "t3"}))
	commitItems(t, db, item("plain", nil))
	var rows []string
	r, err := db.read.QueryContext(context.Background(), `SELECT value FROM item_values ORDER BY value`)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		var v string
		if err := r.Scan(&v); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, v)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"http://h/k", "plain"}, rows); diff != "" {
		t.Errorf("value rows after updates (-want +got):\n%s", diff)
	}
}

// TestBackgroundCheckpoint checks that committed pages reach the database
// file while the store stays open: the checkpointer copies the WAL before
// the writer's own checkpoint would (at 4 MiB of log, more than this).
func TestBackgroundCheckpoint(t *testing.T) {
	db := openTemp(t)
	before, err := os.Stat(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	var items []trawl.Item
	for i := range 2000 {
		items = append(items, trawl.Item{Key: fmt.Sprint(i), URL: fmt.Sprintf("http://h/%d", i),
			Fields: []trawl.Field{{Name: "name", Value: fmt.Sprintf("item %d with some text to fill pages", i)}}})
	}
	commitItems(t, db, items...)
	deadline := time.Now().Add(5 * time.Second)
	for {
		fi, err := os.Stat(db.Path())
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > before.Size()+256<<10 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("database file is %d bytes 5 s after the commit (%d before): the WAL was not checkpointed", fi.Size(), before.Size())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
