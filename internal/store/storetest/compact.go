package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// testCompactFrontier: the frontier of runs finished before the cut-off is
// deleted, run rows, statistics, items and a sample of failed pages stay;
// newer and unfinished runs are untouched; a compacted run refuses a retry.
func testCompactFrontier(t *testing.T, open OpenFunc) {
	ctx := context.Background()
	day := 24 * time.Hour
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := open(t, func() time.Time { return now })

	// old: finished 30 days ago, with an item, two failed pages, a
	// discovered link and a page left queued (a canceled run's leftovers).
	old := mustCreate(t, s, "old", urls("h", 0, "/ok", "/bad", "/gone", "/left"))
	q := mustQueued(t, s, old.ID, "h")
	if _, err := s.CommitPages(ctx, store.CommitParams{RunID: old.ID, Dataset: "old", Pages: []store.PageResult{
		{PageID: q[0].ID, Status: 200, Attempts: 1, Bytes: 100, Items: []trawl.Item{item("k1", "v1")}, Links: urls("h", 1, "/next")},
		{PageID: q[1].ID, Status: 503, ErrorClass: "http_5xx", Error: "unavailable", Attempts: 4},
		{PageID: q[2].ID, Status: 404, ErrorClass: "http_4xx", Error: "not found", Attempts: 1},
	}}); err != nil {
		t.Fatal(err)
	}
	// many: more failed pages than the sample keeps.
	const failures = store.FailedPagesKept + 3
	var paths []string
	for i := range failures {
		paths = append(paths, fmt.Sprintf("/f%d", i))
	}
	many := mustCreate(t, s, "many", urls("m", 0, paths...))
	manyQueued, err := s.QueuedPages(ctx, many.ID, "m", 0, 2*failures)
	if err != nil || len(manyQueued) != failures {
		t.Fatalf("QueuedPages(many) = %d, %v; want %d", len(manyQueued), err, failures)
	}
	var results []store.PageResult
	for _, p := range manyQueued {
		results = append(results, store.PageResult{PageID: p.ID, ErrorClass: "dns", Error: "no such host", Attempts: 4})
	}
	if _, err := s.CommitPages(ctx, store.CommitParams{RunID: many.ID, Dataset: "many", Pages: results}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{old.ID, many.ID} {
		if err := s.FinishRun(ctx, id, trawl.RunCanceled, ""); err != nil {
			t.Fatal(err)
		}
	}
	// recent: finished 2 days ago. running: started long ago, not finished.
	now = now.Add(28 * day)
	recent := mustCreate(t, s, "recent", urls("h", 0, "/r", "/rbad"))
	rq := mustQueued(t, s, recent.ID, "h")
	if _, err := s.CommitPages(ctx, store.CommitParams{RunID: recent.ID, Dataset: "recent", Pages: []store.PageResult{
		{PageID: rq[1].ID, Status: 500, ErrorClass: "http_5xx", Error: "boom", Attempts: 4},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, recent.ID, trawl.RunFailed, "boom"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * day)
	running := mustCreate(t, s, "running", urls("h", 0, "/x"))

	before := map[int64]*trawl.Run{}
	for _, id := range []int64{old.ID, many.ID, recent.ID, running.ID} {
		r, err := s.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		before[id] = r
	}
	oldFailed, err := s.FailedPages(ctx, old.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	manyFailed, err := s.FailedPages(ctx, many.ID, 2*failures)
	if err != nil || len(manyFailed) != failures {
		t.Fatalf("FailedPages(many) = %d, %v; want %d", len(manyFailed), err, failures)
	}

	// Retain 7 days: old and many go, recent and running stay.
	n, err := s.CompactFrontier(ctx, now.Add(-7*day))
	// old: /ok, /left and /next; many: the failures beyond the sample.
	if want := int64(3 + failures - store.FailedPagesKept); err != nil || n != want {
		t.Fatalf("CompactFrontier = %d, %v; want %d page rows deleted", n, err, want)
	}
	for id, want := range before {
		got, err := s.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("run %d changed by compaction (-before +after):\n%s", id, diff)
		}
	}
	if got, err := s.FailedPages(ctx, old.ID, 10); err != nil || !cmp.Equal(got, oldFailed) {
		t.Errorf("FailedPages(old) after compaction = %v, %v; want %v", got, err, oldFailed)
	}
	if got, err := s.FailedPages(ctx, many.ID, 2*failures); err != nil || !cmp.Equal(got, manyFailed[:store.FailedPagesKept]) {
		t.Errorf("FailedPages(many) after compaction: %d pages, %v; want the first %d", len(got), err, store.FailedPagesKept)
	}
	if hosts, err := s.QueuedHosts(ctx, old.ID); err != nil || len(hosts) != 0 {
		t.Errorf("QueuedHosts(old) = %v, %v; want none", hosts, err)
	}
	for _, q := range []store.ItemQuery{{Dataset: "old"}, {Dataset: "old", RunID: old.ID}} {
		if got := collect(t, s, q); len(got) != 1 {
			t.Errorf("items of %+v after compaction = %v, want the one item", q, got)
		}
	}
	if got := mustQueued(t, s, running.ID, "h"); len(got) != 1 {
		t.Errorf("queued pages of the running run = %v, want its one page", got)
	}
	if got, err := s.FailedPages(ctx, recent.ID, 10); err != nil || len(got) != 1 {
		t.Errorf("FailedPages(recent) = %v, %v; want its failed page kept", got, err)
	}

	// A compacted run refuses a retry and says why; a recent one retries.
	_, err = s.RequeueFailed(ctx, old.ID)
	if trawl.ErrorCode(err) != trawl.ECONFLICT || !strings.Contains(trawl.ErrorMessage(err), "compacted") {
		t.Errorf("RequeueFailed(compacted run) = %v, want a conflict saying the frontier was compacted", err)
	}
	if n, err := s.RequeueFailed(ctx, recent.ID); err != nil || n != 1 {
		t.Errorf("RequeueFailed(recent) = %d, %v; want 1", n, err)
	}

	// Again: nothing left to delete.
	if n, err := s.CompactFrontier(ctx, now.Add(-7*day)); err != nil || n != 0 {
		t.Errorf("second CompactFrontier = %d, %v; want 0", n, err)
	}
	// The requeued run is running again: a later cut-off leaves it alone.
	if n, err := s.CompactFrontier(ctx, now.Add(day)); err != nil || n != 0 {
		t.Errorf("CompactFrontier past the reopened run = %d, %v; want 0", n, err)
	}
}
