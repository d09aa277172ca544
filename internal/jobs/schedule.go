package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/trawl-dev/trawl/internal/metrics"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// kindSchedule is the River kind of a schedule's fire.
const kindSchedule = "trawl_schedule"

// scheduleArgs are the args of a fire of spider's schedule. FireAt is set
// for a catch-up fire (the missed fire time, so that inserting it twice is
// one job); a periodic fire's time is its job's ScheduledAt.
type scheduleArgs struct {
	Spider string    `json:"spider"`
	FireAt time.Time `json:"fire_at,omitzero"`
}

func (scheduleArgs) Kind() string { return kindSchedule }

func (scheduleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueSchedules, MaxAttempts: 5}
}

// scheduleWorker works schedule fires.
type scheduleWorker struct {
	river.WorkerDefaults[scheduleArgs]
	s *Service
}

// Work queues a run of the spider, unless the spider has a run queued or
// running (the fire is skipped: logged and counted, never stacked), or
// lost its schedule or was deleted since the fire was queued. The fire
// time is recorded in both cases, for the catch-up at the next start.
func (w *scheduleWorker) Work(ctx context.Context, job *river.Job[scheduleArgs]) error {
	fireAt := job.Args.FireAt
	if fireAt.IsZero() {
		fireAt = job.ScheduledAt
	}
	err := w.s.fire(ctx, job.Args.Spider, fireAt)
	outcome := metrics.JobCompleted
	if err != nil {
		outcome = metrics.JobFailed
		w.s.log.Error("schedule fire failed; River retries it", "spider", job.Args.Spider, "error", err)
	}
	w.s.cfg.Metrics.JobDone(kindSchedule, outcome)
	return err
}

func (s *Service) fire(ctx context.Context, name string, fireAt time.Time) error {
	stored, err := s.st.Spider(ctx, name)
	if trawl.ErrorCode(err) == trawl.ENOTFOUND {
		return nil // deleted since
	} else if err != nil {
		return err
	}
	sp, err := spider.Parse(name, stored.Source)
	if err != nil || sp.Cron == nil {
		return nil // no schedule any more
	}
	run, err := s.enqueue(ctx, stored, time.Time{})
	switch {
	case trawl.ErrorCode(err) == trawl.ECONFLICT:
		s.skipped.Add(1)
		s.log.Info("schedule fire skipped: the spider has a run queued or running", "spider", name, "fire_at", fireAt, "reason", err)
	case err != nil:
		return err
	default:
		s.log.Info("schedule fired", "spider", name, "fire_at", fireAt, "run", run.ID)
	}
	if err := s.st.SetSpiderFired(ctx, name, fireAt); err != nil && trawl.ErrorCode(err) != trawl.ENOTFOUND {
		return fmt.Errorf("record the fire of %s: %w", name, err)
	}
	return nil
}

// SyncSchedule makes the periodic job of spider name match its stored
// version: added, replaced when its schedule or content changed, or
// removed when the spider was deleted or has no schedule. Called after a
// spider is put or deleted; safe to call when nothing changed.
func (s *Service) SyncSchedule(ctx context.Context, name string) error {
	stored, err := s.st.Spider(ctx, name)
	if trawl.ErrorCode(err) == trawl.ENOTFOUND {
		s.removeSchedule(name)
		return nil
	} else if err != nil {
		return err
	}
	sp, err := spider.Parse(name, stored.Source)
	if err != nil {
		return trawl.Errorf(trawl.EINVALID, "stored spider %s does not parse: %v", name, err)
	}
	s.setSchedule(sp)
	return nil
}

// setSchedule adds, replaces or removes the periodic job of sp.
func (s *Service) setSchedule(sp *spider.Spider) {
	s.schedMu.Lock()
	defer s.schedMu.Unlock()
	old, ok := s.scheds[sp.Name]
	if ok && sp.Cron != nil && old.cron == sp.Cron.String() {
		return // same schedule: keep its timing
	}
	if ok {
		s.client.PeriodicJobs().Remove(old.handle)
		delete(s.scheds, sp.Name)
	}
	if sp.Cron == nil {
		return
	}
	name := sp.Name
	h := s.client.PeriodicJobs().Add(river.NewPeriodicJob(s.cfg.scheduleFunc(sp),
		func() (river.JobArgs, *river.InsertOpts) { return scheduleArgs{Spider: name}, nil }, nil))
	s.scheds[sp.Name] = scheduled{handle: h, cron: sp.Cron.String()}
	s.log.Info("schedule set", "spider", name, "schedule", sp.Cron.String())
}

