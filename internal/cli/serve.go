package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/trawl-dev/trawl/internal/config"
	"github.com/trawl-dev/trawl/internal/logging"
	"github.com/trawl-dev/trawl/internal/server"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/store/postgres"
	"github.com/trawl-dev/trawl/internal/trawl"
)

const serveAbout = `Run trawl as a service: the HTTP API v1 (docs/api.md) on --addr, a durable
queue that crawls submitted and scheduled runs (--max-runs at once), and
Prometheus metrics at /metrics. SIGTERM or Ctrl-C stops it gracefully: pages
in flight commit, and interrupted runs resume on the next start; a second
signal exits at once. See docs/operations.md.`

func serveCmd(ctx context.Context, args []string, env Env) error {
	flags := newFlagSet("serve", "[flags]", serveAbout)
	var o config.Serve
	pos, _, err := flags.parseSettings(args, env, config.ServeSettings(&o))
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return flags.usageErrorf("serve takes no arguments, got %q", pos)
	}
	if o.MaxRuns == 0 && !isPostgres(o.DB) {
		return flags.usageErrorf("--max-runs 0 (crawl nothing here) needs PostgreSQL, where trawl worker processes crawl the runs: on SQLite give --max-runs 1 or more")
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
	lockFunc, unlock, err := serviceLocks(st)
	if err != nil {
		return err
	}
	defer unlock()
	maxRuns := o.MaxRuns
	if maxRuns == 0 {
		maxRuns = -1 // the API only: trawl worker processes crawl
	}
	err = server.Run(ctx, server.Config{
		Store:                st,
		DBName:               storeName(st, o.DB),
		Addr:                 o.Addr,
		Token:                o.Token,
		ReadToken:            o.ReadToken,
		MaxRuns:              maxRuns,
		Concurrency:          o.Concurrency,
		StallTimeout:         o.StallTimeout,
		ShutdownTimeout:      o.ShutdownTimeout,
		RetainFrontier:       o.RetainFrontier,
		AllowPrivateNetworks: o.AllowPrivateNetworks,
		Pprof:                o.Pprof,
		LockFunc:             lockFunc,
		Logger:               logger,
	})
	if err != nil {
		return err
	}
	if c, ok := st.(checkpointer); ok {
		if err := c.Checkpoint(context.WithoutCancel(ctx)); err != nil {
			logger.Warn("checkpoint at shutdown failed; the write-ahead log is folded in at the next start", "err", err)
		}
	}
	return nil
}

// serviceLocks returns the service's dataset lock for st, and on SQLite
// takes the one-serve lock, released by unlock:
//   - SQLite: the flock beside the file `trawl run` takes, and lockService;
//   - PostgreSQL: the store's dataset advisory lock, which `trawl run` takes
//     too. There is no one-serve lock: several processes may serve one
//     database, and the queue takes up at start only the running jobs
//     whose dataset no live process holds (docs/jobs.md).
func serviceLocks(st store.Store) (lockFunc func(context.Context, string) (func(), error), unlock func(), err error) {
	switch db := st.(type) {
	case pather:
		unlock, err := lockService(db.Path())
		if err != nil {
			return nil, nil, err
		}
		return serviceLockFunc(db.Path()), unlock, nil
	case *postgres.DB:
		return db.LockDataset, func() {}, nil
	}
	return nil, nil, fmt.Errorf("serve: no dataset lock for a store of type %T", st)
}

// serviceLockFunc is the service's dataset lock (jobs.Config.LockFunc): the
// same flock `trawl run` takes, so that a one-off run and a queued run of
// one dataset never crawl at once.
func serviceLockFunc(dbPath string) func(context.Context, string) (func(), error) {
	return func(_ context.Context, dataset string) (func(), error) {
		l, err := lockDataset(dbPath, dataset)
		if err != nil {
			return nil, err
		}
		return l.release, nil
	}
}

// lockService keeps a second `trawl serve` off the database at dbPath: two
// services would each recover the other's runs as interrupted ones after a
// restart. The flock is released by the kernel even after kill -9.
func lockService(dbPath string) (unlock func(), err error) {
	path := dbPath + ".serve.lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if errors.Is(err, fs.ErrPermission) || isReadOnlyFS(err) {
		return func() {}, nil // the database's own refusal is clearer
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	locked, err := flock(f)
	if err != nil || !locked {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		return nil, trawl.Errorf(trawl.ECONFLICT, "another trawl serve is using %s; stop it first, or give this one another --db", dbPath)
	}
	return func() { f.Close() }, nil
}
