package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// datasetLockKey is the first key of a dataset's advisory lock; the second
// is the hash of the schema and the dataset's name, so that trawl
// databases in different schemas of one server lock independently.
const datasetLockKey = 0x74727764 // "trwd"

// LockDataset keeps every other trawl process on this database off
// dataset until unlock is called: a session advisory lock
// (pg_try_advisory_lock) held on a connection of its own, outside the
// pool, for as long as the crawl lasts. PostgreSQL releases it when that
// connection ends, so a process killed with SIGKILL leaves no lock behind.
// When another process holds it, LockDataset returns ECONFLICT at once.
// It is `trawl run`'s lock on PostgreSQL, and the service's (LockFunc).
func (db *DB) LockDataset(ctx context.Context, dataset string) (unlock func(), err error) {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("lock dataset %s: connect to %s: %w", dataset, db.name, err)
	}
	var locked bool
	err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext(current_schema() || '/' || $2))`, datasetLockKey, dataset).Scan(&locked)
	if err != nil || !locked {
		conn.Close(context.WithoutCancel(ctx))
		if err != nil {
			return nil, fmt.Errorf("lock dataset %s: %w", dataset, err)
		}
		return nil, trawl.Errorf(trawl.ECONFLICT,
			"dataset %q of %s is being written by another trawl process; wait for it to finish (two runs writing one dataset at once would take each other's items)",
			dataset, db.name)
	}
	return func() {
		// Closing the session releases its advisory locks.
		conn.Close(context.Background())
	}, nil
}
