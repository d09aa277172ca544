// Package sqlite implements store.Store on an embedded SQLite database
// (modernc.org/sqlite, pure Go, no cgo).
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/trawl-dev/trawl/internal/store"
)

//go:embed migration/*.sql
var migrations embed.FS

// Config tunes a DB. The zero value means defaults.
type Config struct {
	// Readers is the maximum number of concurrent read connections.
	// Default 4.
	Readers int
	// Now returns the current time; default time.Now. Injected by tests.
	Now func() time.Time
}

// DB is a store.Store on one SQLite file.
//
// It keeps two connection pools: one connection for writes, so writers queue
// in Go instead of spinning on SQLITE_BUSY, and a few for reads, which WAL
// mode lets run concurrently with the writer.
type DB struct {
	path  string
	write *sql.DB
	read  *sql.DB
	now   func() time.Time

	// Statements of the hot path, prepared once on the single write
	// connection; transactions use them through Tx.StmtContext, which on
	// the same connection reuses the prepared statement.
	commitStmts *commitStmts
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path and applies
// pending migrations.
func Open(ctx context.Context, path string, cfg Config) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("open sqlite: empty path")
	}
	db := &DB{path: path, now: cfg.Now}
	if db.now == nil {
		db.now = time.Now
	}
	var err error
	// WAL lets readers (exports, the API) run while a crawl writes.
	// synchronous=NORMAL is durable across process crashes (kill -9); after a
	// power loss the last transactions may be lost but the file stays
	// consistent, and lost pages are simply fetched again.
	// foreign_keys is off by default in SQLite; we rely on ON DELETE CASCADE.
	// _txlock=immediate takes the write lock at BEGIN, so a transaction never
	// fails half-way with SQLITE_BUSY on lock upgrade.
	pragmas := "_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)"
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
	if db.write, err = sql.Open("sqlite", dsn+"&_txlock=immediate"); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetConnMaxIdleTime(0)
	if db.read, err = sql.Open("sqlite", dsn+"&_pragma=query_only(1)"); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.read.SetMaxOpenConns(cmp.Or(cfg.Readers, 4))
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if db.commitStmts, err = prepareCommitStmts(ctx, db.write); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}

// Checkpoint copies the write-ahead log into the database file without
// waiting for readers (PRAGMA wal_checkpoint(PASSIVE)). Close does the same;
// calling Checkpoint first, while other work goes on, makes Close quick.
func (db *DB) Checkpoint(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// Path returns the database file path.
func (db *DB) Path() string { return db.path }

// Close closes the database.
func (db *DB) Close() error {
	if db.commitStmts != nil {
		db.commitStmts.close()
	}
	return errors.Join(db.read.Close(), db.write.Close())
}

// migrate applies the embedded migrations not yet recorded, each in its own
// transaction together with its bookkeeping row.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migration/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.applyMigration(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, name string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(migrations, name)
	if err != nil {
		return err
	}
	for _, stmt := range strings.Split(string(body), ";\n") {
		if strings.TrimSpace(stripComments(stmt)) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, db.now().UnixMilli()); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	return tx.Commit()
}

func stripComments(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
		}
	}
	return b.String()
}
