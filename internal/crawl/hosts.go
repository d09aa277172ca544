package crawl

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/frontier"
	"github.com/trawl-dev/trawl/internal/store"
)

// attempt is what one request taught about its host, for the host
// statistics (store.HostStats).
type attempt struct {
	sent    bool          // a request was sent (or tried): counts in Requests
	status  int           // its response's status; 0 when none arrived
	timed   bool          // latency holds the time to its response
	latency time.Duration // time to the response
	robots  store.RobotsState
}

// hostTally gathers the host statistics of a run between two commits: the
// loop adds each attempt's outcome and each host's pace as it learns them,
// and the writer takes what was gathered with every commit, so the store
// sees one row update per host and commit, never one per request.
type hostTally struct {
	mu    sync.Mutex
	hosts map[string]*store.HostStats
}

func newHostTally() *hostTally { return &hostTally{hosts: map[string]*store.HostStats{}} }

// entry returns the gathered statistics of host; call with mu held.
func (t *hostTally) entry(host string) *store.HostStats {
	h := t.hosts[host]
	if h == nil {
		h = &store.HostStats{Host: host}
		t.hosts[host] = h
	}
	return h
}

// record adds a finished attempt and the host's pace after it.
func (t *hostTally) record(a attempt, sig frontier.Signal, pace frontier.HostState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.entry(pace.Host)
	if a.sent {
		h.Requests++
		h.Status.Add(a.status)
		if a.timed {
			h.ObserveLatency(a.latency)
		}
	}
	if sig == frontier.SignalThrottle || sig == frontier.SignalBusy {
		h.Throttled++
	}
	if rank(a.robots) > rank(h.Robots) {
		h.Robots = a.robots
	}
	setPace(h, pace)
}

// pace records a host's pace (a request started).
func (t *hostTally) pace(p frontier.HostState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	setPace(t.entry(p.Host), p)
}

func setPace(h *store.HostStats, p frontier.HostState) {
	h.InFlight, h.Delay, h.Down = int64(p.InFlight), p.Delay, p.Down
}

// take returns what was gathered since the last take.
func (t *hostTally) take() []store.HostStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.hosts) == 0 {
		return nil
	}
	out := make([]store.HostStats, 0, len(t.hosts))
	for _, h := range t.hosts {
		out = append(out, *h)
	}
	clear(t.hosts)
	return out
}

func rank(s store.RobotsState) int {
	for i, r := range store.RobotsStates {
		if r == s {
			return i
		}
	}
	return 0
}

// robotsState is the host statistics' view of a robots.txt decision.
func robotsState(allowed, unreachable bool) store.RobotsState {
	switch {
	case allowed:
		return store.RobotsAllowed
	case unreachable:
		return store.RobotsUnreachable
	}
	return store.RobotsDisallowedSome
}

// attemptOf describes a fetch attempt that was not canceled: its response
// if any, else the status of its error, else a redirect's 3xx for the
// failures that follow one, else no response.
func attemptOf(resp *fetch.Response, err error, robots store.RobotsState) attempt {
	a := attempt{sent: true, robots: robots}
	if resp != nil {
		a.status, a.latency, a.timed = resp.Status, resp.Duration, true
		return a
	}
	var fe *fetch.Error
	if !errors.As(err, &fe) {
		return a
	}
	switch {
	case fe.Status != 0:
		a.status = fe.Status
	case fe.Class == fetch.ClassOutOfScope || fe.Class == fetch.ClassRedirect:
		a.status = http.StatusFound
	}
	return a
}
