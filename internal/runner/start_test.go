package runner_test

import (
	"context"
	"errors"
	"testing"

	"github.com/trawl-dev/trawl/internal/runner"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// crawlToEnd crawls r with the real engine and records its end.
func crawlToEnd(t *testing.T, b *bundle, r *runner.Run) *runner.Outcome {
	t.Helper()
	res, runErr := r.Crawl(context.Background(), b.engine, nil)
	out, err := r.Finish(context.Background(), res, runErr)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return out
}

func mustStart(t *testing.T, b *bundle, sp *spider.Spider, o runner.Options) *runner.Run {
	t.Helper()
	r, err := runner.Start(context.Background(), b.db, sp, o)
	if err != nil {
		t.Fatalf("Start(%+v): %v", o, err)
	}
	t.Cleanup(r.Close)
	return r
}

// TestStartResumeOrCreate: Start resumes the newest unfinished run of the
// spider as it is, and creates one otherwise or when told to.
func TestStartResumeOrCreate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := newSite(t, false)
	sp := mustSpider(t, s.URL, "")

	first := mustStart(t, b, sp, runner.Options{})
	if first.Origin != runner.Created || first.Initial.Status != trawl.RunRunning || first.Initial.Stats.Queued != 1 {
		t.Fatalf("first Start: origin %v, run %+v; want a created running run with its start URL queued", first.Origin, first.Initial)
	}
	// Not crawled, so still unfinished: resumed.
	if r := mustStart(t, b, sp, runner.Options{}); r.Origin != runner.Resumed || r.ID() != first.ID() {
		t.Errorf("second Start: origin %v, run %d; want run %d resumed", r.Origin, r.ID(), first.ID())
	}
	restarted := mustStart(t, b, sp, runner.Options{Restart: true})
	if restarted.Origin != runner.Created || restarted.ID() == first.ID() {
		t.Errorf("Start with Restart: origin %v, run %d; want a new run", restarted.Origin, restarted.ID())
	}
	// The newest unfinished run is the one resumed.
	if r := mustStart(t, b, sp, runner.Options{}); r.ID() != restarted.ID() {
		t.Errorf("Start after a restart resumed run %d, want the newest, %d", r.ID(), restarted.ID())
	}
	// A changed spider does not resume runs of its old version.
	changed := mustStart(t, b, mustSpider(t, s.URL, "limits: {max_depth: 5}\n"), runner.Options{})
	if changed.Origin != runner.Created || changed.ID() == first.ID() || changed.ID() == restarted.ID() {
		t.Errorf("Start of a changed spider: origin %v, run %d; want a new run", changed.Origin, changed.ID())
	}
	// A finished run is not resumed.
	if out := crawlToEnd(t, b, restarted); out.End != runner.Succeeded {
		t.Fatalf("crawl: %v (%v)", out.End, out.Err)
	}
	if r := mustStart(t, b, sp, runner.Options{}); r.ID() != first.ID() {
		t.Errorf("Start after run %d finished took up run %d, want the unfinished run %d", restarted.ID(), r.ID(), first.ID())
	}

	if _, err := runner.Start(context.Background(), b.db, sp, runner.Options{Restart: true, RetryFailed: true}); trawl.ErrorCode(err) != trawl.EINVALID {
		t.Errorf("Start with Restart and RetryFailed: %v, want %s", err, trawl.EINVALID)
	}
}

// TestRetryFailed: RetryFailed fetches again only the failed pages of the
// last run, updating that run, and says why when there is nothing to retry.
func TestRetryFailed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := newSite(t, false)
	sp := mustSpider(t, s.URL, "")
	retry := runner.Options{RetryFailed: true}

	_, err := runner.Start(context.Background(), b.db, sp, retry)
	wantReason(t, "before any run", err, runner.NoRunToRetry)

	run := mustStart(t, b, sp, runner.Options{})
	_, err = runner.Start(context.Background(), b.db, sp, retry)
	wantReason(t, "while the run is unfinished", err, runner.LastRunUnfinished)

	out := crawlToEnd(t, b, run)
	if out.End != runner.Succeeded || out.Result.Stats.Pages != 3 || out.Result.Stats.ErrorCount() != 1 {
		t.Fatalf("first crawl: %v, %+v; want succeeded, 3 pages, 1 error", out.End, out.Result.Stats)
	}
	if len(out.Failed) != 1 || out.Failed[0].URL != s.URL+"/bad" || out.Failed[0].Status != 404 {
		t.Errorf("Outcome.Failed = %+v, want /bad with 404", out.Failed)
	}

	_, err = runner.Start(context.Background(), b.db, mustSpider(t, s.URL, "limits: {max_depth: 5}\n"), retry)
	wantReason(t, "with a changed spider", err, runner.SpiderChanged)

	s.fixed.Store(true)
	r := mustStart(t, b, sp, retry)
	if r.Origin != runner.Retrying || r.ID() != run.ID() || r.Requeued != 1 || r.Initial.Status != trawl.RunRunning {
		t.Fatalf("Start with RetryFailed: origin %v, run %d, requeued %d, status %s; want run %d retrying 1 page",
			r.Origin, r.ID(), r.Requeued, r.Initial.Status, run.ID())
	}
	out = crawlToEnd(t, b, r)
	if out.End != runner.Succeeded || out.Result.Stats.Pages != 3 || out.Result.Stats.ErrorCount() != 0 || out.Result.Stats.Items != 3 {
		t.Errorf("retry crawl: %v, %+v; want succeeded, 3 pages, 3 items, no error", out.End, out.Result.Stats)
	}
	if len(out.Failed) != 0 {
		t.Errorf("Outcome.Failed = %+v, want none", out.Failed)
	}

	_, err = runner.Start(context.Background(), b.db, sp, retry)
	wantReason(t, "after a clean run", err, runner.NoFailedPages)
}

