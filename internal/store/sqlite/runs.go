package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Runs implements store.Store.
//
// Every combination of filters reads one index in id order (the rowid,
// runs_spider_id, runs_status_id or runs_spider), so a page costs its size,
// however many runs there are.
func (db *DB) Runs(ctx context.Context, q store.RunQuery) ([]trawl.Run, error) {
	limit, err := store.CheckRunQuery(q)
	if err != nil {
		return nil, err
	}
	query, args := runsQuery(q, limit)
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	out := []trawl.Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out = append(out, *r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return out, nil
}

func runsQuery(q store.RunQuery, limit int) (string, []any) {
	var where []string
	var args []any
	if q.Spider != "" {
		where = append(where, "spider = ?")
		args = append(args, q.Spider)
	}
	if q.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(q.Status))
	}
	if q.BeforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, q.BeforeID)
	}
	query := `SELECT ` + runColumns + ` FROM runs`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	return query + ` ORDER BY id DESC LIMIT ?`, append(args, limit)
}

// RequeueFailed implements store.Store.
func (db *DB) RequeueFailed(ctx context.Context, runID int64) (int64, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("requeue failed pages of run %d: %w", runID, writeError(err))
	}
	defer tx.Rollback()
	run, err := findRun(ctx, tx, runID)
	if err != nil {
		return 0, err
	}
	if !run.Status.Final() {
		return 0, trawl.Errorf(trawl.ECONFLICT, "run %d is %s, not finished: resume it instead of retrying its failed pages", runID, run.Status)
	}
	if at, ok, err := compactedAt(ctx, tx, runID); err != nil {
		return 0, fmt.Errorf("requeue failed pages of run %d: %w", runID, err)
	} else if ok {
		return 0, trawl.Errorf(trawl.ECONFLICT, "run %d finished too long ago: its frontier was compacted on %s (retention), so its failed pages can no longer be retried; start a new run instead",
			runID, at.Format(time.DateOnly))
	}
	rows, err := tx.QueryContext(ctx, `SELECT error_class, count(*), sum(bytes) FROM pages WHERE run_id = ? AND error_class != '' GROUP BY error_class`, runID)
	if err != nil {
		return 0, fmt.Errorf("requeue failed pages of run %d: %w", runID, err)
	}
	stats := run.Stats
	var n int64
	for rows.Next() {
		var class string
		var count, bytes int64
		if err := rows.Scan(&class, &count, &bytes); err != nil {
			rows.Close()
			return 0, fmt.Errorf("requeue failed pages of run %d: %w", runID, err)
		}
		n += count
		stats.Pages -= count
		stats.Bytes -= bytes
		if stats.Errors[class] -= count; stats.Errors[class] <= 0 {
			delete(stats.Errors, class)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("requeue failed pages of run %d: %w", runID, err)
	}
	if n == 0 {
		return 0, nil // nothing to retry: the run stays as it finished
	}
	if err := requeueFailed(ctx, tx, runID, stats); err != nil {
		return 0, fmt.Errorf("requeue failed pages of run %d: %w", runID, writeError(err))
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("requeue failed pages of run %d: %w", runID, writeError(err))
	}
	return n, nil
}

// requeueFailed puts the failed pages back in the queue, as if never
// fetched, and reopens the run with stats.
func requeueFailed(ctx context.Context, tx *sql.Tx, runID int64, stats trawl.RunStats) error {
	if _, err := tx.ExecContext(ctx, `UPDATE pages SET state = ?, status = 0, error_class = '', error = '', attempts = 0, bytes = 0, fetched_at = NULL
		WHERE run_id = ? AND error_class != ''`, pageQueued, runID); err != nil {
		return err
	}
	b, err := json.Marshal(stats)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE runs SET status = ?, error = '', finished_at = NULL, stats = ? WHERE id = ?`, trawl.RunRunning, string(b), runID)
	return err
}
