package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/store/postgres"
	"github.com/trawl-dev/trawl/internal/store/sqlite"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// DefaultDB is the database used when --db is not given: a SQLite file in
// the working directory.
const DefaultDB = "trawl.db"

// pather is a store kept in one local file (SQLite): `trawl run` locks a
// dataset with a file next to it, and messages name the file.
type pather interface{ Path() string }

// checkpointer is a store with a write-ahead log it can fold into its
// main file on request (SQLite), instead of at Close.
type checkpointer interface {
	Checkpoint(ctx context.Context) error
}

var (
	_ pather       = (*sqlite.DB)(nil)
	_ checkpointer = (*sqlite.DB)(nil)
)

// dsnScheme is the URL scheme of a DSN ("postgres" of postgres://...), or
// "" for a file path or a sqlite:/file: name.
func dsnScheme(dsn string) string {
	scheme, _, ok := strings.Cut(dsn, "://")
	if !ok || scheme == "" || strings.ContainsAny(scheme, `/\.`) {
		return ""
	}
	return strings.ToLower(scheme)
}

// sqlitePath turns a DSN into the SQLite file it names: a path, or
// sqlite:PATH, sqlite://PATH, file:PATH; relative to env.Dir.
func sqlitePath(dsn string, env Env) (string, error) {
	for _, prefix := range []string{"sqlite://", "sqlite:", "file:"} {
		if rest, ok := strings.CutPrefix(dsn, prefix); ok {
			dsn = rest
			break
		}
	}
	if dsn == "" {
		return "", trawl.Errorf(trawl.EINVALID, "--db is empty: give a SQLite file path such as %s", DefaultDB)
	}
	return env.path(dsn), nil
}

// openStore opens the store a DSN names, chosen by its scheme: a SQLite
// file (a path, sqlite:, file:), created if needed. With mustExist (a
// command that only reads), a missing SQLite file is a clear error, not a
// new empty database. A postgres:// or postgresql:// URL opens the
// PostgreSQL store (migrating its schema).
func openStore(ctx context.Context, dsn string, env Env) (store.Store, error) {
	return openDSN(ctx, dsn, env, false)
}

// openExistingStore is openStore for a command that only reads.
func openExistingStore(ctx context.Context, dsn string, env Env) (store.Store, error) {
	return openDSN(ctx, dsn, env, true)
}

func openDSN(ctx context.Context, dsn string, env Env, mustExist bool) (store.Store, error) {
	switch scheme := dsnScheme(dsn); scheme {
	case "", "sqlite", "file":
	case "postgres", "postgresql":
		return openPostgres(ctx, dsn)
	default:
		return nil, trawl.Errorf(trawl.EINVALID, "--db %s: unknown database scheme %s://; use a SQLite file path or a postgres:// URL", redact(dsn), scheme)
	}
	path, err := sqlitePath(dsn, env)
	if err != nil {
		return nil, err
	}
	if mustExist {
		if _, err := os.Stat(path); err != nil {
			return nil, trawl.Errorf(trawl.ENOTFOUND, "no database at %s: run a spider first, or point --db at its database", path)
		}
	} else if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return nil, trawl.Errorf(trawl.EINVALID, "--db %s: directory %s does not exist", path, filepath.Dir(path))
	}
	return openSQLite(ctx, path)
}

// storeName is how messages name the database of st opened from dsn: its
// file, or the DSN without its password.
func storeName(st store.Store, dsn string) string {
	if p, ok := st.(pather); ok {
		return p.Path()
	}
	return redact(dsn)
}

// path resolves p against the working directory given to Main.
func (env Env) path(p string) string {
	if env.Dir != "" && !filepath.IsAbs(p) {
		return filepath.Join(env.Dir, p)
	}
	return p
}

// redact hides the password of a database URL.
func redact(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return dsn[:scheme+3] + userinfo[:i] + ":xxxxx" + dsn[at:]
	}
	return dsn
}

// isPostgres reports whether dsn names a PostgreSQL database.
func isPostgres(dsn string) bool {
	s := dsnScheme(dsn)
	return s == "postgres" || s == "postgresql"
}

// openPostgres opens the PostgreSQL database dsn names; a refusal is a
// dbError.
func openPostgres(ctx context.Context, dsn string) (*postgres.DB, error) {
	db, err := postgres.Open(ctx, dsn, postgres.Config{})
	if err != nil {
		return nil, &dbError{err: err}
	}
	return db, nil
}

// openSQLite opens the SQLite database at path; a refusal is a dbError.
func openSQLite(ctx context.Context, path string) (*sqlite.DB, error) {
	db, err := sqlite.Open(ctx, path, sqlite.Config{})
	if err != nil {
		return nil, &dbError{err: err}
	}
	return db, nil
}
