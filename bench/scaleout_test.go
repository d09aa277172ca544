package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/bench/simweb"
)

func TestParseWorkers(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]int{"1,2,4": {1, 2, 4}, " 3 , 1": {3, 1}, "": nil, "0": nil, "64": {64}} {
		got, err := parseWorkers(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("parseWorkers(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"1,x", "65", "-1", "1,,2", "0,1"} {
		if got, err := parseWorkers(in); err == nil {
			t.Errorf("parseWorkers(%q) = %v, want an error", in, got)
		}
	}
}

func TestParseFlagsScaleOut(t *testing.T) {
	t.Parallel()
	o, err := parseFlags([]string{"-scenario", "scale-out", "-workers", "1,3", "-pg-url", "postgres://postgres@127.0.0.1:5432/x"}, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags: %v", err)
	}
	w := o.scenario.Web
	if w.Hosts != 200 || w.PagesPerHost != 100 || w.LatencyMin != 20*time.Millisecond || w.LatencyMax != 80*time.Millisecond ||
		o.scenario.Concurrency != 32 || o.scenario.PerHost != 2 || w.RobotsDisallow != "" {
		t.Errorf("scale-out preset: %+v", o.scenario)
	}
	if !slices.Equal(o.scale.Workers, []int{1, 3}) || o.scale.PgURL != "postgres://postgres@127.0.0.1:5432/x" {
		t.Errorf("scale options: %+v", o.scale)
	}
	if o, _ := parseFlags([]string{"-scenario", "scale-out"}, io.Discard); !slices.Equal(o.scale.Workers, []int{1, 2, 4}) {
		t.Errorf("default -workers = %v, want 1,2,4", o.scale.Workers)
	}
	if _, err := parseFlags([]string{"-scenario", "scale-out", "-workers", "two"}, io.Discard); err == nil {
		t.Error("-workers two: no error")
	}
}

func TestScaleConfigs(t *testing.T) {
	t.Parallel()
	var names, dbs, dirs []string
	for _, c := range scaleConfigs([]int{1, 2}) {
		names = append(names, c.String())
		dbs = append(dbs, c.dbName(3))
		dirs = append(dirs, c.dirName(3))
	}
	if !slices.Equal(dirs, []string{"run-sqlite-3", "run-postgres-3", "workers1-3", "workers2-3"}) {
		t.Errorf("directories %q", dirs)
	}
	want := []string{"trawl run, SQLite", "trawl run, PostgreSQL", "serve + 1 worker", "serve + 2 workers"}
	if !slices.Equal(names, want) {
		t.Errorf("configs %q, want %q", names, want)
	}
	// Every PostgreSQL measurement gets its own database.
	if !slices.Equal(dbs[1:], []string{"bench_run_3", "bench_workers1_3", "bench_workers2_3"}) {
		t.Errorf("databases %q", dbs)
	}
}

func TestFloors(t *testing.T) {
	t.Parallel()
	st := simweb.Stats{InjectedDelay: 1000 * time.Second, HostDelayMax: 5 * time.Second}
	for _, tt := range []struct {
		slots     int
		wantFloor time.Duration
	}{
		{32, 31250 * time.Millisecond},    // one worker: the total delay over its 32 slots
		{128, 7812500 * time.Microsecond}, // four workers
		{1000, 2500 * time.Millisecond},   // more slots than the total needs: the slowest host sets the pace
		{0, 1000 * time.Second},           // no slots is one
	} {
		politeness, floor := floors(st, 2, tt.slots)
		if politeness != 2500*time.Millisecond || floor != tt.wantFloor {
			t.Errorf("floors(slots %d) = %v, %v; want 2.5s, %v", tt.slots, politeness, floor, tt.wantFloor)
		}
	}
}

func TestPolitenessViolation(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		st    simweb.Stats
		delay time.Duration
		want  string
	}{
		{simweb.Stats{MaxInFlightPerHost: 2, MinStartGap: 0}, 0, ""},
		{simweb.Stats{MaxInFlightPerHost: 3, MinStartGap: time.Second}, 0, "3 requests in flight to one host, limit 2"},
		{simweb.Stats{MaxInFlightPerHost: 1, MinStartGap: 150 * time.Millisecond}, 100 * time.Millisecond, ""},
		{simweb.Stats{MaxInFlightPerHost: 1, MinStartGap: 50 * time.Millisecond}, 100 * time.Millisecond, "50ms apart, delay 100ms"},
		{simweb.Stats{MaxInFlightPerHost: 1, MinStartGap: -1}, 100 * time.Millisecond, ""}, // no host got two requests
	} {
		got := politenessViolation(tt.st, 2, tt.delay)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("politenessViolation(%+v, delay %v) = %q, want %q", tt.st, tt.delay, got, tt.want)
		}
	}
}

