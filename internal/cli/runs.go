package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/trawl-dev/trawl/internal/client"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// remoteRuns lists the server's runs, newest first, at most limit.
func remoteRuns(ctx context.Context, fs *flagSet, r remote, spiderName string, status trawl.RunStatus, limit int, env Env) error {
	c, err := r.client(fs)
	if err != nil {
		return err
	}
	var runs []trawl.Run
	cursor := ""
	for len(runs) < limit {
		page, next, err := c.Runs(ctx, client.RunQuery{Spider: spiderName, Status: status, Page: client.Page{Limit: min(limit-len(runs), 1000), Cursor: cursor}})
		if err != nil {
			return err
		}
		for _, run := range page {
			runs = append(runs, run.Run)
		}
		if next == "" || next == cursor || len(page) == 0 {
			break
		}
		cursor = next
	}
	if len(runs) == 0 {
		fmt.Fprintf(env.Stderr, "no runs on %s\n", c.URL())
		return nil
	}
	printRuns(env.Stdout, runs[:min(len(runs), limit)])
	return nil
}

// isLocal reports whether a command that reads a local database or a
// server (runs, runs get) reads the database: when no server is named, or
// --db is given on the command line and the server only by TRAWL_SERVER.
func isLocal(fs *flagSet, r remote) (bool, error) {
	given := fs.given()
	switch {
	case given["db"] && given["server"]:
		return false, fs.usageErrorf("--db reads a local database and --server a server's: give one of them")
	case given["db"]:
		return true, nil
	}
	return r.server == "", nil
}

// runID parses the ID argument of a runs subcommand.
func runID(fs *flagSet, pos []string) (int64, error) {
	if len(pos) != 1 {
		return 0, fs.usageErrorf("%s takes one run ID, got %d arguments", fs.name, len(pos))
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id < 1 {
		return 0, fs.usageErrorf("%s: %q is not a run ID (a number, as trawl runs lists them)", fs.name, pos[0])
	}
	return id, nil
}

// runsGet shows one run, from the local database or the server.
func runsGet(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("runs get", "ID [flags]", "Show the run ID: its spider, status, times, statistics and error. Without --server (or TRAWL_SERVER), from the local database.")
	var db string
	var r remote
	fs.StringVar(&db, "db", DefaultDB, "database: a SQLite `FILE` (without --server)")
	addRemoteFlags(fs, &r)
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	id, err := runID(fs, pos)
	if err != nil {
		return err
	}
	local, err := isLocal(fs, r)
	if err != nil {
		return err
	}
	if local {
		st, err := openExistingStore(ctx, db, env)
		if err != nil {
			return err
		}
		defer st.Close()
		run, err := st.Run(ctx, id)
		if err != nil {
			return err
		}
		printRun(env.Stdout, client.Run{Run: *run})
		return nil
	}
	c, err := r.client(fs)
	if err != nil {
		return err
	}
	run, err := c.Run(ctx, id)
	if err != nil {
		return err
	}
	printRun(env.Stdout, *run)
	return nil
}

// printRun writes a run as aligned "field value" lines.
func printRun(w io.Writer, r client.Run) {
	line := func(k, v string) { fmt.Fprintf(w, "%-9s %s\n", k, v) }
	line("run", strconv.FormatInt(r.ID, 10))
	line("spider", r.Spider)
	line("status", string(r.Status))
	if r.Error != "" {
		line("error", r.Error)
	}
	line("created", formatTime(r.CreatedAt))
	if r.RunAt != nil {
		line("run at", formatTime(*r.RunAt))
	}
	if r.StartedAt != nil {
		line("started", formatTime(*r.StartedAt))
	}
	if r.FinishedAt != nil {
		line("finished", formatTime(*r.FinishedAt))
	}
	s := r.Stats
	line("pages", fmt.Sprintf("%d of %d found", s.Pages, s.Queued))
	items := strconv.FormatInt(s.Items, 10)
	if s.Invalid > 0 {
		items += fmt.Sprintf(" (%d invalid dropped)", s.Invalid)
	}
	line("items", items)
	errs := strconv.FormatInt(s.ErrorCount(), 10)
	if len(s.Errors) > 0 {
		var parts []string
		for _, c := range sortedKeys(s.Errors) {
			parts = append(parts, fmt.Sprintf("%s %d", c, s.Errors[c]))
		}
		errs += " (" + strings.Join(parts, ", ") + ")"
	}
	line("errors", errs)
	line("fetched", formatBytes(s.Bytes))
}

const runsStartAbout = `Queue a run of the spider SPIDER stored on the server (trawl spiders put,
trawl apply). It starts when the server has capacity, or at --at. The server
refuses a second run of a spider that has one queued or running.`

func runsStart(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("runs start", "SPIDER [flags]", runsStartAbout)
	var r remote
	var at string
	var watch bool
	addRemoteFlags(fs, &r)
	fs.StringVar(&at, "at", "", "start at `TIME`: RFC 3339 (2026-05-01T06:00:00Z), local 2026-05-01 06:00, or a delay like 10m")
	fs.BoolVar(&watch, "watch", false, "then follow the run's progress as trawl runs watch does")
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fs.usageErrorf("runs start takes one spider name, got %d arguments", len(pos))
	}
	var runAt time.Time
	if at != "" {
		if runAt, err = parseRunAt(at, time.Now()); err != nil {
			return fs.usageErrorf("--at: %v", err)
		}
	}
	c, err := r.client(fs)
	if err != nil {
		return err
	}
	run, err := c.StartRun(ctx, pos[0], runAt)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("run %d of %s queued", run.ID, run.Spider)
	if run.RunAt != nil {
		msg += " to start at " + formatTime(*run.RunAt)
	}
	if !watch {
		fmt.Fprintf(env.Stdout, "%s; follow it with: trawl runs watch %d\n", msg, run.ID)
		return nil
	}
	fmt.Fprintln(env.Stderr, msg)
	return watchRun(ctx, c, run.ID, false, 0, env)
}

