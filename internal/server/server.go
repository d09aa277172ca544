// Package server assembles `trawl serve`: the store it is given, the crawl
// engine, the run queue (internal/jobs), the HTTP API (internal/api) with the
// web dashboard (internal/dashboard) at /, and the Prometheus registry, and
// runs them until its context ends, then shuts them down in order so that nothing committed is lost and interrupted runs
// resume on the next start. It parses no flags and handles no signals: the
// CLI does, and passes the result in.
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trawl-dev/trawl/internal/api"
	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/dashboard"
	"github.com/trawl-dev/trawl/internal/dryrun"
	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/jobs"
	"github.com/trawl-dev/trawl/internal/metrics"
	"github.com/trawl-dev/trawl/internal/robots"
	"github.com/trawl-dev/trawl/internal/runner"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Defaults of Config (internal/config holds those of the command line).
const (
	DefaultAddr            = "127.0.0.1:8080"
	DefaultMaxRuns         = 2
	DefaultShutdownTimeout = 30 * time.Second
	// compactEvery is how often finished runs' frontiers are compacted.
	compactEvery = time.Hour
)

// Config is what Run needs. Store is required.
type Config struct {
	// Store is the open database, SQLite or PostgreSQL (the run queue
	// picks River's driver by its kind); Run does not close it.
	Store store.Store
	// DBName names the database in the log (its file, or its DSN without
	// the password).
	DBName string
	// Addr is the address to listen on when Listener is nil. Default
	// DefaultAddr. A non-loopback address needs a Token.
	Addr string
	// Listener, if set, is used instead of listening on Addr (tests).
	Listener net.Listener
	// Token, if set, is required by every /v1 route; ReadToken allows the
	// GET routes only.
	Token, ReadToken string
	// MaxRuns caps the runs crawled at once. Default DefaultMaxRuns.
	// Negative: this process crawls nothing and serves the API only,
	// leaving the runs to trawl worker processes (PostgreSQL only).
	MaxRuns int
	// Concurrency caps requests in flight across all runs. Default
	// crawl.DefaultConcurrency.
	Concurrency int
	// StallTimeout fails a run that finished no page for that long; 0
	// never does.
	StallTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown: requests and pages in
	// flight get this long to finish.
	ShutdownTimeout time.Duration
	// RetainFrontier is how long the frontier of a finished run is kept
	// before it is compacted; 0 compacts it at once, negative never.
	RetainFrontier time.Duration
	// AllowPrivateNetworks lets runs fetch loopback, private, link-local
	// and metadata addresses (refused by default: a spider submitted over
	// HTTP must not reach internal services).
	AllowPrivateNetworks bool
	// Pprof serves /debug/pprof/.
	Pprof bool
	// LockFunc keeps `trawl run` and the service off one dataset at once
	// (runner.Options.LockFunc).
	LockFunc func(ctx context.Context, dataset string) (unlock func(), err error)
	// Logger receives the service's logs. Default: discard.
	Logger *slog.Logger
	// Ready, if set, is called with the address once the server listens.
	Ready func(addr net.Addr)
}

