// Package postgres implements store.Store on PostgreSQL with pgx (pgxpool):
// several trawl processes on several machines may share one database.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Config tunes a DB. The zero value means defaults.
type Config struct {
	// MaxConns caps the connections of the pool; 0 = pgxpool's default
	// (the larger of 4 and the number of CPUs), or pool_max_conns in the
	// DSN.
	MaxConns int32
	// Now returns the current time; default time.Now. Injected by tests.
	Now func() time.Time
}

// DB is a store.Store on a PostgreSQL database (the schema its DSN's
// search_path names first, public by default).
type DB struct {
	pool *pgxpool.Pool
	name string // the DSN without its password, for messages
	now  func() time.Time
	// fields caches item_fields ids across CommitPages transactions.
	fields *fieldCache
}

var _ store.Store = (*DB)(nil)

// Open connects to the database dsn names (postgres:// or postgresql://
// URL, or a key=value string) and applies pending migrations, in one
// transaction holding an advisory lock, so that several processes starting
// at once migrate once. It refuses, with an EINVALID error naming the
// database, a schema migrated by a newer trawl and one that holds trawl's
// tables without its migrations.
func Open(ctx context.Context, dsn string, cfg Config) (*DB, error) {
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, trawl.Errorf(trawl.EINVALID, "--db %s: %v", Redact(dsn), err)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	db := &DB{name: Redact(dsn), now: cfg.Now, fields: newFieldCache()}
	if db.now == nil {
		db.now = time.Now
	}
	if db.pool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", db.name, err)
	}
	if err := db.migrate(ctx); err != nil {
		db.pool.Close()
		var te *trawl.Error
		if errors.As(err, &te) {
			return nil, err
		}
		return nil, fmt.Errorf("open postgres %s: %w", db.name, err)
	}
	return db, nil
}

// Pool returns the connection pool, for the job queue (River's riverpgxv5
// driver) to share.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Name returns the DSN the store was opened with, without its password.
func (db *DB) Name() string { return db.name }

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Redact returns dsn with its password replaced by xxxxx.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		if i := strings.Index(dsn, "password="); i >= 0 {
			end := strings.IndexByte(dsn[i:], ' ')
			if end < 0 {
				return dsn[:i] + "password=xxxxx"
			}
			return dsn[:i] + "password=xxxxx" + dsn[i+end:]
		}
		return dsn
	}
	return u.Redacted()
}

// ms truncates t to the millisecond, the precision the store keeps (as
// SQLite's integer milliseconds), in UTC.
func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// utcPtr returns t in UTC, nil for nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// writeError marks an error of a write that failed because the disk is
// full (SQLSTATE 53100), so that a run stops interrupted, not failed.
func writeError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "53100" {
		return fmt.Errorf("%w: %w", store.ErrDiskFull, err)
	}
	return err
}

// retryable reports whether a transaction failed only because of another
// one, so that running it again may succeed: a deadlock (40P01) or a
// serialization failure (40001).
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// inTx runs f in a transaction and commits it, running it again (up to 5
// times) when PostgreSQL aborted it for a deadlock with a concurrent one.
func (db *DB) inTx(ctx context.Context, f func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, db.pool, f)
		if err == nil || !retryable(err) || attempt == 5 {
			return writeError(err)
		}
		// Apart, at random, so that the two transactions do not meet
		// again at once: 1-2 ms, doubling with each attempt.
		wait := time.Duration(1<<(attempt-1)) * time.Millisecond
		select {
		case <-ctx.Done():
			return writeError(err)
		case <-time.After(wait + rand.N(wait)):
		}
	}
}

// queryer is a pool, a connection or a transaction.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// sanitize makes s storable as PostgreSQL text, which refuses NUL bytes and
// invalid UTF-8 (SQLite keeps both): error messages carry what a server
// sent.
func sanitize(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// wrap adds context to err, unless it is a *trawl.Error, which already
// says what users need to know.
func wrap(err error, format string, args ...any) error {
	var te *trawl.Error
	if err == nil || errors.As(err, &te) {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
