package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/bench/simweb"
)

// fakeServeEnv makes the test binary act as `trawl serve` (see TestMain), so that the harness's
// process handling is tested against a real child process over real HTTP without trawl.
const fakeServeEnv = "BENCH_FAKE_SERVE_ITEMS"

func TestMain(m *testing.M) {
	if n := os.Getenv(fakeServeEnv); n != "" {
		os.Exit(fakeServe(n, os.Args[1:]))
	}
	if mode := os.Getenv(fakeWorkerEnv); mode != "" {
		os.Exit(fakeWorker(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeServe serves, until SIGTERM, a dataset "quotes" of n items with the routes the harness
// reads: /healthz, /v1/datasets, items pages (filters are accepted and ignored) and the CSV and
// JSONL exports. args are trawl serve's: serve --db FILE --addr ADDR.
func fakeServe(n string, args []string) int {
	items, err := strconv.Atoi(n)
	if err != nil || len(args) < 5 || args[0] != "serve" || args[1] != "--db" || args[3] != "--addr" {
		fmt.Fprintf(os.Stderr, "fake serve: bad arguments %q\n", args)
		return 2
	}
	if _, err := os.Stat(args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "fake serve: %v\n", err)
		return 2
	}
	cfg := simweb.QuotesConfig{Pages: 1, PerPage: 50}.WithDefaults()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("GET /v1/datasets", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"datasets":[{"name":"quotes","columns":["id","text"],"items":%d}]}`, items)
	})
	mux.HandleFunc("GET /v1/datasets/quotes/items", func(w http.ResponseWriter, r *http.Request) {
		page, _ := cfg.Page(1)
		json.NewEncoder(w).Encode(map[string]any{"items": page.Quotes})
	})
	mux.HandleFunc("GET /v1/datasets/quotes/items.jsonl", func(w http.ResponseWriter, r *http.Request) {
		for i := range items {
			fmt.Fprintf(w, `{"id":%d}`+"\n", i)
		}
	})
	mux.HandleFunc("GET /v1/datasets/quotes/items.csv", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "id\n")
		for i := range items {
			fmt.Fprintf(w, "%d\n", i)
		}
	})
	srv := &http.Server{Addr: args[4], Handler: mux}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		fmt.Fprintf(os.Stderr, "fake serve: %v\n", err)
		return 1
	}
	return 0
}

// TestServeHarness runs the latency and export measurements against a fake `trawl serve` child
// process: readiness, wrk on every query, the export's byte and line counts, VmHWM, and a clean
// stop on SIGTERM.
func TestServeHarness(t *testing.T) {
	wrkBin, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk is not installed (apt-get install -y wrk)")
	}
	t.Setenv(fakeServeEnv, "1000")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := dir + "/quotes.db"
	if err := os.WriteFile(db, []byte("db"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := options{timeout: time.Minute, runs: 1, service: serviceOptions{
		Items: 1000, SmallItems: 100, PerPage: 100,
		Wrk: wrkConfig{Bin: wrkBin, Script: "wrk/paths.lua", Threads: 1, Connections: 2, Duration: time.Second},
	}}
	ctx := context.Background()

	if _, err := startServe(ctx, self, dir+"/missing.db", dir+"/bad.log", nil, 10*time.Second); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("startServe on a missing file: %v, want an error saying it exited", err)
	}

	srv, err := startServe(ctx, self, db, dir+"/serve.log", nil, 10*time.Second)
	if err != nil {
		t.Fatalf("startServe: %v", err)
	}
	cfg, _ := o.service.quotesConfig(1000)
	rs, err := latencyOnServer(ctx, o, srv, cfg, 1000, 1, dir, io.Discard)
	if err != nil {
		t.Fatalf("latencyOnServer: %v", err)
	}
	if len(rs) != len(latencyQueries()) {
		t.Fatalf("%d latency results, want one per query", len(rs))
	}
	for _, r := range rs {
		if r.Wrk.Requests < 10 || r.Wrk.P99US <= 0 || r.FirstPage != 50 {
			t.Errorf("%s: %+v", r.Query, r)
		}
	}
	if _, err := latencyOnServer(ctx, o, srv, cfg, 999, 1, dir, io.Discard); err == nil {
		t.Error("latencyOnServer with a wrong item count: no error")
	}
	if err := srv.stop(); err != nil {
		t.Errorf("stop: %v", err)
	}

	for _, format := range []string{"csv", "jsonl"} {
		r, err := exportFromServer(ctx, o, self, dir, generated{Path: db, Items: 1000}, format, 1)
		if err != nil {
			t.Fatalf("exportFromServer %s: %v", format, err)
		}
		wantLines := int64(1000)
		if format == "csv" {
			wantLines++
		}
		if r.Lines != wantLines || r.Bytes < 3000 || r.HWMBefore <= 0 || r.HWMAfter < r.HWMBefore || r.MBPerSec <= 0 {
			t.Errorf("export %s: %+v", format, r)
		}
	}
	if _, err := exportFromServer(ctx, o, self, dir, generated{Path: db, Items: 999}, "jsonl", 1); err == nil {
		t.Error("exportFromServer with a wrong item count: no error")
	}
}
