package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/trawl-dev/trawl/internal/export"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// outputFormat is the format of the output of command cmd: --format, or
// the file's extension; JSONL for stdout and for files that are not
// regular files (-o /dev/null), whose names have no extension.
func outputFormat(cmd, output, format string, env Env) (export.Format, error) {
	switch {
	case format != "":
		f, err := export.ParseFormat(format)
		if err != nil {
			return "", &usageError{msg: "--format: " + trawl.ErrorMessage(err), cmd: cmd}
		}
		return f, nil
	case output == "" || output == "-":
		return export.JSONL, nil
	default:
		f, err := export.FormatFromPath(output)
		if err != nil {
			if fi, serr := os.Stat(env.path(output)); serr == nil && !fi.IsDir() && !fi.Mode().IsRegular() {
				return export.JSONL, nil
			}
			return "", &usageError{msg: fmt.Sprintf("-o %s: %s", output, trawl.ErrorMessage(err)), cmd: cmd}
		}
		return f, nil
	}
}

// checkOutput checks, before any work, that output can be written: its
// directory exists and it is not a directory. It returns the absolute path
// of the file, or "" for none and for stdout.
func checkOutput(cmd, output string, env Env) (string, error) {
	if output == "" || output == "-" {
		return "", nil
	}
	path := env.path(output)
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", &usageError{msg: fmt.Sprintf("-o %s: directory %s does not exist", output, dir), cmd: cmd}
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return "", &usageError{msg: fmt.Sprintf("-o %s: is a directory", output), cmd: cmd}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("-o %s: %w", output, err)
	}
	return abs, nil
}

// removeStaleTemps removes what a process killed while writing target left.
func removeStaleTemps(target string, env Env) {
	removed, err := export.RemoveStaleTemps(target)
	if err != nil {
		fmt.Fprintf(env.Stderr, "warning: %v\n", err)
	}
	if len(removed) > 0 {
		fmt.Fprintf(env.Stderr, "removed %d temporary file%s left by an interrupted write of %s\n", len(removed), plural(len(removed)), target)
	}
}

// pendingOutput refuses to crawl again when the previous holder of the
// dataset's lock finished its run but was stopped while writing the same
// output (kill -9, a full disk): the run's items are all stored, so the
// user needs an export, not a second crawl. A file written after the run
// finished (the user exported it) settles the matter.
func pendingOutput(ctx context.Context, db store.Store, lock *datasetLock, dataset string, o runOptions, target string) error {
	if lock == nil {
		return nil // no lock file, no record of an unfinished write
	}
	p := lock.prev
	if p.Output != target || p.Run == 0 || o.restart || o.retryFailed {
		return nil
	}
	run, err := db.Run(ctx, p.Run)
	if err != nil || run.Status != trawl.RunSucceeded || run.FinishedAt == nil {
		return nil
	}
	if fi, err := os.Stat(target); err == nil && fi.Mode().IsRegular() && fi.ModTime().After(*run.FinishedAt) {
		return nil
	}
	lock.keepState() // the next same command says the same
	return trawl.Errorf(trawl.ECONFLICT, "run %d of %s finished, but writing %s was stopped before it completed; the items are stored:\n"+
		"  %s   # write them\n"+
		"  trawl run %s --restart   # or crawl again",
		run.ID, dataset, o.output, exportCommand(dataset, run.ID, o), strings.Join(runArgs(o), " "))
}

// exportCommand is the command that writes a run's items as o would have.
func exportCommand(dataset string, runID int64, o runOptions) string {
	cmd := fmt.Sprintf("trawl export %s --run %d -o %s", dataset, runID, o.output)
	if o.format != "" {
		cmd += " --format " + o.format
	}
	if o.csvSafe {
		cmd += " --csv-safe"
	}
	return cmd + dbFlag(o.db)
}

// runArgs are the arguments of the run command o came from, as far as a
// hint needs them.
func runArgs(o runOptions) []string {
	args := []string{o.spiderPath}
	if o.output != "" {
		args = append(args, "-o", o.output)
	}
	if o.format != "" {
		args = append(args, "--format", o.format)
	}
	if o.db != DefaultDB {
		args = append(args, "--db", o.db)
	}
	return args
}

// writeRunOutput writes the items of a finished run to o.output. While it
// writes, the dataset's lock records it, so that if the process dies the
// next same command says how to write the file instead of crawling again.
func writeRunOutput(ctx context.Context, db store.Store, lock *datasetLock, dataset string, runID int64, f export.Format, target string, o runOptions, env Env) error {
	if target != "" {
		lock.record(lockState{Run: runID, Output: target})
	}
	err := writeOutput(ctx, db, store.ItemQuery{Dataset: dataset, RunID: runID}, o.output, f, o.csvSafe, env)
	if err == nil {
		lock.record(lockState{Run: runID})
		return nil
	}
	if target != "" {
		lock.keepState()
	}
	hint := fmt.Sprintf("run %d finished and its items are stored; write them with:\n  %s", runID, exportCommand(dataset, runID, o))
	if errors.Is(err, syscall.ENOSPC) {
		fmt.Fprintf(env.Stderr, "trawl: the disk is full: %s was not written\n%s\n", o.output, hint)
		return &exitError{code: ExitTempFail}
	}
	fmt.Fprintf(env.Stderr, "trawl: %s\n%s\n", errorText(err), hint)
	return &exitError{code: ExitError}
}

// writeOutput exports items to path ("-" is stdout) atomically.
func writeOutput(ctx context.Context, db store.Store, q store.ItemQuery, path string, f export.Format, csvSafe bool, env Env) error {
	ds, err := db.Dataset(ctx, q.Dataset)
	if err != nil {
		return err
	}
	opt := export.Options{Columns: ds.Columns, CSVSafe: csvSafe}
	items := db.Items(ctx, q)
	if path == "-" {
		_, err := export.Write(env.Stdout, f, items, opt)
		return err
	}
	n, err := export.WriteFile(env.path(path), f, items, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "wrote %d item%s to %s\n", n, plural(n), path)
	return nil
}

// errorText is how an error reads to users: a coded error's message, or
// the whole chain of an internal one.
func errorText(err error) string {
	if trawl.ErrorCode(err) != trawl.EINTERNAL {
		return trawl.ErrorMessage(err)
	}
	return err.Error()
}
