package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trawl-dev/trawl/internal/store"
)

// nullTime returns t truncated to the millisecond, nil for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	m := ms(t)
	return &m
}

// timeOf returns *t in UTC, the zero time for nil.
func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// ClaimHosts implements store.Store. The hosts are chosen and leased in
// one statement whose row locks skip the rows concurrent claimers hold
// (FOR UPDATE SKIP LOCKED): a claimer never waits for another, and a row
// another claimer leased meanwhile fails the statement's re-check of its
// expiry, so no two claimers lease one host.
func (db *DB) ClaimHosts(ctx context.Context, runID int64, worker string, max int, ttl time.Duration) ([]store.HostLease, error) {
	if err := store.CheckLease(worker, max, ttl); err != nil {
		return nil, err
	}
	now := ms(db.now())
	// Every host with queued pages has its lease row: a trigger adds it
	// with the host's first page (migration 0005).
	var out []store.HostLease
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// The EXISTS has OFFSET 0 so that it stays a correlated subplan,
		// one probe of pages_queued by (run_id, host) per lease row:
		// pulled up into a semi join, it was planned, on tables not yet
		// analyzed (a new run's), as one scan of all the run's queued
		// pages per host: 170 ms for 200 hosts of 100 pages instead of
		// 0.4 ms, and half a second a claim in bench scale-out.
		rows, err := tx.Query(ctx, `UPDATE host_leases h SET worker = $2, expires_at = $3, token = h.token + 1
			FROM (SELECT l.host FROM host_leases l
				WHERE l.run_id = $1 AND (l.expires_at IS NULL OR l.expires_at <= $4)
				AND (l.not_before IS NULL OR l.not_before <= $4)
				AND EXISTS (SELECT 1 FROM pages p WHERE p.run_id = l.run_id AND p.host = l.host AND p.state = 0
					AND (p.not_before IS NULL OR p.not_before <= $4) OFFSET 0)
				ORDER BY l.not_before NULLS FIRST, l.host LIMIT $5
				FOR UPDATE SKIP LOCKED) c
			WHERE h.run_id = $1 AND h.host = c.host
			RETURNING h.host, h.worker, h.expires_at, h.token, h.not_before, h.delay_ms, h.allowance, h.failures`,
			runID, worker, now.Add(ttl), now, max)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.HostLease, error) {
			var (
				l           store.HostLease
				expires, nb *time.Time
				delay       int64
			)
			err := row.Scan(&l.Host, &l.Worker, &expires, &l.Token, &nb, &delay, &l.Pace.Allowance, &l.Pace.Failures)
			l.Expires, l.Pace.NotBefore, l.Pace.Delay = timeOf(expires), timeOf(nb), time.Duration(delay)*time.Millisecond
			return l, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim hosts: %w", err)
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
	now := ms(db.now())
	sorted := slices.Sorted(slices.Values(hosts))
	var kept []string
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		kept, err = queryStrings(ctx, tx, `UPDATE host_leases SET expires_at = $4
			WHERE run_id = $1 AND worker = $2 AND host = ANY($3::text[]) AND expires_at > $5 RETURNING host`,
			runID, worker, sorted, now.Add(ttl), now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("renew hosts: %w", err)
	}
	var lost []string
	for _, h := range hosts {
		if !slices.Contains(kept, h) {
			lost = append(lost, h)
		}
	}
	return lost, nil
}

// ReleaseHosts implements store.Store.
func (db *DB) ReleaseHosts(ctx context.Context, runID int64, worker string, hosts []store.HostRelease) error {
	if err := store.CheckLease(worker, 1, 1); err != nil {
		return err
	}
	hosts = slices.Clone(hosts)
	slices.SortFunc(hosts, func(a, b store.HostRelease) int { return cmp.Compare(a.Host, b.Host) })
	var (
		names          []string
		notBefore      []*time.Time
		delays         []int64
		allow, failing []int32
	)
	for _, h := range hosts {
		names = append(names, h.Host)
		notBefore = append(notBefore, nullTime(h.Pace.NotBefore))
		delays = append(delays, h.Pace.Delay.Milliseconds())
		allow = append(allow, int32(h.Pace.Allowance))
		failing = append(failing, int32(h.Pace.Failures))
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE host_leases h SET worker = '', expires_at = NULL,
			not_before = u.not_before, delay_ms = u.delay_ms, allowance = u.allowance, failures = u.failures
			FROM unnest($3::text[], $4::timestamptz[], $5::bigint[], $6::int[], $7::int[]) AS u(host, not_before, delay_ms, allowance, failures)
			WHERE h.run_id = $1 AND h.worker = $2 AND h.host = u.host`,
			runID, worker, names, notBefore, delays, allow, failing)
		return err
	})
	if err != nil {
		return fmt.Errorf("release hosts: %w", err)
	}
	return nil
}

// DeferPages implements store.Store.
func (db *DB) DeferPages(ctx context.Context, runID int64, pages []store.PageDefer) error {
	pages = slices.Clone(pages)
	slices.SortFunc(pages, func(a, b store.PageDefer) int { return cmp.Compare(a.PageID, b.PageID) })
	var (
		ids       []int64
		attempts  []int32
		notBefore []*time.Time
	)
	for _, p := range pages {
		ids = append(ids, p.PageID)
		attempts = append(attempts, int32(p.Attempts))
		notBefore = append(notBefore, nullTime(p.NotBefore))
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// By primary key: see markDone.
		_, err := tx.Exec(ctx, `UPDATE pages p SET attempts = u.attempts, not_before = u.not_before
			FROM unnest($2::bigint[], $3::int[], $4::timestamptz[]) AS u(id, attempts, not_before)
			WHERE p.id = ANY($2::bigint[]) AND p.id = u.id AND p.run_id + 0 = $1 AND p.state + 0 = $5`,
			runID, ids, attempts, notBefore, pageQueued)
		return err
	})
	if err != nil {
		return fmt.Errorf("defer pages: %w", err)
	}
	return nil
}
