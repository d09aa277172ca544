package cli_test

import (
	"strings"
	"testing"

	"github.com/trawl-dev/trawl/internal/store/postgres/pgtest"
)

// TestPostgresCommands runs a spider into a PostgreSQL database and reads
// it back with the commands that work on PostgreSQL today: run, export,
// runs, datasets and migrate; a second run resumes nothing and stores the
// same items. serve on PostgreSQL: serve_postgres_test.go.
func TestPostgresCommands(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Schema(t)
	site, srv := startDemo(t)
	dir := t.TempDir()
	spiderPath := demoSpider(t, dir, "quotes.yaml", strings.TrimPrefix(srv.URL, "http://"))
	r := runMain(t, dir, nil, "migrate", "--db", dsn)
	if r.code != 0 || !strings.Contains(r.stdout, "schema up to date") {
		t.Fatalf("migrate: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runMain(t, dir, nil, "run", spiderPath, "--db", dsn, "-o", "quotes.jsonl", "--quiet")
	if r.code != 0 {
		t.Fatalf("run exit %d:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "run 1 finished: ") || !strings.Contains(r.stderr, "http_5xx 1") {
		t.Errorf("summary lacks the run line or the broken page:\n%s", r.stderr)
	}
	r = runMain(t, dir, nil, "export", "quotes", "--db", dsn, "--format", "jsonl")
	if r.code != 0 {
		t.Fatalf("export exit %d: %s", r.code, r.stderr)
	}
	if got, want := len(lines(r.stdout)), len(site.Quotes()); got != want {
		t.Errorf("export has %d items, want %d", got, want)
	}
	r = runMain(t, dir, nil, "export", "quotes", "--db", dsn, "--format", "jsonl", "--run", "1")
	if r.code != 0 || len(lines(r.stdout)) != len(site.Quotes()) {
		t.Errorf("export --run 1: exit %d, %d items, want %d: %s", r.code, len(lines(r.stdout)), len(site.Quotes()), r.stderr)
	}
	r = runMain(t, dir, nil, "runs", "--db", dsn)
	if r.code != 0 || !strings.Contains(r.stdout, "quotes") || !strings.Contains(r.stdout, "succeeded") {
		t.Errorf("runs: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runMain(t, dir, nil, "datasets", "--db", dsn)
	if r.code != 0 || !strings.Contains(r.stdout, "quotes") {
		t.Errorf("datasets: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr+r.stdout, "secret") {
		t.Errorf("output leaks the password")
	}
}
