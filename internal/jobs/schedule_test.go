package jobs_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/trawl-dev/trawl/internal/jobs"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store/sqlite"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// TestScheduleFiresWithoutStacking: a spider's schedule fires through
// River's periodic jobs (every 300ms here, through the test hook; a
// spider's own schedule cannot fire more than once a minute); while its
// run is active, fires are skipped and counted, never stacked; each fire
// is recorded; deleting the spider's schedule stops the fires.
func TestScheduleFiresWithoutStacking(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := newSite(t, 8, 150*time.Millisecond) // a run lasts about 0.7s: several fires land on it
	e.put("sched", s, "schedule: \"@every 1h\"\n")
	cfg := e.config()
	jobs.SetScheduleFunc(&cfg, func(*spider.Spider) river.PeriodicSchedule { return river.PeriodicInterval(300 * time.Millisecond) })
	svc := e.start(cfg)
	ctx := context.Background()

	deadline := time.Now().Add(20 * time.Second)
	for {
		runs := e.runsOf("sched")
		active := 0
		done := 0
		for _, r := range runs {
			if !r.Status.Final() {
				active++
			} else if r.Status == trawl.RunSucceeded {
				done++
			}
		}
		if active > 1 {
			t.Fatalf("%d runs active at once: the schedule stacked runs", active)
		}
		if done >= 2 && svc.SkippedFires() >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: %d runs succeeded, %d fires skipped; want >= 2 and >= 1", done, svc.SkippedFires())
		}
		time.Sleep(20 * time.Millisecond)
	}
	sp, err := e.db.Spider(ctx, "sched")
	if err != nil || sp.LastFiredAt == nil {
		t.Errorf("LastFiredAt = %v, %v; want a fire recorded", sp.LastFiredAt, err)
	}

	// The schedule removed: no new run once the active one ends.
	e.put("sched", s, "")
	if err := svc.SyncSchedule(ctx, "sched"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // a fire already inserted may still queue one run
	for _, r := range e.runsOf("sched") {
		e.waitRun(r.ID, 20*time.Second, final)
	}
	n := len(e.runsOf("sched"))
	time.Sleep(time.Second) // three periods of the old schedule
	if got := len(e.runsOf("sched")); got != n {
		t.Errorf("runs went from %d to %d after the schedule was removed", n, got)
	}
	if err := svc.SyncSchedule(ctx, "deleted-or-never-there"); err != nil {
		t.Errorf("SyncSchedule of an unknown spider: %v", err)
	}
}

// TestCatchUpOnce: a schedule that missed many fires while the service was
// down fires once at start, not once per missed fire, and not again at the
// next start.
func TestCatchUpOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := newSite(t, 2, 0)
	ctx := context.Background()
	// Put an hour ago (through a store whose clock says so), last fired 10
	// minutes ago: 10 fires were missed.
	past, err := sqlite.Open(ctx, e.dsn, sqlite.Config{Now: func() time.Time { return time.Now().Add(-time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	(&env{t: t, kind: e.kind, dsn: e.dsn, db: past}).put("daily", s, "schedule: \"@every 1m\"\n")
	past.Close()
	if err := e.db.SetSpiderFired(ctx, "daily", time.Now().Add(-10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	svc := e.start(e.config())
	deadline := time.Now().Add(20 * time.Second)
	for len(e.runsOf("daily")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no catch-up run after 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	runs := e.runsOf("daily")
	e.waitRun(runs[0].ID, 20*time.Second, final)
	time.Sleep(time.Second)
	if got := len(e.runsOf("daily")); got != 1 {
		t.Fatalf("%d runs after the catch-up, want 1", got)
	}
	sp, _ := e.db.Spider(ctx, "daily")
	if sp.LastFiredAt == nil || time.Since(*sp.LastFiredAt) > time.Minute {
		t.Errorf("LastFiredAt = %v, want the last missed fire, within the last minute", sp.LastFiredAt)
	}
	stop(t, svc)
	e.start(e.config())
	time.Sleep(1500 * time.Millisecond)
	if got := len(e.runsOf("daily")); got != 1 {
		t.Errorf("%d runs after a second start, want still 1 (no second catch-up)", got)
	}
}

// TestScheduleFiresOnceAcrossProcesses: three services on one PostgreSQL
// database (a serve and two workers) each know a spider's schedule, but
// it fires once per period, from River's leader. The spider gets its
// schedule after the services started, through one of them only (as the
// API does): the others learn it from their sweep, so it fires whichever
// is the leader.
func TestScheduleFiresOnceAcrossProcesses(t *testing.T) {
	t.Parallel()
	const period = time.Second
	e := newPGEnv(t)
	s := newSite(t, 2, 0)
	var svcs []*jobs.Service
	for range 3 {
		cfg := e.config()
		cfg.SweepInterval = 200 * time.Millisecond
		jobs.SetScheduleFunc(&cfg, func(*spider.Spider) river.PeriodicSchedule { return river.PeriodicInterval(period) })
		svcs = append(svcs, e.start(cfg))
	}
	e.put("once", s, "schedule: \"@every 1h\"\n")
	if err := svcs[0].SyncSchedule(context.Background(), "once"); err != nil {
		t.Fatal(err)
	}
	// River elects its leader within a few seconds of the start.
	deadline := time.Now().Add(30 * time.Second)
	runs := e.runsOf("once")
	for ; len(runs) < 4; runs = e.runsOf("once") {
		if time.Now().After(deadline) {
			t.Fatalf("%d runs after 30s of a schedule every %v across three services, want 4", len(runs), period)
		}
		time.Sleep(50 * time.Millisecond)
	}
	created := make([]time.Time, len(runs))
	for i, r := range runs {
		created[i] = r.CreatedAt
	}
	slices.SortFunc(created, time.Time.Compare)
	for i := 1; i < len(created); i++ {
		if gap := created[i].Sub(created[i-1]); gap < period/2 {
			t.Errorf("runs %d and %d were created %v apart: the schedule fired more than once in a period", i-1, i, gap)
		}
	}
	var skipped int64
	for _, svc := range svcs {
		skipped += svc.SkippedFires()
	}
	if skipped != 0 {
		t.Errorf("%d fires skipped: a fire met a run of another fire of the same period", skipped)
	}
}
