package cli_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/examples"
	"github.com/trawl-dev/trawl/internal/demosite"
	"github.com/trawl-dev/trawl/internal/export"
	"github.com/trawl-dev/trawl/internal/store/sqlite"
)

// demoSpider returns an example spider rewritten to crawl base.
func demoSpider(t *testing.T, dir, name, host string) string {
	t.Helper()
	src, err := examples.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, strings.ReplaceAll(string(src), "127.0.0.1:8300", host))
}

func startDemo(t *testing.T) (*demosite.Site, *httptest.Server) {
	t.Helper()
	site := demosite.New(demosite.Config{SlowDelay: 10 * time.Millisecond})
	srv := httptest.NewServer(site.Handler())
	t.Cleanup(srv.Close)
	return site, srv
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := runMain(t, t.TempDir(), nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "trawl ") {
		t.Errorf("version = %+v", r)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "good.yaml", "name: good\nstart_urls: [http://example.com/]\nitems: [{fields: {title: title}}]\n")
	writeFile(t, dir, "bad.yaml", "name: Bad Name\nstart_urls: [ftp://x]\nfolow: []\npoliteness: {delay: soon}\n")
	r := runMain(t, dir, nil, "check", "good.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, `good.yaml: ok (spider "good"`) {
		t.Errorf("check good = %+v", r)
	}
	r = runMain(t, dir, nil, "check", "bad.yaml")
	if r.code != 2 {
		t.Errorf("check bad exit = %d, want 2", r.code)
	}
	// Every problem, each as FILE:LINE:COL: PATH: message.
	bad := filepath.Join(dir, "bad.yaml")
	for _, prefix := range []string{bad + ":1:7: name: ", bad + ":2:14: start_urls[0]: ", bad + ":3:1: folow: ", bad + ":4:21: politeness.delay: "} {
		if !strings.Contains(r.stderr, prefix) {
			t.Errorf("stderr lacks %q:\n%s", prefix, r.stderr)
		}
	}
}

