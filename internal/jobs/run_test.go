package jobs_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/jobs"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// TestSubmitRunsToCompletion: a submitted run is queued, crawled by a
// worker to succeeded with every item, each page fetched once even with a
// duplicate job for the run; a second submit while it is active is a
// conflict naming it.
func TestSubmitRunsToCompletion(t *testing.T) {
	t.Parallel()
	for _, k := range newEnvs {
		t.Run(k.kind, func(t *testing.T) {
			t.Parallel()
			testSubmitRunsToCompletion(t, k.new(t))
		})
	}
}

func testSubmitRunsToCompletion(t *testing.T, e *env) {
	s := newSite(t, 10, 20*time.Millisecond)
	e.put("quotes", s, "")
	svc := e.start(e.config())
	ctx := context.Background()

	run, err := svc.Submit(ctx, "quotes", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != trawl.RunQueued || run.Dataset != "quotes" || run.RunAt != nil {
		t.Fatalf("submitted run = %+v, want queued, dataset quotes, no run_at", run)
	}
	if err := svc.InsertRunJob(ctx, run); err != nil { // a duplicate job: the per-run guard keeps it off
		t.Fatal(err)
	}
	_, err = svc.Submit(ctx, "quotes", time.Time{})
	if trawl.ErrorCode(err) != trawl.ECONFLICT || !strings.Contains(err.Error(), strconv.FormatInt(run.ID, 10)) {
		t.Errorf("second Submit = %v, want conflict naming run %d", err, run.ID)
	}
	if _, err := svc.Submit(ctx, "nope", time.Time{}); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("Submit(unknown spider) = %v, want not_found", err)
	}
	done := e.waitRun(run.ID, 20*time.Second, final)
	if done.Status != trawl.RunSucceeded || done.Stats.Items != 11 || done.StartedAt == nil {
		t.Fatalf("run = %+v, want succeeded with 11 items", done)
	}
	if got := len(e.itemURLs("quotes")); got != 11 {
		t.Errorf("dataset has %d items, want 11", got)
	}
	time.Sleep(1500 * time.Millisecond) // the duplicate job's snooze ends: it must find the run finished
	for path, n := range s.fetches() {
		if n != 1 {
			t.Errorf("%s fetched %d times, want once", path, n)
		}
	}
	// Once finished, the spider takes a new run.
	next, err := svc.Submit(ctx, "quotes", time.Time{})
	if err != nil {
		t.Fatalf("Submit after the run finished: %v", err)
	}
	if e.waitRun(next.ID, 20*time.Second, final).Status != trawl.RunSucceeded {
		t.Error("second run did not succeed")
	}
}

