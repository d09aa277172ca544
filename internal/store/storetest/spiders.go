package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func mustPutSpider(t *testing.T, s store.Store, p store.PutSpiderParams) (*store.StoredSpider, bool) {
	t.Helper()
	sp, created, err := s.PutSpider(context.Background(), p)
	if err != nil {
		t.Fatalf("PutSpider(%s): %v", p.Name, err)
	}
	return sp, created
}

func spiderNames(t *testing.T, s store.Store, q store.SpiderQuery) []string {
	t.Helper()
	list, err := s.Spiders(context.Background(), q)
	if err != nil {
		t.Fatalf("Spiders(%+v): %v", q, err)
	}
	names := []string{}
	for _, sp := range list {
		names = append(names, sp.Name)
	}
	return names
}

// testPutSpider: a put creates at version 1, a change bumps the version and
// keeps the creation time, and a put of the same source changes nothing.
func testPutSpider(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := store.PutSpiderParams{Name: "quotes", Source: []byte("name: quotes\n"), Format: store.FormatYAML, Hash: "h1"}
	first, created := mustPutSpider(t, s, p)
	if !created {
		t.Errorf("first PutSpider: created = false, want true")
	}
	want := store.StoredSpider{Name: "quotes", Source: []byte("name: quotes\n"), Format: "yaml", Hash: "h1", Version: 1,
		CreatedAt: first.CreatedAt, UpdatedAt: first.CreatedAt}
	if diff := cmp.Diff(want, *first); diff != "" {
		t.Errorf("created spider (-want +got):\n%s", diff)
	}
	if first.CreatedAt.IsZero() {
		t.Errorf("CreatedAt is zero")
	}

	same, created := mustPutSpider(t, s, p)
	if created {
		t.Errorf("identical PutSpider: created = true, want false")
	}
	if diff := cmp.Diff(*first, *same); diff != "" {
		t.Errorf("identical put changed the spider (-before +after):\n%s", diff)
	}

	p2 := store.PutSpiderParams{Name: "quotes", Source: []byte(`{"name":"quotes"}`), Format: store.FormatJSON, Hash: "h2"}
	second, created := mustPutSpider(t, s, p2)
	if created {
		t.Errorf("changing PutSpider: created = true, want false")
	}
	if got, want := second.Version, int64(2); got != want {
		t.Errorf("Version after change = %d, want %d", got, want)
	}
	if !second.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("CreatedAt after change = %v, want %v", second.CreatedAt, first.CreatedAt)
	}
	if second.UpdatedAt.Before(first.UpdatedAt) {
		t.Errorf("UpdatedAt after change = %v, before %v", second.UpdatedAt, first.UpdatedAt)
	}
	if string(second.Source) != `{"name":"quotes"}` || second.Format != "json" || second.Hash != "h2" {
		t.Errorf("changed spider = %+v, want the new source, format and hash", second)
	}
	again, created := mustPutSpider(t, s, p2)
	if created || again.Version != 2 {
		t.Errorf("repeated PutSpider = version %d, created %v; want version 2, not created", again.Version, created)
	}
	got, err := s.Spider(ctx, "quotes")
	if err != nil {
		t.Fatalf("Spider: %v", err)
	}
	if diff := cmp.Diff(*second, *got); diff != "" {
		t.Errorf("Spider after a repeated put (-want +got):\n%s", diff)
	}
	// Putting the first source back is a change too.
	if back, _ := mustPutSpider(t, s, p); back.Version != 3 {
		t.Errorf("Version after putting the first source back = %d, want 3", back.Version)
	}
}

func testPutSpiderInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	tests := []struct {
		name string
		p    store.PutSpiderParams
	}{
		{"empty name", store.PutSpiderParams{Source: []byte("x"), Format: store.FormatYAML}},
		{"unknown format", store.PutSpiderParams{Name: "a", Source: []byte("x"), Format: "toml"}},
		{"no format", store.PutSpiderParams{Name: "a", Source: []byte("x")}},
	}
	for _, tt := range tests {
		if _, _, err := s.PutSpider(ctx, tt.p); trawl.ErrorCode(err) != trawl.EINVALID {
			t.Errorf("%s: PutSpider = %v, want invalid", tt.name, err)
		}
	}
	if got := spiderNames(t, s, store.SpiderQuery{}); len(got) != 0 {
		t.Errorf("spiders after invalid puts = %v, want none", got)
	}
}

func testSpiders(t *testing.T, s store.Store) {
	ctx := context.Background()
	if got := spiderNames(t, s, store.SpiderQuery{}); len(got) != 0 {
		t.Errorf("Spiders on an empty store = %v, want none", got)
	}
	for _, name := range []string{"c", "a", "d", "b"} {
		mustPutSpider(t, s, store.PutSpiderParams{Name: name, Source: []byte("name: " + name), Format: store.FormatYAML, Hash: "h-" + name})
	}
	tests := []struct {
		name string
		q    store.SpiderQuery
		want []string
	}{
		{"all by name", store.SpiderQuery{}, []string{"a", "b", "c", "d"}},
		{"first page", store.SpiderQuery{Limit: 2}, []string{"a", "b"}},
		{"next page", store.SpiderQuery{After: "b", Limit: 2}, []string{"c", "d"}},
		{"cursor between names", store.SpiderQuery{After: "bb"}, []string{"c", "d"}},
		{"past the end", store.SpiderQuery{After: "d"}, []string{}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, spiderNames(t, s, tt.q)); diff != "" {
			t.Errorf("%s: names (-want +got):\n%s", tt.name, diff)
		}
	}
	// A listed spider is the same as the one Spider returns.
	list, err := s.Spiders(ctx, store.SpiderQuery{After: "a", Limit: 1})
	if err != nil || len(list) != 1 {
		t.Fatalf("Spiders = %v, %v", list, err)
	}
	one, err := s.Spider(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*one, list[0]); diff != "" {
		t.Errorf("listed spider differs from Spider (-Spider +Spiders):\n%s", diff)
	}
	if _, err := s.Spiders(ctx, store.SpiderQuery{Limit: -1}); trawl.ErrorCode(err) != trawl.EINVALID {
		t.Errorf("Spiders(limit -1) = %v, want invalid", err)
	}
}

