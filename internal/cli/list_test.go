package cli_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// table returns the rows of a command's table output, split into fields.
func table(out string) [][]string {
	var rows [][]string
	for _, l := range lines(out) {
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

func TestRunsAndDatasets(t *testing.T) {
	t.Parallel()
	srv, _ := tinySite(t)
	dir := t.TempDir()
	tinySpider(t, dir, srv.URL)
	writeFile(t, dir, "s.yaml", unreachableSpider)
	if r := runMain(t, dir, nil, "runs"); r.code != 1 || !strings.Contains(r.stderr, "no database at") {
		t.Errorf("runs without a database: %+v", r)
	}
	if r := runMain(t, dir, nil, "run", "tiny.yaml", "--quiet"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	runMain(t, dir, nil, "run", "s.yaml", "--quiet")

	r := runMain(t, dir, nil, "runs")
	rows := table(r.stdout)
	if r.code != 0 || len(rows) != 3 {
		t.Fatalf("runs: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got, want := strings.Join(rows[0], " "), "ID SPIDER STATUS STARTED PAGES ITEMS ERRORS"; got != want {
		t.Errorf("runs header = %q, want %q", got, want)
	}
	// id spider status date time pages items errors, newest first
	for i, want := range [][]string{{"2", "s", "failed", "1", "0", "1"}, {"1", "tiny", "succeeded", "3", "6", "0"}} {
		row := rows[i+1]
		if len(row) != 8 {
			t.Errorf("runs row %q has %d fields, want 8", row, len(row))
			continue
		}
		if got := append(row[:3:3], row[5:]...); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("runs row = %q, want %q", row, want)
		}
	}
	for args, want := range map[string]string{"--spider tiny": "1", "--status failed": "2"} {
		r := runMain(t, dir, nil, append([]string{"runs"}, strings.Fields(args)...)...)
		if rows := table(r.stdout); len(rows) != 2 || rows[1][0] != want {
			t.Errorf("runs %s:\n%s%s", args, r.stdout, r.stderr)
		}
	}

	r = runMain(t, dir, nil, "datasets")
	rows = table(r.stdout)
	if r.code != 0 || len(rows) != 3 || strings.Join(rows[0], " ") != "NAME ITEMS LAST RUN UPDATED" {
		t.Fatalf("datasets: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := fmt.Sprint(rows[1][:3], rows[2][:3]); got != "[s 0 2] [tiny 6 1]" {
		t.Errorf("datasets rows = %s, want [s 0 2] [tiny 6 1]\n%s", got, r.stdout)
	}

	// export without a name lists the datasets.
	r = runMain(t, dir, nil, "export")
	if r.code != 2 || !strings.Contains(r.stderr, "export needs a dataset name, e.g. trawl export s -o s.csv") ||
		!strings.Contains(r.stderr, "\ntiny ") || !strings.Contains(r.stderr, "Run 'trawl help export' for usage.") {
		t.Errorf("export without a name: exit %d\n%s", r.code, r.stderr)
	}
}

// flakySite serves / linking to /ok and /bad; /bad is a 404 until fixed.
type flakySite struct {
	*httptest.Server
	fixed atomic.Bool
	mu    sync.Mutex
	hits  map[string]int
}

func newFlakySite(t *testing.T) *flakySite {
	t.Helper()
	s := &flakySite{hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		if r.URL.Path == "/bad" && !s.fixed.Load() {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `<div class="q">%s</div><a href="/ok">ok</a><a href="/bad">bad</a>`, r.URL.Path)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *flakySite) hitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func TestRetryFailed(t *testing.T) {
	t.Parallel()
	site := newFlakySite(t)
	dir := t.TempDir()
	spider := fmt.Sprintf("name: flaky\nstart_urls: [\"%s/\"]\nfollow: [{css: a}]\nitems: [{css: div.q, fields: {path: {regex: \"(.*)\"}}}]\n", site.URL)
	writeFile(t, dir, "s.yaml", spider)

	r := runMain(t, dir, nil, "run", "s.yaml", "--retry-failed")
	if r.code != 1 || !strings.Contains(r.stderr, "--retry-failed: spider flaky has no run to retry yet: run it without --retry-failed") {
		t.Errorf("--retry-failed before any run: exit %d\n%s", r.code, r.stderr)
	}
	r = runMain(t, dir, nil, "run", "s.yaml", "--quiet")
	if r.code != 0 || !strings.Contains(r.stderr, "3 pages, 2 items, 1 errors (http_4xx 1)") {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	site.fixed.Store(true)
	hitsOK, hitsRoot := site.hitsOf("/ok"), site.hitsOf("/")
	r = runMain(t, dir, nil, "run", "s.yaml", "--retry-failed", "--quiet", "-o", "out.jsonl")
	if r.code != 0 {
		t.Fatalf("--retry-failed: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"run 1 of flaky: fetching its 1 failed page again\n", "run 1 finished: 3 pages (1 in this process), 3 items, 0 errors", "wrote 3 items to out.jsonl"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--retry-failed stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if site.hitsOf("/ok") != hitsOK || site.hitsOf("/") != hitsRoot || site.hitsOf("/bad") != 2 {
		t.Errorf("--retry-failed fetched / %d, /ok %d, /bad %d times in all; want only /bad again",
			site.hitsOf("/"), site.hitsOf("/ok"), site.hitsOf("/bad"))
	}
	if got := len(readItems(t, filepath.Join(dir, "out.jsonl"))); got != 3 {
		t.Errorf("out.jsonl has %d items, want 3", got)
	}
	rows := table(runMain(t, dir, nil, "runs").stdout)
	if len(rows) != 2 || rows[1][2] != "succeeded" || rows[1][7] != "0" {
		t.Errorf("runs after the retry: %q, want run 1 succeeded with 0 errors and no other run", rows)
	}
	r = runMain(t, dir, nil, "run", "s.yaml", "--retry-failed")
	if r.code != 0 || r.stderr != "run 1 of flaky has no failed pages: nothing to retry\n" {
		t.Errorf("--retry-failed without failed pages: exit %d, %q", r.code, r.stderr)
	}
	writeFile(t, dir, "s.yaml", strings.Replace(spider, "name: flaky", "name: flaky\npoliteness: {delay: 1ms}", 1))
	r = runMain(t, dir, nil, "run", "s.yaml", "--retry-failed")
	if r.code != 1 || !strings.Contains(r.stderr, "s.yaml changed since its last run (run 1)") {
		t.Errorf("--retry-failed after an edit: exit %d, %q", r.code, r.stderr)
	}
	if r := runMain(t, dir, nil, "run", "s.yaml", "--retry-failed", "--restart"); r.code != 2 {
		t.Errorf("--retry-failed --restart: exit %d, want 2", r.code)
	}
}
