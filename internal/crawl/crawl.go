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

	"golang.org/x/sync/semaphore"

	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/frontier"
	"github.com/trawl-dev/trawl/internal/robots"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Defaults of Config.
const (
	DefaultConcurrency  = 64
	DefaultCommitBatch  = 256
	DefaultCommitLinger = 25 * time.Millisecond
	// DefaultParseBudget is how many body bytes may be parsed at once
	// across all workers of an Engine. Parsing an HTML page of links holds
	// up to ~52 times its size (docs/architecture.md), so this, not the
	// number of workers, bounds parse memory: about 850 MiB at worst.
	// 16 MiB keeps a few cores busy with ordinary pages (tens or hundreds
	// of KiB each); a page larger than the budget parses alone.
	DefaultParseBudget = 16 << 20
	// DefaultThrottleRetries and DefaultThrottleRetryFor bound the
	// attempts of one page that meet a throttle signal (429, or 5xx with
	// Retry-After): the page fails when either is spent. They are apart
	// from the spider's retries, which are for broken pages: a throttled
	// page is not broken, it waits for the host's pace.
	DefaultThrottleRetries  = 20
	DefaultThrottleRetryFor = 10 * time.Minute
	// DefaultBreakerCooldown is frontier.DefaultBreakerCooldown.
	DefaultBreakerCooldown = frontier.DefaultBreakerCooldown
	// DefaultLeaseTTL and DefaultLeaseRenew: a host lease lasts 30 s and
	// is renewed every 10 s, so two renewals can fail before it is lost.
	DefaultLeaseTTL   = 30 * time.Second
	DefaultLeaseRenew = 10 * time.Second
	// DefaultMaxHosts caps the hosts one run holds at once.
	DefaultMaxHosts = 1024
	// DefaultClaimInterval is how often a run looks for hosts to claim
	// besides the ones its own commits discover.
	DefaultClaimInterval = 500 * time.Millisecond
)

// Error classes set by the engine, besides fetch's.
const (
	// ClassParse is the error class of a page whose body could not be
	// parsed (a JSON response that is not valid JSON).
	ClassParse = "parse"
	// ClassHostDown is the error class of a page that was not fetched
	// because its host's circuit breaker gave up on the host.
	ClassHostDown = "host_down"
)

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
	// before committing a batch. Default DefaultCommitLinger (25ms); newly
	// found URLs reach the frontier at most this much later.
	CommitLinger time.Duration
	// ParseBudget caps the body bytes parsed at once across all workers
	// and runs of the Engine; a body larger than the budget takes all of
	// it. Default DefaultParseBudget.
	ParseBudget int64
	// ThrottleRetries and ThrottleRetryFor bound one page's throttled
	// attempts: it fails when it met that many throttle signals, or when
	// that long passed since the first. Defaults DefaultThrottleRetries
	// and DefaultThrottleRetryFor.
	ThrottleRetries  int
	ThrottleRetryFor time.Duration
	// BreakerThreshold, BreakerCooldown and BreakerProbes tune the
	// per-host circuit breaker: that many connection failures or timeouts
	// in a row pause the host for the cool-down, then one probe request
	// is sent; after BreakerProbes failed probes in a row the host's
	// remaining pages fail as host_down. Defaults
	// frontier.DefaultBreakerThreshold (5), DefaultBreakerCooldown (30s)
	// and DefaultBreakerProbes (2).
	BreakerThreshold int
	BreakerCooldown  time.Duration
	BreakerProbes    int
	// Worker names this Engine in the store's host leases; it must be
	// unique per process instance. Default: host name, pid and start time.
	// An exclusive run (RunParams.Exclusive) uses ExclusiveWorker instead.
	Worker string
	// LeaseTTL is how long a host lease lasts unless renewed, and
	// LeaseRenew how often the leases are renewed: at most half the TTL.
	// Defaults DefaultLeaseTTL and DefaultLeaseRenew.
	LeaseTTL   time.Duration
	LeaseRenew time.Duration
	// MaxHosts caps the hosts a run holds at once; idle hosts are handed
	// back. Default DefaultMaxHosts.
	MaxHosts int
	// ClaimInterval is how often a run with room for more hosts asks the
	// store for some (hosts other workers released or lost, retries that
	// came due). Default DefaultClaimInterval.
	ClaimInterval time.Duration
	// Observer, if set, is told of every page the engine finishes (done
	// or failed, not a retried attempt), from the worker that finished
	// it: keep it cheap. internal/metrics.Metrics is one.
	Observer PageObserver
	// Logger receives diagnostics. Default: discard.
	Logger *slog.Logger
	// Clock is the time source of every wait of the engine: politeness
	// delays, throttle pauses, breaker cool-downs, retry backoff and the
	// commit linger. Default trawl.SystemClock; tests pass a
	// clocktest.Clock.
	Clock trawl.Clock
}

