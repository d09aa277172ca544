package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func runIDs(t *testing.T, s store.Store, q store.RunQuery) []int64 {
	t.Helper()
	runs, err := s.Runs(context.Background(), q)
	if err != nil {
		t.Fatalf("Runs(%+v): %v", q, err)
	}
	ids := []int64{}
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	return ids
}

func testRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	if got := runIDs(t, s, store.RunQuery{}); len(got) != 0 {
		t.Errorf("Runs on an empty store = %v, want none", got)
	}
	a1 := mustCreate(t, s, "a", urls("h", 0, "/"))
	b1 := mustCreate(t, s, "b", urls("h", 0, "/"))
	a2 := mustCreate(t, s, "a", urls("h", 0, "/"))
	a3 := mustCreate(t, s, "a", urls("h", 0, "/"))
	for _, id := range []int64{a1.ID, b1.ID} {
		if err := s.FinishRun(ctx, id, trawl.RunSucceeded, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FinishRun(ctx, a2.ID, trawl.RunFailed, "disk on fire"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    store.RunQuery
		want []int64
	}{
		{"all newest first", store.RunQuery{}, []int64{a3.ID, a2.ID, b1.ID, a1.ID}},
		{"spider", store.RunQuery{Spider: "a"}, []int64{a3.ID, a2.ID, a1.ID}},
		{"status", store.RunQuery{Status: trawl.RunSucceeded}, []int64{b1.ID, a1.ID}},
		{"spider and status", store.RunQuery{Spider: "a", Status: trawl.RunSucceeded}, []int64{a1.ID}},
		{"limit", store.RunQuery{Limit: 2}, []int64{a3.ID, a2.ID}},
		{"before id", store.RunQuery{BeforeID: a2.ID, Limit: 2}, []int64{b1.ID, a1.ID}},
		{"before id with spider", store.RunQuery{Spider: "a", BeforeID: a2.ID}, []int64{a1.ID}},
		{"past the end", store.RunQuery{BeforeID: a1.ID}, []int64{}},
		{"unknown spider", store.RunQuery{Spider: "zz"}, []int64{}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, runIDs(t, s, tt.q)); diff != "" {
			t.Errorf("%s: run IDs (-want +got):\n%s", tt.name, diff)
		}
	}
	// A listed run is the same as the one Run returns.
	runs, err := s.Runs(ctx, store.RunQuery{Status: trawl.RunFailed})
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs(failed) = %v, %v", runs, err)
	}
	one, err := s.Run(ctx, a2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*one, runs[0]); diff != "" {
		t.Errorf("listed run differs from Run (-Run +Runs):\n%s", diff)
	}
	if _, err := s.Runs(ctx, store.RunQuery{Status: "bogus"}); trawl.ErrorCode(err) != trawl.EINVALID {
		t.Errorf("Runs(status bogus) = %v, want invalid", err)
	}
	if _, err := s.Runs(ctx, store.RunQuery{Limit: -1}); trawl.ErrorCode(err) != trawl.EINVALID {
		t.Errorf("Runs(limit -1) = %v, want invalid", err)
	}
}

func testRunsDefaultLimit(t *testing.T, s store.Store) {
	for range 101 {
		mustCreate(t, s, "a", nil)
	}
	if got := len(runIDs(t, s, store.RunQuery{})); got != 100 {
		t.Errorf("Runs with Limit 0 returned %d runs, want 100", got)
	}
}

func testRequeueFailed(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.RequeueFailed(ctx, 42); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("RequeueFailed(42) = %v, want not_found", err)
	}
	r := mustCreate(t, s, "a", urls("h", 0, "/ok", "/bad", "/gone", "/dns"))
	if _, err := s.RequeueFailed(ctx, r.ID); trawl.ErrorCode(err) != trawl.ECONFLICT {
		t.Errorf("RequeueFailed(running run) = %v, want conflict", err)
	}
	q := mustQueued(t, s, r.ID, "h")
	_, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Pages: []store.PageResult{
		{PageID: q[0].ID, Status: 200, Attempts: 1, Bytes: 1000, Items: []trawl.Item{item("k", "v")}},
		{PageID: q[1].ID, Status: 503, ErrorClass: "http_5xx", Error: "unavailable", Attempts: 4, Bytes: 20},
		{PageID: q[2].ID, Status: 404, ErrorClass: "http_4xx", Error: "not found", Attempts: 1, Bytes: 300},
		{PageID: q[3].ID, ErrorClass: "dns", Error: "no such host", Attempts: 4},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, r.ID, trawl.RunSucceeded, "done with errors"); err != nil {
		t.Fatal(err)
	}
	n, err := s.RequeueFailed(ctx, r.ID)
	if err != nil || n != 3 {
		t.Fatalf("RequeueFailed = %d, %v; want 3", n, err)
	}
	got, err := s.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != trawl.RunRunning || got.FinishedAt != nil || got.Error != "" {
		t.Errorf("run after requeue: status %s, finished %v, error %q; want running, unfinished, no error", got.Status, got.FinishedAt, got.Error)
	}
	want := trawl.RunStats{Pages: 1, Items: 1, Bytes: 1000, Queued: 4, Errors: map[string]int64{}}
	if diff := cmp.Diff(want, got.Stats); diff != "" {
		t.Errorf("stats after requeue (-want +got):\n%s", diff)
	}
	if failed, err := s.FailedPages(ctx, r.ID, 10); err != nil || len(failed) != 0 {
		t.Errorf("FailedPages after requeue = %v, %v; want none", failed, err)
	}
	requeued := mustQueued(t, s, r.ID, "h")
	var paths []string
	for _, p := range requeued {
		paths = append(paths, p.URL)
	}
	if diff := cmp.Diff([]string{"http://h/bad", "http://h/gone", "http://h/dns"}, paths); diff != "" {
		t.Errorf("queued after requeue (-want +got):\n%s", diff)
	}
	if res, err := s.ResumableRun(ctx, "a", "h1"); err != nil || res.ID != r.ID {
		t.Errorf("ResumableRun after requeue = %v, %v; want run %d", res, err, r.ID)
	}
	// The retried pages count once, as fresh pages do.
	res, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Pages: []store.PageResult{
		{PageID: requeued[0].ID, Status: 200, Attempts: 1, Bytes: 50},
		{PageID: requeued[1].ID, Status: 404, ErrorClass: "http_4xx", Error: "not found", Attempts: 1, Bytes: 300},
		{PageID: requeued[2].ID, Status: 200, Attempts: 1, Bytes: 70},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want = trawl.RunStats{Pages: 4, Items: 1, Bytes: 1420, Queued: 4, Errors: map[string]int64{"http_4xx": 1}}
	if diff := cmp.Diff(want, res.Stats); diff != "" {
		t.Errorf("stats after the retry (-want +got):\n%s", diff)
	}
	if err := s.FinishRun(ctx, r.ID, trawl.RunSucceeded, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RequeueFailed(ctx, r.ID); err != nil || n != 1 {
		t.Errorf("second RequeueFailed = %d, %v; want 1", n, err)
	}
}

func testRequeueNothing(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := mustCreate(t, s, "a", urls("h", 0, "/"))
	if err := s.FinishRun(ctx, r.ID, trawl.RunCanceled, "canceled"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RequeueFailed(ctx, r.ID); err != nil || n != 0 {
		t.Fatalf("RequeueFailed without failed pages = %d, %v; want 0", n, err)
	}
	got, err := s.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != trawl.RunCanceled || got.FinishedAt == nil {
		t.Errorf("run = %s (finished %v), want it left canceled", got.Status, got.FinishedAt)
	}
}
