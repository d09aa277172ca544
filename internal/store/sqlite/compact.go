package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// CompactFrontier implements store.Store.
//
// Each run is marked first (compacted_at, which RequeueFailed honours),
// then its page rows go in transactions of at most store.CompactBatch
// rows, each found through the run's prefix of the pages unique index, so
// the write lock is held for a few milliseconds at a time and crawls'
// commits interleave with the batches.
func (db *DB) CompactFrontier(ctx context.Context, finishedBefore time.Time) (int64, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id FROM runs
		WHERE compacted = 0 AND finished_at IS NOT NULL AND finished_at < ? AND status IN (?, ?, ?)
		ORDER BY finished_at`,
		finishedBefore.UnixMilli(), trawl.RunSucceeded, trawl.RunFailed, trawl.RunCanceled)
	if err != nil {
		return 0, fmt.Errorf("compact frontier: list runs: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("compact frontier: list runs: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
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
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, writeError(err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE runs SET compacted_at = coalesce(compacted_at, ?)
		WHERE id = ? AND compacted = 0 AND finished_at IS NOT NULL AND finished_at < ? AND status IN (?, ?, ?)`,
		db.now().UnixMilli(), runID, finishedBefore.UnixMilli(), trawl.RunSucceeded, trawl.RunFailed, trawl.RunCanceled)
	if err != nil {
		return 0, false, writeError(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, false, err // reopened by RequeueFailed meanwhile: not to compact
	}
	// The failed pages of a marked run no longer change: the sample's end
	// is fixed here, by the pages_failed index.
	err = tx.QueryRowContext(ctx, `SELECT id FROM pages WHERE run_id = ? AND error_class != '' ORDER BY id LIMIT 1 OFFSET ?`,
		runID, store.FailedPagesKept-1).Scan(&keepUpTo)
	if errors.Is(err, sql.ErrNoRows) {
		keepUpTo, err = math.MaxInt64, nil // fewer failed pages than the sample: keep them all
	}
	if err != nil {
		return 0, false, err
	}
	if err := tx.Commit(); err != nil {
		return 0, false, writeError(err)
	}
	return keepUpTo, true, nil
}

// compactBatch deletes up to store.CompactBatch page rows of the run in one
// transaction; the one that finds fewer marks the run compacted.
func (db *DB) compactBatch(ctx context.Context, runID, keepUpTo int64) (int64, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, writeError(err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM pages WHERE id IN (
		SELECT id FROM pages WHERE run_id = ? AND (error_class = '' OR id > ?) LIMIT ?)`,
		runID, keepUpTo, store.CompactBatch)
	if err != nil {
		return 0, writeError(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if n < store.CompactBatch {
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET compacted = 1 WHERE id = ?`, runID); err != nil {
			return 0, writeError(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, writeError(err)
	}
	return n, nil
}

// compactedAt reports when the compaction of the run's frontier began, if
// it did.
func compactedAt(ctx context.Context, q queryer, runID int64) (time.Time, bool, error) {
	var at sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT compacted_at FROM runs WHERE id = ?`, runID).Scan(&at); err != nil {
		return time.Time{}, false, err
	}
	return time.UnixMilli(at.Int64).UTC(), at.Valid, nil
}
