package cli_test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

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

// TestMigrateRace starts three `trawl migrate` processes on one new
// PostgreSQL schema at once, as a deployment's processes starting
// together do: each exits 0 and the schema holds each migration once
// (the advisory lock lets one apply them; the others find them applied).
func TestMigrateRace(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Schema(t)
	dir := t.TempDir()
	var cmds []*exec.Cmd
	outs := make([]*bytes.Buffer, 3)
	for i := range outs {
		cmd := trawlCmd(t, dir, "migrate", "--db", dsn)
		outs[i] = &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("migrate %d: %v\n%s", i, err, outs[i])
		}
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows, distinct int
	if err := conn.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT name) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	known, err := filepath.Glob(filepath.Join("..", "store", "postgres", "migration", "*.sql"))
	if err != nil || len(known) == 0 {
		t.Fatalf("migration files: %v, %v", known, err)
	}
	if rows != len(known) || distinct != len(known) {
		t.Errorf("schema_migrations has %d rows (%d names) after three racing migrates, want %d, each once", rows, distinct, len(known))
	}
}
