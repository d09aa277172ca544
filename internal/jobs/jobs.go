package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/trawl-dev/trawl/internal/metrics"
	"github.com/trawl-dev/trawl/internal/runner"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Defaults of Config.
const (
	MaxRunsDefault      = 2
	StallTimeoutDefault = 10 * time.Minute
	// PollInterval is how often a worker reads its run's cancel flag and
	// checks for a stall: a canceled run ends within about this much plus
	// the time its pages in flight take to stop.
	PollInterval = 500 * time.Millisecond
	// JoinIntervalDefault is how often a process on PostgreSQL looks for
	// running runs to join; SweepIntervalDefault how often it takes up
	// the jobs of dead processes and refreshes schedules.
	JoinIntervalDefault  = time.Second
	SweepIntervalDefault = 10 * time.Second
	// LockRetry is how long a run waits before it tries again to take a
	// dataset that another crawl (a `trawl run`) holds.
	LockRetry = 5 * time.Second
)

// Config configures a Service. Store and NewCrawler are required; the
// zero value of every other field means its default.
type Config struct {
	// Store is the store runs are read from and written to, and the
	// database River's tables live in: a *sqlite.DB (River gets its own
	// one-connection pool on the file) or a *postgres.DB (River's pgx
	// driver on the store's pool). See river.go.
	Store store.Store
	// MaxRuns caps the runs this process takes up from the queue at once
	// (River's MaxWorkers of the run queue) and, on PostgreSQL, the runs
	// it joins besides (see share.go). Default MaxRunsDefault (2);
	// negative: this process crawls nothing, it only queues runs and fires
	// schedules for the trawl worker processes (`trawl serve --max-runs 0`).
	MaxRuns int
	// JoinInterval is how often, on PostgreSQL, the service looks for
	// running runs to join. Default JoinIntervalDefault.
	JoinInterval time.Duration
	// SweepInterval is how often, on PostgreSQL, the service takes up the
	// run jobs of processes that died and refreshes the schedules from the
	// stored spiders. Default SweepIntervalDefault.
	SweepInterval time.Duration
	// StallTimeout fails a running run when no page finished for that
	// long, with the error "stalled: no page finished for 10m0s". Default
	// StallTimeoutDefault (10 minutes); negative never fails a run for
	// stalling.
	StallTimeout time.Duration
	// NewCrawler builds the engine that crawls a run of sp (the serve
	// builds it with its fetch settings: the private-network guard, ...).
	NewCrawler func(sp *spider.Spider) (runner.Crawler, error)
	// LockFunc, if set, keeps other crawls off a run's dataset, as
	// runner.Options.LockFunc: the serve passes the dataset flock of
	// `trawl run`, so that the two never crawl one dataset at once. When
	// it fails (the lock is busy), the run waits LockRetry and tries again.
	// Default on PostgreSQL: the store's dataset advisory lock
	// (postgres.DB.LockDataset), which `trawl run` takes too; at Start, a
	// running job whose run's dataset lock is held is left to its process.
	LockFunc func(ctx context.Context, dataset string) (unlock func(), err error)
	// Logger receives the service's and River's logs. Default: discard.
	Logger *slog.Logger
	// Metrics counts jobs by outcome; nil counts nothing.
	Metrics *metrics.Metrics
	// Now is the clock of stall detection and schedule catch-up. Default
	// time.Now.
	Now func() time.Time

	// scheduleFunc returns the schedule a spider's periodic job follows;
	// nil = sp.Cron. Tests set it (export_test.go) for schedules shorter
	// than a spider may declare.
	scheduleFunc func(sp *spider.Spider) river.PeriodicSchedule
}

func (c *Config) withDefaults() *Config {
	out := *c
	out.MaxRuns = cmp.Or(c.MaxRuns, MaxRunsDefault)
	out.JoinInterval = cmp.Or(c.JoinInterval, JoinIntervalDefault)
	out.SweepInterval = cmp.Or(c.SweepInterval, SweepIntervalDefault)
	out.StallTimeout = cmp.Or(c.StallTimeout, StallTimeoutDefault)
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.LockFunc == nil {
		out.LockFunc = storeLockFunc(c.Store)
	}
	if out.scheduleFunc == nil {
		out.scheduleFunc = func(sp *spider.Spider) river.PeriodicSchedule { return sp.Cron }
	}
	return &out
}

func (c *Config) validate() error {
	switch {
	case c.Store == nil:
		return errors.New("jobs: Config.Store is required")
	case c.NewCrawler == nil:
		return errors.New("jobs: Config.NewCrawler is required")
	case c.JoinInterval < 0 || c.SweepInterval < 0:
		return fmt.Errorf("jobs: JoinInterval %v and SweepInterval %v must not be negative", c.JoinInterval, c.SweepInterval)
	}
	return nil
}

