package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// upsertItem stores it and reports whether it is new to this run (inserted,
// or last stored by another run). An item already stored by this run is
// left as it is: the first page of a run to yield a key wins.
//
// A crawl mostly stores new items, so the insert comes first: when it
// takes, LastInsertId is the id (the run_items trigger's own insert does
// not leak out of the trigger) and the item has no old value rows; only a
// conflict costs a probe for the id, the run and the old data, whose
// values name the value rows to replace.
func (c *committer) upsertItem(ctx context.Context, it trawl.Item, now int64) (bool, error) {
	data, err := it.MarshalJSON()
	if err != nil {
		return false, fmt.Errorf("encode: %w", err)
	}
	res, err := c.insItem.ExecContext(ctx, c.dataset, it.Key, it.URL, string(data), c.runID, now, now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	var (
		id  int64
		old []store.IndexedField // the values the item had, none when fresh
	)
	if n == 1 {
		if id, err = res.LastInsertId(); err != nil {
			return false, err
		}
	} else {
		var (
			runID   int64
			oldData string
		)
		if err := c.itemRun.QueryRowContext(ctx, c.dataset, it.Key).Scan(&id, &runID, &oldData); err != nil {
			return false, fmt.Errorf("find: %w", err)
		}
		if runID == c.runID {
			return false, nil
		}
		if old, err = store.StoredIndexValues(oldData); err != nil {
			return false, fmt.Errorf("index: stored item %d: %w", id, err)
		}
		if _, err := c.updItem.ExecContext(ctx, it.URL, string(data), c.runID, now, id); err != nil {
			return false, err
		}
	}
	// Its value rows follow, in the same transaction.
	fields, err := store.ItemIndexValues(it, data)
	if err != nil {
		return false, fmt.Errorf("index: %w", err)
	}
	if err := c.values.replace(ctx, id, fields, old); err != nil {
		return false, fmt.Errorf("index: %w", err)
	}
	return true, nil
}

// upsertDataset records the dataset, adding columns it did not have yet
// (after the existing ones, "_url" kept last).
func upsertDataset(ctx context.Context, tx *sql.Tx, name string, columns []string, now time.Time) error {
	var existing string
	var cols []string
	err := tx.QueryRowContext(ctx, `SELECT columns FROM datasets WHERE name = ?`, name).Scan(&existing)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("dataset %s: %w", name, err)
	default:
		if err := json.Unmarshal([]byte(existing), &cols); err != nil {
			return fmt.Errorf("dataset %s: decode columns: %w", name, err)
		}
	}
	cols = store.MergeColumns(cols, columns)
	b, _ := json.Marshal(cols)
	_, err = tx.ExecContext(ctx, `INSERT INTO datasets (name, columns, created_at, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET columns = excluded.columns, updated_at = excluded.updated_at`,
		name, string(b), now.UnixMilli(), now.UnixMilli())
	if err != nil {
		return fmt.Errorf("dataset %s: %w", name, err)
	}
	return nil
}

// datasetColumns are the columns scanDataset reads, in its order. LastRun
// is the newest run of the spider of that name (runs_spider_id makes it one
// index probe); UpdatedAt is when a run last stored items in it.
const datasetColumns = `name, columns, (SELECT count(*) FROM items WHERE dataset = datasets.name),
	coalesce((SELECT max(id) FROM runs WHERE spider = datasets.name), 0), updated_at`

// Dataset implements store.Store.
func (db *DB) Dataset(ctx context.Context, name string) (*store.Dataset, error) {
	d, err := scanDataset(db.read.QueryRowContext(ctx, `SELECT `+datasetColumns+` FROM datasets WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "dataset %q not found", name)
	} else if err != nil {
		return nil, fmt.Errorf("find dataset %s: %w", name, err)
	}
	return d, nil
}

// Datasets implements store.Store.
func (db *DB) Datasets(ctx context.Context) ([]store.Dataset, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+datasetColumns+` FROM datasets ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	defer rows.Close()
	out := []store.Dataset{}
	for rows.Next() {
		d, err := scanDataset(rows)
		if err != nil {
			return nil, fmt.Errorf("list datasets: %w", err)
		}
		out = append(out, *d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	return out, nil
}

func scanDataset(row interface{ Scan(...any) error }) (*store.Dataset, error) {
	var (
		d       store.Dataset
		cols    string
		updated int64
	)
	if err := row.Scan(&d.Name, &cols, &d.Items, &d.LastRun, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cols), &d.Columns); err != nil {
		return nil, fmt.Errorf("dataset %s: decode columns: %w", d.Name, err)
	}
	d.UpdatedAt = time.UnixMilli(updated).UTC()
	return &d, nil
}

// QueuedPages implements store.Store.
func (db *DB) QueuedPages(ctx context.Context, runID int64, host string, afterID int64, limit int) ([]store.Page, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, url, coalesce(raw_url, url), host, depth, attempts FROM pages
		WHERE run_id = ? AND host = ? AND state = 0 AND id > ? AND not_before <= ? ORDER BY id LIMIT ?`,
		runID, host, afterID, db.now().UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("queued pages of %s: %w", host, err)
	}
	defer rows.Close()
	var out []store.Page
	for rows.Next() {
		var p store.Page
		if err := rows.Scan(&p.ID, &p.Key, &p.URL, &p.Host, &p.Depth, &p.Attempts); err != nil {
			return nil, fmt.Errorf("queued pages of %s: %w", host, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// QueuedHosts implements store.Store.
func (db *DB) QueuedHosts(ctx context.Context, runID int64) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT DISTINCT host FROM pages WHERE run_id = ? AND state = 0`, runID)
	if err != nil {
		return nil, fmt.Errorf("queued hosts: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("queued hosts: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// FailedPages implements store.Store.
func (db *DB) FailedPages(ctx context.Context, runID int64, limit int) ([]store.FailedPage, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT coalesce(raw_url, url), status, error_class, error, attempts FROM pages WHERE run_id = ? AND error_class != '' ORDER BY id LIMIT ?`, runID, limit)
	if err != nil {
		return nil, fmt.Errorf("failed pages: %w", err)
	}
	defer rows.Close()
	var out []store.FailedPage
	for rows.Next() {
		var p store.FailedPage
		if err := rows.Scan(&p.URL, &p.Status, &p.ErrorClass, &p.Error, &p.Attempts); err != nil {
			return nil, fmt.Errorf("failed pages: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
