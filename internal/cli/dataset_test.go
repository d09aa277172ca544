package cli_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestResumeHintAfterRestart interrupts a run started with --restart: the
// hint must name a command that resumes that run, and it does.
func TestResumeHintAfterRestart(t *testing.T) {
	t.Parallel()
	const pages = 200
	srv, reached, _ := slowSite(t, pages, 20)
	dir := t.TempDir()
	chainSpider(t, dir, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan result, 1)
	go func() { done <- runMainCtx(ctx, t, dir, "run", "s.yaml", "--restart", "--quiet") }()
	select {
	case <-reached:
	case <-time.After(30 * time.Second):
		t.Fatal("the crawl did not reach 20 pages in 30s")
	}
	// Another run of the same dataset, even a new one, is refused while
	// this one writes it, and names the process that does.
	for _, args := range [][]string{{"run", "s.yaml", "--quiet"}, {"run", "s.yaml", "--restart", "--quiet"}} {
		r := runMain(t, dir, nil, args...)
		want := `is being written by process ` + strconv.Itoa(os.Getpid()) + ` (run 1); wait for it to finish`
		if r.code != 1 || !strings.Contains(r.stderr, `trawl: dataset "chain" of `) || !strings.Contains(r.stderr, want) {
			t.Errorf("trawl %v while run 1 crawls: exit %d, %q; want 1 and %q", args, r.code, r.stderr, want)
		}
	}
	cancel()
	r := <-done
	if r.code != 130 || !strings.Contains(r.stderr, "every finished page is saved; run the same command without --restart to resume run 1\n") {
		t.Fatalf("interrupted --restart run: exit %d\n%s", r.code, r.stderr)
	}
	r = runMain(t, dir, nil, "run", "s.yaml", "--quiet", "-o", "items.jsonl")
	if r.code != 0 || !strings.Contains(r.stderr, "resuming run 1") {
		t.Fatalf("the hinted command: exit %d\n%s", r.code, r.stderr)
	}
	// After a resume the rate counts this process's pages only.
	if !strings.Contains(r.stderr, "in this process)") {
		t.Errorf("the summary of a resumed run does not separate this process's pages:\n%s", r.stderr)
	}
}

func TestExportRun(t *testing.T) {
	t.Parallel()
	srv, _ := tinySite(t)
	dir := t.TempDir()
	tinySpider(t, dir, srv.URL)
	writeFile(t, dir, "s.yaml", unreachableSpider)
	if r := runMain(t, dir, nil, "run", "tiny.yaml", "--quiet"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	runMain(t, dir, nil, "run", "s.yaml", "--quiet") // run 2, of dataset s
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", "tiny", "--run", "9", "-o", "x.csv"}, 1, "trawl: run 9 not found\n"},
		{[]string{"export", "tiny", "--run", "2", "-o", "x.csv"}, 2, "trawl: run 2 is a run of s, not of tiny: trawl export s --run 2\n"},
	}
	for _, tt := range tests {
		r := runMain(t, dir, nil, tt.args...)
		if r.code != tt.code || r.stderr != tt.want {
			t.Errorf("trawl %v: exit %d, %q; want %d, %q", tt.args, r.code, r.stderr, tt.code, tt.want)
		}
	}
	if _, err := os.Stat(dir + "/x.csv"); err == nil {
		t.Error("an export of an unknown run wrote a file")
	}
	r := runMain(t, dir, nil, "export", "tiny", "--run", "1")
	if r.code != 0 || len(lines(r.stdout)) != 6 {
		t.Errorf("export --run 1: exit %d, %d lines\n%s", r.code, len(lines(r.stdout)), r.stderr)
	}
}
