package export_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/export"
	"github.com/trawl-dev/trawl/internal/trawl"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// wantFile is the golden file name of each format.
var wantFile = map[export.Format]string{
	export.JSONL: "want.jsonl",
	export.CSV:   "want.csv",
	export.JSON:  "want.json",
	export.Table: "want.txt",
}

// safeCSVFile is the golden file of CSV written with Options.CSVSafe.
const safeCSVFile = "want-safe.csv"

// TestGolden writes every case in testdata/golden/ in every format, and as
// CSV with CSVSafe. A case is a directory with items.jsonl (JSON objects,
// possibly over several lines) and columns (one per line, used for CSV; the
// table derives its own).
func TestGolden(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob(filepath.Join("testdata", "golden", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, dir := range dirs {
		items := readItems(t, filepath.Join(dir, "items.jsonl"))
		columns := strings.Fields(readFile(t, filepath.Join(dir, "columns")))
		files := maps.Clone(wantFile)
		files["csv-safe"] = safeCSVFile
		for f, name := range files {
			t.Run(filepath.Base(dir)+"/"+string(f), func(t *testing.T) {
				t.Parallel()
				opt := export.Options{}
				if f == "csv-safe" {
					f, opt.CSVSafe = export.CSV, true
				}
				if f == export.CSV {
					opt.Columns = columns
				}
				var buf bytes.Buffer
				n, err := export.Write(&buf, f, seq(items), opt)
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				if n != len(items) {
					t.Errorf("Write = %d items, want %d", n, len(items))
				}
				path := filepath.Join(dir, name)
				if *update {
					if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if diff := cmp.Diff(readFile(t, path), buf.String()); diff != "" {
					t.Errorf("output mismatch (-want +got), run with -update to accept:\n%s", diff)
				}
			})
		}
	}
}

// TestGoldenOutputsParse checks that the golden JSON and JSONL files are
// what they claim to be, so that -update cannot bless broken output.
func TestGoldenOutputsParse(t *testing.T) {
	t.Parallel()
	dirs, _ := filepath.Glob(filepath.Join("testdata", "golden", "*"))
	for _, dir := range dirs {
		items := readItems(t, filepath.Join(dir, "items.jsonl"))
		var arr []json.RawMessage
		if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "want.json"))), &arr); err != nil {
			t.Errorf("%s/want.json: %v", dir, err)
		}
		lines := readItems(t, filepath.Join(dir, "want.jsonl"))
		if len(arr) != len(items) || len(lines) != len(items) {
			t.Errorf("%s: json has %d items, jsonl %d, want %d", dir, len(arr), len(lines), len(items))
		}
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want export.Format
		ok   bool
	}{
		{"jsonl", export.JSONL, true},
		{"JSONL", export.JSONL, true},
		{"ndjson", export.JSONL, true},
		{"csv", export.CSV, true},
		{" Csv ", export.CSV, true},
		{"json", export.JSON, true},
		{"table", export.Table, true},
		{"xml", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := export.ParseFormat(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil {
			if code := trawl.ErrorCode(err); code != trawl.EINVALID {
				t.Errorf("ParseFormat(%q) code = %q, want %q", tt.in, code, trawl.EINVALID)
			}
			if msg := err.Error(); !strings.Contains(msg, "jsonl, csv, json, table") {
				t.Errorf("ParseFormat(%q) error %q does not list the formats", tt.in, msg)
			}
		}
	}
}

func TestFormatFromPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		want export.Format
		ok   bool
	}{
		{"out.jsonl", export.JSONL, true},
		{"dir/out.NDJSON", export.JSONL, true},
		{"out.csv", export.CSV, true},
		{"/tmp/a.b/out.json", export.JSON, true},
		{"out.txt", "", false},
		{"out", "", false},
		{"out.json.gz", "", false},
	}
	for _, tt := range tests {
		got, err := export.FormatFromPath(tt.path)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("FormatFromPath(%q) = %q, %v; want %q, ok=%v", tt.path, got, err, tt.want, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "--format") {
			t.Errorf("FormatFromPath(%q) error %q does not suggest --format", tt.path, err)
		}
	}
}

// TestCSVRoundTrip writes values through the real CSV writer, reads them
// back with encoding/csv and DecodeCSVCell (after UnguardCSVCell with
// CSVSafe), and expects the same values: the encoding is unambiguous, with
// the guard as without it.
func TestCSVRoundTrip(t *testing.T) {
	t.Parallel()
	values := []any{
		nil, "", "plain", "a,b", `"q"`, `say "hi"`, "line\nbreak", "cr\r\nlf", `["x"]`, "[x", "{", `{"a":1}`,
		"42", "-1", "1e5", "0123", "-", "1.", " 42", "42 ", "null", "true", "false", "nul", "True", " ",
		"\t", "ünïcödé 東京 🐟", "=SUM(A1)", `\`, "a\x00b",
		"+1", "@x", "-x", "'", "''=1", "'plain", "\tx", "\r=1", "=", "-cmd|' /C calc'!A0",
		json.Number("42"), json.Number("-1.5e+300"), json.Number("12345678901234567890"), true, false,
		json.Number("12345678901234567890123"), json.Number("-12345678901234567890123"), json.Number("-0"),
		[]any{"a", "b, c"}, []any{}, []any{json.Number("1"), nil, true, []any{"x"}},
		[]any{"=1", json.Number("-12345678901234567890123")},
		map[string]any{}, map[string]any{"k": "v", "n": json.Number("2"), "l": []any{"<&>"}},
	}
	columns := make([]string, len(values))
	obj := make(map[string]any, len(values))
	for i, v := range values {
		columns[i] = fmt.Sprintf("c%d", i)
		obj[columns[i]] = v
	}
	columns[0] = "=c0" // a header cell the guard changes
	obj[columns[0]] = values[0]
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	for _, safe := range []bool{false, true} {
		t.Run(fmt.Sprintf("safe=%v", safe), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			opt := export.Options{Columns: columns, CSVSafe: safe}
			if _, err := export.Write(&buf, export.CSV, seq([]json.RawMessage{raw}), opt); err != nil {
				t.Fatalf("Write: %v", err)
			}
			records, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatalf("read csv: %v", err)
			}
			if len(records) != 2 {
				t.Fatalf("got %d records, want 2", len(records))
			}
			unguard := func(s string) string { return s }
			if safe {
				unguard = export.UnguardCSVCell
			}
			header := make([]string, len(records[0]))
			for i, h := range records[0] {
				header[i] = unguard(h)
			}
			if diff := cmp.Diff(columns, header); diff != "" {
				t.Errorf("header mismatch (-want +got):\n%s", diff)
			}
			for i, cell := range records[1] {
				if safe && cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("value %#v: cell %q starts with a formula character", values[i], cell)
				}
				if got, want := export.DecodeCSVCell(unguard(cell)), values[i]; !cmp.Equal(got, want) {
					t.Errorf("value %#v: cell %q decodes to %#v", want, cell, got)
				}
			}
		})
	}
}

func TestGuardCSVCell(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{"", ""},
		{"plain", "plain"},
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-5", "'-5"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"'", "''"},
		{"'=1", "''=1"},
		{"a=1", "a=1"},
		{" =1", " =1"},
		{`"-5"`, `"-5"`},
		{`["=1"]`, `["=1"]`},
	}
	for _, tt := range tests {
		got := export.GuardCSVCell(tt.in)
		if got != tt.want {
			t.Errorf("GuardCSVCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if back := export.UnguardCSVCell(got); back != tt.in {
			t.Errorf("UnguardCSVCell(%q) = %q, want %q", got, back, tt.in)
		}
	}
}

func TestEncodeCSVCell(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{``, ``},
		{`null`, ``},
		{`"plain"`, `plain`},
		{`""`, `""`},
		{`"42"`, `"42"`},
		{`"null"`, `"null"`},
		{`"[x]"`, `"[x]"`},
		{`"\"q\""`, `"\"q\""`},
		{`"a,b"`, `a,b`},
		{`"\u003cb\u003e"`, `<b>`},
		{`"\u003c42"`, `<42`},
		{`42`, `42`},
		{` true `, `true`},
		{`[ "a", "b, c" ]`, `["a","b, c"]`},
		{`{"k": [1, 2]}`, `{"k":[1,2]}`},
	}
	for _, tt := range tests {
		got, err := export.EncodeCSVCell(json.RawMessage(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("EncodeCSVCell(%s) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`nul`, `"unterminated`, `[1,`, `tru`} {
		if got, err := export.EncodeCSVCell(json.RawMessage(bad)); err == nil {
			t.Errorf("EncodeCSVCell(%s) = %q, want an error", bad, got)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	good := json.RawMessage(`{"a":1}`)
	tests := []struct {
		name   string
		format export.Format
		items  []json.RawMessage
		opt    export.Options
		want   string
	}{
		{"csv without columns", export.CSV, []json.RawMessage{good}, export.Options{}, "needs columns"},
		{"unknown format", export.Format("xml"), []json.RawMessage{good}, export.Options{}, "unknown format"},
		{"jsonl array item", export.JSONL, []json.RawMessage{good, json.RawMessage(`[1]`)}, export.Options{}, "item 2: item is not a json object"},
		{"json invalid item", export.JSON, []json.RawMessage{json.RawMessage(`{"a":}`)}, export.Options{}, "item 1: item is not valid json"},
		{"csv string item", export.CSV, []json.RawMessage{json.RawMessage(`"s"`)}, export.Options{Columns: []string{"a"}}, "not a json object"},
		{"table invalid item", export.Table, []json.RawMessage{json.RawMessage(`{"a":1`)}, export.Options{}, "not valid json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := export.Write(io.Discard, tt.format, seq(tt.items), tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Write error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestTableColumns(t *testing.T) {
	t.Parallel()
	items := []json.RawMessage{
		json.RawMessage(`{"a":"1","b":"hidden","c":"x"}`),
		json.RawMessage(`{"c":"yy","d":"new"}`),
	}
	var buf bytes.Buffer
	if _, err := export.Write(&buf, export.Table, seq(items), export.Options{Columns: []string{"c", "a"}}); err != nil {
		t.Fatal(err)
	}
	want := "c   a\n--  -\nx   1\nyy\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("table mismatch (-want +got):\n%s", diff)
	}
	buf.Reset()
	if _, err := export.Write(&buf, export.Table, seq(items), export.Options{MaxWidth: 3}); err != nil {
		t.Fatal(err)
	}
	want = "a  b    c   d\n-  ---  --  ---\n1  hi…  x\n        yy  new\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("table mismatch (-want +got):\n%s", diff)
	}
}

// countingWriter counts the bytes written to it; safe to read concurrently.
type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// TestStreaming checks that the streaming formats write as they go: by the
// time the iterator yields its last item, most of the output has arrived.
func TestStreaming(t *testing.T) {
	t.Parallel()
	const total = 100_000
	for _, f := range []export.Format{export.JSONL, export.JSON, export.CSV} {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			w := &countingWriter{}
			var beforeEnd int64
			items := func(yield func(json.RawMessage, error) bool) {
				for i := range total {
					if i == total-1 {
						beforeEnd = w.n.Load()
					}
					item := fmt.Appendf(nil, `{"i":%d,"text":"some text of about fifty bytes, to make it real"}`, i)
					if !yield(item, nil) {
						return
					}
				}
			}
			n, err := export.Write(w, f, items, export.Options{Columns: []string{"i", "text"}})
			if err != nil {
				t.Fatal(err)
			}
			if n != total {
				t.Errorf("Write = %d, want %d", n, total)
			}
			all := w.n.Load()
			if beforeEnd < all*9/10 {
				t.Errorf("only %d of %d bytes were written before the last item: output is buffered", beforeEnd, all)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	t.Parallel()
	items := []json.RawMessage{json.RawMessage(`{"a":1}`), json.RawMessage(`{"a":2}`)}
	boom := errors.New("boom")
	failing := func(yield func(json.RawMessage, error) bool) {
		if !yield(items[0], nil) {
			return
		}
		yield(nil, boom)
	}

	t.Run("writes", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "out.jsonl")
		n, err := export.WriteFile(path, export.JSONL, seq(items), export.Options{})
		if err != nil || n != 2 {
			t.Fatalf("WriteFile = %d, %v; want 2, nil", n, err)
		}
		if got, want := readFile(t, path), "{\"a\":1}\n{\"a\":2}\n"; got != want {
			t.Errorf("file = %q, want %q", got, want)
		}
		assertOnlyFiles(t, dir, "out.jsonl")
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fi.Mode().Perm(), os.FileMode(0o644); got != want {
			t.Errorf("mode = %v, want %v", got, want)
		}
	})
	t.Run("iterator error leaves no file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "out.csv")
		_, err := export.WriteFile(path, export.CSV, failing, export.Options{Columns: []string{"a"}})
		if !errors.Is(err, boom) {
			t.Fatalf("WriteFile error = %v, want %v", err, boom)
		}
		assertOnlyFiles(t, dir)
	})
	t.Run("iterator error keeps the old file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "out.json")
		if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := export.WriteFile(path, export.JSON, failing, export.Options{}); !errors.Is(err, boom) {
			t.Fatalf("WriteFile error = %v, want %v", err, boom)
		}
		if got := readFile(t, path); got != "old" {
			t.Errorf("file = %q, want it untouched", got)
		}
		assertOnlyFiles(t, dir, "out.json")
	})
	t.Run("replace keeps the mode", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "out.json")
		if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := export.WriteFile(path, export.JSON, seq(items), export.Options{}); err != nil {
			t.Fatal(err)
		}
		if got, want := readFile(t, path), "[\n{\"a\":1},\n{\"a\":2}\n]\n"; got != want {
			t.Errorf("file = %q, want %q", got, want)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
			t.Errorf("mode = %v, want %v", got, want)
		}
		assertOnlyFiles(t, dir, "out.json")
	})
	t.Run("missing directory", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "nope", "out.json")
		if _, err := export.WriteFile(path, export.JSON, seq(items), export.Options{}); err == nil {
			t.Error("WriteFile into a missing directory succeeded")
		}
	})
	t.Run("directory as path", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if _, err := export.WriteFile(dir, export.JSON, seq(items), export.Options{}); err == nil {
			t.Error("WriteFile over a directory succeeded")
		}
	})
}

func assertOnlyFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if want == nil {
		want = []string{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files in %s (-want +got):\n%s", dir, diff)
	}
}

func seq(items []json.RawMessage) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	}
}

func readItems(t *testing.T, path string) []json.RawMessage {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(readFile(t, path)))
	var items []json.RawMessage
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			return items
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		items = append(items, raw)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !(*update && errors.Is(err, os.ErrNotExist)) {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteFileDevice(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(os.DevNull); err != nil {
		t.Skip("no", os.DevNull)
	}
	items := []json.RawMessage{json.RawMessage(`{"a":1}`)}
	n, err := export.WriteFile(os.DevNull, export.JSONL, seq(items), export.Options{})
	if err != nil || n != 1 {
		t.Fatalf("WriteFile(%s) = %d, %v; want 1, nil", os.DevNull, n, err)
	}
	if _, err := os.Stat("/dev/full"); err != nil {
		return
	}
	// A full disk keeps its cause for errors.Is, and the message names the
	// path once.
	_, err = export.WriteFile("/dev/full", export.JSONL, seq(items), export.Options{})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("WriteFile(/dev/full) = %v, want ENOSPC", err)
	}
	if got := strings.Count(err.Error(), "/dev/full"); got != 1 {
		t.Errorf("error %q names the path %d times, want once", err, got)
	}
}

func TestWriteFileErrorNamesPathOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nope", "out.json")
	_, err := export.WriteFile(path, export.JSON, seq(nil), export.Options{})
	if err == nil || strings.Count(err.Error(), "out.json") != 1 {
		t.Errorf("WriteFile into a missing directory = %v, want one mention of the path", err)
	}
}

// TestRemoveStaleTemps leaves the temporary file of a write killed half way
// (a dead process's PID in its name) and checks that it is removed, while
// a live process's is kept.
func TestRemoveStaleTemps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	// A child that has exited is a PID that no longer runs.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.ProcessState.Pid()
	stale := fmt.Sprintf(".out.csv.trawl-tmp-%d-123", dead)
	live := fmt.Sprintf(".out.csv.trawl-tmp-%d-456", os.Getpid())
	for _, name := range []string{stale, live, "out.csv", ".other.csv.trawl-tmp-1-1"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := export.RemoveStaleTemps(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{filepath.Join(dir, stale)}, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	assertOnlyFiles(t, dir, ".other.csv.trawl-tmp-1-1", live, "out.csv")
}
