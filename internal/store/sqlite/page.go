package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"

	"github.com/trawl-dev/trawl/internal/store"
)

// The frontier's page states.
const (
	pageQueued = 0
	pageDone   = 1
)

// insertPageSQL admits a URL unless the run already has it (the unique
// (run_id, url) key makes the insert a no-op then). Exec with RowsAffected
// and LastInsertId is much cheaper in the driver than RETURNING, which
// goes through a result set. The url column holds the dedup key; raw_url
// the URL as written, or NULL when it is the key itself.
const insertPageSQL = `INSERT INTO pages (run_id, url, raw_url, host, depth) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, url) DO NOTHING`

func insertPage(ctx context.Context, stmt *sql.Stmt, runID int64, u store.NewURL) (bool, int64, error) {
	key, raw := pageKeys(u)
	res, err := stmt.ExecContext(ctx, runID, key, raw, u.Host, u.Depth)
	if err != nil {
		return false, 0, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, 0, err
	}
	id, err := res.LastInsertId()
	return err == nil, id, err
}

// pageKeys returns the dedup key of u and the value of its raw_url column:
// NULL when the URL as written is the key.
func pageKeys(u store.NewURL) (key string, raw sql.NullString) {
	key = cmp.Or(u.Key, u.URL)
	return key, sql.NullString{String: u.URL, Valid: u.URL != key}
}

