package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/trawl-dev/trawl/bench/simweb"
)

// The scale-out scenario (issue 7) measures trawl on PostgreSQL: one `trawl run` on SQLite, one
// on PostgreSQL, and `trawl serve --max-runs 0` with 1, 2, 4… `trawl worker` processes sharing one
// database, side by side on the same many-host web.
const scenarioScaleOut = "scale-out"

// Modes of the scale-out scenario.
const (
	modeRunSQLite   = "trawl run, SQLite"
	modeRunPostgres = "trawl run, PostgreSQL"
	modeWorkers     = "serve + workers"
)

// Statuses of a scale-out measurement besides those of report.go.
const (
	statusImpolite   = "impolite"   // a host saw more requests in flight, or closer together, than its limits
	statusIncomplete = "incomplete" // the server did not serve every page
	statusDuplicates = "duplicates" // a page was fetched more than once (no fault asks for a retry here)
)

// scaleOptions are the knobs of the scale-out scenario.
type scaleOptions struct {
	Workers []int  `json:"workers"`          // worker counts to measure
	PgURL   string `json:"pg_url,omitempty"` // an existing server; empty: the bench starts one
}

// parseWorkers parses -workers: a comma-separated list of worker counts, each 1 to 64, or "" / "0"
// for none (only the `trawl run` rows).
func parseWorkers(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return nil, nil
	}
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 64 {
			return nil, fmt.Errorf("-workers %q: want a comma-separated list of counts from 1 to 64", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// scaleConfig is one configuration measured: a mode and, for modeWorkers, the number of workers.
type scaleConfig struct {
	Mode    string
	Workers int
}

func (c scaleConfig) String() string {
	if c.Mode == modeWorkers {
		return fmt.Sprintf("serve + %d worker%s", c.Workers, map[bool]string{true: "s"}[c.Workers > 1])
	}
	return c.Mode
}

// processes is the number of crawling processes of the configuration.
func (c scaleConfig) processes() int { return max(1, c.Workers) }

// dbName is the PostgreSQL database of the configuration's run-th measurement.
func (c scaleConfig) dbName(run int) string {
	if c.Mode == modeWorkers {
		return fmt.Sprintf("bench_workers%d_%d", c.Workers, run)
	}
	return fmt.Sprintf("bench_run_%d", run)
}

// dirName is the work directory of the configuration's run-th measurement.
func (c scaleConfig) dirName(run int) string {
	switch c.Mode {
	case modeRunSQLite:
		return fmt.Sprintf("run-sqlite-%d", run)
	case modeRunPostgres:
		return fmt.Sprintf("run-postgres-%d", run)
	}
	return fmt.Sprintf("workers%d-%d", c.Workers, run)
}

// scaleConfigs returns the configurations in the order they are measured.
func scaleConfigs(workers []int) []scaleConfig {
	cs := []scaleConfig{{Mode: modeRunSQLite}, {Mode: modeRunPostgres}}
	for _, n := range workers {
		cs = append(cs, scaleConfig{Mode: modeWorkers, Workers: n})
	}
	return cs
}

// scaleResult is one measurement of one configuration.
type scaleResult struct {
	Config  string `json:"config"`
	Mode    string `json:"mode"`
	Workers int    `json:"workers,omitempty"`
	Run     int    `json:"run"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`

	RunStatus   string  `json:"run_status,omitempty"` // the run's final status, as trawl reports it
	Pages       int64   `json:"pages"`                // the run's stats.pages
	RunSeconds  float64 `json:"run_s"`                // finished_at - started_at
	PagesPerSec float64 `json:"pages_per_s"`          // Pages / RunSeconds
	WallSeconds float64 `json:"wall_s"`               // trawl run: process start to exit; service: POST to final status seen

	FloorSeconds      float64 `json:"floor_s"`            // max(politeness floor, total delay / slots)
	PolitenessFloor   float64 `json:"politeness_floor_s"` // the slowest host's delay / per-host concurrency
	Slots             int     `json:"slots"`              // requests in flight at once: min(hosts × per-host, processes × concurrency)
	SpeedupVsOne      float64 `json:"speedup_vs_1_worker,omitempty"`
	CPUSeconds        float64 `json:"cpu_s"`                    // user + system of every trawl process
	PostgresCPU       float64 `json:"postgres_cpu_s,omitempty"` // the bench's own PostgreSQL server, all processes
	BenchCPU          float64 `json:"bench_cpu_s"`              // the bench's own process (the simulated web) during the crawl
	MachineBusy       float64 `json:"machine_busy"`             // fraction of all CPUs busy during the crawl, other work included
	PeakRSSKiB        int64   `json:"peak_rss_kib"`             // the largest peak RSS of one trawl process
	SumPeakRSSKiB     int64   `json:"sum_peak_rss_kib"`         // the peaks of all trawl processes added up
	Commits           int64   `json:"commits,omitempty"`        // pg_stat_database.xact_commit delta of the run's database
	CommitsPerSec     float64 `json:"commits_per_s,omitempty"`
	Deadlocks         int64   `json:"deadlocks"` // pg_stat_database.deadlocks delta of the run's database
	PagesServed       int     `json:"pages_served"`
	PagesExpected     int     `json:"pages_expected"`
	Requests          int     `json:"requests"`
	Duplicates        int     `json:"duplicates"`
	MaxInFlightByHost int     `json:"max_in_flight_per_host"`
	MinStartGapMS     float64 `json:"min_start_gap_ms"` // -1: no host got two requests
	// Statements are the run database's statements that took the most time (pg_stat_statements).
	Statements []pgStatement `json:"statements,omitempty"`
}

// scaleReport is the JSON output of the scale-out scenario.
type scaleReport struct {
	Scenario    string        `json:"scenario"`
	Description string        `json:"description"`
	Started     time.Time     `json:"started"`
	Machine     machine       `json:"machine"`
	Web         simweb.Config `json:"web"`
	Concurrency int           `json:"concurrency"` // per process
	PerHost     int           `json:"per_host"`
	Options     scaleOptions  `json:"options"`
	Postgres    string        `json:"postgres"` // "bench's own (VERSION)" or "external"
	Results     []scaleResult `json:"results"`
}

// floors returns the politeness floor of a crawl that got the stats st — its slowest host's
// injected delay over its per-host concurrency: no polite crawler, however many processes it
// runs, finishes sooner — and the floor of slots requests in flight at once, which is the larger
// of that and the total injected delay over the slots.
func floors(st simweb.Stats, perHost, slots int) (politeness, floor time.Duration) {
	politeness = st.HostDelayMax / time.Duration(max(1, perHost))
	floor = max(politeness, st.InjectedDelay/time.Duration(max(1, slots)))
	return politeness, floor
}

// politenessViolation describes how st exceeds the limits (perHost requests in flight, delay
// between two starts at one host), or returns "" when it does not.
func politenessViolation(st simweb.Stats, perHost int, delay time.Duration) string {
	var v []string
	if st.MaxInFlightPerHost > perHost {
		v = append(v, fmt.Sprintf("%d requests in flight to one host, limit %d", st.MaxInFlightPerHost, perHost))
	}
	if delay > 0 && st.MinStartGap >= 0 && st.MinStartGap < delay {
		v = append(v, fmt.Sprintf("two requests to one host %v apart, delay %v", st.MinStartGap, delay))
	}
	return strings.Join(v, "; ")
}

// runScaleOut runs the scale-out scenario and prints its table. An error means the bench could
// not run; a configuration that failed is a result, and reported by the caller's exit status.
func runScaleOut(ctx context.Context, o options, stdout, progress io.Writer) (scaleReport, error) {
	sc := o.scenario
	webCfg := sc.Web.WithDefaults()
	rep := scaleReport{
		Scenario: sc.Name, Description: sc.describe(webCfg), Started: time.Now().UTC(), Machine: thisMachine(),
		Web: webCfg, Concurrency: sc.Concurrency, PerHost: sc.PerHost, Options: o.scale,
	}
	logf := func(format string, args ...any) { fmt.Fprintf(progress, format, args...) }
	work, err := os.MkdirTemp("", "trawl-bench-")
	if err != nil {
		return rep, fmt.Errorf("create work directory: %w", err)
	}
	if o.keep {
		logf("work directory: %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	tt := &trawlTool{src: o.trawlSrc, bin: o.trawlBin}
	logf("preparing trawl\n")
	if err := tt.Prepare(ctx, work); err != nil {
		return rep, err
	}
	var pg *pgServer
	if o.scale.PgURL != "" {
		pg, err = externalPostgres(o.scale.PgURL)
		rep.Postgres = "external"
	} else {
		pg, err = startPostgres(ctx, o.keep, logf)
		if err == nil {
			rep.Postgres = "bench's own (" + filepath.Base(filepath.Dir(pg.bin)) + ", fsync=off)"
		}
	}
	if err != nil {
		return rep, err
	}
	defer pg.stop()
	workerErr := hasWorker(ctx, tt.bin)
	if workerErr != nil && len(o.scale.Workers) > 0 {
		logf("trawl worker unavailable, skipping the worker rows: %v\n", workerErr)
	}
	for run := 1; run <= o.runs; run++ {
		for _, c := range scaleConfigs(o.scale.Workers) {
			if err := ctx.Err(); err != nil {
				return rep, fmt.Errorf("interrupted: %w", err)
			}
			r := scaleResult{Config: c.String(), Mode: c.Mode, Workers: c.Workers, Run: run}
			if c.Mode == modeWorkers && workerErr != nil {
				r.Status, r.Error = statusUnavailable, workerErr.Error()
				rep.Results = append(rep.Results, r)
				continue
			}
			dir := filepath.Join(work, c.dirName(run))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return rep, fmt.Errorf("create run directory: %w", err)
			}
			logf("%s, run %d\n", c, run)
			r = measureScale(ctx, o, tt.bin, pg, c, run, dir, r)
			logf("%s, run %d: %s, %d pages in %.2fs (%.0f pages/s, floor %.2fs), CPU %.1fs, %d commits; max %d in flight per host%s\n",
				c, run, r.Status, r.Pages, r.RunSeconds, r.PagesPerSec, r.FloorSeconds, r.CPUSeconds, r.Commits,
				r.MaxInFlightByHost, errSuffix(r.Error))
			rep.Results = append(rep.Results, r)
		}
	}
	fillSpeedups(rep.Results)
	return rep, writeScaleTable(stdout, rep)
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return ": " + e
}

// hasWorker reports whether the trawl binary has the worker command.
func hasWorker(ctx context.Context, bin string) error {
	out, err := exec.CommandContext(ctx, bin, "worker", "--help").CombinedOutput()
	if err != nil {
		first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return fmt.Errorf("trawl worker --help: %w: %s", err, first)
	}
	return nil
}

// measureScale measures one configuration on a fresh simulated web and a fresh database.
func measureScale(ctx context.Context, o options, bin string, pg *pgServer, c scaleConfig, run int, dir string, r scaleResult) scaleResult {
	sc := o.scenario
	web, err := simweb.Start(sc.Web)
	if err != nil {
		r.Status, r.Error = statusFailed, fmt.Sprintf("start simulated web: %v", err)
		return r
	}
	var db, dbName string
	if c.Mode != modeRunSQLite {
		dbName = c.dbName(run)
		if db, err = pg.createDB(ctx, dbName); err != nil {
			web.Close()
			r.Status, r.Error = statusFailed, err.Error()
			return r
		}
		if !pg.own() { // the bench's own server goes away with its databases
			defer pg.dropDB(context.WithoutCancel(ctx), dbName)
		}
	}
	var m crawlMeasure
	if c.Mode == modeWorkers {
		m, err = crawlWithWorkers(ctx, o, bin, pg, db, dbName, c.Workers, dir, web)
	} else {
		if c.Mode == modeRunSQLite {
			db = filepath.Join(dir, "bench.db")
		}
		m, err = crawlWithTrawlRun(ctx, o, bin, pg, db, dbName, dir, web)
	}
	if cerr := web.Close(); err == nil && cerr != nil {
		err = cerr
	}
	st := web.Stats()
	r.RunStatus, r.Pages = m.run.Status, m.run.pages()
	if m.run.StartedAt != nil && m.run.FinishedAt != nil {
		r.RunSeconds = m.run.FinishedAt.Sub(*m.run.StartedAt).Seconds()
		if r.RunSeconds > 0 {
			r.PagesPerSec = float64(r.Pages) / r.RunSeconds
		}
	}
	r.WallSeconds = m.wall.Seconds()
	r.CPUSeconds = m.cpu.Seconds()
	r.PostgresCPU = m.pgCPU.Seconds()
	r.PeakRSSKiB, r.SumPeakRSSKiB = m.peakRSS, m.sumRSS
	r.Commits, r.Deadlocks = m.commits, m.deadlocks
	r.BenchCPU, r.MachineBusy = m.window.benchCPU().Seconds(), m.window.machineBusy()
	r.Statements = m.top
	if r.RunSeconds > 0 {
		r.CommitsPerSec = float64(m.commits) / r.RunSeconds
	}
	r.Slots = min(web.Config().Hosts*sc.PerHost, c.processes()*sc.Concurrency)
	pf, f := floors(st, sc.PerHost, r.Slots)
	r.PolitenessFloor, r.FloorSeconds = pf.Seconds(), f.Seconds()
	r.PagesServed, r.PagesExpected = st.PagesServed, st.ExpectedPages
	r.Requests, r.Duplicates = st.Requests, st.Duplicates
	r.MaxInFlightByHost = st.MaxInFlightPerHost
	r.MinStartGapMS = -1
	if st.MinStartGap >= 0 {
		r.MinStartGapMS = float64(st.MinStartGap) / float64(time.Millisecond)
	}
	v := politenessViolation(st, sc.PerHost, 0)
	switch {
	case err != nil:
		r.Status, r.Error = statusFailed, err.Error()
	case v != "":
		r.Status, r.Error = statusImpolite, v
	case m.run.Status != "succeeded":
		r.Status, r.Error = statusFailed, fmt.Sprintf("run ended %s: %s", m.run.Status, m.run.Error)
	case st.PagesServed < st.ExpectedPages:
		r.Status, r.Error = statusIncomplete, fmt.Sprintf("%d of %d pages served", st.PagesServed, st.ExpectedPages)
	case st.Duplicates > 0:
		r.Status, r.Error = statusDuplicates, fmt.Sprintf("%d repeated fetches of a page", st.Duplicates)
	default:
		r.Status = statusOK
	}
	if v != "" && r.Status != statusImpolite {
		r.Error += "; impolite: " + v
	}
	return r
}

// crawlMeasure is what one crawl cost, whatever ran it.
type crawlMeasure struct {
	run       apiRun
	wall      time.Duration
	cpu       time.Duration // every trawl process
	pgCPU     time.Duration // the bench's own PostgreSQL server
	peakRSS   int64         // KiB
	sumRSS    int64         // KiB
	commits   int64
	deadlocks int64
	top       []pgStatement
	window    cpuWindow // the bench's own CPU and the machine's, over the crawl
}

// cpuWindow is the CPU used during a crawl by the bench's own process (the simulated web, mostly)
// and by the whole machine (every process, other work included).
type cpuWindow struct {
	self0, self1      time.Duration
	busy0, busy1      int64 // /proc/stat ticks, all CPUs
	total0, total1    int64
	started, finished bool
}

// selfCPU returns the user + system time of the bench's process so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (w *cpuWindow) begin() {
	w.self0 = selfCPU()
	w.busy0, w.total0, _ = machineTicks()
	w.started = true
}

func (w *cpuWindow) end() {
	if !w.started {
		return
	}
	w.self1 = selfCPU()
	w.busy1, w.total1, _ = machineTicks()
	w.finished = true
}

// benchCPU returns the bench process's CPU over the window.
func (w cpuWindow) benchCPU() time.Duration {
	if !w.finished {
		return 0
	}
	return w.self1 - w.self0
}

// machineBusy returns the fraction of the machine's CPU time that was busy over the window.
func (w cpuWindow) machineBusy() float64 {
	if !w.finished || w.total1 <= w.total0 {
		return 0
	}
	return float64(w.busy1-w.busy0) / float64(w.total1-w.total0)
}

// machineTicks reads the first line of /proc/stat: the busy and total time of all CPUs, in ticks.
func machineTicks() (busy, total int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	return parseMachineTicks(b)
}

// parseMachineTicks parses /proc/stat's "cpu user nice system idle iowait irq softirq steal ..."
// line; idle and iowait are not busy. guest times are already in user and nice.
func parseMachineTicks(b []byte) (busy, total int64, err error) {
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("malformed /proc/stat line %.80q", line)
	}
	for i, x := range f[1:9] { // user nice system idle iowait irq softirq steal
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %w", err)
		}
		total += n
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy, total, nil
}

// pages returns the run's stats.pages.
func (r apiRun) pages() int64 {
	var s struct {
		Pages int64 `json:"pages"`
	}
	if len(r.Stats) > 0 {
		json.Unmarshal(r.Stats, &s)
	}
	return s.Pages
}

// addUsage adds a finished process's CPU time and peak RSS to m.
func (m *crawlMeasure) addUsage(ps *os.ProcessState) {
	if ps == nil {
		return
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		m.cpu += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		m.peakRSS = max(m.peakRSS, ru.Maxrss)
		m.sumRSS += ru.Maxrss
	}
}

// scalePoll is how often the run is polled for its final status. Its times come from the run
// (started_at, finished_at), not from the polling; every GET is a transaction on the run's database,
// so polling more often would add to the commits measured.
const scalePoll = 250 * time.Millisecond

// topStatements is the number of statements reported per PostgreSQL measurement.
const topStatements = 4

// pgBaseline reads the database's commit count and the server's CPU before a crawl; the returned
// function reads them again after it and stores the differences in m.
func pgBaseline(ctx context.Context, pg *pgServer, dbName string, m *crawlMeasure) (func() error, error) {
	c0, err := pg.counters(ctx, dbName)
	if err != nil {
		return nil, err
	}
	var cpu0 time.Duration
	if pg.own() {
		if cpu0, err = pg.cpu(); err != nil {
			return nil, err
		}
	}
	return func() error {
		c1, err := pg.counters(ctx, dbName)
		if err != nil {
			return err
		}
		m.commits, m.deadlocks = c1.Commits-c0.Commits, c1.Deadlocks-c0.Deadlocks
		m.top = pg.topStatements(ctx, dbName, topStatements)
		if pg.own() {
			cpu1, err := pg.cpu()
			if err != nil {
				return err
			}
			m.pgCPU = cpu1 - cpu0
		}
		return nil
	}, nil
}

// crawlWithTrawlRun crawls web with `trawl run --db db --concurrency N`, then reads the run back
// through a `trawl serve` on the same database (run 1 of a fresh database), for its times to the
// millisecond. On PostgreSQL (dbName set) it also counts the commits and the server's CPU.
func crawlWithTrawlRun(ctx context.Context, o options, bin string, pg *pgServer, db, dbName, dir string, web *simweb.Web) (crawlMeasure, error) {
	var m crawlMeasure
	spiderPath := filepath.Join(dir, "bench.yaml")
	if err := os.WriteFile(spiderPath, []byte(trawlSpider(web, o.scenario.PerHost)), 0o644); err != nil {
		return m, fmt.Errorf("write spider: %w", err)
	}
	var after func() error
	if dbName != "" {
		var err error
		if after, err = pgBaseline(ctx, pg, dbName, &m); err != nil {
			return m, err
		}
	}
	argv := []string{bin, "run", spiderPath, "--db", db, "--concurrency", strconv.Itoa(o.scenario.Concurrency), "--quiet"}
	m.window.begin()
	pm := measure(ctx, argv, dir, filepath.Join(dir, "trawl.log"), o.timeout)
	m.window.end()
	m.wall, m.cpu, m.peakRSS, m.sumRSS = pm.Wall, pm.CPU, pm.MaxRSS, pm.MaxRSS
	if pm.Err != nil {
		return m, pm.Err
	}
	if after != nil {
		if err := after(); err != nil {
			return m, err
		}
	}
	srv, err := startServe(ctx, bin, db, filepath.Join(dir, "serve-readback.log"), nil, time.Minute)
	if err != nil {
		return m, fmt.Errorf("read the run back: %w", err)
	}
	defer srv.stop()
	if m.run, err = newAPIClient(srv.base).getRun(ctx, 1); err != nil {
		return m, fmt.Errorf("read the run back: %w", err)
	}
	return m, srv.stop()
}

// workerProc is a running `trawl worker`.
type workerProc struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT of its /healthz, /readyz and /metrics
	logPath string
	exited  chan struct{}
	waitErr error
}

