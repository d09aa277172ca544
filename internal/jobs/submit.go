package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/trawl-dev/trawl/internal/frontier"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Submit creates a queued run of the stored spider name and enqueues it to
// start at runAt (zero = now). Returns ENOTFOUND for an unknown spider and
// ECONFLICT (naming the active run) when the spider has a run queued or
// running.
func (s *Service) Submit(ctx context.Context, name string, runAt time.Time) (*trawl.Run, error) {
	stored, err := s.st.Spider(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.enqueue(ctx, stored, runAt)
}

// enqueue creates a queued run of stored, refused while another is active,
// and inserts its job.
func (s *Service) enqueue(ctx context.Context, stored *store.StoredSpider, runAt time.Time) (*trawl.Run, error) {
	sp, err := spider.Parse(stored.Name, stored.Source)
	if err != nil {
		return nil, trawl.Errorf(trawl.EINVALID, "stored spider %s does not parse: %v", stored.Name, err)
	}
	p := store.CreateRunParams{
		Spider: stored.Name, SpecHash: sp.Hash, Spec: sp.Source, Columns: sp.FieldNames(),
		StartURLs: frontier.StartURLs(sp), Queued: true, Exclusive: true,
	}
	if !runAt.IsZero() {
		at := runAt.UTC()
		p.RunAt = &at
	}
	run, err := s.st.CreateRun(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := s.insertRunJob(ctx, run); err != nil {
		// Without a job the run would wait forever: fail it.
		_ = s.st.FinishRun(context.WithoutCancel(ctx), run.ID, trawl.RunFailed, err.Error())
		return nil, err
	}
	s.log.Info("run queued", "run", run.ID, "spider", run.Spider, "run_at", run.RunAt)
	return run, nil
}

// insertRunJob inserts the job of a queued run, scheduled at its RunAt.
func (s *Service) insertRunJob(ctx context.Context, run *trawl.Run) error {
	opts := &river.InsertOpts{}
	if run.RunAt != nil {
		opts.ScheduledAt = *run.RunAt
	}
	if _, err := s.client.Insert(ctx, runArgs{RunID: run.ID}, opts); err != nil {
		return fmt.Errorf("enqueue run %d: %w", run.ID, err)
	}
	return nil
}

// Cancel cancels a queued run at once (status canceled; its job, when due,
// finds it finished and does nothing) or asks a running run to stop: the
// worker crawling it in this process is told at once, one elsewhere sees
// the run's cancel flag within PollInterval, and the run ends canceled.
// A running run that no process crawls (left by a killed process, before
// the queue takes it up again) is marked canceled here. Returns the run as
// it is after the request; ENOTFOUND for an unknown run, ECONFLICT when
// it already finished.
func (s *Service) Cancel(ctx context.Context, runID int64) (*trawl.Run, error) {
	run, err := s.st.CancelRun(ctx, runID)
	if err != nil || run.Status != trawl.RunRunning {
		return run, err
	}
	s.mu.Lock()
	a := s.active[runID]
	if a != nil && a.cancel != nil {
		a.cancel(trawl.ErrRunCanceled)
	}
	s.mu.Unlock()
	if a != nil {
		return run, nil
	}
	return s.cancelIdle(ctx, run)
}

// cancelIdle finishes a running run that this process does not crawl,
// when no other process crawls it either (its dataset lock is free).
func (s *Service) cancelIdle(ctx context.Context, run *trawl.Run) (*trawl.Run, error) {
	if !s.hold(run.ID, nil) {
		return run, nil // a worker just took it up: it sees the flag
	}
	defer s.release(run.ID)
	if s.cfg.LockFunc != nil {
		unlock, err := s.cfg.LockFunc(ctx, run.Dataset)
		if err != nil {
			// Another process (a `trawl run`) crawls it.
			return run, nil
		}
		defer unlock()
	}
	if err := s.st.FinishRun(ctx, run.ID, trawl.RunCanceled, ""); err != nil {
		return nil, err
	}
	return s.st.Run(ctx, run.ID)
}
