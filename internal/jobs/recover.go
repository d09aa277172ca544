package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// recoverOrphans takes up, before River starts, what a killed process
// left:
//
//   - River jobs in state running that no live process works: they are
//     made available again (River's own rescue operation, with "now" as
//     the stuck horizon), and a run's job then resumes its run where the
//     commits left it. On SQLite every running job is such an orphan (the
//     serve is the only queue on its file). On PostgreSQL other serve
//     processes may be working theirs: a run's job is taken up only when
//     its dataset lock (held by whoever crawls the run, for the whole
//     crawl) is free, and a schedule fire's job only when it started more
//     than orphanFireAge ago.
//   - queued runs without a live job (a crash between creating the run
//     and inserting its job): they get one, at their run_at.
//
// On a shared queue the sweep (share.go) runs it again every
// Config.SweepInterval, with sweep set: a run job is then an orphan only
// once it has been running for orphanRunAge, and live runs are not logged.
func (s *Service) recoverOrphans(ctx context.Context, sweep bool) error {
	exec := s.q.exec
	running, err := s.listJobs(ctx, rivertype.JobStateRunning)
	if err != nil {
		return err
	}
	if s.q.shared {
		if running, err = s.orphans(ctx, running, sweep); err != nil {
			return err
		}
	}
	if len(running) > 0 {
		now := time.Now().UTC()
		p := &riverdriver.JobRescueManyParams{StuckHorizon: now.Add(time.Second)}
		for _, j := range running {
			msg, _ := json.Marshal(rivertype.AttemptError{At: now, Attempt: j.Attempt, Error: "the process working the job stopped (trawl serve restarted)"})
			p.ID = append(p.ID, j.ID)
			p.Error = append(p.Error, msg)
			p.FinalizedAt = append(p.FinalizedAt, nil)
			p.ScheduledAt = append(p.ScheduledAt, now)
			p.State = append(p.State, string(rivertype.JobStateAvailable))
		}
		if _, err := exec.JobRescueMany(ctx, p); err != nil {
			return fmt.Errorf("make %d orphaned jobs available: %w", len(running), err)
		}
		s.log.Info("jobs of a stopped process taken up again", "jobs", len(running))
	}
	live, err := s.listJobs(ctx, rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRetryable,
		rivertype.JobStatePending, rivertype.JobStateRunning)
	if err != nil {
		return err
	}
	hasJob := map[int64]bool{}
	for _, j := range live {
		if j.Kind != kindRun {
			continue
		}
		var a runArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err == nil {
			hasJob[a.RunID] = true
		}
	}
	return s.requeueQueued(ctx, hasJob)
}

// requeueQueued inserts a job for every queued run not in hasJob.
func (s *Service) requeueQueued(ctx context.Context, hasJob map[int64]bool) error {
	q := store.RunQuery{Status: trawl.RunQueued, Limit: 500}
	for {
		runs, err := s.st.Runs(ctx, q)
		if err != nil {
			return err
		}
		for i := range runs {
			if hasJob[runs[i].ID] {
				continue
			}
			if err := s.insertRunJob(ctx, &runs[i]); err != nil {
				return err
			}
			s.log.Info("queued run without a job enqueued again", "run", runs[i].ID)
		}
		if len(runs) < q.Limit {
			return nil
		}
		q.BeforeID = runs[len(runs)-1].ID
	}
}

// listJobs lists every job in states.
func (s *Service) listJobs(ctx context.Context, states ...rivertype.JobState) ([]*rivertype.JobRow, error) {
	var out []*rivertype.JobRow
	params := river.NewJobListParams().States(states...).First(1000)
	for {
		res, err := s.client.JobList(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
		out = append(out, res.Jobs...)
		if len(res.Jobs) < 1000 {
			return out, nil
		}
		params = params.After(res.LastCursor)
	}
}

// orphanFireAge is how long a schedule fire's job must have been running
// before a starting process on a shared queue takes it for an orphan: a
// fire takes milliseconds.
const orphanFireAge = time.Minute

// orphanRunAge is how long a run's job must have been running before the
// sweep probes its dataset lock: its worker takes the lock within
// milliseconds of starting, and the probe must not find it free before.
const orphanRunAge = 30 * time.Second

// orphans keeps, of the running jobs of a shared queue, those no live
// process works: run jobs whose run's dataset lock is free (a live
// process crawling the run holds it), or whose run is gone or finished,
// and schedule fires older than orphanFireAge. Taking a lock here only
// probes it: it is released at once. Should a live process take a job up
// between the probe and the rescue, the job's second attempt finds the
// dataset locked and waits: a run is never crawled twice at once.
func (s *Service) orphans(ctx context.Context, running []*rivertype.JobRow, sweep bool) ([]*rivertype.JobRow, error) {
	var out []*rivertype.JobRow
	for _, j := range running {
		switch j.Kind {
		case kindRun:
			if sweep && (j.AttemptedAt == nil || time.Since(*j.AttemptedAt) < orphanRunAge) {
				continue // its worker may not have taken the dataset lock yet
			}
			var a runArgs
			if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
				continue
			}
			run, err := s.st.Run(ctx, a.RunID)
			if trawl.ErrorCode(err) == trawl.ENOTFOUND {
				out = append(out, j)
				continue
			} else if err != nil {
				return nil, err
			}
			if run.Status.Final() || s.cfg.LockFunc == nil {
				out = append(out, j)
				continue
			}
			unlock, err := s.cfg.LockFunc(ctx, run.Dataset)
			if err != nil {
				if !sweep {
					s.log.Info("running job left alone: its run is being crawled by another process", "job", j.ID, "run", run.ID, "reason", err)
				}
				continue
			}
			unlock()
			out = append(out, j)
		default:
			if j.AttemptedAt != nil && time.Since(*j.AttemptedAt) > orphanFireAge {
				out = append(out, j)
			}
		}
	}
	return out, nil
}
