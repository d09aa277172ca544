package crawl_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/fetch/fetchtest"
	"github.com/trawl-dev/trawl/internal/frontier"
	"github.com/trawl-dev/trawl/internal/robots"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/store/sqlite"
	"github.com/trawl-dev/trawl/internal/trawl"
	"github.com/trawl-dev/trawl/internal/trawl/clocktest"
)

// t0 is when the fake clocks of the tests start.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// site is an httptest server that records every request it serves.
type site struct {
	*httptest.Server
	mu       sync.Mutex
	hits     map[string]int
	inflight int
	peak     int
}

func newSite(t *testing.T, h http.Handler) *site {
	t.Helper()
	s := &site{hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.RequestURI()]++
		s.inflight++
		s.peak = max(s.peak, s.inflight)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inflight--
			s.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *site) Hits(uri string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[uri]
}

// duplicates lists the URIs requested more than once.
func (s *site) duplicates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for u, n := range s.hits {
		if n > 1 {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out
}

// bundle is one crawl under test.
type bundle struct {
	db     *sqlite.DB
	engine *crawl.Engine
	sp     *spider.Spider
	run    *trawl.Run
}

// mustEngine returns crawl.New's engine, failing the test on an error.
func mustEngine(t testing.TB, st crawl.Store, fc *fetch.Client, rc *robots.Cache, cfg crawl.Config) *crawl.Engine {
	t.Helper()
	e, err := crawl.New(st, fc, rc, cfg)
	if err != nil {
		t.Fatalf("crawl.New: %v", err)
	}
	return e
}

// setup parses the spider (with {{URL}} replaced by base) and prepares a run
// on a fresh SQLite file.
func setup(t *testing.T, base, spiderYAML string) *bundle {
	t.Helper()
	sp, err := spider.Parse("spider.yaml", []byte(strings.ReplaceAll(spiderYAML, "{{URL}}", base)))
	if err != nil {
		t.Fatalf("parse spider: %v", err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "trawl.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fc := fetch.New(fetch.Config{})
	t.Cleanup(fc.Close)
	b := &bundle{db: db, sp: sp, engine: mustEngine(t, db, fc, robots.New(fc, robots.Config{}), crawl.Config{Concurrency: 8})}
	b.run = b.newRun(t)
	return b
}

func (b *bundle) newRun(t *testing.T) *trawl.Run {
	t.Helper()
	run, err := b.db.CreateRun(context.Background(), store.CreateRunParams{
		Spider: b.sp.Name, SpecHash: b.sp.Hash, Columns: b.sp.FieldNames(), StartURLs: frontier.StartURLs(b.sp),
	})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func (b *bundle) crawl(t *testing.T) trawl.RunStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := b.engine.Run(ctx, crawl.RunParams{Spider: b.sp, Run: b.run})
	stats := res.Stats
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return stats
}

// items returns the run's items as generic maps.
func (b *bundle) items(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for raw, err := range b.db.Items(context.Background(), store.ItemQuery{Dataset: b.sp.Name, RunID: b.run.ID}) {
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func (b *bundle) failed(t *testing.T) map[string]string {
	t.Helper()
	f, err := b.db.FailedPages(context.Background(), b.run.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range f {
		u := p.URL[strings.Index(p.URL[8:], "/")+8:]
		out[u] = p.ErrorClass
	}
	return out
}

// listing serves /page/N/ with per items and a next link up to n pages.
func listing(n, per int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var page int
		if r.URL.Path == "/" {
			page = 1
		} else if _, err := fmt.Sscanf(r.URL.Path, "/page/%d/", &page); err != nil || page < 1 || page > n {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "<html><body>")
		for i := range per {
			fmt.Fprintf(w, `<div class="quote"><span class="text">quote %d-%d</span><a class="tag">t%d</a><a class="tag">x</a></div>`, page, i, i)
		}
		if page < n {
			fmt.Fprintf(w, `<li class="next"><a href="/page/%d/">next</a></li>`, page+1)
		}
		fmt.Fprintf(w, `<a href="/page/1/">first</a></body></html>`)
	}
}

const quotesSpider = `
name: quotes
start_urls: ["{{URL}}/"]
follow: [{css: li.next > a}, {css: "a[href='/page/1/']"}]
items:
  - css: div.quote
    fields:
      text: span.text
      tags: {css: a.tag, all: true}
    key: [text]
politeness: {concurrency_per_host: 4}
`

func TestPagination(t *testing.T) {
	t.Parallel()
	s := newSite(t, listing(10, 5))
	b := setup(t, s.URL, quotesSpider)
	stats := b.crawl(t)
	// 10 listing pages (/ and /page/1/ are distinct URLs: 11) and robots.txt.
	if stats.Pages != 11 || stats.Items != 50 || stats.ErrorCount() != 0 {
		t.Errorf("stats = %+v, want 11 pages, 50 items, no errors", stats)
	}
	if got := len(b.items(t)); got != 50 {
		t.Errorf("stored items = %d, want 50", got)
	}
	if d := s.duplicates(); len(d) > 0 {
		t.Errorf("fetched more than once: %v", d)
	}
	if s.peak > 4 {
		t.Errorf("peak concurrency %d, want at most concurrency_per_host 4", s.peak)
	}
	// A second run updates the same items instead of adding new ones.
	b.run = b.newRun(t)
	stats = b.crawl(t)
	if stats.Items != 50 {
		t.Errorf("second run items = %d, want 50", stats.Items)
	}
	ds, _ := b.db.Dataset(context.Background(), "quotes")
	if ds.Items != 50 {
		t.Errorf("dataset after two runs = %d items, want 50", ds.Items)
	}
}

func TestRobots(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "User-agent: *\nDisallow: /private\n\nUser-agent: trawl\nDisallow: /secret\nAllow: /secret/open\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<a href="/private">p</a><a href="/secret/x">s</a><a href="/secret/open">o</a><a href="/public">pub</a>`)
	})
	mux.HandleFunc("/secret/open", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/public", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	s := newSite(t, mux)
	b := setup(t, s.URL, `
name: robots
start_urls: ["{{URL}}/"]
follow: [{css: a}]
items: [{fields: {title: title}}]
fetch: {user_agent: "Trawl/1.0 (+test)"}
`)
	stats := b.crawl(t)
	// The trawl group is the only one that applies (RFC 9309 2.2.1): /private
	// is allowed for trawl, /secret/x is not, /secret/open is (longest match).
	if got := s.Hits("/secret/x"); got != 0 {
		t.Errorf("/secret/x fetched %d times despite robots.txt", got)
	}
	for _, u := range []string{"/private", "/secret/open", "/public"} {
		if s.Hits(u) != 1 {
			t.Errorf("%s fetched %d times, want 1", u, s.Hits(u))
		}
	}
	if got := s.Hits("/robots.txt"); got != 1 {
		t.Errorf("robots.txt fetched %d times, want 1", got)
	}
	if stats.Errors["robots"] != 1 {
		t.Errorf("robots errors = %d, want 1", stats.Errors["robots"])
	}
}

func TestHostileServers(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<h1>home</h1>`)
		for _, p := range []string{"/slow", "/huge", "/bomb", "/a", "/flaky", "/noh1", "/dead", "/old", "/latin1", "/malformed", "/gone", "/away", "/wrongcharset"} {
			fmt.Fprintf(w, `<a href="%s">x</a>`, p)
		}
	})
	mux.Handle("/slow", fetchtest.Slow(10*time.Second))
	mux.Handle("/huge", fetchtest.Huge(5<<20))
	mux.Handle("/bomb", fetchtest.GzipBomb(1<<30))
	mux.Handle("/a", fetchtest.RedirectLoop())
	mux.Handle("/b", fetchtest.RedirectLoop())
	mux.HandleFunc("/noh1", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `<p>no title</p>`) })
	mux.Handle("/flaky", fetchtest.Flaky(2, http.StatusServiceUnavailable, "0"))
	mux.Handle("/dead", fetchtest.Status(http.StatusServiceUnavailable))
	mux.Handle("/gone", fetchtest.Status(http.StatusNotFound))
	mux.Handle("/old", http.RedirectHandler("/new", http.StatusMovedPermanently))
	mux.Handle("/away", http.RedirectHandler("http://elsewhere.invalid/", http.StatusFound))
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `<h1>moved here</h1>`) })
	mux.HandleFunc("/latin1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		w.Write([]byte("<h1>caf\xe9 cr\xe8me</h1>"))
	})
	mux.HandleFunc("/wrongcharset", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8") // but the body is Latin-1
		w.Write([]byte("<h1>na\xefve</h1>"))
	})
	mux.HandleFunc("/malformed", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<div><p><h1>still <b>here</h1></span></table><div`)
	})
	s := newSite(t, mux)
	b := setup(t, s.URL, `
name: hostile
start_urls: ["{{URL}}/"]
follow: [{css: a}]
items: [{fields: {title: h1}, required: [title]}]
politeness: {robots: ignore, concurrency_per_host: 8}
fetch: {timeout: 500ms, max_body: 1MiB, retries: 2}
`)
	stats := b.crawl(t)
	wantFailed := map[string]string{
		"/slow": "timeout", "/huge": "too_large", "/bomb": "too_large", "/a": "redirect",
		"/dead": "http_5xx", "/gone": "http_4xx", "/away": "out_of_scope",
	}
	if diff := cmp.Diff(wantFailed, b.failed(t)); diff != "" {
		t.Errorf("failed pages (-want +got):\n%s", diff)
	}
	var titles []string
	for _, it := range b.items(t) {
		titles = append(titles, it["title"].(string))
	}
	slices.Sort(titles)
	want := []string{"café crème", "home", "moved here", "na\ufffdve", "still here"}
	if diff := cmp.Diff(want, titles); diff != "" {
		t.Errorf("titles (-want +got):\n%s", diff)
	}
	if got := s.Hits("/flaky"); got != 3 {
		t.Errorf("/flaky requested %d times, want 3 (two 503s, then success)", got)
	}
	if got := s.Hits("/dead"); got != 3 {
		t.Errorf("/dead requested %d times, want 3 (1 + retries: 2)", got)
	}
	// /noh1 has no h1: its item is invalid.
	if stats.Invalid != 1 {
		t.Errorf("invalid = %d, want 1", stats.Invalid)
	}
}

func TestJSONAPIPagination(t *testing.T) {
	t.Parallel()
	s := newSite(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var page int
		fmt.Sscanf(r.URL.Query().Get("page"), "%d", &page)
		next := any(nil)
		if page < 4 {
			next = fmt.Sprintf("/api?page=%d", page+1)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"data": []map[string]any{{"id": page*10 + 1, "name": map[string]any{"first": "a"}}, {"id": page*10 + 2, "name": map[string]any{"first": "b"}}},
			"next": next,
		})
	}))
	b := setup(t, s.URL, `
name: api
start_urls: ["{{URL}}/api?page=1"]
follow: [{json: next}]
items: [{json: data, fields: {id: id, first: name.first}, key: [id]}]
politeness: {robots: ignore}
`)
	stats := b.crawl(t)
	if stats.Pages != 4 || stats.Items != 8 {
		t.Errorf("stats = %+v, want 4 pages and 8 items", stats)
	}
	got := b.items(t)
	if len(got) != 8 || got[0]["id"] != float64(11) || got[0]["first"] != "a" {
		t.Errorf("items = %v", got)
	}
}

