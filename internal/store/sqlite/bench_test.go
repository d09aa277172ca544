package sqlite_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// BenchmarkCommitPages commits batches shaped like a crawl of one big site:
// 32 pages per transaction, each with one item and eleven links of which
// one is new.
func BenchmarkCommitPages(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	db := MustOpen(b)
	ctx := context.Background()
	run, err := db.CreateRun(ctx, store.CreateRunParams{Spider: "s", SpecHash: "h", Columns: []string{"title"},
		StartURLs: []store.NewURL{{URL: "http://h/p/0", Host: "h"}}})
	if err != nil {
		b.Fatal(err)
	}
	next := int64(1)
	queued := []int64{1}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := make([]store.PageResult, 0, 32)
		for len(batch) < 32 && len(queued) > 0 {
			id := queued[0]
			queued = queued[1:]
			var links []store.NewURL
			for l := range int64(10) {
				links = append(links, store.NewURL{URL: fmt.Sprintf("http://127.0.0.2:42499/p/%d", (id*7+l*13)%(next+1)), Host: "h", Depth: 1})
			}
			next++
			links = append(links, store.NewURL{URL: fmt.Sprintf("http://127.0.0.2:42499/p/%d", next), Host: "h", Depth: 1})
			batch = append(batch, store.PageResult{PageID: id, Status: 200, Attempts: 1, Bytes: 6000, Links: links,
				Items: []trawl.Item{{Key: fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(id))))[:32], URL: fmt.Sprintf("http://h/p/%d", id),
					Fields: []trawl.Field{{Name: "title", Value: fmt.Sprintf("page %d", id)}, {Name: "tags", Value: []string{"a", "b", "c"}}}}}})
		}
		res, err := db.CommitPages(ctx, store.CommitParams{RunID: run.ID, Dataset: "s", Pages: batch})
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range res.Admitted {
			queued = append(queued, p.ID)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*32), "µs/page")
}
