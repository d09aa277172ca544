package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// ActiveRun implements store.Store.
func (db *DB) ActiveRun(ctx context.Context, spider string) (*trawl.Run, error) {
	id, err := activeRunID(ctx, db.read, spider)
	if err != nil {
		return nil, err
	}
	return findRun(ctx, db.read, id)
}

// activeRunID returns the ID of the newest queued or running run of
// spider, read from the runs_spider index.
func activeRunID(ctx context.Context, q queryer, spider string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT max(id) FROM runs WHERE spider = ? AND status IN (?, ?) HAVING max(id) IS NOT NULL`,
		spider, trawl.RunQueued, trawl.RunRunning).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, trawl.Errorf(trawl.ENOTFOUND, "spider %q has no queued or running run", spider)
	} else if err != nil {
		return 0, fmt.Errorf("find active run of %q: %w", spider, err)
	}
	return id, nil
}

// checkIdle returns ECONFLICT naming the active run of spider, if any.
func checkIdle(ctx context.Context, tx *sql.Tx, spider string) error {
	id, err := activeRunID(ctx, tx, spider)
	if trawl.ErrorCode(err) == trawl.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	r, err := findRun(ctx, tx, id)
	if err != nil {
		return err
	}
	return trawl.Errorf(trawl.ECONFLICT, "spider %s already has run %d %s: cancel it or wait for it to finish", spider, id, r.Status)
}

// StartRun implements store.Store.
func (db *DB) StartRun(ctx context.Context, id int64) (*trawl.Run, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("start run %d: %w", id, writeError(err))
	}
	defer tx.Rollback()
	r, err := findRun(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case r.Status.Final():
		return nil, trawl.Errorf(trawl.ECONFLICT, "run %d is %s: it cannot start again", id, r.Status)
	case r.Status == trawl.RunRunning:
		return r, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, started_at = ? WHERE id = ?`, trawl.RunRunning, db.now().UnixMilli(), id); err != nil {
		return nil, fmt.Errorf("start run %d: %w", id, writeError(err))
	}
	if r, err = findRun(ctx, tx, id); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("start run %d: %w", id, writeError(err))
	}
	return r, nil
}

// CancelRun implements store.Store.
func (db *DB) CancelRun(ctx context.Context, id int64) (*trawl.Run, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("cancel run %d: %w", id, writeError(err))
	}
	defer tx.Rollback()
	r, err := findRun(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	switch r.Status {
	case trawl.RunQueued:
		_, err = tx.ExecContext(ctx, `UPDATE runs SET status = ?, finished_at = ? WHERE id = ?`, trawl.RunCanceled, db.now().UnixMilli(), id)
	case trawl.RunRunning:
		_, err = tx.ExecContext(ctx, `UPDATE runs SET cancel_requested = 1 WHERE id = ?`, id)
	default:
		return nil, trawl.Errorf(trawl.ECONFLICT, "run %d already finished (%s)", id, r.Status)
	}
	if err != nil {
		return nil, fmt.Errorf("cancel run %d: %w", id, writeError(err))
	}
	if r, err = findRun(ctx, tx, id); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("cancel run %d: %w", id, writeError(err))
	}
	return r, nil
}

// SetSpiderFired implements store.Store.
func (db *DB) SetSpiderFired(ctx context.Context, name string, at time.Time) error {
	res, err := db.write.ExecContext(ctx, `UPDATE spiders SET last_fired_at = ? WHERE name = ?`, at.UnixMilli(), name)
	if err != nil {
		return fmt.Errorf("record fire of spider %q: %w", name, writeError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return trawl.Errorf(trawl.ENOTFOUND, "spider %q not found", name)
	}
	return nil
}

// RunSpec implements store.Store.
func (db *DB) RunSpec(ctx context.Context, id int64) ([]byte, error) {
	var spec string
	err := db.read.QueryRowContext(ctx, `SELECT spec FROM runs WHERE id = ?`, id).Scan(&spec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "run %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("read spec of run %d: %w", id, err)
	}
	return []byte(spec), nil
}
