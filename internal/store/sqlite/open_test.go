package sqlite_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/store/sqlite"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// dirState is a directory's file names and each file's SHA-256, to show
// that a refused Open changed nothing.
func dirState(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][32]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = sha256.Sum256(b)
	}
	return out
}

// rawExec runs statements on path through the plain driver, as another
// program would.
func rawExec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// mustCreateFile makes a trawl database at path with one run and closes it.
func mustCreateFile(t *testing.T, path string) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateRun(context.Background(), store.CreateRunParams{Spider: "s", SpecHash: "h", StartURLs: []store.NewURL{{URL: "http://h/", Host: "h"}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// wantRefused opens path, expecting an EINVALID error whose message names
// path and contains each of hints, and checks that the directory is as it
// was.
func wantRefused(t *testing.T, path string, hints ...string) {
	t.Helper()
	dir := filepath.Dir(path)
	before := dirState(t, dir)
	db, err := sqlite.Open(context.Background(), path, sqlite.Config{})
	if err == nil {
		db.Close()
		t.Fatalf("Open(%s) succeeded, want it refused", path)
	}
	if trawl.ErrorCode(err) != trawl.EINVALID {
		t.Errorf("Open error code = %s (%v), want invalid", trawl.ErrorCode(err), err)
	}
	msg := trawl.ErrorMessage(err)
	for _, h := range append([]string{path}, hints...) {
		if !strings.Contains(msg, h) {
			t.Errorf("Open error %q does not contain %q", msg, h)
		}
	}
	if diff := cmp.Diff(before, dirState(t, dir)); diff != "" {
		t.Errorf("a refused Open changed the directory (-before +after):\n%s", diff)
	}
}

func TestOpenRefusesReadOnlyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "trawl.db")
	mustCreateFile(t, path)
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, path, "read-only", "chmod u+w")
}

func TestOpenRefusesReadOnlyDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "trawl.db")
	mustCreateFile(t, path)
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	// The existing file is writable, but its -wal and -shm cannot be made.
	wantRefused(t, path, "read-only", "trawl.db-wal")
	// Nor can a new database be.
	wantRefused(t, filepath.Join(dir, "new.db"), "read-only")
}

func TestOpenRefusesMissingDirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nope", "trawl.db")
	_, err := sqlite.Open(context.Background(), path, sqlite.Config{})
	if trawl.ErrorCode(err) != trawl.EINVALID || !strings.Contains(trawl.ErrorMessage(err), "does not exist") {
		t.Errorf("Open in a missing directory = %v, want invalid naming the directory", err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "trawl.db")
	mustCreateFile(t, path)
	rawExec(t, path, `INSERT INTO schema_migrations (name, applied_at) VALUES ('migration/9999_future.sql', 0)`)
	wantRefused(t, path, "newer trawl", "9999_future", "upgrade trawl")
}

func TestOpenRefusesAnotherProgramsFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		stmts []string
	}{
		{"plain", []string{`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`, `INSERT INTO users (name) VALUES ('ann')`}},
		{"wal", []string{`PRAGMA journal_mode=WAL`, `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`}},
		{"golang-migrate", []string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, dirty INTEGER)`, `CREATE TABLE runs (id INTEGER PRIMARY KEY)`}},
		{"other application id", []string{`PRAGMA application_id = 42`, `CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "app.db")
			rawExec(t, path, tt.stmts...)
			wantRefused(t, path, "not a trawl database")
		})
	}
}

func TestOpenRefusesNonSQLiteFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, path, "not a SQLite database")
}

// TestOpenMigratesFirstSchema opens a database that only has migration
// 0001 (as made by the first trawl release): it is adopted, migrated, and
// each of its runs lists the items it last stored.
func TestOpenMigratesFirstSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "trawl.db")
	first, err := os.ReadFile("migration/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	rawExec(t, path,
		`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`,
		string(first),
		`INSERT INTO schema_migrations VALUES ('migration/0001_init.sql', 0)`,
		`INSERT INTO runs (id, spider, spec_hash, spec, status, created_at) VALUES (7, 'a', 'h', '', 'succeeded', 0)`,
		`INSERT INTO datasets VALUES ('a', '["title","_url"]', 0, 0)`,
		`INSERT INTO items (dataset, key, url, data, run_id, created_at, updated_at) VALUES ('a', 'k', 'http://a/k', '{"title":"t","_url":"http://a/k"}', 7, 0, 0)`,
	)
	db, err := sqlite.Open(context.Background(), path, sqlite.Config{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	var got []string
	for raw, err := range db.Items(context.Background(), store.ItemQuery{Dataset: "a", RunID: 7}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(raw))
	}
	if diff := cmp.Diff([]string{`{"title":"t","_url":"http://a/k"}`}, got); diff != "" {
		t.Errorf("items of run 7 after migration (-want +got):\n%s", diff)
	}
}

// TestOpenNewFileConcurrently opens one new file from two *DB at once, 30
// times: the second must wait for the first's migrations, never fail with
// SQLITE_BUSY or apply them twice.
func TestOpenNewFileConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	for i := range 30 {
		path := filepath.Join(dir, "trawl"+strings.Repeat("x", i)+".db")
		start := make(chan struct{})
		var wg sync.WaitGroup
		dbs := make([]*sqlite.DB, 2)
		errs := make([]error, 2)
		for g := range 2 {
			wg.Go(func() {
				<-start
				dbs[g], errs[g] = sqlite.Open(ctx, path, sqlite.Config{})
			})
		}
		close(start)
		wg.Wait()
		for g, err := range errs {
			if err != nil {
				t.Fatalf("attempt %d: Open %d: %v", i, g, err)
			}
		}
		// Both work on the same, fully migrated schema.
		r, err := dbs[0].CreateRun(ctx, store.CreateRunParams{Spider: "s", SpecHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := dbs[1].Run(ctx, r.ID); err != nil || got.Spider != "s" {
			t.Fatalf("attempt %d: Run from the other DB = %v, %v", i, got, err)
		}
		for _, db := range dbs {
			db.Close()
		}
	}
}

// TestPingNoticesANewerSchema checks what /readyz reports: an open store
// whose file a newer trawl migrated since is no longer ready.
func TestPingNoticesANewerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trawl.db")
	db, err := sqlite.Open(ctx, path, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping of a fresh database: %v", err)
	}
	rawExec(t, path, `INSERT INTO schema_migrations (name, applied_at) VALUES ('migration/9999_future.sql', 0)`)
	err = db.Ping(ctx)
	if err == nil || !strings.Contains(err.Error(), "newer trawl") {
		t.Fatalf("Ping after a newer migration = %v, want a newer-trawl error", err)
	}
}