// startWorker runs `trawl worker --db db --concurrency N --addr 127.0.0.1:PORT
// --allow-private-networks` in its own process group.
func startWorker(bin, db string, concurrency int, logPath string) (*workerProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create worker log: %w", err)
	}
	defer logFile.Close()
	argv := []string{bin, "worker", "--db", db, "--concurrency", strconv.Itoa(concurrency), "--addr", addr, "--allow-private-networks"}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", shortCommand(argv), err)
	}
	w := &workerProc{cmd: cmd, base: "http://" + addr, logPath: logPath, exited: make(chan struct{})}
	go func() { w.waitErr = cmd.Wait(); close(w.exited) }()
	return w, nil
}

// waitReady polls GET /readyz until it answers 200, the worker exits or timeout passes.
func (w *workerProc) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		if resp, err := client.Get(w.base + "/readyz"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-w.exited:
			return fmt.Errorf("trawl worker exited before it was ready: %v; log tail: %s", w.waitErr, tail(w.logPath, 600))
		case <-ctx.Done():
			return fmt.Errorf("waiting for trawl worker: %w", context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("trawl worker not ready after %v; log tail: %s", timeout, tail(w.logPath, 600))
		}
	}
}

// stop sends SIGTERM and kills the group if the worker has not exited within 30 seconds; it
// returns an error when the worker did not exit cleanly.
func (w *workerProc) stop() error {
	select {
	case <-w.exited:
		return w.waitErr
	default:
	}
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(30 * time.Second):
		syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
		<-w.exited
		return fmt.Errorf("trawl worker ignored SIGTERM for 30s; killed")
	}
	syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
	if w.waitErr != nil {
		return fmt.Errorf("trawl worker: %w; log tail: %s", w.waitErr, tail(w.logPath, 600))
	}
	return nil
}