// maxConcurrency caps Config.Concurrency: each slot is a goroutine and a
// connection, and more than this is a typo, not a crawl.
const maxConcurrency = 100_000

// validate fills the defaults of c and reports the first field out of its
// range as an EINVALID *trawl.Error naming the field and the range.
func (c *Config) validate() error {
	type check struct {
		field string
		bad   bool
		want  string
	}
	for _, k := range []check{
		{"Concurrency", c.Concurrency < 0 || c.Concurrency > maxConcurrency, fmt.Sprintf("0 (default %d) to %d", DefaultConcurrency, maxConcurrency)},
		{"CommitBatch", c.CommitBatch < 0, fmt.Sprintf("0 (default %d) or more", DefaultCommitBatch)},
		{"CommitLinger", c.CommitLinger < 0, fmt.Sprintf("0 (default %v) or more", DefaultCommitLinger)},
		{"ParseBudget", c.ParseBudget < 0, "0 (default 16 MiB) or more bytes"},
		{"ThrottleRetries", c.ThrottleRetries < 0, fmt.Sprintf("0 (default %d) or more", DefaultThrottleRetries)},
		{"ThrottleRetryFor", c.ThrottleRetryFor < 0, fmt.Sprintf("0 (default %v) or more", DefaultThrottleRetryFor)},
		{"BreakerThreshold", c.BreakerThreshold < 0, fmt.Sprintf("0 (default %d) or more", frontier.DefaultBreakerThreshold)},
		{"BreakerCooldown", c.BreakerCooldown < 0, fmt.Sprintf("0 (default %v) or more", frontier.DefaultBreakerCooldown)},
		{"BreakerProbes", c.BreakerProbes < 0, fmt.Sprintf("0 (default %d) or more", frontier.DefaultBreakerProbes)},
		{"LeaseTTL", c.LeaseTTL < 0, fmt.Sprintf("0 (default %v) or more", DefaultLeaseTTL)},
		{"LeaseRenew", c.LeaseRenew < 0, fmt.Sprintf("0 (default %v) or more", DefaultLeaseRenew)},
		{"MaxHosts", c.MaxHosts < 0, fmt.Sprintf("0 (default %d) or more", DefaultMaxHosts)},
		{"ClaimInterval", c.ClaimInterval < 0, fmt.Sprintf("0 (default %v) or more", DefaultClaimInterval)},
	} {
		if k.bad {
			return trawl.Errorf(trawl.EINVALID, "crawl config: %s must be %s", k.field, k.want)
		}
	}
	c.Concurrency = cmp.Or(c.Concurrency, DefaultConcurrency)
	c.CommitBatch = cmp.Or(c.CommitBatch, DefaultCommitBatch)
	c.CommitLinger = cmp.Or(c.CommitLinger, DefaultCommitLinger)
	c.ParseBudget = cmp.Or(c.ParseBudget, DefaultParseBudget)
	c.ThrottleRetries = cmp.Or(c.ThrottleRetries, DefaultThrottleRetries)
	c.ThrottleRetryFor = cmp.Or(c.ThrottleRetryFor, DefaultThrottleRetryFor)
	c.BreakerThreshold = cmp.Or(c.BreakerThreshold, frontier.DefaultBreakerThreshold)
	c.BreakerCooldown = cmp.Or(c.BreakerCooldown, frontier.DefaultBreakerCooldown)
	c.BreakerProbes = cmp.Or(c.BreakerProbes, frontier.DefaultBreakerProbes)
	c.LeaseTTL = cmp.Or(c.LeaseTTL, DefaultLeaseTTL)
	c.LeaseRenew = cmp.Or(c.LeaseRenew, min(DefaultLeaseRenew, c.LeaseTTL/3))
	c.MaxHosts = cmp.Or(c.MaxHosts, DefaultMaxHosts)
	c.ClaimInterval = cmp.Or(c.ClaimInterval, DefaultClaimInterval)
	if c.LeaseRenew > c.LeaseTTL/2 {
		return trawl.Errorf(trawl.EINVALID, "crawl config: LeaseRenew (%v) must be at most half of LeaseTTL (%v)", c.LeaseRenew, c.LeaseTTL)
	}
	if c.Worker == "" {
		c.Worker = defaultWorker()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = trawl.SystemClock{}
	}
	return nil
}

