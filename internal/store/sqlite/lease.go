package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/trawl-dev/trawl/internal/store"
)

// msOf returns t in Unix milliseconds, 0 for the zero time.
func msOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// timeOf is the inverse of msOf.
func timeOf(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// ClaimHosts implements store.Store. The write connection's transactions
// are BEGIN IMMEDIATE: claimers, in this process or others, take the
// database's write lock in turn, so no two see the same host free.
func (db *DB) ClaimHosts(ctx context.Context, runID int64, worker string, max int, ttl time.Duration) ([]store.HostLease, error) {
	if err := store.CheckLease(worker, max, ttl); err != nil {
		return nil, err
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim hosts: %w", writeError(err))
	}
	defer tx.Rollback()
	now := db.now()
	nowMS := now.UnixMilli()
	// Every host with queued pages has its lease row: a trigger adds it
	// with the host's first page (migration 0011).
	rows, err := tx.QueryContext(ctx, `UPDATE host_leases SET worker = ?, expires_at = ?, token = token + 1
		WHERE run_id = ? AND host IN (
			SELECT l.host FROM host_leases l
			WHERE l.run_id = ? AND l.expires_at <= ? AND l.not_before <= ?
			AND EXISTS (SELECT 1 FROM pages p WHERE p.run_id = l.run_id AND p.host = l.host AND p.state = 0 AND p.not_before <= ?)
			ORDER BY l.not_before, l.host LIMIT ?)
		RETURNING host, worker, expires_at, token, not_before, delay_ms, allowance, failures`,
		worker, now.Add(ttl).UnixMilli(), runID, runID, nowMS, nowMS, nowMS, max)
	if err != nil {
		return nil, fmt.Errorf("claim hosts: %w", writeError(err))
	}
	defer rows.Close()
	var out []store.HostLease
	for rows.Next() {
		var (
			l                 store.HostLease
			expires, nb, dlay int64
		)
		if err := rows.Scan(&l.Host, &l.Worker, &expires, &l.Token, &nb, &dlay, &l.Pace.Allowance, &l.Pace.Failures); err != nil {
			return nil, fmt.Errorf("claim hosts: %w", err)
		}
		l.Expires, l.Pace.NotBefore, l.Pace.Delay = timeOf(expires), timeOf(nb), time.Duration(dlay)*time.Millisecond
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim hosts: %w", writeError(err))
	}
	rows.Close()
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim hosts: %w", writeError(err))
	}
	slices.SortFunc(out, func(a, b store.HostLease) int {
		return cmp.Or(a.Pace.NotBefore.Compare(b.Pace.NotBefore), cmp.Compare(a.Host, b.Host))
	})
	return out, nil
}

// RenewHosts implements store.Store.
func (db *DB) RenewHosts(ctx context.Context, runID int64, worker string, hosts []string, ttl time.Duration) ([]string, error) {
	if err := store.CheckLease(worker, 1, ttl); err != nil {
		return nil, err
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("renew hosts: %w", writeError(err))
	}
	defer tx.Rollback()
	now := db.now()
	stmt, err := tx.PrepareContext(ctx, `UPDATE host_leases SET expires_at = ? WHERE run_id = ? AND host = ? AND worker = ? AND expires_at > ?`)
	if err != nil {
		return nil, fmt.Errorf("renew hosts: %w", writeError(err))
	}
	defer stmt.Close()
	var lost []string
	for _, h := range hosts {
		res, err := stmt.ExecContext(ctx, now.Add(ttl).UnixMilli(), runID, h, worker, now.UnixMilli())
		if err != nil {
			return nil, fmt.Errorf("renew host %s: %w", h, writeError(err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("renew host %s: %w", h, err)
		} else if n == 0 {
			lost = append(lost, h)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("renew hosts: %w", writeError(err))
	}
	return lost, nil
}

// ReleaseHosts implements store.Store.
func (db *DB) ReleaseHosts(ctx context.Context, runID int64, worker string, hosts []store.HostRelease) error {
	if err := store.CheckLease(worker, 1, 1); err != nil {
		return err
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("release hosts: %w", writeError(err))
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `UPDATE host_leases SET worker = '', expires_at = 0,
		not_before = ?, delay_ms = ?, allowance = ?, failures = ? WHERE run_id = ? AND host = ? AND worker = ?`)
	if err != nil {
		return fmt.Errorf("release hosts: %w", writeError(err))
	}
	defer stmt.Close()
	for _, h := range hosts {
		p := h.Pace
		if _, err := stmt.ExecContext(ctx, msOf(p.NotBefore), p.Delay.Milliseconds(), p.Allowance, p.Failures, runID, h.Host, worker); err != nil {
			return fmt.Errorf("release host %s: %w", h.Host, writeError(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("release hosts: %w", writeError(err))
	}
	return nil
}

// DeferPages implements store.Store.
func (db *DB) DeferPages(ctx context.Context, runID int64, pages []store.PageDefer) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("defer pages: %w", writeError(err))
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `UPDATE pages SET attempts = ?, not_before = ? WHERE id = ? AND run_id = ? AND state = ?`)
	if err != nil {
		return fmt.Errorf("defer pages: %w", writeError(err))
	}
	defer stmt.Close()
	for _, p := range pages {
		if _, err := stmt.ExecContext(ctx, p.Attempts, msOf(p.NotBefore), p.PageID, runID, pageQueued); err != nil {
			return fmt.Errorf("defer page %d: %w", p.PageID, writeError(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("defer pages: %w", writeError(err))
	}
	return nil
}
