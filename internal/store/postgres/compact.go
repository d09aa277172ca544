package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// CompactFrontier implements store.Store: as in SQLite, each run is marked
// first (compacted_at, which RequeueFailed honours), then its page rows go
// in transactions of at most store.CompactBatch rows.
func (db *DB) CompactFrontier(ctx context.Context, finishedBefore time.Time) (int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT id FROM runs
		WHERE NOT compacted AND finished_at IS NOT NULL AND finished_at < $1 AND status IN ($2, $3, $4)
		ORDER BY finished_at`,
		ms(finishedBefore), string(trawl.RunSucceeded), string(trawl.RunFailed), string(trawl.RunCanceled))
	if err != nil {
		return 0, fmt.Errorf("compact frontier: list runs: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("compact frontier: list runs: %w", err)
	}
	var total int64
	for _, id := range ids {
		n, err := db.compactRun(ctx, id, finishedBefore)
		total += n
		if err != nil {
			return total, fmt.Errorf("compact frontier of run %d: %w", id, err)
		}
	}
	return total, nil
}

// compactRun deletes the page rows of one run, batch by batch, keeping the
// first store.FailedPagesKept failed pages.
func (db *DB) compactRun(ctx context.Context, runID int64, finishedBefore time.Time) (int64, error) {
	keepUpTo, ok, err := db.markCompacted(ctx, runID, finishedBefore)
	if err != nil || !ok {
		return 0, err
	}
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := db.compactBatch(ctx, runID, keepUpTo)
		total += n
		if err != nil || n < store.CompactBatch {
			return total, err
		}
	}
}

// markCompacted marks the run as compacting, unless it was reopened since
// it was listed, and returns the highest ID of the failed pages to keep.
func (db *DB) markCompacted(ctx context.Context, runID int64, finishedBefore time.Time) (keepUpTo int64, ok bool, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE runs SET compacted_at = coalesce(compacted_at, $1)
			WHERE id = $2 AND NOT compacted AND finished_at IS NOT NULL AND finished_at < $3 AND status IN ($4, $5, $6)`,
			ms(db.now()), runID, ms(finishedBefore), string(trawl.RunSucceeded), string(trawl.RunFailed), string(trawl.RunCanceled))
		if err != nil {
			return err
		}
		if ok = tag.RowsAffected() == 1; !ok {
			return nil // reopened by RequeueFailed meanwhile: not to compact
		}
		err = tx.QueryRow(ctx, `SELECT id FROM pages WHERE run_id = $1 AND error_class <> '' ORDER BY id LIMIT 1 OFFSET $2`,
			runID, store.FailedPagesKept-1).Scan(&keepUpTo)
		if errors.Is(err, pgx.ErrNoRows) {
			keepUpTo, err = math.MaxInt64, nil // fewer failed pages than the sample: keep them all
		}
		return err
	})
	return keepUpTo, ok, err
}

// compactBatch deletes up to store.CompactBatch page rows of the run in one
// transaction; the one that finds fewer marks the run compacted.
func (db *DB) compactBatch(ctx context.Context, runID, keepUpTo int64) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM pages WHERE id IN (
			SELECT id FROM pages WHERE run_id = $1 AND (error_class = '' OR id > $2) LIMIT $3)`,
			runID, keepUpTo, store.CompactBatch)
		if err != nil {
			return err
		}
		if n = tag.RowsAffected(); n < store.CompactBatch {
			_, err = tx.Exec(ctx, `UPDATE runs SET compacted = true WHERE id = $1`, runID)
		}
		return err
	})
	return n, err
}
