// Package clocktest provides a fake trawl.Clock for tests: time stands
// still until the test advances it, by hand or by letting Run jump to each
// timer's deadline in turn, so timing tests assert exact durations without
// wall-clock slack and without waiting for them.
package clocktest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// Clock is a fake trawl.Clock. It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timer // pending, in no order
}

var _ trawl.Clock = (*Clock)(nil)

// New returns a clock that reads start until it is advanced.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires when the clock reaches now+d; at once
// if d <= 0.
func (c *Clock) NewTimer(d time.Duration) trawl.Timer {
	t := &timer{clock: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.schedule(t, d)
	return t
}

// schedule arms t for now+d, or fires it at once. Callers hold c.mu.
func (c *Clock) schedule(t *timer, d time.Duration) {
	t.deadline = c.now.Add(d)
	if d <= 0 {
		t.fire(c.now)
		return
	}
	c.timers = append(c.timers, t)
}

// unschedule disarms t, reporting whether it was pending. Callers hold c.mu.
func (c *Clock) unschedule(t *timer) bool {
	i := slices.Index(c.timers, t)
	if i < 0 {
		return false
	}
	c.timers = slices.Delete(c.timers, i, i+1)
	return true
}

// Advance moves the clock forward by d and fires, in deadline order, every
// timer due by then.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advanceTo(c.now.Add(d))
}

func (c *Clock) advanceTo(to time.Time) {
	slices.SortFunc(c.timers, func(a, b *timer) int { return a.deadline.Compare(b.deadline) })
	n := 0
	for n < len(c.timers) && !c.timers[n].deadline.After(to) {
		n++
	}
	due := slices.Clone(c.timers[:n])
	c.timers = slices.Delete(c.timers, 0, n)
	for _, t := range due {
		t.fire(t.deadline)
	}
	if to.After(c.now) {
		c.now = to
	}
}

// AdvanceToNext moves the clock to the earliest pending timer's deadline
// and fires the timers due then. It reports false, and does nothing, when
// no timer is pending.
func (c *Clock) AdvanceToNext() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return false
	}
	next := c.timers[0].deadline
	for _, t := range c.timers[1:] {
		if t.deadline.Before(next) {
			next = t.deadline
		}
	}
	c.advanceTo(next)
	return true
}

// Pending returns the number of timers waiting to fire.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Run advances the clock from timer to timer until ctx is done: every
// interval of real time, if a timer is pending, the clock jumps to the
// earliest deadline. Time therefore never moves between timers, and a
// component that waits for a delay on this clock sees exactly that delay
// pass, however long the real wait between jumps was. Run returns when ctx
// is done; start it in a goroutine.
//
// Work that takes real time (an HTTP request) may see the clock jump while
// it runs, to the deadline of some other timer: measure durations at the
// points where the component under test reads the clock, not at the far
// end of a connection.
func (c *Clock) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			c.AdvanceToNext()
		}
	}
}

// Start runs the clock (Run) until the test ends, with a 1ms interval.
func (c *Clock) Start(tb testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx, time.Millisecond)
	}()
	tb.Cleanup(func() { cancel(); <-done })
}

type timer struct {
	clock    *Clock
	ch       chan time.Time
	deadline time.Time
}

// fire sends at on the channel unless a value is already waiting there.
func (t *timer) fire(at time.Time) {
	select {
	case t.ch <- at:
	default:
	}
}

func (t *timer) C() <-chan time.Time { return t.ch }

// Stop disarms the timer and drops a value not yet received, as
// time.Timer does since Go 1.23.
func (t *timer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	t.drain()
	return t.clock.unschedule(t)
}

// Reset rearms the timer for d from the clock's now.
func (t *timer) Reset(d time.Duration) bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	t.drain()
	was := t.clock.unschedule(t)
	t.clock.schedule(t, d)
	return was
}

func (t *timer) drain() {
	select {
	case <-t.ch:
	default:
	}
}
