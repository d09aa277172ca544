package cli_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// tinySite serves three pages of two items each, and counts the requests
// for pages.
func tinySite(t *testing.T) (*httptest.Server, *atomic.Int64) { return paddedSite(t, 0) }

// paddedSite is tinySite with pad bytes more text in every item.
func paddedSite(t *testing.T, pad int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		p := strings.Repeat("x", pad)
		fmt.Fprintf(w, `<div class="q">%s one%s</div><div class="q">%s two%s</div><a href="/a">a</a><a href="/b">b</a>`, r.URL.Path, p, r.URL.Path, p)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func tinySpider(t *testing.T, dir, base string) {
	t.Helper()
	writeFile(t, dir, "tiny.yaml", fmt.Sprintf(`name: tiny
start_urls: ["%s/"]
follow: [{css: a}]
items:
  - css: div.q
    fields:
      text: {regex: "(.*)"}
`, base))
}

// TestNothingFetched: a run in which no page got an HTTP response exits
// non-zero, says so, and leaves an existing -o file as it was.
func TestNothingFetched(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "s.yaml", unreachableSpider)
	out := writeFile(t, dir, "out.csv", "old\n")
	r := runMain(t, dir, nil, "run", "s.yaml", "-o", "out.csv", "--quiet")
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	for _, want := range []string{"run 1 failed: 1 pages", "connect 1", "trawl: run 1 fetched no page: not one request got an HTTP response",
		"out.csv was not written (an existing file is left as it was)", "once the site answers: trawl run s.yaml --retry-failed"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if b, _ := os.ReadFile(out); string(b) != "old\n" {
		t.Errorf("out.csv = %q, want it left as it was", b)
	}
	// A 404 is an answer: that run fetched a page, and exits 0.
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	writeFile(t, dir, "gone.yaml", "name: gone\nstart_urls: ["+srv.URL+"/x]\nitems: [{fields: {title: title}}]\n")
	r = runMain(t, dir, nil, "run", "gone.yaml", "-o", "gone.csv", "--quiet")
	if r.code != 0 || !strings.Contains(r.stderr, "http_4xx 1") || !strings.Contains(r.stderr, "wrote 0 items to gone.csv") {
		t.Errorf("run whose only page is a 404: exit %d, want 0:\n%s", r.code, r.stderr)
	}
}

// TestOutputDevices: -o works on files that are not regular: /dev/null
// takes the output, and /dev/full, a full disk, exits 75 with the command
// that writes the file once there is space.
func TestOutputDevices(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	srv, hits := tinySite(t)
	dir := t.TempDir()
	tinySpider(t, dir, srv.URL)
	r := runMain(t, dir, nil, "run", "tiny.yaml", "-o", os.DevNull, "--quiet") // no extension: JSONL
	if r.code != 0 || !strings.Contains(r.stderr, "wrote 6 items to "+os.DevNull) {
		t.Fatalf("-o %s: exit %d\n%s", os.DevNull, r.code, r.stderr)
	}
	r = runMain(t, dir, nil, "run", "tiny.yaml", "-o", "/dev/full", "--format", "csv", "--quiet")
	want := "trawl: the disk is full: /dev/full was not written\nrun 2 finished and its items are stored; write them with:\n  trawl export tiny --run 2 -o /dev/full --format csv\n"
	if r.code != 75 || !strings.HasSuffix(r.stderr, want) {
		t.Errorf("-o /dev/full: exit %d, stderr:\n%s\nwant exit 75 and a stderr ending in:\n%s", r.code, r.stderr, want)
	}
	if strings.Count(r.stderr, "/dev/full") != 2 {
		t.Errorf("the path is named more than once per message:\n%s", r.stderr)
	}
	// The same command again does not crawl again: it says how to write
	// the output of the finished run.
	before := hits.Load()
	r = runMain(t, dir, nil, "run", "tiny.yaml", "-o", "/dev/full", "--format", "csv", "--quiet")
	if r.code != 1 || !strings.Contains(r.stderr, "trawl export tiny --run 2 -o /dev/full --format csv") {
		t.Errorf("the same command after a failed write: exit %d\n%s", r.code, r.stderr)
	}
	if hits.Load() != before {
		t.Errorf("the same command crawled again (%d requests)", hits.Load()-before)
	}
}

// TestExportOutputChecks: export checks -o before any work, with the same
// message as run.
func TestExportOutputChecks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "s.yaml", unreachableSpider)
	want := "-o missing/dir/x.csv: directory " + filepath.Join(dir, "missing/dir") + " does not exist"
	for _, args := range [][]string{
		{"export", "s", "-o", "missing/dir/x.csv"}, // no database yet: the output is checked first
		{"run", "s.yaml", "-o", "missing/dir/x.csv"},
	} {
		r := runMain(t, dir, nil, args...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, "trawl: "+want+"\n") {
			t.Errorf("trawl %v: exit %d, stderr %q; want 2 and %q", args, r.code, r.stderr, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "trawl.db")); err == nil {
		t.Error("a rejected output created the database")
	}
}

