// Package frontier decides what a run fetches next: admission of discovered
// URLs (scope, depth, deduplication) and per-host pacing (concurrency, delay,
// Crawl-delay, retry backoff). It is pure: the clock is passed in and all I/O
// stays with the caller.
package frontier

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"time"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Config tunes a Scheduler. The zero value means defaults.
type Config struct {
	// ConcurrencyPerHost caps requests in flight to one host. Default
	// DefaultConcurrencyPerHost (2).
	ConcurrencyPerHost int
	// Delay is the minimum gap between request starts to one host. Default
	// 0: none.
	Delay time.Duration
	// WaitForRobots allows only one request in flight to a host until
	// SetRobots is called for it, so robots.txt (and its Crawl-delay) is
	// known before a host sees concurrent requests.
	WaitForRobots bool
	// Leased makes the scheduler work only on the hosts it holds (Hold,
	// between a lease claim and its release or loss): pages of other hosts
	// stay in the store for whoever holds them. Without it every host is
	// held from the start, as for a caller that owns the whole run.
	Leased bool
	// QueueCap is how many queued pages of one host are held in memory; the
	// rest stay in the store and are loaded on demand. Default
	// DefaultQueueCap (64).
	QueueCap int

	// ThrottleMinDelay is the least delay of a throttled host.
	// Default DefaultThrottleMinDelay.
	ThrottleMinDelay time.Duration
	// ThrottleMaxDelay caps the delay of a throttled host (a configured
	// delay above it is kept). Default DefaultThrottleMaxDelay.
	ThrottleMaxDelay time.Duration
	// RecoverAfter is how many successes a throttled host needs at one
	// delay before a shorter one is tried. Default DefaultRecoverAfter.
	RecoverAfter int
	// BreakerThreshold is how many connection failures or timeouts in a
	// row open a host's circuit breaker. Default DefaultBreakerThreshold.
	BreakerThreshold int
	// BreakerCooldown is how long an open breaker holds its host before
	// each probe. Default DefaultBreakerCooldown.
	BreakerCooldown time.Duration
	// BreakerProbes is how many failed probes in a row declare a host
	// down. Default DefaultBreakerProbes.
	BreakerProbes int
}

// Task is one page to fetch.
type Task struct {
	Page    store.Page
	Attempt int // 1 for the first attempt; deferred attempts do not count
	// Throttled counts the attempts that met a throttle signal, and
	// ThrottledSince is when the first of them ended: throttled attempts
	// have their own budget, apart from the spider's retries.
	Throttled      int
	ThrottledSince time.Time
	// Started is when Next handed the task out.
	Started time.Time
	// HostDown marks a task whose host the circuit breaker gave up on:
	// it must fail as host_down without being fetched.
	HostDown bool
}

// Refill asks the caller to load up to Limit queued pages of Host with IDs
// above AfterID from the store and hand them to Scheduler.Refilled.
type Refill struct {
	Host    string
	AfterID int64
	Limit   int
	seq     uint64
	gen     uint64 // the host's hold generation: a load from an older hold is discarded
}

// Pace is a host's pace as a lease carries it between holders, in the
// scheduler's clock (store.HostPace). The zero value is the configured pace.
type Pace struct {
	NotBefore time.Time     // the next request may start then; zero = at once
	Delay     time.Duration // the current delay; 0 = the configured one
	Allowance int           // requests allowed in flight when below the configured cap; 0 = the cap
	Failures  int           // connection failures in a row
}

// Scheduler holds the in-memory part of a run's frontier: a bounded queue
// per host, and which host may start a request when. It is not safe for
// concurrent use; the crawl engine calls it from one goroutine.
type Scheduler struct {
	cfg      Config
	hosts    map[string]*host
	ready    hostHeap // hosts with a task and a free slot, by ready time
	inflight int
	pending  int // tasks held in memory, not in flight

	// Hosts with pages in the store, and those of them due a refill:
	// kept up to date so that Idle and Refills cost nothing per host.
	stored map[*host]struct{}
	due    map[*host]struct{}
}

