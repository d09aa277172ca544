package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/trawl-dev/trawl/internal/trawl"
)

//go:embed migration/*.sql
var migrations embed.FS

// applicationID is the SQLite header's application ID of a trawl database
// ("trwl"), set by migration 0002.
const applicationID = 0x7472776c

// firstMigration is recorded in every trawl database, including those made
// before the application ID existed.
const firstMigration = "migration/0001_init.sql"

// migrate refuses a file that is not a trawl database or was migrated by a
// newer trawl, then switches to WAL and applies the pending migrations.
//
// The checks run first, outside any transaction, because setting WAL
// rewrites the header of the file. The migrations then run in one BEGIN
// IMMEDIATE transaction that checks again: two processes opening a new file
// at once queue on the write lock (within the busy timeout), and the second
// finds the schema the first committed.
func (db *DB) migrate(ctx context.Context) error {
	known, err := fs.Glob(migrations, "migration/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(known)
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := checkSchema(ctx, conn, db.path, known); err != nil {
		return err
	}
	if err := setWAL(ctx, conn); err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	applied, err := checkSchema(ctx, tx, db.path, known)
	if err != nil {
		return err
	}
	for _, name := range known {
		if slices.Contains(applied, name) {
			continue
		}
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			return err
		}
		// One Exec runs the whole file: the driver executes every statement
		// of a script, trigger bodies included.
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if err := afterMigration(ctx, tx, name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, db.now().UnixMilli()); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return tx.Commit()
}

// afterMigration runs the part of a migration that SQL cannot express, in
// the migration's transaction.
func afterMigration(ctx context.Context, tx *sql.Tx, name string) error {
	switch name {
	case "migration/0004_item_values.sql":
		return backfillItemValues(ctx, tx)
	}
	return nil
}

// setWAL switches the file to WAL, which lets readers (exports, the API)
// run while a crawl writes. The switch needs an exclusive lock, and SQLite
// returns SQLITE_BUSY at once instead of calling the busy handler when
// another connection holds a lock (two processes opening a new file at
// once), so it retries until the busy timeout.
func setWAL(ctx context.Context, conn *sql.Conn) error {
	deadline := time.Now().Add(busyTimeoutMS * time.Millisecond)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		var mode string
		err := conn.QueryRowContext(ctx, `PRAGMA journal_mode=WAL`).Scan(&mode)
		if err == nil && mode != "wal" {
			return fmt.Errorf("set WAL mode: journal mode stayed %q", mode)
		}
		if err == nil || sqliteCode(err) != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// checkSchema returns the migrations recorded in the database. It refuses a
// file that holds tables but no trawl marker (neither the application ID nor
// trawl's first migration), and one with a migration this binary does not
// know, which only a newer trawl can have written.
func checkSchema(ctx context.Context, q querier, path string, known []string) ([]string, error) {
	var appID int64
	if err := q.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&appID); err != nil {
		return nil, fmt.Errorf("read application id: %w", err)
	}
	tables, err := queryStrings(ctx, q, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	notTrawl := func() error {
		return trawl.Errorf(trawl.EINVALID, "%s is not a trawl database: it is a SQLite file of another program (tables %s); trawl leaves it untouched, use a new file or a trawl database instead",
			path, strings.Join(tables, ", "))
	}
	if appID != 0 && appID != applicationID {
		return nil, notTrawl()
	}
	var applied []string
	if slices.Contains(tables, "schema_migrations") {
		// Another program's schema_migrations (golang-migrate has one) has
		// other columns: then this query fails and the file is not ours.
		if applied, err = queryStrings(ctx, q, `SELECT name FROM schema_migrations ORDER BY name`); err != nil && appID == 0 {
			return nil, notTrawl()
		} else if err != nil {
			return nil, fmt.Errorf("read migrations: %w", err)
		}
	}
	// An empty file is new; a lone schema_migrations is an old trawl's
	// first step, which made that table before its first migration.
	empty := len(tables) == 0 || slices.Equal(tables, []string{"schema_migrations"})
	if !empty && appID != applicationID && !slices.Contains(applied, firstMigration) {
		return nil, notTrawl()
	}
	for _, name := range applied {
		if !slices.Contains(known, name) {
			return nil, trawl.Errorf(trawl.EINVALID, "database %s was migrated by a newer trawl (schema %s; this trawl %s knows up to %s): upgrade trawl to open it; nothing was changed",
				path, strings.TrimSuffix(strings.TrimPrefix(name, "migration/"), ".sql"), trawl.Version,
				strings.TrimSuffix(strings.TrimPrefix(known[len(known)-1], "migration/"), ".sql"))
		}
	}
	return applied, nil
}

func queryStrings(ctx context.Context, q querier, query string) ([]string, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Ping implements store.Store: a read of the applied migrations on a
// reader, compared with the migrations this binary embeds.
func (db *DB) Ping(ctx context.Context) error {
	known, err := fs.Glob(migrations, "migration/*.sql")
	if err != nil {
		return err
	}
	applied, err := queryStrings(ctx, db.read, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return fmt.Errorf("database %s: %w", db.path, err)
	}
	for _, name := range applied {
		if !slices.Contains(known, name) {
			return trawl.Errorf(trawl.EINVALID, "database %s was migrated by a newer trawl (%s) since this process opened it", db.path, name)
		}
	}
	for _, name := range known {
		if !slices.Contains(applied, name) {
			return trawl.Errorf(trawl.EINVALID, "database %s lacks migration %s", db.path, name)
		}
	}
	return nil
}
