package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// TestExclusive: calls of Exclusive with one name, from two sessions at
// once, run one after the other; another name does not wait.
func TestExclusive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := mustOpen(t, postgres.Config{})
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			err := db.Exclusive(ctx, "migrations", func(context.Context) error {
				n := inside.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(50 * time.Millisecond)
				inside.Add(-1)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d calls of Exclusive ran at once, want 1", most.Load())
	}
	done := make(chan error, 1)
	go func() {
		done <- db.Exclusive(ctx, "a", func(ctx context.Context) error {
			return db.Exclusive(ctx, "b", func(context.Context) error { return nil })
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Exclusive(b) waited for Exclusive(a)")
	}
}
