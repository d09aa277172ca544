package robots_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/fetch/fetchtest"
	"github.com/trawl-dev/trawl/internal/robots"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testBundle is a cache, its clock and a server whose /robots.txt is answered by a swappable handler.
type testBundle struct {
	cache   *robots.Cache
	clock   *clock
	server  *httptest.Server
	hits    atomic.Int64 // requests for /robots.txt
	handler atomic.Pointer[http.Handler]
}

func setup(t *testing.T, robotsHandler http.Handler, cfg robots.Config) *testBundle {
	t.Helper()
	b := &testBundle{clock: &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}
	b.setRobots(robotsHandler)
	b.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			b.hits.Add(1)
		}
		(*b.handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(b.server.Close)
	client := fetch.New(fetch.Config{})
	t.Cleanup(client.Close)
	cfg.Now = b.clock.Now
	b.cache = robots.New(client, cfg)
	return b
}

func (b *testBundle) setRobots(h http.Handler) { b.handler.Store(&h) }

func (b *testBundle) check(t *testing.T, path string) robots.Decision {
	t.Helper()
	d, err := b.cache.Check(t.Context(), mustParse(t, b.server.URL+path), ua)
	if err != nil {
		t.Fatalf("Check(%s): %v", path, err)
	}
	return d
}

// wantFetches checks both the server's count and the cache's own.
func (b *testBundle) wantFetches(t *testing.T, want int64) {
	t.Helper()
	if got := b.hits.Load(); got != want {
		t.Errorf("server got %d robots.txt requests, want %d", got, want)
	}
	if got := b.cache.Fetches(); got != want {
		t.Errorf("Fetches() = %d, want %d", got, want)
	}
}

func text(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(body))
	})
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCheckFetchesOncePerOrigin(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	b := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // hold the first fetch open while the other callers pile up
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte("User-agent: *\nDisallow: /private\n"))
	}), robots.Config{})

	const callers = 100
	var started, done sync.WaitGroup
	decisions := make([]robots.Decision, callers)
	errs := make([]error, callers)
	for i := range callers {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			path := "/public/" + strconv.Itoa(i)
			if i%2 == 1 {
				path = "/private/" + strconv.Itoa(i)
			}
			started.Done()
			decisions[i], errs[i] = b.cache.Check(t.Context(), mustParse(t, b.server.URL+path), ua)
		}()
	}
	started.Wait()
	close(release)
	done.Wait()

	for i := range callers {
		want := robots.Decision{Allowed: i%2 == 0}
		if errs[i] != nil || decisions[i] != want {
			t.Errorf("caller %d: Check = %+v, %v, want %+v, nil", i, decisions[i], errs[i], want)
		}
	}
	b.wantFetches(t, 1)

}

func TestCheckOrigins(t *testing.T) {
	t.Parallel()
	b := setup(t, text("User-agent: *\nDisallow: /x\n"), robots.Config{})
	port := b.server.Listener.Addr().(*net.TCPAddr).Port
	for _, tt := range []struct {
		url         string
		wantFetches int64
	}{
		{fmt.Sprintf("http://127.0.0.1:%d/x", port), 1},
		{fmt.Sprintf("http://127.0.0.1:%d/y?q", port), 1},
		{fmt.Sprintf("http://localhost:%d/x", port), 2}, // another host name is another origin
		{fmt.Sprintf("http://LocalHost:%d/x", port), 2}, // host names are case-insensitive
	} {
		d, err := b.cache.Check(t.Context(), mustParse(t, tt.url), ua)
		if err != nil {
			t.Fatal(err)
		}
		if want := !strings.Contains(tt.url, "/x"); d.Allowed != want {
			t.Errorf("Check(%s).Allowed = %v, want %v", tt.url, d.Allowed, want)
		}
		b.wantFetches(t, tt.wantFetches)
	}
}

