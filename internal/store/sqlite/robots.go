package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/trawl-dev/trawl/internal/store"
)

// robotsRow is a row of the robots table.
type robotsRow struct {
	rec        store.RobotsRecord
	hasRecord  bool
	worker     string
	claimUntil int64
}

const selectRobotsSQL = `SELECT status, class, unreachable, body, fetched_at, expires_at, worker, claim_until FROM robots WHERE origin = ?`

// scanRobots reads origin's row; nil when there is none.
func scanRobots(row *sql.Row) (*robotsRow, error) {
	var (
		r                robotsRow
		fetched, expires int64
	)
	err := row.Scan(&r.rec.Status, &r.rec.Class, &r.rec.Unreachable, &r.rec.Body, &fetched, &expires, &r.worker, &r.claimUntil)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.rec.FetchedAt, r.rec.Expires, r.hasRecord = timeOf(fetched), timeOf(expires), expires != 0
	return &r, nil
}

// answer is ClaimRobots' answer for r at nowMS when the caller did not
// claim: the fresh record, or the claim to wait for.
func (r *robotsRow) answer(nowMS int64) *store.RobotsClaim {
	if r.hasRecord && msOf(r.rec.Expires) > nowMS {
		rec := r.rec
		return &store.RobotsClaim{Record: &rec}
	}
	return &store.RobotsClaim{Holder: r.worker, Until: timeOf(r.claimUntil)}
}

// ClaimRobots implements store.Store. A fresh record is read without the
// write lock; a claim is decided in a write transaction (BEGIN
// IMMEDIATE), which claimers in this process and others take in turn, so
// only the first sees the origin unclaimed.
func (db *DB) ClaimRobots(ctx context.Context, origin, worker string, ttl time.Duration) (*store.RobotsClaim, error) {
	if err := store.CheckRobots(origin, worker, ttl); err != nil {
		return nil, err
	}
	nowMS := db.now().UnixMilli()
	r, err := scanRobots(db.read.QueryRowContext(ctx, selectRobotsSQL, origin))
	if err != nil {
		return nil, fmt.Errorf("claim robots.txt of %s: %w", origin, err)
	}
	if r != nil && (r.hasRecord && msOf(r.rec.Expires) > nowMS || r.claimUntil > nowMS) {
		return r.answer(nowMS), nil
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim robots.txt of %s: %w", origin, writeError(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO robots (origin) VALUES (?)`, origin); err != nil {
		return nil, fmt.Errorf("claim robots.txt of %s: %w", origin, writeError(err))
	}
	until := nowMS + ttl.Milliseconds()
	res, err := tx.ExecContext(ctx, `UPDATE robots SET worker = ?, claim_until = ?
		WHERE origin = ? AND expires_at <= ? AND claim_until <= ?`, worker, until, origin, nowMS, nowMS)
	if err != nil {
		return nil, fmt.Errorf("claim robots.txt of %s: %w", origin, writeError(err))
	}
	claimed, err := res.RowsAffected()
	if err != nil {
		return nil, fmt.Errorf("claim robots.txt of %s: %w", origin, err)
	}
	// The row exists: it was inserted above if it did not.
	if r, err = scanRobots(tx.QueryRowContext(ctx, selectRobotsSQL, origin)); err != nil || r == nil {
		return nil, fmt.Errorf("claim robots.txt of %s: row missing after insert (%v)", origin, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim robots.txt of %s: %w", origin, writeError(err))
	}
	if claimed == 0 {
		return r.answer(nowMS), nil
	}
	c := &store.RobotsClaim{Claimed: true, Holder: worker, Until: timeOf(until)}
	if r.hasRecord {
		c.Record = &r.rec
	}
	return c, nil
}

// PutRobots implements store.Store.
func (db *DB) PutRobots(ctx context.Context, origin, worker string, rec *store.RobotsRecord) error {
	if err := store.CheckRobots(origin, worker, 1); err != nil {
		return err
	}
	var err error
	if rec == nil {
		_, err = db.write.ExecContext(ctx, `UPDATE robots SET worker = '', claim_until = 0 WHERE origin = ? AND worker = ?`, origin, worker)
	} else {
		// SET sees the row as it was: the claim ends only if it is worker's.
		_, err = db.write.ExecContext(ctx, `INSERT INTO robots (origin, status, class, unreachable, body, fetched_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (origin) DO UPDATE SET status = excluded.status, class = excluded.class,
				unreachable = excluded.unreachable, body = excluded.body, fetched_at = excluded.fetched_at,
				expires_at = excluded.expires_at,
				claim_until = CASE WHEN worker = ? THEN 0 ELSE claim_until END,
				worker = CASE WHEN worker = ? THEN '' ELSE worker END`,
			origin, rec.Status, rec.Class, rec.Unreachable, rec.Body, msOf(rec.FetchedAt), msOf(rec.Expires), worker, worker)
	}
	if err != nil {
		return fmt.Errorf("put robots.txt of %s: %w", origin, writeError(err))
	}
	return nil
}
