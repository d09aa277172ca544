// Package sqlite implements store.Store on an embedded SQLite database
// (modernc.org/sqlite, pure Go, no cgo).
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"time"

	"modernc.org/sqlite"

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
	// ckpt checkpoints the write-ahead log off the commit path.
	ckpt *checkpointer
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
	// _txlock=immediate takes the write lock at BEGIN, so a transaction never
	// fails half-way with SQLITE_BUSY on lock upgrade. temp_store=MEMORY
	// keeps the statement journal in memory: a CommitPages transaction
	// outgrows its 64 KiB spill threshold, and every multi-row or
	// triggered write then paid pwrite calls to a temporary file. The
	// writer runs no large sorts, so the memory stays small.
	// wal_autocheckpoint and cache_size: see writerPragmas.
	drv, err := newDriver()
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.write = sql.OpenDB(connector{drv, dsn + "&_txlock=immediate&_pragma=temp_store(MEMORY)" + writerPragmas})
	db.write.SetMaxOpenConns(1)
	db.write.SetConnMaxIdleTime(0)
	db.read = sql.OpenDB(connector{drv, dsn + "&_query_only=1"})
	db.read.SetMaxOpenConns(cmp.Or(cfg.Readers, 4))
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, openError(path, err)
	}
	if db.commitStmts, err = prepareCommitStmts(ctx, db.write); err != nil {
		db.Close()
		return nil, openError(path, err)
	}
	db.ckpt = newCheckpointer(sql.OpenDB(connector{drv, dsn}))
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

// writerPragmas tune the write connection for the crawl's commits.
//
// wal_autocheckpoint: the commit that grows the write-ahead log past the
// threshold (1000 pages by default) copies it into the database file and
// syncs both files, on the crawl's commit path. The checkpointer does
// that in the background instead, so that the writer rarely reaches the
// threshold; the writer's own checkpoint stays as a backstop at SQLite's
// default 1000 pages (4 MiB), should the checkpointer fall behind (a busy
// machine): a larger backstop let the log outgrow a small disk, which the
// data itself would have fit (TestDiskFullThenResume, 16 MiB).
//
// cache_size: the value index touches pages all over its B-tree (a unique
// value lands at a random place), more than the default 2 MiB page cache
// holds, and a miss is a read from the file. 32 MiB holds the hot pages of
// millions of items.
const writerPragmas = "&_pragma=wal_autocheckpoint(1000)&_pragma=cache_size(-32768)"

// checkpointEvery is the least time between two background checkpoints:
// a page written by many commits in that time is copied once.
const checkpointEvery = 250 * time.Millisecond

// checkpointer copies the write-ahead log into the database file on a
// connection of its own, while the writer goes on: a PASSIVE checkpoint
// takes no lock that the writer needs. Commits kick it; it runs at most
// once per checkpointEvery.
type checkpointer struct {
	conn *sql.DB
	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

func newCheckpointer(conn *sql.DB) *checkpointer {
	conn.SetMaxOpenConns(1)
	c := &checkpointer{conn: conn, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// committed tells the checkpointer that a transaction committed.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		// An error is left to the next try, and to the writer's own
		// checkpoint (writerPragmas): nothing is lost, the log only grows.
		c.conn.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		t.Reset(checkpointEvery)
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
	}
}

// close stops the checkpointer and closes its connection.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.conn.Close()
}

// newDriver returns a SQLite driver of its own (not the process-wide
// "sqlite" one) with the functions the store's queries call:
// trawl_fold(text), the case fold of the value index (store.Fold).
func newDriver() (*sqlite.Driver, error) {
	d := &sqlite.Driver{}
	err := d.RegisterDeterministicScalarFunction("trawl_fold", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return store.Fold(v), nil
		case []byte:
			return store.Fold(string(v)), nil
		case nil:
			return nil, nil
		}
		return nil, fmt.Errorf("trawl_fold: want text, got %T", args[0])
	})
	return d, err
}

// connector opens connections of a driver with one DSN (sql.OpenDB).
type connector struct {
	d   *sqlite.Driver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.d }

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
	var ckptErr error
	if db.ckpt != nil {
		ckptErr = db.ckpt.close()
	}
	if db.commitStmts != nil {
		db.commitStmts.close()
	}
	return errors.Join(ckptErr, db.read.Close(), db.write.Close())
}
