package storetest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

var leaseEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func mustClaim(t *testing.T, s store.Store, runID int64, worker string, max int, ttl time.Duration) []store.HostLease {
	t.Helper()
	l, err := s.ClaimHosts(context.Background(), runID, worker, max, ttl)
	if err != nil {
		t.Fatalf("ClaimHosts(%s): %v", worker, err)
	}
	return l
}

func leaseHosts(ls []store.HostLease) []string {
	out := []string{}
	for _, l := range ls {
		out = append(out, l.Host)
	}
	return out
}

func mustRenew(t *testing.T, s store.Store, runID int64, worker string, hosts []string, ttl time.Duration) []string {
	t.Helper()
	lost, err := s.RenewHosts(context.Background(), runID, worker, hosts, ttl)
	if err != nil {
		t.Fatalf("RenewHosts(%s): %v", worker, err)
	}
	if lost == nil {
		lost = []string{}
	}
	sort.Strings(lost)
	return lost
}

// samePace compares paces with times by instant.
var samePace = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

// testLeaseRoundTrip claims, renews and releases hosts: claims are
// exclusive, offered by name when no pace says otherwise, carry the
// store's expiry and a first fencing token, and a released host is
// claimable again at once.
func testLeaseRoundTrip(t *testing.T, open OpenFunc) {
	ctx := context.Background()
	clock := newFakeClock(leaseEpoch)
	s := open(t, clock.Now)
	var start []store.NewURL
	for _, h := range []string{"c", "a", "b"} {
		start = append(start, urls(h, 0, "/", "/2")...)
	}
	r := mustCreate(t, s, "a", start)
	const ttl = 30 * time.Second

	got := mustClaim(t, s, r.ID, "w1", 2, ttl)
	want := []store.HostLease{
		{Host: "a", Worker: "w1", Expires: clock.Now().Add(ttl), Token: 1},
		{Host: "b", Worker: "w1", Expires: clock.Now().Add(ttl), Token: 1},
	}
	if diff := cmp.Diff(want, got, samePace); diff != "" {
		t.Fatalf("first claim (-want +got):\n%s", diff)
	}
	if got := leaseHosts(mustClaim(t, s, r.ID, "w2", 10, ttl)); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("second claim = %v, want [c]", got)
	}
	if got := mustClaim(t, s, r.ID, "w3", 10, ttl); len(got) != 0 {
		t.Fatalf("claim with every host leased = %v, want none", leaseHosts(got))
	}

	// Renewing extends what w1 holds and reports what it never held.
	clock.Advance(20 * time.Second)
	if lost := mustRenew(t, s, r.ID, "w1", []string{"a", "b", "c", "zzz"}, ttl); !slices.Equal(lost, []string{"c", "zzz"}) {
		t.Errorf("renew of w1 lost %v, want [c zzz]", lost)
	}
	// 40 s after the claims: c (w2, not renewed) expired, a and b (renewed
	// at 20 s) hold until 50 s.
	clock.Advance(20 * time.Second)
	if got := mustClaim(t, s, r.ID, "w3", 10, ttl); len(got) != 1 || got[0].Host != "c" || got[0].Token != 2 {
		t.Fatalf("claim after c expired = %+v, want c with token 2", got)
	}

	// A release hands the host back at once.
	if err := s.ReleaseHosts(ctx, r.ID, "w1", []store.HostRelease{{Host: "a"}}); err != nil {
		t.Fatalf("ReleaseHosts: %v", err)
	}
	if lost := mustRenew(t, s, r.ID, "w1", []string{"a", "b"}, ttl); !slices.Equal(lost, []string{"a"}) {
		t.Errorf("renew after releasing a lost %v, want [a]", lost)
	}
	got = mustClaim(t, s, r.ID, "w4", 10, ttl)
	if len(got) != 1 || got[0].Host != "a" || got[0].Token != 2 || got[0].Worker != "w4" || !got[0].Expires.Equal(clock.Now().Add(ttl)) {
		t.Fatalf("claim after release = %+v, want a for w4 with token 2", got)
	}

	for _, bad := range []struct {
		name   string
		worker string
		max    int
		ttl    time.Duration
	}{{"empty worker", "", 1, ttl}, {"max 0", "w", 0, ttl}, {"ttl 0", "w", 1, 0}} {
		if _, err := s.ClaimHosts(ctx, r.ID, bad.worker, bad.max, bad.ttl); trawl.ErrorCode(err) != trawl.EINVALID {
			t.Errorf("ClaimHosts with %s: %v, want invalid", bad.name, err)
		}
	}
	if _, err := s.RenewHosts(ctx, r.ID, "w1", []string{"b"}, 0); trawl.ErrorCode(err) != trawl.EINVALID {
		t.Errorf("RenewHosts with ttl 0: %v, want invalid", err)
	}
	if err := s.ReleaseHosts(ctx, r.ID, "", []store.HostRelease{{Host: "b"}}); trawl.ErrorCode(err) != trawl.EINVALID {
		t.Errorf("ReleaseHosts without a worker: %v, want invalid", err)
	}
	if got, err := s.ClaimHosts(ctx, r.ID+1000, "w", 10, ttl); err != nil || len(got) != 0 {
		t.Errorf("ClaimHosts of an unknown run = %v, %v; want none", got, err)
	}
}

