// Command bench runs trawl, Colly and Scrapy side by side against a simulated web on loopback and
// prints their wall time, CPU, memory, throughput, completeness and politeness in one table.
//
// Run it from the bench directory: go run . -scenario many-hosts. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/trawl-dev/trawl/bench/simweb"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the parsed command line.
type options struct {
	scenario scenario
	tools    string
	runs     int
	timeout  time.Duration
	jsonPath string
	src      string // bench module directory
	trawlSrc string
	trawlBin string
	python   string
	keep     bool
	service  serviceOptions // the service scenarios (items-api, export, service-crawl)
	scale    scaleOptions   // the scale-out scenario
}

// run is the whole program; it returns the exit code: 0 when every tool that is installed ran to
// completion, 1 when one failed, timed out or could not be built, 2 on bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if opts.scenario.Name == scenarioScaleOut {
		rep, err := runScaleOut(ctx, opts, stdout, stderr)
		if err == nil && opts.jsonPath != "" {
			err = writeScaleJSON(opts.jsonPath, rep)
		}
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		if scaleFailed(rep.Results) {
			return 1
		}
		return 0
	}
	if isServiceScenario(opts.scenario.Name) {
		rep, err := runService(ctx, opts, stdout, stderr)
		if err == nil && opts.jsonPath != "" {
			err = writeServiceJSON(opts.jsonPath, rep)
		}
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		return 0
	}
	tools, err := newTools(opts.tools, opts.src, opts.trawlSrc, opts.trawlBin, opts.python)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	rep, err := runBench(ctx, opts, tools, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if err := writeTable(stdout, rep); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if opts.jsonPath != "" {
		if err := writeJSON(opts.jsonPath, rep); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
	}
	for _, r := range rep.Results {
		if r.Status != statusOK && r.Status != statusNotInstalled {
			return 1
		}
	}
	return 0
}

