package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// The frontier's page states.
const (
	pageQueued = 0
	pageDone   = 1
)

// CommitPages implements store.Store.
//
// Many processes may commit pages of one run at once, so the transaction
// is built for concurrency (docs/storage.md, "PostgreSQL"):
//   - the run's statistics are added with increments in one UPDATE at the
//     end, never read and written back, so no commit loses another's;
//   - the MaxPages budget is settled under the run's row lock, taken only
//     after the links were inserted: a commit that admitted more than the
//     budget left deletes its excess, the last of its links in document
//     order;
//   - rows that concurrent commits may both write are written in one
//     order (pages by id, field names, item keys, then page URLs, then the
//     run's row, its hosts and samples, and the dataset's row), so that
//     they wait for each other instead of deadlocking; a deadlock that still happens (with another
//     statement) runs the transaction again.
func (db *DB) CommitPages(ctx context.Context, p store.CommitParams) (*store.CommitResult, error) {
	var (
		res *store.CommitResult
		x   *valueIndexer
	)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		x = newValueIndexer(p.Dataset, db.fields)
		var err error
		res, err = db.commit(ctx, tx, p, x)
		return err
	})
	if err != nil {
		return nil, wrap(err, "commit pages")
	}
	x.committed()
	return res, nil
}

func (db *DB) commit(ctx context.Context, tx pgx.Tx, p store.CommitParams, x *valueIndexer) (*store.CommitResult, error) {
	now := ms(db.now())
	done, err := markDone(ctx, tx, p, now)
	if err != nil {
		return nil, err
	}
	var (
		delta trawl.RunStats
		items []trawl.Item
		links []store.NewURL
	)
	delta.Errors = map[string]int64{}
	errs := hostErrors{}
	for i := range p.Pages {
		pr := &p.Pages[i]
		if !done[i] {
			// Already committed (a replayed result): counting it again would
			// skew the statistics.
			continue
		}
		delta.Pages++
		delta.Bytes += pr.Bytes
		delta.Invalid += int64(pr.Invalid)
		delta.LinksCapped += int64(pr.LinksCapped)
		delta.AddRules(pr.Rules)
		if pr.ErrorClass != "" {
			delta.Errors[pr.ErrorClass]++
			errs.add(pr.Host, pr.ErrorClass, 1)
		}
		items = append(items, pr.Items...)
		links = append(links, pr.Links...)
	}
	if len(items) > 0 {
		if delta.Items, err = upsertItems(ctx, tx, p.RunID, p.Dataset, items, now, x); err != nil {
			return nil, err
		}
	}
	res := &store.CommitResult{}
	if len(links) > 0 {
		if res.Admitted, err = admit(ctx, tx, p.RunID, p.MaxPages, links); err != nil {
			return nil, err
		}
	}
	delta.Queued = int64(len(res.Admitted))
	if res.Stats, err = addStats(ctx, tx, p.RunID, delta); err != nil {
		return nil, err
	}
	if err := writeHosts(ctx, tx, p.RunID, p.Hosts, errs); err != nil {
		return nil, err
	}
	if err := sample(ctx, tx, p.RunID, p.Sample, res.Stats, now); err != nil {
		return nil, err
	}
	if len(items) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE datasets SET updated_at = $1 WHERE name = $2`, now, p.Dataset); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// markDone marks the pages of p done, unless they already are, in one
// statement, and reports which it marked.
func markDone(ctx context.Context, tx pgx.Tx, p store.CommitParams, now time.Time) ([]bool, error) {
	var (
		ids, statuses, attempts []int64
		classes, msgs           []string
		bytes                   []int64
		first                   = map[int64]int{}
	)
	for i, pr := range p.Pages {
		if _, dup := first[pr.PageID]; dup {
			continue // the batch's first result of a page wins
		}
		first[pr.PageID] = i
		ids = append(ids, pr.PageID)
		statuses = append(statuses, int64(pr.Status))
		classes = append(classes, pr.ErrorClass)
		msgs = append(msgs, sanitize(pr.Error))
		attempts = append(attempts, int64(pr.Attempts))
		bytes = append(bytes, pr.Bytes)
	}
	// Each page is found by its primary key (p.id = ANY): the run and the
	// state are checked after (+ 0 makes them no index condition). Given
	// a choice, PostgreSQL planned this on a new run's stale statistics
	// as a scan of the run's queued pages (or all its pages) for every
	// batch, joined row by row: 20-50 ms a commit once they were 20,000
	// (auto_explain, bench scale-out).
	rows, err := tx.Query(ctx, `UPDATE pages p SET state = $1, status = u.status, error_class = u.class, error = u.msg,
			attempts = u.attempts, bytes = u.bytes, fetched_at = $2
		FROM unnest($3::bigint[], $4::int[], $5::text[], $6::text[], $7::int[], $8::bigint[]) AS u(id, status, class, msg, attempts, bytes)
		WHERE p.id = ANY($3::bigint[]) AND p.id = u.id AND p.run_id + 0 = $9 AND p.state + 0 = $10
		RETURNING p.id`,
		pageDone, now, ids, statuses, classes, msgs, attempts, bytes, p.RunID, pageQueued)
	if err != nil {
		return nil, fmt.Errorf("mark pages done: %w", err)
	}
	marked, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("mark pages done: %w", err)
	}
	done := make([]bool, len(p.Pages))
	for _, id := range marked {
		done[first[id]] = true
	}
	return done, nil
}

// admit admits the links of a commit to the run's frontier within the
// budget maxPages (0 = unlimited), and returns the pages it admitted, in id
// order.
func admit(ctx context.Context, tx pgx.Tx, runID int64, maxPages int, links []store.NewURL) ([]store.Page, error) {
	if maxPages > 0 {
		// Queued only grows: a run already at its budget admits nothing,
		// and the links need not be written at all.
		var queued int64
		if err := tx.QueryRow(ctx, `SELECT queued FROM runs WHERE id = $1`, runID).Scan(&queued); err != nil {
			return nil, fmt.Errorf("read budget: %w", err)
		}
		if queued >= int64(maxPages) {
			return nil, nil
		}
	}
	admitted, err := insertPages(ctx, tx, runID, links)
	if err != nil {
		return nil, fmt.Errorf("admit links: %w", err)
	}
	if maxPages == 0 || len(admitted) == 0 {
		return admitted, nil
	}
	// The run's row lock orders the commits of the run: each sees the
	// pages the commits before it admitted, and keeps what the budget
	// leaves.
	var queued int64
	if err := tx.QueryRow(ctx, `SELECT queued FROM runs WHERE id = $1 FOR NO KEY UPDATE`, runID).Scan(&queued); err != nil {
		return nil, fmt.Errorf("lock budget: %w", err)
	}
	keep := max(0, min(int64(len(admitted)), int64(maxPages)-queued))
	if excess := admitted[keep:]; len(excess) > 0 {
		ids := make([]int64, len(excess))
		for i, pg := range excess {
			ids[i] = pg.ID
		}
		if _, err := tx.Exec(ctx, `DELETE FROM pages WHERE id = ANY($1)`, ids); err != nil {
			return nil, fmt.Errorf("drop pages beyond the budget: %w", err)
		}
	}
	return admitted[:keep], nil
}

// insertPages inserts the URLs the run does not have yet and returns them,
// in id order, which is their order in urls (the first of several with
// one key wins). The ids are drawn first, in that order; the rows are then
// inserted in key order, so that two commits admitting the same URLs
// wait for each other in one order instead of deadlocking.
func insertPages(ctx context.Context, tx pgx.Tx, runID int64, urls []store.NewURL) ([]store.Page, error) {
	seen := make(map[string]bool, len(urls))
	var (
		pages []store.Page
		raws  []*string
	)
	for _, u := range urls {
		key := cmp.Or(u.Key, u.URL)
		if seen[key] {
			continue
		}
		seen[key] = true
		pages = append(pages, store.Page{URL: u.URL, Key: key, Host: u.Host, Depth: u.Depth})
		var raw *string
		if u.URL != key {
			raw = &u.URL
		}
		raws = append(raws, raw)
	}
	if len(pages) == 0 {
		return nil, nil
	}
	// Leave out the URLs the run has already, with a read that waits for
	// no lock. Left to the insert's conflict check, a URL whose row a
	// concurrent commit is marking done makes the insert wait for that
	// commit, which may itself be waiting for a URL this one inserted: a
	// deadlock, frequent when several workers commit one run's pages.
	known, err := knownURLs(ctx, tx, runID, pages)
	if err != nil {
		return nil, err
	}
	if len(known) > 0 {
		kept := pages[:0]
		keptRaws := raws[:0]
		for i, pg := range pages {
			if !known[pg.Key] {
				kept = append(kept, pg)
				keptRaws = append(keptRaws, raws[i])
			}
		}
		pages, raws = kept, keptRaws
		if len(pages) == 0 {
			return nil, nil
		}
	}
	rows, err := tx.Query(ctx, `SELECT nextval(pg_get_serial_sequence('pages', 'id')) FROM generate_series(1, $1)`, len(pages))
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	keys, hosts := make([]string, len(pages)), make([]string, len(pages))
	depths := make([]int64, len(pages))
	for i := range pages {
		pages[i].ID = ids[i]
		keys[i], hosts[i], depths[i] = pages[i].Key, pages[i].Host, int64(pages[i].Depth)
	}
	rows, err = tx.Query(ctx, `INSERT INTO pages (id, run_id, url, raw_url, host, depth)
		SELECT id, $1, url, raw, host, depth FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::int[]) AS t(id, url, raw, host, depth)
		ORDER BY url COLLATE "C"
		ON CONFLICT (run_id, url) DO NOTHING RETURNING id`,
		runID, ids, keys, raws, hosts, depths)
	if err != nil {
		return nil, err
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	slices.Sort(inserted)
	return slices.DeleteFunc(pages, func(pg store.Page) bool {
		_, ok := slices.BinarySearch(inserted, pg.ID)
		return !ok
	}), nil
}

// knownURLs returns the keys of pages the run has already.
func knownURLs(ctx context.Context, tx pgx.Tx, runID int64, pages []store.Page) (map[string]bool, error) {
	keys := make([]string, len(pages))
	for i, pg := range pages {
		keys[i] = pg.Key
	}
	// One probe of the (run_id, url) index per URL: the EXISTS is kept a
	// correlated subplan (OFFSET 0). As url = ANY, PostgreSQL planned it
	// on a new run's stale statistics as a scan of the run's pages.
	rows, err := tx.Query(ctx, `SELECT k.url FROM unnest($2::text[]) AS k(url)
		WHERE EXISTS (SELECT 1 FROM pages p WHERE p.run_id = $1 AND p.url = k.url OFFSET 0)`, runID, keys)
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(found))
	for _, k := range found {
		known[k] = true
	}
	return known, nil
}

// addStats adds delta to the run's statistics with increments and returns
// them as they are after.
func addStats(ctx context.Context, tx pgx.Tx, runID int64, delta trawl.RunStats) (trawl.RunStats, error) {
	errs, err := json.Marshal(delta.Errors)
	if err != nil {
		return trawl.RunStats{}, err
	}
	rules := []byte("[]")
	if len(delta.Rules) > 0 {
		if rules, err = json.Marshal(delta.Rules); err != nil {
			return trawl.RunStats{}, err
		}
	}
	var st statsRow
	err = tx.QueryRow(ctx, `UPDATE runs SET pages = pages + $2, items = items + $3, invalid = invalid + $4, bytes = bytes + $5,
			queued = queued + $6, links_capped = links_capped + $7,
			errors = trawl_add_counts(errors, $8::jsonb), rules = trawl_add_rules(rules, $9::jsonb)
		WHERE id = $1 RETURNING `+statsColumns,
		runID, delta.Pages, delta.Items, delta.Invalid, delta.Bytes, delta.Queued, delta.LinksCapped, string(errs), string(rules)).Scan(st.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return trawl.RunStats{}, trawl.Errorf(trawl.ENOTFOUND, "run %d not found", runID)
	} else if err != nil {
		return trawl.RunStats{}, fmt.Errorf("update statistics: %w", err)
	}
	return st.stats()
}
