package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

const robotsOrigin = "http://example.com:80"

func mustClaimRobots(t *testing.T, s store.Store, origin, worker string, ttl time.Duration) *store.RobotsClaim {
	t.Helper()
	c, err := s.ClaimRobots(context.Background(), origin, worker, ttl)
	if err != nil {
		t.Fatalf("ClaimRobots(%s, %s): %v", origin, worker, err)
	}
	return c
}

func mustPutRobots(t *testing.T, s store.Store, origin, worker string, rec *store.RobotsRecord) {
	t.Helper()
	if err := s.PutRobots(context.Background(), origin, worker, rec); err != nil {
		t.Fatalf("PutRobots(%s, %s): %v", origin, worker, err)
	}
}

// equateRecords compares records whatever the time zone and whether an
// empty body reads back as nil or empty.
var equateRecords = cmpopts.EquateEmpty()

// testRobotsClaim: the first caller claims the fetch, everyone else
// (its own worker included) waits while the claim lasts; the record put
// is what every later caller reads, until it expires; then one caller
// claims again and gets the expired record (for its stale rules).
func testRobotsClaim(t *testing.T, open OpenFunc) {
	clock := newFakeClock(leaseEpoch)
	s := open(t, clock.Now)
	const ttl = 15 * time.Second
	c := mustClaimRobots(t, s, robotsOrigin, "w1", ttl)
	want := &store.RobotsClaim{Claimed: true, Holder: "w1", Until: leaseEpoch.Add(ttl)}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Fatalf("first claim (-want +got):\n%s", diff)
	}
	wait := &store.RobotsClaim{Holder: "w1", Until: leaseEpoch.Add(ttl)}
	for _, w := range []string{"w2", "w1"} {
		if diff := cmp.Diff(wait, mustClaimRobots(t, s, robotsOrigin, w, ttl)); diff != "" {
			t.Errorf("claim by %s while w1 fetches (-want +got):\n%s", w, diff)
		}
	}
	// Another origin (another port) is independent.
	if c := mustClaimRobots(t, s, "http://example.com:8080", "w2", ttl); !c.Claimed {
		t.Errorf("claim of another origin = %+v, want claimed", c)
	}

	clock.Advance(time.Second)
	rec := &store.RobotsRecord{
		Status: 200, Body: []byte("User-agent: *\nDisallow: /private\nCrawl-delay: 1\n"),
		FetchedAt: clock.Now(), Expires: clock.Now().Add(time.Hour),
	}
	mustPutRobots(t, s, robotsOrigin, "w1", rec)
	for _, w := range []string{"w2", "w3", "w1"} {
		got := mustClaimRobots(t, s, robotsOrigin, w, ttl)
		if diff := cmp.Diff(&store.RobotsClaim{Record: rec}, got, equateRecords); diff != "" {
			t.Errorf("claim by %s after the put (-want +got):\n%s", w, diff)
		}
	}

	// Just before expiry the record is fresh; at expiry it is claimed again.
	clock.Advance(time.Hour - time.Millisecond)
	if got := mustClaimRobots(t, s, robotsOrigin, "w2", ttl); got.Claimed || got.Record == nil {
		t.Fatalf("claim before expiry = %+v, want the fresh record", got)
	}
	clock.Advance(time.Millisecond)
	got := mustClaimRobots(t, s, robotsOrigin, "w2", ttl)
	want = &store.RobotsClaim{Record: rec, Claimed: true, Holder: "w2", Until: clock.Now().Add(ttl)}
	if diff := cmp.Diff(want, got, equateRecords); diff != "" {
		t.Fatalf("claim at expiry (-want +got):\n%s", diff)
	}
	// While w2 fetches, others wait, and do not see the expired record.
	if diff := cmp.Diff(&store.RobotsClaim{Holder: "w2", Until: clock.Now().Add(ttl)}, mustClaimRobots(t, s, robotsOrigin, "w3", ttl)); diff != "" {
		t.Errorf("claim while w2 refetches (-want +got):\n%s", diff)
	}
	// A nil put ends w2's claim and keeps the record: the next caller
	// claims, with the same expired record.
	mustPutRobots(t, s, robotsOrigin, "w2", nil)
	got = mustClaimRobots(t, s, robotsOrigin, "w3", ttl)
	want = &store.RobotsClaim{Record: rec, Claimed: true, Holder: "w3", Until: clock.Now().Add(ttl)}
	if diff := cmp.Diff(want, got, equateRecords); diff != "" {
		t.Fatalf("claim after a nil put (-want +got):\n%s", diff)
	}
	// An unreachable outcome without a body is stored as it is, and
	// replaces the rules.
	failed := &store.RobotsRecord{Status: 503, Class: "http_5xx", Unreachable: true, FetchedAt: clock.Now(), Expires: clock.Now().Add(time.Minute)}
	mustPutRobots(t, s, robotsOrigin, "w3", failed)
	if diff := cmp.Diff(&store.RobotsClaim{Record: failed}, mustClaimRobots(t, s, robotsOrigin, "w1", ttl), equateRecords); diff != "" {
		t.Errorf("claim after an unreachable put (-want +got):\n%s", diff)
	}
}

