package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// commitItems commits the first queued page of run (host h) with items.
func commitItems(t *testing.T, s store.Store, r *trawl.Run, items ...trawl.Item) {
	t.Helper()
	p := mustQueued(t, s, r.ID, "h")[0]
	if _, err := s.CommitPages(context.Background(), store.CommitParams{RunID: r.ID, Dataset: r.Spider,
		Pages: []store.PageResult{{PageID: p.ID, Status: 200, Items: items}}}); err != nil {
		t.Fatalf("CommitPages: %v", err)
	}
}

func testItemsOfARun(t *testing.T, s store.Store) {
	ctx := context.Background()
	r1 := mustCreate(t, s, "a", urls("h", 0, "/"))
	commitItems(t, s, r1, item("k1", "old"), item("k2", "two"))
	s.FinishRun(ctx, r1.ID, trawl.RunSucceeded, "")
	r2 := mustCreate(t, s, "a", urls("h", 0, "/"))
	commitItems(t, s, r2, item("k3", "three"), item("k1", "new"))
	s.FinishRun(ctx, r2.ID, trawl.RunSucceeded, "")
	r3 := mustCreate(t, s, "a", urls("h", 0, "/"))
	commitItems(t, s, r3, item("k2", "two again"))
	s.FinishRun(ctx, r3.ID, trawl.RunSucceeded, "")
	r4 := mustCreate(t, s, "a", urls("h", 0, "/"))

	j := func(key, title string) string {
		return `{"title":"` + title + `","tags":["x","y"],"_url":"http://a/` + key + `"}`
	}
	tests := []struct {
		name string
		q    store.ItemQuery
		want []string
	}{
		{"dataset", store.ItemQuery{Dataset: "a"}, []string{j("k1", "new"), j("k2", "two again"), j("k3", "three")}},
		// Run 1's versions of k1 and k2 were overwritten by runs 2 and 3.
		{"run 1", store.ItemQuery{Dataset: "a", RunID: r1.ID}, []string{j("k1", "old"), j("k2", "two")}},
		// In first-stored order (k1 before k3), not in the run's order.
		{"run 2", store.ItemQuery{Dataset: "a", RunID: r2.ID}, []string{j("k1", "new"), j("k3", "three")}},
		{"run 3", store.ItemQuery{Dataset: "a", RunID: r3.ID}, []string{j("k2", "two again")}},
		{"run without items", store.ItemQuery{Dataset: "a", RunID: r4.ID}, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, collect(t, s, tt.q)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	n := 0
	for _, err := range s.Items(ctx, store.ItemQuery{Dataset: "a", RunID: 4242}) {
		n++
		if trawl.ErrorCode(err) != trawl.ENOTFOUND {
			t.Errorf("Items(unknown run) error = %v, want not_found", err)
		}
	}
	if n != 1 {
		t.Errorf("Items(unknown run) yielded %d times, want once (the error)", n)
	}
}

// testItemsOfARunPaged stores more items than one read batch of the SQLite
// implementation (1000), so that paging through a run's record is covered.
func testItemsOfARunPaged(t *testing.T, s store.Store) {
	r1 := mustCreate(t, s, "a", urls("h", 0, "/"))
	var items []trawl.Item
	for i := range 1100 {
		items = append(items, item(fmt.Sprintf("k%04d", i), "v1"))
	}
	commitItems(t, s, r1, items...)
	r2 := mustCreate(t, s, "a", urls("h", 0, "/"))
	commitItems(t, s, r2, items[:600]...) // the same titles: updated, as run 2's
	got := collect(t, s, store.ItemQuery{Dataset: "a", RunID: r1.ID})
	if len(got) != 1100 || got[0] != `{"title":"v1","tags":["x","y"],"_url":"http://a/k0000"}` || got[1099] != `{"title":"v1","tags":["x","y"],"_url":"http://a/k1099"}` {
		t.Errorf("items of run 1: %d, first %s, last %s; want 1100 from k0000 to k1099", len(got), got[0], got[len(got)-1])
	}
	if got := collect(t, s, store.ItemQuery{Dataset: "a", RunID: r2.ID}); len(got) != 600 {
		t.Errorf("items of run 2: %d, want 600", len(got))
	}
}

// testBigNumbers stores integers beyond 2^53 (and beyond int64) that came
// from JSON: they must keep every digit, never pass through a float64.
func testBigNumbers(t *testing.T, s store.Store) {
	r := mustCreate(t, s, "a", urls("h", 0, "/"))
	it := trawl.Item{Key: "k", URL: "http://a/k", Fields: []trawl.Field{
		{Name: "title", Value: json.Number("12345678901234567890123")},
		{Name: "tags", Value: []any{json.Number("9007199254740993"), json.Number("-0.10000000000000000555"), map[string]any{"id": json.Number("18446744073709551617")}}},
	}}
	commitItems(t, s, r, it)
	want := []string{`{"title":12345678901234567890123,"tags":[9007199254740993,-0.10000000000000000555,{"id":18446744073709551617}],"_url":"http://a/k"}`}
	if diff := cmp.Diff(want, collect(t, s, store.ItemQuery{Dataset: "a"})); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, collect(t, s, store.ItemQuery{Dataset: "a", RunID: r.ID})); diff != "" {
		t.Errorf("items of the run (-want +got):\n%s", diff)
	}
}

func testLinksCappedAndRules(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := mustCreate(t, s, "a", urls("h", 0, "/1", "/2"))
	q := mustQueued(t, s, r.ID, "h")
	batch := store.CommitParams{RunID: r.ID, Dataset: "a", Pages: []store.PageResult{
		{PageID: q[0].ID, Status: 200, LinksCapped: 3, Rules: []trawl.RuleStats{{Pages: 1, Matched: 1}, {Pages: 1, Scripted: 1}}},
		{PageID: q[1].ID, Status: 200, LinksCapped: 4, Rules: []trawl.RuleStats{{Pages: 1, Matched: 1}}},
	}}
	want := trawl.RunStats{Pages: 2, Queued: 2, Errors: map[string]int64{}, LinksCapped: 7,
		Rules: []trawl.RuleStats{{Pages: 2, Matched: 2}, {Pages: 1, Scripted: 1}}}
	for i := range 2 { // the second commit replays the batch and must not count it again
		res, err := s.CommitPages(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, res.Stats); diff != "" {
			t.Errorf("commit %d: stats (-want +got):\n%s", i+1, diff)
		}
	}
	run, err := s.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, run.Stats); diff != "" {
		t.Errorf("stored stats (-want +got):\n%s", diff)
	}
}
