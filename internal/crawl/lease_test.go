package crawl_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/frontier"
	"github.com/trawl-dev/trawl/internal/robots"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/store/postgres"
	"github.com/trawl-dev/trawl/internal/store/postgres/pgtest"
	"github.com/trawl-dev/trawl/internal/store/sqlite"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// politeLog records, per host as the server sees it, the requests in
// flight (the peak) and when each request started, and how often each
// URL was requested. The spider ignores robots.txt: the delay runs from
// when the scheduler hands a request out, which for a host's first request
// is before its robots.txt is fetched, so the server would see that
// request late.
type politeLog struct {
	mu       sync.Mutex
	inflight map[string]int
	peak     map[string]int
	starts   map[string][]time.Time
	hits     map[string]int // host + URI
	acceptLog
}

// acceptLog records when each connection of a test server was accepted,
// until its first request: that request started when the client dialed,
// not when it arrived after the handshake, which under load may be much
// later and would make the next gap between starts look short.
type acceptLog struct {
	acceptMu sync.Mutex
	accepted map[string]time.Time // by remote address
}

// server starts a loopback server of handler whose connections' accept
// times the log records.
func (l *acceptLog) server(t *testing.T, handler http.Handler) *httptest.Server {
	s := httptest.NewUnstartedServer(handler)
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			l.acceptMu.Lock()
			if l.accepted == nil {
				l.accepted = map[string]time.Time{}
			}
			l.accepted[c.RemoteAddr().String()] = time.Now()
			l.acceptMu.Unlock()
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// startOf returns when request r started as the server can tell: its
// connection's accept time for the first request on it, else now.
func (l *acceptLog) startOf(r *http.Request) time.Time {
	l.acceptMu.Lock()
	defer l.acceptMu.Unlock()
	if at, ok := l.accepted[r.RemoteAddr]; ok {
		delete(l.accepted, r.RemoteAddr)
		return at
	}
	return time.Now()
}

// binaryTree serves, on every host it is mounted on, pages /p/0 to
// /p/pages-1, page i linking to 2i+1 and 2i+2, each with one item named
// after its host and number; it answers after 5ms.
func (l *politeLog) binaryTree(pages int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		l.mu.Lock()
		l.inflight[r.Host]++
		l.peak[r.Host] = max(l.peak[r.Host], l.inflight[r.Host])
		l.starts[r.Host] = append(l.starts[r.Host], l.startOf(r))
		l.hits[r.Host+r.URL.RequestURI()]++
		l.mu.Unlock()
		defer func() {
			l.mu.Lock()
			l.inflight[r.Host]--
			l.mu.Unlock()
		}()
		time.Sleep(5 * time.Millisecond)
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/p/%d", &n); err != nil || n < 0 || n >= pages {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "<h1>%s %d</h1>", r.Host, n)
		for _, c := range []int{2*n + 1, 2*n + 2} {
			if c < pages {
				fmt.Fprintf(w, `<a href="/p/%d">%d</a>`, c, c)
			}
		}
	})
}

// TestTwoEnginesShareOneRun runs two engines, each with its own worker
// name and its own connections to one store (a SQLite file, a PostgreSQL
// schema), on one run of four hosts at once. The host leases must keep the spider's politeness global
// (never more than concurrency_per_host in flight to a host, never two
// request starts closer than the delay, whichever engine sent them), and
// the run must end with every page fetched exactly once and every item
// stored once. The delay is checked on the start times the server saw
// and, exactly, on those the engines logged. Each engine may hold two hosts at a time, so both work,
// and the one that finishes its hosts first hands them back and takes
// the others' released hosts with their pace.
func TestTwoEnginesShareOneRun(t *testing.T) {
	t.Parallel()
	onBothStores(t, twoEngines)
}

