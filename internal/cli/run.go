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
	"github.com/trawl-dev/trawl/internal/logging"
	"github.com/trawl-dev/trawl/internal/robots"
	"github.com/trawl-dev/trawl/internal/runner"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/store/postgres"
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
	logFormat   string
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
	fs.StringVar(&o.db, "db", DefaultDB, "database: a SQLite `FILE` or a postgres:// URL")
	fs.StringVar(&o.output, "output", "", "also write the run's items to `FILE` (.jsonl, .csv, .json; - for stdout)")
	fs.alias("o", "output")
	fs.StringVar(&o.format, "format", "", "`FORMAT` of the output: jsonl, csv, json or table (default: from the file extension; jsonl for stdout)")
	fs.BoolVar(&o.csvSafe, "csv-safe", false, "guard CSV cells that a spreadsheet would run as formulas (docs/csv.md)")
	fs.IntVar(&o.concurrency, "concurrency", crawl.DefaultConcurrency, "at most `N` requests in flight across all hosts")
	fs.BoolVar(&o.restart, "restart", false, "start a new run even if an unfinished run of this spider can be resumed")
	fs.BoolVar(&o.retryFailed, "retry-failed", false, "fetch again only the failed pages of the spider's last run, and update that run")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress output, only the summary")
	fs.StringVar(&o.logLevel, "log-level", "warn", "print diagnostics of `LEVEL` and above on stderr: debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", logging.Text, "write diagnostics as `FORMAT`: text or json (as trawl serve does)")
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
// run's items to the output, if any. The run's lifecycle is the runner's;
// what is said on the terminal, the output file and the exit code are
// decided here.
func runSpider(ctx context.Context, sp *spider.Spider, o runOptions, env Env) error {
	logger, err := logging.New(env.Stderr, o.logFormat, o.logLevel)
	if err != nil {
		return &usageError{msg: trawl.ErrorMessage(err), cmd: o.command}
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
	var lock *datasetLock // nil for a store without a file to lock beside
	// The cancel flag is read so that `POST /v1/runs/ID/cancel` of a service on
	// the same database stops this run too.
	// On PostgreSQL trawl worker processes join the run and crawl it too.
	opts := runner.Options{Restart: o.restart, RetryFailed: o.retryFailed, Watch: runner.Watch{Poll: cancelPoll},
		Shared: isPostgres(o.db)}
	beforeRun := func(ctx context.Context, l *datasetLock) error {
		if target != "" {
			removeStaleTemps(target, env)
			if err := pendingOutput(ctx, db, l, sp.Name, o, target); err != nil {
				return err
			}
		}
		if sp.Schedule != "" {
			fmt.Fprintf(env.Stderr, "note: the spider's schedule %q is used by the service (trawl serve); this run is a one-off\n", sp.Schedule)
		}
		return nil
	}
	switch d := db.(type) {
	case pather:
		opts.LockFunc = lockFunc(d.Path(), &lock, beforeRun)
	case *postgres.DB:
		opts.LockFunc = pgLockFunc(d, beforeRun)
	default:
		if err := beforeRun(ctx, nil); err != nil {
			return err
		}
	}
	r, err := startRun(ctx, db, sp, opts, o, env)
	if err != nil || r == nil {
		return err
	}
	defer r.Close()
	lock.record(lockState{Run: r.ID()})

	fc := fetch.New(fetch.Config{})
	defer fc.Close()
	engine, err := crawl.New(db, fc, robots.New(fc, robots.Config{Shared: crawl.SharedRobots(db, ""), Logger: logger}), crawl.Config{Concurrency: o.concurrency, Logger: logger})
	if err != nil {
		return err
	}
	prog := newProgress(env.Stderr, r.Initial.Stats, o.quiet, o.progress)
	prog.start()
	start := time.Now()
	res, runErr := r.Crawl(ctx, engine, prog.update)
	prog.stop()
	done := finished{sp: sp, run: r.Initial, res: res, elapsed: time.Since(start)}
	if err := endRun(ctx, db, done, runErr, o, env); err != nil {
		return err
	}
	if o.output == "" {
		return nil
	}
	if c, ok := db.(checkpointer); ok {
		// Fold the WAL into the database file while the output is written,
		// instead of at Close afterwards.
		ckpt := make(chan error, 1)
		go func() { ckpt <- c.Checkpoint(ctx) }()
		defer func() {
			if err := <-ckpt; err != nil {
				logger.Warn("checkpoint", "err", err)
			}
		}()
	}
	return writeRunOutput(ctx, db, lock, sp.Name, r.ID(), format, target, o, env)
}

// lockFunc is trawl run's lock hook for the runner (runner.Options.LockFunc):
// a flock beside the database file at dbPath keeps a second `trawl run` off
// the dataset, and records the -o file being written (writeRunOutput). The
// lock is the CLI's, not the runner's: the service keeps runs apart with its
// queue. Under the lock, before the run is chosen, check runs; the lock
// taken is stored in *held.
func lockFunc(dbPath string, held **datasetLock, check func(context.Context, *datasetLock) error) func(context.Context, string) (func(), error) {
	return func(ctx context.Context, dataset string) (func(), error) {
		l, err := lockDataset(dbPath, dataset)
		if err != nil {
			return nil, err
		}
		if err := check(ctx, l); err != nil {
			l.release()
			return nil, err
		}
		*held = l
		return l.release, nil
	}
}

// pgLockFunc is trawl run's lock hook on PostgreSQL: the store's dataset
// advisory lock (the service takes the same one), held on a connection of
// its own for the whole run, so that two `trawl run` or a `trawl run` and
// the service never crawl one dataset at once. Under the lock, before the
// run is chosen, check runs (with no lock file to record in).
func pgLockFunc(db *postgres.DB, check func(context.Context, *datasetLock) error) func(context.Context, string) (func(), error) {
	return func(ctx context.Context, dataset string) (func(), error) {
		unlock, err := db.LockDataset(ctx, dataset)
		if err != nil {
			return nil, err
		}
		if err := check(ctx, nil); err != nil {
			unlock()
			return nil, err
		}
		return unlock, nil
	}
}

// startRun takes up the run o asks for (runner.Start) and says which: a
// new run, a resumed one, or the failed pages of the last one. A nil Run
// without an error means there is nothing to do.
func startRun(ctx context.Context, db store.Store, sp *spider.Spider, opts runner.Options, o runOptions, env Env) (*runner.Run, error) {
	r, err := runner.Start(ctx, db, sp, opts)
	var re *runner.RetryError
	switch {
	case errors.As(err, &re):
		return nil, retryErrorText(re, o, env)
	case err != nil:
		return nil, err
	}
	switch run := r.Initial; r.Origin {
	case runner.Resumed:
		fmt.Fprintf(env.Stderr, "resuming run %d of %s: %d pages done, %d items so far\n", run.ID, sp.Name, run.Stats.Pages, run.Stats.Items)
	case runner.Retrying:
		fmt.Fprintf(env.Stderr, "run %d of %s: fetching its %d failed page%s again\n", run.ID, sp.Name, r.Requeued, plural(int(r.Requeued)))
	default:
		if !o.quiet {
			fmt.Fprintf(env.Stderr, "run %d of %s: %d start URL%s\n", run.ID, sp.Name, len(sp.StartURLs), plural(len(sp.StartURLs)))
		}
	}
	return r, nil
}

// retryErrorText says, in terms of the command's flags, why --retry-failed
// has nothing to fetch; nil when the last run simply has no failed pages.
func retryErrorText(re *runner.RetryError, o runOptions, env Env) error {
	switch re.Reason {
	case runner.NoRunToRetry:
		return trawl.Errorf(trawl.ENOTFOUND, "--retry-failed: spider %s has no run to retry yet: run it without --retry-failed", re.Spider)
	case runner.LastRunUnfinished:
		return trawl.Errorf(trawl.ECONFLICT, "--retry-failed: run %d of %s has not finished: run the same command without --retry-failed to resume it", re.Last.ID, re.Spider)
	case runner.SpiderChanged:
		return trawl.Errorf(trawl.ECONFLICT, "--retry-failed: %s changed since its last run (run %d), whose pages were found with the old version: run it without --retry-failed for a new run", o.spiderPath, re.Last.ID)
	case runner.NoFailedPages:
		fmt.Fprintf(env.Stderr, "run %d of %s has no failed pages: nothing to retry\n", re.Last.ID, re.Spider)
		return nil
	}
	return trawl.Errorf(trawl.ECONFLICT, "--retry-failed: %s", re.Error())
}

// finished is what a crawl of a run produced in this process.
type finished struct {
	sp      *spider.Spider
	run     *trawl.Run // as it was when this process took it up
	res     *crawl.Result
	elapsed time.Duration
}

// endRun records how the run ended (runner.Finish) and reports it:
// interrupted (resumable), stopped by a full disk (resumable), canceled,
// failed, finished without fetching a single page, or finished.
func endRun(ctx context.Context, db runner.Store, d finished, runErr error, o runOptions, env Env) error {
	out, err := runner.Finish(ctx, db, d.run.ID, d.res, runErr)
	if err != nil {
		return err
	}
	id, stats := d.run.ID, d.res.Stats
	line := summary(d.run.Stats, stats, d.elapsed)
	switch out.End {
	case runner.DiskFull:
		fmt.Fprintf(env.Stderr, "stopped, the disk is full: %s\n", line)
		fmt.Fprintf(env.Stderr, "trawl: the disk holding the database is full; every finished page is saved: free some space, then %s to resume run %d\n", sameCommand(o), id)
		return &exitError{code: ExitTempFail}
	case runner.Interrupted:
		fmt.Fprintf(env.Stderr, "interrupted: %s\n", line)
		fmt.Fprintf(env.Stderr, "every finished page is saved; %s to resume run %d\n", sameCommand(o), id)
		return &exitError{code: ExitInterrupted}
	case runner.Canceled:
		fmt.Fprintf(env.Stderr, "run %d canceled: %s\n", id, line)
		return &exitError{code: ExitInterrupted}
	case runner.Failed:
		return fmt.Errorf("run %d failed: %w", id, out.Err)
	case runner.NoPage:
		fmt.Fprintf(env.Stderr, "run %d failed: %s\n", id, line)
		printFailed(env.Stderr, out.Failed, stats)
		fmt.Fprintf(env.Stderr, "trawl: run %d fetched no page: %s\n", id, runner.NoPageMessage)
		if o.output != "" && o.output != "-" {
			fmt.Fprintf(env.Stderr, "%s was not written (an existing file is left as it was)\n", o.output)
		}
		fmt.Fprintf(env.Stderr, "once the site answers: trawl run %s --retry-failed%s\n", o.spiderPath, dbFlag(o.db))
		return &exitError{code: ExitError}
	}
	fmt.Fprintf(env.Stderr, "run %d finished: %s\n", id, line)
	for _, n := range notes(d.sp, stats, d.res.Hosts) {
		fmt.Fprintln(env.Stderr, n)
	}
	printFailed(env.Stderr, out.Failed, stats)
	return nil
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

// cancelPoll is how often `trawl run` reads its run's cancel flag.
const cancelPoll = 500 * time.Millisecond