// parseFlags reads the command line: a scenario preset, then any override of its knobs.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	name := fs.String("scenario", "many-hosts", "preset: many-hosts, big-site, faults, rate-limited or custom; or a service scenario: items-api, export, service-crawl, scale-out")
	fs.StringVar(&o.tools, "tools", "trawl,colly,scrapy", "comma-separated tools to run: trawl, colly, scrapy, ideal")
	fs.IntVar(&o.runs, "runs", 1, "runs of each tool, interleaved")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "kill a tool run that takes longer")
	fs.StringVar(&o.jsonPath, "json", "", "also write the results as JSON to `file`")
	fs.StringVar(&o.src, "src", ".", "the bench module directory (holds colly/ and scrapy/)")
	fs.StringVar(&o.trawlSrc, "trawl-src", "..", "the trawl module directory, built with go build ./cmd/trawl")
	fs.StringVar(&o.trawlBin, "trawl-bin", "", "a prebuilt trawl binary to use instead of building one")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "a Python interpreter that can import scrapy")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (spiders, databases, outputs, logs)")

	svc := &o.service
	fs.IntVar(&svc.Items, "items", 1_000_000, "service scenarios: items of the large generated dataset")
	fs.IntVar(&svc.SmallItems, "small-items", 10_000, "service scenarios: items of the small generated dataset")
	fs.IntVar(&svc.PerPage, "per-page", 100, "service scenarios: quotes per page of the generator's API")
	fs.StringVar(&svc.CacheDir, "cache", filepath.Join(os.TempDir(), "trawl-bench-cache"), "service scenarios: `directory` of the generated datasets, kept between invocations")
	fs.StringVar(&svc.Wrk.Bin, "wrk", "wrk", "service scenarios: the wrk executable")
	fs.DurationVar(&svc.Wrk.Duration, "wrk-duration", 10*time.Second, "service scenarios: duration of each wrk measurement")
	fs.IntVar(&svc.Wrk.Connections, "wrk-connections", 4, "service scenarios: wrk connections")
	fs.IntVar(&svc.Wrk.Threads, "wrk-threads", 2, "service scenarios: wrk threads")
	fs.DurationVar(&svc.LoadPause, "load-pause", 20*time.Millisecond, "service-crawl: pause before each request of the read load, per connection (negative: no loaded run)")
	serveArgs := fs.String("serve-args", "", "service scenarios: extra space-separated arguments of trawl serve")
	fs.StringVar(&svc.Sqlite3, "sqlite3", "sqlite3", "export: the sqlite3 executable")

	workers := fs.String("workers", "1,2,4", "scale-out: comma-separated numbers of trawl worker processes to measure (0: none)")
	fs.StringVar(&o.scale.PgURL, "pg-url", "", "scale-out: a PostgreSQL `URL` to create the databases on (default: start a server in a temporary directory)")

	var ov scenario
	fs.IntVar(&ov.Concurrency, "concurrency", 0, "override: requests in flight across all hosts")
	fs.IntVar(&ov.PerHost, "per-host", 0, "override: requests in flight per host")
	fs.IntVar(&ov.Web.Hosts, "hosts", 0, "override: number of hosts")
	fs.IntVar(&ov.Web.PagesPerHost, "pages", 0, "override: pages per host")
	fs.IntVar(&ov.Web.Links, "links", 0, "override: random same-host links per page (-1: none)")
	fs.IntVar(&ov.Web.CrossHostLinks, "cross-links", 0, "override: cross-host links per page (-1: none)")
	fs.DurationVar(&ov.Web.LatencyMin, "latency-min", 0, "override: minimum injected latency")
	fs.DurationVar(&ov.Web.LatencyMax, "latency-max", 0, "override: maximum injected latency")
	fs.Float64Var(&ov.Web.Fail503, "fail503", 0, "override: fraction of pages whose first request answers 503")
	fs.Float64Var(&ov.Web.NotFound, "not-found", 0, "override: fraction of links that answer 404")
	fs.Float64Var(&ov.Web.RateLimit, "rate-limit", 0, "override: requests per second each host accepts (429 beyond; 0: none)")
	fs.StringVar(&ov.Web.RobotsDisallow, "robots-disallow", "", "override: path prefix disallowed by robots.txt")
	fs.IntVar(&ov.Web.PageBytes, "page-bytes", 0, "override: approximate page size in bytes")
	fs.Int64Var(&ov.Web.Seed, "seed", 0, "override: seed of the simulated web (default 1)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	svc.ServeArgs = strings.Fields(*serveArgs)
	var err error
	if o.scale.Workers, err = parseWorkers(*workers); err != nil {
		return o, err
	}
	sc, err := lookupScenario(*name)
	if err != nil {
		return o, err
	}
	fs.Visit(func(f *flag.Flag) {
		w := &sc.Web
		switch f.Name {
		case "concurrency":
			sc.Concurrency = ov.Concurrency
		case "per-host":
			sc.PerHost = ov.PerHost
		case "hosts":
			w.Hosts = ov.Web.Hosts
		case "pages":
			w.PagesPerHost = ov.Web.PagesPerHost
		case "links":
			w.Links = ov.Web.Links
		case "cross-links":
			w.CrossHostLinks = ov.Web.CrossHostLinks
		case "latency-min":
			w.LatencyMin = ov.Web.LatencyMin
		case "latency-max":
			w.LatencyMax = ov.Web.LatencyMax
		case "fail503":
			w.Fail503 = ov.Web.Fail503
		case "not-found":
			w.NotFound = ov.Web.NotFound
		case "rate-limit":
			w.RateLimit = ov.Web.RateLimit
		case "robots-disallow":
			w.RobotsDisallow = ov.Web.RobotsDisallow
		case "page-bytes":
			w.PageBytes = ov.Web.PageBytes
		case "seed":
			w.Seed = ov.Web.Seed
		}
	})
	o.scenario = sc
	switch {
	case sc.Concurrency < 1 || sc.PerHost < 1:
		return o, fmt.Errorf("concurrency %d, per-host %d: want both at least 1", sc.Concurrency, sc.PerHost)
	case o.runs < 1:
		return o, fmt.Errorf("runs %d: want at least 1", o.runs)
	case o.timeout <= 0:
		return o, fmt.Errorf("timeout %v: want a positive duration", o.timeout)
	case svc.PerPage < 1 || svc.PerPage > simweb.QuotesPerPageMax:
		return o, fmt.Errorf("per-page %d: want 1 to %d", svc.PerPage, simweb.QuotesPerPageMax)
	case svc.Wrk.Duration < time.Second || svc.Wrk.Connections < 1 || svc.Wrk.Threads < 1 || svc.Wrk.Threads > svc.Wrk.Connections:
		return o, fmt.Errorf("wrk: want a duration of at least 1s and 1 <= threads <= connections")
	}
	if isServiceScenario(sc.Name) {
		for _, n := range []int{svc.Items, svc.SmallItems} {
			if _, err := svc.quotesConfig(n); err != nil {
				return o, err
			}
		}
	}
	if _, err := os.Stat(filepath.Join(o.src, "colly", "main.go")); err != nil {
		return o, fmt.Errorf("bench sources not found in %s (run from bench/ or pass -src): %w", o.src, err)
	}
	o.service.Wrk.Script = filepath.Join(o.src, "wrk", "paths.lua")
	for _, p := range []*string{&o.src, &o.trawlSrc, &o.trawlBin, &o.jsonPath, &o.service.CacheDir, &o.service.Wrk.Script} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return o, fmt.Errorf("resolve path: %w", err)
			}
		}
	}
	return o, nil
}