// PageObserver is told of every finished page: its error class ("" when it
// succeeded), HTTP status (0 without a response), decoded body bytes, the
// duration of its last fetch attempt (0 without a response) and the number
// of items extracted from it (before deduplication by key).
type PageObserver interface {
	ObservePage(errClass string, status int, bytes int64, d time.Duration, items int)
}

// Store is what the engine needs of a store: the frontier of a run and its
// host leases, the commit of page results, and the run's committed
// statistics. Every
// store.Store satisfies it; the engine asks for no more so that it runs on
// any store, whatever else that store offers.
type Store interface {
	// QueuedHosts returns the hosts that have queued pages in run.
	QueuedHosts(ctx context.Context, runID int64) ([]string, error)
	// QueuedPages returns up to limit queued pages of host in run with an
	// ID greater than afterID, in ID order.
	QueuedPages(ctx context.Context, runID int64, host string, afterID int64, limit int) ([]store.Page, error)
	// DeferPages records the attempts and not-before time of retried
	// pages (store.Store.DeferPages).
	DeferPages(ctx context.Context, runID int64, pages []store.PageDefer) error
	// ClaimHosts, RenewHosts and ReleaseHosts lease the run's hosts
	// (store.Store.ClaimHosts and the others).
	ClaimHosts(ctx context.Context, runID int64, worker string, max int, ttl time.Duration) ([]store.HostLease, error)
	RenewHosts(ctx context.Context, runID int64, worker string, hosts []string, ttl time.Duration) (lost []string, err error)
	ReleaseHosts(ctx context.Context, runID int64, worker string, hosts []store.HostRelease) error
	// CommitPages commits a batch of page results in one transaction
	// (store.Store.CommitPages).
	CommitPages(ctx context.Context, p store.CommitParams) (*store.CommitResult, error)
	// Run returns the run with id. Returns ENOTFOUND if there is none.
	Run(ctx context.Context, id int64) (*trawl.Run, error)
}

var _ Store = store.Store(nil)

// Engine runs crawls. It is safe for concurrent use; each Run is independent.
type Engine struct {
	store   Store
	fetcher *fetch.Client
	robots  *robots.Cache
	cfg     Config
	parse   *semaphore.Weighted // body bytes being parsed, up to cfg.ParseBudget
}

// New returns an Engine that stores results in st, fetches with fc and
// checks robots.txt with rc. It returns an EINVALID *trawl.Error when a
// field of cfg is out of range.
func New(st Store, fc *fetch.Client, rc *robots.Cache, cfg Config) (*Engine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Engine{store: st, fetcher: fc, robots: rc, cfg: cfg, parse: semaphore.NewWeighted(cfg.ParseBudget)}, nil
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
	// Exclusive says that no other engine crawls the run while this one
	// does (the caller holds the run's lock). The run's hosts are then
	// leased as ExclusiveWorker, and leases a crashed predecessor left
	// are taken over at once rather than after they expire.
	Exclusive bool
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
	// InFlight is how many requests to the host were in flight.
	InFlight int
}

// Run crawls until the run's frontier is exhausted, ctx is canceled, or the
// store fails. It returns the run's statistics as committed. On
// cancellation it returns context.Cause(ctx) after committing every page
// that had finished: the run can be resumed and repeats no committed page.
// A page that fails is data, not an error: it is recorded with its class.
func (e *Engine) Run(ctx context.Context, p RunParams) (*Result, error) {
	c, err := newCrawler(e, p)
	if err != nil {
		return &Result{Stats: p.Run.Stats}, err
	}
	runErr := c.loop(ctx)
	res := &Result{Stats: c.stats}
	for _, h := range c.sched.Hosts() {
		res.Hosts = append(res.Hosts, HostReport(h))
	}
	final, err := e.store.Run(context.WithoutCancel(ctx), p.Run.ID)
	if err != nil {
		return res, errors.Join(runErr, fmt.Errorf("read final stats: %w", err))
	}
	res.Stats = final.Stats
	return res, runErr
}
