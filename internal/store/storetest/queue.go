package storetest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func createQueued(t *testing.T, s store.Store, name string, runAt *time.Time, exclusive bool) (*trawl.Run, error) {
	t.Helper()
	return s.CreateRun(context.Background(), store.CreateRunParams{
		Spider: name, SpecHash: "h1", Spec: []byte("name: " + name), Columns: []string{"title"},
		StartURLs: urls("h", 0, "/", "/x"), Queued: true, RunAt: runAt, Exclusive: exclusive,
	})
}

// A queued run keeps its start URLs and run_at, is not resumable, and
// StartRun takes it up once.
func testQueuedRun(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	r, err := createQueued(t, s, "a", &at, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != trawl.RunQueued || r.StartedAt != nil || r.RunAt == nil || !r.RunAt.Equal(at) || r.Dataset != "a" {
		t.Fatalf("queued run = %+v, want queued, not started, run_at %v, dataset a", r, at)
	}
	if spec, err := s.RunSpec(ctx, r.ID); err != nil || string(spec) != "name: a" {
		t.Errorf("RunSpec = %q, %v; want the source it was created with", spec, err)
	}
	if _, err := s.RunSpec(ctx, 999); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("RunSpec(999) = %v, want not_found", err)
	}
	if r.Stats.Queued != 2 || len(mustQueued(t, s, r.ID, "h")) != 2 {
		t.Errorf("queued run admitted %d start URLs, want 2", r.Stats.Queued)
	}
	if _, err := s.ResumableRun(ctx, "a", "h1"); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("ResumableRun with only a queued run = %v, want not_found", err)
	}
	act, err := s.ActiveRun(ctx, "a")
	if err != nil || act.ID != r.ID {
		t.Errorf("ActiveRun = %v, %v; want run %d", act, err, r.ID)
	}
	started, err := s.StartRun(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if started.Status != trawl.RunRunning || started.StartedAt == nil || started.RunAt == nil || !started.RunAt.Equal(at) {
		t.Errorf("started run = %+v, want running with a start time and run_at kept", started)
	}
	again, err := s.StartRun(ctx, r.ID)
	if err != nil || again.Status != trawl.RunRunning || !again.StartedAt.Equal(*started.StartedAt) {
		t.Errorf("StartRun of a running run = %+v, %v; want it as it was", again, err)
	}
	if res, err := s.ResumableRun(ctx, "a", "h1"); err != nil || res.ID != r.ID {
		t.Errorf("ResumableRun after StartRun = %v, %v; want run %d", res, err, r.ID)
	}
	if err := s.FinishRun(ctx, r.ID, trawl.RunSucceeded, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartRun(ctx, r.ID); trawl.ErrorCode(err) != trawl.ECONFLICT {
		t.Errorf("StartRun of a finished run = %v, want conflict", err)
	}
	if _, err := s.StartRun(ctx, 999); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("StartRun(999) = %v, want not_found", err)
	}
	if _, err := s.ActiveRun(ctx, "a"); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("ActiveRun after finish = %v, want not_found", err)
	}
	// A run created running has no run_at.
	if r := mustCreate(t, s, "b", nil); r.RunAt != nil || r.Dataset != "b" || r.StartedAt == nil {
		t.Errorf("running run = %+v, want no run_at, dataset b, started", r)
	}
}