type host struct {
	name      string
	queue     []Task // FIFO of first attempts
	delayed   []Task // retries, by notBefore
	notBefore []time.Time
	inflight  int
	delay     time.Duration // the current delay: base, or more when throttled
	nextStart time.Time
	lastStart time.Time
	robots    bool // robots.txt known
	held      bool // the scheduler may work on the host (Config.Leased)
	gen       uint64

	// The store may hold more queued pages than queue: all with ID > cursor.
	overflow bool
	loading  bool
	cursor   int64
	seq      uint64 // bumped when pages are admitted while overflowing

	index int // in the ready heap; -1 when absent
	at    time.Time

	pace
}

// Defaults of Config besides those of the pacing (pace.go).
const (
	DefaultConcurrencyPerHost = 2
	DefaultQueueCap           = 64
)

// Validate fills the defaults of c and reports the first field out of its
// range as an EINVALID *trawl.Error naming the field and the range.
func (c *Config) Validate() error {
	type check struct {
		field string
		bad   bool
		want  string
	}
	for _, k := range []check{
		{"ConcurrencyPerHost", c.ConcurrencyPerHost < 0, fmt.Sprintf("0 (default %d) or more", DefaultConcurrencyPerHost)},
		{"Delay", c.Delay < 0, "0 or more"},
		{"QueueCap", c.QueueCap < 0, fmt.Sprintf("0 (default %d) or more", DefaultQueueCap)},
		{"ThrottleMinDelay", c.ThrottleMinDelay < 0, fmt.Sprintf("0 (default %v) or more", DefaultThrottleMinDelay)},
		{"ThrottleMaxDelay", c.ThrottleMaxDelay < 0, fmt.Sprintf("0 (default %v) or more", DefaultThrottleMaxDelay)},
		{"RecoverAfter", c.RecoverAfter < 0 || c.RecoverAfter > MaxRecoverAfter, fmt.Sprintf("0 (default %d) to %d", DefaultRecoverAfter, MaxRecoverAfter)},
		{"BreakerThreshold", c.BreakerThreshold < 0, fmt.Sprintf("0 (default %d) or more", DefaultBreakerThreshold)},
		{"BreakerCooldown", c.BreakerCooldown < 0, fmt.Sprintf("0 (default %v) or more", DefaultBreakerCooldown)},
		{"BreakerProbes", c.BreakerProbes < 0, fmt.Sprintf("0 (default %d) or more", DefaultBreakerProbes)},
	} {
		if k.bad {
			return trawl.Errorf(trawl.EINVALID, "frontier config: %s must be %s", k.field, k.want)
		}
	}
	c.ConcurrencyPerHost = cmp.Or(c.ConcurrencyPerHost, DefaultConcurrencyPerHost)
	c.QueueCap = cmp.Or(c.QueueCap, DefaultQueueCap)
	c.ThrottleMinDelay = cmp.Or(c.ThrottleMinDelay, DefaultThrottleMinDelay)
	c.ThrottleMaxDelay = cmp.Or(c.ThrottleMaxDelay, DefaultThrottleMaxDelay)
	c.RecoverAfter = cmp.Or(c.RecoverAfter, DefaultRecoverAfter)
	c.BreakerThreshold = cmp.Or(c.BreakerThreshold, DefaultBreakerThreshold)
	c.BreakerCooldown = cmp.Or(c.BreakerCooldown, DefaultBreakerCooldown)
	c.BreakerProbes = cmp.Or(c.BreakerProbes, DefaultBreakerProbes)
	if c.ThrottleMaxDelay < c.ThrottleMinDelay {
		return trawl.Errorf(trawl.EINVALID, "frontier config: ThrottleMaxDelay (%v) must be at least ThrottleMinDelay (%v)",
			c.ThrottleMaxDelay, c.ThrottleMinDelay)
	}
	return nil
}

