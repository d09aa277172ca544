package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/export"
	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/frontier"
	"github.com/trawl-dev/trawl/internal/robots"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// runOptions are the flags of `trawl run`.
type runOptions struct {
	db          string
	output      string
	format      string
	concurrency int
	restart     bool
	quiet       bool
	logLevel    string
	progress    time.Duration
	cpuProfile  string
}

func runCmd(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("run", "run SPIDER.yaml [flags]")
	var o runOptions
	fs.StringVar(&o.db, "db", DefaultDB, "database: a SQLite file path")
	fs.StringVar(&o.output, "o", "", "also write the run's items to `FILE` (.jsonl, .csv, .json; - for stdout)")
	fs.StringVar(&o.output, "output", "", "same as -o")
	fs.StringVar(&o.format, "format", "", "output format: jsonl, csv, json or table (default: from the file extension; jsonl for stdout)")
	fs.IntVar(&o.concurrency, "concurrency", crawl.DefaultConcurrency, "maximum requests in flight across all hosts")
	fs.BoolVar(&o.restart, "restart", false, "start a new run even if an unfinished run of this spider can be resumed")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress output, only the summary")
	fs.StringVar(&o.logLevel, "log-level", "warn", "diagnostics on stderr: debug, info, warn or error")
	fs.DurationVar(&o.progress, "progress-interval", 5*time.Second, "how often to print a progress line when stderr is not a terminal")
	fs.StringVar(&o.cpuProfile, "cpu-profile", "", "write a CPU profile of the run to `FILE` (go tool pprof)")
	pos, err := parseFlags(fs, args, env, env.Stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("run takes one spider file, got %d arguments", len(pos))
	}
	if o.cpuProfile != "" {
		stop, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if o.concurrency < 1 {
		return usageErrorf("--concurrency must be at least 1, got %d", o.concurrency)
	}
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
	if errors.As(err, &ve) {
		fmt.Fprintln(env.Stderr, ve.Error())
		fmt.Fprintf(env.Stderr, "%s: %d problem%s; nothing was fetched\n", path, len(ve.Problems), plural(len(ve.Problems)))
		return nil, &exitError{code: ExitUsage}
	}
	if err != nil {
		return nil, trawl.Errorf(trawl.EINVALID, "%v", err)
	}
	return sp, nil
}

// runSpider crawls sp to completion (resuming an unfinished run of the same
// spider), then writes the run's items to the output, if any.
func runSpider(ctx context.Context, sp *spider.Spider, o runOptions, env Env) error {
	begin := time.Now()
	logger, err := newLogger(env.Stderr, o.logLevel)
	if err != nil {
		return err
	}
	// Validate the output before crawling: finding out afterwards is too late.
	format, err := outputFormat(o.output, o.format)
	if err != nil {
		return err
	}
	if o.output != "" && o.output != "-" {
		dir := env.path(filepath.Dir(o.output))
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return usageErrorf("-o %s: directory %s does not exist", o.output, dir)
		}
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
	defer func() {
		start := time.Now()
		db.Close()
		logger.Debug("store closed", "took", time.Since(start))
	}()

	run, resumed, err := startRun(ctx, db, sp, o.restart)
	if err != nil {
		return err
	}
	unlock, err := lockRun(db.Path(), run.ID)
	if err != nil {
		return err
	}
	defer unlock()
	if resumed {
		fmt.Fprintf(env.Stderr, "resuming run %d of %s: %d pages done, %d items so far\n", run.ID, sp.Name, run.Stats.Pages, run.Stats.Items)
	} else if !o.quiet {
		fmt.Fprintf(env.Stderr, "run %d of %s: %d start URL%s\n", run.ID, sp.Name, len(sp.StartURLs), plural(len(sp.StartURLs)))
	}

	logger.Debug("run ready", "run", run.ID, "resumed", resumed, "took", time.Since(begin))
	fc := fetch.New(fetch.Config{})
	defer fc.Close()
	engine := crawl.New(db, fc, robots.New(fc, robots.Config{}), crawl.Config{Concurrency: o.concurrency, Logger: logger})
	prog := newProgress(env.Stderr, run.Stats, o.quiet, o.progress)
	prog.start()
	start := time.Now()
	res, runErr := engine.Run(ctx, crawl.RunParams{Spider: sp, Run: run, OnProgress: prog.update})
	prog.stop()
	stats := res.Stats
	elapsed := time.Since(start)

	if runErr != nil && ctx.Err() != nil {
		fmt.Fprintf(env.Stderr, "interrupted: %s\n", summary(stats, elapsed))
		fmt.Fprintf(env.Stderr, "every finished page is saved; run the same command again to resume run %d\n", run.ID)
		return &exitError{code: ExitInterrupted}
	}
	if runErr != nil {
		if ferr := db.FinishRun(context.WithoutCancel(ctx), run.ID, trawl.RunFailed, runErr.Error()); ferr != nil {
			logger.Error("record failed run", "run", run.ID, "err", ferr)
		}
		return fmt.Errorf("run %d failed: %w", run.ID, runErr)
	}
	if err := db.FinishRun(ctx, run.ID, trawl.RunSucceeded, ""); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "run %d finished: %s\n", run.ID, summary(stats, elapsed))
	if failed, err := db.FailedPages(ctx, run.ID, 10); err == nil && len(failed) > 0 {
		printFailed(env.Stderr, failed, stats.ErrorCount())
	}
	if o.output != "" {
		// Fold the WAL into the database file while the output is written,
		// instead of at Close afterwards.
		ckpt := make(chan error, 1)
		go func() { ckpt <- db.Checkpoint(ctx) }()
		defer func() {
			if err := <-ckpt; err != nil {
				logger.Warn("checkpoint", "err", err)
			}
		}()
		defer func(start time.Time) { logger.Debug("output written", "took", time.Since(start)) }(time.Now())
		return writeOutput(ctx, db, store.ItemQuery{Dataset: sp.Name, RunID: run.ID}, o.output, format, env)
	}
	return nil
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

func outputFormat(output, format string) (export.Format, error) {
	switch {
	case format != "":
		f, err := export.ParseFormat(format)
		if err != nil {
			return "", usageErrorf("--format: %s", trawl.ErrorMessage(err))
		}
		return f, nil
	case output == "" || output == "-":
		return export.JSONL, nil
	default:
		f, err := export.FormatFromPath(output)
		if err != nil {
			return "", usageErrorf("-o %s: %s", output, trawl.ErrorMessage(err))
		}
		return f, nil
	}
}

// writeOutput exports items to path ("-" is stdout) atomically.
func writeOutput(ctx context.Context, db store.Store, q store.ItemQuery, path string, f export.Format, env Env) error {
	ds, err := db.Dataset(ctx, q.Dataset)
	if err != nil {
		return err
	}
	opt := export.Options{Columns: ds.Columns}
	items := db.Items(ctx, q)
	if path == "-" {
		_, err := export.Write(env.Stdout, f, items, opt)
		return err
	}
	path = env.path(path)
	n, err := export.WriteFile(path, f, items, opt)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Fprintf(env.Stderr, "wrote %d item%s to %s\n", n, plural(n), path)
	return nil
}

// summary is the one-line account of a run.
func summary(s trawl.RunStats, d time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d pages, %d items", s.Pages, s.Items)
	if s.Invalid > 0 {
		fmt.Fprintf(&b, " (%d invalid dropped)", s.Invalid)
	}
	fmt.Fprintf(&b, ", %d errors", s.ErrorCount())
	if len(s.Errors) > 0 {
		b.WriteString(" (")
		for i, c := range sortedKeys(s.Errors) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %d", c, s.Errors[c])
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, ", %s in %s", formatBytes(s.Bytes), d.Round(time.Millisecond))
	if secs := d.Seconds(); secs > 0 {
		fmt.Fprintf(&b, " (%.1f pages/s)", float64(s.Pages)/secs)
	}
	return b.String()
}

func printFailed(w io.Writer, failed []store.FailedPage, total int64) {
	fmt.Fprintln(w, "failed pages:")
	for _, p := range failed {
		detail := p.Error
		if p.Status >= 400 {
			detail = fmt.Sprintf("HTTP %d", p.Status)
		}
		if len(detail) > 100 {
			detail = detail[:100] + "…"
		}
		if detail != "" {
			detail = " (" + detail + ")"
		}
		fmt.Fprintf(w, "  %-12s %s%s\n", p.ErrorClass, p.URL, detail)
	}
	if rest := total - int64(len(failed)); rest > 0 {
		fmt.Fprintf(w, "  ... and %d more\n", rest)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
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
