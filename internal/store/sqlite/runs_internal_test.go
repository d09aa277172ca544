package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
				query, args := runsQuery(q, cmp.Or(q.Limit, store.RunsLimit))
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

// runPlans is the index each filter combination of Runs must search, by
// (spider set, status set, before set).
var runPlans = map[[3]bool]string{
	{false, false, false}: "SCAN runs", // the rowid, newest first: reads only the page
	{false, false, true}:  "SEARCH runs USING INTEGER PRIMARY KEY (rowid<?)",
	{false, true, false}:  "SEARCH runs USING INDEX runs_status_id (status=?)",
	{false, true, true}:   "SEARCH runs USING INDEX runs_status_id (status=? AND id<?)",
	{true, false, false}:  "SEARCH runs USING INDEX runs_spider_id (spider=?)",
	{true, false, true}:   "SEARCH runs USING INDEX runs_spider_id (spider=? AND id<?)",
	{true, true, false}:   "SEARCH runs USING INDEX runs_spider (spider=? AND status=?)",
	{true, true, true}:    "SEARCH runs USING INDEX runs_spider (spider=? AND status=? AND id<?)",
}

// fillRuns inserts n runs in one transaction: spiders s0..s99 in turn,
// and of every 100 runs 90 succeeded, 5 failed, 4 canceled, 1 running, as
// months of schedules leave them.
func fillRuns(tb testing.TB, db *DB, n int) {
	tb.Helper()
	ctx := context.Background()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO runs (spider, spec_hash, spec, status, stats, created_at, started_at, finished_at)
		VALUES (?, 'h', '', ?, '{"pages":10}', ?, ?, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		status := trawl.RunSucceeded
		switch r := (i * 37) % 100; {
		case r < 5:
			status = trawl.RunFailed
		case r < 9:
			status = trawl.RunCanceled
		case r == 9:
			status = trawl.RunRunning
		}
		at := int64(1_700_000_000_000 + i*60_000)
		if _, err := stmt.ExecContext(ctx, fmt.Sprintf("s%d", i%100), status, at, at, at+30_000); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// TestRunsPlansWithStatistics pins the plan of every filter combination
// on a populated table whose statistics ANALYZE gathered (as PRAGMA
// optimize would), where the planner weighs the indexes by their
// selectivity: each combination must still search its own index in id
// order, never sort.
func TestRunsPlansWithStatistics(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "trawl.db"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fillRuns(t, db, 20_000)
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if _, err := db.write.ExecContext(ctx, `ANALYZE`); err != nil {
				t.Fatal(err)
			}
		}
		// A rare status and the common one: selectivity must not matter.
		for _, status := range []trawl.RunStatus{trawl.RunFailed, trawl.RunSucceeded} {
			for key, want := range runPlans {
				q := store.RunQuery{Limit: 50}
				if key[0] {
					q.Spider = "s7"
				}
				if key[1] {
					q.Status = status
				}
				if key[2] {
					q.BeforeID = 10_000
				}
				query, args := runsQuery(q, cmp.Or(q.Limit, store.RunsLimit))
				plan := explain(t, db, query, args)
				if strings.TrimSpace(plan) != want {
					t.Errorf("analyzed %v, %+v: plan\n%s\nwant %s", analyzed, q, plan, want)
				}
			}
		}
	}
}

// BenchmarkRuns lists pages of 50 runs out of 100,000, for every filter
// combination, from cursors spread over the whole history, and reports
// the p50 and p99 latency of a page.
func BenchmarkRuns(b *testing.B) {
	if testing.Short() {
		b.Skip("fills 100,000 runs")
	}
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "trawl.db"), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const n = 100_000
	fillRuns(b, db, n)
	for _, c := range []struct {
		name string
		q    store.RunQuery
	}{
		{"all", store.RunQuery{}},
		{"spider", store.RunQuery{Spider: "s7"}},
		{"status=failed", store.RunQuery{Status: trawl.RunFailed}},
		{"spider+status=failed", store.RunQuery{Spider: "s7", Status: trawl.RunFailed}},
		{"spider+status=succeeded", store.RunQuery{Spider: "s7", Status: trawl.RunSucceeded}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var lat []time.Duration
			i := 0
			for b.Loop() {
				q := c.q
				q.Limit = 50
				q.BeforeID = int64(n - (i*7919)%n) // cursors all over the history
				i++
				start := time.Now()
				if _, err := db.Runs(ctx, q); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

func explain(t testing.TB, db *DB, query string, args []any) string {
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