// onBothStores runs f on a SQLite file and on a PostgreSQL schema; each
// call of its open opens one more connection to the same database, as
// another process would.
func onBothStores(t *testing.T, f func(t *testing.T, open func() store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "trawl.db")
		f(t, func() store.Store {
			db, err := sqlite.Open(context.Background(), path, sqlite.Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.Schema(t)
		f(t, func() store.Store {
			db, err := postgres.Open(context.Background(), dsn, postgres.Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
}

func twoEngines(t *testing.T, open func() store.Store) {
	const (
		hosts   = 4
		pages   = 30
		perHost = 2
		delay   = 100 * time.Millisecond
	)
	// The server sees a request start some time after the engine handed
	// it out, and that time varies (goroutine scheduling, a new
	// connection; more under the race detector on a loaded machine), so
	// the gaps it sees may be a little shorter than the engine's. Two
	// engines on one host at once would show gaps near zero.
	jitter := 10 * time.Millisecond
	if raceEnabled {
		jitter = 50 * time.Millisecond
	}
	logs := &logRecorder{}
	log := &politeLog{inflight: map[string]int{}, peak: map[string]int{}, starts: map[string][]time.Time{}, hits: map[string]int{}}
	var starts, names []string
	for range hosts {
		s := log.server(t, log.binaryTree(pages))
		starts = append(starts, `"`+s.URL+`/p/0"`)
		names = append(names, `"`+strings.TrimPrefix(s.URL, "http://")+`"`)
	}
	db := open()
	sp, run := createRun(t, db, `
name: shared
start_urls: [`+strings.Join(starts, ", ")+`]
scope: {hosts: [`+strings.Join(names, ", ")+`]}
follow: [{css: a}]
items: [{fields: {title: h1}, key: [title]}]
politeness: {concurrency_per_host: 2, delay: 100ms, robots: ignore}
`)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	type result struct {
		worker string
		res    *crawl.Result
		err    error
	}
	done := make(chan result, 2)
	seen := map[string]*observed{}
	for _, worker := range []string{"engine-a", "engine-b"} {
		seen[worker] = &observed{byClass: map[string]int{}, statuses: map[int]int{}}
		fc := fetch.New(fetch.Config{})
		t.Cleanup(fc.Close)
		e := mustEngine(t, open(), fc, robots.New(fc, robots.Config{}), crawl.Config{
			Concurrency: 8, Worker: worker, MaxHosts: 2, Observer: seen[worker], Logger: slog.New(logs),
			LeaseTTL: 15 * time.Second, LeaseRenew: time.Second, ClaimInterval: 20 * time.Millisecond,
		})
		go func() {
			res, err := e.Run(ctx, crawl.RunParams{Spider: sp, Run: run})
			done <- result{worker, res, err}
		}()
	}
	for range 2 {
		r := <-done
		if r.err != nil {
			t.Fatalf("%s: Run: %v", r.worker, r.err)
		}
	}

	for w, o := range seen {
		o.mu.Lock()
		n := o.pages
		o.mu.Unlock()
		if n == 0 || n == hosts*pages {
			t.Errorf("%s finished %d pages, want some of the %d but not all: both engines share the run", w, n, hosts*pages)
		}
	}
	final, err := db.Run(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.Stats.Pages != hosts*pages || final.Stats.Items != hosts*pages || final.Stats.ErrorCount() != 0 {
		t.Errorf("run stats %+v, want %d pages and items, no error", final.Stats, hosts*pages)
	}
	var items int
	for _, err := range db.Items(context.Background(), store.ItemQuery{Dataset: sp.Name, RunID: run.ID}) {
		if err != nil {
			t.Fatal(err)
		}
		items++
	}
	if items != hosts*pages {
		t.Errorf("stored items = %d, want %d", items, hosts*pages)
	}
	left, err := db.QueuedHosts(context.Background(), run.ID)
	if err != nil || len(left) != 0 {
		t.Errorf("hosts with queued pages after the run: %v (err %v), want none", left, err)
	}

	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.hits) != hosts*pages {
		t.Errorf("served %d distinct pages, want %d", len(log.hits), hosts*pages)
	}
	var twice []string
	for u, n := range log.hits {
		if n != 1 {
			twice = append(twice, fmt.Sprintf("%s x%d", u, n))
		}
	}
	slices.Sort(twice)
	if len(twice) > 0 {
		t.Errorf("pages fetched more than once: %v", twice)
	}
	for h, n := range log.peak {
		if n > perHost {
			t.Errorf("host %s: %d requests in flight at once, want at most %d", h, n, perHost)
		}
	}
	for h, ss := range log.starts {
		// A connection's first request starts at its accept time, which
		// may come before a request on another connection that arrived
		// earlier: order the starts before measuring the gaps.
		slices.SortFunc(ss, time.Time.Compare)
		for i := 1; i < len(ss); i++ {
			if gap := ss[i].Sub(ss[i-1]); gap < delay-jitter {
				t.Errorf("host %s: the server saw request %d start %v after the previous one, want at least the delay %v (less %v)",
					h, i, gap, delay, jitter)
			}
		}
		// The engines' own start times (the scheduler's, one wall clock
		// for both) are exact: the delay holds across hand-overs.
		es := logs.startedAt(h)
		if len(es) != len(ss) {
			t.Errorf("host %s: the engines started %d requests, the server saw %d", h, len(es), len(ss))
		}
		for i := 1; i < len(es); i++ {
			if gap := es[i].Sub(es[i-1]); gap < delay {
				t.Errorf("host %s: the engines started request %d %v after the previous one, want at least the delay %v", h, i, gap, delay)
			}
		}
	}
}

// TestExclusiveRunTakesOverLeftLeases: a process killed in the middle of
// an exclusive run leaves its host leases behind; the process that
// resumes the run takes them over at once instead of waiting for them to
// expire.
func TestExclusiveRunTakesOverLeftLeases(t *testing.T) {
	t.Parallel()
	s := newSite(t, listing(5, 2))
	b := setup(t, s.URL, quotesSpider)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	left, err := b.db.ClaimHosts(ctx, b.run.ID, crawl.ExclusiveWorker, 10, time.Hour)
	if err != nil || len(left) != 1 {
		t.Fatalf("ClaimHosts = %v, %v; want the site's host leased for an hour", left, err)
	}
	res, err := b.engine.Run(ctx, crawl.RunParams{Spider: b.sp, Run: b.run, Exclusive: true})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Stats.Pages != 6 || res.Stats.Items != 10 {
		t.Errorf("stats %+v, want 6 pages and 10 items", res.Stats)
	}
}

// TestCancelReleasesHosts: a run that stops (SIGTERM, a cancel) hands its
// hosts back at once, so another worker can claim them well before their
// leases would have expired, and finds the unfinished pages still queued.
func TestCancelReleasesHosts(t *testing.T) {
	t.Parallel()
	s := newSite(t, &chain{})
	b := setup(t, s.URL, `
name: released
start_urls: ["{{URL}}/p/0"]
follow: [{css: a}]
items: [{fields: {title: h1}}]
politeness: {delay: 100ms}
`)
	ctx, cancel := context.WithCancel(context.Background())
	var stop sync.Once
	done := make(chan error, 1)
	go func() {
		_, err := b.engine.Run(ctx, crawl.RunParams{Spider: b.sp, Run: b.run, OnProgress: func(p crawl.Progress) {
			if p.Stats.Pages >= 3 {
				stop.Do(cancel)
			}
		}})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Run completed an endless chain")
		}
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("Run did not stop within 20s of its cancel")
	}
	// The engine's lease lasts 30s: a claim within 2s shows it was released.
	deadline := time.Now().Add(2 * time.Second)
	for {
		got, err := b.db.ClaimHosts(context.Background(), b.run.ID, "other", 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stopped run's host could not be claimed within 2s: its lease was not released")
		}
		time.Sleep(20 * time.Millisecond)
	}
	queued, err := b.db.QueuedHosts(context.Background(), b.run.ID)
	if err != nil || len(queued) != 1 {
		t.Errorf("queued hosts after the stop = %v, %v; want the site's host", queued, err)
	}
}

// losingStore reports, at the first renewal, every host as lost, as if
// the lease had expired during a stall; the store itself still leases
// them to the engine until their TTL runs out.
type losingStore struct {
	*sqlite.DB
	mu   sync.Mutex
	lost time.Time // when the engine was told
}

func (s *losingStore) RenewHosts(ctx context.Context, runID int64, worker string, hosts []string, ttl time.Duration) ([]string, error) {
	s.mu.Lock()
	first := s.lost.IsZero()
	if first {
		s.lost = time.Now()
	}
	s.mu.Unlock()
	if first {
		return hosts, nil
	}
	return s.DB.RenewHosts(ctx, runID, worker, hosts, ttl)
}

// TestLostHostStopsAtOnce: an engine told it lost its host starts no
// request to it until it holds the host again (here: claims it once the
// lease expired in the store), then finishes the run with every page
// fetched once.
func TestLostHostStopsAtOnce(t *testing.T) {
	t.Parallel()
	const pages = 60
	log := &politeLog{inflight: map[string]int{}, peak: map[string]int{}, starts: map[string][]time.Time{}, hits: map[string]int{}}
	s := httptest.NewServer(log.binaryTree(pages))
	t.Cleanup(s.Close)
	b := setup(t, s.URL, `
name: lost
start_urls: ["{{URL}}/p/0"]
follow: [{css: a}]
items: [{fields: {title: h1}, key: [title]}]
politeness: {concurrency_per_host: 2, delay: 20ms, robots: ignore}
`)
	st := &losingStore{DB: b.db}
	const ttl = time.Second
	fc := fetch.New(fetch.Config{})
	t.Cleanup(fc.Close)
	e := mustEngine(t, st, fc, robots.New(fc, robots.Config{}), crawl.Config{
		Concurrency: 4, LeaseTTL: ttl, LeaseRenew: 200 * time.Millisecond, ClaimInterval: 20 * time.Millisecond,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	res, err := e.Run(ctx, crawl.RunParams{Spider: b.sp, Run: b.run})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Stats.Pages != pages || res.Stats.Items != pages || res.Stats.ErrorCount() != 0 {
		t.Errorf("stats %+v, want %d pages and items, no error", res.Stats, pages)
	}
	st.mu.Lock()
	lost := st.lost
	st.mu.Unlock()
	if lost.IsZero() {
		t.Fatal("the engine never renewed its lease")
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	for u, n := range log.hits {
		if n != 1 {
			t.Errorf("%s fetched %d times, want once", u, n)
		}
	}
	// The store's lease, claimed at the start, ran out a TTL later; no
	// request started between the loss and then (a request handed out
	// before the loss may still start within a few ms of it).
	expiry := start.Add(ttl)
	for _, ss := range log.starts {
		for _, at := range ss {
			if at.After(lost.Add(10*time.Millisecond)) && at.Before(expiry) {
				t.Errorf("a request started %v after the host was lost, before the lease expired (%v after the loss)",
					at.Sub(lost), expiry.Sub(lost))
			}
		}
	}
}

// createRun parses the spider src and creates a run of it in db, as the
// process that starts a run does before engines crawl it.
func createRun(t *testing.T, db store.Store, src string) (*spider.Spider, *trawl.Run) {
	t.Helper()
	sp, err := spider.Parse("spider.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	run, err := db.CreateRun(context.Background(), store.CreateRunParams{
		Spider: sp.Name, SpecHash: sp.Hash, Columns: sp.FieldNames(), StartURLs: frontier.StartURLs(sp),
	})
	if err != nil {
		t.Fatal(err)
	}
	return sp, run
}
