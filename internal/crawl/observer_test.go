package crawl_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/robots"
)

// observed records what the engine tells a crawl.PageObserver.
type observed struct {
	mu       sync.Mutex
	pages    int
	byClass  map[string]int
	items    int
	bytes    int64
	timed    int // pages observed with a fetch duration
	statuses map[int]int
}

func (o *observed) ObservePage(errClass string, status int, bytes int64, d time.Duration, items int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pages++
	o.byClass[errClass]++
	o.statuses[status]++
	o.items += items
	o.bytes += bytes
	if d > 0 {
		o.timed++
	}
}

// TestObserverSeesEveryFinishedPage checks that Config.Observer is told of
// each committed page once, with the same totals as the run's statistics:
// the service's metrics are fed from it.
func TestObserverSeesEveryFinishedPage(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.Handle("/", listing(5, 3))
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("User-agent: *\nDisallow: /page/3/\n"))
	})
	s := newSite(t, mux)
	b := setup(t, s.URL, quotesSpider)
	obs := &observed{byClass: map[string]int{}, statuses: map[int]int{}}
	fc := fetch.New(fetch.Config{})
	t.Cleanup(fc.Close)
	b.engine = crawl.New(b.db, fc, robots.New(fc, robots.Config{}), crawl.Config{Concurrency: 4, Observer: obs})
	stats := b.crawl(t)

	obs.mu.Lock()
	defer obs.mu.Unlock()
	if int64(obs.pages) != stats.Pages || obs.bytes != stats.Bytes {
		t.Errorf("observed %d pages, %d bytes; run stats %d, %d", obs.pages, obs.bytes, stats.Pages, stats.Bytes)
	}
	// Items as extracted: / and /page/1/ yield the same 3 items, which the
	// store keeps once (stats.Items 6), but both pages extracted them.
	if obs.items != 9 || stats.Items != 6 {
		t.Errorf("observed %d items extracted, run stored %d; want 9 and 6", obs.items, stats.Items)
	}
	if obs.byClass["robots"] != 1 || int64(obs.byClass["robots"]) != stats.Errors["robots"] {
		t.Errorf("observed robots refusals %d, stats %d, want 1", obs.byClass["robots"], stats.Errors["robots"])
	}
	// Every fetched page has a duration; the refused one was never fetched.
	if obs.timed != obs.pages-1 || obs.statuses[200] != obs.pages-1 || obs.statuses[0] != 1 {
		t.Errorf("observed %d timed pages and statuses %v of %d pages, want all but the robots refusal fetched with 200",
			obs.timed, obs.statuses, obs.pages)
	}
}
