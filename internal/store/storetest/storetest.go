// Package storetest is the conformance suite every store.Store
// implementation runs: the behaviour of the contract, tested once.
package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// OpenFunc opens a fresh, empty store for one test. now is the store's
// clock; nil means the real one.
type OpenFunc func(t *testing.T, now func() time.Time) store.Store

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open OpenFunc) {
	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		if err := open(t, nil).Ping(context.Background()); err != nil {
			t.Fatalf("Ping of a fresh store: %v", err)
		}
	})
	t.Run("CreateRunDedupsStartURLs", func(t *testing.T) { t.Parallel(); testCreateRun(t, open(t, nil)) })
	t.Run("CommitPages", func(t *testing.T) { t.Parallel(); testCommitPages(t, open(t, nil)) })
	t.Run("CommitIsIdempotent", func(t *testing.T) { t.Parallel(); testCommitIdempotent(t, open(t, nil)) })
	t.Run("FirstItemOfARunWins", func(t *testing.T) { t.Parallel(); testFirstItemWins(t, open(t, nil)) })
	t.Run("ConcurrentCommits", func(t *testing.T) { t.Parallel(); testConcurrentCommits(t, open(t, nil)) })
	t.Run("CommitIsAtomic", func(t *testing.T) { t.Parallel(); testCommitAtomic(t, open(t, nil)) })
	t.Run("MaxPages", func(t *testing.T) { t.Parallel(); testMaxPages(t, open(t, nil)) })
	t.Run("QueuedPagesCursor", func(t *testing.T) { t.Parallel(); testQueuedPages(t, open(t, nil)) })
	t.Run("ResumableRun", func(t *testing.T) { t.Parallel(); testResumable(t, open(t, nil)) })
	t.Run("FirstFinishWins", func(t *testing.T) { t.Parallel(); testFirstFinishWins(t, open(t, nil)) })
	t.Run("ItemsUpdateAcrossRuns", func(t *testing.T) { t.Parallel(); testItemsAcrossRuns(t, open(t, nil)) })
	t.Run("DatasetColumnsMerge", func(t *testing.T) { t.Parallel(); testColumns(t, open(t, nil)) })
	t.Run("NotFound", func(t *testing.T) { t.Parallel(); testNotFound(t, open(t, nil)) })
	t.Run("URLAsWrittenAndKey", func(t *testing.T) { t.Parallel(); testURLAsWritten(t, open(t, nil)) })
	t.Run("Runs", func(t *testing.T) { t.Parallel(); testRuns(t, open(t, nil)) })
	t.Run("RunsDefaultLimit", func(t *testing.T) { t.Parallel(); testRunsDefaultLimit(t, open(t, nil)) })
	t.Run("RequeueFailed", func(t *testing.T) { t.Parallel(); testRequeueFailed(t, open(t, nil)) })
	t.Run("CompactFrontier", func(t *testing.T) { t.Parallel(); testCompactFrontier(t, open) })
	t.Run("RequeueFailedNothing", func(t *testing.T) { t.Parallel(); testRequeueNothing(t, open(t, nil)) })
	t.Run("Datasets", func(t *testing.T) { t.Parallel(); testDatasets(t, open(t, nil)) })
	t.Run("ItemsOfARun", func(t *testing.T) { t.Parallel(); testItemsOfARun(t, open(t, nil)) })
	t.Run("ItemsOfARunPaged", func(t *testing.T) { t.Parallel(); testItemsOfARunPaged(t, open(t, nil)) })
	t.Run("BigNumbers", func(t *testing.T) { t.Parallel(); testBigNumbers(t, open(t, nil)) })
	t.Run("LinksCappedAndRules", func(t *testing.T) { t.Parallel(); testLinksCappedAndRules(t, open(t, nil)) })
	t.Run("ItemsPaged", func(t *testing.T) { t.Parallel(); testItemsPaged(t, open(t, nil)) })
	t.Run("ItemsCursorStable", func(t *testing.T) { t.Parallel(); testCursorStable(t, open(t, nil)) })
	t.Run("ItemFilters", func(t *testing.T) { t.Parallel(); testItemFilters(t, open(t, nil)) })
	t.Run("ItemsSince", func(t *testing.T) { t.Parallel(); testItemsSince(t, open) })
	t.Run("ItemsProjection", func(t *testing.T) { t.Parallel(); testItemsProjection(t, open(t, nil)) })
	t.Run("FieldValues", func(t *testing.T) { t.Parallel(); testFieldValues(t, open(t, nil)) })
	t.Run("ItemQueryErrors", func(t *testing.T) { t.Parallel(); testItemQueryErrors(t, open(t, nil)) })
	t.Run("PutSpider", func(t *testing.T) { t.Parallel(); testPutSpider(t, open(t, nil)) })
	t.Run("PutSpiderInvalid", func(t *testing.T) { t.Parallel(); testPutSpiderInvalid(t, open(t, nil)) })
	t.Run("Spiders", func(t *testing.T) { t.Parallel(); testSpiders(t, open(t, nil)) })
	t.Run("SpidersDefaultLimit", func(t *testing.T) { t.Parallel(); testSpidersDefaultLimit(t, open(t, nil)) })
	t.Run("DeleteSpider", func(t *testing.T) { t.Parallel(); testDeleteSpider(t, open(t, nil)) })
	t.Run("RunCounters", func(t *testing.T) { t.Parallel(); testRunCounters(t, open(t, nil)) })
	t.Run("QueuedRun", func(t *testing.T) { t.Parallel(); testQueuedRun(t, open(t, nil)) })
	t.Run("CreateExclusive", func(t *testing.T) { t.Parallel(); testCreateExclusive(t, open(t, nil)) })
	t.Run("CancelRun", func(t *testing.T) { t.Parallel(); testCancelRun(t, open(t, nil)) })
	t.Run("SpiderFired", func(t *testing.T) { t.Parallel(); testSpiderFired(t, open(t, nil)) })
	t.Run("RunHosts", func(t *testing.T) { t.Parallel(); testRunHosts(t, open(t, nil)) })
	t.Run("RunSamples", func(t *testing.T) { t.Parallel(); testRunSamples(t, open) })
	t.Run("LeaseRoundTrip", func(t *testing.T) { t.Parallel(); testLeaseRoundTrip(t, open) })
	t.Run("ClaimConcurrently", func(t *testing.T) { t.Parallel(); testClaimConcurrently(t, open(t, nil)) })
	t.Run("LeaseExpiry", func(t *testing.T) { t.Parallel(); testLeaseExpiry(t, open) })
	t.Run("LeasePace", func(t *testing.T) { t.Parallel(); testLeasePace(t, open) })
	t.Run("LeaseNeedsQueuedPages", func(t *testing.T) { t.Parallel(); testLeaseNeedsQueuedPages(t, open(t, nil)) })
	t.Run("DeferPages", func(t *testing.T) { t.Parallel(); testDeferPages(t, open) })
	t.Run("RobotsClaim", func(t *testing.T) { t.Parallel(); testRobotsClaim(t, open) })
	t.Run("RobotsClaimExpiry", func(t *testing.T) { t.Parallel(); testRobotsClaimExpiry(t, open) })
	t.Run("RobotsClaimConcurrently", func(t *testing.T) { t.Parallel(); testRobotsClaimConcurrently(t, open(t, nil)) })
	t.Run("RobotsInvalid", func(t *testing.T) { t.Parallel(); testRobotsInvalid(t, open(t, nil)) })
}

