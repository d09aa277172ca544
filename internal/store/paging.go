package store

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
)

// ItemBatch is how many items a store reads per query when it streams a
// whole item query (Items, ItemsPage without a limit).
const ItemBatch = 1000

// ItemReader reads up to n items of one planned item query after the item
// id after, in id order, with their ids. Fewer than n items means there
// are no more. Each store implements it with its own SQL; ReadItemsPage
// and ReadItems page over it alike.
type ItemReader func(ctx context.Context, after int64, n int) (ids []int64, items []json.RawMessage, err error)

// ReadItemsPage is Store.ItemsPage over read: the items after the id
// after, at most limit of them (0 = every one), and the cursor of the next
// page when there is one. dataset names the query in errors.
func ReadItemsPage(ctx context.Context, read ItemReader, dataset string, after int64, limit int) (*ItemPage, error) {
	page := &ItemPage{Items: []json.RawMessage{}}
	if limit == 0 {
		for raw, err := range ReadItems(ctx, read, dataset, after, 0) {
			if err != nil {
				return nil, err
			}
			page.Items = append(page.Items, raw)
		}
		return page, nil
	}
	// One item more than asked tells whether there is a next page.
	ids, items, err := read(ctx, after, limit+1)
	if err != nil {
		return nil, fmt.Errorf("list items of %s: %w", dataset, err)
	}
	if len(items) > limit {
		items = items[:limit]
		page.Next = NewCursor(ids[limit-1])
	}
	page.Items = append(page.Items, items...)
	return page, nil
}

// ReadItems is Store.Items over read: the items after the id after, at
// most limit of them (0 = every one), read ItemBatch at a time.
func ReadItems(ctx context.Context, read ItemReader, dataset string, after int64, limit int) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		left := limit
		for {
			n := ItemBatch
			if limit > 0 {
				n = min(n, left)
			}
			ids, batch, err := read(ctx, after, n)
			if err != nil {
				yield(nil, fmt.Errorf("list items of %s: %w", dataset, err))
				return
			}
			for _, b := range batch {
				if !yield(b, nil) {
					return
				}
			}
			left -= len(batch)
			if len(batch) < n || (limit > 0 && left == 0) {
				return
			}
			after = ids[len(ids)-1]
		}
	}
}