func TestCancelThenResumeRepeatsNoCommittedPage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	var once sync.Once
	gate := listing(40, 3)
	var served sync.Map
	s := newSite(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gate(w, r)
		n := 0
		served.Range(func(_, _ any) bool { n++; return true })
		served.Store(r.URL.Path, true)
		if n >= 15 {
			once.Do(func() { cancel(trawl.ErrShutdown) })
		}
	}))
	b := setup(t, s.URL, quotesSpider)
	_, err := b.engine.Run(ctx, crawl.RunParams{Spider: b.sp, Run: b.run})
	if err != trawl.ErrShutdown {
		t.Fatalf("Run after cancel = %v, want ErrShutdown", err)
	}
	before := map[string]int{}
	s.mu.Lock()
	for u, n := range s.hits {
		before[u] = n
	}
	s.mu.Unlock()
	committed, err := b.db.Run(context.Background(), b.run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if committed.Stats.Pages == 0 {
		t.Fatal("nothing committed before the cancel")
	}
	stats := b.crawl(t) // resume the same run
	if stats.Items != 120 || stats.Pages != 41 {
		t.Errorf("after resume: %+v, want 41 pages and 120 items", stats)
	}
	// Pages committed before the cancel were not requested again; only the
	// ones in flight at the cancel may repeat, and those are few.
	refetched := 0
	for _, u := range s.duplicates() {
		if before[u] > 0 {
			refetched++
		}
	}
	if refetched > 8 {
		t.Errorf("%d pages fetched again after resume, want at most the 8 in flight", refetched)
	}
	if int64(len(s.hits)-1) < stats.Pages { // robots.txt is not a page
		t.Errorf("served %d distinct URLs, want all %d pages", len(s.hits), stats.Pages)
	}
}

