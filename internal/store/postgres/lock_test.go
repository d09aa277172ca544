package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/trawl-dev/trawl/internal/store/postgres"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// TestLockDataset: a dataset's lock is held until unlock, refused to a
// second holder (another session, as another process would be) with a
// conflict naming the holder, independent of other datasets and of the
// same dataset in another schema, and free again after unlock.
func TestLockDataset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := mustOpen(t, postgres.Config{})
	other := mustOpen(t, postgres.Config{}) // another schema on the same server
	unlock, err := a.LockDataset(ctx, "quotes")
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.LockDataset(ctx, "quotes")
	holder := fmt.Sprintf("trawl process %d on ", os.Getpid())
	if trawl.ErrorCode(err) != trawl.ECONFLICT || !strings.Contains(err.Error(), `dataset "quotes" of `) || !strings.Contains(err.Error(), "being written by "+holder) {
		t.Fatalf("second lock = %v; want a conflict naming %q", err, holder)
	}
	for name, f := range map[string]func() (func(), error){
		"another dataset":               func() (func(), error) { return a.LockDataset(ctx, "books") },
		"the dataset in another schema": func() (func(), error) { return other.LockDataset(ctx, "quotes") },
	} {
		u, err := f()
		if err != nil {
			t.Errorf("lock %s while quotes is held: %v", name, err)
			continue
		}
		u()
	}
	unlock()
	again, err := a.LockDataset(ctx, "quotes")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	again()
}