// runBench prepares every tool once, then runs each against a fresh simulated web, runs
// interleaved, and returns what it measured. Tools that cannot be prepared are reported as such.
func runBench(ctx context.Context, o options, tools []tool, progress io.Writer) (report, error) {
	sc := o.scenario
	webCfg := sc.Web.WithDefaults()
	rep := report{
		Scenario: sc, Web: webCfg, Description: sc.describe(webCfg), Started: time.Now().UTC(),
		Machine: thisMachine(),
	}
	work, err := os.MkdirTemp("", "trawl-bench-")
	if err != nil {
		return rep, fmt.Errorf("create work directory: %w", err)
	}
	if o.keep {
		fmt.Fprintf(progress, "work directory: %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	ready := make([]bool, len(tools))
	for i, t := range tools {
		fmt.Fprintf(progress, "preparing %s\n", t.Name())
		err := t.Prepare(ctx, work)
		if err == nil {
			ready[i] = true
			continue
		}
		status := statusUnavailable
		if errors.Is(err, errNotInstalled) {
			status = statusNotInstalled
		}
		rep.Results = append(rep.Results, result{Tool: t.Name(), Run: 1, Status: status, Error: err.Error()})
	}
	for run := 1; run <= o.runs; run++ {
		for i, t := range tools {
			if !ready[i] {
				continue
			}
			if err := ctx.Err(); err != nil {
				return rep, fmt.Errorf("interrupted: %w", err)
			}
			r, err := runOnce(ctx, o, t, run, filepath.Join(work, fmt.Sprintf("%s-%d", t.Name(), run)), progress)
			if err != nil {
				return rep, fmt.Errorf("%s run %d: %w", t.Name(), run, err)
			}
			items := fmt.Sprintf("%d/%d", r.ItemsDistinct, r.ItemsExpected)
			if r.NoItems {
				items = "n/a"
			}
			fmt.Fprintf(progress, "%s run %d: %s in %.2fs, %d/%d pages, %s items\n", t.Name(), run,
				r.Status, r.WallSeconds, r.PagesFetched, r.PagesExpected, items)
			rep.Results = append(rep.Results, r)
		}
	}
	return rep, nil
}

// runOnce runs one tool once in dir against a fresh simulated web. An error means the bench
// itself could not run; a failing tool is a result.
func runOnce(ctx context.Context, o options, t tool, run int, dir string, progress io.Writer) (result, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return result{}, fmt.Errorf("create run directory: %w", err)
	}
	web, err := simweb.Start(o.scenario.Web)
	if err != nil {
		return result{}, fmt.Errorf("start simulated web: %w", err)
	}
	argv, output, err := t.Command(job{web: web, scenario: o.scenario, dir: dir})
	if err != nil {
		web.Close()
		return result{}, fmt.Errorf("command: %w", err)
	}
	fmt.Fprintf(progress, "%s run %d: %s\n", t.Name(), run, shortCommand(argv))
	m := measure(ctx, argv, dir, filepath.Join(dir, t.Name()+".log"), o.timeout)
	if err := web.Close(); err != nil {
		return result{}, err
	}
	return newResult(t.Name(), run, m, web, o.scenario, output), nil
}

// thisMachine describes the machine the bench runs on.
func thisMachine() machine {
	return machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
}

// shortCommand renders argv with long arguments elided.
func shortCommand(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if len(a) > 60 {
			a = a[:57] + "..."
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}