// chain serves /p/N linking to /p/N+1 and /p/N+2.
type chain struct {
	robots string
}

func (c *chain) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/robots.txt" {
		if c.robots == "" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, c.robots)
		return
	}
	var n int
	fmt.Sscanf(r.URL.Path, "/p/%d", &n)
	fmt.Fprintf(w, `<h1>page %d</h1><a href="/p/%d">a</a><a href="/p/%d">b</a>`, n, n+1, n+2)
}

func TestLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		limits    string
		wantPages int64
	}{
		{"max_pages counts admitted URLs", "{max_pages: 7}", 7},
		{"max_depth stops following", "{max_depth: 2}", 5}, // p/0; p/1, p/2; p/3, p/4
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, &chain{})
			b := setup(t, s.URL, `
name: limits
start_urls: ["{{URL}}/p/0"]
follow: [{css: a}]
items: [{fields: {title: h1}}]
limits: `+tt.limits+`
`)
			stats := b.crawl(t)
			if stats.Pages != tt.wantPages || stats.Queued != tt.wantPages {
				t.Errorf("pages %d, queued %d; want %d", stats.Pages, stats.Queued, tt.wantPages)
			}
		})
	}
}

// TestDelays runs on a fake clock, so the delays cost no real time and are
// measured exactly: the scheduler hands out a host's requests at least the
// delay apart in the engine's clock, with no allowance for jitter. (The
// server cannot measure this on a fake clock: a request in flight while the
// clock jumps would arrive "late". TestRateLimitedSiteLosesNothing checks
// pacing at the server on the real clock.)
func TestDelays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		robots     string
		politeness string
		wantGap    time.Duration
	}{
		{"spider delay", "", "{delay: 150ms, concurrency_per_host: 4}", 150 * time.Millisecond},
		{"robots Crawl-delay", "User-agent: *\nCrawl-delay: 0.15\n", "{concurrency_per_host: 4}", 150 * time.Millisecond},
		{"long delay costs no real time", "", "{delay: 1h, concurrency_per_host: 4}", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &chain{robots: tt.robots}
			s := newSite(t, c)
			b := setup(t, s.URL, `
name: delays
start_urls: ["{{URL}}/p/0"]
follow: [{css: a}]
items: [{fields: {title: h1}}]
limits: {max_pages: 5}
politeness: `+tt.politeness+`
`)
			clock := clocktest.New(t0)
			clock.Start(t)
			logs := &logRecorder{}
			fc := fetch.New(fetch.Config{})
			t.Cleanup(fc.Close)
			b.engine = mustEngine(t, b.db, fc, robots.New(fc, robots.Config{Now: clock.Now}),
				crawl.Config{Concurrency: 8, Clock: clock, Logger: slog.New(logs)})
			start := time.Now()
			stats := b.crawl(t)
			if stats.Pages != 5 || stats.ErrorCount() != 0 {
				t.Fatalf("stats %+v, want 5 pages and no error", stats)
			}
			u, _ := url.Parse(s.URL)
			starts := logs.startedAt(u.Host)
			if len(starts) != 5 {
				t.Fatalf("%d requests started, want 5", len(starts))
			}
			// Requests start at least the delay apart, even with four slots.
			for i := 1; i < len(starts); i++ {
				if gap := starts[i].Sub(starts[i-1]); gap < tt.wantGap {
					t.Errorf("request %d started %v after the previous one, want at least %v", i, gap, tt.wantGap)
				}
			}
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("the crawl took %v of real time on a fake clock", elapsed)
			}
		})
	}
}

