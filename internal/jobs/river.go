package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/trawl-dev/trawl/internal/store/sqlite"
)

// The driver choice lives in this file only: River's client type is
// generic over the driver's transaction type, and *sql.Tx is the one of
// riversqlite (and of riverdatabasesql, should PostgreSQL come through
// database/sql).
type riverClient = river.Client[*sql.Tx]

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

// openRiver opens River's own one-connection pool on the SQLite file at
// path, applies River's migrations and builds a client (not started).
func openRiver(cfg *Config, workers *river.Workers) (*riverClient, *sql.DB, error) {
	pool, err := sqlite.OpenJobPool(cfg.DBPath)
	if err != nil {
		return nil, nil, err
	}
	driver := riversqlite.New(pool)
	client, err := river.NewClient(driver, &river.Config{
		Logger: cfg.Logger,
		Queues: map[string]river.QueueConfig{
			queueRuns:      {MaxWorkers: cfg.MaxRuns},
			queueSchedules: {MaxWorkers: 1},
		},
		Workers: workers,
		// A crawl has no time limit; stalls are the service's watchdog's.
		JobTimeout:           -1,
		RescueStuckJobsAfter: noRescue,
	})
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("job queue client: %w", err)
	}
	return client, pool, nil
}

// migrateRiver applies River's pending migrations (its tables live in the
// same file as the store's, next to them).
func migrateRiver(ctx context.Context, client *riverClient, log *slog.Logger) error {
	migrator, err := rivermigrate.New(client.Driver(), &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	return nil
}