// CommitPages implements store.Store.
func (db *DB) CommitPages(ctx context.Context, p store.CommitParams) (*store.CommitResult, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("commit pages: %w", writeError(err))
	}
	defer tx.Rollback()

	c := db.newCommitter(ctx, tx, p.RunID, p.Dataset)
	stats, err := readStats(ctx, tx, p.RunID)
	if err != nil {
		return nil, fmt.Errorf("commit pages: %w", err)
	}
	res := &store.CommitResult{}
	now := db.now().UnixMilli()
	stored := 0
	errs := hostErrors{}
	for i := range p.Pages {
		pr := &p.Pages[i]
		done, err := c.markDone(ctx, pr, now)
		if err != nil {
			return nil, fmt.Errorf("commit page %d: %w", pr.PageID, writeError(err))
		}
		if !done {
			// Already committed (a replayed result): counting it again would
			// skew the statistics.
			continue
		}
		stats.Pages++
		stats.Bytes += pr.Bytes
		stored += len(pr.Items)
		stats.Invalid += int64(pr.Invalid)
		stats.LinksCapped += int64(pr.LinksCapped)
		stats.AddRules(pr.Rules)
		if pr.ErrorClass != "" {
			stats.Errors[pr.ErrorClass]++
			errs.add(pr.Host, pr.ErrorClass)
		}
		for _, it := range pr.Items {
			isNew, err := c.upsertItem(ctx, it, now)
			if err != nil {
				return nil, fmt.Errorf("commit page %d: item %s: %w", pr.PageID, it.Key, writeError(err))
			}
			if isNew {
				stats.Items++
			}
		}
		for _, u := range pr.Links {
			if p.MaxPages > 0 && stats.Queued >= int64(p.MaxPages) {
				break
			}
			ok, id, err := insertPage(ctx, c.insPage, p.RunID, u)
			if err != nil {
				return nil, fmt.Errorf("commit page %d: admit %s: %w", pr.PageID, u.URL, writeError(err))
			}
			if ok {
				stats.Queued++
				res.Admitted = append(res.Admitted, store.Page{ID: id, URL: u.URL, Key: cmp.Or(u.Key, u.URL), Host: u.Host, Depth: u.Depth})
			}
		}
	}
	if err := writeStats(ctx, tx, p.RunID, stats); err != nil {
		return nil, fmt.Errorf("commit pages: %w", writeError(err))
	}
	if err := c.writeHosts(ctx, p.Hosts, errs); err != nil {
		return nil, fmt.Errorf("commit pages: %w", writeError(err))
	}
	if err := c.sample(ctx, p.Sample, stats, now); err != nil {
		return nil, fmt.Errorf("commit pages: %w", writeError(err))
	}
	if stored > 0 {
		if _, err := c.touch.ExecContext(ctx, now, p.Dataset); err != nil {
			return nil, fmt.Errorf("commit pages: %w", writeError(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit pages: %w", writeError(err))
	}
	c.values.committed()
	db.ckpt.committed()
	res.Stats = stats
	return res, nil
}

// commitStmts are the statements of CommitPages.
type commitStmts struct {
	insPage, done, itemRun, insItem, updItem, touch *sql.Stmt
	upsertHost, upsertHostKeep, hostError           *sql.Stmt
	values                                          valueStmts
}

func prepareCommitStmts(ctx context.Context, db *sql.DB) (*commitStmts, error) {
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var s *sql.Stmt
		s, err = db.PrepareContext(ctx, q)
		return s
	}
	c := &commitStmts{
		insPage: prep(insertPageSQL),
		done:    prep(`UPDATE pages SET state = ?, status = ?, error_class = ?, error = ?, attempts = ?, bytes = ?, fetched_at = ? WHERE id = ? AND run_id = ? AND state = ?`),
		touch:   prep(`UPDATE datasets SET updated_at = ? WHERE name = ?`),
		// See upsertItem: insert, and only on a conflict probe and update.
		itemRun: prep(`SELECT id, run_id, data FROM items WHERE dataset = ? AND key = ?`),
		insItem: prep(`INSERT INTO items (dataset, key, url, data, run_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dataset, key) DO NOTHING`),
		updItem: prep(`UPDATE items SET url = ?, data = ?, run_id = ?, updated_at = ? WHERE id = ?`),
		values:  prepareValueStmts(prep),

		upsertHost:     prep(upsertHostSQL),
		upsertHostKeep: prep(upsertHostKeepSQL),
		hostError:      prep(upsertHostErrorSQL),
	}
	if err != nil {
		c.close()
		return nil, fmt.Errorf("prepare: %w", err)
	}
	return c, nil
}

func (c *commitStmts) close() {
	for _, s := range append([]*sql.Stmt{c.insPage, c.done, c.itemRun, c.insItem, c.updItem, c.touch, c.upsertHost, c.upsertHostKeep, c.hostError}, c.values.all()...) {
		if s != nil {
			s.Close()
		}
	}
}

// committer runs the statements of one CommitPages transaction.
type committer struct {
	tx      *sql.Tx
	runID   int64
	dataset string
	insPage *sql.Stmt
	done    *sql.Stmt
	itemRun *sql.Stmt
	insItem *sql.Stmt
	updItem *sql.Stmt
	touch   *sql.Stmt
	values  *valueIndexer

	upsertHost, upsertHostKeep, hostError *sql.Stmt
}

func (db *DB) newCommitter(ctx context.Context, tx *sql.Tx, runID int64, dataset string) *committer {
	s := db.commitStmts
	return &committer{
		tx:      tx,
		runID:   runID,
		dataset: dataset,
		insPage: tx.StmtContext(ctx, s.insPage),
		done:    tx.StmtContext(ctx, s.done),
		itemRun: tx.StmtContext(ctx, s.itemRun),
		insItem: tx.StmtContext(ctx, s.insItem),
		updItem: tx.StmtContext(ctx, s.updItem),
		touch:   tx.StmtContext(ctx, s.touch),
		values:  newValueIndexer(s.values.in(ctx, tx), dataset, db.fields),

		upsertHost:     tx.StmtContext(ctx, s.upsertHost),
		upsertHostKeep: tx.StmtContext(ctx, s.upsertHostKeep),
		hostError:      tx.StmtContext(ctx, s.hostError),
	}
}

func (c *committer) markDone(ctx context.Context, pr *store.PageResult, now int64) (bool, error) {
	res, err := c.done.ExecContext(ctx, pageDone, pr.Status, pr.ErrorClass, pr.Error, pr.Attempts, pr.Bytes, now, pr.PageID, c.runID, pageQueued)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
