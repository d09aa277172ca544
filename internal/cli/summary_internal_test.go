package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func TestNotes(t *testing.T) {
	t.Parallel()
	sp, err := spider.Parse("s.yaml", []byte(`name: s
start_urls: ["http://example.com/"]
items:
  - css: div.quote
    fields: {text: span}
  - css: li.product
    fields: {name: h2}
  - fields: {title: title}
  - json: data.items
    fields: {id: id}
`))
	if err != nil {
		t.Fatal(err)
	}
	stats := trawl.RunStats{
		LinksCapped: 1200,
		Rules: []trawl.RuleStats{
			{Pages: 12, Matched: 0},              // never matched: check the selector
			{Pages: 30, Matched: 0, Scripted: 7}, // never matched, some pages rendered by JavaScript
			{Pages: 30, Matched: 25, Scripted: 5},
			{Pages: 0},
		},
	}
	hosts := []crawl.HostReport{
		{Host: "slow.example", Throttled: 3, Concurrency: 1, Delay: time.Second},
		{Host: "dead.example", Down: true, Concurrency: 2},
	}
	want := []string{
		"item rule 1 (css div.quote) matched nothing on the 12 pages it applied to: check its selector against a page",
		"item rule 2 (css li.product) matched nothing on the 30 pages it applied to; 7 of them look rendered by JavaScript, which trawl does not run: the data likely needs JavaScript rendering (look for the API the page calls)",
		"item rule 3 (field title at title) matched nothing on 5 pages that look rendered by JavaScript, which trawl does not run: those pages likely need JavaScript rendering",
		"1200 links not followed: pages had more links than limits.max_links allows, and the links beyond it were dropped",
		"host slow.example was throttled (3 times); it ended at 1 request per 1.0s, 1 at a time",
		"host dead.example stopped answering: its remaining pages failed as host_down",
	}
	if diff := cmp.Diff(want, notes(sp, stats, hosts)); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	if got := notes(sp, trawl.RunStats{Rules: []trawl.RuleStats{{Pages: 3, Matched: 3}}}, nil); len(got) != 0 {
		t.Errorf("notes of a run without surprises = %q, want none", got)
	}
}

func TestSummaryRate(t *testing.T) {
	t.Parallel()
	begin := trawl.RunStats{Pages: 900}
	end := trawl.RunStats{Pages: 1000, Items: 50}
	got := summary(begin, end, 10*time.Second)
	want := "1000 pages (100 in this process), 50 items, 0 errors, 0 B in 10s (10.0 pages/s)"
	if got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}

// TestEndRunDiskFull: a run stopped by a full disk is not failed (endRun
// does not touch the store: a nil one would panic), and exits 75 with the
// command that resumes it.
func TestEndRunDiskFull(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	d := finished{run: &trawl.Run{ID: 4}, res: &crawl.Result{Stats: trawl.RunStats{Pages: 10}}, elapsed: time.Second}
	runErr := fmt.Errorf("commit pages: %w", store.ErrDiskFull)
	err := endRun(context.Background(), nil, d, runErr, runOptions{}, Env{Stderr: &stderr})
	if code := report(&stderr, err); code != ExitTempFail {
		t.Errorf("exit %d, want %d", code, ExitTempFail)
	}
	want := "trawl: the disk holding the database is full; every finished page is saved: free some space, then run the same command again to resume run 4\n"
	if !strings.HasSuffix(stderr.String(), want) || strings.Count(stderr.String(), "trawl:") != 1 {
		t.Errorf("stderr:\n%s\nwant it to end with:\n%s", stderr.String(), want)
	}
}
