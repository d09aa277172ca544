package frontier_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/frontier"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// newScheduler returns frontier.NewScheduler's scheduler, failing the test
// on an error.
func newScheduler(t *testing.T, cfg frontier.Config) *frontier.Scheduler {
	t.Helper()
	s, err := frontier.NewScheduler(cfg)
	if err != nil {
		t.Fatalf("NewScheduler: %v", err)
	}
	return s
}

func pages(host string, from, to int64) []store.Page {
	var out []store.Page
	for id := from; id <= to; id++ {
		out = append(out, store.Page{ID: id, URL: fmt.Sprintf("http://%s/%d", host, id), Host: host})
	}
	return out
}

// drain takes every task available at now.
func drain(s *frontier.Scheduler, now time.Time) []int64 {
	var ids []int64
	for {
		t, ok := s.Next(now)
		if !ok {
			return ids
		}
		ids = append(ids, t.Page.ID)
	}
}

func TestSchedulerPerHostConcurrency(t *testing.T) {
	s := newScheduler(t, frontier.Config{ConcurrencyPerHost: 2})
	s.Add(pages("a", 1, 5))
	s.Add(pages("b", 6, 6))
	got := drain(s, t0)
	if diff := cmp.Diff([]int64{1, 2, 6}, sortIDs(got)); diff != "" {
		t.Fatalf("first wave (-want +got):\n%s", diff)
	}
	if s.InFlight() != 3 {
		t.Errorf("InFlight = %d, want 3", s.InFlight())
	}
	s.Done(frontier.Task{Page: store.Page{ID: 1, Host: "a"}})
	if got := drain(s, t0); !cmp.Equal(got, []int64{3}) {
		t.Errorf("after Done = %v, want [3]", got)
	}
}

func TestSchedulerDelay(t *testing.T) {
	s := newScheduler(t, frontier.Config{ConcurrencyPerHost: 4, Delay: time.Second})
	s.Add(pages("a", 1, 3))
	if got := drain(s, t0); !cmp.Equal(got, []int64{1}) {
		t.Fatalf("at t0 = %v, want [1]", got)
	}
	at, ok := s.NextAt()
	if !ok || !at.Equal(t0.Add(time.Second)) {
		t.Errorf("NextAt = %v, %v; want t0+1s", at, ok)
	}
	if got := drain(s, t0.Add(999*time.Millisecond)); len(got) != 0 {
		t.Errorf("before the delay = %v, want none", got)
	}
	if got := drain(s, t0.Add(time.Second)); !cmp.Equal(got, []int64{2}) {
		t.Errorf("after the delay = %v, want [2]", got)
	}
}

func TestSchedulerWaitForRobots(t *testing.T) {
	s := newScheduler(t, frontier.Config{ConcurrencyPerHost: 3, WaitForRobots: true})
	s.Add(pages("a", 1, 5))
	if got := drain(s, t0); len(got) != 1 {
		t.Fatalf("before robots = %v, want one task", got)
	}
	s.SetRobots("a", 2*time.Second) // Crawl-delay: 2
	task := frontier.Task{Page: store.Page{ID: 1, Host: "a"}}
	s.Done(task)
	// The first request started at t0, so the Crawl-delay holds the next one.
	if got := drain(s, t0.Add(time.Second)); len(got) != 0 {
		t.Errorf("within crawl-delay = %v, want none", got)
	}
	if got := drain(s, t0.Add(2*time.Second)); len(got) != 1 {
		t.Errorf("after crawl-delay = %v, want one", got)
	}
}

func TestSchedulerRetryBacksOffTheHost(t *testing.T) {
	s := newScheduler(t, frontier.Config{ConcurrencyPerHost: 2})
	s.Add(pages("a", 1, 3))
	first, _ := s.Next(t0)
	drain(s, t0)
	s.Finish(first, frontier.Finish{At: t0, PauseUntil: t0.Add(5 * time.Second), RetryAt: t0.Add(5 * time.Second)})
	if got := drain(s, t0.Add(4*time.Second)); len(got) != 0 {
		t.Errorf("host during backoff = %v, want none", got)
	}
	got, ok := s.Next(t0.Add(5 * time.Second))
	if !ok || got.Page.ID != first.Page.ID || got.Attempt != 2 {
		t.Errorf("after backoff = %+v, %v; want page %d attempt 2", got, ok, first.Page.ID)
	}
}

