package cli

import (
	"context"

	"github.com/trawl-dev/trawl/internal/store"
)

// exportCmd writes a dataset's items to a file or stdout.
func exportCmd(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("export", "export DATASET [-o FILE] [--format jsonl|csv|json|table]")
	var db, output, format string
	var runID int64
	fs.StringVar(&db, "db", DefaultDB, "database: a SQLite file path")
	fs.StringVar(&output, "o", "-", "write to `FILE` (.jsonl, .csv, .json); - for stdout")
	fs.StringVar(&output, "output", "-", "same as -o")
	fs.StringVar(&format, "format", "", "jsonl, csv, json or table (default: from the file extension; jsonl for stdout)")
	fs.Int64Var(&runID, "run", 0, "only the items stored by this run")
	pos, err := parseFlags(fs, args, env, env.Stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("export takes one dataset name, got %d arguments", len(pos))
	}
	f, err := outputFormat(output, format)
	if err != nil {
		return err
	}
	st, err := openExistingStore(ctx, db, env)
	if err != nil {
		return err
	}
	defer st.Close()
	return writeOutput(ctx, st, store.ItemQuery{Dataset: pos[0], RunID: runID}, output, f, env)
}
