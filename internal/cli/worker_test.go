package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trawl-dev/trawl/internal/store/postgres/pgtest"
)

// fleetWeb is a loopback web of several hosts that records, as the servers
// see it, each host's requests in flight (the peak) and request starts,
// and how often each page was requested. A request's start is its
// connection's accept time for the first request on a connection (the
// client started it when it dialed), else its arrival.
type fleetWeb struct {
	mu       sync.Mutex
	inflight map[string]int
	peak     map[string]int
	starts   map[string][]time.Time
	hits     map[string]int // host + path
	robots   map[string]int // robots.txt requests by host
	accepted map[string]time.Time
	last     time.Time // the latest request start
	hosts    []string  // base URLs
}

// newFleetWeb serves hosts sites of pages pages each: /p/i links to
// /p/2i+1 and /p/2i+2 and holds one item named after its host and number;
// each answer takes latency. With crawlDelay, every other host's
// robots.txt asks for that Crawl-delay; the others have none (404).
func newFleetWeb(t *testing.T, hosts, pages int, latency, crawlDelay time.Duration) *fleetWeb {
	t.Helper()
	w := &fleetWeb{inflight: map[string]int{}, peak: map[string]int{}, starts: map[string][]time.Time{},
		hits: map[string]int{}, robots: map[string]int{}, accepted: map[string]time.Time{}}
	for i := range hosts {
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/robots.txt" {
				w.mu.Lock()
				w.robots[r.Host]++
				delete(w.accepted, r.RemoteAddr) // the page request after it starts when it arrives
				w.mu.Unlock()
				if crawlDelay > 0 && i%2 == 0 {
					fmt.Fprintf(rw, "User-agent: *\nCrawl-delay: %g\n", crawlDelay.Seconds())
					return
				}
				http.NotFound(rw, r)
				return
			}
			w.mu.Lock()
			start, ok := w.accepted[r.RemoteAddr]
			if ok {
				delete(w.accepted, r.RemoteAddr)
			} else {
				start = time.Now()
			}
			w.inflight[r.Host]++
			w.peak[r.Host] = max(w.peak[r.Host], w.inflight[r.Host])
			w.starts[r.Host] = append(w.starts[r.Host], start)
			w.hits[r.Host+r.URL.Path]++
			w.last = time.Now()
			w.mu.Unlock()
			defer func() {
				w.mu.Lock()
				w.inflight[r.Host]--
				w.mu.Unlock()
			}()
			time.Sleep(latency)
			var n int
			if _, err := fmt.Sscanf(r.URL.Path, "/p/%d", &n); err != nil || n < 0 || n >= pages {
				http.NotFound(rw, r)
				return
			}
			fmt.Fprintf(rw, "<h1>%s %d</h1>", r.Host, n)
			for _, c := range []int{2*n + 1, 2*n + 2} {
				if c < pages {
					fmt.Fprintf(rw, `<a href="/p/%d">%d</a>`, c, c)
				}
			}
		}))
		s.Config.ConnState = func(c net.Conn, st http.ConnState) {
			if st == http.StateNew {
				w.mu.Lock()
				w.accepted[c.RemoteAddr().String()] = time.Now()
				w.mu.Unlock()
			}
		}
		s.Start()
		t.Cleanup(s.Close)
		w.hosts = append(w.hosts, s.URL)
	}
	return w
}

// crawlDelayed reports whether host (host:port) asks for a Crawl-delay.
func (w *fleetWeb) crawlDelayed(host string) bool {
	for i, h := range w.hosts {
		if strings.TrimPrefix(h, "http://") == host {
			return i%2 == 0
		}
	}
	return false
}

