package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// spidersLimit is the page size of Spiders when SpiderQuery.Limit is 0.
const spidersLimit = 100

// spiderColumns are the columns PutSpider writes.
const spiderColumns = `name, source, format, hash, version, created_at, updated_at`

// spiderReadColumns are spiderColumns and the columns only writes other
// than PutSpider set.
const spiderReadColumns = spiderColumns + `, last_fired_at`

// PutSpider implements store.Store.
func (db *DB) PutSpider(ctx context.Context, p store.PutSpiderParams) (*store.StoredSpider, bool, error) {
	if p.Name == "" {
		return nil, false, trawl.Errorf(trawl.EINVALID, "spider name is empty")
	}
	if p.Format != store.FormatYAML && p.Format != store.FormatJSON {
		return nil, false, trawl.Errorf(trawl.EINVALID, "spider %q: unknown format %q (want yaml or json)", p.Name, p.Format)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("put spider %q: %w", p.Name, writeError(err))
	}
	defer tx.Rollback()
	sp, created, err := putSpider(ctx, tx, p, db.now())
	if err != nil {
		return nil, false, fmt.Errorf("put spider %q: %w", p.Name, writeError(err))
	}
	if err := tx.Commit(); err != nil {
		return nil, false, fmt.Errorf("put spider %q: %w", p.Name, writeError(err))
	}
	return sp, created, nil
}

// putSpider inserts or updates the spider in tx and returns it as stored.
func putSpider(ctx context.Context, tx *sql.Tx, p store.PutSpiderParams, now time.Time) (*store.StoredSpider, bool, error) {
	old, err := findSpider(ctx, tx, p.Name)
	switch {
	case trawl.ErrorCode(err) == trawl.ENOTFOUND:
		sp := &store.StoredSpider{Name: p.Name, Source: bytes.Clone(p.Source), Format: p.Format, Hash: p.Hash, Version: 1,
			CreatedAt: time.UnixMilli(now.UnixMilli()).UTC()}
		sp.UpdatedAt = sp.CreatedAt
		_, err := tx.ExecContext(ctx, `INSERT INTO spiders (`+spiderColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			sp.Name, string(sp.Source), sp.Format, sp.Hash, sp.Version, sp.CreatedAt.UnixMilli(), sp.UpdatedAt.UnixMilli())
		if err != nil {
			return nil, false, err
		}
		return sp, true, nil
	case err != nil:
		return nil, false, err
	case bytes.Equal(old.Source, p.Source) && old.Format == p.Format && old.Hash == p.Hash:
		return old, false, nil // nothing changed: no new version
	}
	sp := *old
	sp.Source, sp.Format, sp.Hash = bytes.Clone(p.Source), p.Format, p.Hash
	sp.Version++
	sp.UpdatedAt = time.UnixMilli(now.UnixMilli()).UTC()
	_, err = tx.ExecContext(ctx, `UPDATE spiders SET source = ?, format = ?, hash = ?, version = ?, updated_at = ? WHERE name = ?`,
		string(sp.Source), sp.Format, sp.Hash, sp.Version, sp.UpdatedAt.UnixMilli(), sp.Name)
	if err != nil {
		return nil, false, err
	}
	return &sp, false, nil
}

// Spider implements store.Store.
func (db *DB) Spider(ctx context.Context, name string) (*store.StoredSpider, error) {
	return findSpider(ctx, db.read, name)
}

func findSpider(ctx context.Context, q queryer, name string) (*store.StoredSpider, error) {
	sp, err := scanSpider(q.QueryRowContext(ctx, `SELECT `+spiderReadColumns+` FROM spiders WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "spider %q not found", name)
	} else if err != nil {
		return nil, fmt.Errorf("find spider %q: %w", name, err)
	}
	return sp, nil
}

// scanSpider reads one row of spiderReadColumns.
func scanSpider(row interface{ Scan(...any) error }) (*store.StoredSpider, error) {
	var (
		sp               store.StoredSpider
		created, updated int64
		fired            sql.NullInt64
	)
	if err := row.Scan(&sp.Name, &sp.Source, &sp.Format, &sp.Hash, &sp.Version, &created, &updated, &fired); err != nil {
		return nil, err
	}
	sp.LastFiredAt = timePtr(fired)
	sp.CreatedAt = time.UnixMilli(created).UTC()
	sp.UpdatedAt = time.UnixMilli(updated).UTC()
	return &sp, nil
}

// Spiders implements store.Store. A page reads the primary key index from
// the cursor on, so it costs its size however many spiders there are.
func (db *DB) Spiders(ctx context.Context, q store.SpiderQuery) ([]store.StoredSpider, error) {
	if q.Limit < 0 {
		return nil, trawl.Errorf(trawl.EINVALID, "limit %d is negative", q.Limit)
	}
	limit := q.Limit
	if limit == 0 {
		limit = spidersLimit
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+spiderReadColumns+` FROM spiders WHERE name > ? ORDER BY name LIMIT ?`, q.After, limit)
	if err != nil {
		return nil, fmt.Errorf("list spiders: %w", err)
	}
	defer rows.Close()
	out := []store.StoredSpider{}
	for rows.Next() {
		sp, err := scanSpider(rows)
		if err != nil {
			return nil, fmt.Errorf("list spiders: %w", err)
		}
		out = append(out, *sp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list spiders: %w", err)
	}
	return out, nil
}

// DeleteSpider implements store.Store.
func (db *DB) DeleteSpider(ctx context.Context, name string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM spiders WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete spider %q: %w", name, writeError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return trawl.Errorf(trawl.ENOTFOUND, "spider %q not found", name)
	}
	return nil
}

// CountRuns implements store.Store.
func (db *DB) CountRuns(ctx context.Context) (map[trawl.RunStatus]int64, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT status, count(*) FROM runs GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	defer rows.Close()
	out := map[trawl.RunStatus]int64{}
	for rows.Next() {
		var status trawl.RunStatus
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("count runs: %w", err)
		}
		out[status] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	return out, nil
}

// QueuedPageCount implements store.Store. It finds the unfinished runs
// through runs_status_id and counts their pages in the partial index of
// queued pages, so finished runs cost nothing.
func (db *DB) QueuedPageCount(ctx context.Context) (int64, error) {
	var n int64
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM pages WHERE state = ? AND run_id IN (SELECT id FROM runs WHERE status IN (?, ?))`,
		pageQueued, trawl.RunQueued, trawl.RunRunning).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count queued pages: %w", err)
	}
	return n, nil
}