func TestNewestPgBin(t *testing.T) {
	t.Parallel()
	dirs := []string{"/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/10/bin"}
	if got := newestPgBin(dirs); got != "/usr/lib/postgresql/16/bin" {
		t.Errorf("newestPgBin = %s, want 16", got)
	}
	if got := newestPgBin(dirs[:1]); got != dirs[0] {
		t.Errorf("newestPgBin of one = %s", got)
	}
}

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	// A command name with spaces and parentheses, as a PostgreSQL backend's can be.
	line := "4242 (postgres: a (b) c) S 100 4242 4242 0 -1 4194560 300 0 0 0 17 5 40 9 20 0 1 0 123 1000 50 18446744073709551615\n"
	st, err := parseProcStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if want := (procStat{ppid: 100, utime: 17, stime: 5, cutime: 40, cstime: 9}); st != want {
		t.Errorf("parseProcStat = %+v, want %+v", st, want)
	}
	if ticksToDuration(17+5) != 220*time.Millisecond {
		t.Errorf("22 ticks = %v, want 220ms", ticksToDuration(22))
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S x 1 1 0 -1 0 0 0 0 0 1 1 1 1"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q): no error", bad)
		}
	}
	// This process: its own stat parses, with its parent.
	self, err := readProcStat(os.Getpid())
	if err != nil || self.ppid != os.Getppid() {
		t.Errorf("readProcStat(self) = %+v, %v; want ppid %d", self, err, os.Getppid())
	}
}

func TestFillSpeedups(t *testing.T) {
	t.Parallel()
	rs := []scaleResult{
		{Mode: modeRunSQLite, Run: 1, Status: statusOK, PagesPerSec: 500},
		{Mode: modeWorkers, Workers: 1, Run: 1, Status: statusOK, PagesPerSec: 400},
		{Mode: modeWorkers, Workers: 2, Run: 1, Status: statusOK, PagesPerSec: 760},
		{Mode: modeWorkers, Workers: 4, Run: 1, Status: statusFailed, PagesPerSec: 100},
		{Mode: modeWorkers, Workers: 2, Run: 2, Status: statusOK, PagesPerSec: 700}, // run 2 has no 1-worker figure
	}
	fillSpeedups(rs)
	var got []float64
	for _, r := range rs {
		got = append(got, r.SpeedupVsOne)
	}
	if want := []float64{0, 1, 1.9, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("speed-ups %v, want %v", got, want)
	}
}

func TestWriteScaleTable(t *testing.T) {
	t.Parallel()
	rep := scaleReport{
		Description: "scale-out: test", Postgres: "external", Machine: machine{CPUs: 2}, Concurrency: 32, PerHost: 2,
		Results: []scaleResult{
			{Config: "trawl run, PostgreSQL", Mode: modeRunPostgres, Run: 1, Status: statusOK, Pages: 20000, PagesExpected: 20000,
				RunSeconds: 40, PagesPerSec: 500, FloorSeconds: 32, PolitenessFloor: 3.1, CPUSeconds: 30, PostgresCPU: 10, BenchCPU: 7.5, MachineBusy: 0.87,
				PeakRSSKiB: 80 << 10, Commits: 8000, CommitsPerSec: 200, Deadlocks: 22, MaxInFlightByHost: 2, MinStartGapMS: 0.01},
			{Config: "serve + 2 workers", Mode: modeWorkers, Workers: 2, Run: 1, Status: statusImpolite, Error: "3 requests in flight to one host, limit 2",
				Pages: 20000, PagesExpected: 20000, RunSeconds: 20, PagesPerSec: 1000, SpeedupVsOne: 1.9, MaxInFlightByHost: 3},
			{Config: "serve + 4 workers", Mode: modeWorkers, Workers: 4, Run: 1, Status: statusUnavailable, Error: "no worker"},
			{Config: "serve + 4 workers", Mode: modeWorkers, Workers: 4, Run: 2, Status: statusUnavailable, Error: "no worker"},
		},
	}
	var b bytes.Buffer
	if err := writeScaleTable(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"PostgreSQL: external; 2 CPUs; per process --concurrency 32",
		"20000/20000  40.00    500",
		"1.25", // run / floor
		"2.00", // CPU ms/page: (30 + 10) s / 20000 pages
		"7.5          87%",
		"0.40          22", // commits/page, deadlocks
		"1.90x",
		"serve + 2 workers, run 1: impolite: 3 requests in flight to one host, limit 2",
		"politeness floor (slowest host's delay / per-host 2): 3.10s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "no worker"); n != 1 {
		t.Errorf("the same error printed %d times, want once:\n%s", n, out)
	}
	if !scaleFailed(rep.Results) || scaleFailed(rep.Results[2:]) || scaleFailed(rep.Results[:1]) {
		t.Error("scaleFailed: want true with an impolite row, false with only ok and unavailable rows")
	}
}

