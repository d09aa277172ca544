package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/trawl-dev/trawl/internal/client"
	"github.com/trawl-dev/trawl/internal/export"
)

const itemsAbout = `Print the items of DATASET (a spider's name) stored on the server, filtered
on any field: --where author=Jane keeps the items whose author is Jane (for
a list field, one of whose elements is), and --where may be repeated (all
must hold). --format table shows an aligned table (the default on a
terminal), jsonl one JSON object per line (the default otherwise), csv a CSV
file by the rules of docs/csv.md. Without a dataset, list the datasets.
For a local database, use trawl export.`

// whereFlags collects repeated --where FIELD=VALUE flags.
type whereFlags []client.Filter

func (w *whereFlags) String() string { return "" }
func (w *whereFlags) Set(s string) error {
	field, value, ok := strings.Cut(s, "=")
	if !ok || field == "" {
		return fmt.Errorf("want FIELD=VALUE, like author=Jane Austen")
	}
	*w = append(*w, client.Filter{Field: field, Value: value})
	return nil
}

// tablePage is how many items --format table shows without --limit.
const tablePage = 50

func itemsCmd(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("items", "DATASET [flags]", itemsAbout)
	var r remote
	var where whereFlags
	var fold bool
	var fields, format, since string
	var limit int
	addRemoteFlags(fs, &r)
	fs.Var(&where, "where", "keep the items whose `FIELD=VALUE` (repeatable; all must hold)")
	fs.BoolVar(&fold, "fold", false, "compare the --where values ignoring case")
	fs.StringVar(&fields, "fields", "", "only the fields `A,B,...`, in that order (and _url)")
	fs.StringVar(&format, "format", "", "`FORMAT`: table, jsonl or csv (default: table on a terminal, jsonl otherwise)")
	fs.StringVar(&since, "since", "", "only the items stored or updated after `TIME` (RFC 3339, or a duration like 24h for that long ago)")
	fs.IntVar(&limit, "limit", 0, "at most `N` items (default: all for jsonl and csv, 50 for table)")
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return fs.usageErrorf("items takes one dataset name, got %d arguments", len(pos))
	}
	if limit < 0 {
		return fs.usageErrorf("--limit must be at least 1, got %d", limit)
	}
	f := export.Table
	if format != "" {
		if f, err = export.ParseFormat(format); err != nil || f == export.JSON {
			return fs.usageErrorf("--format %q: want table, jsonl or csv", format)
		}
	} else if !isTerminal(env.Stdout) {
		f = export.JSONL
	}
	q := client.ItemQuery{Filters: where, Fold: fold}
	if fields != "" {
		q.Fields = strings.Split(fields, ",")
	}
	if since != "" {
		if q.Since, err = parseSince(since, time.Now()); err != nil {
			return fs.usageErrorf("--since: %v", err)
		}
	}
	c, err := r.client(fs)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return listRemoteDatasets(ctx, c, env)
	}
	if f != export.Table {
		q.Limit = limit
		body, err := c.ExportItems(ctx, pos[0], string(f), q)
		if err != nil {
			return err
		}
		defer body.Close()
		if _, err := io.Copy(env.Stdout, body); err != nil {
			return fmt.Errorf("items of %s: %w", pos[0], err)
		}
		return nil
	}
	return itemsTable(ctx, c, pos[0], q, limit, env)
}

// itemsTable prints up to limit items (tablePage when 0) as a table,
// reading as many pages as that takes.
func itemsTable(ctx context.Context, c *client.Client, dataset string, q client.ItemQuery, limit int, env Env) error {
	want := limit
	if want == 0 {
		want = tablePage
	}
	var items []json.RawMessage
	more := false
	for len(items) < want {
		q.Limit = min(want-len(items), 1000)
		page, next, err := c.Items(ctx, dataset, q)
		if err != nil {
			return err
		}
		items = append(items, page...)
		if next == "" || len(page) == 0 {
			break
		}
		q.Cursor, more = next, true
	}
	more = more && len(items) >= want
	if len(items) == 0 {
		fmt.Fprintf(env.Stderr, "no items in %s match\n", dataset)
		return nil
	}
	var columns []string
	if len(q.Fields) > 0 {
		columns = append(q.Fields, "_url")
	}
	seq := iter.Seq2[json.RawMessage, error](func(yield func(json.RawMessage, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	})
	if _, err := export.Write(env.Stdout, export.Table, seq, export.Options{Columns: columns}); err != nil {
		return err
	}
	if more && limit == 0 {
		fmt.Fprintf(env.Stderr, "the first %d items; --limit N shows more, --format jsonl or csv all of them\n", len(items))
	}
	return nil
}

// listRemoteDatasets answers trawl items without a dataset.
func listRemoteDatasets(ctx context.Context, c *client.Client, env Env) error {
	sets, err := c.Datasets(ctx)
	if err != nil {
		return err
	}
	if len(sets) == 0 {
		fmt.Fprintf(env.Stderr, "no datasets on %s yet: start a run with trawl runs start SPIDER\n", c.URL())
		return nil
	}
	fmt.Fprintln(env.Stderr, "trawl items DATASET prints a dataset's items; the datasets are:")
	tw := newTable(env.Stdout)
	fmt.Fprintln(tw, "NAME\tITEMS\tLAST RUN\tUPDATED\tCOLUMNS")
	for _, d := range sets {
		last := "-"
		if d.LastRun > 0 {
			last = fmt.Sprint(d.LastRun)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", d.Name, d.Items, last, formatTime(d.UpdatedAt), strings.Join(d.Columns, ","))
	}
	return tw.Flush()
}

// parseSince reads --since: an RFC 3339 time or a duration ago.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use 2026-05-01T06:00:00Z or a duration like 24h", s)
}
