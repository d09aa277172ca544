package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/trawl-dev/trawl/internal/store/sqlite"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// DefaultDB is the database used when --db is not given: a SQLite file in
// the working directory.
const DefaultDB = "trawl.db"

// sqlitePath turns a DSN into the SQLite file it names: a path, or
// sqlite:PATH, sqlite://PATH, file:PATH; relative to env.Dir. postgres://
// URLs are reserved for the service.
func sqlitePath(dsn string, env Env) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return "", trawl.Errorf(trawl.EINVALID, "--db %s: PostgreSQL is not supported yet; use a SQLite file path", redact(dsn))
	}
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

// openStore opens (creating if needed) the store a DSN names.
func openStore(ctx context.Context, dsn string, env Env) (*sqlite.DB, error) {
	path, err := sqlitePath(dsn, env)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return nil, trawl.Errorf(trawl.EINVALID, "--db %s: directory %s does not exist", path, filepath.Dir(path))
	}
	return openSQLite(ctx, path)
}

// openExistingStore opens a store for a command that only reads: a missing
// SQLite file is a clear error, not a new empty database.
func openExistingStore(ctx context.Context, dsn string, env Env) (*sqlite.DB, error) {
	path, err := sqlitePath(dsn, env)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "no database at %s: run a spider first, or point --db at its database", path)
	}
	return openSQLite(ctx, path)
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

// openSQLite opens the SQLite database at path; a refusal is a dbError.
func openSQLite(ctx context.Context, path string) (*sqlite.DB, error) {
	db, err := sqlite.Open(ctx, path, sqlite.Config{})
	if err != nil {
		return nil, &dbError{err: err}
	}
	return db, nil
}
