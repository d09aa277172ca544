package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// CreateRun implements store.Store.
func (db *DB) CreateRun(ctx context.Context, p store.CreateRunParams) (*trawl.Run, error) {
	var run *trawl.Run
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		now := ms(db.now())
		if p.Exclusive {
			// Two exclusive creations of one spider at once: the advisory
			// lock makes the second wait for the first and see its run.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('trawl run ' || $1))`, p.Spider); err != nil {
				return err
			}
			if err := checkIdle(ctx, tx, p.Spider); err != nil {
				return err
			}
		}
		if err := upsertDataset(ctx, tx, p.Spider, p.Columns, now); err != nil {
			return err
		}
		status, started := trawl.RunRunning, &now
		if p.Queued {
			status, started = trawl.RunQueued, nil
		}
		var runAt *time.Time
		if p.RunAt != nil {
			t := ms(*p.RunAt)
			runAt = &t
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO runs (spider, spec_hash, spec, status, created_at, started_at, run_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			p.Spider, p.SpecHash, append([]byte{}, p.Spec...), string(status), now, started, runAt).Scan(&id); err != nil {
			return err
		}
		admitted, err := insertPages(ctx, tx, id, p.StartURLs)
		if err != nil {
			return fmt.Errorf("admit start URLs: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE runs SET queued = $2 WHERE id = $1`, id, len(admitted)); err != nil {
			return err
		}
		run, err = findRun(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, wrap(err, "create run")
	}
	return run, nil
}

// ResumableRun implements store.Store.
func (db *DB) ResumableRun(ctx context.Context, spider, specHash string) (*trawl.Run, error) {
	var id int64
	err := db.pool.QueryRow(ctx, `SELECT id FROM runs WHERE spider = $1 AND spec_hash = $2 AND status = $3 ORDER BY id DESC LIMIT 1`,
		spider, specHash, string(trawl.RunRunning)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "no unfinished run of spider %q", spider)
	} else if err != nil {
		return nil, fmt.Errorf("find resumable run: %w", err)
	}
	return findRun(ctx, db.pool, id)
}

// Run implements store.Store.
func (db *DB) Run(ctx context.Context, id int64) (*trawl.Run, error) {
	return findRun(ctx, db.pool, id)
}

// FinishRun implements store.Store.
func (db *DB) FinishRun(ctx context.Context, id int64, status trawl.RunStatus, errMsg string) error {
	if !status.Final() {
		return trawl.Errorf(trawl.EINVALID, "status %q is not final", status)
	}
	// The first final status wins: several processes may end one run
	// (trawl worker), and a later end must not rewrite it.
	tag, err := db.pool.Exec(ctx, `UPDATE runs SET status = $1, error = $2, finished_at = $3
		WHERE id = $4 AND status IN ('queued', 'running')`,
		string(status), sanitize(errMsg), ms(db.now()), id)
	if err != nil {
		return fmt.Errorf("finish run %d: %w", id, writeError(err))
	}
	if tag.RowsAffected() == 0 {
		if _, err := findRun(ctx, db.pool, id); err != nil {
			return err
		}
	}
	return nil
}

// statsColumns are the statistics columns of runs, in scanStats's order.
const statsColumns = `pages, items, invalid, bytes, queued, links_capped, errors, rules`

// runColumns are the columns scanRun reads, in its order.
const runColumns = `id, spider, spec_hash, status, error, created_at, started_at, finished_at, run_at, cancel_requested, ` + statsColumns

func findRun(ctx context.Context, q queryer, id int64) (*trawl.Run, error) {
	r, err := scanRun(q.QueryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "run %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find run %d: %w", id, err)
	}
	return r, nil
}

// scanRun reads one row of runColumns.
func scanRun(row pgx.Row) (*trawl.Run, error) {
	var (
		r      trawl.Run
		status string
		st     statsRow
	)
	if err := row.Scan(append([]any{&r.ID, &r.Spider, &r.SpecHash, &status, &r.Error, &r.CreatedAt, &r.StartedAt, &r.FinishedAt, &r.RunAt, &r.CancelRequested}, st.dest()...)...); err != nil {
		return nil, err
	}
	r.Status = trawl.RunStatus(status)
	var err error
	if r.Stats, err = st.stats(); err != nil {
		return nil, fmt.Errorf("run %d: %w", r.ID, err)
	}
	r.CreatedAt = r.CreatedAt.UTC()
	r.StartedAt, r.FinishedAt, r.RunAt = utcPtr(r.StartedAt), utcPtr(r.FinishedAt), utcPtr(r.RunAt)
	// A run's dataset is named after its spider (CreateRun).
	r.Dataset = r.Spider
	return &r, nil
}

// statsRow is the statistics columns of a run as scanned.
type statsRow struct {
	s             trawl.RunStats
	errors, rules []byte
}

func (st *statsRow) dest() []any {
	return []any{&st.s.Pages, &st.s.Items, &st.s.Invalid, &st.s.Bytes, &st.s.Queued, &st.s.LinksCapped, &st.errors, &st.rules}
}

func (st *statsRow) stats() (trawl.RunStats, error) {
	s := st.s
	if err := json.Unmarshal(st.errors, &s.Errors); err != nil {
		return s, fmt.Errorf("decode error counts: %w", err)
	}
	if err := json.Unmarshal(st.rules, &s.Rules); err != nil {
		return s, fmt.Errorf("decode rule counts: %w", err)
	}
	if s.Errors == nil {
		s.Errors = map[string]int64{}
	}
	if len(s.Rules) == 0 {
		s.Rules = nil
	}
	return s, nil
}