func TestCheckStatusRules(t *testing.T) {
	t.Parallel()
	rules := "User-agent: *\nDisallow: /x\n"
	redirects := func(n int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hop := 0
			if s, ok := strings.CutPrefix(r.URL.Path, "/hop/"); ok {
				hop, _ = strconv.Atoi(s)
			}
			if hop == n {
				_, _ = w.Write([]byte(rules))
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", hop+1), http.StatusMovedPermanently)
		})
	}
	allowAll := map[string]robots.Decision{"/x": {Allowed: true}, "/y": {Allowed: true}}
	obeyRules := map[string]robots.Decision{"/x": {Allowed: false}, "/y": {Allowed: true}}
	disallowAll := func(class fetch.Class) map[string]robots.Decision {
		return map[string]robots.Decision{
			"/x": {Unreachable: true, Class: class}, "/y": {Unreachable: true, Class: class}, "/robots.txt": {Allowed: true},
		}
	}
	tests := []struct {
		name    string
		handler http.Handler
		want    map[string]robots.Decision
	}{
		{"2xx is parsed", text(rules), obeyRules},
		{"empty 2xx allows all", text(""), allowAll},
		{"five redirects are followed", redirects(5), obeyRules},
		{"six redirects mean unavailable", redirects(6), allowAll},
		{"redirect loop means unavailable", fetchtest.RedirectLoop(), allowAll},
		{"404 allows all", fetchtest.Status(http.StatusNotFound), allowAll},
		{"401 allows all", fetchtest.Status(http.StatusUnauthorized), allowAll},
		{"403 allows all", fetchtest.Status(http.StatusForbidden), allowAll},
		{"410 allows all", fetchtest.Status(http.StatusGone), allowAll},
		{"429 is unreachable", fetchtest.Status(http.StatusTooManyRequests), disallowAll(fetch.ClassHTTP4xx)},
		{"500 is unreachable", fetchtest.Status(http.StatusInternalServerError), disallowAll(fetch.ClassHTTP5xx)},
		{"503 is unreachable", fetchtest.Status(http.StatusServiceUnavailable), disallowAll(fetch.ClassHTTP5xx)},
		{"corrupt gzip is unreachable", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write([]byte("not gzip"))
		}), disallowAll(fetch.ClassDecode)},
		{"a body over MaxSize is cut, not refused", text(rules + strings.Repeat("# pad\n", 200_000)), obeyRules},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.handler, robots.Config{})
			got := map[string]robots.Decision{}
			for path := range tt.want {
				got[path] = b.check(t, path)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decisions (-want +got):\n%s", diff)
			}
			b.wantFetches(t, 1)
		})
	}
}

func TestCheckTimeoutIsUnreachable(t *testing.T) {
	t.Parallel()
	b := setup(t, fetchtest.Slow(time.Minute), robots.Config{Timeout: 200 * time.Millisecond})
	if got, want := b.check(t, "/x"), (robots.Decision{Unreachable: true, Class: fetch.ClassTimeout}); got != want {
		t.Errorf("Check = %+v, want %+v", got, want)
	}
}

func TestCheckConnectionRefusedIsUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	c := robots.New(fetch.New(fetch.Config{}), robots.Config{})
	d, err := c.Check(t.Context(), mustParse(t, "http://"+addr+"/page"), ua)
	if want := (robots.Decision{Unreachable: true, Class: fetch.ClassConnect}); err != nil || d != want {
		t.Errorf("Check = %+v, %v, want %+v, nil", d, err, want)
	}
}

func TestCheckRefetchesAfterErrorTTL(t *testing.T) {
	t.Parallel()
	const errorTTL = 30 * time.Second
	b := setup(t, fetchtest.Status(http.StatusInternalServerError), robots.Config{ErrorTTL: errorTTL})
	unreachable := robots.Decision{Unreachable: true, Class: fetch.ClassHTTP5xx}
	if got := b.check(t, "/page"); got != unreachable {
		t.Fatalf("Check = %+v, want %+v", got, unreachable)
	}
	b.setRobots(text("User-agent: *\nDisallow: /private\n"))
	b.clock.Advance(errorTTL - time.Second)
	if got := b.check(t, "/page"); got != unreachable {
		t.Errorf("before ErrorTTL: Check = %+v, want the cached %+v", got, unreachable)
	}
	b.wantFetches(t, 1)

	b.clock.Advance(time.Second)
	if got, want := b.check(t, "/page"), (robots.Decision{Allowed: true}); got != want {
		t.Errorf("after ErrorTTL: Check = %+v, want %+v", got, want)
	}
	if got, want := b.check(t, "/private"), (robots.Decision{}); got != want {
		t.Errorf("after ErrorTTL: Check(/private) = %+v, want %+v", got, want)
	}
	b.wantFetches(t, 2)
}

func TestCheckRefetchesAfterTTL(t *testing.T) {
	t.Parallel()
	const ttl = time.Hour
	b := setup(t, text("User-agent: *\nDisallow: /old\n"), robots.Config{TTL: ttl})
	if b.check(t, "/old").Allowed {
		t.Error("Check(/old).Allowed = true, want false")
	}
	b.setRobots(text("User-agent: *\nDisallow: /new\n"))
	b.clock.Advance(ttl - time.Nanosecond)
	if b.check(t, "/old").Allowed {
		t.Error("before TTL: Check(/old).Allowed = true, want the cached false")
	}
	b.wantFetches(t, 1)
	b.clock.Advance(time.Nanosecond)
	if !b.check(t, "/old").Allowed || b.check(t, "/new").Allowed {
		t.Error("after TTL: the new robots.txt is not in force")
	}
	b.wantFetches(t, 2)
}

