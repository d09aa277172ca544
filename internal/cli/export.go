package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// exportCmd writes a dataset's items, or one run's, to a file or stdout.
func exportCmd(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("export", "DATASET [flags]",
		"Write the items of DATASET (a spider's name) to a file or stdout: all of them, or with --run the items that run stored, as it stored them. Without DATASET, list the datasets.")
	var db, output, format string
	var runID int64
	var csvSafe bool
	fs.StringVar(&db, "db", DefaultDB, "database: a SQLite `FILE` or a postgres:// URL")
	fs.StringVar(&output, "output", "-", "write to `FILE` (.jsonl, .csv, .json), atomically; - for stdout")
	fs.alias("o", "output")
	fs.StringVar(&format, "format", "", "`FORMAT` of the output: jsonl, csv, json or table (default: from the file extension; jsonl for stdout)")
	fs.BoolVar(&csvSafe, "csv-safe", false, "guard CSV cells that a spreadsheet would run as formulas (docs/csv.md)")
	fs.Int64Var(&runID, "run", 0, "only the items that run `ID` stored, as it stored them")
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return listForExport(ctx, db, env)
	}
	if len(pos) != 1 {
		return fs.usageErrorf("export takes one dataset name, got %d arguments", len(pos))
	}
	f, err := outputFormat("export", output, format, env)
	if err != nil {
		return err
	}
	target, err := checkOutput("export", output, env)
	if err != nil {
		return err
	}
	st, err := openExistingStore(ctx, db, env)
	if err != nil {
		return err
	}
	defer st.Close()
	if runID != 0 {
		run, err := st.Run(ctx, runID)
		if err != nil {
			return err
		}
		if run.Spider != pos[0] {
			return trawl.Errorf(trawl.EINVALID, "run %d is a run of %s, not of %s: trawl export %s --run %d", runID, run.Spider, pos[0], run.Spider, runID)
		}
	}
	if target != "" {
		removeStaleTemps(target, env)
	}
	return writeOutput(ctx, st, store.ItemQuery{Dataset: pos[0], RunID: runID}, output, f, csvSafe, env)
}

// listForExport answers `trawl export` without a dataset: which datasets
// there are to export.
func listForExport(ctx context.Context, db string, env Env) error {
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
		return &usageError{msg: fmt.Sprintf("export needs a dataset name, and %s holds none yet: run a spider first", storeName(st, db)), cmd: "export"}
	}
	var b bytes.Buffer
	printDatasets(&b, sets)
	return &usageError{
		msg: fmt.Sprintf("export needs a dataset name, e.g. trawl export %s -o %s.csv; %s holds:\n%s",
			sets[0].Name, sets[0].Name, storeName(st, db), strings.TrimRight(b.String(), "\n")),
		cmd: "export",
	}
}