func urls(host string, depth int, paths ...string) []store.NewURL {
	var out []store.NewURL
	for _, p := range paths {
		out = append(out, store.NewURL{URL: "http://" + host + p, Host: host, Depth: depth})
	}
	return out
}

func mustCreate(t *testing.T, s store.Store, name string, start []store.NewURL) *trawl.Run {
	t.Helper()
	r, err := s.CreateRun(context.Background(), store.CreateRunParams{
		Spider: name, SpecHash: "h1", Spec: []byte("name: " + name), Columns: []string{"title", "tags"}, StartURLs: start,
	})
	if err != nil {
		t.Fatalf("CreateRun: %v", err)
	}
	return r
}

func mustQueued(t *testing.T, s store.Store, runID int64, host string) []store.Page {
	t.Helper()
	p, err := s.QueuedPages(context.Background(), runID, host, 0, 1000)
	if err != nil {
		t.Fatalf("QueuedPages: %v", err)
	}
	return p
}

func item(key, title string) trawl.Item {
	return trawl.Item{Key: key, URL: "http://a/" + key, Fields: []trawl.Field{{Name: "title", Value: title}, {Name: "tags", Value: []string{"x", "y"}}}}
}

func collect(t *testing.T, s store.Store, q store.ItemQuery) []string {
	t.Helper()
	var out []string
	for raw, err := range s.Items(context.Background(), q) {
		if err != nil {
			t.Fatalf("Items: %v", err)
		}
		out = append(out, string(raw))
	}
	return out
}

