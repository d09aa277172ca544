package simweb

import (
	"testing"
	"time"
)

// TestLimiter drives the token bucket with an injected clock: burst 1,
// refill at the rate, and early requests counted within Retry-After of a
// host's last 429.
func TestLimiter(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	l := newLimiter(2, 2) // 2 tokens/s: one every 500ms
	l.now = func() time.Time { return now }
	steps := []struct {
		after     time.Duration
		host      int
		wantAllow bool
	}{
		{0, 0, true},                       // the burst token
		{0, 0, false},                      // empty: 429
		{0, 1, true},                       // another host has its own bucket
		{400 * time.Millisecond, 0, false}, // 0.8 tokens: 429, and early
		{500 * time.Millisecond, 0, true},  // refilled; still early (500ms after the last 429)
		{1100 * time.Millisecond, 0, true}, // on time
	}
	for i, s := range steps {
		now = now.Add(s.after)
		if got := l.allow(s.host); got != s.wantAllow {
			t.Errorf("step %d: allow(%d) = %v, want %v", i, s.host, got, s.wantAllow)
		}
	}
	if n429, early := l.counts(); n429 != 2 || early != 2 {
		t.Errorf("429s, early = %d, %d; want 2, 2", n429, early)
	}
}

func TestLimiterOff(t *testing.T) {
	t.Parallel()
	l := newLimiter(0, 1)
	for range 100 {
		if !l.allow(0) {
			t.Fatal("allow = false without a rate limit")
		}
	}
}
