package clocktest_test

import (
	"context"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/trawl/clocktest"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func received(tm interface{ C() <-chan time.Time }) (time.Time, bool) {
	select {
	case at := <-tm.C():
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestTimersFireInOrderAtTheirDeadline(t *testing.T) {
	c := clocktest.New(t0)
	a := c.NewTimer(2 * time.Second)
	b := c.NewTimer(time.Second)
	c.Advance(999 * time.Millisecond)
	if _, ok := received(b); ok {
		t.Fatal("timer fired before its deadline")
	}
	if !c.AdvanceToNext() {
		t.Fatal("AdvanceToNext = false with two timers pending")
	}
	if got, want := c.Now(), t0.Add(time.Second); !got.Equal(want) {
		t.Errorf("Now after AdvanceToNext = %v, want %v", got, want)
	}
	if at, ok := received(b); !ok || !at.Equal(t0.Add(time.Second)) {
		t.Errorf("first timer: %v, %v; want its deadline", at, ok)
	}
	if _, ok := received(a); ok {
		t.Error("second timer fired early")
	}
	c.Advance(time.Hour)
	if at, ok := received(a); !ok || !at.Equal(t0.Add(2*time.Second)) {
		t.Errorf("second timer: %v, %v; want its deadline, not the time advanced to", at, ok)
	}
	if c.AdvanceToNext() {
		t.Error("AdvanceToNext = true with no timer pending")
	}
}

func TestStopAndResetDropStaleValues(t *testing.T) {
	c := clocktest.New(t0)
	tm := c.NewTimer(time.Second)
	c.Advance(time.Second)
	if tm.Stop() {
		t.Error("Stop of a fired timer = true")
	}
	if _, ok := received(tm); ok {
		t.Error("a value fired before Stop was still received")
	}
	if tm.Reset(time.Second) {
		t.Error("Reset of a stopped timer = true")
	}
	if !tm.Reset(2 * time.Second) {
		t.Error("Reset of a pending timer = false")
	}
	c.Advance(time.Second)
	if _, ok := received(tm); ok {
		t.Error("timer fired at its old deadline after Reset")
	}
	c.Advance(time.Second)
	if _, ok := received(tm); !ok {
		t.Error("timer did not fire at its new deadline")
	}
	if z := c.NewTimer(0); z == nil {
		t.Fatal("nil timer")
	} else if _, ok := received(z); !ok {
		t.Error("a timer of 0 did not fire at once")
	}
}

func TestRunJumpsFromTimerToTimer(t *testing.T) {
	c := clocktest.New(t0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go c.Run(ctx, time.Millisecond)
	start := time.Now()
	tm := c.NewTimer(time.Hour)
	select {
	case at := <-tm.C():
		if !at.Equal(t0.Add(time.Hour)) {
			t.Errorf("fired at %v, want %v", at, t0.Add(time.Hour))
		}
	case <-ctx.Done():
		t.Fatal("Run did not fire an hour's timer within 5s")
	}
	if got := c.Now(); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("Now = %v, want exactly the deadline", got)
	}
	t.Logf("an hour of fake time took %v", time.Since(start))
}
