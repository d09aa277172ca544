package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trawl-dev/trawl/internal/trawl"
)

//go:embed migration/*.sql
var migrations embed.FS

// migrationLock is the first key of the advisory lock Open takes while it
// migrates ("trwl", as SQLite's application ID); the second is the hash of
// the schema, so that trawl databases in different schemas of one server
// migrate independently.
const migrationLock = 0x7472776c

// knownMigrations returns the embedded migrations in order.
func knownMigrations() ([]string, error) {
	known, err := fs.Glob(migrations, "migration/*.sql")
	if err != nil {
		return nil, err
	}
	slices.Sort(known)
	return known, nil
}

// migrate applies the pending migrations in one transaction that first
// takes a transaction-level advisory lock: processes that start at once
// queue on it, and each then reads the migrations the previous committed.
// Every migration is transactional in PostgreSQL, so a failure leaves the
// schema as it was.
func (db *DB) migrate(ctx context.Context) error {
	known, err := knownMigrations()
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, migrationLock); err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
		applied, err := db.checkSchema(ctx, tx, known)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
			return fmt.Errorf("create migrations table: %w", err)
		}
		for _, name := range known {
			if slices.Contains(applied, name) {
				continue
			}
			body, err := fs.ReadFile(migrations, name)
			if err != nil {
				return err
			}
			// The simple protocol runs a script of several statements.
			if _, err := tx.Exec(ctx, string(body), pgx.QueryExecModeSimpleProtocol); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)`, name, ms(db.now())); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
		}
		return nil
	})
}

// checkSchema returns the migrations recorded in the schema. It refuses a
// schema with a migration this binary does not know, which only a newer
// trawl can have written, and one that holds a table of trawl's without
// trawl's migrations table (another program's tables of the same name).
func (db *DB) checkSchema(ctx context.Context, q queryer, known []string) ([]string, error) {
	tables, err := queryStrings(ctx, q, `SELECT table_name::text FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_name = ANY($1) ORDER BY 1`,
		[]string{"schema_migrations", "runs", "pages", "items", "datasets", "spiders"})
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	if len(tables) == 0 {
		return nil, nil
	}
	notTrawl := func() error {
		return trawl.Errorf(trawl.EINVALID, "database %s is not a trawl database: its schema holds tables of another program (%s); trawl leaves it untouched, use another database or schema (search_path) instead",
			db.name, strings.Join(tables, ", "))
	}
	if !slices.Contains(tables, "schema_migrations") {
		return nil, notTrawl()
	}
	applied, err := queryStrings(ctx, q, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return nil, notTrawl()
	}
	for _, name := range applied {
		if !slices.Contains(known, name) {
			return nil, trawl.Errorf(trawl.EINVALID, "database %s was migrated by a newer trawl (schema %s; this trawl %s knows up to %s): upgrade trawl to open it; nothing was changed",
				db.name, migrationName(name), trawl.Version, migrationName(known[len(known)-1]))
		}
	}
	return applied, nil
}

func migrationName(path string) string {
	return strings.TrimSuffix(strings.TrimPrefix(path, "migration/"), ".sql")
}

func queryStrings(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Ping implements store.Store: a read of the applied migrations, compared
// with the migrations this binary embeds.
func (db *DB) Ping(ctx context.Context) error {
	known, err := knownMigrations()
	if err != nil {
		return err
	}
	applied, err := queryStrings(ctx, db.pool, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return fmt.Errorf("database %s: %w", db.name, err)
	}
	for _, name := range applied {
		if !slices.Contains(known, name) {
			return trawl.Errorf(trawl.EINVALID, "database %s was migrated by a newer trawl (%s) since this process opened it", db.name, name)
		}
	}
	for _, name := range known {
		if !slices.Contains(applied, name) {
			return trawl.Errorf(trawl.EINVALID, "database %s lacks migration %s", db.name, name)
		}
	}
	return nil
}
