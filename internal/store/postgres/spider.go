package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// spiderColumns are the columns scanSpider reads, in its order.
const spiderColumns = `name, source, format, hash, version, created_at, updated_at, last_fired_at`

// PutSpider implements store.Store.
func (db *DB) PutSpider(ctx context.Context, p store.PutSpiderParams) (*store.StoredSpider, bool, error) {
	if p.Name == "" {
		return nil, false, trawl.Errorf(trawl.EINVALID, "spider name is empty")
	}
	if p.Format != store.FormatYAML && p.Format != store.FormatJSON {
		return nil, false, trawl.Errorf(trawl.EINVALID, "spider %q: unknown format %q (want yaml or json)", p.Name, p.Format)
	}
	var (
		sp      *store.StoredSpider
		created bool
	)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		sp, created, err = putSpider(ctx, tx, p, ms(db.now()))
		return err
	})
	if err != nil {
		return nil, false, wrap(err, "put spider %q", p.Name)
	}
	return sp, created, nil
}

// putSpider inserts or updates the spider in tx and returns it as stored.
// Two puts of a new spider at once: the insert of the second waits for the
// first and, finding its row, the second updates it.
func putSpider(ctx context.Context, tx pgx.Tx, p store.PutSpiderParams, now time.Time) (*store.StoredSpider, bool, error) {
	sp := &store.StoredSpider{Name: p.Name, Source: bytes.Clone(p.Source), Format: p.Format, Hash: p.Hash, Version: 1, CreatedAt: now, UpdatedAt: now}
	tag, err := tx.Exec(ctx, `INSERT INTO spiders (name, source, format, hash, version, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $5)
		ON CONFLICT (name) DO NOTHING`, sp.Name, sp.Source, sp.Format, sp.Hash, now)
	if err != nil {
		return nil, false, err
	}
	if tag.RowsAffected() == 1 {
		return sp, true, nil
	}
	old, err := scanSpider(tx.QueryRow(ctx, `SELECT `+spiderColumns+` FROM spiders WHERE name = $1 FOR NO KEY UPDATE`, p.Name))
	if err != nil {
		return nil, false, err
	}
	if bytes.Equal(old.Source, p.Source) && old.Format == p.Format && old.Hash == p.Hash {
		return old, false, nil // nothing changed: no new version
	}
	upd := *old
	upd.Source, upd.Format, upd.Hash = sp.Source, p.Format, p.Hash
	upd.Version++
	upd.UpdatedAt = now
	if _, err := tx.Exec(ctx, `UPDATE spiders SET source = $1, format = $2, hash = $3, version = $4, updated_at = $5 WHERE name = $6`,
		upd.Source, upd.Format, upd.Hash, upd.Version, now, upd.Name); err != nil {
		return nil, false, err
	}
	return &upd, false, nil
}

// Spider implements store.Store.
func (db *DB) Spider(ctx context.Context, name string) (*store.StoredSpider, error) {
	sp, err := scanSpider(db.pool.QueryRow(ctx, `SELECT `+spiderColumns+` FROM spiders WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "spider %q not found", name)
	} else if err != nil {
		return nil, fmt.Errorf("find spider %q: %w", name, err)
	}
	return sp, nil
}

// scanSpider reads one row of spiderColumns.
func scanSpider(row pgx.Row) (*store.StoredSpider, error) {
	var sp store.StoredSpider
	if err := row.Scan(&sp.Name, &sp.Source, &sp.Format, &sp.Hash, &sp.Version, &sp.CreatedAt, &sp.UpdatedAt, &sp.LastFiredAt); err != nil {
		return nil, err
	}
	sp.CreatedAt, sp.UpdatedAt, sp.LastFiredAt = sp.CreatedAt.UTC(), sp.UpdatedAt.UTC(), utcPtr(sp.LastFiredAt)
	if sp.Source == nil {
		sp.Source = []byte{}
	}
	return &sp, nil
}

// Spiders implements store.Store: a page reads the primary key from the
// cursor on.
func (db *DB) Spiders(ctx context.Context, q store.SpiderQuery) ([]store.StoredSpider, error) {
	if q.Limit < 0 {
		return nil, trawl.Errorf(trawl.EINVALID, "limit %d is negative", q.Limit)
	}
	limit := q.Limit
	if limit == 0 {
		limit = store.SpidersLimit
	}
	rows, err := db.pool.Query(ctx, `SELECT `+spiderColumns+` FROM spiders WHERE name > $1 ORDER BY name LIMIT $2`, q.After, limit)
	if err != nil {
		return nil, fmt.Errorf("list spiders: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.StoredSpider, error) {
		sp, err := scanSpider(row)
		if err != nil {
			return store.StoredSpider{}, err
		}
		return *sp, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list spiders: %w", err)
	}
	if out == nil {
		out = []store.StoredSpider{}
	}
	return out, nil
}

// DeleteSpider implements store.Store.
func (db *DB) DeleteSpider(ctx context.Context, name string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM spiders WHERE name = $1`, name)
	if err != nil {
		return fmt.Errorf("delete spider %q: %w", name, writeError(err))
	}
	if tag.RowsAffected() == 0 {
		return trawl.Errorf(trawl.ENOTFOUND, "spider %q not found", name)
	}
	return nil
}

// CountRuns implements store.Store.
func (db *DB) CountRuns(ctx context.Context) (map[trawl.RunStatus]int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT status, count(*) FROM runs GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	out := map[trawl.RunStatus]int64{}
	var (
		status string
		n      int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		out[trawl.RunStatus(status)] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	return out, nil
}

// QueuedPageCount implements store.Store: the unfinished runs through
// runs_status_id, their pages in the partial index of queued pages.
func (db *DB) QueuedPageCount(ctx context.Context) (int64, error) {
	var n int64
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM pages WHERE state = $1 AND run_id IN (SELECT id FROM runs WHERE status IN ($2, $3))`,
		pageQueued, string(trawl.RunQueued), string(trawl.RunRunning)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count queued pages: %w", err)
	}
	return n, nil
}