// TestKillWhileWriting kills `trawl run` with SIGKILL while it writes its
// -o output, then runs the same command: it does not crawl again but says
// how to write the output of the finished run.
func TestKillWhileWriting(t *testing.T) {
	t.Parallel()
	// Items of 40 KiB: the output is more than a pipe holds.
	srv, hits := paddedSite(t, 40<<10)
	dir := t.TempDir()
	tinySpider(t, dir, srv.URL)
	// The output is a named pipe: the child blocks opening it until this
	// test opens it too, and then, as the test never reads, blocks writing
	// once the pipe is full. So the child is surely writing when killed.
	pipe := filepath.Join(dir, "out.jsonl")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Skip("no named pipes:", err)
	}
	cmd := trawlCmd(t, dir, "run", "tiny.yaml", "-o", "out.jsonl", "--quiet")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	opened := make(chan *os.File, 1)
	go func() {
		f, err := os.OpenFile(pipe, os.O_RDONLY, 0) // returns once the child opened it to write
		if err != nil {
			t.Error(err)
		}
		opened <- f
	}()
	select {
	case f := <-opened:
		cmd.Process.Kill()
		cmd.Wait()
		if f != nil {
			f.Close()
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the child did not start writing its output in 30s")
	}
	before := hits.Load()
	r := runMain(t, dir, nil, "run", "tiny.yaml", "-o", "out.jsonl", "--quiet")
	want := "trawl: run 1 of tiny finished, but writing out.jsonl was stopped before it completed; the items are stored:\n" +
		"  trawl export tiny --run 1 -o out.jsonl   # write them\n" +
		"  trawl run tiny.yaml -o out.jsonl --restart   # or crawl again\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("the same command after the kill: exit %d, stderr:\n%s\nwant exit 1 and:\n%s", r.code, r.stderr, want)
	}
	if hits.Load() != before {
		t.Errorf("the same command crawled again (%d requests)", hits.Load()-before)
	}
	// The suggested command works, after which the same command crawls.
	os.Remove(pipe)
	r = runMain(t, dir, nil, "export", "tiny", "--run", "1", "-o", "out.jsonl")
	if r.code != 0 || len(readItems(t, pipe)) != 6 {
		t.Fatalf("the suggested export: exit %d\n%s", r.code, r.stderr)
	}
	r = runMain(t, dir, nil, "run", "tiny.yaml", "-o", "out.jsonl", "--quiet")
	if r.code != 0 || !strings.Contains(r.stderr, "run 2 finished") {
		t.Errorf("the same command once the output was written: exit %d\n%s", r.code, r.stderr)
	}
}

// TestStaleTempFilesRemoved constructs what a kill -9 during an atomic
// write leaves (a temporary file named after a process that is gone) and
// checks that the next write of that file removes it.
func TestStaleTempFilesRemoved(t *testing.T) {
	t.Parallel()
	srv, _ := tinySite(t)
	dir := t.TempDir()
	tinySpider(t, dir, srv.URL)
	gone := trawlCmd(t, dir, "version")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf(".out.csv.trawl-tmp-%d-42", gone.ProcessState.Pid())
	writeFile(t, dir, stale, "half a fi")
	r := runMain(t, dir, nil, "run", "tiny.yaml", "-o", "out.csv", "--quiet")
	if r.code != 0 || !strings.Contains(r.stderr, "removed 1 temporary file left by an interrupted write of ") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "trawl-tmp") || strings.HasSuffix(e.Name(), ".lock") {
			t.Errorf("%s left behind", e.Name())
		}
	}
}

// runMainCtx runs the command line in-process in dir until ctx ends.
func runMainCtx(ctx context.Context, t *testing.T, dir string, args ...string) result {
	t.Helper()
	var out, errb strings.Builder
	code := cliMain(ctx, dir, &out, &errb, args)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// TestScheduleNote: trawl run says once that schedule: is the service's.
func TestScheduleNote(t *testing.T) {
	t.Parallel()
	srv, _ := tinySite(t)
	dir := t.TempDir()
	writeFile(t, dir, "s.yaml", "name: sched\nschedule: \"@every 1h\"\nstart_urls: [\""+srv.URL+"/\"]\nitems: [{css: div.q, fields: {text: {regex: \"(.*)\"}}}]\n")
	r := runMain(t, dir, nil, "run", "s.yaml", "--quiet")
	note := `note: the spider's schedule "@every 1h" is used by the service (trawl serve); this run is a one-off` + "\n"
	if r.code != 0 || strings.Count(r.stderr, note) != 1 {
		t.Errorf("exit %d; want the schedule note once:\n%s", r.code, r.stderr)
	}
}

// TestReadOnlyDatabase: a database that cannot be written is reported in
// one line, once, with exit 1.
func TestReadOnlyDatabase(t *testing.T) {
	t.Parallel()
	srv, _ := tinySite(t)
	dir := t.TempDir()
	tinySpider(t, dir, srv.URL)
	if r := runMain(t, dir, nil, "run", "tiny.yaml", "--quiet"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	// The store refuses a file marked read-only even for root.
	if err := os.Chmod(filepath.Join(dir, "trawl.db"), 0o444); err != nil {
		t.Fatal(err)
	}
	r := runMain(t, dir, nil, "run", "tiny.yaml", "--restart", "--quiet")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "trawl: ") || !strings.Contains(r.stderr, "read-only") {
		t.Errorf("run on a read-only database: exit %d, stderr %q; want 1 and one line", r.code, r.stderr)
	}
}