func TestRunQuotesToCSV(t *testing.T) {
	t.Parallel()
	site, srv := startDemo(t)
	dir := t.TempDir()
	spiderPath := demoSpider(t, dir, "quotes.yaml", strings.TrimPrefix(srv.URL, "http://"))
	r := runMain(t, dir, nil, "run", spiderPath, "-o", "quotes.csv", "--quiet")
	if r.code != 0 {
		t.Fatalf("run exit %d:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "run 1 finished: ") || !strings.Contains(r.stderr, "http_5xx 1") {
		t.Errorf("summary lacks the run line or the broken page:\n%s", r.stderr)
	}
	f, err := os.Open(filepath.Join(dir, "quotes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read CSV: %v", err)
	}
	if diff := cmp.Diff([]string{"text", "author", "tags", "author_url", "_url"}, rows[0]); diff != "" {
		t.Errorf("CSV header (-want +got):\n%s", diff)
	}
	got := map[string]bool{}
	for _, row := range rows[1:] {
		text, _ := export.DecodeCSVCell(row[0]).(string)
		got[text] = true
	}
	for _, q := range site.Quotes() {
		if text := strings.Join(strings.Fields(q.Text), " "); !got[text] {
			t.Errorf("quote missing from CSV: %q", text)
		}
	}
	if len(rows)-1 != len(site.Quotes()) {
		t.Errorf("CSV has %d items, want %d", len(rows)-1, len(site.Quotes()))
	}
	// The dataset export gives the same items.
	r = runMain(t, dir, nil, "export", "quotes", "--format", "jsonl")
	if r.code != 0 {
		t.Fatalf("export exit %d: %s", r.code, r.stderr)
	}
	if got := len(lines(r.stdout)); got < len(site.Quotes()) {
		t.Errorf("export has %d items, want at least %d", got, len(site.Quotes()))
	}
}

func TestRunAPIsTable(t *testing.T) {
	t.Parallel()
	_, srv := startDemo(t)
	dir := t.TempDir()
	spiderPath := demoSpider(t, dir, "apis.yaml", strings.TrimPrefix(srv.URL, "http://"))
	r := runMain(t, dir, nil, "run", spiderPath, "-o", "-", "--format", "table", "--quiet")
	if r.code != 0 {
		t.Fatalf("run exit %d:\n%s", r.code, r.stderr)
	}
	// One combined table: quotes and authors side by side.
	out := lines(r.stdout)
	if len(out) < 3 || !strings.Contains(out[0], "_url") {
		t.Fatalf("table output:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "/api/quotes") || !strings.Contains(r.stdout, "/api/authors") {
		t.Errorf("table lacks rows of both APIs:\n%s", r.stdout)
	}
	// The broken sources are reported, not fatal.
	for _, want := range []string{"parse", "/api/broken", "http_5xx", "/api/down"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestEnvironmentTwins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "s.yaml", unreachableSpider)
	r := runMain(t, dir, map[string]string{"TRAWL_CONCURRENCY": "lots"}, "run", "s.yaml")
	if r.code != 2 || !strings.Contains(r.stderr, `invalid TRAWL_CONCURRENCY="lots"`) {
		t.Errorf("bad env value: %+v", r)
	}
	r = runMain(t, dir, map[string]string{"TRAWL_DB": "other.db"}, "run", "s.yaml", "--quiet")
	if r.code != 1 || !strings.Contains(r.stderr, "fetched no page") {
		t.Fatalf("run of an unreachable site: exit %d, want 1: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "other.db")); err != nil {
		t.Errorf("TRAWL_DB not used: %v", err)
	}
	if !strings.Contains(r.stderr, "connect 1") {
		t.Errorf("unreachable start URL not reported as connect error:\n%s", r.stderr)
	}
}

func TestExportErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := runMain(t, dir, nil, "export", "nope")
	if r.code == 0 || !strings.Contains(r.stderr, "no database") {
		t.Errorf("export without a database: %+v", r)
	}
	writeFile(t, dir, "s.yaml", unreachableSpider)
	runMain(t, dir, nil, "run", "s.yaml", "--quiet")
	r = runMain(t, dir, nil, "export", "nope")
	if r.code != 1 || !strings.Contains(r.stderr, `dataset "nope" not found`) {
		t.Errorf("export of an unknown dataset: %+v", r)
	}
	r = runMain(t, dir, nil, "export", "s", "-o", "x.xlsx")
	if r.code != 2 {
		t.Errorf("export to an unknown extension: %+v", r)
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := runMain(t, dir, nil, "demo", "--addr", "127.0.0.1:0", "--quiet")
	if r.code != 0 {
		t.Fatalf("demo exit %d:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, `The dataset "quotes" now holds`) || !strings.Contains(r.stdout, " export quotes") {
		t.Errorf("demo output:\n%s", r.stdout)
	}
	// Every "Next" line works from where the user is: the export commands
	// run, and the spider file the run line names exists there.
	_, next, ok := strings.Cut(r.stdout, "\nNext:\n")
	if !ok {
		t.Fatalf("no Next lines:\n%s", r.stdout)
	}
	for _, l := range lines(next) {
		cmdline, _, _ := strings.Cut(l, "#")
		fields := strings.Fields(cmdline)
		// Not in a checkout and trawl not on the PATH: trawl (installed as
		// the README says), or the binary's own path.
		if len(fields) < 2 || fields[0] != "trawl" && !filepath.IsAbs(fields[0]) {
			t.Errorf("next step %q does not run trawl from %s", l, dir)
			continue
		}
		switch args := fields[1:]; args[0] {
		case "export":
			if r := runMain(t, dir, nil, args...); r.code != 0 {
				t.Errorf("next step %q: exit %d: %s", l, r.code, r.stderr)
			}
		case "run":
			if _, err := os.Stat(filepath.Join(dir, args[1])); err != nil {
				t.Errorf("next step %q: %v", l, err)
			}
		}
	}
}

// unreachableSpider crawls a port where nothing listens, without retries.
const unreachableSpider = "name: s\nstart_urls: [http://127.0.0.1:1/]\nitems: [{fields: {title: title}}]\nfetch: {retries: 0}\n"

// slowSite serves a chain of pages, each linking to the next two, and
// reports on the returned channel once n pages were served.
func slowSite(t *testing.T, pages int, n int64) (*httptest.Server, <-chan struct{}, func() int) {
	t.Helper()
	var (
		served atomic.Int64
		once   sync.Once
		reach  = make(chan struct{})
		mu     sync.Mutex
		hits   int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		hits++
		mu.Unlock()
		time.Sleep(2 * time.Millisecond) // a little latency, so a signal lands mid-crawl
		var i int
		fmt.Sscanf(r.URL.Path, "/p/%d", &i)
		fmt.Fprintf(w, `<div class="q">item %d-a</div><div class="q">item %d-b</div>`, i, i)
		if i+1 < pages {
			fmt.Fprintf(w, `<a href="/p/%d">next</a><a href="/p/%d">skip</a>`, i+1, min(i+2, pages-1))
		}
		if served.Add(1) == n {
			once.Do(func() { close(reach) })
		}
	}))
	t.Cleanup(srv.Close)
	return srv, reach, func() int { mu.Lock(); defer mu.Unlock(); return hits }
}

func chainSpider(t *testing.T, dir, base string) {
	t.Helper()
	writeFile(t, dir, "s.yaml", fmt.Sprintf(`name: chain
start_urls: ["%s/p/0"]
follow: [{css: a}]
items:
  - css: div.q
    fields:
      text: {regex: "(item .*)"}
politeness: {concurrency_per_host: 4}
`, base))
}

// TestInterruptThenResume sends SIGINT to a running crawl: it stops cleanly,
// says how to resume, and the same command then finishes the run.
func TestInterruptThenResume(t *testing.T) {
	t.Parallel()
	const pages = 400 // enough that the crawl is still going when the second process tries
	srv, reached, _ := slowSite(t, pages, 30)
	dir := t.TempDir()
	chainSpider(t, dir, srv.URL)
	cmd := trawlCmd(t, dir, "run", "s.yaml", "--progress-interval", "20ms")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reached:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("crawl did not reach the interrupt point in 60s")
	}
	// The same command in another process must not crawl the same run at
	// the same time.
	r := runMain(t, dir, nil, "run", "s.yaml", "--quiet")
	if r.code != 1 || !strings.Contains(r.stderr, `dataset "chain" of `) || !strings.Contains(r.stderr, "is being written by process ") {
		t.Errorf("second process on a running run: exit %d, %q; want a conflict", r.code, r.stderr)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit code after SIGINT = %d (%v), want 130\n%s", code, err, stderr.String())
	}
	out := stderr.String()
	if !strings.Contains(out, "run the same command again to resume run 1") {
		t.Errorf("no resume hint after SIGINT:\n%s", out)
	}
	// Not a terminal: plain periodic progress lines.
	if !strings.Contains(out, "\npages ") || strings.Contains(out, "\r") {
		t.Errorf("expected plain progress lines on a non-terminal:\n%s", out)
	}
	r = runMain(t, dir, nil, "run", "s.yaml", "--quiet", "-o", "items.jsonl")
	if r.code != 0 || !strings.Contains(r.stderr, "resuming run 1") {
		t.Fatalf("resume: %+v", r)
	}
	if got := len(readItems(t, filepath.Join(dir, "items.jsonl"))); got != 2*pages {
		t.Errorf("items after resume = %d, want %d", got, 2*pages)
	}
}

// TestKillResume kills `trawl run` with SIGKILL in the middle of a crawl,
// runs the same command again, and checks that the result equals an
// uninterrupted run's and that no committed page was fetched twice.
func TestKillResume(t *testing.T) {
	t.Parallel()
	const pages = 150
	srv, killNow, hits := slowSite(t, pages, pages/2)
	dir := t.TempDir()
	chainSpider(t, dir, srv.URL)

	cmd := trawlCmd(t, dir, "run", "s.yaml", "--db", "killed.db", "--quiet")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-killNow:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("crawl did not reach the kill point in 60s")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no clean-up at all
		t.Fatal(err)
	}
	cmd.Wait()

	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "killed.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	run, err := db.Run(context.Background(), 1)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	committed := run.Stats.Pages
	if committed == 0 || committed >= pages {
		t.Fatalf("committed %d pages before the kill; the kill did not land mid-crawl", committed)
	}
	before := hits()

	out, err := trawlCmd(t, dir, "run", "s.yaml", "--db", "killed.db", "-o", "resumed.jsonl").CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "resuming run 1") {
		t.Errorf("second run did not resume:\n%s", out)
	}
	if got, want := int64(hits()-before), pages-committed; got != want {
		t.Errorf("resume fetched %d pages, want exactly the %d not committed", got, want)
	}

	ref := runMain(t, dir, nil, "run", "s.yaml", "--db", "reference.db", "-o", "reference.jsonl", "--quiet")
	if ref.code != 0 {
		t.Fatalf("reference run: %s", ref.stderr)
	}
	got, want := readItems(t, filepath.Join(dir, "resumed.jsonl")), readItems(t, filepath.Join(dir, "reference.jsonl"))
	if len(want) != 2*pages {
		t.Errorf("reference run has %d items, want %d", len(want), 2*pages)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resumed items differ from an uninterrupted run (-want +got):\n%s", diff)
	}
}

