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

// runExists returns ENOTFOUND unless run id exists.
func runExists(ctx context.Context, q querier, id int64) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM runs WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return trawl.Errorf(trawl.ENOTFOUND, "run %d not found", id)
	}
	return err
}

// sample records the run's statistics at now (milliseconds) when mode asks
// for it, then thins the samples when the run holds more than
// store.MaxSamples of them.
func (c *committer) sample(ctx context.Context, mode store.SampleMode, stats trawl.RunStats, now int64) error {
	if mode == store.SampleNone {
		return nil
	}
	var (
		every int64
		last  sql.NullInt64
	)
	if err := c.tx.QueryRowContext(ctx, `SELECT sample_every_ms, (SELECT max(at) FROM run_samples WHERE run_id = ?) FROM runs WHERE id = ?`,
		c.runID, c.runID).Scan(&every, &last); err != nil {
		return fmt.Errorf("read samples: %w", err)
	}
	if mode == store.SampleIfDue && last.Valid && now-last.Int64 < every {
		return nil
	}
	errs, err := json.Marshal(stats.Errors)
	if err != nil {
		return err
	}
	if _, err := c.tx.ExecContext(ctx, `INSERT INTO run_samples (run_id, at, pages, items, bytes, errors) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (run_id, at) DO UPDATE SET pages = excluded.pages, items = excluded.items, bytes = excluded.bytes, errors = excluded.errors`,
		c.runID, now, stats.Pages, stats.Items, stats.Bytes, string(errs)); err != nil {
		return fmt.Errorf("write sample: %w", err)
	}
	var n int
	if err := c.tx.QueryRowContext(ctx, `SELECT count(*) FROM run_samples WHERE run_id = ?`, c.runID).Scan(&n); err != nil {
		return fmt.Errorf("count samples: %w", err)
	}
	if n <= store.MaxSamples {
		return nil
	}
	return thinSamples(ctx, c.tx, c.runID, every)
}

// thinSamples doubles the run's sampling interval (more than once if need
// be) and deletes the samples closer than it to the one kept before them,
// keeping the first and the last: at most store.MaxSamples stay, evenly
// spread, and the last is still the newest statistics.
func thinSamples(ctx context.Context, tx *sql.Tx, runID, every int64) error {
	ats, err := queryInts(ctx, tx, `SELECT at FROM run_samples WHERE run_id = ? ORDER BY at`, runID)
	if err != nil {
		return fmt.Errorf("thin samples: %w", err)
	}
	for {
		every *= 2
		var drop []int64
		kept, prev := 1, ats[0]
		for i, at := range ats[1:] {
			if i == len(ats)-2 || at-prev >= every {
				kept++
				prev = at
				continue
			}
			drop = append(drop, at)
		}
		if kept > store.MaxSamples {
			continue
		}
		for _, at := range drop {
			if _, err := tx.ExecContext(ctx, `DELETE FROM run_samples WHERE run_id = ? AND at = ?`, runID, at); err != nil {
				return fmt.Errorf("thin samples: %w", err)
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE runs SET sample_every_ms = ? WHERE id = ?`, every, runID)
		return err
	}
}

func queryInts(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// RunSamples implements store.Store.
func (db *DB) RunSamples(ctx context.Context, runID int64) (*store.Samples, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("run %d samples: %w", runID, err)
	}
	defer tx.Rollback()
	var every int64
	err = tx.QueryRowContext(ctx, `SELECT sample_every_ms FROM runs WHERE id = ?`, runID).Scan(&every)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "run %d not found", runID)
	} else if err != nil {
		return nil, fmt.Errorf("run %d samples: %w", runID, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT at, pages, items, bytes, errors FROM run_samples WHERE run_id = ? ORDER BY at`, runID)
	if err != nil {
		return nil, fmt.Errorf("run %d samples: %w", runID, err)
	}
	defer rows.Close()
	out := &store.Samples{Interval: time.Duration(every) * time.Millisecond, Points: []store.Sample{}}
	for rows.Next() {
		var (
			s    store.Sample
			at   int64
			errs string
		)
		if err := rows.Scan(&at, &s.Pages, &s.Items, &s.Bytes, &errs); err != nil {
			return nil, fmt.Errorf("run %d samples: %w", runID, err)
		}
		s.At = time.UnixMilli(at).UTC()
		if err := json.Unmarshal([]byte(errs), &s.Errors); err != nil {
			return nil, fmt.Errorf("run %d samples: decode errors: %w", runID, err)
		}
		if s.Errors == nil {
			s.Errors = map[string]int64{}
		}
		out.Points = append(out.Points, s)
	}
	return out, rows.Err()
}
