package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

const runsAbout = `List runs, newest first: id, spider, status, when it started, pages, items
and errors. Without --server (or TRAWL_SERVER) they are the runs of the
local database; with it, the server's. Subcommands: get ID shows one run;
with a server, start SPIDER queues a run of a stored spider, cancel ID stops
one and watch ID follows one live. See 'trawl help runs start' and so on.`

// runsCmd lists runs, locally or on a server, and starts, cancels and
// watches them on a server.
func runsCmd(ctx context.Context, args []string, env Env) error {
	return dispatch(ctx, "runs", []subcommand{
		{"list", runsList},
		{"get", runsGet},
		{"start", runsStart},
		{"cancel", runsCancel},
		{"watch", runsWatch},
	}, runsList, args, env)
}

// runsList lists the runs of the local database, or of the server.
func runsList(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("runs", "[list] [flags]", runsAbout)
	var db, spiderName, status string
	var limit int
	var r remote
	fs.StringVar(&db, "db", DefaultDB, "database: a SQLite `FILE` or a postgres:// URL (without --server)")
	addRemoteFlags(fs, &r)
	fs.StringVar(&spiderName, "spider", "", "only the runs of the spider `NAME`")
	fs.StringVar(&status, "status", "", "only the runs with `STATUS`: queued, running, succeeded, failed or canceled")
	fs.IntVar(&limit, "limit", 20, "at most `N` runs")
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fs.usageErrorf("runs list takes no arguments; to see one spider's runs: trawl runs --spider %s", pos[0])
	}
	switch trawl.RunStatus(status) {
	case "", trawl.RunQueued, trawl.RunRunning, trawl.RunSucceeded, trawl.RunFailed, trawl.RunCanceled:
	default:
		return fs.usageErrorf("--status %q: want queued, running, succeeded, failed or canceled", status)
	}
	if limit < 1 {
		return fs.usageErrorf("--limit must be at least 1, got %d", limit)
	}
	local, err := isLocal(fs, r)
	if err != nil {
		return err
	}
	if !local {
		return remoteRuns(ctx, fs, r, spiderName, trawl.RunStatus(status), limit, env)
	}
	st, err := openExistingStore(ctx, db, env)
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := st.Runs(ctx, store.RunQuery{Spider: spiderName, Status: trawl.RunStatus(status), Limit: limit})
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintf(env.Stderr, "no runs in %s\n", storeName(st, db))
		return nil
	}
	printRuns(env.Stdout, runs)
	return nil
}

func printRuns(w io.Writer, runs []trawl.Run) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ID\tSPIDER\tSTATUS\tSTARTED\tPAGES\tITEMS\tERRORS\t")
	for _, r := range runs {
		started := r.CreatedAt
		if r.StartedAt != nil {
			started = *r.StartedAt
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t\n", r.ID, r.Spider, r.Status, formatTime(started), r.Stats.Pages, r.Stats.Items, r.Stats.ErrorCount())
	}
	tw.Flush()
}

// datasetsCmd lists the datasets the local database holds.
func datasetsCmd(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("datasets", "[flags]", "List the datasets in the database: name, items, the last run that wrote it and when it changed.")
	var db string
	fs.StringVar(&db, "db", DefaultDB, "database: a SQLite `FILE` or a postgres:// URL")
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fs.usageErrorf("datasets takes no arguments; to see a dataset's items: trawl export %s --format table", pos[0])
	}
	st, err := openExistingStore(ctx, db, env)
	if err != nil {
		return err
	}
	defer st.Close()
	sets, err := st.Datasets(ctx)
	if err != nil {
		return err
	}
	if len(sets) == 0 {
		fmt.Fprintf(env.Stderr, "no datasets in %s\n", storeName(st, db))
		return nil
	}
	printDatasets(env.Stdout, sets)
	return nil
}

func printDatasets(w io.Writer, sets []store.Dataset) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tITEMS\tLAST RUN\tUPDATED")
	for _, d := range sets {
		last := "-"
		if d.LastRun > 0 {
			last = fmt.Sprint(d.LastRun)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", d.Name, d.Items, last, formatTime(d.UpdatedAt))
	}
	tw.Flush()
}

// formatTime shows a time in the local zone, to the second.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
