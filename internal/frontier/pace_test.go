package frontier_test

import (
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/frontier"
)

func hostState(t *testing.T, s *frontier.Scheduler, name string) frontier.HostState {
	t.Helper()
	for _, h := range s.Hosts() {
		if h.Host == name {
			return h
		}
	}
	return frontier.HostState{Host: name}
}

func throttle(at time.Time, ra time.Duration) frontier.Finish {
	return frontier.Finish{At: at, Signal: frontier.SignalThrottle, RetryAfter: ra, PauseUntil: at.Add(ra), RetryAt: at.Add(ra)}
}

func answered(at time.Time) frontier.Finish {
	return frontier.Finish{At: at, Signal: frontier.SignalAnswered}
}

func TestThrottleSlowsThenRecovers(t *testing.T) {
	s := newScheduler(t, frontier.Config{ConcurrencyPerHost: 2, RecoverAfter: 2})
	s.Add(pages("a", 1, 40))
	a, _ := s.Next(t0)
	b, _ := s.Next(t0)
	// Both slots meet the limit: the host pauses for Retry-After from the
	// 429's arrival and slows once, not twice.
	s.Finish(a, throttle(t0.Add(10*time.Millisecond), time.Second))
	s.Finish(b, throttle(t0.Add(20*time.Millisecond), time.Second))
	if got := drain(s, t0.Add(1019*time.Millisecond)); len(got) != 0 {
		t.Fatalf("during the pause = %v, want none", got)
	}
	want := frontier.HostState{Host: "a", Throttled: 2, Concurrency: 1, Delay: time.Second}
	if got := hostState(t, s, "a"); got != want {
		t.Errorf("after two 429s: %+v, want %+v", got, want)
	}
	// One request at a time, a second from the end of the previous one.
	now := t0.Add(1020 * time.Millisecond)
	task, ok := s.Next(now)
	if !ok || task.Throttled != 1 || task.Attempt != 2 {
		t.Fatalf("after the pause = %+v, %v; want the throttled page again, throttled once", task, ok)
	}
	if _, ok := s.Next(now); ok {
		t.Fatal("a second request in flight while slowed")
	}
	for i := range 2 {
		end := now.Add(50 * time.Millisecond)
		s.Finish(task, answered(end))
		if _, ok := s.Next(end.Add(899 * time.Millisecond)); ok {
			t.Fatalf("success %d: next request less than the delay after the response", i)
		}
		now = end.Add(time.Second)
		task, _ = s.Next(now)
	}
	// Two successes at 1s: try 900ms.
	if got := hostState(t, s, "a").Delay; got != 900*time.Millisecond {
		t.Fatalf("delay after RecoverAfter successes = %v, want 900ms", got)
	}
	// The try fails: back to the good delay, not doubled.
	s.Finish(task, throttle(now.Add(time.Millisecond), time.Second))
	if got := hostState(t, s, "a").Delay; got != time.Second {
		t.Errorf("delay after a failed try = %v, want the good 1s", got)
	}
}

func TestThrottleRecoversToConfiguredPace(t *testing.T) {
	s := newScheduler(t, frontier.Config{ConcurrencyPerHost: 2, RecoverAfter: 1})
	s.Add(pages("a", 1, 100))
	task, _ := s.Next(t0)
	s.Finish(task, throttle(t0, 200*time.Millisecond)) // delay 200ms
	now := t0
	for range 20 {
		now = now.Add(time.Second)
		task, _ = s.Next(now)
		s.Finish(task, answered(now))
	}
	// 200 -> 180 -> ... -> under 100ms (ThrottleMinDelay): back to 0 and
	// two slots.
	if got := hostState(t, s, "a"); got.Delay != 0 || got.Concurrency != 2 {
		t.Errorf("after recovery: %+v, want delay 0 and concurrency 2", got)
	}
}

func TestBusyAloneOnlyPauses(t *testing.T) {
	s := newScheduler(t, frontier.Config{ConcurrencyPerHost: 2})
	s.Add(pages("a", 1, 10))
	busy := func(at time.Time) frontier.Finish {
		f := throttle(at, time.Second)
		f.Signal = frontier.SignalBusy
		return f
	}
	task, _ := s.Next(t0)
	s.Finish(task, busy(t0))
	if got := hostState(t, s, "a"); got.Delay != 0 || got.Concurrency != 2 || got.Throttled != 1 {
		t.Errorf("after one busy answer: %+v, want paused only", got)
	}
	if got := drain(s, t0.Add(999*time.Millisecond)); len(got) != 0 {
		t.Errorf("during the pause = %v, want none", got)
	}
	task, _ = s.Next(t0.Add(time.Second))
	s.Finish(task, busy(t0.Add(time.Second)))
	want := frontier.HostState{Host: "a", Throttled: 2, Concurrency: 1, Delay: frontier.DefaultThrottleMinDelay}
	if got := hostState(t, s, "a"); got != want {
		t.Errorf("after two busy answers in a row: %+v, want %+v (a 503's Retry-After is no pace)", got, want)
	}
}

