package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/store/postgres"
	"github.com/trawl-dev/trawl/internal/store/storetest"
)

// testURL returns the server the tests use (TRAWL_TEST_POSTGRES_URL). The
// tests skip without it, except in CI (CI set), where they must run.
func testURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("TRAWL_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("TRAWL_TEST_POSTGRES_URL is not set, but CI is: the PostgreSQL tests must run in CI (see .ci/run)")
		}
		tb.Skip("TRAWL_TEST_POSTGRES_URL is not set (see README, Development)")
	}
	return u
}

// freshSchema creates an empty schema for one test, dropped at cleanup, and
// returns the DSN that makes it the store's (search_path).
func freshSchema(tb testing.TB) string {
	tb.Helper()
	base := testURL(tb)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "trawl_test_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to TRAWL_TEST_POSTGRES_URL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// mustOpen opens a store on a fresh schema, closed at cleanup.
func mustOpen(tb testing.TB, cfg postgres.Config) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), freshSchema(tb), cfg)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	testURL(t)
	start := time.Now()
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return mustOpen(t, postgres.Config{Now: now})
	})
	t.Cleanup(func() { t.Logf("conformance suite on PostgreSQL: %v", time.Since(start).Round(time.Millisecond)) })
}
