package cli

import (
	"context"

	"github.com/trawl-dev/trawl/internal/config"
	"github.com/trawl-dev/trawl/internal/logging"
	"github.com/trawl-dev/trawl/internal/server"
	"github.com/trawl-dev/trawl/internal/store/postgres"
)

const workerAbout = `Crawl on PostgreSQL beside trawl serve and other workers, on this machine
or others: take up queued runs (--max-runs at once) and join every running
run, so that all workers crawl all runs together. Each host is leased to
one worker at a time, so its politeness limits hold across all of them.
SIGTERM or Ctrl-C stops the worker: pages in flight commit and its hosts
are handed back at once; after a kill -9 they return when their lease
expires (--lease-ttl). See docs/scaling.md.`

func workerCmd(ctx context.Context, args []string, env Env) error {
	flags := newFlagSet("worker", "--db postgres://... [flags]", workerAbout)
	var o config.Worker
	pos, _, err := flags.parseSettings(args, env, config.WorkerSettings(&o))
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return flags.usageErrorf("worker takes no arguments, got %q", pos)
	}
	if !isPostgres(o.DB) {
		return flags.usageErrorf("worker needs a PostgreSQL database, the one trawl serve uses: --db postgres://USER@HOST/DB (or TRAWL_DB); on SQLite, trawl serve crawls in one process")
	}
	logger, err := logging.New(env.Stderr, o.LogFormat, o.LogLevel)
	if err != nil {
		return flags.usageErrorf("%v", err)
	}
	st, err := openStore(ctx, o.DB, env)
	if err != nil {
		return err
	}
	defer st.Close()
	db, ok := st.(*postgres.DB)
	if !ok {
		return flags.usageErrorf("worker needs a PostgreSQL database (--db postgres://...)")
	}
	return server.RunWorker(ctx, server.WorkerConfig{
		Store:                st,
		DBName:               storeName(st, o.DB),
		Addr:                 o.Addr,
		MaxRuns:              o.MaxRuns,
		Concurrency:          o.Concurrency,
		StallTimeout:         o.StallTimeout,
		ShutdownTimeout:      o.ShutdownTimeout,
		LeaseTTL:             o.LeaseTTL,
		AllowPrivateNetworks: o.AllowPrivateNetworks,
		LockFunc:             db.LockDataset,
		Logger:               logger,
	})
}