// Service is the run queue. On SQLite it is the only job queue on its
// database (the serve holds an exclusive lock on it): at Start, River jobs
// left running are those of a killed process, and are taken up again. On
// PostgreSQL other processes may work the same queue: a running job is
// taken up again only when no process holds its run's dataset lock.
type Service struct {
	cfg    *Config
	st     store.Store
	q      *queue
	client riverClient
	log    *slog.Logger

	mu       sync.Mutex
	active   map[int64]*activeRun // runs held by this process, by ID (the per-run guard)
	stopping bool
	schedMu  sync.Mutex
	scheds   map[string]scheduled // periodic jobs by spider
	stopOnce sync.Once

	skipped atomic.Int64 // schedule fires skipped because a run was active

	// The loops of a shared queue (share.go): stopLoops ends them, loops
	// waits for them.
	stopLoops context.CancelFunc
	loops     sync.WaitGroup
	joined    int // runs joined, under mu
}

// activeRun is a run held by this process: crawling (cancel set) or
// being canceled by Cancel (cancel nil).
type activeRun struct {
	cancel context.CancelCauseFunc
}

// scheduled is a spider's periodic job.
type scheduled struct {
	handle rivertype.PeriodicJobHandle
	cron   string // the schedule as written, to tell a changed one
}

// New builds a Service on River on cfg.Store's database. Nothing runs,
// and the database is not touched, until Start.
func New(cfg Config) (*Service, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := cfg.withDefaults()
	s := &Service{cfg: c, st: c.Store, log: c.Logger, active: map[int64]*activeRun{}, scheds: map[string]scheduled{}}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &runWorker{s: s}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &scheduleWorker{s: s}); err != nil {
		return nil, err
	}
	q, err := openRiver(c, workers)
	if err != nil {
		return nil, err
	}
	s.q, s.client = q, q.client
	if c.MaxRuns < 0 && !q.shared {
		q.close()
		return nil, trawl.Errorf(trawl.EINVALID, "a service that crawls no runs needs PostgreSQL and trawl worker processes to crawl them; on SQLite give max-runs 1 or more")
	}
	return s, nil
}

// Start applies River's migrations, takes up what a killed process left (River jobs left running are
// made available again; queued runs without a job get one), starts River,
// and syncs every stored spider's schedule, catching up once a fire
// missed while the service was down.
func (s *Service) Start(ctx context.Context) error {
	if err := s.q.migrate(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	if err := s.recoverOrphans(ctx, false); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	if err := s.client.Start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	if err := s.SyncAllSchedules(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	if s.q.shared {
		s.startLoops(ctx)
	}
	return nil
}

// Stop shuts the queue down gracefully: no new run is taken up, running
// crawls are canceled with cause trawl.ErrShutdown (they commit what they
// fetched and stay running, to be resumed at the next Start), and Stop
// waits for them, within ctx; when ctx ends first, their jobs are
// canceled outright (River's StopAndCancel) and Stop returns ctx's error.
// River's pool is closed in both cases. Stop is idempotent.
func (s *Service) Stop(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.stopping = true
		for _, a := range s.active {
			if a.cancel != nil {
				a.cancel(trawl.ErrShutdown)
			}
		}
		s.mu.Unlock()
		if s.stopLoops != nil {
			s.stopLoops()
			s.loops.Wait() // joined crawls commit what they fetched and hand their hosts back
		}
		if err = s.client.Stop(ctx); err != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			err = errors.Join(err, s.client.StopAndCancel(cctx))
			cancel()
		}
		err = errors.Join(err, s.q.close())
	})
	return err
}

// QueueDepth returns how many jobs wait to be worked: available,
// scheduled (a run_at in the future) or retryable, not running.
func (s *Service) QueueDepth(ctx context.Context) (int64, error) {
	counts, err := s.q.exec.JobCountByAllStates(ctx, &riverdriver.JobCountByAllStatesParams{})
	if err != nil {
		return 0, fmt.Errorf("queue depth: %w", err)
	}
	var n int64
	for _, st := range []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRetryable, rivertype.JobStatePending} {
		n += int64(counts[st])
	}
	return n, nil
}

// SkippedFires returns how many schedule fires this Service skipped
// because their spider had a run queued or running.
func (s *Service) SkippedFires() int64 { return s.skipped.Load() }

// hold registers run id as held by this process, with cancel (nil while
// Cancel finishes it). It returns false when the run is held already or
// the service is stopping.
func (s *Service) hold(id int64, cancel context.CancelCauseFunc) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping || s.active[id] != nil {
		return false
	}
	s.active[id] = &activeRun{cancel: cancel}
	return true
}

func (s *Service) release(id int64) {
	s.mu.Lock()
	delete(s.active, id)
	s.mu.Unlock()
}

// isStopping reports whether Stop was called.
func (s *Service) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}
