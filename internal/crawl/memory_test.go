package crawl_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/robots"
)

// parseFactor bounds the heap that parsing a page holds, per body byte: an
// HTML page of nothing but links, every one followed, allocates 52 times
// its size in x/net/html nodes, goquery selections and resolved URLs
// (measured on a 7.4 MB page of 300,000 links; docs/architecture.md).
const parseFactor = 52

// heapPeak samples the Go heap (live objects and garbage not yet swept)
// until stop is closed, and returns its peak.
func heapPeak(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// TestParseMemoryIsBounded fetches 16 pages of 300,000 links each at
// concurrency 16 and checks that the heap stays under the formula of
// docs/architecture.md. Without the parse budget the 16 pages parse at
// once and the heap passes 4 GB. It does not run in parallel: it measures
// the whole process's heap.
func TestParseMemoryIsBounded(t *testing.T) {
	links, pages := 300_000, 16
	if raceEnabled {
		links = 30_000
	}
	page := func() []byte {
		var b strings.Builder
		b.WriteString("<html><body><h1>links</h1>")
		for i := range links {
			fmt.Fprintf(&b, `<a href="/l/%d">x</a>`, i)
		}
		return []byte(b.String())
	}()
	s := newSite(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(page) }))
	var starts []string
	for i := range pages {
		starts = append(starts, fmt.Sprintf(`"%s/p/%d"`, s.URL, i))
	}
	// The links are followed (extracted and resolved) but out of scope, so
	// the store does not admit millions of URLs.
	b := setup(t, s.URL, `
name: links
start_urls: [`+strings.Join(starts, ", ")+`]
scope: {allow: ['^/p/']}
follow: [{css: a}]
items: [{fields: {title: h1}, key: [_url]}]
politeness: {robots: ignore, concurrency_per_host: 16}
`)
	const budget = 16 << 20
	concurrency := 16
	fc := fetch.New(fetch.Config{})
	t.Cleanup(fc.Close)
	b.engine = mustEngine(t, b.db, fc, robots.New(fc, robots.Config{}), crawl.Config{Concurrency: concurrency, ParseBudget: budget})

	runtime.GC()
	base := heapNow()
	stop := make(chan struct{})
	peakC := heapPeak(stop)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	res, err := b.engine.Run(ctx, crawl.RunParams{Spider: b.sp, Run: b.run})
	close(stop)
	peak := <-peakC
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Stats.Pages != int64(pages) || res.Stats.Items != int64(pages) {
		t.Errorf("stats = %+v, want %d pages and items", res.Stats, pages)
	}
	// The formula: bodies held by workers (each at most twice its size
	// while fetch decodes it), plus parse memory for max(budget, body)
	// bytes, plus 64 MiB for the store and HTTP buffers, all doubled
	// because the heap holds up to as much garbage as live data at
	// GOGC=100.
	workers := concurrency + 2*runtime.GOMAXPROCS(0)
	body := uint64(len(page))
	bound := 2 * (base + uint64(workers)*2*body + parseFactor*max(budget, body) + 64<<20)
	t.Logf("%d pages of %d links (%d bytes) in %v: heap peak %d MiB, bound %d MiB (base %d MiB)",
		pages, links, body, time.Since(start).Round(time.Millisecond), peak>>20, bound>>20, base>>20)
	if peak > bound {
		t.Errorf("heap peak %d MiB, want at most %d MiB", peak>>20, bound>>20)
	}
}

func heapNow() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
