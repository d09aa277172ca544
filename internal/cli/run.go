package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/frontier"
	"github.com/trawl-dev/trawl/internal/robots"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/store/sqlite"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// runOptions are the flags of `trawl run`.
type runOptions struct {
	command     string // run or demo, for usage errors
	spiderPath  string // as the user typed it, for hints
	db          string
	output      string
	format      string
	csvSafe     bool
	concurrency int
	restart     bool
	retryFailed bool
	quiet       bool
	logLevel    string
	progress    time.Duration
	cpuProfile  string
}

const runAbout = `Crawl the spider to completion and store its items in its dataset (the
spider's name) in the database. The same command resumes an unfinished run of
the same spider after Ctrl-C, kill -9 or a full disk. With -o it also writes
the run's items to FILE, atomically.`

func runCmd(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("run", "SPIDER.yaml [flags]", runAbout)
	o := runOptions{command: "run"}
	fs.StringVar(&o.db, "db", DefaultDB, "database: a SQLite `FILE`")
	fs.StringVar(&o.output, "output", "", "also write the run's items to `FILE` (.jsonl, .csv, .json; - for stdout)")
	fs.alias("o", "output")
	fs.StringVar(&o.format, "format", "", "`FORMAT` of the output: jsonl, csv, json or table (default: from the file extension; jsonl for stdout)")
	fs.BoolVar(&o.csvSafe, "csv-safe", false, "guard CSV cells that a spreadsheet would run as formulas (docs/csv.md)")
	fs.IntVar(&o.concurrency, "concurrency", crawl.DefaultConcurrency, "at most `N` requests in flight across all hosts")
	fs.BoolVar(&o.restart, "restart", false, "start a new run even if an unfinished run of this spider can be resumed")
	fs.BoolVar(&o.retryFailed, "retry-failed", false, "fetch again only the failed pages of the spider's last run, and update that run")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress output, only the summary")
	fs.StringVar(&o.logLevel, "log-level", "warn", "print diagnostics of `LEVEL` and above on stderr: debug, info, warn or error")
	fs.DurationVar(&o.progress, "progress-interval", 5*time.Second, "print a progress line every `DURATION` when stderr is not a terminal")
	fs.StringVar(&o.cpuProfile, "cpu-profile", "", "write a CPU profile of the run to `FILE` (go tool pprof)")
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fs.usageErrorf("run takes one spider file, got %d arguments", len(pos))
	}
	if o.concurrency < 1 {
		return fs.usageErrorf("--concurrency must be at least 1, got %d", o.concurrency)
	}
	if o.restart && o.retryFailed {
		return fs.usageErrorf("--restart and --retry-failed exclude each other: one starts a new run, the other retries the last one")
	}
	if o.cpuProfile != "" {
		stop, err := startCPUProfile(env.path(o.cpuProfile))
		if err != nil {
			return err
		}
		defer stop()
	}
	o.spiderPath = pos[0]
	sp, err := loadSpider(pos[0], env)
	if err != nil {
		return err
	}
	return runSpider(ctx, sp, o, env)
}

// loadSpider parses a spider file and prints every problem it has as
// FILE:LINE:COL: PATH: message.
func loadSpider(path string, env Env) (*spider.Spider, error) {
	path = env.path(path)
	sp, err := spider.ParseFile(path)
	var ve *spider.ValidationError
	switch {
	case errors.As(err, &ve):
		fmt.Fprintln(env.Stderr, ve.Error())
		fmt.Fprintf(env.Stderr, "%s: %d problem%s; nothing was fetched\n", path, len(ve.Problems), plural(len(ve.Problems)))
		return nil, &exitError{code: ExitUsage}
	case errors.Is(err, fs.ErrNotExist):
		return nil, trawl.Errorf(trawl.EINVALID, "%s: no such file", path)
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, trawl.Errorf(trawl.EINVALID, "%s: %v", path, pe.Err)
		}
		return nil, trawl.Errorf(trawl.EINVALID, "%v", err)
	}
	return sp, nil
}