func testCreateRun(t *testing.T, s store.Store) {
	r := mustCreate(t, s, "a", urls("h", 0, "/", "/x", "/"))
	if r.Status != trawl.RunRunning || r.Spider != "a" || r.ID == 0 {
		t.Fatalf("run = %+v", r)
	}
	if got, want := r.Stats.Queued, int64(2); got != want {
		t.Errorf("Queued = %d, want %d", got, want)
	}
	if got := len(mustQueued(t, s, r.ID, "h")); got != 2 {
		t.Errorf("queued pages = %d, want 2", got)
	}
}

func testCommitPages(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := mustCreate(t, s, "a", urls("h", 0, "/"))
	p := mustQueued(t, s, r.ID, "h")[0]
	res, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Pages: []store.PageResult{{
		PageID: p.ID, Status: 200, Attempts: 1, Bytes: 100, Invalid: 1,
		Items: []trawl.Item{item("k1", "one"), item("k2", "two")},
		Links: append(urls("h", 1, "/", "/b", "/c", "/b"), urls("g", 1, "/")...),
	}}})
	if err != nil {
		t.Fatalf("CommitPages: %v", err)
	}
	var got []string
	for _, a := range res.Admitted {
		got = append(got, a.URL)
	}
	if diff := cmp.Diff([]string{"http://h/b", "http://h/c", "http://g/"}, got); diff != "" {
		t.Errorf("admitted (-want +got):\n%s", diff)
	}
	want := trawl.RunStats{Pages: 1, Items: 2, Invalid: 1, Bytes: 100, Queued: 4, Errors: map[string]int64{}}
	if diff := cmp.Diff(want, res.Stats); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	if got := mustQueued(t, s, r.ID, "h"); len(got) != 2 || got[0].URL != "http://h/b" || got[0].Depth != 1 {
		t.Errorf("queued after commit = %+v", got)
	}
	// A failed page counts its error class.
	q := mustQueued(t, s, r.ID, "g")[0]
	res, err = s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Pages: []store.PageResult{{PageID: q.ID, Status: 503, ErrorClass: "http_5xx", Error: "service unavailable", Attempts: 4}}})
	if err != nil {
		t.Fatalf("CommitPages: %v", err)
	}
	if got := res.Stats.Errors["http_5xx"]; got != 1 || res.Stats.Pages != 2 {
		t.Errorf("stats after failure = %+v", res.Stats)
	}
	failed, err := s.FailedPages(ctx, r.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.FailedPage{{URL: "http://g/", Status: 503, ErrorClass: "http_5xx", Error: "service unavailable", Attempts: 4}}, failed); diff != "" {
		t.Errorf("FailedPages (-want +got):\n%s", diff)
	}
	run, err := s.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(res.Stats, run.Stats); diff != "" {
		t.Errorf("stored stats differ (-commit +stored):\n%s", diff)
	}
	items := collect(t, s, store.ItemQuery{Dataset: "a"})
	wantItems := []string{
		`{"title":"one","tags":["x","y"],"_url":"http://a/k1"}`,
		`{"title":"two","tags":["x","y"],"_url":"http://a/k2"}`,
	}
	if diff := cmp.Diff(wantItems, items); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}