func TestBreaker(t *testing.T) {
	s := newScheduler(t, frontier.Config{ConcurrencyPerHost: 2, QueueCap: 8,
		BreakerThreshold: 3, BreakerCooldown: time.Second, BreakerProbes: 2})
	s.Add(pages("a", 1, 20)) // 8 in memory, 12 in the store
	fail := func(task frontier.Task, at time.Time) {
		s.Finish(task, frontier.Finish{At: at, Signal: frontier.SignalUnreachable, RetryAt: at.Add(time.Minute)})
	}
	now := t0
	for range 3 {
		task, _ := s.Next(now)
		fail(task, now)
	}
	if got := drain(s, now.Add(999*time.Millisecond)); len(got) != 0 {
		t.Fatalf("open breaker let through %v during its cool-down", got)
	}
	now = now.Add(time.Second)
	probe, ok := s.Next(now)
	if _, second := s.Next(now); !ok || second {
		t.Fatalf("after the cool-down: probe %v, second request %v; want exactly one probe", ok, second)
	}
	fail(probe, now)
	now = now.Add(time.Second)
	probe, _ = s.Next(now)
	fail(probe, now)
	// Down: the pages in memory, the failed ones and those refilled from
	// the store come out at once, marked, with no pacing.
	n := 0
	for task, ok := s.Next(now); ok; task, ok = s.Next(now) {
		if !task.HostDown {
			t.Fatalf("task %d of a down host not marked HostDown", task.Page.ID)
		}
		s.Done(task)
		n++
		for _, r := range s.Refills() {
			s.Refilled(r, pages("a", r.AfterID+1, min(20, r.AfterID+int64(r.Limit))))
		}
	}
	if n != 20 || !s.Idle() {
		t.Errorf("%d pages failed as host down, idle %v; want all 20 and idle", n, s.Idle())
	}
	if got := hostState(t, s, "a"); !got.Down {
		t.Errorf("host state %+v, want down", got)
	}
}

func TestBreakerClosesOnAnswer(t *testing.T) {
	s := newScheduler(t, frontier.Config{ConcurrencyPerHost: 2, BreakerThreshold: 2, BreakerCooldown: time.Second, BreakerProbes: 1})
	s.Add(pages("a", 1, 10))
	for range 2 {
		task, _ := s.Next(t0)
		s.Finish(task, frontier.Finish{At: t0, Signal: frontier.SignalUnreachable})
	}
	probe, _ := s.Next(t0.Add(time.Second))
	s.Finish(probe, answered(t0.Add(time.Second)))
	if got := drain(s, t0.Add(time.Second)); len(got) != 2 {
		t.Errorf("after a probe answered = %v, want both slots busy again", got)
	}
}

// TestBreakerInFlightAtOpeningIsNoProbe: a request started at the very
// instant the breaker opened (a coarse or fake clock reads the same time)
// was in flight before the opening; its failure is not a failed probe.
func TestBreakerInFlightAtOpeningIsNoProbe(t *testing.T) {
	s := newScheduler(t, frontier.Config{ConcurrencyPerHost: 2, BreakerThreshold: 1, BreakerCooldown: time.Second, BreakerProbes: 1})
	s.Add(pages("a", 1, 10))
	a, _ := s.Next(t0)
	b, _ := s.Next(t0)
	s.Finish(a, frontier.Finish{At: t0, Signal: frontier.SignalUnreachable}) // opens the breaker at t0
	s.Finish(b, frontier.Finish{At: t0, Signal: frontier.SignalUnreachable})
	if got := hostState(t, s, "a"); got.Down {
		t.Fatal("host down after a failure in flight when the breaker opened, before any probe")
	}
	probe, ok := s.Next(t0.Add(time.Second))
	if !ok {
		t.Fatal("no probe after the cool-down")
	}
	s.Finish(probe, frontier.Finish{At: t0.Add(time.Second), Signal: frontier.SignalUnreachable})
	if got := hostState(t, s, "a"); !got.Down {
		t.Errorf("host state %+v after the failed probe, want down", got)
	}
}

// TestBreakerFailureReportedLate: the failure that opens the breaker
// arrived at t0 but reaches the scheduler after another request was
// handed out at a later time (the engine handles events in turn). That
// request is no probe, and the first probe waits the cool-down after it.
func TestBreakerFailureReportedLate(t *testing.T) {
	const cooldown = time.Second
	s := newScheduler(t, frontier.Config{ConcurrencyPerHost: 2, BreakerThreshold: 1, BreakerCooldown: cooldown, BreakerProbes: 1})
	s.Add(pages("a", 1, 10))
	a, _ := s.Next(t0)
	b, _ := s.Next(t0)
	s.Done(b)
	later := t0.Add(25 * time.Millisecond)
	c, ok := s.Next(later)
	if !ok {
		t.Fatal("no request after a slot came free")
	}
	s.Finish(a, frontier.Finish{At: t0, Signal: frontier.SignalUnreachable}) // opens the breaker
	s.Finish(c, frontier.Finish{At: later, Signal: frontier.SignalUnreachable})
	if got := hostState(t, s, "a"); got.Down {
		t.Fatal("host down: a request handed out before the opening was reported counted as a failed probe")
	}
	if got := drain(s, later.Add(cooldown-time.Nanosecond)); len(got) != 0 {
		t.Fatalf("probe %v started less than the cool-down after the last request", got)
	}
	if _, ok := s.Next(later.Add(cooldown)); !ok {
		t.Fatal("no probe a cool-down after the last request")
	}
}
