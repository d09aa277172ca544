package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/trawl-dev/trawl/internal/api"
	"github.com/trawl-dev/trawl/internal/metrics"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// WorkerConfig is what RunWorker needs. Store is required.
type WorkerConfig struct {
	// Store is the open PostgreSQL store the run queue and the runs live
	// in; RunWorker does not close it.
	Store store.Store
	// DBName names the database in the log (its DSN without the password).
	DBName string
	// Addr, if set, is where /healthz, /readyz and /metrics are served;
	// "" serves nothing. Listener, if set, is used instead (tests).
	Addr     string
	Listener net.Listener
	// MaxRuns caps the runs this worker takes up from the queue, and
	// apart from those the running runs it joins. Default DefaultMaxRuns.
	MaxRuns int
	// Concurrency caps the requests in flight of each run this worker
	// crawls. Default crawl.DefaultConcurrency.
	Concurrency int
	// StallTimeout fails a run this worker owns that finished no page,
	// in any process, for that long; 0 never does.
	StallTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown: pages in flight get
	// this long to finish and commit before the hosts are handed back.
	ShutdownTimeout time.Duration
	// LeaseTTL is how long a host lease of this worker outlives the
	// worker's death. Default crawl.DefaultLeaseTTL.
	LeaseTTL time.Duration
	// AllowPrivateNetworks lets runs fetch loopback, private, link-local
	// and metadata addresses.
	AllowPrivateNetworks bool
	// LockFunc is the dataset lock of the runs this worker owns.
	LockFunc func(ctx context.Context, dataset string) (unlock func(), err error)
	// Logger receives the worker's logs. Default: discard.
	Logger *slog.Logger
	// Ready, if set, is called once the worker has started, with the
	// probes' address (nil without one).
	Ready func(addr net.Addr)
}

// RunWorker runs a trawl worker until ctx is canceled: the run queue of
// the store's database without the API. It takes up queued runs (MaxRuns
// at once) and joins every running run, so that all workers crawl all
// runs together; see package jobs, share.go. On shutdown pages in flight
// commit within ShutdownTimeout and every host lease is handed back at
// once, for the other workers to take.
func RunWorker(ctx context.Context, cfg WorkerConfig) error {
	if cfg.Store == nil {
		return fmt.Errorf("server: Store is required")
	}
	if cfg.MaxRuns == 0 {
		cfg.MaxRuns = DefaultMaxRuns
	}
	if cfg.MaxRuns < 0 || cfg.Concurrency < 0 || cfg.LeaseTTL < 0 {
		return trawl.Errorf(trawl.EINVALID, "worker: max-runs %d, concurrency %d and lease-ttl %v must not be negative", cfg.MaxRuns, cfg.Concurrency, cfg.LeaseTTL)
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := newCrawling(cfg.Store, crawling{
		MaxRuns: cfg.MaxRuns, Concurrency: cfg.Concurrency, StallTimeout: cfg.StallTimeout, LeaseTTL: cfg.LeaseTTL,
		AllowPrivateNetworks: cfg.AllowPrivateNetworks, LockFunc: cfg.LockFunc, Logger: log,
	})
	if err != nil {
		return err
	}
	defer c.fc.Close()

	ln := cfg.Listener
	if ln == nil && cfg.Addr != "" {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return trawl.Errorf(trawl.EINVALID, "listen on %s: %v", cfg.Addr, err)
		}
	}
	var srv *http.Server
	if ln != nil {
		defer ln.Close()
		srv = &http.Server{
			Handler: api.Probes(api.Config{
				Logger: log, Metrics: metrics.Handler(c.reg), ReadyFunc: cfg.Store.Ping,
			}),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
		go srv.Serve(ln)
	}

	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	if err := c.js.Start(jobsCtx); err != nil {
		return fmt.Errorf("start the run queue: %w", err)
	}
	var addr net.Addr
	if ln != nil {
		addr = ln.Addr()
	}
	log.Info("worker started", "db", cfg.DBName, "max_runs", cfg.MaxRuns, "concurrency", cfg.Concurrency,
		"probes", fmt.Sprint(addr), "private_networks", cfg.AllowPrivateNetworks)
	if cfg.Ready != nil {
		cfg.Ready(addr)
	}

	<-ctx.Done()
	log.Info("shutting down: pages in flight commit, host leases are handed back", "grace", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	jobErr := c.js.Stop(sctx)
	stopJobs()
	if srv != nil {
		srv.Shutdown(sctx)
	}
	if jobErr != nil {
		return fmt.Errorf("stop the run queue: %w", jobErr)
	}
	log.Info("stopped")
	return nil
}
