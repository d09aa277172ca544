// Package export streams items as JSONL, CSV, JSON or an aligned text table,
// to any writer or atomically to a file.
package export

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"strings"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// Format is an output format.
type Format string

// The output formats.
const (
	// JSONL writes one JSON object per line (also known as NDJSON).
	JSONL Format = "jsonl"
	// CSV writes RFC 4180 CSV with a header row; see EncodeCSVCell for how
	// values become cells.
	CSV Format = "csv"
	// JSON writes one JSON array of objects.
	JSON Format = "json"
	// Table writes an aligned plain-text table for terminals.
	Table Format = "table"
)

// DefaultMaxWidth is the widest a Table cell gets, in terminal columns, when
// Options.MaxWidth is zero.
const DefaultMaxWidth = 40

var formats = []Format{JSONL, CSV, JSON, Table}

// ParseFormat returns the format named s, ignoring case; "ndjson" is an alias
// of "jsonl". The error (code EINVALID) lists the valid names.
func ParseFormat(s string) (Format, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if name == "ndjson" {
		return JSONL, nil
	}
	for _, f := range formats {
		if string(f) == name {
			return f, nil
		}
	}
	return "", trawl.Errorf(trawl.EINVALID, "unknown format %q: want one of jsonl, csv, json, table", s)
}

// FormatFromPath returns the format implied by the extension of path:
// .jsonl and .ndjson are JSONL, .csv is CSV and .json is JSON, in any case.
// For any other extension the error (code EINVALID) suggests --format.
func FormatFromPath(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		return JSONL, nil
	case ".csv":
		return CSV, nil
	case ".json":
		return JSON, nil
	}
	return "", trawl.Errorf(trawl.EINVALID,
		"cannot tell the output format of %q from its extension (.jsonl, .ndjson, .csv, .json): use --format jsonl|csv|json", path)
}

// Options tune Write.
type Options struct {
	// Columns are the CSV and Table columns, in order. CSV requires them.
	// For Table, nil means the keys of the first item, followed by keys
	// first seen in later items. Keys of an item that are not columns are
	// left out; a column an item lacks is an empty cell.
	Columns []string
	// MaxWidth caps the width of a Table cell in terminal columns; longer
	// values end with "…". Zero means DefaultMaxWidth.
	MaxWidth int
	// CSVSafe guards CSV cells that a spreadsheet would run as formulas:
	// every cell, the header's included, goes through GuardCSVCell, which
	// puts a single quote in front of a cell starting with "=", "+", "-",
	// "@", a tab, a carriage return or "'" (docs/csv.md). Off by default,
	// because the guarded cells no longer read back as themselves without
	// UnguardCSVCell. Other formats ignore it.
	CSVSafe bool
}

// errNoColumns is returned for CSV output without Options.Columns.
var errNoColumns = errors.New("csv output needs columns")

// Write writes items to w in format f and returns how many items it wrote.
// Items are JSON objects. JSONL, JSON and CSV stream: each item is written
// (through a small buffer) before the next is pulled from the iterator, so
// memory stays flat however many items there are. Table has to see every
// item to align the columns, so it buffers them.
//
// An error from the iterator stops the output and is returned, wrapped;
// the output is then incomplete (WriteFile removes it).
func Write(w io.Writer, f Format, items iter.Seq2[json.RawMessage, error], opt Options) (int, error) {
	opt.MaxWidth = cmp.Or(opt.MaxWidth, DefaultMaxWidth)
	bw := bufio.NewWriterSize(w, 64<<10)
	var (
		n   int
		err error
	)
	switch f {
	case JSONL:
		n, err = writeJSONL(bw, items)
	case JSON:
		n, err = writeJSON(bw, items)
	case CSV:
		if len(opt.Columns) == 0 {
			return 0, fmt.Errorf("write csv: %w", errNoColumns)
		}
		n, err = writeCSV(bw, items, opt.Columns, opt.CSVSafe)
	case Table:
		n, err = writeTable(bw, items, opt)
	default:
		return 0, trawl.Errorf(trawl.EINVALID, "unknown format %q: want one of jsonl, csv, json, table", f)
	}
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write %s: %w", f, ferr)
	}
	return n, err
}

// compactObject appends the compact form of the JSON object raw to buf.
func compactObject(buf *bytes.Buffer, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("item is not a json object")
	}
	if err := json.Compact(buf, raw); err != nil {
		return fmt.Errorf("item is not valid json: %w", err)
	}
	return nil
}