func wantReason(t *testing.T, when string, err error, want runner.RetryReason) {
	t.Helper()
	var re *runner.RetryError
	if !errors.As(err, &re) || re.Reason != want {
		t.Errorf("Start with RetryFailed %s: %v, want a RetryError with reason %d", when, err, want)
	}
}

// TestLockFunc: Start takes the lock before it touches the store and gives
// it back when it fails; Close releases it once.
func TestLockFunc(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := newSite(t, false)
	sp := mustSpider(t, s.URL, "")
	var locked, unlocked int
	var dataset string
	lock := func(_ context.Context, name string) (func(), error) {
		locked++
		dataset = name
		return func() { unlocked++ }, nil
	}

	r, err := runner.Start(context.Background(), b.db, sp, runner.Options{LockFunc: lock})
	if err != nil {
		t.Fatal(err)
	}
	if locked != 1 || unlocked != 0 || dataset != "tiny" {
		t.Errorf("after Start: locked %d, unlocked %d, dataset %q; want locked once, dataset tiny", locked, unlocked, dataset)
	}
	r.Close()
	r.Close()
	if unlocked != 1 {
		t.Errorf("after Close twice: unlocked %d times, want once", unlocked)
	}

	_, err = runner.Start(context.Background(), b.db, sp, runner.Options{LockFunc: lock, RetryFailed: true})
	wantReason(t, "while the run is unfinished", err, runner.LastRunUnfinished)
	if locked != 2 || unlocked != 2 {
		t.Errorf("after a failed Start: locked %d, unlocked %d; want the lock given back", locked, unlocked)
	}

	busy := trawl.Errorf(trawl.ECONFLICT, "dataset tiny is being written")
	_, err = runner.Start(context.Background(), b.db, sp, runner.Options{
		Restart:  true,
		LockFunc: func(context.Context, string) (func(), error) { return nil, busy },
	})
	if !errors.Is(err, busy) {
		t.Errorf("Start with a busy lock: %v, want %v", err, busy)
	}
	runs, err := b.db.Runs(context.Background(), store.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Errorf("%d runs after a Start that could not lock, want 1: a run is chosen only under the lock", len(runs))
	}
}

// TestStartID: a queued run is taken up by ID with its stored spider,
// crawled to the end like any run, and cannot be taken up again.
func TestStartID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	s := newSite(t, false)
	sp := mustSpider(t, s.URL, "")
	q, err := b.db.CreateRun(ctx, store.CreateRunParams{Spider: sp.Name, SpecHash: sp.Hash, Spec: sp.Source,
		Columns: sp.FieldNames(), StartURLs: []store.NewURL{{URL: s.URL + "/", Host: s.Listener.Addr().String()}}, Queued: true})
	if err != nil {
		t.Fatal(err)
	}
	var locked string
	r, err := runner.StartID(ctx, b.db, q.ID, runner.Options{LockFunc: func(_ context.Context, ds string) (func(), error) {
		locked = ds
		return func() {}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if r.Origin != runner.Created || r.Initial.Status != trawl.RunRunning || r.Spider.Hash != sp.Hash || locked != sp.Name {
		t.Fatalf("StartID: origin %v, run %+v, hash %s, locked %q; want a created running run of the stored spider, its dataset locked", r.Origin, r.Initial, r.Spider.Hash, locked)
	}
	again, err := runner.StartID(ctx, b.db, q.ID, runner.Options{})
	if err != nil || again.Origin != runner.Resumed {
		t.Fatalf("StartID of a running run: %v, %v; want it resumed", again, err)
	}
	again.Close()
	if out := crawlToEnd(t, b, r); out.End != runner.Succeeded || out.Result.Stats.Items == 0 {
		t.Fatalf("crawl: %v (%v), stats %+v", out.End, out.Err, out.Result.Stats)
	}
	if _, err := runner.StartID(ctx, b.db, q.ID, runner.Options{}); trawl.ErrorCode(err) != trawl.ECONFLICT {
		t.Errorf("StartID of a finished run = %v, want conflict", err)
	}
	if _, err := runner.StartID(ctx, b.db, 999, runner.Options{}); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("StartID(999) = %v, want not_found", err)
	}
	busy := errors.New("busy")
	if _, err := runner.StartID(ctx, b.db, q.ID, runner.Options{LockFunc: func(context.Context, string) (func(), error) { return nil, busy }}); !errors.Is(err, busy) {
		t.Errorf("StartID with a busy lock = %v, want the lock's error", err)
	}
}
