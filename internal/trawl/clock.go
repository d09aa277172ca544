package trawl

import "time"

// Clock is the source of time of the components that wait: the crawl
// engine's politeness delays, throttle pauses, breaker cool-downs, retry
// backoff and commit linger all read it and set their timers on it, so a
// test can run them on a fake clock (package clocktest) without waiting.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that sends the time on its channel once d
	// has passed, like time.NewTimer.
	NewTimer(d time.Duration) Timer
}

// Timer is a single-event timer of a Clock, with the semantics of
// *time.Timer since Go 1.23: after Stop or Reset returns, no stale value
// is received from C.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
	Reset(d time.Duration) bool
}

// SystemClock is the real clock: time.Now and time.NewTimer.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer returns a timer of package time.
func (SystemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time        { return t.t.C }
func (t systemTimer) Stop() bool                 { return t.t.Stop() }
func (t systemTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }
