package postgres

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// datasetLockKey is the first key of a dataset's advisory lock; the second
// is the hash of the schema and the dataset's name, so that trawl
// databases in different schemas of one server lock independently.
const datasetLockKey = 0x74727764 // "trwd"

// exclusiveKey is the first key of the advisory locks Exclusive takes.
const exclusiveKey = 0x74727778 // "trwx"

// Exclusive runs f while holding a session advisory lock named name (per
// schema), on a connection of the pool kept aside for it: processes that
// call Exclusive with one name at once run f one after the other. The job
// queue migrates River's tables under it.
func (db *DB) Exclusive(ctx context.Context, name string, f func(ctx context.Context) error) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	defer conn.Release()
	const key = `$1, hashtext(current_schema() || '/' || $2)`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+key+`)`, exclusiveKey, name); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`, exclusiveKey, name); err != nil {
			conn.Conn().Close(context.Background()) // ending the session releases the lock
		}
	}()
	return f(ctx)
}

// LockDataset keeps every other trawl process on this database off
// dataset until unlock is called: a session advisory lock
// (pg_try_advisory_lock) held on a connection of its own, outside the
// pool, for as long as the crawl lasts. PostgreSQL releases it when that
// connection ends, so a process killed with SIGKILL leaves no lock behind.
// When another process holds it, LockDataset returns ECONFLICT at once.
// It is `trawl run`'s lock on PostgreSQL, and the service's (LockFunc).
func (db *DB) LockDataset(ctx context.Context, dataset string) (unlock func(), err error) {
	cc := db.pool.Config().ConnConfig.Copy()
	// The holder names itself, so that a refused process can say who holds
	// the lock (pg_stat_activity.application_name, at most 63 bytes).
	host, _ := os.Hostname()
	cc.RuntimeParams["application_name"] = truncate(fmt.Sprintf("trawl process %d on %s", os.Getpid(), host), 63)
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("lock dataset %s: connect to %s: %w", dataset, db.name, err)
	}
	var locked bool
	err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext(current_schema() || '/' || $2))`, datasetLockKey, dataset).Scan(&locked)
	if err != nil || !locked {
		defer conn.Close(context.WithoutCancel(ctx))
		if err != nil {
			return nil, fmt.Errorf("lock dataset %s: %w", dataset, err)
		}
		who := "another trawl process"
		var name string
		// Best effort: who holds it only improves the message.
		if conn.QueryRow(ctx, `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.classid = $1::int8::oid
			AND l.objid = (hashtext(current_schema() || '/' || $2)::int8 & 4294967295)::oid
			LIMIT 1`, datasetLockKey, dataset).Scan(&name) == nil && name != "" {
			who = name
		}
		return nil, trawl.Errorf(trawl.ECONFLICT,
			"dataset %q of %s is being written by %s; wait for it to finish (two runs writing one dataset at once would take each other's items)",
			dataset, db.name, who)
	}
	return func() {
		// Closing the session releases its advisory locks.
		conn.Close(context.Background())
	}, nil
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
