package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/store"
)

// TestItemQueriesUseIndexes checks the query plan of every item query
// shape: a filter must search item_values by an index and reach items by
// rowid, never scan items nor sort, so that a page costs the same at any
// dataset size.
func TestItemQueriesUseIndexes(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "trawl.db"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exact := store.FieldFilter{Field: "author", Value: "Albert Einstein"}
	folded := store.FieldFilter{Field: "author", Value: "albert einstein", Fold: true}
	tags := store.FieldFilter{Field: "tags", Value: "life"}
	since := time.UnixMilli(1)
	tests := []struct {
		name  string
		q     store.ItemQuery
		index string // the index the plan must search
		sorts bool   // since alone sorts its matches (see itemsQuery)
	}{
		{"all", store.ItemQuery{}, "SEARCH items USING INTEGER PRIMARY KEY", false},
		{"exact", store.ItemQuery{Filters: []store.FieldFilter{exact}}, "SEARCH v USING PRIMARY KEY (field_id=? AND hash=? AND item_id>?)", false},
		{"folded", store.ItemQuery{Filters: []store.FieldFilter{folded}}, "SEARCH v USING PRIMARY KEY (field_id=? AND hash=? AND item_id>?)", false},
		{"two filters", store.ItemQuery{Filters: []store.FieldFilter{folded, tags}}, "SEARCH w EXISTS USING PRIMARY KEY (field_id=? AND hash=? AND item_id=? AND value=?)", false},
		{"two folded", store.ItemQuery{Filters: []store.FieldFilter{exact, folded}}, "SEARCH w EXISTS USING PRIMARY KEY (field_id=? AND hash=? AND item_id=?)", false},
		{"filter and since", store.ItemQuery{Filters: []store.FieldFilter{exact}, Since: since}, "SEARCH v USING PRIMARY KEY (field_id=? AND hash=? AND item_id>?)", false},
		{"since", store.ItemQuery{Since: since}, "SEARCH items USING INDEX items_updated", true},
	}
	for _, tt := range tests {
		tt.q.Dataset = "quotes"
		query, args := itemsQuery(&itemPlan{q: tt.q, after: 10}, 10, 50)
		plan := explain(t, db, query, args)
		t.Logf("%s:\n%s", tt.name, plan)
		if !strings.Contains(plan, tt.index) {
			t.Errorf("%s: plan does not %s:\n%s", tt.name, tt.index, plan)
		}
		if strings.Contains(plan, "SCAN") {
			t.Errorf("%s: plan scans a table:\n%s", tt.name, plan)
		}
		if len(tt.q.Filters) > 0 && !strings.Contains(plan, "SEARCH i USING INTEGER PRIMARY KEY") {
			t.Errorf("%s: plan does not read items by rowid:\n%s", tt.name, plan)
		}
		if got := strings.Contains(plan, "TEMP B-TREE"); got != tt.sorts {
			t.Errorf("%s: plan sorts = %v, want %v:\n%s", tt.name, got, tt.sorts, plan)
		}
	}
	query, args := fieldValuesQuery("quotes", "author", 10)
	plan := explain(t, db, query, args)
	t.Logf("field values:\n%s", plan)
	// One B-tree serves filters and values (see migration 0004): the
	// field's range of the key is read, in hash order, and the grouping
	// sorts it.
	if !strings.Contains(plan, "SEARCH item_values USING PRIMARY KEY (field_id=?)") || strings.Contains(plan, "SCAN") {
		t.Errorf("field values: plan does not read the field's index range:\n%s", plan)
	}
}

// TestMigrationBackfillsValues opens a database at schema 0003 that holds
// items, and checks that migration 0004 indexes them as CommitPages would.
func TestMigrationBackfillsValues(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trawl.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"0001_init", "0002_runs_items", "0003_page_raw_url"} {
		body, err := migrations.ReadFile("migration/" + name + ".sql")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.SetMaxOpenConns(1) // BEGIN and COMMIT below must use one connection
	mustExec(`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`)
	mustExec(`INSERT INTO schema_migrations VALUES ('migration/0001_init.sql', 0), ('migration/0002_runs_items.sql', 0), ('migration/0003_page_raw_url.sql', 0)`)
	mustExec(`INSERT INTO datasets VALUES ('quotes', '["author","tags","year","_url"]', 0, 0)`)
	mustExec(`BEGIN`)
	for i := range 1500 { // more than one backfill batch
		data := fmt.Sprintf(`{"author":"Author %d","tags":["Tag","tag","x"],"year":%d,"_url":"http://q/%d"}`, i%3, 1900+i%2, i)
		mustExec(`INSERT INTO items (dataset, key, url, data, run_id, created_at, updated_at) VALUES ('quotes', ?, ?, ?, 0, 0, 0)`, fmt.Sprint(i), fmt.Sprintf("http://q/%d", i), data)
	}
	mustExec(`COMMIT`)
	raw.Close()

	db, err := Open(ctx, path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	authors, err := db.FieldValues(ctx, "quotes", "author", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ValueCount{{Value: "Author 0", Count: 500}, {Value: "Author 1", Count: 500}, {Value: "Author 2", Count: 500}}
	if diff := cmp.Diff(want, authors); diff != "" {
		t.Errorf("authors after backfill (-want +got):\n%s", diff)
	}
	tags, err := db.FieldValues(ctx, "quotes", "tags", 0)
	if err != nil {
		t.Fatal(err)
	}
	want = []store.ValueCount{{Value: "Tag", Count: 1500}, {Value: "tag", Count: 1500}, {Value: "x", Count: 1500}}
	if diff := cmp.Diff(want, tags); diff != "" {
		t.Errorf("tags after backfill (-want +got):\n%s", diff)
	}
	page, err := db.ItemsPage(ctx, store.ItemQuery{Dataset: "quotes", Limit: 2,
		Filters: []store.FieldFilter{{Field: "tags", Value: "TAG", Fold: true}, {Field: "year", Value: "1901"}, {Field: "_url", Value: "http://q/1499"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Next != "" {
		t.Errorf("filtered page after backfill = %d items, next %q; want 1, none", len(page.Items), page.Next)
	}
}
