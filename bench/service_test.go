package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/bench/simweb"
)

// wrkSample is the output of wrk 4.1 with wrk/paths.lua, as printed on this machine.
const wrkSample = `Running 1s test @ http://127.0.0.1:18999
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.91ms    1.90ms  17.33ms   87.52%
  562 requests in 1.00s, 2.13MB read
  Non-2xx or 3xx responses: 281
Requests/sec:    560.28
WRKJSON {"requests":562,"duration_us":1003078,"bytes":2234512,"errors":{"connect":0,"read":0,"write":0,"status":281,"timeout":0},"p50_us":1529,"p90_us":4257,"p99_us":8465,"max_us":17334,"mean_us":1907.6}
`

func TestParseWrkOutput(t *testing.T) {
	t.Parallel()
	r, err := parseWrkOutput([]byte(wrkSample))
	if err != nil {
		t.Fatalf("parseWrkOutput: %v", err)
	}
	if r.Requests != 562 || r.P50US != 1529 || r.P99US != 8465 || r.MaxUS != 17334 || r.Bytes != 2234512 || r.Errors.Status != 281 {
		t.Errorf("parsed %+v", r)
	}
	if got := r.ErrorCount(); got != 281 {
		t.Errorf("ErrorCount = %d, want 281", got)
	}
	if rps := r.RPS(); rps < 560 || rps > 561 {
		t.Errorf("RPS = %.2f, want 560.28", rps)
	}
	for name, out := range map[string]string{
		"no result line": "Running 1s test\nRequests/sec: 5\n",
		"truncated json": "WRKJSON {\"requests\":5,\n",
		"unknown field":  `WRKJSON {"requests":5,"duration_us":100,"latency":3}` + "\n",
		"zero duration":  `WRKJSON {"requests":5,"duration_us":0}` + "\n",
	} {
		if _, err := parseWrkOutput([]byte(out)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestRunWrk drives a real wrk with wrk/paths.lua at a loopback server: the script must cycle
// through the paths, count non-2xx answers as errors, pace requests when asked, and report when
// stopped early.
func TestRunWrk(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk is not installed (apt-get install -y wrk)")
	}
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.RequestURI()]++
		mu.Unlock()
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	cfg := wrkConfig{Bin: bin, Script: filepath.Join("wrk", "paths.lua"), Threads: 1, Connections: 2}
	paths := []string{"/a?x=1", "/b?y=%20z", "/missing"}

	r, err := runWrk(context.Background(), cfg, srv.URL, paths, t.TempDir(), time.Second, 0, nil)
	if err != nil {
		t.Fatalf("runWrk: %v", err)
	}
	mu.Lock()
	a, b, missing := hits["/a?x=1"], hits["/b?y=%20z"], hits["/missing"]
	mu.Unlock()
	if a == 0 || b == 0 || missing == 0 {
		t.Errorf("hits /a %d, /b %d, /missing %d: want every path requested", a, b, missing)
	}
	if r.Requests < 30 || r.Errors.Status == 0 || r.Errors.Status > r.Requests/2 {
		t.Errorf("result %+v: want many requests, about a third of them 404s", r)
	}

	// Paced at 100 ms per request per connection and stopped after about 1 s of a 20 s run.
	stop := make(chan struct{})
	time.AfterFunc(time.Second, func() { close(stop) })
	start := time.Now()
	r, err = runWrk(context.Background(), cfg, srv.URL, paths[:1], t.TempDir(), 20*time.Second, 100*time.Millisecond, stop)
	if err != nil {
		t.Fatalf("runWrk paced: %v", err)
	}
	if el := time.Since(start); el > 8*time.Second {
		t.Errorf("stopped run took %v, want about 1 s", el)
	}
	if r.Requests < 5 || r.Requests > 40 {
		t.Errorf("paced run: %d requests in about 1 s on 2 connections at 100 ms, want about 20", r.Requests)
	}
}

func TestDatasetCache(t *testing.T) {
	t.Parallel()
	cfg := simweb.QuotesConfig{Pages: 10, PerPage: 100, Seed: 1}
	if got, want := datasetCacheName(cfg, "mabc"), "quotes-p10-n100-a2000-t500-s1-mabc.db"; got != want {
		t.Errorf("datasetCacheName = %q, want %q", got, want)
	}
	// The schema key changes with any migration's content.
	src := t.TempDir()
	mig := filepath.Join(src, "internal", "store", "sqlite", "migration")
	if k, err := schemaKey(src); k != "nosrc" || err != nil {
		t.Errorf("schemaKey without migrations = %q, %v; want nosrc", k, err)
	}
	os.MkdirAll(mig, 0o755)
	os.WriteFile(filepath.Join(mig, "0001_init.sql"), []byte("CREATE TABLE a (x);"), 0o644)
	k1, err1 := schemaKey(src)
	os.WriteFile(filepath.Join(mig, "0001_init.sql"), []byte("CREATE TABLE a (y);"), 0o644)
	k2, err2 := schemaKey(src)
	if err1 != nil || err2 != nil || k1 == k2 || len(k1) != 11 {
		t.Errorf("schemaKey before and after an edit: %q, %q (%v, %v); want two different keys", k1, k2, err1, err2)
	}
	if k, err := schemaKey(".."); err != nil || k == "nosrc" {
		t.Errorf("schemaKey(..) = %q, %v; want the trawl tree's migrations", k, err)
	}
	// A cached file is used as it is: the (missing) trawl binary is not run.
	dir := t.TempDir()
	path := filepath.Join(dir, datasetCacheName(cfg, "m5"))
	if err := os.WriteFile(path, []byte("db"), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := ensureDataset(context.Background(), "/nonexistent/trawl", dir, "m5", cfg, time.Minute, io.Discard)
	if err != nil || !g.Cached || g.Path != path || g.Items != 1000 {
		t.Errorf("ensureDataset = %+v, %v; want the cached file of 1000 items", g, err)
	}
	// Without a cached file it runs trawl, and a failure leaves no file behind.
	g, err = ensureDataset(context.Background(), "/nonexistent/trawl", dir, "m6", cfg, time.Minute, io.Discard)
	if err == nil {
		t.Fatalf("ensureDataset with a missing trawl: %+v, no error", g)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 1 {
		t.Errorf("files left in the cache: %q, want only the first one", left)
	}
}

// fakeService answers the routes the service-crawl harness uses, as trawl serve's API v1 does:
// the run goes queued -> running -> succeeded over three GETs.
func fakeService(t *testing.T) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var calls []string
	gets := 0
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /v1/spiders/{name}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/yaml" || !strings.Contains(string(b), "name: bench") {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			io.WriteString(w, `{"code":"invalid_spider","detail":"bad body"}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"name":"bench"}`)
	})
	mux.HandleFunc("POST /v1/spiders/{name}/runs", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("name") != "bench" {
			http.Error(w, `{"code":"not_found"}`, http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"id":7,"spider":"bench","status":"queued"}`)
	})
	mux.HandleFunc("GET /v1/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gets++
		n := gets
		mu.Unlock()
		switch {
		case r.PathValue("id") != "7":
			http.Error(w, `{"code":"not_found"}`, http.StatusNotFound)
		case n < 3:
			io.WriteString(w, `{"id":7,"status":"running","started_at":"2026-12-03T10:00:00Z"}`)
		default:
			io.WriteString(w, `{"id":7,"status":"succeeded","stats":{"pages":3},"started_at":"2026-12-03T10:00:00Z","finished_at":"2026-12-03T10:00:05.5Z"}`)
		}
	})
	mux.HandleFunc("GET /v1/datasets", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"datasets":[{"name":"other","items":3},{"name":"quotes","columns":["id"],"items":10000}]}`)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path)
		mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestAPIClient(t *testing.T) {
	t.Parallel()
	srv, calls := fakeService(t)
	c := newAPIClient(srv.URL)
	ctx := context.Background()
	if err := c.putSpider(ctx, "bench", "name: bench\n"); err != nil {
		t.Fatalf("putSpider: %v", err)
	}
	err := c.putSpider(ctx, "bench", "name: other\n")
	if err == nil || !strings.Contains(err.Error(), "422") || !strings.Contains(err.Error(), "bad body") {
		t.Errorf("putSpider of a rejected spider: %v, want the status and the problem", err)
	}
	if _, err := c.startRun(ctx, "nope"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("startRun of an unknown spider: %v, want a 404 error", err)
	}
	run, err := c.startRun(ctx, "bench")
	if err != nil || run.ID != 7 || run.Status != "queued" || run.final() {
		t.Fatalf("startRun = %+v, %v", run, err)
	}
	got, at, err := c.waitRun(ctx, run.ID, 5*time.Millisecond)
	if err != nil || got.Status != "succeeded" || at.IsZero() || got.FinishedAt.Sub(*got.StartedAt) != 5500*time.Millisecond {
		t.Fatalf("waitRun = %+v at %v, %v", got, at, err)
	}
	n, err := c.datasetItems(ctx, "quotes")
	if err != nil || n != 10000 {
		t.Errorf("datasetItems = %d, %v; want 10000", n, err)
	}
	if _, err := c.datasetItems(ctx, "missing"); err == nil {
		t.Error("datasetItems of a missing dataset: no error")
	}
	if got := strings.Join(*calls, ","); !strings.Contains(got, "GET /v1/runs/7,GET /v1/runs/7,GET /v1/runs/7") {
		t.Errorf("calls %s: want three polls of the run", got)
	}
	// waitRun gives up when its context ends.
	ctx2, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"id":1,"status":"running"}`)
	}))
	defer slow.Close()
	if _, _, err := newAPIClient(slow.URL).waitRun(ctx2, 1, 10*time.Millisecond); err == nil {
		t.Error("waitRun of a run that never ends: no error after the context ended")
	}
}

func TestLatencyQueries(t *testing.T) {
	t.Parallel()
	cfg := simweb.QuotesConfig{Pages: 1}.WithDefaults()
	qs := latencyQueries()
	want := map[string]int{"page of 50, unfiltered": 1, "author=NAME (exact)": 2000, "author=name&match=fold": 2000, "tags=TAG (list field)": 500}
	for _, q := range qs {
		paths := q.Paths(cfg)
		if len(paths) != want[q.Name] {
			t.Errorf("%s: %d paths, want %d", q.Name, len(paths), want[q.Name])
		}
		for _, p := range paths {
			if !strings.HasPrefix(p, "/v1/datasets/quotes/items?") || !strings.Contains(p, "limit=50") || strings.ContainsAny(p, " \n") {
				t.Fatalf("%s: path %q is not an escaped items query", q.Name, p)
			}
		}
	}
	if p := qs[1].Paths(cfg)[0]; p != "/v1/datasets/quotes/items?author=Albert+Einstein&limit=50" {
		t.Errorf("first author path %q", p)
	}
}

func TestServiceTables(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	lat := []latencyResult{
		{Query: "q", Items: 10000, Run: 1, Wrk: wrkResult{Requests: 100, DurationUS: 1e6, P50US: 1000, P99US: 4000}},
		{Query: "q", Items: 1000000, Run: 1, Wrk: wrkResult{Requests: 50, DurationUS: 1e6, P50US: 2000, P99US: 6000}},
	}
	if err := writeLatencyTable(&b, lat); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "1.50") || !strings.Contains(out, "1000000") {
		t.Errorf("latency table lacks the p99 ratio 1.50 or the large dataset:\n%s", out)
	}
	b.Reset()
	crawls := []crawlResult{
		{Mode: "trawl run", Run: 1, WallSeconds: 5, FloorSeconds: 5},
		{Mode: "service", Run: 1, WallSeconds: 5.25, FloorSeconds: 5},
		{Mode: "service + read load", Run: 1, WallSeconds: 5.5, FloorSeconds: 5, Load: &wrkResult{Requests: 500, DurationUS: 5e6, P99US: 3000}},
	}
	if err := writeCrawlTable(&b, crawls); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "+5.0%") || !strings.Contains(out, "+10.0%") || !strings.Contains(out, "100") || !strings.Contains(out, "median") {
		t.Errorf("crawl table lacks +5.0%%, +10.0%%, the load's 100 req/s or the medians:\n%s", out)
	}
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median(3,1,2) = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median(4,1,2,3) = %v", m)
	}
}

func TestParseFlagsService(t *testing.T) {
	t.Parallel()
	o, err := parseFlags([]string{"-scenario", "service-crawl", "-serve-args", "--max-runs 2  --log-format json"}, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags: %v", err)
	}
	if o.scenario.Web.Hosts != 50 || o.scenario.Concurrency != 100 || strings.Join(o.service.ServeArgs, "|") != "--max-runs|2|--log-format|json" {
		t.Errorf("service-crawl options: %+v %+v", o.scenario, o.service)
	}
	if !filepath.IsAbs(o.service.Wrk.Script) || !strings.HasSuffix(o.service.Wrk.Script, "wrk/paths.lua") {
		t.Errorf("wrk script %q, want an absolute path to wrk/paths.lua", o.service.Wrk.Script)
	}
	for _, args := range [][]string{
		{"-scenario", "items-api", "-items", "1234"},
		{"-scenario", "export", "-per-page", "0"},
		{"-scenario", "items-api", "-wrk-threads", "8", "-wrk-connections", "4"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q): no error", args)
		}
	}
}

// TestQuotesDatasetEndToEnd builds trawl, generates a small quotes dataset with it and reads it
// back with sqlite3: every quote stored once, with the generator's fields and types.
func TestQuotesDatasetEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs trawl")
	}
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("sqlite3 is not installed (apt-get install -y sqlite3)")
	}
	t.Parallel()
	dir := t.TempDir()
	tt := &trawlTool{src: ".."}
	if err := tt.Prepare(context.Background(), dir); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	cfg := simweb.QuotesConfig{Pages: 3, PerPage: 20, Seed: 3}
	g, err := ensureDataset(context.Background(), tt.bin, filepath.Join(dir, "cache"), "m5", cfg, 2*time.Minute, io.Discard)
	if err != nil {
		t.Fatalf("ensureDataset: %v", err)
	}
	out, err := exec.Command(sqlite3, "-readonly", g.Path,
		"SELECT data FROM items WHERE dataset = 'quotes' ORDER BY json_extract(data, '$.id')").Output()
	if err != nil {
		t.Fatalf("sqlite3: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 60 {
		t.Fatalf("%d items stored, want 60", len(lines))
	}
	for i, line := range lines {
		var got simweb.Quote
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("item %d: %v: %s", i, err, line)
		}
		want := cfg.WithDefaults().Quote(i)
		if got.ID != want.ID || got.Text != want.Text || got.Author != want.Author || got.Year != want.Year || strings.Join(got.Tags, ",") != strings.Join(want.Tags, ",") {
			t.Fatalf("item %d = %+v, want %+v", i, got, want)
		}
	}
	again, err := ensureDataset(context.Background(), tt.bin, filepath.Join(dir, "cache"), "m5", cfg, time.Minute, io.Discard)
	if err != nil || !again.Cached || again.Path != g.Path {
		t.Errorf("second ensureDataset = %+v, %v; want the cached file", again, err)
	}
}