// crawlWithWorkers crawls web with `trawl serve --max-runs 0` (the API only) and n workers on the
// PostgreSQL database db: every process is ready before the run is submitted (PUT the spider,
// POST a run), the run is polled until its status is final, then every process is stopped with
// SIGTERM and its CPU and peak RSS added up.
func crawlWithWorkers(ctx context.Context, o options, bin string, pg *pgServer, db, dbName string, n int, dir string, web *simweb.Web) (m crawlMeasure, err error) {
	srv, err := startServe(ctx, bin, db, filepath.Join(dir, "serve.log"),
		append([]string{"--max-runs", "0", "--allow-private-networks"}, o.service.ServeArgs...), time.Minute)
	if err != nil {
		return m, err
	}
	var workers []*workerProc
	// Stop every process, workers first, on every path; their usage counts only when all stopped.
	stopAll := func() error {
		var errs []error
		for _, w := range workers {
			errs = append(errs, w.stop())
			m.addUsage(w.cmd.ProcessState)
		}
		workers = nil
		if srv != nil {
			errs = append(errs, srv.stop())
			m.addUsage(srv.cmd.ProcessState)
			srv = nil
		}
		return errors.Join(errs...)
	}
	defer func() {
		if serr := stopAll(); err == nil {
			err = serr
		}
	}()
	for i := range n {
		w, err := startWorker(bin, db, o.scenario.Concurrency, filepath.Join(dir, fmt.Sprintf("worker-%d.log", i+1)))
		if err != nil {
			return m, err
		}
		workers = append(workers, w)
	}
	for _, w := range workers {
		if err := w.waitReady(ctx, time.Minute); err != nil {
			return m, err
		}
	}
	after, err := pgBaseline(ctx, pg, dbName, &m)
	if err != nil {
		return m, err
	}
	c := newAPIClient(srv.base)
	if err := c.putSpider(ctx, "bench", trawlSpider(web, o.scenario.PerHost)); err != nil {
		return m, err
	}
	waitCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	start := time.Now()
	m.window.begin()
	run, err := c.startRun(waitCtx, "bench")
	if err != nil {
		return m, err
	}
	run, end, err := c.waitRun(waitCtx, run.ID, scalePoll)
	m.window.end()
	m.run = run
	if err != nil {
		return m, err
	}
	m.wall = end.Sub(start)
	// Backends report their commits when their clients disconnect: stop everything first.
	if err := stopAll(); err != nil {
		return m, err
	}
	return m, after()
}

