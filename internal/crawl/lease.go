package crawl

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/trawl-dev/trawl/internal/frontier"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// ExclusiveWorker is the worker name of an exclusive run (RunParams.Exclusive):
// one name for every process, so that a process resuming the run after a
// crash takes over the leases its predecessor left behind at once instead
// of waiting for them to expire.
const ExclusiveWorker = "exclusive"

// defaultWorker names an Engine uniquely: host name, pid and start time.
func defaultWorker() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "localhost"
	}
	return fmt.Sprintf("%s/%d/%d", h, os.Getpid(), time.Now().UnixNano())
}

// leaser does the store's half of the host leases of one run, in its own
// goroutine so that the loop never waits for the store: it claims and
// releases hosts when the loop asks, renews every lease it holds on a
// timer, and tells the loop what it got and what it lost through events.
// Requests are applied in order, releases before a claim, so a host
// released and claimed again is seen free.
type leaser struct {
	c      *crawler
	worker string

	mu       sync.Mutex
	claim    int  // hosts wanted by the next claim; 0 = none asked
	checkEnd bool // the asking loop is idle: say whether the run has queued pages left
	releases []store.HostRelease
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}

	held leaseSet // owned by the leaser goroutine until done
}

// leaseSet maps leased hosts to the pace their lease came with.
type leaseSet map[string]store.HostPace

// claimed is the answer to a claim.
type claimed struct {
	leases []store.HostLease
	// empty is set when the claim got nothing and the run has no queued
	// page left anywhere (asked with checkEnd).
	empty bool
}

func newLeaser(c *crawler, worker string, adopted []string) *leaser {
	l := &leaser{c: c, worker: worker, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		held: leaseSet{}}
	for _, h := range adopted {
		l.held[h] = store.HostPace{}
	}
	return l
}

// ask requests a claim of up to n hosts; it never blocks.
func (l *leaser) ask(n int, checkEnd bool) {
	l.mu.Lock()
	l.claim, l.checkEnd = max(n, 1), checkEnd
	l.mu.Unlock()
	l.poke()
}

// release requests hosts be handed back; it never blocks.
func (l *leaser) release(r []store.HostRelease) {
	l.mu.Lock()
	l.releases = append(l.releases, r...)
	l.mu.Unlock()
	l.poke()
}

func (l *leaser) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// send hands an event to the loop unless the leaser is stopping.
func (l *leaser) send(ev event) bool {
	select {
	case l.c.events <- ev:
		return true
	case <-l.stop:
		return false
	}
}

// run serves requests and renews leases until stop is closed.
func (l *leaser) run(ctx context.Context) {
	defer close(l.done)
	cfg := &l.c.e.cfg
	renew := time.NewTicker(cfg.LeaseRenew) // the store's clock is the wall clock
	defer renew.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-renew.C:
			if len(l.held) == 0 {
				continue
			}
			hosts := make([]string, 0, len(l.held))
			for h := range l.held {
				hosts = append(hosts, h)
			}
			start := time.Now()
			lost, err := l.c.e.store.RenewHosts(ctx, l.c.run.ID, l.worker, hosts, cfg.LeaseTTL)
			if err != nil {
				l.send(event{err: fmt.Errorf("renew host leases: %w", err)})
				continue
			}
			for _, h := range lost {
				delete(l.held, h)
			}
			l.extend(start, hosts, lost)
			if len(lost) > 0 && !l.send(event{lost: lost}) {
				return
			}
		case <-l.wake:
			l.mu.Lock()
			n, checkEnd, rel := l.claim, l.checkEnd, l.releases
			l.claim, l.checkEnd, l.releases = 0, false, nil
			l.mu.Unlock()
			if len(rel) > 0 {
				if err := l.c.e.store.ReleaseHosts(ctx, l.c.run.ID, l.worker, rel); err != nil {
					l.send(event{err: fmt.Errorf("release hosts: %w", err)})
					continue
				}
				for _, r := range rel {
					delete(l.held, r.Host)
				}
				l.c.pausesMu.Lock()
				for _, r := range rel {
					delete(l.c.leaseUntil, r.Host)
				}
				l.c.pausesMu.Unlock()
			}
			if n == 0 {
				continue
			}
			got, err := l.claimHosts(ctx, n, checkEnd)
			if err != nil {
				l.send(event{err: err})
				continue
			}
			if !l.send(event{claimed: got}) {
				return
			}
		}
	}
}

func (l *leaser) claimHosts(ctx context.Context, n int, checkEnd bool) (*claimed, error) {
	start := time.Now()
	leases, err := l.c.e.store.ClaimHosts(ctx, l.c.run.ID, l.worker, n, l.c.e.cfg.LeaseTTL)
	if err != nil {
		return nil, fmt.Errorf("claim hosts: %w", err)
	}
	hosts := make([]string, len(leases))
	for i, le := range leases {
		l.held[le.Host] = le.Pace
		hosts[i] = le.Host
	}
	l.extend(start, hosts, nil)
	got := &claimed{leases: leases}
	if len(leases) == 0 && checkEnd {
		left, err := l.c.e.store.QueuedHosts(ctx, l.c.run.ID)
		if err != nil {
			return nil, fmt.Errorf("queued hosts: %w", err)
		}
		got.empty = len(left) == 0
	}
	return got, nil
}

// extend records that the leases of hosts, but not those lost, last at
// least until start + the TTL, less a margin of a tenth of the TTL for the
// requests started just before (crawler.leaseUntil). An exclusive run has
// no one to hand its hosts to and skips it.
func (l *leaser) extend(start time.Time, hosts, lost []string) {
	if l.worker == ExclusiveWorker {
		return
	}
	ttl := l.c.e.cfg.LeaseTTL
	until := start.Add(ttl - ttl/10)
	l.c.pausesMu.Lock()
	defer l.c.pausesMu.Unlock()
	for _, h := range hosts {
		l.c.leaseUntil[h] = until
	}
	for _, h := range lost {
		delete(l.c.leaseUntil, h)
	}
}

// close stops the leaser and returns the hosts it still leases, with the
// pace of a release asked for and not yet done, else of their lease.
func (l *leaser) close() leaseSet {
	close(l.stop)
	<-l.done
	for _, r := range l.releases {
		if _, ok := l.held[r.Host]; ok {
			l.held[r.Host] = r.Pace
		}
	}
	return l.held
}

// toStorePace turns a scheduler pace (engine clock) into a lease's pace
// (wall clock, as the store compares it).
func toStorePace(p frontier.Pace, clock trawl.Clock) store.HostPace {
	out := store.HostPace{Delay: p.Delay, Allowance: p.Allowance, Failures: p.Failures}
	if wait := p.NotBefore.Sub(clock.Now()); !p.NotBefore.IsZero() && wait > 0 {
		out.NotBefore = time.Now().Add(wait)
	}
	return out
}

// fromStorePace is the inverse of toStorePace.
func fromStorePace(p store.HostPace, clock trawl.Clock) frontier.Pace {
	out := frontier.Pace{Delay: p.Delay, Allowance: p.Allowance, Failures: p.Failures}
	if wait := time.Until(p.NotBefore); !p.NotBefore.IsZero() && wait > 0 {
		out.NotBefore = clock.Now().Add(wait)
	}
	return out
}
