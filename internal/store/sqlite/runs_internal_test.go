package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// TestRunsUsesIndexes checks the query plan of every filter combination of
// Runs: each must read an index in id order (no sort of all matching runs)
// and, when filtered, search rather than scan the table.
func TestRunsUsesIndexes(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "trawl.db"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, spider := range []string{"", "a"} {
		for _, status := range []trawl.RunStatus{"", trawl.RunFailed} {
			for _, before := range []int64{0, 10} {
				q := store.RunQuery{Spider: spider, Status: status, BeforeID: before}
				query, args := runsQuery(q)
				plan := explain(t, db, query, args)
				t.Logf("%+v:\n%s", q, plan)
				if strings.Contains(plan, "TEMP B-TREE") {
					t.Errorf("%+v: plan sorts:\n%s", q, plan)
				}
				if (spider != "" || status != "" || before != 0) && !strings.Contains(plan, "SEARCH runs") {
					t.Errorf("%+v: plan scans the table:\n%s", q, plan)
				}
			}
		}
	}
}

func explain(t *testing.T, db *DB, query string, args []any) string {
	t.Helper()
	rows, err := db.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}