func (c *Config) validate() error {
	if c.Store == nil {
		return errors.New("server: Store is required")
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.MaxRuns == 0 {
		c.MaxRuns = DefaultMaxRuns
	}
	if c.Concurrency == 0 {
		c.Concurrency = crawl.DefaultConcurrency
	}
	if c.Concurrency < 0 {
		return trawl.Errorf(trawl.EINVALID, "concurrency %d: must be at least 1", c.Concurrency)
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Token == "" && c.ReadToken != "" {
		return trawl.Errorf(trawl.EINVALID, "a read token without a token would leave every route open to writes: set --token as well")
	}
	if c.Token != "" && c.Token == c.ReadToken {
		return trawl.Errorf(trawl.EINVALID, "the token and the read token are the same: the read token must differ, or it grants writes")
	}
	if c.Token == "" && c.Listener == nil && !loopback(c.Addr) {
		return trawl.Errorf(trawl.EINVALID, "refusing to listen on %s without a token: anyone who reaches it could run spiders and read every dataset; set --token (or TRAWL_TOKEN), or listen on a loopback address such as 127.0.0.1:8080", c.Addr)
	}
	return nil
}

// loopback reports whether addr (host:port) only accepts local
// connections: a loopback IP or "localhost". An empty host (":8080")
// listens on every interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// Run serves until ctx is canceled (the CLI cancels it on SIGTERM or
// SIGINT), then shuts down: it stops accepting requests and runs, lets
// requests and pages in flight finish within ShutdownTimeout, and returns.
// Runs cut short stay running in the database and resume on the next start.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	log := cfg.Logger
	st := cfg.Store

	c, err := newCrawling(st, crawling{
		MaxRuns: cfg.MaxRuns, Concurrency: cfg.Concurrency, StallTimeout: cfg.StallTimeout,
		AllowPrivateNetworks: cfg.AllowPrivateNetworks, LockFunc: cfg.LockFunc, Logger: log,
	})
	if err != nil {
		return err
	}
	defer c.fc.Close()
	reg, fc, js := c.reg, c.fc, c.js

	dash, err := dashboard.New(dashboard.Config{Token: cfg.Token, ReadToken: cfg.ReadToken})
	if err != nil {
		return err
	}
	handler, err := api.New(api.Config{
		Dashboard: dash,
		Store:     st,
		Queue:     js,
		Token:     cfg.Token,
		ReadToken: cfg.ReadToken,
		Logger:    log,
		Metrics:   metrics.Handler(reg),
		ReadyFunc: st.Ping,
		Pprof:     cfg.Pprof,
		// The dry run fetches with the runs' client: the same guard.
		DryRunFunc: func(ctx context.Context, sp *spider.Spider, url string) (*dryrun.Result, error) {
			return dryrun.Try(ctx, fc, sp, url)
		},
	})
	if err != nil {
		return err
	}

	ln := cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return trawl.Errorf(trawl.EINVALID, "listen on %s: %v", cfg.Addr, err)
		}
	}
	defer ln.Close()

	// Requests see a context that ends when shutdown begins, so that
	// long-lived ones (event streams) end instead of holding it up.
	reqCtx, endRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer endRequests()
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	if err := js.Start(jobsCtx); err != nil {
		return fmt.Errorf("start the run queue: %w", err)
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "db", cfg.DBName, "max_runs", cfg.MaxRuns,
		"auth", cfg.Token != "", "private_networks", cfg.AllowPrivateNetworks)
	if cfg.Ready != nil {
		cfg.Ready(ln.Addr())
	}

	compactDone := make(chan struct{})
	go func() {
		defer close(compactDone)
		compact(jobsCtx, st, cfg.RetainFrontier, log)
	}()

	select {
	case <-ctx.Done():
		log.Info("shutting down", "grace", cfg.ShutdownTimeout.String())
	case err := <-serveErr:
		log.Error("server stopped", "err", err)
	}

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	endRequests()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still open at the end of the grace period were closed", "err", err)
		srv.Close()
	}
	jobErr := js.Stop(sctx)
	stopJobs()
	<-compactDone
	if jobErr != nil {
		return fmt.Errorf("stop the run queue: %w", jobErr)
	}
	log.Info("stopped")
	return nil
}

// crawling is what serve and worker share: the metrics registry, the fetch
// client, the crawl engine and the run queue on a store. Its fields are
// the options newCrawling reads and, after it, what it built.
type crawling struct {
	MaxRuns              int // negative: crawl nothing (jobs.Config.MaxRuns)
	Concurrency          int
	StallTimeout         time.Duration // 0: never
	LeaseTTL             time.Duration // 0: crawl.DefaultLeaseTTL
	AllowPrivateNetworks bool
	LockFunc             func(ctx context.Context, dataset string) (unlock func(), err error)
	Logger               *slog.Logger

	reg *prometheus.Registry
	m   *metrics.Metrics
	fc  *fetch.Client // the caller closes it
	js  *jobs.Service
}

func newCrawling(st store.Store, c crawling) (*crawling, error) {
	c.reg = prometheus.NewRegistry()
	var err error
	c.m, err = metrics.New(c.reg, metrics.Config{
		RunsFunc:           st.CountRuns,
		FrontierQueuedFunc: st.QueuedPageCount,
		QueueDepthFunc:     func(ctx context.Context) (int64, error) { return c.js.QueueDepth(ctx) },
		Runtime:            true,
		Logger:             c.Logger,
	})
	if err != nil {
		return nil, err
	}
	c.fc = fetch.New(fetch.Config{BlockPrivateNetworks: !c.AllowPrivateNetworks})
	engine, err := crawl.New(st, c.fc, robots.New(c.fc, robots.Config{Shared: crawl.SharedRobots(st, ""), Logger: c.Logger}), crawl.Config{
		Concurrency: c.Concurrency,
		LeaseTTL:    c.LeaseTTL,
		Observer:    c.m,
		Logger:      c.Logger,
	})
	if err != nil {
		c.fc.Close()
		return nil, err
	}
	c.js, err = jobs.New(jobs.Config{
		Store:        st,
		MaxRuns:      c.MaxRuns,
		StallTimeout: cmp.Or(c.StallTimeout, -1), // 0: never
		NewCrawler:   func(*spider.Spider) (runner.Crawler, error) { return engine, nil },
		LockFunc:     c.LockFunc,
		Logger:       c.Logger,
		Metrics:      c.m,
	})
	if err != nil {
		c.fc.Close()
		return nil, err
	}
	return &c, nil
}