// TestGlobalConcurrency runs three hosts that each allow four requests at
// once under a global cap of two.
func TestGlobalConcurrency(t *testing.T) {
	t.Parallel()
	var (
		mu             sync.Mutex
		inflight, peak int
	)
	handler := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			inflight++
			peak = max(peak, inflight)
			mu.Unlock()
			defer func() { mu.Lock(); inflight--; mu.Unlock() }()
			<-time.After(5 * time.Millisecond) // hold the slot so overlaps would show
			next.ServeHTTP(w, r)
		})
	}
	var starts []string
	for range 3 {
		s := newSite(t, handler(listing(5, 1)))
		starts = append(starts, `"`+s.URL+`/"`)
	}
	sp, err := spider.Parse("spider.yaml", []byte(`
name: global
start_urls: [`+strings.Join(starts, ", ")+`]
follow: [{css: li.next > a}]
items: [{css: div.quote, fields: {text: span.text}}]
politeness: {robots: ignore, concurrency_per_host: 4}
`))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "trawl.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fc := fetch.New(fetch.Config{})
	defer fc.Close()
	b := &bundle{db: db, sp: sp, engine: mustEngine(t, db, fc, robots.New(fc, robots.Config{}), crawl.Config{Concurrency: 2})}
	b.run = b.newRun(t)
	stats := b.crawl(t)
	if stats.Pages != 15 {
		t.Errorf("pages = %d, want 15", stats.Pages)
	}
	if peak > 2 {
		t.Errorf("peak requests in flight = %d, want at most the global cap 2", peak)
	}
	if peak < 2 {
		t.Errorf("peak requests in flight = %d: the cap of 2 was never used", peak)
	}
}

