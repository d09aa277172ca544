package cli

import (
	"context"
	"fmt"
)

const migrateAbout = `Apply the schema migrations of the database and exit: a SQLite FILE
(created if missing) or a PostgreSQL database (postgres://...). Every
command that opens a database applies them too; migrate lets a deployment
do it once, before starting processes. Safe to run while other trawl
processes start: they wait for it. Refuses a database migrated by a newer
trawl, changing nothing.`

// migrateCmd applies the pending migrations of --db.
func migrateCmd(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("migrate", "[flags]", migrateAbout)
	var db string
	fs.StringVar(&db, "db", DefaultDB, "database: a SQLite `FILE` or a postgres:// URL")
	pos, err := fs.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fs.usageErrorf("migrate takes no arguments, got %q", pos)
	}
	st, err := openStore(ctx, db, env)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Ping(ctx); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: schema up to date\n", storeName(st, db))
	return nil
}
