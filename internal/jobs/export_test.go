package jobs

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// SetScheduleFunc makes cfg's periodic jobs follow f instead of the
// spiders' crons, which cannot fire more often than once a minute.
func SetScheduleFunc(cfg *Config, f func(sp *spider.Spider) river.PeriodicSchedule) {
	cfg.scheduleFunc = f
}

// InsertRunJob inserts one more job for run, as a duplicate would be.
func (s *Service) InsertRunJob(ctx context.Context, run *trawl.Run) error {
	return s.insertRunJob(ctx, run)
}