func testSpidersDefaultLimit(t *testing.T, s store.Store) {
	for i := range 101 {
		name := string(rune('a'+i/26)) + string(rune('a'+i%26))
		mustPutSpider(t, s, store.PutSpiderParams{Name: name, Source: []byte("x"), Format: store.FormatYAML})
	}
	if got := len(spiderNames(t, s, store.SpiderQuery{})); got != 100 {
		t.Errorf("Spiders with Limit 0 returned %d spiders, want 100", got)
	}
}

// testDeleteSpider: a delete removes the spider but not its runs or its
// dataset, and a missing spider is ENOTFOUND.
func testDeleteSpider(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.Spider(ctx, "a"); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("Spider(a) on an empty store = %v, want not_found", err)
	}
	if err := s.DeleteSpider(ctx, "a"); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("DeleteSpider(a) on an empty store = %v, want not_found", err)
	}
	mustPutSpider(t, s, store.PutSpiderParams{Name: "a", Source: []byte("name: a"), Format: store.FormatYAML, Hash: "h1"})
	mustPutSpider(t, s, store.PutSpiderParams{Name: "b", Source: []byte("name: b"), Format: store.FormatYAML, Hash: "h1"})
	r := mustCreate(t, s, "a", urls("h", 0, "/"))
	if err := s.DeleteSpider(ctx, "a"); err != nil {
		t.Fatalf("DeleteSpider(a): %v", err)
	}
	if _, err := s.Spider(ctx, "a"); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("Spider(a) after delete = %v, want not_found", err)
	}
	if err := s.DeleteSpider(ctx, "a"); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("second DeleteSpider(a) = %v, want not_found", err)
	}
	if diff := cmp.Diff([]string{"b"}, spiderNames(t, s, store.SpiderQuery{})); diff != "" {
		t.Errorf("spiders after delete (-want +got):\n%s", diff)
	}
	if _, err := s.Run(ctx, r.ID); err != nil {
		t.Errorf("Run of the deleted spider: %v, want it kept", err)
	}
	if _, err := s.Dataset(ctx, "a"); err != nil {
		t.Errorf("Dataset of the deleted spider: %v, want it kept", err)
	}
	// The name can be used again, from version 1.
	sp, created := mustPutSpider(t, s, store.PutSpiderParams{Name: "a", Source: []byte("name: a"), Format: store.FormatYAML, Hash: "h1"})
	if !created || sp.Version != 1 {
		t.Errorf("PutSpider after delete = version %d, created %v; want version 1, created", sp.Version, created)
	}
}

// testRunCounters: CountRuns counts runs by status and QueuedPageCount the
// queued pages of unfinished runs only.
func testRunCounters(t *testing.T, s store.Store) {
	ctx := context.Background()
	counts, err := s.CountRuns(ctx)
	if err != nil {
		t.Fatalf("CountRuns: %v", err)
	}
	if len(counts) != 0 {
		t.Errorf("CountRuns on an empty store = %v, want none", counts)
	}
	if n, err := s.QueuedPageCount(ctx); err != nil || n != 0 {
		t.Errorf("QueuedPageCount on an empty store = %d, %v; want 0", n, err)
	}

	running := mustCreate(t, s, "a", urls("h", 0, "/1", "/2"))
	q := mustQueued(t, s, running.ID, "h")
	if _, err := s.CommitPages(ctx, store.CommitParams{RunID: running.ID, Dataset: "a", Pages: []store.PageResult{
		{PageID: q[0].ID, Status: 200, Attempts: 1, Links: urls("g", 1, "/x", "/y")},
	}}); err != nil {
		t.Fatalf("CommitPages: %v", err)
	}
	// running: /2, g/x and g/y queued.
	other := mustCreate(t, s, "b", urls("h", 0, "/1")) // 1 queued
	finished := mustCreate(t, s, "a", urls("h", 0, "/1", "/2", "/3"))
	if err := s.FinishRun(ctx, finished.ID, trawl.RunCanceled, "stopped"); err != nil {
		t.Fatal(err)
	}
	for _, status := range []trawl.RunStatus{trawl.RunSucceeded, trawl.RunFailed, trawl.RunSucceeded} {
		r := mustCreate(t, s, "c", urls("h", 0, "/"))
		if err := s.FinishRun(ctx, r.ID, status, ""); err != nil {
			t.Fatal(err)
		}
	}

	counts, err = s.CountRuns(ctx)
	if err != nil {
		t.Fatalf("CountRuns: %v", err)
	}
	want := map[trawl.RunStatus]int64{trawl.RunRunning: 2, trawl.RunCanceled: 1, trawl.RunSucceeded: 2, trawl.RunFailed: 1}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("CountRuns (-want +got):\n%s", diff)
	}
	n, err := s.QueuedPageCount(ctx)
	if err != nil {
		t.Fatalf("QueuedPageCount: %v", err)
	}
	if want := int64(4); n != want {
		t.Errorf("QueuedPageCount = %d, want %d (3 of run %d, 1 of run %d, none of finished runs)", n, want, running.ID, other.ID)
	}
}
