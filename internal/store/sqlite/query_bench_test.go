package sqlite_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/store/sqlite"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// fillQuotes stores n quote-like items through CommitPages: 100 authors
// (author i%100, so every author has n/100 quotes), three tags each out of
// 40, a year. It returns the time the second half started, for since=.
func fillQuotes(b *testing.B, db *sqlite.DB, n int) time.Time {
	ctx := context.Background()
	const perPage = 1000
	var start []store.NewURL
	for i := range n / perPage {
		start = append(start, store.NewURL{URL: fmt.Sprintf("http://h/%d", i), Host: "h"})
	}
	run, err := db.CreateRun(ctx, store.CreateRunParams{Spider: "quotes", SpecHash: "h",
		Columns: []string{"text", "author", "tags", "year"}, StartURLs: start})
	if err != nil {
		b.Fatal(err)
	}
	pages, err := db.QueuedPages(ctx, run.ID, "h", 0, len(start))
	if err != nil {
		b.Fatal(err)
	}
	var half time.Time
	for p, page := range pages {
		if p == len(pages)/2 {
			half = time.Now()
		}
		items := make([]trawl.Item, perPage)
		for j := range items {
			i := p*perPage + j
			items[j] = trawl.Item{Key: fmt.Sprint(i), URL: fmt.Sprintf("http://h/%d", p), Fields: []trawl.Field{
				{Name: "text", Value: fmt.Sprintf("quote number %d", i)},
				{Name: "author", Value: fmt.Sprintf("Author %d", i%100)},
				{Name: "tags", Value: []string{fmt.Sprintf("tag%d", i%40), fmt.Sprintf("tag%d", (i/40)%40), "common"}},
				{Name: "year", Value: 1900 + i%100},
			}}
		}
		if _, err := db.CommitPages(ctx, store.CommitParams{RunID: run.ID, Dataset: "quotes",
			Pages: []store.PageResult{{PageID: page.ID, Status: 200, Items: items}}}); err != nil {
			b.Fatal(err)
		}
	}
	return half
}

// BenchmarkItemsPage measures pages of 50 items at 10k and 100k items,
// each query run from a cursor in the middle of the dataset, and reports
// p50 and p99. The ratio between the two sizes is the figure that matters:
// an index range costs the same at any size.
func BenchmarkItemsPage(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	for _, n := range []int{10_000, 100_000} {
		db := MustOpen(b)
		half := fillQuotes(b, db, n)
		mid := store.NewCursor(int64(n / 2))
		f := func(field, value string, fold bool) store.FieldFilter {
			return store.FieldFilter{Field: field, Value: value, Fold: fold}
		}
		queries := []struct {
			name string
			q    store.ItemQuery
		}{
			{"all", store.ItemQuery{}},
			{"author", store.ItemQuery{Filters: []store.FieldFilter{f("author", "Author 7", false)}}},
			{"author-fold", store.ItemQuery{Filters: []store.FieldFilter{f("author", "author 7", true)}}},
			{"tag", store.ItemQuery{Filters: []store.FieldFilter{f("tags", "tag3", false)}}},
			{"author+tag", store.ItemQuery{Filters: []store.FieldFilter{f("author", "author 7", true), f("tags", "common", false)}}},
			{"since", store.ItemQuery{Since: half}},
			{"projection", store.ItemQuery{Fields: []string{"author", "_url"}, Filters: []store.FieldFilter{f("author", "Author 7", false)}}},
		}
		for _, qq := range queries {
			b.Run(fmt.Sprintf("%dk/%s", n/1000, qq.name), func(b *testing.B) {
				q := qq.q
				q.Dataset, q.Limit = "quotes", 50
				ctx := context.Background()
				var lat []time.Duration
				for i := 0; i < b.N; i++ {
					q.After = ""
					if i%2 == 1 {
						q.After = mid
					}
					t0 := time.Now()
					p, err := db.ItemsPage(ctx, q)
					lat = append(lat, time.Since(t0))
					if err != nil || len(p.Items) == 0 {
						b.Fatalf("ItemsPage = %d items, %v", len(p.Items), err)
					}
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			})
		}
		b.Run(fmt.Sprintf("%dk/field-values-author", n/1000), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := db.FieldValues(context.Background(), "quotes", "author", 20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
