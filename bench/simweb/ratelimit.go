package simweb

import (
	"sync"
	"time"
)

// RetryAfterThrottle is the Retry-After, in seconds, of a 429 sent by a rate-limited host.
const RetryAfterThrottle = 1

// limiter is the per-host token buckets of Config.RateLimit: burst 1, refilled at RateLimit
// tokens per second. It also remembers when each host last answered 429, to count the requests
// that arrive before that answer's Retry-After has passed.
type limiter struct {
	rate float64 // tokens per second; 0 = no limit

	mu      sync.Mutex
	tokens  []float64
	last    []time.Time // last refill
	last429 []time.Time // when each host last answered 429
	early   int         // requests that arrived within Retry-After of their host's last 429
	n429    int
	now     func() time.Time
}

func newLimiter(rate float64, hosts int) *limiter {
	l := &limiter{rate: rate, now: time.Now}
	if rate > 0 {
		l.tokens = make([]float64, hosts)
		l.last = make([]time.Time, hosts)
		l.last429 = make([]time.Time, hosts)
		for h := range l.tokens {
			l.tokens[h] = 1
		}
	}
	return l
}

// allow takes a token of host h, and reports false, counting a 429, when there is none. A
// request that arrives less than RetryAfterThrottle after the host's previous 429 counts as
// early, whatever its answer: it ignored the server's Retry-After (or was already in flight when
// that answer went out: the server cannot tell the two apart).
func (l *limiter) allow(h int) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if t := l.last429[h]; !t.IsZero() && now.Sub(t) < RetryAfterThrottle*time.Second {
		l.early++
	}
	if !l.last[h].IsZero() {
		l.tokens[h] = min(1, l.tokens[h]+now.Sub(l.last[h]).Seconds()*l.rate)
	}
	l.last[h] = now
	if l.tokens[h] >= 1 {
		l.tokens[h]--
		return true
	}
	l.n429++
	l.last429[h] = now
	return false
}

// counts returns the 429s answered and the early requests so far.
func (l *limiter) counts() (n429, early int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n429, l.early
}
