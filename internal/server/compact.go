package server

import (
	"context"
	"log/slog"
	"time"
)

// compactor is the store's retention of frontiers (store.Store's
// CompactFrontier).
type compactor interface {
	CompactFrontier(ctx context.Context, finishedBefore time.Time) (int64, error)
}

// compact removes, at start and then every compactEvery until ctx ends,
// the frontier rows of runs finished more than retain ago. Run summaries,
// failed-page samples and items stay. A negative retain keeps everything.
func compact(ctx context.Context, st any, retain time.Duration, log *slog.Logger) {
	c, ok := st.(compactor)
	if !ok || retain < 0 {
		return
	}
	t := time.NewTicker(compactEvery)
	defer t.Stop()
	for {
		n, err := c.CompactFrontier(ctx, time.Now().Add(-retain))
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			log.Warn("compacting finished runs' frontiers failed; will try again", "err", err, "next", compactEvery.String())
		case n > 0:
			log.Info("compacted finished runs' frontiers", "pages_removed", n, "older_than", retain.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