// parseRunAt reads --at: an RFC 3339 time, a local date and time, or a
// delay from now.
func parseRunAt(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use 2026-05-01T06:00:00Z, 2026-05-01 06:00 (local) or a delay like 10m", s)
}

func runsCancel(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("runs cancel", "ID [flags]", "Cancel the run ID on the server: a queued run at once, a running one within seconds (its committed pages and items stay).")
	var r remote
	addRemoteFlags(fs, &r)
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	id, err := runID(fs, pos)
	if err != nil {
		return err
	}
	c, err := r.client(fs)
	if err != nil {
		return err
	}
	run, err := c.CancelRun(ctx, id)
	if err != nil {
		return err
	}
	if run.Status == trawl.RunCanceled {
		fmt.Fprintf(env.Stdout, "run %d of %s canceled\n", run.ID, run.Spider)
	} else {
		fmt.Fprintf(env.Stdout, "run %d of %s is stopping (%s); trawl runs watch %d shows when it has\n", run.ID, run.Spider, run.Status, run.ID)
	}
	return nil
}

const runsWatchAbout = `Follow the run ID on the server: the live progress line of trawl run while
it is queued or running, then its summary. Exits as trawl run does: 0 when
it succeeded, 1 when it failed, 130 when it was canceled. Ctrl-C stops
watching, not the run (trawl runs cancel does).`

func runsWatch(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("runs watch", "ID [flags]", runsWatchAbout)
	var r remote
	var quiet bool
	var interval time.Duration
	addRemoteFlags(fs, &r)
	fs.BoolVar(&quiet, "quiet", false, "no progress output, only the summary")
	fs.DurationVar(&interval, "progress-interval", 5*time.Second, "print a progress line every `DURATION` when stderr is not a terminal")
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	id, err := runID(fs, pos)
	if err != nil {
		return err
	}
	c, err := r.client(fs)
	if err != nil {
		return err
	}
	return watchRun(ctx, c, id, quiet, interval, env)
}

// watchRun follows run id's events with the progress line of trawl run,
// then reports its end as trawl run does.
func watchRun(ctx context.Context, c *client.Client, id int64, quiet bool, interval time.Duration, env Env) error {
	prog := newProgress(env.Stderr, trawl.RunStats{}, quiet, interval)
	prog.start()
	final, err := c.WatchRun(ctx, id, func(ev client.Event) {
		if ev.Type == client.EventProgress {
			prog.updateRemote(ev.Run.Stats, ev.Rate, ev.Run.StartedAt)
		}
	})
	prog.stop()
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Cause(ctx)) {
			fmt.Fprintf(env.Stderr, "stopped watching run %d; it goes on on the server (trawl runs cancel %d stops it)\n", id, id)
			return &exitError{code: ExitInterrupted}
		}
		return err
	}
	var elapsed time.Duration
	if final.StartedAt != nil && final.FinishedAt != nil {
		elapsed = final.FinishedAt.Sub(*final.StartedAt)
	}
	line := summary(trawl.RunStats{}, final.Stats, elapsed)
	switch final.Status {
	case trawl.RunSucceeded:
		fmt.Fprintf(env.Stderr, "run %d finished: %s\n", id, line)
		return nil
	case trawl.RunCanceled:
		fmt.Fprintf(env.Stderr, "run %d canceled: %s\n", id, line)
		return &exitError{code: ExitInterrupted}
	default:
		fmt.Fprintf(env.Stderr, "run %d failed: %s\n", id, line)
		if final.Error != "" {
			fmt.Fprintf(env.Stderr, "trawl: run %d failed: %s\n", id, final.Error)
		}
		return &exitError{code: ExitError}
	}
}
