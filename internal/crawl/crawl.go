// Package crawl is the engine for one run: it claims pages from the
// frontier, checks robots.txt, fetches, extracts, and commits each page's
// result to the store, with bounded workers, per-host politeness and
// cancellation.
package crawl

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/robots"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Defaults of Config.
const (
	DefaultConcurrency = 64
	DefaultCommitBatch = 256
)

// ClassParse is the error class of a page whose body could not be parsed
// (a JSON response that is not valid JSON).
const ClassParse = "parse"

// Config tunes an Engine. The zero value means defaults.
type Config struct {
	// Concurrency caps requests in flight across all hosts. The per-host
	// caps of each spider still apply. Default 64.
	Concurrency int
	// CommitBatch caps the pages committed in one transaction. Pages that
	// finish while a commit runs are committed together in the next one.
	// Default 256.
	CommitBatch int
	// CommitLinger is how long the writer waits for more finished pages
	// before committing a batch. Default 25ms; newly found URLs reach the
	// frontier at most this much later.
	CommitLinger time.Duration
	// Logger receives diagnostics. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Engine runs crawls. It is safe for concurrent use; each Run is independent.
type Engine struct {
	store   store.Store
	fetcher *fetch.Client
	robots  *robots.Cache
	cfg     Config
}

// New returns an Engine that stores results in st, fetches with fc and
// checks robots.txt with rc.
func New(st store.Store, fc *fetch.Client, rc *robots.Cache, cfg Config) *Engine {
	cfg.Concurrency = cmp.Or(cfg.Concurrency, DefaultConcurrency)
	cfg.CommitBatch = cmp.Or(cfg.CommitBatch, DefaultCommitBatch)
	cfg.CommitLinger = cmp.Or(cfg.CommitLinger, 25*time.Millisecond)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Engine{store: st, fetcher: fc, robots: rc, cfg: cfg}
}

// Progress is a snapshot of a run in progress.
type Progress struct {
	Stats    trawl.RunStats
	InFlight int
}

// RunParams describe one crawl.
type RunParams struct {
	Spider *spider.Spider
	Run    *trawl.Run // created or resumed by the caller
	// OnProgress, if set, is called after every commit, from the engine's
	// goroutines. It must return quickly.
	OnProgress func(Progress)
}

// Result is the outcome of Run: the run's statistics as committed, and what
// this process learned about the run's hosts.
type Result struct {
	Stats trawl.RunStats
	// Hosts are the hosts that were throttled or given up on during this
	// process's part of the run, by name.
	Hosts []HostReport
}

// HostReport is how one host's pacing ended.
type HostReport struct {
	Host string
	// Throttled counts the throttle signals the host sent (429, or 503
	// with Retry-After).
	Throttled int
	// Concurrency and Delay are the host's pace at the end of the run.
	Concurrency int
	Delay       time.Duration
	// Down is set when the circuit breaker gave up on the host: its
	// remaining pages failed as host_down.
	Down bool
}

// Run crawls until the run's frontier is exhausted, ctx is canceled, or the
// store fails. It returns the run's statistics as committed. On
// cancellation it returns context.Cause(ctx) after committing every page
// that had finished: the run can be resumed and repeats no committed page.
// A page that fails is data, not an error: it is recorded with its class.
func (e *Engine) Run(ctx context.Context, p RunParams) (*Result, error) {
	c := newCrawler(e, p)
	runErr := c.loop(ctx)
	res := &Result{Stats: c.stats}
	final, err := e.store.Run(context.WithoutCancel(ctx), p.Run.ID)
	if err != nil {
		return res, errors.Join(runErr, fmt.Errorf("read final stats: %w", err))
	}
	res.Stats = final.Stats
	return res, runErr
}