func testCommitIdempotent(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := mustCreate(t, s, "a", urls("h", 0, "/"))
	p := mustQueued(t, s, r.ID, "h")[0]
	pr := store.PageResult{PageID: p.ID, Status: 200, Items: []trawl.Item{item("k", "v")}}
	for range 2 {
		res, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Pages: []store.PageResult{pr}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Stats.Pages != 1 || res.Stats.Items != 1 {
			t.Errorf("stats = %+v, want 1 page and 1 item", res.Stats)
		}
	}
}

func testCommitAtomic(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := mustCreate(t, s, "a", urls("h", 0, "/", "/2"))
	q := mustQueued(t, s, r.ID, "h")
	bad := trawl.Item{Key: "bad", Fields: []trawl.Field{{Name: "title", Value: make(chan int)}}} // cannot be encoded
	_, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Pages: []store.PageResult{
		{PageID: q[0].ID, Status: 200, Items: []trawl.Item{item("good", "g")}, Links: urls("h", 1, "/new")},
		{PageID: q[1].ID, Status: 200, Items: []trawl.Item{bad}},
	}})
	if err == nil {
		t.Fatal("CommitPages with an unencodable item succeeded")
	}
	if got := mustQueued(t, s, r.ID, "h"); len(got) != 2 {
		t.Errorf("queued after failed commit = %d pages, want the 2 original", len(got))
	}
	if got := collect(t, s, store.ItemQuery{Dataset: "a"}); len(got) != 0 {
		t.Errorf("items after failed commit = %v, want none", got)
	}
	run, _ := s.Run(ctx, r.ID)
	if run.Stats.Pages != 0 || run.Stats.Queued != 2 {
		t.Errorf("stats after failed commit = %+v", run.Stats)
	}
}

func testMaxPages(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := mustCreate(t, s, "a", urls("h", 0, "/"))
	p := mustQueued(t, s, r.ID, "h")[0]
	res, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", MaxPages: 3, Pages: []store.PageResult{
		{PageID: p.ID, Status: 200, Links: urls("h", 1, "/", "/1", "/2", "/3", "/4")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(res.Admitted); got != 2 || res.Stats.Queued != 3 {
		t.Errorf("admitted %d (queued %d), want 2 (3)", got, res.Stats.Queued)
	}
}

func testQueuedPages(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := mustCreate(t, s, "a", append(urls("h", 0, "/1", "/2", "/3"), urls("g", 0, "/1")...))
	first, err := s.QueuedPages(ctx, r.ID, "h", 0, 2)
	if err != nil || len(first) != 2 {
		t.Fatalf("QueuedPages = %v, %v", first, err)
	}
	rest, err := s.QueuedPages(ctx, r.ID, "h", first[1].ID, 10)
	if err != nil || len(rest) != 1 || rest[0].URL != "http://h/3" {
		t.Fatalf("QueuedPages after cursor = %v, %v", rest, err)
	}
	hosts, err := s.QueuedHosts(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 2 {
		t.Errorf("QueuedHosts = %v, want g and h", hosts)
	}
}

func testResumable(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.ResumableRun(ctx, "a", "h1"); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Fatalf("ResumableRun on empty store: %v, want not_found", err)
	}
	r := mustCreate(t, s, "a", urls("h", 0, "/"))
	got, err := s.ResumableRun(ctx, "a", "h1")
	if err != nil || got.ID != r.ID {
		t.Fatalf("ResumableRun = %v, %v; want run %d", got, err, r.ID)
	}
	if _, err := s.ResumableRun(ctx, "a", "other-hash"); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("ResumableRun with another hash: %v, want not_found", err)
	}
	if err := s.FinishRun(ctx, r.ID, trawl.RunSucceeded, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResumableRun(ctx, "a", "h1"); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("ResumableRun after finish: %v, want not_found", err)
	}
	fin, _ := s.Run(ctx, r.ID)
	if fin.Status != trawl.RunSucceeded || fin.FinishedAt == nil {
		t.Errorf("finished run = %+v", fin)
	}
	if err := s.FinishRun(ctx, r.ID, trawl.RunRunning, ""); trawl.ErrorCode(err) != trawl.EINVALID {
		t.Errorf("FinishRun(running) = %v, want invalid", err)
	}
}

func testItemsAcrossRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	commit := func(r *trawl.Run, items ...trawl.Item) trawl.RunStats {
		p := mustQueued(t, s, r.ID, "h")[0]
		res, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Pages: []store.PageResult{{PageID: p.ID, Status: 200, Items: items}}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Stats
	}
	r1 := mustCreate(t, s, "a", urls("h", 0, "/"))
	commit(r1, item("k1", "old"), item("k2", "two"))
	s.FinishRun(ctx, r1.ID, trawl.RunSucceeded, "")
	r2 := mustCreate(t, s, "a", urls("h", 0, "/"))
	st := commit(r2, item("k1", "new"))
	if st.Items != 1 {
		t.Errorf("run 2 items = %d, want 1 (an update counts for the run)", st.Items)
	}
	all := collect(t, s, store.ItemQuery{Dataset: "a"})
	want := []string{`{"title":"new","tags":["x","y"],"_url":"http://a/k1"}`, `{"title":"two","tags":["x","y"],"_url":"http://a/k2"}`}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("dataset after re-run (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[:1], collect(t, s, store.ItemQuery{Dataset: "a", RunID: r2.ID})); diff != "" {
		t.Errorf("items of run 2 (-want +got):\n%s", diff)
	}
	d, err := s.Dataset(ctx, "a")
	if err != nil || d.Items != 2 {
		t.Errorf("Dataset = %+v, %v; want 2 items", d, err)
	}
}

func testColumns(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreate(t, s, "a", nil)
	if _, err := s.CreateRun(ctx, store.CreateRunParams{Spider: "a", SpecHash: "h2", Columns: []string{"price", "title"}}); err != nil {
		t.Fatal(err)
	}
	d, err := s.Dataset(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"title", "tags", "price", "_url"}, d.Columns); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
}

func testNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.Run(ctx, 42); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("Run(42) = %v, want not_found", err)
	}
	if _, err := s.Dataset(ctx, "nope"); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("Dataset(nope) = %v, want not_found", err)
	}
	for _, err := range s.Items(ctx, store.ItemQuery{Dataset: "nope"}) {
		if trawl.ErrorCode(err) != trawl.ENOTFOUND {
			t.Errorf("Items(nope) error = %v, want not_found", err)
		}
	}
	if err := s.FinishRun(ctx, 42, trawl.RunFailed, "x"); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("FinishRun(42) = %v, want not_found", err)
	}
}

