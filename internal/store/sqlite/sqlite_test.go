package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/store/sqlite"
	"github.com/trawl-dev/trawl/internal/store/storetest"
)

// MustOpen opens a SQLite store in a temporary directory, closed at cleanup.
func MustOpen(tb testing.TB) *sqlite.DB {
	tb.Helper()
	return MustOpenConfig(tb, sqlite.Config{})
}

// MustOpenConfig is MustOpen with a Config.
func MustOpenConfig(tb testing.TB, cfg sqlite.Config) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "trawl.db"), cfg)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return MustOpenConfig(t, sqlite.Config{Now: now})
	})
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trawl.db")
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := db.CreateRun(ctx, store.CreateRunParams{Spider: "s", SpecHash: "h", StartURLs: []store.NewURL{{URL: "http://h/", Host: "h"}}})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = sqlite.Open(ctx, path, sqlite.Config{}) // migrations must not re-run
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	got, err := db.ResumableRun(ctx, "s", "h")
	if err != nil || got.ID != r.ID || got.Stats.Queued != 1 {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}

// TestPutSpiderTimes uses the injected clock, which the conformance suite
// cannot: a change moves UpdatedAt and keeps CreatedAt, an identical put
// moves neither.
func TestPutSpiderTimes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "trawl.db"), sqlite.Config{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	put := func(src string) *store.StoredSpider {
		t.Helper()
		sp, _, err := db.PutSpider(ctx, store.PutSpiderParams{Name: "a", Source: []byte(src), Format: store.FormatYAML, Hash: src})
		if err != nil {
			t.Fatalf("PutSpider: %v", err)
		}
		return sp
	}
	created := now
	put("v1")
	now = now.Add(time.Minute)
	if got := put("v1"); !got.UpdatedAt.Equal(created) {
		t.Errorf("UpdatedAt after an identical put = %v, want %v", got.UpdatedAt, created)
	}
	now = now.Add(time.Minute)
	put("v2")
	got, err := db.Spider(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(created) || !got.UpdatedAt.Equal(now) || got.Version != 2 {
		t.Errorf("after a change: CreatedAt %v, UpdatedAt %v, Version %d; want %v, %v, 2", got.CreatedAt, got.UpdatedAt, got.Version, created, now)
	}
}
