// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema on the server TRAWL_TEST_POSTGRES_URL names, dropped at cleanup.
// Tests skip when the variable is unset, unless CI is set: then they fail,
// so that CI never passes without running them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvURL is the variable naming the test server, e.g.
// postgres://postgres@127.0.0.1:5432/trawl_test?sslmode=disable.
const EnvURL = "TRAWL_TEST_POSTGRES_URL"

// URL returns the test server's URL, skipping tb when there is none (and
// failing it in CI).
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s is not set, but CI is: the PostgreSQL tests must run in CI (see .ci/run)", EnvURL)
		}
		tb.Skipf("%s is not set: PostgreSQL tests skipped (see README, Development)", EnvURL)
	}
	return u
}

// Schema creates an empty schema for tb, dropped with everything in it at
// cleanup, and returns the test server's URL with search_path set to it:
// a store opened on that URL lives in the schema.
func Schema(tb testing.TB) string {
	tb.Helper()
	base := URL(tb)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "trawl_test_" + hex.EncodeToString(b)
	if err := exec(ctx, base, `CREATE SCHEMA `+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		if err := exec(ctx, base, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Exec runs one statement on dsn, on a connection of its own.
func Exec(tb testing.TB, dsn, sql string, args ...any) {
	tb.Helper()
	if err := exec(context.Background(), dsn, sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

func exec(ctx context.Context, dsn, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql, args...)
	return err
}
