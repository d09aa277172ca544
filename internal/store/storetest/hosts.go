package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// testRunHosts: commits add hosts' counters, keep the worst robots state,
// replace the pace, and count failed pages by host and class, also for a
// host that only failed and for replayed pages not twice.
func testRunHosts(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := mustCreate(t, s, "a", append(urls("h", 0, "/1", "/2"), urls("g", 0, "/1")...))
	if got, err := s.RunHosts(ctx, r.ID); err != nil || len(got) != 0 {
		t.Fatalf("RunHosts of a new run = %v, %v; want none", got, err)
	}
	hp, gp := mustQueued(t, s, r.ID, "h"), mustQueued(t, s, r.ID, "g")

	h1 := store.HostStats{Host: "h", Requests: 3, Status: store.StatusCounts{S2xx: 1, S5xx: 1, None: 1}, Throttled: 1,
		Robots: store.RobotsDisallowedSome, InFlight: 2, Delay: 1500 * time.Millisecond}
	h1.ObserveLatency(3 * time.Millisecond)
	h1.ObserveLatency(40 * time.Millisecond)
	first := store.CommitParams{RunID: r.ID, Dataset: "a", Hosts: []store.HostStats{h1}, Pages: []store.PageResult{
		{PageID: hp[0].ID, Status: 200, Attempts: 1, Host: "h"},
		{PageID: hp[1].ID, Status: 503, ErrorClass: "http_5xx", Attempts: 2, Host: "h"},
		{PageID: gp[0].ID, ErrorClass: "connect", Attempts: 1, Host: "g"},
	}}
	if _, err := s.CommitPages(ctx, first); err != nil {
		t.Fatalf("CommitPages: %v", err)
	}
	h2 := store.HostStats{Host: "h", Requests: 1, Status: store.StatusCounts{S2xx: 1}, Robots: store.RobotsAllowed, InFlight: 0,
		Delay: 100 * time.Millisecond, Down: true}
	h2.ObserveLatency(40 * time.Millisecond)
	// A commit without pages carries hosts too; the replayed page of the
	// first commit is not counted again.
	if _, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Hosts: []store.HostStats{h2}, Pages: first.Pages[1:2]}); err != nil {
		t.Fatalf("CommitPages: %v", err)
	}
	got, err := s.RunHosts(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantH := store.HostStats{Host: "h", Requests: 4, Status: store.StatusCounts{S2xx: 2, S5xx: 1, None: 1}, Throttled: 1,
		Errors: map[string]int64{"http_5xx": 1}, Robots: store.RobotsDisallowedSome, InFlight: 0, Delay: 100 * time.Millisecond, Down: true}
	wantH.Latency[0], wantH.Latency[3] = 1, 2
	want := []store.HostStats{
		{Host: "g", Errors: map[string]int64{"connect": 1}, Robots: store.RobotsNotChecked},
		wantH,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RunHosts (-want +got):\n%s", diff)
	}
	if q := got[1].LatencyQuantile(0.5); q <= 25*time.Millisecond || q > 50*time.Millisecond {
		t.Errorf("p50 = %v, want in (25ms, 50ms]", q)
	}
	if _, err := s.RunHosts(ctx, r.ID+100); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("RunHosts of an unknown run: %v, want not_found", err)
	}
}

// testRunSamples: samples are taken at most once per interval unless
// forced, hold the statistics after the commit, and are thinned past
// store.MaxSamples with the interval doubled, the last sample kept.
func testRunSamples(t *testing.T, open OpenFunc) {
	ctx := context.Background()
	clock := newFakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	s := open(t, clock.Now)
	r := mustCreate(t, s, "a", urls("h", 0, "/"))
	got, err := s.RunSamples(ctx, r.ID)
	if err != nil || got.Interval != time.Second || len(got.Points) != 0 {
		t.Fatalf("RunSamples of a new run = %+v, %v; want none at 1s", got, err)
	}
	p := mustQueued(t, s, r.ID, "h")[0]
	commit := func(mode store.SampleMode, pages ...store.PageResult) {
		t.Helper()
		if _, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Sample: mode, Pages: pages}); err != nil {
			t.Fatal(err)
		}
	}
	commit(store.SampleIfDue, store.PageResult{PageID: p.ID, ErrorClass: "timeout", Bytes: 7})
	clock.Advance(500 * time.Millisecond)
	commit(store.SampleIfDue) // not due
	commit(store.SampleNone)
	clock.Advance(600 * time.Millisecond)
	commit(store.SampleIfDue)
	commit(store.SampleNow)
	got, err = s.RunSamples(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	one := func(at time.Time) store.Sample {
		return store.Sample{At: at, Pages: 1, Bytes: 7, Errors: map[string]int64{"timeout": 1}}
	}
	want := &store.Samples{Interval: time.Second, Points: []store.Sample{one(t0), one(t0.Add(1100 * time.Millisecond))}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RunSamples (-want +got):\n%s", diff)
	}

	for range store.MaxSamples + 10 {
		clock.Advance(time.Second)
		commit(store.SampleIfDue)
	}
	got, err = s.RunSamples(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got.Points); n > store.MaxSamples || n < store.MaxSamples/2 {
		t.Errorf("%d samples after %d seconds, want between %d and %d", n, store.MaxSamples+11, store.MaxSamples/2, store.MaxSamples)
	}
	if got.Interval != 2*time.Second {
		t.Errorf("interval = %v, want 2s", got.Interval)
	}
	if last := got.Points[len(got.Points)-1].At; clock.Now().Sub(last) >= got.Interval {
		t.Errorf("last sample at %v, want within %v of the last commit's %v", last, got.Interval, clock.Now())
	}
	for i := 1; i < len(got.Points)-1; i++ {
		if d := got.Points[i].At.Sub(got.Points[i-1].At); d < got.Interval {
			t.Fatalf("samples %d and %d are %v apart, less than the interval %v", i-1, i, d, got.Interval)
		}
	}
	if _, err := s.RunSamples(ctx, r.ID+100); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("RunSamples of an unknown run: %v, want not_found", err)
	}
}