// NewScheduler returns an empty scheduler. It returns an EINVALID
// *trawl.Error when a field of cfg is out of range (Config.Validate).
func NewScheduler(cfg Config) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Scheduler{cfg: cfg, hosts: map[string]*host{}, stored: map[*host]struct{}{}, due: map[*host]struct{}{}}, nil
}

func (s *Scheduler) host(name string) *host {
	h := s.hosts[name]
	if h == nil {
		h = &host{name: name, index: -1, delay: s.cfg.Delay, robots: !s.cfg.WaitForRobots, held: !s.cfg.Leased}
		h.base = s.cfg.Delay
		s.hosts[name] = h
	}
	return h
}

// Add takes newly admitted pages, in ID order. Pages of a host whose memory
// queue is full stay in the store and come back through Refill. Pages of a
// host the scheduler does not hold (Config.Leased) stay in the store too:
// unheld reports whether there were any, so that the caller claims them.
func (s *Scheduler) Add(pages []store.Page) (unheld bool) {
	for _, p := range pages {
		h := s.hosts[p.Host]
		if h == nil && !s.cfg.Leased {
			h = s.host(p.Host)
		}
		if h == nil || !h.held {
			unheld = true
			continue
		}
		if p.ID <= h.cursor {
			// A refill that read the store after the page's commit loaded
			// it already. (Should it not have, on a store whose IDs commit
			// out of order, the page stays queued there: the host, once
			// idle, is released and claimed again, which loads it.)
			continue
		}
		if h.overflow || h.loading || len(h.queue) >= s.cfg.QueueCap {
			h.overflow = true
			h.seq++
			s.track(h)
			continue
		}
		h.queue = append(h.queue, Task{Page: p, Attempt: 1})
		h.cursor = max(h.cursor, p.ID)
		s.pending++
		s.update(h)
	}
	return unheld
}

// Hold starts working on host, leased with pace p: its pages are loaded
// from the store (Refills) and its requests paced from p. A host held
// already is left as it is.
func (s *Scheduler) Hold(hostName string, p Pace) {
	h := s.host(hostName)
	if h.held && s.cfg.Leased {
		return
	}
	h.held = true
	h.gen++
	h.cursor = 0 // pages below the old cursor may have come back (retries, a lost hold)
	h.nextStart = maxTime(h.nextStart, p.NotBefore)
	if p.Delay > h.delay {
		h.delay = p.Delay
		h.need = max(h.need, s.cfg.RecoverAfter)
		h.streak = 0
	}
	h.fails = max(h.fails, p.Failures)
	s.MarkOverflow(hostName)
	s.update(h)
}

// Release stops working on a held host (its lease is handed back or was
// lost) and returns its pace. Its tasks in memory are dropped: they are
// still queued in the store, retries with their attempts (DeferPages). Its
// tasks in flight still end through Finish, which requeues nothing of a
// host not held. A load in progress is discarded when it arrives.
func (s *Scheduler) Release(hostName string) Pace {
	h := s.hosts[hostName]
	if h == nil || !h.held {
		return Pace{}
	}
	p := s.pace(h)
	h.held = false
	h.gen++
	s.pending -= len(h.queue) + len(h.delayed)
	h.queue, h.delayed, h.notBefore = nil, nil, nil
	h.overflow = false
	h.seq++
	s.track(h)
	s.update(h)
	return p
}

// HostPace returns the pace of a host, to hand on with its lease.
func (s *Scheduler) HostPace(hostName string) Pace {
	if h := s.hosts[hostName]; h != nil {
		return s.pace(h)
	}
	return Pace{}
}

func (s *Scheduler) pace(h *host) Pace {
	p := Pace{NotBefore: h.nextStart, Failures: h.fails}
	if h.delay != s.cfg.Delay {
		p.Delay = h.delay
	}
	if l := h.limitNow(s.cfg.ConcurrencyPerHost); l < s.cfg.ConcurrencyPerHost {
		p.Allowance = l
	}
	return p
}