func (s *Service) removeSchedule(name string) {
	s.schedMu.Lock()
	defer s.schedMu.Unlock()
	if old, ok := s.scheds[name]; ok {
		s.client.PeriodicJobs().Remove(old.handle)
		delete(s.scheds, name)
		s.log.Info("schedule removed", "spider", name)
	}
}

// SyncAllSchedules sets the periodic job of every stored spider with a
// schedule, and catches up once a spider whose schedule should have fired
// since its last fire (or since it was last changed, when it never
// fired): one fire now, however many were missed.
func (s *Service) SyncAllSchedules(ctx context.Context) error {
	_, err := s.syncAll(ctx, true)
	return err
}

// refreshSchedules makes every periodic job match the stored spiders,
// removing those of spiders deleted since, without catching up: the sweep
// of a shared queue (share.go) calls it, so that a schedule changed
// through another process's API fires here too when this process is
// River's leader.
func (s *Service) refreshSchedules(ctx context.Context) error {
	seen, err := s.syncAll(ctx, false)
	if err != nil {
		return err
	}
	s.schedMu.Lock()
	var gone []string
	for name := range s.scheds {
		if !seen[name] {
			gone = append(gone, name)
		}
	}
	s.schedMu.Unlock()
	for _, name := range gone {
		s.removeSchedule(name)
	}
	return nil
}

// syncAll syncs the periodic job of every stored spider (catching up
// missed fires when catchUp is set) and returns the names it saw.
func (s *Service) syncAll(ctx context.Context, catchUp bool) (map[string]bool, error) {
	seen := map[string]bool{}
	q := store.SpiderQuery{Limit: 500}
	for {
		list, err := s.st.Spiders(ctx, q)
		if err != nil {
			return nil, err
		}
		for i := range list {
			seen[list[i].Name] = true
			if err := s.syncStored(ctx, &list[i], catchUp); err != nil {
				return nil, err
			}
		}
		if len(list) < q.Limit {
			return seen, nil
		}
		q.After = list[len(list)-1].Name
	}
}

func (s *Service) syncStored(ctx context.Context, stored *store.StoredSpider, catchUp bool) error {
	sp, err := spider.Parse(stored.Name, stored.Source)
	if err != nil {
		if catchUp {
			s.log.Warn("stored spider does not parse; not scheduled", "spider", stored.Name, "error", err)
		}
		return nil
	}
	if sp.Cron != nil && catchUp {
		if missed, ok := missedFire(s.cfg.scheduleFunc(sp), stored, s.cfg.Now()); ok {
			if _, err := s.client.Insert(ctx, scheduleArgs{Spider: sp.Name, FireAt: missed},
				&river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
				return fmt.Errorf("catch up the schedule of %s: %w", sp.Name, err)
			}
			s.log.Info("schedule fire missed while the service was down; catching up once", "spider", sp.Name, "missed", missed)
		}
	}
	s.setSchedule(sp)
	return nil
}

// maxCatchUpSteps bounds the walk of missedFire over missed fires (a
// year of "@every 1m" is 525,600 of them).
const maxCatchUpSteps = 1 << 20

// missedFire returns the latest fire of sched not after now that came
// after the spider last fired (or was last changed, if later), if any.
// That one fire stands for all the missed ones; recorded as the last fire,
// it is not missed again at the next start.
func missedFire(sched river.PeriodicSchedule, stored *store.StoredSpider, now time.Time) (time.Time, bool) {
	since := stored.UpdatedAt
	if stored.LastFiredAt != nil && stored.LastFiredAt.After(since) {
		since = *stored.LastFiredAt
	}
	var last time.Time
	for next, i := sched.Next(since), 0; !next.IsZero() && !next.After(now); next, i = sched.Next(next), i+1 {
		last = next
		if i == maxCatchUpSteps {
			last = now
			break
		}
	}
	return last, !last.IsZero()
}
