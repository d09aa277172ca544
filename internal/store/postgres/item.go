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

// upsertItems stores the items of a commit and returns how many are new to
// this run (inserted, or last stored by another run). Within the run the
// first page to yield a key wins: the first of the batch's items with a
// key, and none when the run stored the key already (a concurrent commit of
// the same run included).
//
// The items go in key order: first an insert of them all, then a locked
// read of those that were there (their old values name the value rows to
// replace), then an update of those another run stored.
func upsertItems(ctx context.Context, tx pgx.Tx, runID int64, dataset string, items []trawl.Item, now time.Time, x *valueIndexer) (int64, error) {
	byKey := make(map[string]*pendingItem, len(items))
	var keys, urls, datas []string
	for _, it := range items {
		if byKey[it.Key] != nil {
			continue
		}
		data, err := it.MarshalJSON()
		if err != nil {
			return 0, fmt.Errorf("item %s: encode: %w", it.Key, err)
		}
		fields, err := store.ItemIndexValues(it, data)
		if err != nil {
			return 0, fmt.Errorf("item %s: index: %w", it.Key, err)
		}
		byKey[it.Key] = &pendingItem{fields: fields, idx: len(keys)}
		keys, urls, datas = append(keys, it.Key), append(urls, sanitize(it.URL)), append(datas, string(data))
	}
	if err := x.ensureFields(ctx, tx, byKey); err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, `INSERT INTO items (dataset, key, url, data, run_id, created_at, updated_at)
		SELECT $1, k, u, d, $2, $3, $3 FROM unnest($4::text[], $5::text[], $6::text[]) AS t(k, u, d)
		ORDER BY k COLLATE "C"
		ON CONFLICT (dataset, key) DO NOTHING RETURNING id, key`,
		dataset, runID, now, keys, urls, datas)
	if err != nil {
		return 0, fmt.Errorf("insert items: %w", err)
	}
	var (
		id  int64
		key string
		n   int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &key}, func() error {
		byKey[key].id, byKey[key].fresh = id, true
		n++
		return nil
	}); err != nil {
		return 0, fmt.Errorf("insert items: %w", err)
	}
	var rest []string
	for _, k := range keys {
		if !byKey[k].fresh {
			rest = append(rest, k)
		}
	}
	var updIDs []int64
	var updURLs, updDatas []string
	if len(rest) > 0 {
		rows, err := tx.Query(ctx, `SELECT id, key, run_id, data FROM items WHERE dataset = $1 AND key = ANY($2) ORDER BY key FOR NO KEY UPDATE`, dataset, rest)
		if err != nil {
			return 0, fmt.Errorf("read stored items: %w", err)
		}
		var (
			owner   int64
			oldData string
		)
		if _, err := pgx.ForEachRow(rows, []any{&id, &key, &owner, &oldData}, func() error {
			pi := byKey[key]
			pi.id = id
			if owner == runID {
				pi.skip = true // this run stored it already: the first page won
				return nil
			}
			var err error
			if pi.old, err = store.StoredIndexValues(oldData); err != nil {
				return fmt.Errorf("stored item %d: %w", id, err)
			}
			i := pi.idx
			updIDs, updURLs, updDatas = append(updIDs, id), append(updURLs, urls[i]), append(updDatas, datas[i])
			return nil
		}); err != nil {
			return 0, fmt.Errorf("read stored items: %w", err)
		}
	}
	if len(updIDs) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE items i SET url = t.u, data = t.d, run_id = $1, updated_at = $2
			FROM unnest($3::bigint[], $4::text[], $5::text[]) AS t(id, u, d) WHERE i.id = t.id`,
			runID, now, updIDs, updURLs, updDatas); err != nil {
			return 0, fmt.Errorf("update items: %w", err)
		}
		n += int64(len(updIDs))
	}
	if err := x.write(ctx, tx, keys, byKey); err != nil {
		return 0, err
	}
	return n, nil
}

// pendingItem is an item of a commit on its way to the database.
type pendingItem struct {
	id     int64
	idx    int                  // its place in the commit's arrays
	fields []store.IndexedField // its index values
	old    []store.IndexedField // the values it had, when another run stored it
	fresh  bool                 // inserted by this commit
	skip   bool                 // stored by this run already: left as it is
}

// upsertDataset records the dataset, adding columns it did not have yet
// (after the existing ones, "_url" kept last).
func upsertDataset(ctx context.Context, tx pgx.Tx, name string, columns []string, now time.Time) error {
	var existing string
	var cols []string
	err := tx.QueryRow(ctx, `SELECT columns FROM datasets WHERE name = $1 FOR NO KEY UPDATE`, name).Scan(&existing)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return fmt.Errorf("dataset %s: %w", name, err)
	default:
		if err := json.Unmarshal([]byte(existing), &cols); err != nil {
			return fmt.Errorf("dataset %s: decode columns: %w", name, err)
		}
	}
	cols = store.MergeColumns(cols, columns)
	b, _ := json.Marshal(cols)
	_, err = tx.Exec(ctx, `INSERT INTO datasets (name, columns, created_at, updated_at) VALUES ($1, $2, $3, $3)
		ON CONFLICT (name) DO UPDATE SET columns = excluded.columns, updated_at = excluded.updated_at`,
		name, string(b), now)
	if err != nil {
		return fmt.Errorf("dataset %s: %w", name, err)
	}
	return nil
}

// datasetColumns are the columns scanDataset reads, in its order.
const datasetColumns = `name, columns, (SELECT count(*) FROM items WHERE dataset = datasets.name),
	coalesce((SELECT max(id) FROM runs WHERE spider = datasets.name), 0), updated_at`

// Dataset implements store.Store.
func (db *DB) Dataset(ctx context.Context, name string) (*store.Dataset, error) {
	d, err := scanDataset(db.pool.QueryRow(ctx, `SELECT `+datasetColumns+` FROM datasets WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "dataset %q not found", name)
	} else if err != nil {
		return nil, fmt.Errorf("find dataset %s: %w", name, err)
	}
	return d, nil
}

