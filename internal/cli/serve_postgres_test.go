package cli_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/store/postgres/pgtest"
)

// TestServePostgres serves on PostgreSQL: a spider put over the API, a run
// started over the API and crawled to its end, its items read back over
// the API. A second serve started on the same database while the run
// crawls (no one-serve lock on PostgreSQL) leaves the running run to the
// first: the run ends with exactly the site's items, each page fetched
// once.
func TestServePostgres(t *testing.T) {
	t.Parallel()
	const pages = 600 // several seconds of crawl left when the second serve starts
	dsn := pgtest.Schema(t)
	site, reached, hits := slowSite(t, pages, 20)
	dir := t.TempDir()
	svc := startService(t, dir, "--db", dsn, "--allow-private-networks")
	svc.putSpider(t, "chain", chainYAML(site.URL))
	run := svc.startRun(t, "chain")
	select {
	case <-reached:
	case <-time.After(60 * time.Second):
		t.Fatalf("the run did not get going in 60s:\n%s", svc.logs())
	}
	second := startService(t, dir, "--db", dsn, "--allow-private-networks")
	if logs := second.logs(); !strings.Contains(logs, "running job left alone") || strings.Contains(logs, "taken up again") {
		t.Errorf("the second serve's start did not leave the first one's running job alone:\n%s", logs)
	}
	end := svc.waitRun(t, run.ID, 60*time.Second)
	if end.Status != "succeeded" || end.Stats.Pages != pages || end.Stats.Items != 2*pages {
		t.Errorf("run ended %s with %d pages and %d items, want succeeded, %d, %d (%s)",
			end.Status, end.Stats.Pages, end.Stats.Items, pages, 2*pages, end.Error)
	}
	if got := hits(); got != pages {
		t.Errorf("the site served %d pages, want each of the %d once", got, pages)
	}
	for _, s := range []*service{svc, second} {
		code, body := s.call(t, "GET", "/v1/datasets/chain/items.jsonl", "", "")
		if code != http.StatusOK {
			t.Fatalf("items.jsonl: %d %s", code, body)
		}
		seen := map[string]bool{}
		for _, l := range lines(string(body)) {
			if seen[l] {
				t.Errorf("duplicate item %s", l)
			}
			seen[l] = true
		}
		if len(seen) != 2*pages {
			t.Errorf("dataset has %d items, want %d", len(seen), 2*pages)
		}
	}
}

// TestPostgresRunDatasetLock: while a `trawl run` crawls a dataset on
// PostgreSQL, a second `trawl run` of it, in another process, is refused
// with a conflict naming the first (the dataset's advisory lock); once the
// first ends, the lock is free again.
func TestPostgresRunDatasetLock(t *testing.T) {
	t.Parallel()
	const pages = 400
	dsn := pgtest.Schema(t)
	site, reached, _ := slowSite(t, pages, 20)
	dir := t.TempDir()
	chainSpider(t, dir, site.URL)
	cmd := trawlCmd(t, dir, "run", "s.yaml", "--db", dsn, "--quiet")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case <-reached:
	case <-time.After(60 * time.Second):
		t.Fatal("trawl run did not get going within 60s")
	}
	r := runMain(t, dir, nil, "run", "s.yaml", "--db", dsn, "--quiet")
	if r.code != 1 || !strings.Contains(r.stderr, `dataset "chain" of postgres://`) || !strings.Contains(r.stderr, "is being written by trawl process ") {
		t.Errorf("second trawl run while the first crawls: exit %d, %q; want 1 and a conflict naming the first", r.code, r.stderr)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("first trawl run: %v\n%s", err, stderr.String())
	}
	r = runMain(t, dir, nil, "run", "s.yaml", "--db", dsn, "--quiet")
	if r.code != 0 {
		t.Errorf("trawl run after the first ended: exit %d, %s", r.code, r.stderr)
	}
}
