package frontier

import (
	"slices"
	"strings"
	"time"
)

// Defaults of the adaptive pacing and the circuit breaker (see
// docs/politeness.md for the rules they tune).
const (
	// DefaultThrottleMinDelay is the least delay a throttled host gets,
	// and the step below which a recovering host returns to its
	// configured delay.
	DefaultThrottleMinDelay = 100 * time.Millisecond
	// DefaultThrottleMaxDelay caps the delay a throttled host can reach.
	DefaultThrottleMaxDelay = 60 * time.Second
	// DefaultRecoverAfter is how many successes a throttled host needs at
	// one delay before a 10% shorter delay is tried. Each failed try
	// doubles it, up to MaxRecoverAfter, so a host at its limit is probed
	// less and less often.
	DefaultRecoverAfter = 8
	MaxRecoverAfter     = 256
	// DefaultBreakerThreshold is how many connection failures or
	// timeouts in a row, with no answer in between, open a host's
	// circuit breaker.
	DefaultBreakerThreshold = 5
	// DefaultBreakerCooldown is how long an open breaker holds the host
	// before one probe request.
	DefaultBreakerCooldown = 30 * time.Second
	// DefaultBreakerProbes is how many failed probes in a row declare the
	// host down.
	DefaultBreakerProbes = 2
)

// Signal is what the end of an attempt tells the scheduler about its host.
type Signal int

// Signals.
const (
	// SignalNone: nothing was learned about the host (the page was
	// disallowed, the attempt canceled or never sent).
	SignalNone Signal = iota
	// SignalAnswered: the host answered with something other than a
	// throttle, whatever the status. It closes the breaker and counts
	// towards a throttled host's recovery.
	SignalAnswered
	// SignalThrottle: the host answered 429 Too Many Requests. It always
	// slows the host.
	SignalThrottle
	// SignalBusy: the host answered a 5xx with Retry-After. It pauses the
	// host, and slows it only when the host's previous answer was a
	// throttle or busy too: one such answer among successes is a transient
	// fault, a run of them is a host that cannot keep up.
	SignalBusy
	// SignalUnreachable: a connection failure, timeout, DNS or network
	// error. It counts towards the circuit breaker.
	SignalUnreachable
)

// Finish is how an attempt ended.
type Finish struct {
	// At is when the response or the failure arrived. Pauses and pace
	// changes are measured from it.
	At     time.Time
	Signal Signal
	// RetryAfter is the server's Retry-After, if it sent one.
	RetryAfter time.Duration
	// PauseUntil, if set, holds every request of the host until then,
	// also the queued ones: the server asked to be left alone.
	PauseUntil time.Time
	// RetryAt, if set, queues the page again, not before then. Zero means
	// the page is finished.
	RetryAt time.Time
	// Deferred marks an attempt that was never sent (its host was paused
	// when its worker took it): it is queued again without counting.
	Deferred bool
}

// HostState is how a host's pacing stands, for reports.
type HostState struct {
	Host string
	// Throttled counts the throttle signals the host sent (429, or 5xx
	// with Retry-After).
	Throttled   int
	Concurrency int
	Delay       time.Duration
	// Down is set when the circuit breaker gave up on the host.
	Down bool
	// InFlight is how many requests to the host are in flight.
	InFlight int
}

// pace is the adaptive part of a host's state: the throttle rules and the
// circuit breaker. Its methods are the rules of docs/politeness.md.
type pace struct {
	base      time.Duration // the configured delay, raised by Crawl-delay
	throttled int           // throttle signals received
	// since is when the current delay took effect: attempts started
	// before it ran under an older pace and neither slow it again nor
	// count towards its recovery.
	since   time.Time
	good    time.Duration // the last delay that held for need successes; 0: none
	streak  int           // successes at the current delay
	need    int           // successes before trying a shorter delay
	lastBad bool          // the previous answer was a throttle or busy signal

	fails    int       // connection failures in a row
	open     bool      // breaker open: one probe at a time, after a cool-down
	openedAt time.Time // attempts started before it are not probes
	probes   int       // failed probes in a row
	down     bool
}

// slowed reports whether the host runs slower than configured.
func (h *host) slowed() bool { return h.delay > h.base }

// limit is how many requests the host may have in flight.
func (h *host) limitNow(configured int) int {
	if !h.robots || h.open || h.slowed() {
		return 1
	}
	return configured
}