// spider is a spider of the web's hosts with the given politeness; it
// obeys robots.txt.
func (w *fleetWeb) spider(name string, perHost int, delay time.Duration) string {
	var starts, names []string
	for _, h := range w.hosts {
		starts = append(starts, `"`+h+`/p/0"`)
		names = append(names, `"`+strings.TrimPrefix(h, "http://")+`"`)
	}
	return fmt.Sprintf(`name: %s
start_urls: [%s]
scope: {hosts: [%s]}
follow: [{css: a}]
items: [{fields: {title: h1}, key: [title]}]
politeness: {concurrency_per_host: %d, delay: %s}
`, name, strings.Join(starts, ", "), strings.Join(names, ", "), perHost, delay)
}

// worker is a `trawl worker` process, logging JSON at the debug level.
type worker struct {
	*child
	probes   string // http://127.0.0.1:PORT of /healthz, /readyz, /metrics
	startsMu sync.Mutex
	starts   map[string][]time.Time // the engine's request starts by host, from its "fetch" records
}

// logLine is the part of a worker's JSON log line the tests read.
type logLine struct {
	Msg     string    `json:"msg"`
	Probes  string    `json:"probes"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

// startWorker starts `trawl worker` on dsn and waits until it has started.
func startWorker(t *testing.T, dir, dsn string, args ...string) *worker {
	t.Helper()
	cmd := trawlCmd(t, dir, append([]string{"worker", "--db", dsn, "--addr", "127.0.0.1:0", "--allow-private-networks",
		"--lease-ttl", "8s", "--shutdown-timeout", "5s", "--log-format", "json", "--log-level", "debug"}, args...)...)
	w := &worker{starts: map[string][]time.Time{}}
	c, addr := startChild(t, "trawl worker", cmd, func(line string) (string, bool) {
		var l logLine
		_ = json.Unmarshal([]byte(line), &l)
		switch l.Msg {
		case "fetch":
			// Called from the child's reader before w.child is set for
			// the first lines: the starts map has its own lock.
			w.startsMu.Lock()
			w.starts[l.Host] = append(w.starts[l.Host], l.Started)
			w.startsMu.Unlock()
			return "", false
		case "worker started":
			return l.Probes, true
		}
		return "", true
	})
	w.child, w.probes = c, "http://"+addr
	return w
}

// pagesTotal reads trawl_pages_total from the worker's /metrics.
func (w *worker) pagesTotal(t *testing.T) float64 {
	t.Helper()
	resp, err := http.Get(w.probes + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var total float64
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "trawl_pages_total") {
			f := strings.Fields(l)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			total += v
		}
	}
	return total
}

// waitPages waits until the run has committed at least n pages.
func (s *service) waitPages(t *testing.T, id int64, n int64, within time.Duration) runJSON {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := s.run(t, id)
		if r.Stats.Pages >= n || r.Status != "running" && r.Status != "queued" {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d has %d pages after %v, want %d:\n%s", id, r.Stats.Pages, within, n, s.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// itemTitles returns the titles of the items of dataset, from the API.
func (s *service) itemTitles(t *testing.T, dataset string) []string {
	t.Helper()
	code, body := s.call(t, "GET", "/v1/datasets/"+dataset+"/items.jsonl", "", "")
	if code != http.StatusOK {
		t.Fatalf("items.jsonl: %d %s", code, body)
	}
	var out []string
	for _, l := range lines(string(body)) {
		if l == "" {
			continue
		}
		var it struct {
			Title string `json:"title"`
		}
		if err := json.Unmarshal([]byte(l), &it); err != nil {
			t.Fatalf("item %s: %v", l, err)
		}
		out = append(out, it.Title)
	}
	return out
}

// TestWorkersScaleOut: `trawl serve --max-runs 0` (the API only) and three
// `trawl worker` processes on one PostgreSQL database crawl one run of
// eight hosts together; half of the hosts ask for a Crawl-delay longer
// than the spider's delay in their robots.txt. One worker is killed with
// SIGKILL a quarter of the way in, another stopped with SIGTERM halfway;
// the third finishes the run. The run ends once, succeeded, with exactly
// one item per page, no page committed before the kill fetched again,
// each robots.txt fetched once for all workers, and the politeness kept
// across all processes: never more than concurrency_per_host requests in
// flight to a host, never two starts closer than the delay or the host's
// Crawl-delay (as the workers started them, exactly; as the servers saw
// them, less the jitter between a start and its arrival).
func TestWorkersScaleOut(t *testing.T) {
	t.Parallel()
	const (
		hosts, pages = 8, 40
		perHost      = 2
		delay        = 100 * time.Millisecond
		crawlDelay   = 150 * time.Millisecond
		// A request reaches its server some time after the engine started
		// it: tens of milliseconds when this test shares two cores with
		// the rest of the suite under the race detector, and now and
		// then, when a worker is starved of CPU (as while it shuts down),
		// two or three requests it started a delay apart reach the
		// server together. The engines' start times are checked exactly;
		// the servers' with this slack, and only a few gaps may fall
		// short even of it: two workers crawling one host at once would
		// make half of them short.
		jitter = 75 * time.Millisecond
		total  = hosts * pages
	)
	dsn := pgtest.Schema(t)
	web := newFleetWeb(t, hosts, pages, 10*time.Millisecond, crawlDelay)
	dir := t.TempDir()
	svc := startService(t, dir, "--db", dsn, "--max-runs", "0", "--allow-private-networks")
	var ws []*worker
	for range 3 {
		ws = append(ws, startWorker(t, dir, dsn, "--concurrency", "4"))
	}
	svc.putSpider(t, "fleet", web.spider("fleet", perHost, delay))
	run := svc.startRun(t, "fleet")

	svc.waitPages(t, run.ID, total/4, 60*time.Second)
	if err := ws[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-ws[0].done
	committed := svc.itemTitles(t, "fleet") // the pages whose commit survived the kill
	if len(committed) == 0 || len(committed) >= total {
		t.Fatalf("%d pages committed at the kill, want some but not all", len(committed))
	}

	svc.waitPages(t, run.ID, total/2, 60*time.Second)
	if err := ws[1].cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ws[1].done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the worker did not stop within 10s of SIGTERM:\n%s", ws[1].logs())
	}
	if ws[1].err != nil {
		t.Errorf("the worker stopped by SIGTERM exited with %v, want 0:\n%s", ws[1].err, ws[1].logs())
	}
	// It handed its hosts back at once: no live lease of it is left.
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var live int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM host_leases WHERE run_id = $1 AND worker LIKE $2
		AND expires_at > now()`, run.ID, fmt.Sprintf("%%/%d/%%", ws[1].cmd.Process.Pid)).Scan(&live); err != nil {
		t.Fatal(err)
	}
	if live != 0 {
		t.Errorf("the worker stopped by SIGTERM still leases %d hosts, want 0 (handed back at once)", live)
	}

	end := svc.waitRun(t, run.ID, 90*time.Second)
	if end.Status != "succeeded" || end.Stats.Pages != total || end.Stats.Items != total {
		t.Fatalf("run ended %s with %d pages and %d items, want succeeded, %d, %d (%s)\nworker 3:\n%s",
			end.Status, end.Stats.Pages, end.Stats.Items, total, total, end.Error, ws[2].logs())
	}
	titles := svc.itemTitles(t, "fleet")
	seen := map[string]bool{}
	for _, title := range titles {
		if seen[title] {
			t.Errorf("duplicate item %q", title)
		}
		seen[title] = true
	}
	if len(seen) != total {
		t.Errorf("dataset has %d items, want %d", len(seen), total)
	}
	if n := ws[2].pagesTotal(t); n == 0 {
		t.Errorf("the surviving worker's trawl_pages_total is 0: it did not crawl")
	}

	web.mu.Lock()
	defer web.mu.Unlock()
	for _, title := range committed {
		host, n, _ := strings.Cut(title, " ")
		if got := web.hits[host+"/p/"+n]; got != 1 {
			t.Errorf("page %s/p/%s was committed before the kill and fetched %d times, want once", host, n, got)
		}
	}
	for h, p := range web.peak {
		if p > perHost {
			t.Errorf("host %s: %d requests in flight at once across the workers, want at most %d", h, p, perHost)
		}
	}
	// The servers' start times carry the jitter between a request's start
	// and its arrival (more under the race detector on a loaded machine);
	// the engines' own start times, all on this machine's clock, are
	// exact: the delay must hold across the workers without slack.
	shortest, shortestEngine := time.Hour, time.Hour
	var gaps int
	var short []string
	for h, n := range web.robots {
		if n != 1 {
			t.Errorf("host %s: robots.txt requested %d times, want once for all the workers", h, n)
		}
	}
	for h, ss := range web.starts {
		want := delay
		if web.crawlDelayed(h) {
			want = crawlDelay
		}
		// A connection's first request starts at its accept time, which
		// may come before a request on another connection that arrived
		// earlier: order the starts before measuring the gaps. A host's
		// first request is handed out before its robots.txt is known and
		// reaches the server after it: the servers' gaps start after it.
		slices.SortFunc(ss, time.Time.Compare)
		for i := 2; i < len(ss); i++ {
			gap := ss[i].Sub(ss[i-1])
			shortest = min(shortest, gap)
			gaps++
			if gap < want-jitter {
				short = append(short, fmt.Sprintf("%s request %d: %v", h, i, gap.Round(time.Millisecond)))
			}
		}
		var es []time.Time
		for _, w := range ws {
			w.startsMu.Lock()
			es = append(es, w.starts[strings.TrimPrefix(h, "http://")]...)
			w.startsMu.Unlock()
		}
		slices.SortFunc(es, time.Time.Compare)
		if len(es) < len(ss) {
			t.Errorf("host %s: the workers logged %d request starts, the server saw %d", h, len(es), len(ss))
		}
		for i := 1; i < len(es); i++ {
			gap := es[i].Sub(es[i-1])
			shortestEngine = min(shortestEngine, gap)
			if gap < want {
				t.Errorf("host %s: the workers started request %d %v after the previous one, want at least %v", h, i, gap, want)
			}
		}
	}
	if len(short) > max(3, gaps/50) {
		t.Errorf("the servers saw %d of %d gaps between request starts to one host shorter than the delay less %v: %v", len(short), gaps, jitter, short)
	}
	t.Logf("shortest gap between two request starts to one host, across the workers: %v as the servers saw them (%d of %d gaps short by more than %v), %v as the workers started them (delay %v, Crawl-delay %v)",
		shortest, len(short), gaps, jitter, shortestEngine, delay, crawlDelay)
}

