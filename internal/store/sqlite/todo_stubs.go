package sqlite

// Placeholders for the contract methods added for issue 5; the store work
// replaces them with real implementations and deletes this file.

import (
	"context"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func (db *DB) RequeueFailed(ctx context.Context, runID int64) (int64, error) {
	return 0, trawl.Errorf(trawl.EINTERNAL, "RequeueFailed: not implemented")
}

func (db *DB) Runs(ctx context.Context, q store.RunQuery) ([]trawl.Run, error) {
	return nil, trawl.Errorf(trawl.EINTERNAL, "Runs: not implemented")
}

func (db *DB) Datasets(ctx context.Context) ([]store.Dataset, error) {
	return nil, trawl.Errorf(trawl.EINTERNAL, "Datasets: not implemented")
}
