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

// openStore opens the store a DSN names: a file path (or sqlite:PATH,
// file:PATH) for SQLite. postgres:// URLs are reserved for the service.
func openStore(ctx context.Context, dsn string, env Env) (*sqlite.DB, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return nil, trawl.Errorf(trawl.EINVALID, "--db %s: PostgreSQL is not supported yet; use a SQLite file path", redact(dsn))
	case strings.HasPrefix(dsn, "sqlite://"):
		dsn = strings.TrimPrefix(dsn, "sqlite://")
	case strings.HasPrefix(dsn, "sqlite:"):
		dsn = strings.TrimPrefix(dsn, "sqlite:")
	case strings.HasPrefix(dsn, "file:"):
		dsn = strings.TrimPrefix(dsn, "file:")
	}
	if dsn == "" {
		return nil, trawl.Errorf(trawl.EINVALID, "--db is empty: give a SQLite file path such as %s", DefaultDB)
	}
	if env.Dir != "" && !filepath.IsAbs(dsn) {
		dsn = filepath.Join(env.Dir, dsn)
	}
	if fi, err := os.Stat(filepath.Dir(dsn)); err != nil || !fi.IsDir() {
		return nil, trawl.Errorf(trawl.EINVALID, "--db %s: directory %s does not exist", dsn, filepath.Dir(dsn))
	}
	db, err := sqlite.Open(ctx, dsn, sqlite.Config{})
	if err != nil {
		return nil, err
	}
	return db, nil
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

// dbExists reports a clear error when a command that only reads finds no
// SQLite file, instead of creating an empty one.
func dbExists(dsn string, env Env) error {
	for _, p := range []string{"sqlite://", "sqlite:", "file:"} {
		dsn = strings.TrimPrefix(dsn, p)
	}
	if strings.Contains(dsn, "://") {
		return nil
	}
	if env.Dir != "" && !filepath.IsAbs(dsn) {
		dsn = filepath.Join(env.Dir, dsn)
	}
	if _, err := os.Stat(dsn); err != nil {
		return trawl.Errorf(trawl.ENOTFOUND, "no database at %s: run a spider first, or point --db at its database", dsn)
	}
	return nil
}