// TestWorkersCancel: a run crawled by two workers is canceled over the
// API; it is marked canceled and every worker stops requesting within two
// seconds.
func TestWorkersCancel(t *testing.T) {
	t.Parallel()
	const hosts, pages = 4, 400
	dsn := pgtest.Schema(t)
	web := newFleetWeb(t, hosts, pages, 10*time.Millisecond, 0)
	dir := t.TempDir()
	svc := startService(t, dir, "--db", dsn, "--max-runs", "0", "--allow-private-networks")
	ws := []*worker{startWorker(t, dir, dsn, "--concurrency", "4"), startWorker(t, dir, dsn, "--concurrency", "4")}
	svc.putSpider(t, "long", web.spider("long", 2, 20*time.Millisecond))
	run := svc.startRun(t, "long")
	deadline := time.Now().Add(60 * time.Second)
	for ws[0].pagesTotal(t) == 0 || ws[1].pagesTotal(t) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("both workers did not crawl within 60s:\n%s\n%s", ws[0].logs(), ws[1].logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, body := svc.call(t, "POST", fmt.Sprintf("/v1/runs/%d/cancel", run.ID), "", "")
	if code != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", code, body)
	}
	canceledAt := time.Now()
	end := svc.waitRun(t, run.ID, 5*time.Second)
	if end.Status != "canceled" {
		t.Fatalf("run ended %s, want canceled", end.Status)
	}
	if took := time.Since(canceledAt); took > 2*time.Second {
		t.Errorf("run marked canceled %v after the cancel, want within 2s", took)
	}
	time.Sleep(time.Second)
	web.mu.Lock()
	last := web.last
	web.mu.Unlock()
	if after := last.Sub(canceledAt); after > 2*time.Second {
		t.Errorf("a worker still sent a request %v after the cancel, want none after 2s", after)
	}
	if end.Stats.Pages >= hosts*pages {
		t.Errorf("the run crawled all %d pages before the cancel landed: the test proves nothing", end.Stats.Pages)
	}
}

