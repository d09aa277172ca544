package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/server"
	"github.com/trawl-dev/trawl/internal/trawl"
)

const serveAbout = `Run trawl as a service: the HTTP API v1 (docs/api.md) on --addr, a durable
queue that crawls submitted and scheduled runs (--max-runs at once), and
Prometheus metrics at /metrics. SIGTERM or Ctrl-C stops it gracefully: pages
in flight commit, and interrupted runs resume on the next start; a second
signal exits at once. See docs/operations.md.`

// serveOptions are the settings of `trawl serve`.
type serveOptions struct {
	addr, db                string
	token, readToken        string
	maxRuns, concurrency    int
	stall, shutdown, retain time.Duration
	allowPrivate, pprof     bool
	logFormat, logLevel     string
}

func serveCmd(ctx context.Context, args []string, env Env) error {
	flags := newFlagSet("serve", "[flags]", serveAbout)
	var o serveOptions
	flags.StringVar(&o.addr, "addr", server.DefaultAddr, "listen on `HOST:PORT`; a non-loopback address needs --token")
	flags.StringVar(&o.db, "db", DefaultDB, "database: a SQLite `FILE`")
	flags.StringVar(&o.token, "token", env.Getenv("TRAWL_TOKEN"), "require `TOKEN` as a Bearer token on every /v1 route (env TRAWL_TOKEN)")
	flags.StringVar(&o.readToken, "read-token", env.Getenv("TRAWL_READ_TOKEN"), "a second `TOKEN` that may use the GET routes only (env TRAWL_READ_TOKEN)")
	flags.IntVar(&o.maxRuns, "max-runs", server.DefaultMaxRuns, "crawl at most `N` runs at once; more wait in the queue")
	flags.IntVar(&o.concurrency, "concurrency", crawl.DefaultConcurrency, "at most `N` requests in flight across all runs")
	flags.DurationVar(&o.stall, "stall-timeout", server.DefaultStallTimeout, "fail a run that finished no page for `DURATION`")
	flags.DurationVar(&o.shutdown, "shutdown-timeout", server.DefaultShutdownTimeout, "on SIGTERM, let requests and pages in flight finish for up to `DURATION`")
	flags.DurationVar(&o.retain, "retain-frontier", server.DefaultRetainFrontier, "keep the frontier of a finished run for `DURATION` (its summary, failed pages and items stay); -1s keeps it forever")
	flags.BoolVar(&o.allowPrivate, "allow-private-networks", false, "let runs fetch loopback, private, link-local and metadata addresses (refused by default)")
	flags.BoolVar(&o.pprof, "pprof", false, "serve Go's profiler at /debug/pprof/ (behind the token)")
	flags.StringVar(&o.logFormat, "log-format", "text", "log `FORMAT`: text or json")
	flags.StringVar(&o.logLevel, "log-level", "info", "log `LEVEL` and above: debug, info, warn or error")
	pos, err := flags.parse(args, env)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return flags.usageErrorf("serve takes no arguments, got %q", pos)
	}
	logger, err := newServiceLogger(env, o.logFormat, o.logLevel)
	if err != nil {
		return flags.usageErrorf("%v", err)
	}
	st, err := openStore(ctx, o.db, env)
	if err != nil {
		return err
	}
	defer st.Close()
	p, ok := st.(pather)
	if !ok {
		return fmt.Errorf("serve needs a SQLite database for now")
	}
	unlock, err := lockService(p.Path())
	if err != nil {
		return err
	}
	defer unlock()
	err = server.Run(ctx, server.Config{
		Store:                st,
		DBPath:               p.Path(),
		Addr:                 o.addr,
		Token:                o.token,
		ReadToken:            o.readToken,
		MaxRuns:              o.maxRuns,
		Concurrency:          o.concurrency,
		StallTimeout:         o.stall,
		ShutdownTimeout:      o.shutdown,
		RetainFrontier:       o.retain,
		AllowPrivateNetworks: o.allowPrivate,
		Pprof:                o.pprof,
		LockFunc:             serviceLockFunc(p.Path()),
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

// newServiceLogger is the structured log of a long-running process, on
// stderr, as text or JSON.
func newServiceLogger(env Env, format, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(env.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(env.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
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