// failingStore fails CommitPages after a number of successful commits: a
// disk that fills up mid-run, which no real part here can produce.
type failingStore struct {
	store.Store
	mu        sync.Mutex
	remaining int
}

var errDiskFull = errors.New("disk full")

func (f *failingStore) CommitPages(ctx context.Context, p store.CommitParams) (*store.CommitResult, error) {
	f.mu.Lock()
	f.remaining--
	fail := f.remaining < 0
	f.mu.Unlock()
	if fail {
		return nil, errDiskFull
	}
	return f.Store.CommitPages(ctx, p)
}

func TestStoreFailureEndsTheRun(t *testing.T) {
	t.Parallel()
	s := newSite(t, listing(50, 2))
	b := setup(t, s.URL, quotesSpider)
	fc := fetch.New(fetch.Config{})
	defer fc.Close()
	fs := &failingStore{Store: b.db, remaining: 2}
	engine := mustEngine(t, fs, fc, robots.New(fc, robots.Config{}), crawl.Config{Concurrency: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := engine.Run(ctx, crawl.RunParams{Spider: b.sp, Run: b.run})
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("Run = %v, want the store's error", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Run hung until the test's deadline")
	}
	// What was committed before the failure stays, and the run can resume.
	run, err := b.db.Run(context.Background(), b.run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Stats.Pages == 0 {
		t.Error("nothing committed before the failure")
	}
	stats := b.crawl(t)
	if stats.Pages != 51 || stats.Items != 100 {
		t.Errorf("after resuming: %+v, want 51 pages and 100 items", stats)
	}
}