// signal applies what an attempt started at started taught about h.
func (s *Scheduler) signal(h *host, started time.Time, f Finish) {
	if !f.PauseUntil.IsZero() {
		h.nextStart = maxTime(h.nextStart, f.PauseUntil)
	}
	switch f.Signal {
	case SignalAnswered:
		h.fails, h.probes, h.open, h.lastBad = 0, 0, false, false
		s.recover(h, started, f.At)
	case SignalThrottle, SignalBusy:
		h.throttled++
		slow := f.Signal == SignalThrottle || h.lastBad
		h.lastBad = true
		if slow && !started.Before(h.since) {
			s.slow(h, f)
		}
	case SignalUnreachable:
		s.trip(h, started, f.At)
	}
	if h.slowed() && f.Signal != SignalNone && f.Signal != SignalUnreachable {
		// A slowed host has one request in flight, and its delay runs from
		// the end of the previous response, not from its start: then
		// requests reach the server at least the delay apart, however
		// their latencies vary, and a pace at the server's limit holds.
		h.nextStart = maxTime(h.nextStart, f.At.Add(h.delay))
	}
}

// slow lowers h's pace after a throttle signal: back to the last good
// delay if a shorter one was being tried, else twice the delay, at least
// the minimum and, for a 429, its Retry-After.
func (s *Scheduler) slow(h *host, f Finish) {
	if h.good > h.delay {
		h.delay = h.good
		h.need = min(2*h.need, MaxRecoverAfter)
	} else {
		// A 429's Retry-After is the server's idea of its pace; a 503's
		// says when it expects to be back, which is no pace at all.
		ra := f.RetryAfter
		if f.Signal != SignalThrottle {
			ra = 0
		}
		d := max(2*h.delay, ra, s.cfg.ThrottleMinDelay)
		h.delay = min(d, max(s.cfg.ThrottleMaxDelay, h.base))
		h.good = 0
	}
	h.need = max(h.need, s.cfg.RecoverAfter)
	h.streak = 0
	h.since = f.At
	if !h.lastStart.IsZero() {
		h.nextStart = maxTime(h.nextStart, h.lastStart.Add(h.delay))
	}
}

// recover counts a success of a slowed host and, after need of them at
// one delay, tries a 10% shorter one; within the minimum step of the
// configured delay it returns to it, and to full concurrency.
func (s *Scheduler) recover(h *host, started, at time.Time) {
	if !h.slowed() || started.Before(h.since) {
		return
	}
	h.streak++
	if h.streak < h.need {
		return
	}
	h.good = h.delay
	h.delay -= h.delay / 10
	if h.delay < h.base+s.cfg.ThrottleMinDelay {
		h.delay, h.good = h.base, 0
	}
	h.streak = 0
	h.since = at
}

// trip counts a connection failure towards h's circuit breaker.
func (s *Scheduler) trip(h *host, started, at time.Time) {
	h.fails++
	switch {
	case h.open && started.After(h.openedAt):
		// A probe starts a cool-down after the opening; an attempt started
		// at or before it was in flight when the breaker opened.
		h.probes++
		if h.probes >= s.cfg.BreakerProbes {
			s.markDown(h)
			return
		}
	case h.open:
		return // in flight when the breaker opened: not a probe
	case h.fails < s.cfg.BreakerThreshold:
		return
	default:
		// The failure may reach the scheduler after another request to the
		// host was handed out (the loop handles events in turn): the breaker
		// opens no earlier than the last start, so that request is not taken
		// for a probe and the first probe waits the cool-down after it.
		at = maxTime(at, h.lastStart)
		h.open, h.openedAt = true, at
	}
	h.nextStart = maxTime(h.nextStart, at.Add(s.cfg.BreakerCooldown))
}

// markDown gives up on h: every page of it still queued, in memory or in
// the store, comes out of Next at once marked HostDown.
func (s *Scheduler) markDown(h *host) {
	h.down = true
	h.queue = append(h.delayed, h.queue...)
	h.delayed, h.notBefore = nil, nil
}

// Hosts reports the hosts whose pacing changed during the run: throttled,
// given up on, or whose breaker opened, by name.
func (s *Scheduler) Hosts() []HostState {
	var out []HostState
	for _, h := range s.hosts {
		if h.throttled == 0 && !h.down && !h.open {
			continue
		}
		out = append(out, s.state(h))
	}
	slices.SortFunc(out, func(a, b HostState) int { return strings.Compare(a.Host, b.Host) })
	return out
}

// Host reports how the pacing of one host stands now; a host the
// scheduler never saw has its configured pace.
func (s *Scheduler) Host(name string) HostState {
	if h := s.hosts[name]; h != nil {
		return s.state(h)
	}
	return HostState{Host: name, Concurrency: s.cfg.ConcurrencyPerHost, Delay: s.cfg.Delay}
}

// Pace reports every host the scheduler saw, by name.
func (s *Scheduler) Pace() []HostState {
	out := make([]HostState, 0, len(s.hosts))
	for _, h := range s.hosts {
		out = append(out, s.state(h))
	}
	slices.SortFunc(out, func(a, b HostState) int { return strings.Compare(a.Host, b.Host) })
	return out
}

func (s *Scheduler) state(h *host) HostState {
	return HostState{Host: h.name, Throttled: h.throttled, Concurrency: h.limitNow(s.cfg.ConcurrencyPerHost),
		Delay: h.delay, Down: h.down, InFlight: h.inflight}
}
