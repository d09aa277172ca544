package fetch

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff bounds.
const (
	BackoffBase   = 500 * time.Millisecond // the wait before the first retry, before jitter
	BackoffMax    = 30 * time.Second       // the cap of the exponential wait, before jitter
	MaxRetryAfter = 2 * time.Minute        // the cap of a wait that honours Retry-After
)

// Backoff returns the wait before retry number attempt (1-based; smaller values count as 1): BackoffBase doubled per
// attempt and capped at BackoffMax, with jitter drawn uniformly from [d/2, d] so that retries to one host spread out.
// If retryAfter > 0 the wait is max(retryAfter, computed), capped at MaxRetryAfter: a server asking for more than two
// minutes gets two minutes, and the crawler's retry budget decides the rest. rnd nil uses the global source.
func Backoff(attempt int, retryAfter time.Duration, rnd *rand.Rand) time.Duration {
	attempt = max(attempt, 1)
	d := BackoffMax
	// 500ms << 6 = 32s already exceeds the cap; the guard also keeps the shift from overflowing.
	if attempt <= 6 {
		d = min(BackoffBase<<(attempt-1), BackoffMax)
	}
	half := d / 2
	var jitter int64
	if rnd != nil {
		jitter = rnd.Int64N(int64(d-half) + 1)
	} else {
		jitter = rand.Int64N(int64(d-half) + 1)
	}
	d = half + time.Duration(jitter)
	if retryAfter > 0 {
		d = min(max(d, retryAfter), MaxRetryAfter)
	}
	return d
}

// parseRetryAfter reads a Retry-After value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date relative to now. It
// returns 0 when the value is missing, invalid or in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Cap before converting so an absurd value cannot overflow time.Duration.
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return max(t.Sub(now), 0)
}