// Releasable returns the held hosts with nothing left to do in memory: no
// task queued, waiting or in flight, and nothing more known in the store.
func (s *Scheduler) Releasable() []string {
	var out []string
	for _, h := range s.hosts {
		if h.held && h.inflight == 0 && len(h.queue) == 0 && len(h.delayed) == 0 && !h.overflow && !h.loading {
			out = append(out, h.name)
		}
	}
	return out
}

// MarkOverflow records that the store holds queued pages of host that are not
// in memory, as after a resume.
func (s *Scheduler) MarkOverflow(hostName string) {
	h := s.host(hostName)
	h.overflow = true
	h.seq++
	s.track(h)
}

// Refills returns the loads the caller should start now: hosts with pages in
// the store and a memory queue running low. Each is marked loading until
// Refilled is called for it.
func (s *Scheduler) Refills() []Refill {
	var out []Refill
	for h := range s.due {
		h.loading = true
		out = append(out, Refill{Host: h.name, AfterID: h.cursor, Limit: s.cfg.QueueCap - len(h.queue), seq: h.seq, gen: h.gen})
		s.track(h)
	}
	return out
}

// track files h under the hosts with pages in the store, and under those
// due a refill, according to its state.
func (s *Scheduler) track(h *host) {
	if h.overflow || h.loading {
		s.stored[h] = struct{}{}
	} else {
		delete(s.stored, h)
	}
	if h.overflow && !h.loading && len(h.queue) <= s.cfg.QueueCap/4 {
		s.due[h] = struct{}{}
	} else {
		delete(s.due, h)
	}
}

// Refilled hands over the pages a Refill loaded.
func (s *Scheduler) Refilled(r Refill, pages []store.Page) {
	h := s.host(r.Host)
	h.loading = false
	if !h.held || h.gen != r.gen {
		// Loaded under an older hold: the store may have changed since.
		s.track(h)
		return
	}
	for _, p := range pages {
		h.queue = append(h.queue, Task{Page: p, Attempt: p.Attempts + 1})
		h.cursor = max(h.cursor, p.ID)
	}
	s.pending += len(pages)
	// The store holds nothing more only if the load came back short and no
	// page was admitted to this host while it ran.
	if len(pages) < r.Limit && h.seq == r.seq {
		h.overflow = false
	}
	s.track(h)
	s.update(h)
}

// Next returns a task whose host may start a request at now.
func (s *Scheduler) Next(now time.Time) (Task, bool) {
	if len(s.ready) == 0 || s.ready[0].at.After(now) {
		return Task{}, false
	}
	h := s.ready[0]
	var t Task
	if h.down {
		t = h.queue[0]
		h.queue[0] = Task{}
		h.queue = h.queue[1:]
		t.HostDown = true
	} else if len(h.delayed) > 0 && !h.notBefore[0].After(now) {
		t = h.delayed[0]
		h.delayed, h.notBefore = h.delayed[1:], h.notBefore[1:]
	} else {
		t = h.queue[0]
		h.queue[0] = Task{}
		h.queue = h.queue[1:]
	}
	h.inflight++
	s.inflight++
	s.pending--
	if h.overflow {
		s.track(h) // the queue shrank: maybe due a refill
	}
	t.Started = now
	if !h.down {
		h.lastStart = now
		h.nextStart = maxTime(h.nextStart, now.Add(h.delay))
	}
	s.update(h)
	return t, true
}

// NextAt reports when Next will next have a task, if any host has work.
func (s *Scheduler) NextAt() (time.Time, bool) {
	if len(s.ready) == 0 {
		return time.Time{}, false
	}
	return s.ready[0].at, true
}

// Done frees the slot of a finished task that taught nothing about its
// host: Finish(t, Finish{}).
func (s *Scheduler) Done(t Task) { s.Finish(t, Finish{}) }

