package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Runs implements store.Store. Every combination of filters reads one
// index in id order (the primary key, runs_spider_id, runs_status_id or
// runs_spider), so a page costs its size, however many runs there are.
func (db *DB) Runs(ctx context.Context, q store.RunQuery) ([]trawl.Run, error) {
	limit, err := store.CheckRunQuery(q)
	if err != nil {
		return nil, err
	}
	var (
		where []string
		a     args
	)
	if q.Spider != "" {
		where = append(where, "spider = "+a.add(q.Spider))
	}
	if q.Status != "" {
		where = append(where, "status = "+a.add(string(q.Status)))
	}
	if q.BeforeID > 0 {
		where = append(where, "id < "+a.add(q.BeforeID))
	}
	query := `SELECT ` + runColumns + ` FROM runs`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id DESC LIMIT ` + a.add(limit)
	rows, err := db.pool.Query(ctx, query, a...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (trawl.Run, error) {
		r, err := scanRun(row)
		if err != nil {
			return trawl.Run{}, err
		}
		return *r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	if out == nil {
		out = []trawl.Run{}
	}
	return out, nil
}

// RequeueFailed implements store.Store.
func (db *DB) RequeueFailed(ctx context.Context, runID int64) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		n = 0
		run, err := lockRun(ctx, tx, runID)
		if err != nil {
			return err
		}
		if !run.Status.Final() {
			return trawl.Errorf(trawl.ECONFLICT, "run %d is %s, not finished: resume it instead of retrying its failed pages", runID, run.Status)
		}
		var at *time.Time
		if err := tx.QueryRow(ctx, `SELECT compacted_at FROM runs WHERE id = $1`, runID).Scan(&at); err != nil {
			return err
		}
		if at != nil {
			return trawl.Errorf(trawl.ECONFLICT, "run %d finished too long ago: its frontier was compacted on %s (retention), so its failed pages can no longer be retried; start a new run instead",
				runID, at.UTC().Format(time.DateOnly))
		}
		rows, err := tx.Query(ctx, `SELECT error_class, count(*), sum(bytes)::bigint FROM pages WHERE run_id = $1 AND error_class <> '' GROUP BY error_class`, runID)
		if err != nil {
			return err
		}
		var (
			class        string
			count, bytes int64
			sumBytes     int64
			errs         = map[string]int64{}
		)
		if _, err := pgx.ForEachRow(rows, []any{&class, &count, &bytes}, func() error {
			n += count
			sumBytes += bytes
			errs[class] = -count
			return nil
		}); err != nil {
			return err
		}
		if n == 0 {
			return nil // nothing to retry: the run stays as it finished
		}
		if _, err := tx.Exec(ctx, `UPDATE pages SET state = $1, status = 0, error_class = '', error = '', attempts = 0, bytes = 0, fetched_at = NULL
			WHERE run_id = $2 AND error_class <> ''`, pageQueued, runID); err != nil {
			return err
		}
		b, _ := json.Marshal(errs)
		_, err = tx.Exec(ctx, `UPDATE runs SET status = $2, error = '', finished_at = NULL,
			pages = pages - $3, bytes = bytes - $4, errors = trawl_add_counts(errors, $5::jsonb) WHERE id = $1`,
			runID, string(trawl.RunRunning), n, sumBytes, string(b))
		return err
	})
	if err != nil {
		return 0, wrap(err, "requeue failed pages of run %d", runID)
	}
	return n, nil
}
