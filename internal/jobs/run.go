package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/trawl-dev/trawl/internal/metrics"
	"github.com/trawl-dev/trawl/internal/runner"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// kindRun is the River kind of a run's job.
const kindRun = "trawl_run"

// runArgs are the args of a run's job: the run, which holds everything
// else (its spider's source, its frontier, its run_at).
type runArgs struct {
	RunID int64 `json:"run_id"`
}

func (runArgs) Kind() string { return kindRun }

// InsertOpts puts run jobs in their queue. A run job is not unique in
// River's sense: uniqueness is one active run per spider, kept by the
// store (CreateRunParams.Exclusive), and one worker per run, kept by the
// per-run guard (Service.hold).
func (runArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueRuns}
}

// runWorker works run jobs.
type runWorker struct {
	river.WorkerDefaults[runArgs]
	s *Service
}

// lockError marks a LockFunc failure: the dataset is busy, try later.
type lockError struct{ err error }

func (e *lockError) Error() string { return e.err.Error() }
func (e *lockError) Unwrap() error { return e.err }

// Work takes up the run and crawls it to its end. Its return tells River
// what to do with the job: nil when the run reached a final status (or
// was already there), a snooze when it must wait (dataset busy, run held
// by another worker) or resume later (shutdown, disk full), and an error
// when the store failed (River retries with backoff, and the run
// resumes).
func (w *runWorker) Work(ctx context.Context, job *river.Job[runArgs]) error {
	err := w.s.work(ctx, job.Args.RunID)
	outcome := metrics.JobCompleted
	var snooze *river.JobSnoozeError
	switch {
	case errors.As(err, &snooze):
		outcome = metrics.JobSnoozed
	case errors.Is(err, errCanceledRun):
		outcome, err = metrics.JobCanceled, nil
	case err != nil:
		outcome = metrics.JobFailed
		w.s.log.Error("run job failed; River retries it", "run", job.Args.RunID, "attempt", job.Attempt, "error", err)
	}
	w.s.cfg.Metrics.JobDone(kindRun, outcome)
	return err
}

// errCanceledRun reports a run that ended canceled (a completed job).
var errCanceledRun = errors.New("run canceled")

func (s *Service) work(ctx context.Context, runID int64) error {
	crawlCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if !s.hold(runID, cancel) {
		if s.isStopping() {
			return river.JobSnooze(0) // taken up at the next start
		}
		return river.JobSnooze(time.Second) // another worker or a Cancel holds it
	}
	defer s.release(runID)
	run, err := s.st.Run(ctx, runID)
	if trawl.ErrorCode(err) == trawl.ENOTFOUND {
		s.log.Warn("run job for an unknown run; dropped", "run", runID)
		return nil
	} else if err != nil {
		return err
	}
	if run.Status.Final() {
		return nil // canceled while it waited, or finished by a previous attempt
	}
	r, err := runner.StartID(ctx, s.st, runID, runner.Options{LockFunc: s.lockFunc(), Shared: s.q.shared, Watch: runner.Watch{
		Poll:         PollInterval,
		StallTimeout: max(s.cfg.StallTimeout, 0), // negative: never
		Now:          s.cfg.Now,
	}})
	var lerr *lockError
	switch {
	case errors.As(err, &lerr):
		s.log.Info("dataset busy; run waits", "run", runID, "dataset", run.Dataset, "retry_in", LockRetry, "reason", lerr.err)
		return river.JobSnooze(LockRetry)
	case trawl.ErrorCode(err) == trawl.ECONFLICT:
		return nil // finished meanwhile
	case trawl.ErrorCode(err) == trawl.EINVALID:
		return s.fail(ctx, runID, err.Error())
	case err != nil:
		return err
	}
	defer r.Close()
	engine, err := s.cfg.NewCrawler(r.Spider)
	if err != nil {
		return s.fail(ctx, runID, fmt.Sprintf("build the crawler: %v", err))
	}
	s.log.Info("run started", "run", runID, "spider", r.Spider.Name, "origin", r.Origin)
	return s.crawl(ctx, crawlCtx, r, engine)
}

// crawl crawls r under crawlCtx (which Cancel and Stop end) and records
// how it ended; the runner's watcher stops it when the run is canceled
// through the store or stalls.
func (s *Service) crawl(ctx, crawlCtx context.Context, r *runner.Run, engine runner.Crawler) error {
	res, runErr := r.Crawl(crawlCtx, engine, nil)
	out, err := r.Finish(crawlCtx, res, runErr)
	if err != nil {
		return fmt.Errorf("record the end of run %d: %w", r.ID(), err)
	}
	s.log.Info("run ended", "run", r.ID(), "end", out.End, "pages", out.Result.Stats.Pages, "items", out.Result.Stats.Items, "error", out.Err)
	switch out.End {
	case runner.Interrupted:
		// Shutdown: the run stays running and its job available, so that
		// the next start resumes it at once.
		return river.JobSnooze(0)
	case runner.DiskFull:
		return river.JobSnooze(time.Minute)
	case runner.Canceled:
		return errCanceledRun
	}
	return nil
}

// fail finishes run id as failed with msg; the job is done.
func (s *Service) fail(ctx context.Context, id int64, msg string) error {
	if err := s.st.FinishRun(context.WithoutCancel(ctx), id, trawl.RunFailed, msg); err != nil {
		return fmt.Errorf("fail run %d: %w", id, err)
	}
	return nil
}

// lockFunc wraps Config.LockFunc so that its failures are told apart.
func (s *Service) lockFunc() func(context.Context, string) (func(), error) {
	if s.cfg.LockFunc == nil {
		return nil
	}
	return func(ctx context.Context, dataset string) (func(), error) {
		unlock, err := s.cfg.LockFunc(ctx, dataset)
		if err != nil {
			return nil, &lockError{err}
		}
		return unlock, nil
	}
}