// Datasets implements store.Store.
func (db *DB) Datasets(ctx context.Context) ([]store.Dataset, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+datasetColumns+` FROM datasets ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Dataset, error) {
		d, err := scanDataset(row)
		if err != nil {
			return store.Dataset{}, err
		}
		return *d, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	if out == nil {
		out = []store.Dataset{}
	}
	return out, nil
}

func scanDataset(row pgx.Row) (*store.Dataset, error) {
	var (
		d    store.Dataset
		cols string
	)
	if err := row.Scan(&d.Name, &cols, &d.Items, &d.LastRun, &d.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cols), &d.Columns); err != nil {
		return nil, fmt.Errorf("dataset %s: decode columns: %w", d.Name, err)
	}
	d.UpdatedAt = d.UpdatedAt.UTC()
	return &d, nil
}

// QueuedPages implements store.Store.
func (db *DB) QueuedPages(ctx context.Context, runID int64, host string, afterID int64, limit int) ([]store.Page, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, url, coalesce(raw_url, url), host, depth, attempts FROM pages
		WHERE run_id = $1 AND host = $2 AND state = 0 AND id > $3 AND (not_before IS NULL OR not_before <= $5)
		ORDER BY id LIMIT $4`,
		runID, host, afterID, limit, ms(db.now()))
	if err != nil {
		return nil, fmt.Errorf("queued pages of %s: %w", host, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Page, error) {
		var p store.Page
		err := row.Scan(&p.ID, &p.Key, &p.URL, &p.Host, &p.Depth, &p.Attempts)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("queued pages of %s: %w", host, err)
	}
	return out, nil
}

// QueuedHosts implements store.Store.
func (db *DB) QueuedHosts(ctx context.Context, runID int64) ([]string, error) {
	out, err := queryStrings(ctx, db.pool, `SELECT DISTINCT host FROM pages WHERE run_id = $1 AND state = 0`, runID)
	if err != nil {
		return nil, fmt.Errorf("queued hosts: %w", err)
	}
	return out, nil
}

// FailedPages implements store.Store.
func (db *DB) FailedPages(ctx context.Context, runID int64, limit int) ([]store.FailedPage, error) {
	rows, err := db.pool.Query(ctx, `SELECT coalesce(raw_url, url), status, error_class, error, attempts FROM pages
		WHERE run_id = $1 AND error_class <> '' ORDER BY id LIMIT $2`, runID, limit)
	if err != nil {
		return nil, fmt.Errorf("failed pages: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.FailedPage, error) {
		var p store.FailedPage
		err := row.Scan(&p.URL, &p.Status, &p.ErrorClass, &p.Error, &p.Attempts)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("failed pages: %w", err)
	}
	return out, nil
}
