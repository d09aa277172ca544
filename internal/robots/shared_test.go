package robots_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/robots"
)

// sharedRecords is an in-memory stand-in for the store's shared records
// (whose claim rules the store conformance suite tests): one record and
// one claim per origin. Each Cache gets its own handle, named as a worker.
type sharedRecords struct {
	now func() time.Time

	mu      sync.Mutex
	records map[string]*robots.Record
	holder  map[string]string
	until   map[string]time.Time
	puts    int
}

func newSharedRecords(now func() time.Time) *sharedRecords {
	return &sharedRecords{now: now, records: map[string]*robots.Record{}, holder: map[string]string{}, until: map[string]time.Time{}}
}

type sharedHandle struct {
	s      *sharedRecords
	worker string
}

func (h sharedHandle) Claim(_ context.Context, origin string, ttl time.Duration) (*robots.Record, bool, error) {
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	rec := s.records[origin]
	if rec != nil && rec.Expires.After(now) {
		return rec, false, nil
	}
	if s.until[origin].After(now) {
		return nil, false, nil
	}
	s.holder[origin], s.until[origin] = h.worker, now.Add(ttl)
	return rec, true, nil
}

func (h sharedHandle) Put(_ context.Context, origin string, rec *robots.Record) error {
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec != nil {
		s.records[origin] = rec
		s.puts++
	}
	if s.holder[origin] == h.worker {
		s.holder[origin], s.until[origin] = "", time.Time{}
	}
	return nil
}

// failingShared fails every call, as a store that is down.
type failingShared struct{ claimErr, putErr error }

func (f failingShared) Claim(context.Context, string, time.Duration) (*robots.Record, bool, error) {
	return nil, f.claimErr == nil, f.claimErr
}
func (f failingShared) Put(context.Context, string, *robots.Record) error { return f.putErr }

// another returns a second Cache on b's server and clock with cfg, as
// another process would have.
func (b *testBundle) another(t *testing.T, cfg robots.Config) *robots.Cache {
	t.Helper()
	client := fetch.New(fetch.Config{})
	t.Cleanup(client.Close)
	cfg.Now = b.clock.Now
	return robots.New(client, cfg)
}

func checkWith(t *testing.T, c *robots.Cache, b *testBundle, path string) robots.Decision {
	t.Helper()
	d, err := c.Check(t.Context(), mustParse(t, b.server.URL+path), ua)
	if err != nil {
		t.Fatalf("Check(%s): %v", path, err)
	}
	return d
}

// TestSharedFetchesOnceForAllCaches: three caches (three processes) with
// one shared store fetch robots.txt once between them, and all decide by
// its rules; after the TTL one of them fetches it again.
func TestSharedFetchesOnceForAllCaches(t *testing.T) {
	t.Parallel()
	b := setup(t, text("User-agent: *\nDisallow: /private\nCrawl-delay: 2\n"), robots.Config{})
	shared := newSharedRecords(b.clock.Now)
	var caches []*robots.Cache
	for _, w := range []string{"a", "b", "c"} {
		caches = append(caches, b.another(t, robots.Config{Shared: sharedHandle{shared, w}}))
	}
	for _, c := range caches {
		if d := checkWith(t, c, b, "/private/x"); d.Allowed || d.CrawlDelay != 2*time.Second {
			t.Errorf("Check(/private/x) = %+v, want disallowed with Crawl-delay 2s", d)
		}
		if d := checkWith(t, c, b, "/public"); !d.Allowed {
			t.Errorf("Check(/public) = %+v, want allowed", d)
		}
	}
	if got := b.hits.Load(); got != 1 {
		t.Errorf("server got %d robots.txt requests from three caches, want 1", got)
	}
	b.clock.Advance(robots.TTLDefault)
	b.setRobots(text("User-agent: *\nDisallow: /\n"))
	for _, c := range caches {
		if d := checkWith(t, c, b, "/public"); d.Allowed {
			t.Errorf("Check(/public) after the TTL = %+v, want the new file's disallow", d)
		}
	}
	if got := b.hits.Load(); got != 2 {
		t.Errorf("server got %d robots.txt requests after the TTL, want 2", got)
	}
}

