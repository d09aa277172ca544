package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/trawl-dev/trawl/internal/store/postgres"
	"github.com/trawl-dev/trawl/internal/store/sqlite"
)

// The driver choice lives in this file only, made by the kind of the
// store (openRiver). River's client type is generic over the driver's
// transaction type (*sql.Tx for riversqlite, pgx.Tx for riverpgxv5); the
// rest of the package sees the methods both share, riverClient.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	PeriodicJobs() *river.PeriodicJobBundle
}

// queue is River on the store's database: its client, its executor (for
// the operations the client does not offer), its migrations, and whether
// other processes may work the same queue.
type queue struct {
	client  riverClient
	exec    riverdriver.Executor
	migrate func(ctx context.Context) error
	close   func() error
	// shared is true on PostgreSQL: several trawl processes may work the
	// queue, so a job in state running is not an orphan just because this
	// process does not work it (see recoverOrphans). On SQLite the serve
	// holds an exclusive lock on the file.
	shared bool
}

// Queues of the two job kinds. Schedule fires get their own queue so that
// a fire is recorded (or skipped) at once even when every run slot is
// busy crawling.
const (
	queueRuns      = "trawl_runs"
	queueSchedules = "trawl_schedules"
)

// noRescue is River's RescueStuckJobsAfter: effectively never. A run may
// crawl for days, and River's rescuer, which has no heartbeat, would hand
// a run that is still crawling to a second worker. The service recovers
// the jobs a killed process left at Start instead (see recoverOrphans).
const noRescue = 100 * 365 * 24 * time.Hour

// riverConfig is River's configuration, the same on every driver.
func riverConfig(cfg *Config, workers *river.Workers) *river.Config {
	queues := map[string]river.QueueConfig{queueSchedules: {MaxWorkers: 1}}
	if cfg.MaxRuns > 0 {
		queues[queueRuns] = river.QueueConfig{MaxWorkers: cfg.MaxRuns}
	}
	return &river.Config{
		Logger:  quieter(cfg.Logger),
		Queues:  queues,
		Workers: workers,
		// A crawl has no time limit; stalls are the service's watchdog's.
		JobTimeout:           -1,
		RescueStuckJobsAfter: noRescue,
	}
}

// openRiver builds River (not started) on the database of cfg.Store:
//   - SQLite: River's own one-connection pool on the file (riversqlite asks
//     for one), so that the crawl's commits and the API's reads never
//     queue behind River's polling;
//   - PostgreSQL: River's pgx driver on the store's own pool.
func openRiver(cfg *Config, workers *river.Workers) (*queue, error) {
	switch db := cfg.Store.(type) {
	case *sqlite.DB:
		pool, err := sqlite.OpenJobPool(db.Path())
		if err != nil {
			return nil, err
		}
		driver := riversqlite.New(pool)
		client, err := river.NewClient(driver, riverConfig(cfg, workers))
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("job queue client: %w", err)
		}
		return &queue{
			client:  client,
			exec:    driver.GetExecutor(),
			migrate: func(ctx context.Context) error { return migrateRiver(ctx, driver, cfg.Logger) },
			close:   pool.Close,
		}, nil
	case *postgres.DB:
		driver := riverpgxv5.New(db.Pool())
		client, err := river.NewClient(driver, riverConfig(cfg, workers))
		if err != nil {
			return nil, fmt.Errorf("job queue client: %w", err)
		}
		return &queue{
			client:  client,
			exec:    driver.GetExecutor(),
			migrate: func(ctx context.Context) error { return migrateRiverPG(ctx, db, driver, cfg.Logger) },
			close:   func() error { return nil }, // the store's pool: the store closes it
			shared:  true,
		}, nil
	default:
		return nil, fmt.Errorf("jobs: no job queue for a store of type %T (want SQLite or PostgreSQL)", cfg.Store)
	}
}

// migrateRiver applies River's pending migrations (its tables live in the
// same database as the store's, next to them). On PostgreSQL, River's
// migrator serializes processes that migrate at once.
func migrateRiver[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], log *slog.Logger) error {
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quieter(log)})
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	return nil
}

// storeLockFunc is the default Config.LockFunc of a store: on PostgreSQL
// its dataset advisory lock, the one `trawl run` takes; none on SQLite,
// whose lock is a file the CLI keeps beside the database.
func storeLockFunc(st any) func(context.Context, string) (func(), error) {
	if db, ok := st.(*postgres.DB); ok {
		return db.LockDataset
	}
	return nil
}

// migrateRiverPG applies River's migrations on PostgreSQL while holding
// the store's advisory lock named "river migrations": rivermigrate takes
// no lock of its own, and serve processes may start at once. (River's
// migrations cannot all run in one transaction: one adds an enum value
// that a later one uses.)
func migrateRiverPG(ctx context.Context, db *postgres.DB, driver *riverpgxv5.Driver, log *slog.Logger) error {
	return db.Exclusive(ctx, "river migrations", func(ctx context.Context) error {
		return migrateRiver(ctx, driver, log)
	})
}

// quieter is log for River's own messages: warnings and errors only.
// River logs every migration and its client's start at INFO, which in
// serve's log reads as noise beside trawl's own start line.
func quieter(log *slog.Logger) *slog.Logger {
	return slog.New(minLevel{log.Handler(), slog.LevelWarn})
}

// minLevel is a slog.Handler that drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
