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

// CreateRun implements store.Store.
func (db *DB) CreateRun(ctx context.Context, p store.CreateRunParams) (*trawl.Run, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("create run: %w", writeError(err))
	}
	defer tx.Rollback()

	now := db.now()
	if p.Exclusive {
		if err := checkIdle(ctx, tx, p.Spider); err != nil {
			return nil, err
		}
	}
	if err := upsertDataset(ctx, tx, p.Spider, p.Columns, now); err != nil {
		return nil, fmt.Errorf("create run: %w", writeError(err))
	}
	stats := trawl.RunStats{Errors: map[string]int64{}}
	statsJSON, _ := json.Marshal(stats)
	status, started := trawl.RunRunning, sql.NullInt64{Int64: now.UnixMilli(), Valid: true}
	if p.Queued {
		status, started = trawl.RunQueued, sql.NullInt64{}
	}
	var runAt sql.NullInt64
	if p.RunAt != nil {
		runAt = sql.NullInt64{Int64: p.RunAt.UnixMilli(), Valid: true}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO runs (spider, spec_hash, spec, status, stats, created_at, started_at, run_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.Spider, p.SpecHash, string(p.Spec), status, string(statsJSON), now.UnixMilli(), started, runAt)
	if err != nil {
		return nil, fmt.Errorf("create run: %w", writeError(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("create run: %w", writeError(err))
	}
	ins, err := tx.PrepareContext(ctx, insertPageSQL)
	if err != nil {
		return nil, fmt.Errorf("create run: %w", writeError(err))
	}
	defer ins.Close()
	for _, u := range p.StartURLs {
		ok, _, err := insertPage(ctx, ins, id, u)
		if err != nil {
			return nil, fmt.Errorf("create run: admit %s: %w", u.URL, writeError(err))
		}
		if ok {
			stats.Queued++
		}
	}
	if err := writeStats(ctx, tx, id, stats); err != nil {
		return nil, fmt.Errorf("create run: %w", writeError(err))
	}
	run, err := findRun(ctx, tx, id)
	if err != nil {
		return nil, fmt.Errorf("create run: %w", writeError(err))
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create run: %w", writeError(err))
	}
	return run, nil
}

// ResumableRun implements store.Store.
func (db *DB) ResumableRun(ctx context.Context, spider, specHash string) (*trawl.Run, error) {
	var id int64
	err := db.read.QueryRowContext(ctx, `SELECT id FROM runs WHERE spider = ? AND spec_hash = ? AND status = ? ORDER BY id DESC LIMIT 1`,
		spider, specHash, trawl.RunRunning).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "no unfinished run of spider %q", spider)
	} else if err != nil {
		return nil, fmt.Errorf("find resumable run: %w", err)
	}
	return findRun(ctx, db.read, id)
}

// Run implements store.Store.
func (db *DB) Run(ctx context.Context, id int64) (*trawl.Run, error) {
	return findRun(ctx, db.read, id)
}

// FinishRun implements store.Store.
func (db *DB) FinishRun(ctx context.Context, id int64, status trawl.RunStatus, errMsg string) error {
	if !status.Final() {
		return trawl.Errorf(trawl.EINVALID, "status %q is not final", status)
	}
	// The first final status wins: several processes may end one run
	// (trawl worker), and a later end must not rewrite it.
	res, err := db.write.ExecContext(ctx, `UPDATE runs SET status = ?, error = ?, finished_at = ?
		WHERE id = ? AND status IN ('queued', 'running')`,
		status, errMsg, db.now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("finish run %d: %w", id, writeError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := findRun(ctx, db.write, id); err != nil {
			return err
		}
	}
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// runColumns are the columns scanRun reads, in its order.
const runColumns = `id, spider, spec_hash, status, error, stats, created_at, started_at, finished_at, run_at, cancel_requested`

func findRun(ctx context.Context, q queryer, id int64) (*trawl.Run, error) {
	r, err := scanRun(q.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "run %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find run %d: %w", id, err)
	}
	return r, nil
}

// scanRun reads one row of runColumns.
func scanRun(row interface{ Scan(...any) error }) (*trawl.Run, error) {
	var (
		r                 trawl.Run
		stats             string
		created           int64
		started, finished sql.NullInt64
		runAt             sql.NullInt64
	)
	if err := row.Scan(&r.ID, &r.Spider, &r.SpecHash, &r.Status, &r.Error, &stats, &created, &started, &finished, &runAt, &r.CancelRequested); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(stats), &r.Stats); err != nil {
		return nil, fmt.Errorf("run %d: decode stats: %w", r.ID, err)
	}
	if r.Stats.Errors == nil {
		r.Stats.Errors = map[string]int64{}
	}
	r.CreatedAt = time.UnixMilli(created).UTC()
	r.StartedAt = timePtr(started)
	r.FinishedAt = timePtr(finished)
	r.RunAt = timePtr(runAt)
	// A run's dataset is named after its spider (CreateRun).
	r.Dataset = r.Spider
	return &r, nil
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}

func readStats(ctx context.Context, tx *sql.Tx, runID int64) (trawl.RunStats, error) {
	var s string
	var stats trawl.RunStats
	if err := tx.QueryRowContext(ctx, `SELECT stats FROM runs WHERE id = ?`, runID).Scan(&s); errors.Is(err, sql.ErrNoRows) {
		return stats, trawl.Errorf(trawl.ENOTFOUND, "run %d not found", runID)
	} else if err != nil {
		return stats, err
	}
	if err := json.Unmarshal([]byte(s), &stats); err != nil {
		return stats, fmt.Errorf("decode stats: %w", err)
	}
	if stats.Errors == nil {
		stats.Errors = map[string]int64{}
	}
	return stats, nil
}

func writeStats(ctx context.Context, tx *sql.Tx, runID int64, stats trawl.RunStats) error {
	b, err := json.Marshal(stats)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE runs SET stats = ? WHERE id = ?`, string(b), runID)
	return err
}