func TestSchedulerRetryWithoutPause(t *testing.T) {
	s := newScheduler(t, frontier.Config{ConcurrencyPerHost: 1})
	s.Add(pages("a", 1, 2))
	first, _ := s.Next(t0)
	s.Finish(first, frontier.Finish{At: t0, RetryAt: t0.Add(5 * time.Second)})
	// The host goes on with its other pages; the retry waits for its time.
	if got := drain(s, t0); !cmp.Equal(got, []int64{2}) {
		t.Errorf("during the retry's backoff = %v, want [2]", got)
	}
	s.Done(frontier.Task{Page: store.Page{ID: 2, Host: "a"}})
	if got := drain(s, t0.Add(time.Second)); len(got) != 0 {
		t.Errorf("before the retry is due = %v, want none", got)
	}
	if got := drain(s, t0.Add(5*time.Second)); !cmp.Equal(got, []int64{1}) {
		t.Errorf("when the retry is due = %v, want [1]", got)
	}
}

func TestSchedulerOverflowAndRefill(t *testing.T) {
	s := newScheduler(t, frontier.Config{ConcurrencyPerHost: 100, QueueCap: 4})
	s.Add(pages("a", 1, 10)) // 1-4 in memory, 5-10 stay in the store
	if got := drain(s, t0); !cmp.Equal(got, []int64{1, 2, 3, 4}) {
		t.Fatalf("in memory = %v, want 1-4", got)
	}
	if s.Idle() {
		t.Fatal("Idle with pages left in the store")
	}
	r := s.Refills()
	if len(r) != 1 || r[0].Host != "a" || r[0].AfterID != 4 || r[0].Limit != 4 {
		t.Fatalf("Refills = %+v, want host a after 4 limit 4", r)
	}
	if again := s.Refills(); len(again) != 0 {
		t.Errorf("second Refills while loading = %+v, want none", again)
	}
	// Pages admitted while the load runs must not be lost even though the
	// load comes back short.
	s.Add(pages("a", 11, 11))
	s.Refilled(r[0], pages("a", 5, 7))
	if got := drain(s, t0); !cmp.Equal(got, []int64{5, 6, 7}) {
		t.Fatalf("after refill = %v, want 5-7", got)
	}
	r = s.Refills()
	if len(r) != 1 || r[0].AfterID != 7 {
		t.Fatalf("Refills after admit during load = %+v, want one after 7", r)
	}
	s.Refilled(r[0], pages("a", 8, 11))
	if got := drain(s, t0); !cmp.Equal(got, []int64{8, 9, 10, 11}) {
		t.Fatalf("after second refill = %v, want 8-11", got)
	}
	r = s.Refills()
	if len(r) != 1 {
		t.Fatalf("a full load must be followed by another: %+v", r)
	}
	s.Refilled(r[0], nil)
	for id := int64(1); id <= 11; id++ {
		s.Done(frontier.Task{Page: store.Page{ID: id, Host: "a"}})
	}
	if !s.Idle() {
		t.Errorf("not Idle after everything was done (pending %d, in flight %d)", s.Pending(), s.InFlight())
	}
}

func TestSchedulerHostsTakeTurns(t *testing.T) {
	s := newScheduler(t, frontier.Config{ConcurrencyPerHost: 1, Delay: time.Second})
	s.Add(pages("a", 1, 3))
	s.Add(pages("b", 4, 6))
	var got []int64
	for i := range 3 {
		now := t0.Add(time.Duration(i) * time.Second)
		for _, id := range drain(s, now) {
			got = append(got, id)
			host := "a"
			if id > 3 {
				host = "b"
			}
			s.Done(frontier.Task{Page: store.Page{ID: id, Host: host}})
		}
	}
	if diff := cmp.Diff([]int64{1, 4, 2, 5, 3, 6}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func sortIDs(ids []int64) []int64 {
	out := append([]int64(nil), ids...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   frontier.Config
		field string // named by the error; "" for a valid config
	}{
		{"zero value means defaults", frontier.Config{}, ""},
		{"negative concurrency", frontier.Config{ConcurrencyPerHost: -1}, "ConcurrencyPerHost"},
		{"negative delay", frontier.Config{Delay: -time.Second}, "Delay"},
		{"negative queue", frontier.Config{QueueCap: -4}, "QueueCap"},
		{"recover above its cap", frontier.Config{RecoverAfter: frontier.MaxRecoverAfter + 1}, "RecoverAfter"},
		{"negative cool-down", frontier.Config{BreakerCooldown: -time.Second}, "BreakerCooldown"},
		{"negative probes", frontier.Config{BreakerProbes: -1}, "BreakerProbes"},
		{"max delay below min", frontier.Config{ThrottleMinDelay: time.Second, ThrottleMaxDelay: time.Millisecond}, "ThrottleMaxDelay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			err := cfg.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				want := frontier.Config{ConcurrencyPerHost: 2, QueueCap: 64, ThrottleMinDelay: frontier.DefaultThrottleMinDelay,
					ThrottleMaxDelay: frontier.DefaultThrottleMaxDelay, RecoverAfter: frontier.DefaultRecoverAfter,
					BreakerThreshold: frontier.DefaultBreakerThreshold, BreakerCooldown: frontier.DefaultBreakerCooldown,
					BreakerProbes: frontier.DefaultBreakerProbes}
				if cfg != want {
					t.Errorf("defaults = %+v, want %+v", cfg, want)
				}
				return
			}
			if code := trawl.ErrorCode(err); code != trawl.EINVALID {
				t.Fatalf("Validate = %v (code %q), want code invalid", err, code)
			}
			if msg := trawl.ErrorMessage(err); !strings.Contains(msg, tt.field) {
				t.Errorf("message %q does not name %s", msg, tt.field)
			}
			if _, err := frontier.NewScheduler(tt.cfg); trawl.ErrorCode(err) != trawl.EINVALID {
				t.Errorf("NewScheduler = %v, want the same invalid error", err)
			}
		})
	}
}