// Exclusive refuses a second active run of a spider, naming the first.
func testCreateExclusive(t *testing.T, s store.Store) {
	ctx := context.Background()
	first, err := createQueued(t, s, "a", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = createQueued(t, s, "a", nil, true)
	if trawl.ErrorCode(err) != trawl.ECONFLICT || !strings.Contains(err.Error(), strconv.FormatInt(first.ID, 10)) {
		t.Fatalf("second exclusive CreateRun = %v, want conflict naming run %d", err, first.ID)
	}
	if _, err := createQueued(t, s, "b", nil, true); err != nil {
		t.Errorf("exclusive CreateRun of another spider: %v", err)
	}
	if _, err := s.StartRun(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := createQueued(t, s, "a", nil, true); trawl.ErrorCode(err) != trawl.ECONFLICT {
		t.Errorf("exclusive CreateRun while a run is running = %v, want conflict", err)
	}
	if _, err := createQueued(t, s, "a", nil, false); err != nil {
		t.Errorf("non-exclusive CreateRun: %v", err)
	}
	for _, st := range []trawl.RunStatus{trawl.RunQueued, trawl.RunRunning} {
		runs, err := s.Runs(ctx, store.RunQuery{Spider: "a", Status: st})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if err := s.FinishRun(ctx, r.ID, trawl.RunFailed, "x"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := createQueued(t, s, "a", nil, true); err != nil {
		t.Errorf("exclusive CreateRun once the others finished: %v", err)
	}
}

func testCancelRun(t *testing.T, s store.Store) {
	ctx := context.Background()
	q, err := createQueued(t, s, "a", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.CancelRun(ctx, q.ID)
	if err != nil || got.Status != trawl.RunCanceled || got.FinishedAt == nil {
		t.Fatalf("CancelRun(queued) = %+v, %v; want canceled and finished", got, err)
	}
	if _, err := s.CancelRun(ctx, q.ID); trawl.ErrorCode(err) != trawl.ECONFLICT {
		t.Errorf("CancelRun(canceled) = %v, want conflict", err)
	}
	if _, err := s.StartRun(ctx, q.ID); trawl.ErrorCode(err) != trawl.ECONFLICT {
		t.Errorf("StartRun(canceled) = %v, want conflict", err)
	}
	r := mustCreate(t, s, "b", urls("h", 0, "/"))
	if r.CancelRequested {
		t.Fatal("new run has CancelRequested")
	}
	for range 2 {
		got, err = s.CancelRun(ctx, r.ID)
		if err != nil || got.Status != trawl.RunRunning || !got.CancelRequested || got.FinishedAt != nil {
			t.Fatalf("CancelRun(running) = %+v, %v; want still running with CancelRequested", got, err)
		}
	}
	if got, _ := s.Run(ctx, r.ID); !got.CancelRequested {
		t.Error("Run does not show CancelRequested")
	}
	if err := s.FinishRun(ctx, r.ID, trawl.RunCanceled, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CancelRun(ctx, r.ID); trawl.ErrorCode(err) != trawl.ECONFLICT {
		t.Errorf("CancelRun(finished) = %v, want conflict", err)
	}
	if _, err := s.CancelRun(ctx, 999); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("CancelRun(999) = %v, want not_found", err)
	}
}

func testSpiderFired(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.SetSpiderFired(ctx, "nope", time.Now()); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("SetSpiderFired(unknown) = %v, want not_found", err)
	}
	put := func(src string) {
		t.Helper()
		if _, _, err := s.PutSpider(ctx, store.PutSpiderParams{Name: "a", Source: []byte(src), Format: store.FormatYAML, Hash: src}); err != nil {
			t.Fatal(err)
		}
	}
	put("v1")
	if sp, _ := s.Spider(ctx, "a"); sp.LastFiredAt != nil {
		t.Errorf("new spider LastFiredAt = %v, want nil", sp.LastFiredAt)
	}
	at := time.Date(2030, 5, 6, 7, 8, 0, 0, time.UTC)
	if err := s.SetSpiderFired(ctx, "a", at); err != nil {
		t.Fatal(err)
	}
	put("v2")
	sp, err := s.Spider(ctx, "a")
	if err != nil || sp.LastFiredAt == nil || !sp.LastFiredAt.Equal(at) {
		t.Errorf("LastFiredAt after a put = %v, %v; want %v kept", sp.LastFiredAt, err, at)
	}
	list, err := s.Spiders(ctx, store.SpiderQuery{})
	if err != nil || len(list) != 1 || list[0].LastFiredAt == nil || !list[0].LastFiredAt.Equal(at) {
		t.Errorf("Spiders = %+v, %v; want LastFiredAt %v", list, err, at)
	}
}