func testFirstItemWins(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := mustCreate(t, s, "a", urls("h", 0, "/1", "/2"))
	q := mustQueued(t, s, r.ID, "h")
	res, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Pages: []store.PageResult{
		{PageID: q[0].ID, Status: 200, Items: []trawl.Item{item("k", "first")}},
		{PageID: q[1].ID, Status: 200, Items: []trawl.Item{item("k", "second")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Items != 1 {
		t.Errorf("items = %d, want 1", res.Stats.Items)
	}
	want := []string{`{"title":"first","tags":["x","y"],"_url":"http://a/k"}`}
	if diff := cmp.Diff(want, collect(t, s, store.ItemQuery{Dataset: "a"})); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}

// testURLAsWritten: a page keeps the URL as the site wrote it (to fetch and
// to match robots.txt against) apart from its normalized dedup key, and the
// key alone decides duplicates.
func testURLAsWritten(t *testing.T, s store.Store) {
	ctx := context.Background()
	start := []store.NewURL{
		{URL: "http://h/q?b=2&a=1", Key: "http://h/q?a=1&b=2", Host: "h"},
		{URL: "http://h/plain", Host: "h"},                                // no Key: the URL is its own key
		{URL: "http://h/q?a=1&b=2", Key: "http://h/q?a=1&b=2", Host: "h"}, // same key: a duplicate
	}
	r := mustCreate(t, s, "a", start)
	want := []store.Page{
		{URL: "http://h/q?b=2&a=1", Key: "http://h/q?a=1&b=2", Host: "h"},
		{URL: "http://h/plain", Key: "http://h/plain", Host: "h"},
	}
	ignoreID := cmp.Transformer("noID", func(p store.Page) store.Page { p.ID = 0; return p })
	queued := mustQueued(t, s, r.ID, "h")
	if diff := cmp.Diff(want, queued, ignoreID); diff != "" {
		t.Fatalf("queued start pages (-want +got):\n%s", diff)
	}
	res, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Pages: []store.PageResult{{
		PageID: queued[1].ID, Status: 200, Attempts: 1,
		Links: []store.NewURL{
			{URL: "http://h/foo/bar/%62%61%7A", Key: "http://h/foo/bar/baz", Host: "h", Depth: 1},
			{URL: "http://h/foo/bar/baz", Key: "http://h/foo/bar/baz", Host: "h", Depth: 1},
			{URL: "http://h/q?a=1&b=2&", Key: "http://h/q?a=1&b=2", Host: "h", Depth: 1},
		},
	}}})
	if err != nil {
		t.Fatalf("CommitPages: %v", err)
	}
	link := store.Page{URL: "http://h/foo/bar/%62%61%7A", Key: "http://h/foo/bar/baz", Host: "h", Depth: 1}
	if diff := cmp.Diff([]store.Page{link}, res.Admitted, ignoreID); diff != "" {
		t.Errorf("admitted (-want +got):\n%s", diff)
	}
	want = append(want[:1], link)
	if diff := cmp.Diff(want, mustQueued(t, s, r.ID, "h"), ignoreID); diff != "" {
		t.Errorf("queued after commit (-want +got):\n%s", diff)
	}
	// A failed page is reported as the site wrote it, the URL that was fetched.
	if _, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Pages: []store.PageResult{{
		PageID: queued[0].ID, Status: 404, ErrorClass: "http_4xx", Attempts: 1,
	}}}); err != nil {
		t.Fatalf("CommitPages: %v", err)
	}
	failed, err := s.FailedPages(ctx, r.ID, 10)
	if err != nil {
		t.Fatalf("FailedPages: %v", err)
	}
	if len(failed) != 1 || failed[0].URL != "http://h/q?b=2&a=1" {
		t.Errorf("FailedPages = %+v, want one page with URL http://h/q?b=2&a=1", failed)
	}
}

// testFirstFinishWins: the processes that share a run may each end it;
// the first final status stays, whatever comes after, and from many
// goroutines at once exactly one status is kept.
func testFirstFinishWins(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := mustCreate(t, s, "a", urls("h", 0, "/"))
	if err := s.FinishRun(ctx, r.ID, trawl.RunSucceeded, ""); err != nil {
		t.Fatal(err)
	}
	first, _ := s.Run(ctx, r.ID)
	if err := s.FinishRun(ctx, r.ID, trawl.RunFailed, "late"); err != nil {
		t.Fatalf("a second FinishRun = %v, want nil (no change)", err)
	}
	got, _ := s.Run(ctx, r.ID)
	if got.Status != trawl.RunSucceeded || got.Error != "" || !got.FinishedAt.Equal(*first.FinishedAt) {
		t.Errorf("after a second FinishRun: %s %q %v, want the first end kept (succeeded at %v)", got.Status, got.Error, got.FinishedAt, first.FinishedAt)
	}

	r2 := mustCreate(t, s, "b", urls("h", 0, "/"))
	statuses := []trawl.RunStatus{trawl.RunSucceeded, trawl.RunFailed, trawl.RunCanceled}
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := range 12 {
		wg.Go(func() { errs <- s.FinishRun(ctx, r2.ID, statuses[i%3], fmt.Sprint("end ", i)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent FinishRun: %v", err)
		}
	}
	end, _ := s.Run(ctx, r2.ID)
	if !end.Status.Final() {
		t.Fatalf("status after concurrent ends = %s", end.Status)
	}
	want := map[trawl.RunStatus]bool{}
	for i := range 12 {
		if statuses[i%3] == end.Status && end.Error == fmt.Sprint("end ", i) {
			want[end.Status] = true
		}
	}
	if !want[end.Status] {
		t.Errorf("kept %s %q: not one whole end of the ones written", end.Status, end.Error)
	}
}