// TestSharedClaimerDies: another process claimed the fetch and died; the
// cache waits for the claim to expire, then fetches itself.
func TestSharedClaimerDies(t *testing.T) {
	t.Parallel()
	b := setup(t, text("User-agent: *\nDisallow: /private\n"), robots.Config{})
	shared := newSharedRecords(time.Now)  // the claim expires in real time
	const timeout = 50 * time.Millisecond // a claim lasts twice as long
	if _, claimed, err := (sharedHandle{shared, "dead"}).Claim(t.Context(), originOf(b), 2*timeout); err != nil || !claimed {
		t.Fatalf("claim of the dead process: %v, %v", claimed, err)
	}
	c := b.another(t, robots.Config{Shared: sharedHandle{shared, "live"}, Timeout: timeout, SharedPoll: 5 * time.Millisecond})
	start := time.Now()
	if d := checkWith(t, c, b, "/private"); d.Allowed {
		t.Errorf("Check(/private) = %+v, want disallowed", d)
	}
	if waited := time.Since(start); waited < 2*timeout-10*time.Millisecond {
		t.Errorf("Check returned after %v, before the dead claim expired (%v)", waited, 2*timeout)
	}
	if got := b.hits.Load(); got != 1 {
		t.Errorf("server got %d robots.txt requests, want 1", got)
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.puts != 1 || shared.holder[originOf(b)] != "" {
		t.Errorf("after the takeover: %d puts, claim held by %q; want 1 put and no claim", shared.puts, shared.holder[originOf(b)])
	}
}

// originOf is the origin key of b's server: its URL has the explicit port.
func originOf(b *testBundle) string { return b.server.URL }

// TestSharedFailureFallsBack: when the shared store fails, Check fetches
// for itself and decides as without it, and says so at warn.
func TestSharedFailureFallsBack(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]failingShared{
		"claim": {claimErr: errors.New("database down")},
		"put":   {putErr: errors.New("database down")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			var mu sync.Mutex
			log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelWarn}))
			b := setup(t, text("User-agent: *\nDisallow: /private\n"), robots.Config{Shared: f, Logger: log})
			if d := b.check(t, "/private"); d.Allowed || d.Unreachable {
				t.Errorf("Check(/private) = %+v, want disallowed by the rules", d)
			}
			b.wantFetches(t, 1)
			mu.Lock()
			defer mu.Unlock()
			if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "database down") {
				t.Errorf("log = %q, want a warning with the store's error", buf.String())
			}
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestSharedKeepsRulesWhenUnreachable: after the TTL robots.txt answers
// 503; the cache that refetches has no rules of its own (a new process)
// but the shared record's stand in (RFC 9309 §2.4), and a third cache
// reads them from the record it left.
func TestSharedKeepsRulesWhenUnreachable(t *testing.T) {
	t.Parallel()
	b := setup(t, text("User-agent: *\nDisallow: /private\n"), robots.Config{})
	shared := newSharedRecords(b.clock.Now)
	first := b.another(t, robots.Config{Shared: sharedHandle{shared, "first"}})
	if d := checkWith(t, first, b, "/private"); d.Allowed {
		t.Fatalf("Check(/private) = %+v, want disallowed", d)
	}
	b.clock.Advance(robots.TTLDefault)
	b.setRobots(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	for _, w := range []string{"second", "third"} {
		c := b.another(t, robots.Config{Shared: sharedHandle{shared, w}})
		if d := checkWith(t, c, b, "/public"); !d.Allowed || d.Unreachable {
			t.Errorf("%s: Check(/public) = %+v, want allowed by the earlier rules", w, d)
		}
		if d := checkWith(t, c, b, "/private"); d.Allowed || d.Unreachable {
			t.Errorf("%s: Check(/private) = %+v, want disallowed by the earlier rules", w, d)
		}
	}
	if got := b.hits.Load(); got != 2 {
		t.Errorf("server got %d robots.txt requests, want 2 (one per TTL)", got)
	}
	// Without earlier rules, unreachable is shared as unreachable.
	b.clock.Advance(robots.ErrorTTLDefault)
	shared.mu.Lock()
	clear(shared.records)
	shared.mu.Unlock()
	for _, w := range []string{"fourth", "fifth"} {
		c := b.another(t, robots.Config{Shared: sharedHandle{shared, w}})
		if d := checkWith(t, c, b, "/public"); d.Allowed || !d.Unreachable || d.Class != fetch.ClassHTTP5xx {
			t.Errorf("%s: Check(/public) = %+v, want unreachable (http_5xx)", w, d)
		}
	}
	if got := b.hits.Load(); got != 3 {
		t.Errorf("server got %d robots.txt requests, want 3", got)
	}
}
