package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// ActiveRun implements store.Store.
func (db *DB) ActiveRun(ctx context.Context, spider string) (*trawl.Run, error) {
	id, err := activeRunID(ctx, db.pool, spider)
	if err != nil {
		return nil, err
	}
	return findRun(ctx, db.pool, id)
}

// activeRunID returns the ID of the newest queued or running run of
// spider, read from the runs_spider index.
func activeRunID(ctx context.Context, q queryer, spider string) (int64, error) {
	var id *int64
	err := q.QueryRow(ctx, `SELECT max(id) FROM runs WHERE spider = $1 AND status IN ($2, $3)`,
		spider, string(trawl.RunQueued), string(trawl.RunRunning)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("find active run of %q: %w", spider, err)
	}
	if id == nil {
		return 0, trawl.Errorf(trawl.ENOTFOUND, "spider %q has no queued or running run", spider)
	}
	return *id, nil
}

// checkIdle returns ECONFLICT naming the active run of spider, if any.
func checkIdle(ctx context.Context, tx pgx.Tx, spider string) error {
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

// lockRun reads run id with its row locked until the transaction ends, so
// that a state change is decided on the state it changes.
func lockRun(ctx context.Context, tx pgx.Tx, id int64) (*trawl.Run, error) {
	r, err := scanRun(tx.QueryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1 FOR NO KEY UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "run %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find run %d: %w", id, err)
	}
	return r, nil
}

// StartRun implements store.Store.
func (db *DB) StartRun(ctx context.Context, id int64) (*trawl.Run, error) {
	var r *trawl.Run
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if r, err = lockRun(ctx, tx, id); err != nil {
			return err
		}
		switch {
		case r.Status.Final():
			return trawl.Errorf(trawl.ECONFLICT, "run %d is %s: it cannot start again", id, r.Status)
		case r.Status == trawl.RunRunning:
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE runs SET status = $1, started_at = $2 WHERE id = $3`, string(trawl.RunRunning), ms(db.now()), id); err != nil {
			return err
		}
		r, err = findRun(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, wrap(err, "start run %d", id)
	}
	return r, nil
}

// CancelRun implements store.Store.
func (db *DB) CancelRun(ctx context.Context, id int64) (*trawl.Run, error) {
	var r *trawl.Run
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if r, err = lockRun(ctx, tx, id); err != nil {
			return err
		}
		switch r.Status {
		case trawl.RunQueued:
			_, err = tx.Exec(ctx, `UPDATE runs SET status = $1, finished_at = $2 WHERE id = $3`, string(trawl.RunCanceled), ms(db.now()), id)
		case trawl.RunRunning:
			_, err = tx.Exec(ctx, `UPDATE runs SET cancel_requested = true WHERE id = $1`, id)
		default:
			return trawl.Errorf(trawl.ECONFLICT, "run %d already finished (%s)", id, r.Status)
		}
		if err != nil {
			return err
		}
		r, err = findRun(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, wrap(err, "cancel run %d", id)
	}
	return r, nil
}

// SetSpiderFired implements store.Store.
func (db *DB) SetSpiderFired(ctx context.Context, name string, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE spiders SET last_fired_at = $1 WHERE name = $2`, ms(at), name)
	if err != nil {
		return fmt.Errorf("record fire of spider %q: %w", name, writeError(err))
	}
	if tag.RowsAffected() == 0 {
		return trawl.Errorf(trawl.ENOTFOUND, "spider %q not found", name)
	}
	return nil
}

// RunSpec implements store.Store.
func (db *DB) RunSpec(ctx context.Context, id int64) ([]byte, error) {
	var spec []byte
	err := db.pool.QueryRow(ctx, `SELECT spec FROM runs WHERE id = $1`, id).Scan(&spec)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "run %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("read spec of run %d: %w", id, err)
	}
	return spec, nil
}