// runSpider crawls sp to completion (resuming an unfinished run of the same
// spider, or retrying the failed pages of its last run), then writes the
// run's items to the output, if any.
func runSpider(ctx context.Context, sp *spider.Spider, o runOptions, env Env) error {
	logger, err := newLogger(env.Stderr, o.logLevel)
	if err != nil {
		return err
	}
	// Validate the output before crawling: finding out afterwards is too late.
	format, err := outputFormat(o.command, o.output, o.format, env)
	if err != nil {
		return err
	}
	target, err := checkOutput(o.command, o.output, env)
	if err != nil {
		return err
	}
	if env.Getenv("GOGC") == "" {
		// A crawl allocates briskly (a parsed document per page) while its
		// live heap stays small and flat; collecting a quarter as often saves
		// about a tenth of the CPU (bench/, big-site) for a few MiB of heap.
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	db, err := openStore(ctx, o.db, env)
	if err != nil {
		return err
	}
	defer db.Close()
	lock, err := lockDataset(db.Path(), sp.Name)
	if err != nil {
		return err
	}
	defer lock.release()
	if target != "" {
		removeStaleTemps(target, env)
		if err := pendingOutput(ctx, db, lock, sp.Name, o, target); err != nil {
			return err
		}
	}
	if sp.Schedule != "" {
		fmt.Fprintf(env.Stderr, "note: the spider's schedule %q is used by the service (trawl serve); this run is a one-off\n", sp.Schedule)
	}
	run, err := prepareRun(ctx, db, sp, o, env)
	if err != nil || run == nil {
		return err
	}
	lock.record(lockState{Run: run.ID})

	fc := fetch.New(fetch.Config{})
	defer fc.Close()
	engine := crawl.New(db, fc, robots.New(fc, robots.Config{}), crawl.Config{Concurrency: o.concurrency, Logger: logger})
	prog := newProgress(env.Stderr, run.Stats, o.quiet, o.progress)
	prog.start()
	start := time.Now()
	res, runErr := engine.Run(ctx, crawl.RunParams{Spider: sp, Run: run, OnProgress: prog.update})
	prog.stop()
	if res == nil {
		res = &crawl.Result{Stats: run.Stats}
	}
	done := finished{sp: sp, run: run, res: res, elapsed: time.Since(start)}
	if err := endRun(ctx, db, done, runErr, o, env); err != nil {
		return err
	}
	if o.output == "" {
		return nil
	}
	// Fold the WAL into the database file while the output is written,
	// instead of at Close afterwards.
	ckpt := make(chan error, 1)
	go func() { ckpt <- db.Checkpoint(ctx) }()
	defer func() {
		if err := <-ckpt; err != nil {
			logger.Warn("checkpoint", "err", err)
		}
	}()
	return writeRunOutput(ctx, db, lock, sp.Name, run.ID, format, target, o, env)
}

// prepareRun resumes the unfinished run of sp, retries the failed pages of
// its last run, or creates a new run, and says which. A nil run without an
// error means there is nothing to do.
func prepareRun(ctx context.Context, db *sqlite.DB, sp *spider.Spider, o runOptions, env Env) (*trawl.Run, error) {
	if o.retryFailed {
		return retryFailed(ctx, db, sp, o, env)
	}
	run, resumed, err := startRun(ctx, db, sp, o.restart)
	if err != nil {
		return nil, err
	}
	if resumed {
		fmt.Fprintf(env.Stderr, "resuming run %d of %s: %d pages done, %d items so far\n", run.ID, sp.Name, run.Stats.Pages, run.Stats.Items)
	} else if !o.quiet {
		fmt.Fprintf(env.Stderr, "run %d of %s: %d start URL%s\n", run.ID, sp.Name, len(sp.StartURLs), plural(len(sp.StartURLs)))
	}
	return run, nil
}

// startRun resumes the newest unfinished run of sp with the same content,
// or creates a new one.
func startRun(ctx context.Context, db store.Store, sp *spider.Spider, restart bool) (*trawl.Run, bool, error) {
	if !restart {
		run, err := db.ResumableRun(ctx, sp.Name, sp.Hash)
		if err == nil {
			return run, true, nil
		}
		if trawl.ErrorCode(err) != trawl.ENOTFOUND {
			return nil, false, err
		}
	}
	run, err := db.CreateRun(ctx, store.CreateRunParams{
		Spider:    sp.Name,
		SpecHash:  sp.Hash,
		Spec:      sp.Source,
		Columns:   sp.FieldNames(),
		StartURLs: frontier.StartURLs(sp),
	})
	return run, false, err
}

// retryFailed puts the failed pages of the last run of sp back in its
// frontier, so that the normal resume path fetches them again and updates
// that run. The run must have finished, with the spider as it is now.
func retryFailed(ctx context.Context, db store.Store, sp *spider.Spider, o runOptions, env Env) (*trawl.Run, error) {
	runs, err := db.Runs(ctx, store.RunQuery{Spider: sp.Name, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "--retry-failed: spider %s has no run to retry yet: run it without --retry-failed", sp.Name)
	}
	last := runs[0]
	switch {
	case !last.Status.Final():
		return nil, trawl.Errorf(trawl.ECONFLICT, "--retry-failed: run %d of %s has not finished: run the same command without --retry-failed to resume it", last.ID, sp.Name)
	case last.SpecHash != sp.Hash:
		return nil, trawl.Errorf(trawl.ECONFLICT, "--retry-failed: %s changed since its last run (run %d), whose pages were found with the old version: run it without --retry-failed for a new run", o.spiderPath, last.ID)
	case last.Stats.ErrorCount() == 0:
		fmt.Fprintf(env.Stderr, "run %d of %s has no failed pages: nothing to retry\n", last.ID, sp.Name)
		return nil, nil
	}
	n, err := db.RequeueFailed(ctx, last.ID)
	if err != nil {
		return nil, fmt.Errorf("requeue the failed pages of run %d: %w", last.ID, err)
	}
	run, err := db.Run(ctx, last.ID)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(env.Stderr, "run %d of %s: fetching its %d failed page%s again\n", run.ID, sp.Name, n, plural(int(n)))
	return run, nil
}

// finished is what a crawl of a run produced in this process.
type finished struct {
	sp      *spider.Spider
	run     *trawl.Run // as it was when this process took it up
	res     *crawl.Result
	elapsed time.Duration
}

// endRun records how the run ended and reports it: interrupted (resumable),
// stopped by a full disk (resumable), failed, finished without fetching a
// single page, or finished.
func endRun(ctx context.Context, db store.Store, d finished, runErr error, o runOptions, env Env) error {
	id, stats := d.run.ID, d.res.Stats
	line := summary(d.run.Stats, stats, d.elapsed)
	switch {
	case errors.Is(runErr, store.ErrDiskFull):
		// Not a failure: nothing committed is lost, and the run resumes.
		fmt.Fprintf(env.Stderr, "stopped, the disk is full: %s\n", line)
		fmt.Fprintf(env.Stderr, "trawl: the disk holding the database is full; every finished page is saved: free some space, then %s to resume run %d\n", sameCommand(o), id)
		return &exitError{code: ExitTempFail}
	case runErr != nil && ctx.Err() != nil:
		fmt.Fprintf(env.Stderr, "interrupted: %s\n", line)
		fmt.Fprintf(env.Stderr, "every finished page is saved; %s to resume run %d\n", sameCommand(o), id)
		return &exitError{code: ExitInterrupted}
	case runErr != nil:
		// The store's error is what the user sees; failing to record it
		// (the same database, most likely) would only repeat it.
		_ = db.FinishRun(context.WithoutCancel(ctx), id, trawl.RunFailed, runErr.Error())
		return fmt.Errorf("run %d failed: %w", id, runErr)
	}
	fetched, err := fetchedAny(ctx, db, id, stats)
	if err != nil {
		return err
	}
	if !fetched {
		if err := db.FinishRun(ctx, id, trawl.RunFailed, noPageMessage); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "run %d failed: %s\n", id, line)
		printFailed(ctx, env.Stderr, db, id, stats)
		fmt.Fprintf(env.Stderr, "trawl: run %d fetched no page: %s\n", id, noPageMessage)
		if o.output != "" && o.output != "-" {
			fmt.Fprintf(env.Stderr, "%s was not written (an existing file is left as it was)\n", o.output)
		}
		fmt.Fprintf(env.Stderr, "once the site answers: trawl run %s --retry-failed%s\n", o.spiderPath, dbFlag(o.db))
		return &exitError{code: ExitError}
	}
	if err := db.FinishRun(ctx, id, trawl.RunSucceeded, ""); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "run %d finished: %s\n", id, line)
	for _, n := range notes(d.sp, stats, d.res.Hosts) {
		fmt.Fprintln(env.Stderr, n)
	}
	printFailed(ctx, env.Stderr, db, id, stats)
	return nil
}

