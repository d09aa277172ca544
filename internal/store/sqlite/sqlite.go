// Package sqlite implements store.Store on an embedded SQLite database
// (modernc.org/sqlite, pure Go, no cgo).
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/trawl-dev/trawl/internal/store"
)

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
	// fields caches item_fields ids across CommitPages transactions.
	fields *fieldCache
}

var _ store.Store = (*DB)(nil)

// busyTimeoutMS is how long a connection waits for another process's lock
// before SQLITE_BUSY: long enough to cover another process migrating or
// committing a batch.
const busyTimeoutMS = 10000

// Open opens (creating if needed) the database file at path and applies
// pending migrations.
//
// Open refuses, with an EINVALID error that names path and says what to do,
// a file or directory that is read-only, a SQLite file of another program
// and a database migrated by a newer trawl; it refuses before writing
// anything, and removes the -wal and -shm files that it created itself.
func Open(ctx context.Context, path string, cfg Config) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("open sqlite: empty path")
	}
	created := missingSidecars(path)
	db, err := open(ctx, path, cfg)
	if err != nil {
		removeSidecars(created)
		return nil, err
	}
	return db, nil
}

func open(ctx context.Context, path string, cfg Config) (*DB, error) {
	if err := checkWritable(path); err != nil {
		return nil, err
	}
	db := &DB{path: path, now: cfg.Now, fields: newFieldCache()}
	if db.now == nil {
		db.now = time.Now
	}
	// _busy_timeout is applied before any other pragma (see the driver's
	// docs), so even the first statements of a connection wait for a lock
	// held by another process instead of failing with SQLITE_BUSY.
	// synchronous=NORMAL is durable across process crashes (kill -9); after a
	// power loss the last transactions may be lost but the file stays
	// consistent, and lost pages are simply fetched again.
	// foreign_keys is off by default in SQLite; we rely on ON DELETE CASCADE.
	// journal_mode=WAL is not in the DSN: it rewrites the file header, so
	// Open sets it only once it knows the file is a trawl database (WAL is
	// persistent, later connections find it in the file).
	dsn := fileDSN(path)
	var err error
	// _txlock=immediate takes the write lock at BEGIN, so a transaction never
	// fails half-way with SQLITE_BUSY on lock upgrade. temp_store=MEMORY
	// keeps the statement journal in memory: a CommitPages transaction
	// outgrows its 64 KiB spill threshold, and every multi-row or
	// triggered write then paid pwrite calls to a temporary file. The
	// writer runs no large sorts, so the memory stays small.
	if db.write, err = sql.Open("sqlite", dsn+"&_txlock=immediate&_pragma=temp_store(MEMORY)"); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetConnMaxIdleTime(0)
	if db.read, err = sql.Open("sqlite", dsn+"&_query_only=1"); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.read.SetMaxOpenConns(cmp.Or(cfg.Readers, 4))
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, openError(path, err)
	}
	if db.commitStmts, err = prepareCommitStmts(ctx, db.write); err != nil {
		db.Close()
		return nil, openError(path, err)
	}
	return db, nil
}

// fileDSN is the DSN of the database file at path, with the pragmas every
// connection of trawl's needs (see open).
func fileDSN(path string) string {
	params := fmt.Sprintf("_busy_timeout=%d&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)", busyTimeoutMS)
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + params
}

// OpenJobPool opens a pool of one connection on the database file at path
// for the job queue (River's riversqlite driver, which asks for one
// connection), separate from the store's pools so that the crawl's commits
// and the API's reads never queue behind the job queue's polling. It has
// the writer's settings: busy timeout, synchronous=NORMAL and BEGIN
// IMMEDIATE transactions. The file must already be a trawl database (Open
// it first; it is in WAL mode from then on). The caller closes the pool.
func OpenJobPool(path string) (*sql.DB, error) {
	if path == "" {
		return nil, fmt.Errorf("open job pool: empty path")
	}
	pool, err := sql.Open("sqlite", fileDSN(path)+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open job pool %s: %w", path, err)
	}
	pool.SetMaxOpenConns(1)
	pool.SetConnMaxIdleTime(0)
	return pool, nil
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