// readItems returns the items of a JSONL file, sorted.
func readItems(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range lines(string(raw)) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

func TestBadInvocations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "s.yaml", unreachableSpider)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frob"}, 2, `unknown command "frob"`},
		{[]string{"run"}, 2, "run takes one spider file, got 0 arguments"},
		{[]string{"run", "missing.yaml"}, 2, "no such file"},
		{[]string{"run", "s.yaml", "--concurrency", "0"}, 2, "--concurrency must be at least 1"},
		{[]string{"run", "s.yaml", "-o", "out.xlsx"}, 2, `cannot tell the output format of "out.xlsx"`},
		{[]string{"run", "s.yaml", "-o", "nodir/out.csv"}, 2, "directory"},
		{[]string{"run", "s.yaml", "--format", "xml"}, 2, `unknown format "xml"`},
		{[]string{"run", "s.yaml", "--db", "postgres://u:secret@127.0.0.1:1/db"}, 1, "open postgres postgres://u:xxxxx@127.0.0.1:1/db: failed to connect"},
		{[]string{"serve", "--db", "postgres://u:secret@127.0.0.1:1/db"}, 1, "open postgres postgres://u:xxxxx@127.0.0.1:1/db: failed to connect"},
		{[]string{"run", "s.yaml", "--db", "nodir/x.db"}, 2, "does not exist"},
	}
	for _, tt := range tests {
		r := runMain(t, dir, nil, tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("trawl %v: exit %d, stderr %q; want exit %d and %q", tt.args, r.code, r.stderr, tt.code, tt.want)
		}
		if strings.Contains(r.stderr, "secret") || strings.Contains(r.stderr, "code=") {
			t.Errorf("trawl %v leaks internals: %q", tt.args, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "trawl.db")); err == nil {
		t.Error("a rejected invocation created trawl.db")
	}
}