func TestCheckKeepsRulesWhenRefetchFails(t *testing.T) {
	t.Parallel()
	const ttl, errorTTL = time.Hour, time.Minute
	b := setup(t, text("User-agent: *\nDisallow: /private\n"), robots.Config{TTL: ttl, ErrorTTL: errorTTL})
	b.check(t, "/")
	b.setRobots(fetchtest.Status(http.StatusServiceUnavailable))
	b.clock.Advance(ttl)
	// RFC 9309 §2.4: an unreachable robots.txt may be replaced by the cached copy.
	if got, want := b.check(t, "/page"), (robots.Decision{Allowed: true}); got != want {
		t.Errorf("Check(/page) = %+v, want %+v", got, want)
	}
	if got, want := b.check(t, "/private"), (robots.Decision{}); got != want {
		t.Errorf("Check(/private) = %+v, want %+v", got, want)
	}
	b.wantFetches(t, 2)
	b.clock.Advance(errorTTL)
	b.check(t, "/page")
	b.wantFetches(t, 3)
}

func TestCheckCrawlDelay(t *testing.T) {
	t.Parallel()
	b := setup(t, text("User-agent: *\nCrawl-delay: 2.5\nDisallow: /x\n\nUser-agent: trawl\nCrawl-delay: 1\n"), robots.Config{})
	if got, want := b.check(t, "/page"), (robots.Decision{Allowed: true, CrawlDelay: time.Second}); got != want {
		t.Errorf("Check as trawl = %+v, want %+v", got, want)
	}
	d, err := b.cache.Check(t.Context(), mustParse(t, b.server.URL+"/page"), "otherbot/1.0")
	if want := (robots.Decision{Allowed: true, CrawlDelay: 2500 * time.Millisecond}); err != nil || d != want {
		t.Errorf("Check as otherbot = %+v, %v, want %+v", d, err, want)
	}
	b.wantFetches(t, 1)
}

func TestCheckSendsUserAgent(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	b := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.UserAgent()
	}), robots.Config{})
	b.check(t, "/")
	if ua2 := <-got; ua2 != ua {
		t.Errorf("User-Agent = %q, want %q", ua2, ua)
	}
}

func TestCheckCanceled(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte("User-agent: *\nDisallow: /x\n"))
	}), robots.Config{})

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := b.cache.Check(ctx, mustParse(t, b.server.URL+"/x"), ua)
		errc <- err
	}()
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("robots.txt was never requested")
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Check error = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Check did not return after cancellation")
	}

	// The fetch outlives the canceled caller, and the next caller gets its result.
	close(release)
	if got, want := b.check(t, "/x"), (robots.Decision{}); got != want {
		t.Errorf("Check after cancellation = %+v, want %+v", got, want)
	}
	b.wantFetches(t, 1)

	if _, err := b.cache.Check(ctx, mustParse(t, b.server.URL+"/y"), ua); !errors.Is(err, context.Canceled) {
		t.Errorf("Check with a canceled context = %v, want context.Canceled", err)
	}
}

func TestCheckSkipsNonHTTP(t *testing.T) {
	t.Parallel()
	c := robots.New(fetch.New(fetch.Config{}), robots.Config{})
	for _, raw := range []string{"mailto:a@b.example", "ftp://a.example/x", "/relative"} {
		d, err := c.Check(t.Context(), mustParse(t, raw), ua)
		if want := (robots.Decision{Allowed: true}); err != nil || d != want {
			t.Errorf("Check(%s) = %+v, %v, want %+v, nil", raw, d, err, want)
		}
	}
	if n := c.Fetches(); n != 0 {
		t.Errorf("Fetches() = %d, want 0", n)
	}
}

func TestCheckBlockedNetworkAllows(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	c := robots.New(fetch.New(fetch.Config{BlockPrivateNetworks: true}), robots.Config{})
	d, err := c.Check(t.Context(), mustParse(t, srv.URL+"/page"), ua)
	if want := (robots.Decision{Allowed: true}); err != nil || d != want {
		t.Errorf("Check = %+v, %v, want %+v, nil", d, err, want)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
}
