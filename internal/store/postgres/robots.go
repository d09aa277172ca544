package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trawl-dev/trawl/internal/store"
)

// robotsRow is a row of the robots table.
type robotsRow struct {
	rec        store.RobotsRecord
	hasRecord  bool
	worker     string
	claimUntil time.Time // zero: nobody
}

const robotsCols = `status, class, unreachable, body, fetched_at, expires_at, worker, claim_until`

// scanRobots reads a row of the robots table; nil when there is none.
func scanRobots(row pgx.Row) (*robotsRow, error) {
	var (
		r                       robotsRow
		fetched, expires, claim *time.Time
	)
	err := row.Scan(&r.rec.Status, &r.rec.Class, &r.rec.Unreachable, &r.rec.Body, &fetched, &expires, &r.worker, &claim)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.rec.FetchedAt, r.rec.Expires, r.claimUntil, r.hasRecord = timeOf(fetched), timeOf(expires), timeOf(claim), expires != nil
	return &r, nil
}

// fresh reports whether r holds a record that has not expired at now.
func (r *robotsRow) fresh(now time.Time) bool { return r.hasRecord && r.rec.Expires.After(now) }

// answer is ClaimRobots' answer for r at now when the caller did not
// claim: the fresh record, or the claim to wait for.
func (r *robotsRow) answer(now time.Time) *store.RobotsClaim {
	if r.fresh(now) {
		rec := r.rec
		return &store.RobotsClaim{Record: &rec}
	}
	return &store.RobotsClaim{Holder: r.worker, Until: r.claimUntil}
}

// ClaimRobots implements store.Store. The claim is taken by an INSERT
// ... ON CONFLICT DO NOTHING (no row yet) or by an UPDATE whose WHERE
// requires an expired record and an expired claim: concurrent UPDATEs of
// the row wait for each other and re-check the WHERE on the row the
// first one committed, so one claimer wins and the others see its claim.
func (db *DB) ClaimRobots(ctx context.Context, origin, worker string, ttl time.Duration) (*store.RobotsClaim, error) {
	if err := store.CheckRobots(origin, worker, ttl); err != nil {
		return nil, err
	}
	now := ms(db.now())
	until := now.Add(ttl)
	r, err := scanRobots(db.pool.QueryRow(ctx, `SELECT `+robotsCols+` FROM robots WHERE origin = $1`, origin))
	if err != nil {
		return nil, fmt.Errorf("claim robots.txt of %s: %w", origin, err)
	}
	if r != nil && (r.fresh(now) || r.claimUntil.After(now)) {
		return r.answer(now), nil
	}
	claimed := &store.RobotsClaim{Claimed: true, Holder: worker, Until: until}
	if r == nil {
		tag, err := db.pool.Exec(ctx, `INSERT INTO robots (origin, worker, claim_until) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			origin, worker, until)
		if err != nil {
			return nil, fmt.Errorf("claim robots.txt of %s: %w", origin, writeError(err))
		}
		if tag.RowsAffected() == 1 {
			return claimed, nil
		}
	}
	r, err = scanRobots(db.pool.QueryRow(ctx, `UPDATE robots SET worker = $2, claim_until = $3
		WHERE origin = $1 AND (expires_at IS NULL OR expires_at <= $4) AND (claim_until IS NULL OR claim_until <= $4)
		RETURNING `+robotsCols, origin, worker, until, now))
	if err != nil {
		return nil, fmt.Errorf("claim robots.txt of %s: %w", origin, writeError(err))
	}
	if r != nil {
		if r.hasRecord {
			claimed.Record = &r.rec
		}
		return claimed, nil
	}
	// Another claimer won meanwhile: report its claim (or its record).
	r, err = scanRobots(db.pool.QueryRow(ctx, `SELECT `+robotsCols+` FROM robots WHERE origin = $1`, origin))
	if err != nil || r == nil {
		return nil, fmt.Errorf("claim robots.txt of %s: row missing after insert (%v)", origin, err)
	}
	return r.answer(now), nil
}

// PutRobots implements store.Store.
func (db *DB) PutRobots(ctx context.Context, origin, worker string, rec *store.RobotsRecord) error {
	if err := store.CheckRobots(origin, worker, 1); err != nil {
		return err
	}
	var err error
	if rec == nil {
		_, err = db.pool.Exec(ctx, `UPDATE robots SET worker = '', claim_until = NULL WHERE origin = $1 AND worker = $2`, origin, worker)
	} else {
		// SET sees the row as it was: the claim ends only if it is worker's.
		_, err = db.pool.Exec(ctx, `INSERT INTO robots AS r (origin, status, class, unreachable, body, fetched_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (origin) DO UPDATE SET status = excluded.status, class = excluded.class,
				unreachable = excluded.unreachable, body = excluded.body, fetched_at = excluded.fetched_at,
				expires_at = excluded.expires_at,
				claim_until = CASE WHEN r.worker = $8 THEN NULL ELSE r.claim_until END,
				worker = CASE WHEN r.worker = $8 THEN '' ELSE r.worker END`,
			origin, rec.Status, sanitize(rec.Class), rec.Unreachable, rec.Body, nullTime(rec.FetchedAt), nullTime(rec.Expires), worker)
	}
	if err != nil {
		return fmt.Errorf("put robots.txt of %s: %w", origin, writeError(err))
	}
	return nil
}
