package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Cases of item queries (issue 6): paging, filters, since, projection and
// distinct values.

// quoteColumns are the columns of the "quotes" dataset of these cases.
var quoteColumns = []string{"text", "author", "tags", "year", "famous"}

// quote is an item of the quotes dataset; year and famous are left out
// when nil.
func quote(key, author string, tags []string, year, famous any) trawl.Item {
	fields := []trawl.Field{{Name: "text", Value: "text " + key}, {Name: "author", Value: author}, {Name: "tags", Value: tags}}
	if year != nil {
		fields = append(fields, trawl.Field{Name: "year", Value: year})
	}
	if famous != nil {
		fields = append(fields, trawl.Field{Name: "famous", Value: famous})
	}
	return trawl.Item{Key: key, URL: "http://q/" + key, Fields: fields}
}

// commitQuotes stores items in the quotes dataset through a new run (so an
// item already stored is updated).
func commitQuotes(t *testing.T, s store.Store, items ...trawl.Item) *trawl.Run {
	t.Helper()
	r, err := s.CreateRun(context.Background(), store.CreateRunParams{
		Spider: "quotes", SpecHash: "h", Columns: quoteColumns, StartURLs: urls("h", 0, "/"),
	})
	if err != nil {
		t.Fatalf("CreateRun: %v", err)
	}
	commitItems(t, s, r, items...)
	return r
}