// testRobotsClaimExpiry: a claimer that dies (never puts) holds the
// origin only until its claim expires; then another worker claims it.
// The dead worker's late put still stores its record (a fetch as good as
// any) but does not end the new holder's claim, and a late nil put by
// the dead worker changes nothing.
func testRobotsClaimExpiry(t *testing.T, open OpenFunc) {
	clock := newFakeClock(leaseEpoch)
	s := open(t, clock.Now)
	const ttl = 10 * time.Second
	mustClaimRobots(t, s, robotsOrigin, "w1", ttl)
	clock.Advance(ttl - time.Millisecond)
	if got := mustClaimRobots(t, s, robotsOrigin, "w2", ttl); got.Claimed || got.Holder != "w1" {
		t.Fatalf("claim before the claim's expiry = %+v, want w1 still holding", got)
	}
	clock.Advance(time.Millisecond)
	got := mustClaimRobots(t, s, robotsOrigin, "w2", ttl)
	if diff := cmp.Diff(&store.RobotsClaim{Claimed: true, Holder: "w2", Until: clock.Now().Add(ttl)}, got); diff != "" {
		t.Fatalf("claim at the claim's expiry (-want +got):\n%s", diff)
	}
	mustPutRobots(t, s, robotsOrigin, "w1", nil)
	if got := mustClaimRobots(t, s, robotsOrigin, "w3", ttl); got.Claimed || got.Holder != "w2" {
		t.Errorf("claim after the dead worker's nil put = %+v, want w2 still holding", got)
	}
	late := &store.RobotsRecord{Status: 404, Class: "http_4xx", FetchedAt: clock.Now(), Expires: clock.Now().Add(time.Hour)}
	mustPutRobots(t, s, robotsOrigin, "w1", late)
	if diff := cmp.Diff(&store.RobotsClaim{Record: late}, mustClaimRobots(t, s, robotsOrigin, "w3", ttl), equateRecords); diff != "" {
		t.Errorf("claim after the dead worker's late put (-want +got):\n%s", diff)
	}
	mine := &store.RobotsRecord{Status: 200, Body: []byte("User-agent: *\nAllow: /\n"), FetchedAt: clock.Now(), Expires: clock.Now().Add(2 * time.Hour)}
	mustPutRobots(t, s, robotsOrigin, "w2", mine)
	clock.Advance(time.Hour) // late's expiry: mine replaced it
	if diff := cmp.Diff(&store.RobotsClaim{Record: mine}, mustClaimRobots(t, s, robotsOrigin, "w3", ttl), equateRecords); diff != "" {
		t.Errorf("claim after w2's put (-want +got):\n%s", diff)
	}
}

// testRobotsClaimConcurrently: many goroutines ask for the robots.txt of
// a few origins at once, each as its own worker; per origin exactly one
// claims it, puts its record, and every other one ends with that record.
func testRobotsClaimConcurrently(t *testing.T, s store.Store) {
	const (
		origins = 4
		workers = 16
		polls   = 2000 // bounds each waiter: 2000 x 5ms = 10s
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var (
		mu      sync.Mutex
		winners = map[string][]string{}
		seen    = map[string]map[string]int{} // origin -> body -> workers
		wg      sync.WaitGroup
		errs    = make(chan error, workers*origins)
	)
	for w := range workers {
		worker := fmt.Sprintf("w%02d", w)
		for o := range origins {
			origin := fmt.Sprintf("http://h%d.example:80", o)
			wg.Go(func() {
				for range polls {
					c, err := s.ClaimRobots(ctx, origin, worker, time.Minute)
					if err != nil {
						errs <- fmt.Errorf("%s %s: %w", worker, origin, err)
						return
					}
					body := ""
					switch {
					case c.Claimed:
						body = "fetched by " + worker
						now := time.Now()
						rec := &store.RobotsRecord{Status: 200, Body: []byte(body), FetchedAt: now, Expires: now.Add(time.Hour)}
						if err := s.PutRobots(ctx, origin, worker, rec); err != nil {
							errs <- fmt.Errorf("%s %s: %w", worker, origin, err)
							return
						}
						mu.Lock()
						winners[origin] = append(winners[origin], worker)
						mu.Unlock()
					case c.Record != nil:
						body = string(c.Record.Body)
					default:
						select {
						case <-ctx.Done():
							errs <- ctx.Err()
							return
						case <-time.After(5 * time.Millisecond):
						}
						continue
					}
					mu.Lock()
					if seen[origin] == nil {
						seen[origin] = map[string]int{}
					}
					seen[origin][body]++
					mu.Unlock()
					return
				}
				errs <- fmt.Errorf("%s %s: no record after %d polls", worker, origin, polls)
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for o := range origins {
		origin := fmt.Sprintf("http://h%d.example:80", o)
		w := winners[origin]
		if len(w) != 1 {
			t.Errorf("%s claimed by %v, want exactly one worker", origin, w)
			continue
		}
		if diff := cmp.Diff(map[string]int{"fetched by " + w[0]: workers}, seen[origin]); diff != "" {
			t.Errorf("%s: bodies seen by the workers (-want +got):\n%s", origin, diff)
		}
	}
}

// testRobotsInvalid: empty names and a non-positive ttl are EINVALID.
func testRobotsInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, tt := range []struct {
		origin, worker string
		ttl            time.Duration
	}{{"", "w", time.Second}, {robotsOrigin, "", time.Second}, {robotsOrigin, "w", 0}} {
		if _, err := s.ClaimRobots(ctx, tt.origin, tt.worker, tt.ttl); trawl.ErrorCode(err) != trawl.EINVALID {
			t.Errorf("ClaimRobots(%q, %q, %v) = %v, want invalid", tt.origin, tt.worker, tt.ttl, err)
		}
	}
	if err := s.PutRobots(ctx, "", "w", nil); trawl.ErrorCode(err) != trawl.EINVALID {
		t.Errorf("PutRobots with an empty origin = %v, want invalid", err)
	}
	if err := s.PutRobots(ctx, robotsOrigin, "", nil); trawl.ErrorCode(err) != trawl.EINVALID {
		t.Errorf("PutRobots with an empty worker = %v, want invalid", err)
	}
}