// noPageMessage says what "fetched no page" means: not one page of the run
// got an HTTP response that was stored (connection refused, DNS, timeouts,
// robots.txt, ...). A 404 or a 500 is a response: the site is there.
const noPageMessage = "not one request got an HTTP response (check the start URLs and that the site is up)"

// fetchedAny reports whether any page of the run got an HTTP response,
// whatever its status.
func fetchedAny(ctx context.Context, db store.Store, runID int64, s trawl.RunStats) (bool, error) {
	errs := s.ErrorCount()
	if s.Pages > errs {
		return true, nil // a page succeeded
	}
	if errs == 0 {
		return false, nil
	}
	// Every page failed: did any of them fail with a response (a 404)?
	failed, err := db.FailedPages(ctx, runID, int(errs))
	if err != nil {
		return false, err
	}
	for _, p := range failed {
		if p.Status > 0 {
			return true, nil
		}
	}
	return false, nil
}

// sameCommand tells the user how to resume: the same command, unless a
// flag of it would start something else.
func sameCommand(o runOptions) string {
	switch {
	case o.restart:
		return "run the same command without --restart" // --restart would start yet another run
	case o.retryFailed:
		return "run the same command without --retry-failed" // the run is no longer finished
	}
	return "run the same command again"
}

// dbFlag is the --db flag to repeat in a hint, or "" for the default.
func dbFlag(db string) string {
	if db == DefaultDB {
		return ""
	}
	return " --db " + db
}

// startCPUProfile profiles the process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
