package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// TestCompactFrontierInBatches compacts a run of more than two batches:
// no transaction deletes more than store.CompactBatch rows, a compaction
// cut short after one batch is finished by the next call, and a crawl's
// commit goes through between batches.
func TestCompactFrontierInBatches(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "trawl.db"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const pages = 2*store.CompactBatch + 123
	start := make([]store.NewURL, pages)
	for i := range start {
		start[i] = store.NewURL{URL: fmt.Sprintf("http://h/%d", i), Host: "h"}
	}
	old, err := db.CreateRun(ctx, store.CreateRunParams{Spider: "old", SpecHash: "h", StartURLs: start})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.FinishRun(ctx, old.ID, trawl.RunCanceled, ""); err != nil {
		t.Fatal(err)
	}
	live, err := db.CreateRun(ctx, store.CreateRunParams{Spider: "live", SpecHash: "h", StartURLs: start[:1]})
	if err != nil {
		t.Fatal(err)
	}
	cutoff := time.Now().Add(time.Hour)

	// Cut short: marked, one batch deleted, then the process "died".
	keep, ok, err := db.markCompacted(ctx, old.ID, cutoff)
	if err != nil || !ok {
		t.Fatalf("markCompacted = %v, %v", ok, err)
	}
	if n, err := db.compactBatch(ctx, old.ID, keep); err != nil || n != store.CompactBatch {
		t.Fatalf("first batch = %d, %v; want %d", n, err, store.CompactBatch)
	}
	// A crawl commits between batches.
	q, err := db.QueuedPages(ctx, live.ID, "h", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CommitPages(ctx, store.CommitParams{RunID: live.ID, Dataset: "live",
		Pages: []store.PageResult{{PageID: q[0].ID, Status: 200, Attempts: 1}}}); err != nil {
		t.Fatalf("commit between batches: %v", err)
	}
	if _, err := db.RequeueFailed(ctx, old.ID); trawl.ErrorCode(err) != trawl.ECONFLICT {
		t.Errorf("RequeueFailed during compaction = %v, want conflict", err)
	}

	begin := time.Now()
	n, err := db.CompactFrontier(ctx, cutoff)
	elapsed := time.Since(begin)
	if want := int64(pages - store.CompactBatch); err != nil || n != want {
		t.Fatalf("CompactFrontier after the cut = %d, %v; want the remaining %d", n, err, want)
	}
	t.Logf("deleted %d page rows in %v (%d transactions)", n, elapsed, (n+store.CompactBatch-1)/store.CompactBatch+1)
	var left, compacted int64
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM pages WHERE run_id = ?`, old.ID).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if err := db.read.QueryRowContext(ctx, `SELECT compacted FROM runs WHERE id = ?`, old.ID).Scan(&compacted); err != nil {
		t.Fatal(err)
	}
	if left != 0 || compacted != 1 {
		t.Errorf("after compaction: %d page rows left, compacted %d; want 0 and 1", left, compacted)
	}
	if got, err := db.Run(ctx, live.ID); err != nil || got.Stats.Pages != 1 {
		t.Errorf("live run = %+v, %v; want its committed page", got, err)
	}
}