// TestLeasedHosts: a leased scheduler works only on the hosts it holds,
// starts a held host from the pace its lease carried, drops a released
// host's tasks, discards a load made under an earlier hold, and hands a
// retried page's attempts on from the store.
func TestLeasedHosts(t *testing.T) {
	s := newScheduler(t, frontier.Config{Leased: true, ConcurrencyPerHost: 2, Delay: time.Second})
	if unheld := s.Add(pages("a", 1, 2)); !unheld {
		t.Fatal("Add of a host not held did not report it")
	}
	if ids := drain(s, t0); len(ids) != 0 || !s.Idle() {
		t.Fatalf("tasks of a host not held: %v", ids)
	}
	s.Hold("a", frontier.Pace{NotBefore: t0.Add(time.Minute), Delay: 5 * time.Second})
	r := s.Refills()
	if len(r) != 1 || r[0].Host != "a" || r[0].AfterID != 0 {
		t.Fatalf("refills after Hold = %+v, want one load of a from the start", r)
	}
	loaded := pages("a", 1, 3)
	loaded[0].Attempts = 2 // retried twice by an earlier holder
	s.Refilled(r[0], loaded)
	if ids := drain(s, t0); len(ids) != 0 {
		t.Fatalf("tasks before the lease's NotBefore: %v", ids)
	}
	task, ok := s.Next(t0.Add(time.Minute))
	if !ok || task.Page.ID != 1 || task.Attempt != 3 {
		t.Fatalf("first task = %+v, %v; want page 1 at attempt 3", task, ok)
	}
	if p := s.HostPace("a"); p.Delay != 5*time.Second || p.Allowance != 1 || !p.NotBefore.Equal(t0.Add(time.Minute+5*time.Second)) {
		t.Errorf("pace = %+v, want the lease's 5s delay, one slot while slowed, next start a delay later", p)
	}
	if got := s.Releasable(); len(got) != 0 {
		t.Errorf("releasable with work left: %v", got)
	}

	// Released: its queue goes, the task in flight ends without a retry.
	s.Release("a")
	s.Finish(task, frontier.Finish{At: t0.Add(time.Minute), RetryAt: t0.Add(2 * time.Minute)})
	if !s.Idle() || s.Pending() != 0 {
		t.Fatalf("after Release: idle %v, pending %d; want idle, nothing pending", s.Idle(), s.Pending())
	}
	if unheld := s.Add(pages("a", 4, 4)); !unheld {
		t.Error("Add after Release took the page")
	}

	// A load started under one hold and answered after the next is stale.
	s.Hold("a", frontier.Pace{})
	stale := s.Refills()
	s.Release("a")
	s.Hold("a", frontier.Pace{})
	s.Refilled(stale[0], pages("a", 1, 1))
	if ids := drain(s, t0.Add(time.Hour)); len(ids) != 0 {
		t.Errorf("tasks from a stale load: %v", ids)
	}
	fresh := s.Refills()
	if len(fresh) != 1 {
		t.Fatalf("refills after a stale load = %+v, want one", fresh)
	}
	s.Refilled(fresh[0], pages("a", 1, 1))
	if ids := drain(s, t0.Add(time.Hour)); len(ids) != 1 {
		t.Errorf("tasks after a fresh load: %v, want page 1", ids)
	}
}

// TestAddAfterRefillLoadedIt: a refill that read the store after a commit
// admitted a page, but that reaches the scheduler before the commit's own
// report, has loaded the page already; its admission must not queue it a
// second time (it would be fetched twice).
func TestAddAfterRefillLoadedIt(t *testing.T) {
	s := newScheduler(t, frontier.Config{Leased: true, ConcurrencyPerHost: 8})
	s.Hold("a", frontier.Pace{})
	refills := s.Refills()
	if len(refills) != 1 {
		t.Fatalf("refills after Hold = %v, want one", refills)
	}
	s.Refilled(refills[0], pages("a", 1, 3)) // read after page 3 was committed
	s.Add(pages("a", 3, 4))                  // the commit's report: pages 3 and 4
	got := drain(s, t0)
	if want := []int64{1, 2, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("tasks = %v, want each page once: %v", got, want)
	}
}