// keys returns the item keys (from "_url") of items, to compare sets.
func keys(t *testing.T, items []json.RawMessage) []string {
	t.Helper()
	out := []string{}
	for _, raw := range items {
		var m struct {
			URL string `json:"_url"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("item %s: %v", raw, err)
		}
		out = append(out, strings.TrimPrefix(m.URL, "http://q/"))
	}
	return out
}

// pageAll pages through q with page size limit and returns the keys seen,
// checking that only the last page lacks a next cursor.
func pageAll(t *testing.T, s store.Store, q store.ItemQuery, limit int) []string {
	t.Helper()
	q.Limit = limit
	var out []string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		p, err := s.ItemsPage(context.Background(), q)
		if err != nil {
			t.Fatalf("ItemsPage(%+v): %v", q, err)
		}
		if len(p.Items) > limit {
			t.Fatalf("page of %d items, limit %d", len(p.Items), limit)
		}
		if p.Next != "" && len(p.Items) != limit {
			t.Errorf("page of %d items (limit %d) has a next cursor", len(p.Items), limit)
		}
		out = append(out, keys(t, p.Items)...)
		if p.Next == "" {
			return out
		}
		q.After = p.Next
	}
}

func numbered(n int) []trawl.Item {
	var out []trawl.Item
	for i := range n {
		out = append(out, quote(fmt.Sprintf("k%02d", i), "a", nil, nil, nil))
	}
	return out
}

func testItemsPaged(t *testing.T, s store.Store) {
	commitQuotes(t, s, numbered(7)...)
	commitQuotes(t, s, quote("k03", "updated", nil, nil, nil)) // an update keeps its place
	want := []string{"k00", "k01", "k02", "k03", "k04", "k05", "k06"}
	for _, limit := range []int{1, 3, 7, 8} {
		if diff := cmp.Diff(want, pageAll(t, s, store.ItemQuery{Dataset: "quotes"}, limit)); diff != "" {
			t.Errorf("pages of %d (-want +got):\n%s", limit, diff)
		}
	}
	all, err := s.ItemsPage(context.Background(), store.ItemQuery{Dataset: "quotes"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, keys(t, all.Items)); diff != "" || all.Next != "" {
		t.Errorf("Limit 0: next %q (-want +got):\n%s", all.Next, diff)
	}
	// Items takes the same cursor and limit: the export of one page.
	first, err := s.ItemsPage(context.Background(), store.ItemQuery{Dataset: "quotes", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []json.RawMessage
	for raw, err := range s.Items(context.Background(), store.ItemQuery{Dataset: "quotes", After: first.Next, Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, raw)
	}
	if diff := cmp.Diff(want[2:5], keys(t, got)); diff != "" {
		t.Errorf("Items after page 1, limit 3 (-want +got):\n%s", diff)
	}
}

// testCursorStable commits new items and updates old ones between pages:
// the pages still hold every item exactly once, the new ones last.
func testCursorStable(t *testing.T, s store.Store) {
	ctx := context.Background()
	commitQuotes(t, s, numbered(6)...)
	q := store.ItemQuery{Dataset: "quotes", Limit: 2, Filters: []store.FieldFilter{{Field: "author", Value: "a"}}}
	p1, err := s.ItemsPage(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// Update an item of page 1 and one of page 3; add two items.
	commitQuotes(t, s, quote("k01", "a", []string{"new"}, nil, nil), quote("k04", "a", []string{"new"}, nil, nil),
		quote("k90", "a", nil, nil, nil), quote("k91", "a", nil, nil, nil))
	got := keys(t, p1.Items)
	q.After = p1.Next
	got = append(got, pageAll(t, s, q, 2)...)
	want := []string{"k00", "k01", "k02", "k03", "k04", "k05", "k90", "k91"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages across commits (-want +got):\n%s", diff)
	}
}

func testItemFilters(t *testing.T, s store.Store) {
	commitQuotes(t, s,
		quote("q1", "Albert Einstein", []string{"change", "deep-thoughts"}, json.Number("1930"), true),
		quote("q2", "J.K. Rowling", []string{"abilities", "choices"}, nil, false),
		quote("q3", "albert einstein", []string{"life"}, 1930, nil),
		quote("q4", "ALBERT EINSTEIN", []string{"Change"}, nil, nil),
		quote("q5", "Jane Austen", []string{"change"}, json.Number("1813"), true),
		quote("q6", "Émile Zola", []string{"Foo", "foo", "FOO"}, nil, nil),
		quote("q7", "", nil, nil, nil),
	)
	f := func(field, value string, fold bool) store.FieldFilter {
		return store.FieldFilter{Field: field, Value: value, Fold: fold}
	}
	tests := []struct {
		name    string
		filters []store.FieldFilter
		want    []string
	}{
		{"scalar", []store.FieldFilter{f("author", "Albert Einstein", false)}, []string{"q1"}},
		{"scalar, no match", []store.FieldFilter{f("author", "albert", false)}, []string{}},
		{"case-insensitive", []store.FieldFilter{f("author", "albert EINSTEIN", true)}, []string{"q1", "q3", "q4"}},
		{"case-insensitive, non-ASCII", []store.FieldFilter{f("author", "éMILE zOLA", true)}, []string{"q6"}},
		{"non-ASCII, exact", []store.FieldFilter{f("author", "émile zola", false)}, []string{}},
		{"list, any element", []store.FieldFilter{f("tags", "change", false)}, []string{"q1", "q5"}},
		{"list, case-insensitive", []store.FieldFilter{f("tags", "CHANGE", true)}, []string{"q1", "q4", "q5"}},
		{"list, case variants of one element", []store.FieldFilter{f("tags", "foo", true)}, []string{"q6"}},
		{"two filters", []store.FieldFilter{f("author", "albert einstein", true), f("tags", "change", true)}, []string{"q1", "q4"}},
		{"two filters, exact second", []store.FieldFilter{f("author", "albert einstein", true), f("tags", "change", false)}, []string{"q1"}},
		{"two filters, none", []store.FieldFilter{f("author", "Jane Austen", false), f("tags", "life", false)}, []string{}},
		{"number", []store.FieldFilter{f("year", "1930", false)}, []string{"q1", "q3"}},
		{"boolean", []store.FieldFilter{f("famous", "true", false)}, []string{"q1", "q5"}},
		{"empty string", []store.FieldFilter{f("author", "", false)}, []string{"q7"}},
		{"_url", []store.FieldFilter{f("_url", "http://q/q2", false)}, []string{"q2"}},
		{"_url, case-insensitive", []store.FieldFilter{f("_url", "HTTP://Q/Q2", true)}, []string{"q2"}},
	}
	for _, tt := range tests {
		q := store.ItemQuery{Dataset: "quotes", Filters: tt.filters}
		for _, limit := range []int{0, 1} {
			var got []string
			if limit == 0 {
				got = []string{}
				for raw, err := range s.Items(context.Background(), q) {
					if err != nil {
						t.Fatalf("%s: %v", tt.name, err)
					}
					got = append(got, keys(t, []json.RawMessage{raw})...)
				}
			} else {
				got = append([]string{}, pageAll(t, s, q, limit)...)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s, limit %d (-want +got):\n%s", tt.name, limit, diff)
			}
		}
	}
}

// fakeClock is a clock the test moves; safe for the store's goroutines.
type fakeClock struct{ ms atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }
func newFakeClock(t time.Time) *fakeClock    { c := &fakeClock{}; c.ms.Store(t.UnixMilli()); return c }

func testItemsSince(t *testing.T, open OpenFunc) {
	clock := newFakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	s := open(t, clock.Now)
	t0 := clock.Now()
	commitQuotes(t, s, quote("k1", "a", nil, nil, nil), quote("k2", "b", nil, nil, nil), quote("k3", "a", nil, nil, nil))
	clock.Advance(time.Second)
	t1 := clock.Now()
	commitQuotes(t, s, quote("k4", "a", nil, nil, nil))
	clock.Advance(time.Second)
	commitQuotes(t, s, quote("k1", "a", []string{"updated"}, nil, nil)) // updated: counts as new
	tests := []struct {
		name string
		q    store.ItemQuery
		want []string
	}{
		{"before everything", store.ItemQuery{Since: t0.Add(-time.Millisecond)}, []string{"k1", "k2", "k3", "k4"}},
		{"strictly after", store.ItemQuery{Since: t0}, []string{"k1", "k4"}},
		{"after the second", store.ItemQuery{Since: t1}, []string{"k1"}},
		{"with a filter", store.ItemQuery{Since: t0, Filters: []store.FieldFilter{{Field: "author", Value: "A", Fold: true}}}, []string{"k1", "k4"}},
		{"filter excludes", store.ItemQuery{Since: t0, Filters: []store.FieldFilter{{Field: "author", Value: "b"}}}, []string{}},
		{"in the future", store.ItemQuery{Since: clock.Now()}, []string{}},
	}
	for _, tt := range tests {
		tt.q.Dataset = "quotes"
		for _, limit := range []int{1, 10} {
			if diff := cmp.Diff(tt.want, append([]string{}, pageAll(t, s, tt.q, limit)...)); diff != "" {
				t.Errorf("%s, limit %d (-want +got):\n%s", tt.name, limit, diff)
			}
		}
	}
}

func testItemsProjection(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := commitQuotes(t, s, quote("q1", "Albert Einstein", []string{"change"}, json.Number("12345678901234567890"), nil))
	want := []string{`{"_url":"http://q/q1","year":12345678901234567890,"author":"Albert Einstein"}`}
	for _, q := range []store.ItemQuery{
		{Dataset: "quotes", Fields: []string{"_url", "year", "author"}},
		{Dataset: "quotes", Fields: []string{"_url", "year", "author"}, RunID: r.ID},
		{Dataset: "quotes", Fields: []string{"_url", "year", "author"}, Filters: []store.FieldFilter{{Field: "tags", Value: "change"}}},
	} {
		if diff := cmp.Diff(want, collect(t, s, q)); diff != "" {
			t.Errorf("Items(%+v) (-want +got):\n%s", q, diff)
		}
		q.Limit = 5
		p, err := s.ItemsPage(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, raw := range p.Items {
			got = append(got, string(raw))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ItemsPage(%+v) (-want +got):\n%s", q, diff)
		}
	}
	// A member the item lacks (famous) is left out, as without projection.
	if diff := cmp.Diff([]string{`{"author":"Albert Einstein"}`}, collect(t, s, store.ItemQuery{Dataset: "quotes", Fields: []string{"famous", "author"}})); diff != "" {
		t.Errorf("projection with a missing member (-want +got):\n%s", diff)
	}
}

func testFieldValues(t *testing.T, s store.Store) {
	ctx := context.Background()
	commitQuotes(t, s,
		quote("q1", "Albert Einstein", []string{"change", "life"}, 1930, nil),
		quote("q2", "Jane Austen", []string{"life", "love", "life"}, nil, nil),
		quote("q3", "Albert Einstein", []string{"life"}, 1930, nil),
		quote("q4", "Mark Twain", nil, 1900, nil),
	)
	commitQuotes(t, s, quote("q4", "Albert Einstein", []string{"love"}, nil, nil)) // an update moves the counts
	// An update that keeps some values (author, year, _url) and changes
	// others: the kept ones must still count once, the dropped one not.
	commitQuotes(t, s, quote("q3", "Albert Einstein", []string{"change"}, 1930, nil))
	tests := []struct {
		field string
		limit int
		want  []store.ValueCount
	}{
		{"author", 0, []store.ValueCount{{Value: "Albert Einstein", Count: 3}, {Value: "Jane Austen", Count: 1}}},
		{"tags", 0, []store.ValueCount{{Value: "change", Count: 2}, {Value: "life", Count: 2}, {Value: "love", Count: 2}}},
		{"tags", 2, []store.ValueCount{{Value: "change", Count: 2}, {Value: "life", Count: 2}}},
		{"year", 0, []store.ValueCount{{Value: "1930", Count: 2}}},
		{"famous", 0, []store.ValueCount{}},
	}
	for _, tt := range tests {
		got, err := s.FieldValues(ctx, "quotes", tt.field, tt.limit)
		if err != nil {
			t.Fatalf("FieldValues(%s, %d): %v", tt.field, tt.limit, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("FieldValues(%s, %d) (-want +got):\n%s", tt.field, tt.limit, diff)
		}
	}
}

func testItemQueryErrors(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := commitQuotes(t, s, quote("q1", "a", nil, nil, nil))
	unknown := "unknown field \"nope\": dataset quotes has the fields text, author, tags, year, famous, _url"
	tests := []struct {
		name    string
		q       store.ItemQuery
		code    string
		message string // a part of the error's message
	}{
		{"unknown dataset", store.ItemQuery{Dataset: "nope"}, trawl.ENOTFOUND, "nope"},
		{"unknown run", store.ItemQuery{Dataset: "quotes", RunID: 4242}, trawl.ENOTFOUND, "4242"},
		{"unknown filter field", store.ItemQuery{Dataset: "quotes", Filters: []store.FieldFilter{{Field: "nope", Value: "x"}}}, trawl.EINVALID, unknown},
		{"unknown projected field", store.ItemQuery{Dataset: "quotes", Fields: []string{"author", "nope"}}, trawl.EINVALID, unknown},
		{"field projected twice", store.ItemQuery{Dataset: "quotes", Fields: []string{"author", "author"}}, trawl.EINVALID, "author"},
		{"garbage cursor", store.ItemQuery{Dataset: "quotes", After: "garbage"}, trawl.EINVALID, "cursor"},
		{"negative limit", store.ItemQuery{Dataset: "quotes", Limit: -1}, trawl.EINVALID, "limit"},
		{"filter of a run", store.ItemQuery{Dataset: "quotes", RunID: r.ID, Filters: []store.FieldFilter{{Field: "author", Value: "a"}}}, trawl.EINVALID, "run"},
		{"since of a run", store.ItemQuery{Dataset: "quotes", RunID: r.ID, Since: time.Now()}, trawl.EINVALID, "run"},
	}
	for _, tt := range tests {
		_, err := s.ItemsPage(ctx, tt.q)
		if trawl.ErrorCode(err) != tt.code || !strings.Contains(fmt.Sprint(err), tt.message) {
			t.Errorf("%s: ItemsPage error = %v, want %s containing %q", tt.name, err, tt.code, tt.message)
		}
		n := 0
		for _, err := range s.Items(ctx, tt.q) {
			n++
			if trawl.ErrorCode(err) != tt.code {
				t.Errorf("%s: Items error = %v, want %s", tt.name, err, tt.code)
			}
		}
		if n != 1 {
			t.Errorf("%s: Items yielded %d times, want once (the error)", tt.name, n)
		}
	}
	if _, err := s.FieldValues(ctx, "nope", "author", 0); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("FieldValues(unknown dataset) = %v, want not_found", err)
	}
	if _, err := s.FieldValues(ctx, "quotes", "nope", 0); trawl.ErrorCode(err) != trawl.EINVALID || !strings.Contains(err.Error(), unknown) {
		t.Errorf("FieldValues(unknown field) = %v, want invalid: %s", err, unknown)
	}
	if _, err := s.FieldValues(ctx, "quotes", "author", -1); trawl.ErrorCode(err) != trawl.EINVALID {
		t.Errorf("FieldValues(limit -1) = %v, want invalid", err)
	}
}