// TestMaxRuns: with MaxRuns 2, three submitted runs never crawl more than
// two at once, and all three complete.
func TestMaxRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := newSite(t, 6, 150*time.Millisecond)
	cfg := e.config()
	cfg.MaxRuns = 2
	svc := e.start(cfg)
	ctx := context.Background()
	var ids []int64
	for _, name := range []string{"a", "b", "c"} {
		e.put(name, s, "")
		r, err := svc.Submit(ctx, name, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	maxRunning := 0
	deadline := time.Now().Add(30 * time.Second)
	for {
		running, finished := 0, 0
		for _, id := range ids {
			r, err := e.db.Run(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case r.Status == trawl.RunRunning:
				running++
			case r.Status == trawl.RunSucceeded:
				finished++
			case r.Status.Final():
				t.Fatalf("run %d ended %s: %s", id, r.Status, r.Error)
			}
		}
		maxRunning = max(maxRunning, running)
		if finished == len(ids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("runs not finished after 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if maxRunning != 2 {
		t.Errorf("at most %d runs were running at once, want exactly 2 (MaxRuns)", maxRunning)
	}
}

// TestRunAtWaitsAcrossRestart: a run queued for later waits, keeps its
// run_at across a restart of the service, and starts once due.
func TestRunAtWaitsAcrossRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := newSite(t, 2, 0)
	e.put("later", s, "")
	svc := e.start(e.config())
	ctx := context.Background()
	at := time.Now().Add(3 * time.Second).Truncate(time.Millisecond)
	run, err := svc.Submit(ctx, "later", at)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != trawl.RunQueued || run.RunAt == nil || !run.RunAt.Equal(at) {
		t.Fatalf("run = %+v, want queued with run_at %v", run, at)
	}
	time.Sleep(time.Second)
	stop(t, svc)
	if r, _ := e.db.Run(ctx, run.ID); r.Status != trawl.RunQueued || len(s.fetches()) != 0 {
		t.Fatalf("before run_at: run %s, fetches %v; want queued, none", r.Status, s.fetches())
	}
	e.start(e.config()) // a new process
	done := e.waitRun(run.ID, 20*time.Second, final)
	if done.Status != trawl.RunSucceeded || done.StartedAt.Before(at) || !done.RunAt.Equal(at) {
		t.Fatalf("run = %+v; want succeeded, started after %v, run_at kept", done, at)
	}
}

// TestCancelQueued: a run waiting for its run_at is canceled at once and
// never crawled.
func TestCancelQueued(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := newSite(t, 2, 0)
	e.put("q", s, "")
	svc := e.start(e.config())
	ctx := context.Background()
	run, err := svc.Submit(ctx, "q", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.Cancel(ctx, run.ID)
	if err != nil || got.Status != trawl.RunCanceled || got.FinishedAt == nil {
		t.Fatalf("Cancel(queued) = %+v, %v; want canceled", got, err)
	}
	if _, err := svc.Cancel(ctx, run.ID); trawl.ErrorCode(err) != trawl.ECONFLICT {
		t.Errorf("second Cancel = %v, want conflict", err)
	}
	if _, err := svc.Cancel(ctx, 999); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("Cancel(999) = %v, want not_found", err)
	}
	if _, err := svc.Submit(ctx, "q", time.Time{}); err != nil {
		t.Errorf("Submit after the queued run was canceled: %v", err)
	}
}

// TestCancelRunning: a running run ends canceled within 2 s of Cancel,
// and within 2 s of its cancel flag being set by another process (the
// worker polls it).
func TestCancelRunning(t *testing.T) {
	t.Parallel()
	for _, k := range newEnvs {
		for _, how := range []string{"service", "flag"} {
			t.Run(k.kind+"/"+how, func(t *testing.T) {
				t.Parallel()
				e := k.new(t)
				s := newSite(t, 200, 100*time.Millisecond)
				e.put("slow", s, "")
				svc := e.start(e.config())
				ctx := context.Background()
				run, err := svc.Submit(ctx, "slow", time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				e.waitRun(run.ID, 20*time.Second, func(r *trawl.Run) bool { return r.Stats.Pages >= 3 })
				t0 := time.Now()
				var got *trawl.Run
				if how == "service" {
					got, err = svc.Cancel(ctx, run.ID)
				} else {
					got, err = e.db.CancelRun(ctx, run.ID)
				}
				if err != nil || got.Status != trawl.RunRunning || !got.CancelRequested {
					t.Fatalf("Cancel(running) = %+v, %v; want running with the cancel requested", got, err)
				}
				done := e.waitRun(run.ID, 5*time.Second, final)
				if took := time.Since(t0); done.Status != trawl.RunCanceled || took > 2*time.Second {
					t.Errorf("run ended %s after %v; want canceled within 2s", done.Status, took)
				}
				if done.Stats.Pages >= 201 {
					t.Errorf("run crawled all %d pages: not canceled", done.Stats.Pages)
				}
			})
		}
	}
}

// TestStall: a run whose pages stop finishing is failed with the stall
// reason after StallTimeout.
func TestStall(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := newSite(t, 0, 0)
	s.hang.Store(true)
	e.put("stuck", s, "")
	cfg := e.config()
	cfg.StallTimeout = time.Second
	svc := e.start(cfg)
	run, err := svc.Submit(context.Background(), "stuck", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	done := e.waitRun(run.ID, 10*time.Second, final)
	if done.Status != trawl.RunFailed || done.Error != "stalled: no page finished for 1s" {
		t.Fatalf("run = %s %q; want failed, stalled", done.Status, done.Error)
	}
}

// TestRiverMigrationsRace: two services starting at once on a fresh
// PostgreSQL schema both start: River's tables are migrated once, under
// the store's advisory lock.
func TestRiverMigrationsRace(t *testing.T) {
	t.Parallel()
	e := newPGEnv(t)
	other := openEnv(t, "postgres", e.dsn)
	errs := make(chan error, 2)
	for _, x := range []*env{e, other} {
		svc, err := jobs.New(x.config())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stop(t, svc) })
		go func() { errs <- svc.Start(context.Background()) }()
	}
	for range 2 {
		select {
		case err := <-errs:
			if err != nil {
				t.Errorf("Start: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Start did not return in 30s")
		}
	}
}