// fakeWorkerEnv makes the test binary act as `trawl worker` (see TestMain): "ready" serves
// /readyz until SIGTERM, "exit" fails at once.
const fakeWorkerEnv = "BENCH_FAKE_WORKER"

// fakeWorker is a stand-in `trawl worker --db DB --concurrency N --addr ADDR ...`.
func fakeWorker(mode string, args []string) int {
	if mode == "exit" {
		fmt.Fprintln(os.Stderr, "fake worker: cannot reach the database")
		return 1
	}
	i := slices.Index(args, "--addr")
	if len(args) < 2 || args[0] != "worker" || i < 0 || i+1 >= len(args) || !slices.Contains(args, "--allow-private-networks") {
		fmt.Fprintf(os.Stderr, "fake worker: bad arguments %q\n", args)
		return 2
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ready") })
	srv := &http.Server{Addr: args[i+1], Handler: mux}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "fake worker: %v\n", err)
		return 1
	}
	return 0
}

// TestWorkerProcess starts fake `trawl worker` children: one becomes ready and stops cleanly on
// SIGTERM, its CPU and peak RSS counted; one that exits at once is reported with its log.
func TestWorkerProcess(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx := context.Background()

	t.Setenv(fakeWorkerEnv, "ready")
	w, err := startWorker(self, "postgres://x", 32, dir+"/worker.log")
	if err != nil {
		t.Fatalf("startWorker: %v", err)
	}
	if err := w.waitReady(ctx, 10*time.Second); err != nil {
		w.stop()
		t.Fatalf("waitReady: %v", err)
	}
	if err := w.stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	var m crawlMeasure
	m.addUsage(w.cmd.ProcessState)
	m.addUsage(w.cmd.ProcessState)
	if m.cpu <= 0 || m.peakRSS <= 0 || m.sumRSS != 2*m.peakRSS {
		t.Errorf("usage of two stops of one worker: %+v", m)
	}

	t.Setenv(fakeWorkerEnv, "exit")
	w, err = startWorker(self, "postgres://x", 32, dir+"/bad.log")
	if err != nil {
		t.Fatalf("startWorker: %v", err)
	}
	err = w.waitReady(ctx, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the database") {
		t.Errorf("waitReady of a worker that exits: %v, want its log tail", err)
	}
	if err := w.stop(); err == nil {
		t.Error("stop of a worker that failed: no error")
	}
}

func TestParseStatements(t *testing.T) {
	t.Parallel()
	out := "12\x1f3456.5\x1f12\x1fSELECT a | b FROM t WHERE x = $1\n" +
		"bad line\n" +
		"x\x1f1\x1f1\x1fq\n" +
		"7\x1f0.25\x1f0\x1fCOMMIT"
	got := parseStatements(out)
	want := []pgStatement{
		{Calls: 12, TotalMS: 3456.5, Rows: 12, Query: "SELECT a | b FROM t WHERE x = $1"},
		{Calls: 7, TotalMS: 0.25, Rows: 0, Query: "COMMIT"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parseStatements = %+v, want %+v", got, want)
	}
}

func TestParseMachineTicks(t *testing.T) {
	t.Parallel()
	busy, total, err := parseMachineTicks([]byte("cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 50 2 25 400 20 1 1 0 0 0\n"))
	if err != nil || busy != 160 || total != 1000 {
		t.Errorf("parseMachineTicks = %d, %d, %v; want 160 busy of 1000", busy, total, err)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 3", "cpu 1 2 3 x 5 6 7 8"} {
		if _, _, err := parseMachineTicks([]byte(bad)); err == nil {
			t.Errorf("parseMachineTicks(%q): no error", bad)
		}
	}
	// A window over some work on this machine: the bench's own CPU grows, the machine was busy.
	var w cpuWindow
	w.begin()
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	w.end()
	if w.benchCPU() <= 0 || w.machineBusy() <= 0 || w.machineBusy() > 1 {
		t.Errorf("window over 50 ms of spinning: bench CPU %v, machine busy %v", w.benchCPU(), w.machineBusy())
	}
	if (cpuWindow{}).machineBusy() != 0 || (cpuWindow{}).benchCPU() != 0 {
		t.Error("a window never begun reports CPU")
	}
}

func TestParseCounters(t *testing.T) {
	t.Parallel()
	got, err := parseCounters("4321\x1f22")
	if err != nil || got != (dbCounters{Commits: 4321, Deadlocks: 22}) {
		t.Errorf("parseCounters = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "4321", "x\x1f1", "1\x1f2\x1f3"} {
		if _, err := parseCounters(bad); err == nil {
			t.Errorf("parseCounters(%q): no error", bad)
		}
	}
}