// fillSpeedups sets each worker measurement's pages/s over that of one worker in the same run.
func fillSpeedups(rs []scaleResult) {
	one := map[int]float64{}
	for _, r := range rs {
		if r.Mode == modeWorkers && r.Workers == 1 && r.Status == statusOK {
			one[r.Run] = r.PagesPerSec
		}
	}
	for i, r := range rs {
		if r.Mode == modeWorkers && r.Status == statusOK && one[r.Run] > 0 {
			rs[i].SpeedupVsOne = r.PagesPerSec / one[r.Run]
		}
	}
}

// writeScaleTable prints one row per measurement.
func writeScaleTable(w io.Writer, rep scaleReport) error {
	fmt.Fprintf(w, "%s\nPostgreSQL: %s; %d CPUs; per process --concurrency %d\n\n", rep.Description, rep.Postgres, rep.Machine.CPUs, rep.Concurrency)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "config\trun\tstatus\tpages\trun (s)\tpages/s\tfloor (s)\trun / floor\tspeed-up\ttrawl CPU (s)\tPG CPU (s)\tweb CPU (s)\tmachine busy\tCPU ms/page\tpeak RSS (MiB)\tcommits/s\tcommits/page\tdeadlocks\tmax in flight/host\tmin gap (ms)\tduplicates\t")
	dash := func(ok bool, format string, v float64) string {
		if !ok {
			return "-"
		}
		return fmt.Sprintf(format, v)
	}
	for _, r := range rep.Results {
		if r.Status == statusUnavailable {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", r.Config, r.Run, r.Status)
			continue
		}
		pages := float64(r.Pages)
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d/%d\t%.2f\t%.0f\t%.2f\t%s\t%s\t%.1f\t%s\t%.1f\t%.0f%%\t%s\t%d\t%s\t%s\t%s\t%d\t%.2f\t%d\t\n",
			r.Config, r.Run, r.Status, r.Pages, r.PagesExpected, r.RunSeconds, r.PagesPerSec, r.FloorSeconds,
			dash(r.FloorSeconds > 0, "%.2f", r.RunSeconds/r.FloorSeconds),
			dash(r.SpeedupVsOne > 0, "%.2fx", r.SpeedupVsOne),
			r.CPUSeconds,
			dash(r.PostgresCPU > 0, "%.1f", r.PostgresCPU),
			r.BenchCPU, 100*r.MachineBusy,
			dash(pages > 0, "%.2f", 1000*(r.CPUSeconds+r.PostgresCPU)/max(pages, 1)),
			r.PeakRSSKiB>>10,
			dash(r.Commits > 0, "%.0f", r.CommitsPerSec),
			dash(r.Commits > 0 && pages > 0, "%.2f", float64(r.Commits)/max(pages, 1)),
			dash(r.Commits > 0, "%.0f", float64(r.Deadlocks)),
			r.MaxInFlightByHost, r.MinStartGapMS, r.Duplicates)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	said := map[string]bool{}
	for _, r := range rep.Results {
		if r.Error == "" || said[r.Error] {
			continue
		}
		said[r.Error] = true
		fmt.Fprintf(w, "%s, run %d: %s: %s\n", r.Config, r.Run, r.Status, r.Error)
	}
	if len(rep.Results) > 0 {
		r := rep.Results[0]
		fmt.Fprintf(w, "politeness floor (slowest host's delay / per-host %d): %.2fs; floor = max(politeness floor, total delay / min(hosts × per-host, processes × concurrency))\n",
			rep.PerHost, r.PolitenessFloor)
	}
	for _, r := range rep.Results {
		if len(r.Statements) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s, run %d: PostgreSQL's busiest statements (pg_stat_statements)\n", r.Config, r.Run)
		for _, st := range r.Statements {
			fmt.Fprintf(w, "  %8.0f ms %8d calls %9d rows  %s\n", st.TotalMS, st.Calls, st.Rows, st.Query)
		}
	}
	return nil
}

// writeScaleJSON writes the report as indented JSON to path.
func writeScaleJSON(path string, rep scaleReport) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// scaleFailed reports whether a measurement failed (the exit status is then 1). A configuration
// that is unavailable (no trawl worker yet) is not a failure.
func scaleFailed(rs []scaleResult) bool {
	for _, r := range rs {
		if r.Status != statusOK && r.Status != statusUnavailable {
			return true
		}
	}
	return false
}