// testClaimConcurrently claims the 50 hosts of one run from many
// goroutines at once, each claiming a few at a time until nothing is
// left: every host is claimed exactly once.
func testClaimConcurrently(t *testing.T, s store.Store) {
	const (
		hosts    = 50
		claimers = 12
		perClaim = 3
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var start []store.NewURL
	for i := range hosts {
		start = append(start, urls(fmt.Sprintf("h%02d", i), 0, "/", "/2")...)
	}
	r := mustCreate(t, s, "a", start)
	var (
		mu      sync.Mutex
		claimed = map[string][]string{}
		wg      sync.WaitGroup
		errs    = make(chan error, claimers)
	)
	for w := range claimers {
		worker := fmt.Sprintf("w%d", w)
		wg.Go(func() {
			for range hosts { // bounded: every claim but the last takes a host
				got, err := s.ClaimHosts(ctx, r.ID, worker, perClaim, time.Minute)
				if err != nil {
					errs <- fmt.Errorf("%s: %w", worker, err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, l := range got {
					claimed[l.Host] = append(claimed[l.Host], fmt.Sprintf("%s/%d", l.Worker, l.Token))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("ClaimHosts: %v", err)
	}
	for i := range hosts {
		h := fmt.Sprintf("h%02d", i)
		if c := claimed[h]; len(c) != 1 {
			t.Errorf("host %s claimed %d times (%v), want once", h, len(c), c)
		}
	}
	if len(claimed) != hosts {
		t.Errorf("%d hosts claimed, want %d", len(claimed), hosts)
	}
	if got := mustClaim(t, s, r.ID, "late", hosts, time.Minute); len(got) != 0 {
		t.Errorf("a claim after all were taken got %v", leaseHosts(got))
	}
}

// testLeaseExpiry: a worker that stops renewing (killed) loses its host
// when the lease expires; another worker claims it with a higher fencing
// token, the old worker's renewal reports it lost and its late release
// changes nothing.
func testLeaseExpiry(t *testing.T, open OpenFunc) {
	ctx := context.Background()
	clock := newFakeClock(leaseEpoch)
	s := open(t, clock.Now)
	r := mustCreate(t, s, "a", append(urls("h", 0, "/"), urls("g", 0, "/")...))
	const ttl = 10 * time.Second
	old := mustClaim(t, s, r.ID, "w1", 10, ttl)
	if len(old) != 2 {
		t.Fatalf("claim = %v, want g and h", leaseHosts(old))
	}
	clock.Advance(ttl - time.Millisecond)
	if got := mustClaim(t, s, r.ID, "w2", 10, ttl); len(got) != 0 {
		t.Fatalf("claim before expiry = %v, want none", leaseHosts(got))
	}
	// g's lease expires without anyone reclaiming it: still lost.
	clock.Advance(time.Millisecond)
	if lost := mustRenew(t, s, r.ID, "w1", []string{"g"}, ttl); !slices.Equal(lost, []string{"g"}) {
		t.Errorf("renewal at expiry lost %v, want [g]", lost)
	}
	got := mustClaim(t, s, r.ID, "w2", 10, ttl)
	if diff := cmp.Diff([]string{"g", "h"}, leaseHosts(got)); diff != "" {
		t.Fatalf("reclaim after expiry (-want +got):\n%s", diff)
	}
	for i, l := range got {
		if l.Token <= old[i].Token || l.Worker != "w2" {
			t.Errorf("reclaimed %s: worker %s token %d, want w2 with a token above %d", l.Host, l.Worker, l.Token, old[i].Token)
		}
	}
	if lost := mustRenew(t, s, r.ID, "w1", []string{"g", "h"}, ttl); !slices.Equal(lost, []string{"g", "h"}) {
		t.Errorf("old worker's renewal lost %v, want [g h]", lost)
	}
	if err := s.ReleaseHosts(ctx, r.ID, "w1", []store.HostRelease{{Host: "h", Pace: store.HostPace{Failures: 9}}}); err != nil {
		t.Fatalf("late ReleaseHosts: %v", err)
	}
	if lost := mustRenew(t, s, r.ID, "w2", []string{"g", "h"}, ttl); len(lost) != 0 {
		t.Errorf("new holder's renewal lost %v, want none", lost)
	}
	if got := mustClaim(t, s, r.ID, "w3", 10, ttl); len(got) != 0 {
		t.Errorf("claim while w2 holds both = %v, want none", leaseHosts(got))
	}
	// w2 dies too: the pace w1 tried to release late was not stored.
	clock.Advance(ttl)
	for _, l := range mustClaim(t, s, r.ID, "w3", 10, ttl) {
		if l.Pace != (store.HostPace{}) || l.Token != 3 {
			t.Errorf("third claim of %s = %+v, want token 3 and no pace", l.Host, l)
		}
	}
}

// testLeasePace: the pace a worker releases a host with is what the next
// claimer gets, also after that one's lease expired; the host is not
// offered before its NotBefore.
func testLeasePace(t *testing.T, open OpenFunc) {
	ctx := context.Background()
	clock := newFakeClock(leaseEpoch)
	s := open(t, clock.Now)
	r := mustCreate(t, s, "a", append(urls("h", 0, "/"), urls("g", 0, "/")...))
	const ttl = time.Minute
	mustClaim(t, s, r.ID, "w1", 10, ttl)
	pace := store.HostPace{NotBefore: clock.Now().Add(5 * time.Second), Delay: 1500 * time.Millisecond, Allowance: 1, Failures: 3}
	if err := s.ReleaseHosts(ctx, r.ID, "w1", []store.HostRelease{{Host: "h", Pace: pace}, {Host: "g"}}); err != nil {
		t.Fatalf("ReleaseHosts: %v", err)
	}
	// g is due, h is not yet.
	if got := leaseHosts(mustClaim(t, s, r.ID, "w2", 10, ttl)); !slices.Equal(got, []string{"g"}) {
		t.Fatalf("claim before h's not-before = %v, want [g]", got)
	}
	clock.Advance(5*time.Second - time.Millisecond)
	if got := mustClaim(t, s, r.ID, "w2", 10, ttl); len(got) != 0 {
		t.Fatalf("claim 1 ms before h's not-before = %v, want none", leaseHosts(got))
	}
	clock.Advance(time.Millisecond)
	got := mustClaim(t, s, r.ID, "w2", 10, ttl)
	want := []store.HostLease{{Host: "h", Worker: "w2", Expires: clock.Now().Add(ttl), Token: 2, Pace: pace}}
	if diff := cmp.Diff(want, got, samePace); diff != "" {
		t.Fatalf("claim after release (-want +got):\n%s", diff)
	}
	// w2 is killed: its leases expire, h's pace stays as w1 left it.
	clock.Advance(ttl)
	got = mustClaim(t, s, r.ID, "w3", 10, ttl)
	if diff := cmp.Diff([]string{"g", "h"}, leaseHosts(got)); diff != "" {
		t.Fatalf("claim after w2 died (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(pace, got[1].Pace, samePace); diff != "" {
		t.Errorf("pace of h after expiry (-want +got):\n%s", diff)
	}
	// A release without a pace resets it.
	if err := s.ReleaseHosts(ctx, r.ID, "w3", []store.HostRelease{{Host: "h"}}); err != nil {
		t.Fatal(err)
	}
	got = mustClaim(t, s, r.ID, "w4", 10, ttl)
	if len(got) != 1 || got[0].Host != "h" || got[0].Pace != (store.HostPace{}) || got[0].Token != 4 {
		t.Errorf("claim after a release without pace = %+v, want h with token 4 and no pace", got)
	}
}

// testLeaseNeedsQueuedPages: only hosts with queued pages of the run are
// claimed; a host whose last page is done is not, nor a host of another
// run.
func testLeaseNeedsQueuedPages(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := mustCreate(t, s, "a", append(urls("done", 0, "/"), urls("todo", 0, "/")...))
	other := mustCreate(t, s, "b", urls("elsewhere", 0, "/"))
	p := mustQueued(t, s, r.ID, "done")[0]
	if _, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Pages: []store.PageResult{{PageID: p.ID, Status: 200, Attempts: 1}}}); err != nil {
		t.Fatal(err)
	}
	if got := leaseHosts(mustClaim(t, s, r.ID, "w", 10, time.Minute)); !slices.Equal(got, []string{"todo"}) {
		t.Errorf("claim = %v, want [todo]", got)
	}
	if got := leaseHosts(mustClaim(t, s, other.ID, "w", 10, time.Minute)); !slices.Equal(got, []string{"elsewhere"}) {
		t.Errorf("claim of the other run = %v, want [elsewhere]", got)
	}
	// Pages admitted later make their host claimable.
	q := mustQueued(t, s, r.ID, "todo")[0]
	if _, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Pages: []store.PageResult{{PageID: q.ID, Status: 200, Attempts: 1, Links: urls("new", 1, "/")}}}); err != nil {
		t.Fatal(err)
	}
	if got := leaseHosts(mustClaim(t, s, r.ID, "w", 10, time.Minute)); !slices.Equal(got, []string{"new"}) {
		t.Errorf("claim after new links = %v, want [new]", got)
	}
}

// testDeferPages: a page's attempts and not-before time persist, so a
// retry one worker scheduled is honoured by whichever fetches it next;
// pages without a not-before behave as before, and a host whose queued
// pages are all deferred is not claimed until one is due.
func testDeferPages(t *testing.T, open OpenFunc) {
	ctx := context.Background()
	clock := newFakeClock(leaseEpoch)
	s := open(t, clock.Now)
	r := mustCreate(t, s, "a", append(urls("h", 0, "/1", "/2", "/3"), urls("g", 0, "/")...))
	pages := mustQueued(t, s, r.ID, "h")
	if len(pages) != 3 || pages[0].Attempts != 0 {
		t.Fatalf("queued = %+v, want 3 pages never tried", pages)
	}
	g := mustQueued(t, s, r.ID, "g")[0]
	if _, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Pages: []store.PageResult{{PageID: g.ID, Status: 200, Attempts: 1}}}); err != nil {
		t.Fatal(err)
	}
	err := s.DeferPages(ctx, r.ID, []store.PageDefer{
		{PageID: pages[0].ID, Attempts: 2, NotBefore: clock.Now().Add(10 * time.Second)},
		{PageID: pages[1].ID, Attempts: 1},                                 // a retry due at once
		{PageID: g.ID, Attempts: 5, NotBefore: clock.Now().Add(time.Hour)}, // done: left alone
	})
	if err != nil {
		t.Fatalf("DeferPages: %v", err)
	}
	ids := func(ps []store.Page) (out []string) {
		for _, p := range ps {
			out = append(out, fmt.Sprintf("%s#%d", p.URL, p.Attempts))
		}
		return out
	}
	if diff := cmp.Diff([]string{"http://h/2#1", "http://h/3#0"}, ids(mustQueued(t, s, r.ID, "h"))); diff != "" {
		t.Errorf("queued while /1 is deferred (-want +got):\n%s", diff)
	}
	if got := mustQueued(t, s, r.ID, "g"); len(got) != 0 {
		t.Errorf("a done page came back: %+v", got)
	}
	if failed, _ := s.FailedPages(ctx, r.ID, 10); len(failed) != 0 {
		t.Errorf("FailedPages = %+v, want none", failed)
	}
	// Every queued page of h deferred: h is not claimed until one is due.
	if err := s.DeferPages(ctx, r.ID, []store.PageDefer{
		{PageID: pages[1].ID, Attempts: 2, NotBefore: clock.Now().Add(20 * time.Second)},
		{PageID: pages[2].ID, Attempts: 1, NotBefore: clock.Now().Add(20 * time.Second)},
	}); err != nil {
		t.Fatal(err)
	}
	if got := mustClaim(t, s, r.ID, "w", 10, time.Minute); len(got) != 0 {
		t.Errorf("claim with every page deferred = %v, want none", leaseHosts(got))
	}
	clock.Advance(10 * time.Second)
	if diff := cmp.Diff([]string{"http://h/1#2"}, ids(mustQueued(t, s, r.ID, "h"))); diff != "" {
		t.Errorf("queued once /1 is due (-want +got):\n%s", diff)
	}
	if got := leaseHosts(mustClaim(t, s, r.ID, "w", 10, time.Minute)); !slices.Equal(got, []string{"h"}) {
		t.Errorf("claim once /1 is due = %v, want [h]", got)
	}
	clock.Advance(10 * time.Second)
	if diff := cmp.Diff([]string{"http://h/1#2", "http://h/2#2", "http://h/3#1"}, ids(mustQueued(t, s, r.ID, "h"))); diff != "" {
		t.Errorf("queued once all are due (-want +got):\n%s", diff)
	}
	// The commit's attempts are the final ones.
	if _, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", Pages: []store.PageResult{{PageID: pages[0].ID, Status: 503, ErrorClass: "http_5xx", Attempts: 3}}}); err != nil {
		t.Fatal(err)
	}
	if failed, err := s.FailedPages(ctx, r.ID, 10); err != nil || len(failed) != 1 || failed[0].Attempts != 3 {
		t.Errorf("FailedPages = %+v, %v; want /1 with 3 attempts", failed, err)
	}
}