// cutProxy forwards loopback TCP connections to a server until it is cut:
// then every connection through it is closed and new ones are refused,
// as when a network partition separates a worker from its database.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.cut {
				p.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// TestWorkerLosesDatabase: the only worker of a run loses its database for
// a few seconds in the middle of the crawl. It says so in its log and on
// /readyz (503), retries, and once the database answers again finishes the
// run: succeeded, with exactly one item per page.
func TestWorkerLosesDatabase(t *testing.T) {
	t.Parallel()
	const hosts, pages = 4, 60
	dsn := pgtest.Schema(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	web := newFleetWeb(t, hosts, pages, 10*time.Millisecond, 0)
	dir := t.TempDir()
	svc := startService(t, dir, "--db", dsn, "--max-runs", "0", "--allow-private-networks")
	w := startWorker(t, dir, u.String(), "--concurrency", "4", "--max-runs", "1")
	svc.putSpider(t, "cut", web.spider("cut", 2, 30*time.Millisecond))
	run := svc.startRun(t, "cut")
	svc.waitPages(t, run.ID, hosts*pages/4, 60*time.Second)

	proxy.setCut(true)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(w.probes + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d 10s after the database was cut", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	if r := svc.run(t, run.ID); r.Status != "running" {
		t.Fatalf("run is %s while its worker cannot reach the database, want running", r.Status)
	}
	proxy.setCut(false)

	end := svc.waitRun(t, run.ID, 90*time.Second)
	if end.Status != "succeeded" || end.Stats.Pages != hosts*pages || end.Stats.Items != hosts*pages {
		t.Fatalf("run ended %s with %d pages and %d items, want succeeded, %d, %d (%s)\n%s",
			end.Status, end.Stats.Pages, end.Stats.Items, hosts*pages, hosts*pages, end.Error, w.logs())
	}
	seen := map[string]bool{}
	for _, title := range svc.itemTitles(t, "cut") {
		if seen[title] {
			t.Errorf("duplicate item %q", title)
		}
		seen[title] = true
	}
	if len(seen) != hosts*pages {
		t.Errorf("dataset has %d items, want %d", len(seen), hosts*pages)
	}
	resp, err := http.Get(w.probes + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz = %d after the database came back, want 200", resp.StatusCode)
	}
	if logs := w.logs(); !strings.Contains(logs, "retry") {
		t.Errorf("the worker's log does not say it retries:\n%s", logs)
	}
}

// TestWorkerNeedsPostgres: a worker on SQLite, or without a database, and
// a serve that would crawl nothing on SQLite are usage errors that say
// what to do, and create no file.
func TestWorkerNeedsPostgres(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"worker", "--db", "x.db"}, "worker needs a PostgreSQL database, the one trawl serve uses: --db postgres://"},
		{[]string{"worker"}, "worker needs a PostgreSQL database"},
		{[]string{"serve", "--max-runs", "0", "--db", "y.db", "--addr", "127.0.0.1:0"}, "--max-runs 0 (crawl nothing here) needs PostgreSQL"},
	} {
		r := runMain(t, dir, nil, tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("trawl %s: exit %d, stderr %q; want 2 and %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left behind by refused commands: %v", names)
	}
}
