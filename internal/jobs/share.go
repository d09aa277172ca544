package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/trawl-dev/trawl/internal/runner"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// On PostgreSQL many processes (trawl serve, trawl worker) work one queue
// and crawl each run together. Besides River, a Service there runs two
// loops:
//
//   - the joiner: every JoinInterval it lists the running runs and joins
//     each one this process does not crawl yet (runner.Join), up to
//     MaxRuns of them, so that every process crawls every run; the hosts
//     are split among them by the store's host leases;
//   - the sweep: every SweepInterval it takes up the run jobs of processes
//     that died (recoverOrphans), and refreshes the schedules from the
//     stored spiders, so that whichever process is River's leader fires
//     them as they are now.
//
// When the database is unreachable both loops log it, retry with a
// backoff that doubles up to maxBackoff, and log again once it answers.

// maxBackoff caps the wait between two tries of a loop whose database is
// unreachable.
const maxBackoff = 30 * time.Second

// startLoops starts the joiner (unless the process crawls nothing) and
// the sweep; Stop ends them.
func (s *Service) startLoops(ctx context.Context) {
	ctx, s.stopLoops = context.WithCancel(context.WithoutCancel(ctx))
	if s.cfg.MaxRuns > 0 {
		s.loops.Go(func() { s.every(ctx, "join running runs", s.cfg.JoinInterval, s.joinRuns) })
	}
	s.loops.Go(func() {
		s.every(ctx, "sweep the job queue", s.cfg.SweepInterval, func(ctx context.Context) error {
			return errors.Join(s.recoverOrphans(ctx, true), s.refreshSchedules(ctx))
		})
	})
}

// every calls f every interval until ctx ends; after a failure it waits
// twice as long each time, up to maxBackoff, and says so in the log.
func (s *Service) every(ctx context.Context, what string, interval time.Duration, f func(context.Context) error) {
	wait, failing := interval, false
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		err := f(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if failing {
				wait = min(2*wait, maxBackoff)
			}
			failing = true
			s.log.Warn(what+" failed; retrying", "retry_in", wait.String(), "error", err)
		case failing:
			failing, wait = false, interval
			s.log.Info(what + ": the database answers again")
		}
	}
}

// joinRuns joins the running runs this process does not crawl yet, up to
// MaxRuns joined at once.
func (s *Service) joinRuns(ctx context.Context) error {
	runs, err := s.st.Runs(ctx, store.RunQuery{Status: trawl.RunRunning, Limit: 100})
	if err != nil {
		return err
	}
	for i := range runs {
		id := runs[i].ID
		jctx, cancel := context.WithCancelCause(ctx)
		if !s.holdJoined(id, cancel) {
			cancel(nil)
			continue
		}
		s.loops.Go(func() {
			defer cancel(nil)
			defer s.releaseJoined(id)
			s.join(jctx, id)
		})
	}
	return nil
}

// holdJoined registers run id as joined, unless this process crawls it
// already, joins MaxRuns runs, or is stopping.
func (s *Service) holdJoined(id int64, cancel context.CancelCauseFunc) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping || s.active[id] != nil || s.joined >= s.cfg.MaxRuns {
		return false
	}
	s.active[id] = &activeRun{cancel: cancel}
	s.joined++
	return true
}

func (s *Service) releaseJoined(id int64) {
	s.mu.Lock()
	delete(s.active, id)
	s.joined--
	s.mu.Unlock()
}

// join crawls run id beside the process that owns it until the run's
// frontier is exhausted, the run ends, or ctx ends (Stop: the hosts are
// handed back at once). A run that is no longer running is left alone.
func (s *Service) join(ctx context.Context, id int64) {
	r, err := runner.Join(ctx, s.st, id, runner.Options{Watch: runner.Watch{Poll: PollInterval, Now: s.cfg.Now}})
	if err != nil {
		if c := trawl.ErrorCode(err); c != trawl.ECONFLICT && c != trawl.ENOTFOUND && ctx.Err() == nil {
			s.log.Warn("join run failed", "run", id, "error", err)
		}
		return
	}
	engine, err := s.cfg.NewCrawler(r.Spider)
	if err != nil {
		s.log.Warn("join run: build the crawler", "run", id, "error", err)
		return
	}
	s.log.Debug("run joined", "run", id, "spider", r.Spider.Name)
	res, runErr := r.Crawl(ctx, engine, nil)
	out, err := r.Finish(ctx, res, runErr)
	if err != nil {
		s.log.Warn("record the end of a joined run", "run", id, "error", err)
		return
	}
	if out.End != runner.Interrupted {
		s.log.Info("run ended", "run", id, "end", out.End, "pages", out.Result.Stats.Pages, "items", out.Result.Stats.Items, "error", out.Err)
	} else if out.Err != nil && ctx.Err() == nil && !errors.Is(out.Err, context.Canceled) {
		s.log.Warn("joined run stopped here; the other processes go on", "run", id, "error", out.Err)
	}
}