// Finish frees the slot of t, applies what its end taught about the host
// (see Signal), and, with f.RetryAt, queues the page's next attempt for
// then or later, ahead of the host's first attempts. A page of a host
// that is down is queued again at once and comes back marked HostDown.
func (s *Scheduler) Finish(t Task, f Finish) {
	h := s.host(t.Page.Host)
	h.inflight--
	s.inflight--
	if !h.held {
		// Released or lost meanwhile: its pace went with the lease, and a
		// retry is the store's (DeferPages).
		s.update(h)
		return
	}
	if !t.HostDown {
		s.signal(h, t.Started, f)
	}
	if f.RetryAt.IsZero() {
		s.update(h)
		return
	}
	s.pending++
	if !f.Deferred {
		t.Attempt++
	}
	if f.Signal == SignalThrottle || f.Signal == SignalBusy {
		t.Throttled++
		if t.ThrottledSince.IsZero() {
			t.ThrottledSince = f.At
		}
	}
	if h.down {
		h.queue = append([]Task{t}, h.queue...)
		s.update(h)
		return
	}
	i := len(h.notBefore)
	for i > 0 && h.notBefore[i-1].After(f.RetryAt) {
		i--
	}
	h.delayed = slices.Insert(h.delayed, i, t)
	h.notBefore = slices.Insert(h.notBefore, i, f.RetryAt)
	s.update(h)
}

// SetRobots records that robots.txt of host is known, lifting the host to its
// full concurrency and raising its delay to crawlDelay if that is longer.
func (s *Scheduler) SetRobots(hostName string, crawlDelay time.Duration) {
	h := s.host(hostName)
	if h.robots {
		return
	}
	h.robots = true
	h.base = max(h.base, crawlDelay)
	h.delay = max(h.delay, h.base)
	if !h.lastStart.IsZero() {
		h.nextStart = maxTime(h.nextStart, h.lastStart.Add(h.delay))
	}
	s.update(h)
}

// InFlight is the number of tasks handed out and not yet Done or Retried.
func (s *Scheduler) InFlight() int { return s.inflight }

// Idle reports whether the run has nothing left: no task in memory or in
// flight, and no host with pages left in the store.
func (s *Scheduler) Idle() bool {
	return s.inflight == 0 && s.pending == 0 && len(s.stored) == 0
}

// Pending is the number of tasks held in memory and not in flight.
func (s *Scheduler) Pending() int { return s.pending }

// update places h in or out of the ready heap, keyed by when it may start
// its next request.
func (s *Scheduler) update(h *host) {
	hasWork := len(h.queue) > 0 || len(h.delayed) > 0
	if hasWork && h.down {
		// Its pages fail without a request: no pace, no slot limit.
		h.at = time.Time{}
		s.fix(h)
		return
	}
	if !hasWork || h.inflight >= h.limitNow(s.cfg.ConcurrencyPerHost) {
		if h.index >= 0 {
			heap.Remove(&s.ready, h.index)
		}
		return
	}
	at := h.nextStart
	if len(h.queue) == 0 {
		at = maxTime(at, h.notBefore[0])
	}
	h.at = at
	s.fix(h)
}

// fix places h in the ready heap at h.at.
func (s *Scheduler) fix(h *host) {
	if h.index >= 0 {
		heap.Fix(&s.ready, h.index)
	} else {
		heap.Push(&s.ready, h)
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

type hostHeap []*host

func (q hostHeap) Len() int { return len(q) }
func (q hostHeap) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].name < q[j].name
}
func (q hostHeap) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *hostHeap) Push(x any) {
	h := x.(*host)
	h.index = len(*q)
	*q = append(*q, h)
}
func (q *hostHeap) Pop() any {
	old := *q
	h := old[len(old)-1]
	old[len(old)-1] = nil
	h.index = -1
	*q = old[:len(old)-1]
	return h
}
