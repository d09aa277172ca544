package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/store/postgres"
	"github.com/trawl-dev/trawl/internal/store/postgres/pgtest"
	"github.com/trawl-dev/trawl/internal/store/storetest"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// mustOpen opens a store on a fresh schema, closed at cleanup.
func mustOpen(tb testing.TB, cfg postgres.Config) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), pgtest.Schema(tb), cfg)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	pgtest.URL(t)
	start := time.Now()
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return mustOpen(t, postgres.Config{Now: now})
	})
	t.Cleanup(func() { t.Logf("conformance suite on PostgreSQL: %v", time.Since(start).Round(time.Millisecond)) })
}

// TestOpenConcurrently opens one new schema from many goroutines at once,
// as processes starting together would: the advisory lock lets one
// migrate, the others find the schema it committed.
func TestOpenConcurrently(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	dbs := make([]*postgres.DB, n)
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = postgres.Open(ctx, dsn, postgres.Config{MaxConns: 2}) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("open %d: %v", i, errs[i])
			continue
		}
		if err := dbs[i].Ping(ctx); err != nil {
			t.Errorf("ping %d: %v", i, err)
		}
		dbs[i].Close()
	}
	db := mustOpenDSN(t, dsn)
	var count int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	known, err := filepath.Glob("migration/*.sql")
	if err != nil || len(known) < 2 {
		t.Fatalf("migration files: %v, %v", known, err)
	}
	if count != len(known) {
		t.Errorf("schema_migrations has %d rows after %d concurrent opens, want %d (one per migration)", count, n, len(known))
	}
}

func mustOpenDSN(tb testing.TB, dsn string) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), dsn, postgres.Config{})
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// TestRefusesNewerSchema: a schema with a migration this binary does not
// know was migrated by a newer trawl; Open refuses it as SQLite does, and a
// store opened before says so on Ping (readiness).
func TestRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	db := mustOpenDSN(t, dsn)
	pgtest.Exec(t, dsn, `INSERT INTO schema_migrations (name, applied_at) VALUES ('migration/9999_future.sql', now())`)
	_, err := postgres.Open(ctx, dsn, postgres.Config{})
	if trawl.ErrorCode(err) != trawl.EINVALID {
		t.Fatalf("open of a newer schema: %v, want invalid", err)
	}
	msg := trawl.ErrorMessage(err)
	for _, want := range []string{"was migrated by a newer trawl (schema 9999_future; this trawl", "knows up to 0005_lease_rows): upgrade trawl to open it; nothing was changed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if err := db.Ping(ctx); trawl.ErrorCode(err) != trawl.EINVALID {
		t.Errorf("Ping after a newer trawl migrated: %v, want invalid", err)
	}
}

// TestRefusesOtherTables: a schema holding a table of trawl's name but no
// trawl migrations belongs to another program; Open leaves it untouched.
func TestRefusesOtherTables(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Schema(t)
	pgtest.Exec(t, dsn, `CREATE TABLE runs (x int)`)
	_, err := postgres.Open(context.Background(), dsn, postgres.Config{})
	if trawl.ErrorCode(err) != trawl.EINVALID || !strings.Contains(trawl.ErrorMessage(err), "is not a trawl database") {
		t.Fatalf("open of another program's schema: %v, want invalid 'not a trawl database'", err)
	}
}

// TestMigratesFrom0001: a schema at migration 0001 holding a run gets 0002
// on Open; the run then samples at 1 s and takes host statistics.
func TestMigratesFrom0001(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	first, err := os.ReadFile("migration/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, dsn, string(first)+`;
		CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL);
		INSERT INTO schema_migrations VALUES ('migration/0001_init.sql', now());
		INSERT INTO runs (spider, spec_hash, spec, status, created_at) VALUES ('s', 'h', '', 'running', now());`)
	db := mustOpenDSN(t, dsn)
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping after the upgrade: %v", err)
	}
	var id int64
	if err := db.Pool().QueryRow(ctx, `SELECT id FROM runs`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CommitPages(ctx, store.CommitParams{RunID: id, Dataset: "s", Hosts: []store.HostStats{{Host: "h", Requests: 2}},
		Sample: store.SampleIfDue}); err != nil {
		t.Fatalf("CommitPages after the upgrade: %v", err)
	}
	if hosts, err := db.RunHosts(ctx, id); err != nil || len(hosts) != 1 || hosts[0].Requests != 2 {
		t.Errorf("RunHosts after the upgrade = %+v, %v; want h with 2 requests", hosts, err)
	}
	if got, err := db.RunSamples(ctx, id); err != nil || got.Interval != time.Second || len(got.Points) != 1 {
		t.Errorf("RunSamples after the upgrade = %+v, %v; want one at 1s", got, err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn, postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := db.CreateRun(ctx, store.CreateRunParams{Spider: "s", SpecHash: "h", StartURLs: []store.NewURL{{URL: "http://h/", Host: "h"}}})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = mustOpenDSN(t, dsn) // migrations must not re-run
	got, err := db.ResumableRun(ctx, "s", "h")
	if err != nil || got.ID != r.ID || got.Stats.Queued != 1 {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/db?sslmode=disable": "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"postgres://u@h/db":                             "postgres://u@h/db",
		"host=h user=u password=secret dbname=d":        "host=h user=u password=xxxxx dbname=d",
	} {
		if got := postgres.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
