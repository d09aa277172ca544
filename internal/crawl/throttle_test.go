package crawl_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/robots"
)

// bucket is a site that enforces a token bucket, as rate limiters do: a
// request that finds no token is answered 429 with Retry-After set to the
// whole seconds until the next token. It records when every page request
// started and when every 429 was sent.
type bucket struct {
	rate  float64 // tokens per second
	burst float64
	pages int // / links to /q/1 ... /q/pages-1

	mu      sync.Mutex
	tokens  float64
	last    time.Time
	starts  []arrival
	rejects []rejection
	served  map[string]bool
}

type arrival struct {
	at   time.Time
	conn string // the client's address: one per connection
}

type rejection struct {
	sent       time.Time // after the handler wrote the response
	conn       string
	retryAfter time.Duration
}

func newBucket(rate, burst float64, pages int) *bucket {
	return &bucket{rate: rate, burst: burst, pages: pages, tokens: burst, served: map[string]bool{}}
}

func (b *bucket) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/robots.txt" {
		http.NotFound(w, r)
		return
	}
	now := time.Now()
	b.mu.Lock()
	b.starts = append(b.starts, arrival{at: now, conn: r.RemoteAddr})
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		wait := math.Ceil((1 - b.tokens) / b.rate)
		b.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(int(wait)))
		w.WriteHeader(http.StatusTooManyRequests)
		b.mu.Lock()
		b.rejects = append(b.rejects, rejection{sent: time.Now(), conn: r.RemoteAddr, retryAfter: time.Duration(wait) * time.Second})
		b.mu.Unlock()
		return
	}
	b.tokens--
	b.served[r.URL.Path] = true
	b.mu.Unlock()
	fmt.Fprintf(w, "<h1>%s</h1>", r.URL.Path)
	if r.URL.Path == "/" {
		for i := 1; i < b.pages; i++ {
			fmt.Fprintf(w, `<a href="/q/%d">q</a>`, i)
		}
	}
}

// early lists the requests that reached the server after a 429 had left it
// and before its Retry-After had passed, each described by how long after
// the 429 it arrived. It is an upper bound: a request the client sent
// before it received the 429 may arrive after the 429 left, as the second
// of a host's two slots does, even on the 429's own connection once the
// transport frees it. The engine's own log tells them apart (earlyStarts).
func (b *bucket) early() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, s := range b.starts {
		for _, r := range b.rejects {
			if s.at.After(r.sent) && s.at.Before(r.sent.Add(r.retryAfter)) {
				out = append(out, s.at.Sub(r.sent).Round(time.Microsecond).String())
				break
			}
		}
	}
	return out
}

// logRecorder keeps the engine's "fetch" and "host paused" debug records.
type logRecorder struct {
	mu      sync.Mutex
	fetches []time.Time
	pauses  [][2]time.Time // when, until
	// started holds, by host, when the scheduler handed out each request
	// that started, in the engine's clock (the "started" attribute).
	started map[string][]time.Time
}

// startedAt returns the engine-clock start times of host's requests, in
// order.
func (l *logRecorder) startedAt(host string) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.started[host])
	slices.SortFunc(out, time.Time.Compare)
	return out
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch r.Message {
	case "fetch":
		l.fetches = append(l.fetches, r.Time)
		var host string
		var started time.Time
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "host":
				host = a.Value.String()
			case "started":
				started = a.Value.Time()
			}
			return true
		})
		if l.started == nil {
			l.started = map[string][]time.Time{}
		}
		l.started[host] = append(l.started[host], started)
	case "host paused":
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "until" {
				l.pauses = append(l.pauses, [2]time.Time{r.Time, a.Value.Time()})
			}
			return true
		})
	}
	return nil
}

// earlyStarts counts the requests the engine started while it knew the
// host was paused. The engine logs both under one lock, in order.
func (l *logRecorder) earlyStarts() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, f := range l.fetches {
		for _, p := range l.pauses {
			if f.After(p[0]) && f.Before(p[1]) {
				n++
				break
			}
		}
	}
	return n
}

// TestRateLimitedSiteLosesNothing crawls a site that allows one request a
// second (burst 1) with default politeness (two requests per host at
// once, no delay, 3 retries). It takes about 30 s, the bucket's minimum
// for 30 pages, mostly waiting, so it runs in parallel with the others.
func TestRateLimitedSiteLosesNothing(t *testing.T) {
	t.Parallel()
	const pages, rate, burst = 30, 1.0, 1.0
	bk := newBucket(rate, burst, pages)
	s := newSite(t, bk)
	b := setup(t, s.URL, `
name: bucket
start_urls: ["{{URL}}/"]
follow: [{css: a}]
items: [{fields: {title: h1}, required: [title]}]
`)
	logs := &logRecorder{}
	fc := fetch.New(fetch.Config{})
	t.Cleanup(fc.Close)
	b.engine = mustEngine(t, b.db, fc, robots.New(fc, robots.Config{}), crawl.Config{Concurrency: 8, Logger: slog.New(logs)})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := b.engine.Run(ctx, crawl.RunParams{Spider: b.sp, Run: b.run})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	minimum := time.Duration((pages - burst) / rate * float64(time.Second))
	bk.mu.Lock()
	requests, rejected := len(bk.starts), len(bk.rejects)
	bk.mu.Unlock()
	early := bk.early()
	t.Logf("pages %d, errors %v, requests %d, 429s %d, started while paused %d, arrived after a 429 and before its Retry-After %d %v, wall %v (minimum %v), hosts %+v",
		res.Stats.Pages, res.Stats.Errors, requests, rejected, logs.earlyStarts(), len(early), early,
		elapsed.Round(time.Millisecond), minimum, res.Hosts)
	if got := res.Stats.ErrorCount(); got != 0 || res.Stats.Items != pages {
		t.Errorf("%d pages failed (%v) and %d items stored, want 0 and %d", got, res.Stats.Errors, res.Stats.Items, pages)
	}
	if n := logs.earlyStarts(); n != 0 {
		t.Errorf("%d requests started before the Retry-After of a 429 had passed, want 0", n)
	}
	if len(logs.fetches) != requests {
		t.Errorf("the engine logged %d request starts, the server saw %d", len(logs.fetches), requests)
	}
	// At the server, only a request that was on its way when the 429 left
	// may arrive before the Retry-After: one, from the host's second slot.
	if len(early) > 1 {
		t.Errorf("%d requests arrived after a 429 and before its Retry-After, want at most 1: %v", len(early), early)
	}
	if limit := minimum * 115 / 100; elapsed > limit {
		t.Errorf("wall time %v, want at most %v (115%% of the bucket's minimum %v)", elapsed, limit, minimum)
	}
	if len(res.Hosts) != 1 || res.Hosts[0].Throttled == 0 || res.Hosts[0].Concurrency != 1 || res.Hosts[0].Delay < time.Second {
		t.Errorf("host reports = %+v, want one throttled host ending at one request at a time, a second apart", res.Hosts)
	}
}
