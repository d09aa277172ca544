package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// server is a test host that counts requests per path and the requests in flight.
type server struct {
	mu       sync.Mutex
	requests map[string]int
	inFlight *atomic.Int64 // shared by every server: the global count
	maxHost  atomic.Int64
	maxAll   *atomic.Int64
	host     atomic.Int64
}

func raise(m *atomic.Int64, v int64) {
	for {
		old := m.Load()
		if v <= old || m.CompareAndSwap(old, v) {
			return
		}
	}
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raise(&s.maxHost, s.host.Add(1))
	raise(s.maxAll, s.inFlight.Add(1))
	defer s.host.Add(-1)
	defer s.inFlight.Add(-1)
	s.mu.Lock()
	s.requests[r.URL.Path]++
	n := s.requests[r.URL.Path]
	s.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	if r.URL.Path == "/p/3" && n == 1 {
		w.Header().Set("Retry-After", "0")
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, strings.Repeat("x", 1000))
}

// TestRun crawls three hosts and checks that every page is fetched once (the 503 twice), that
// disallowed pages are skipped, and that the per-host and global limits hold.
func TestRun(t *testing.T) {
	t.Parallel()
	var inFlight, maxAll atomic.Int64
	var servers []*server
	var bases []string
	for range 3 {
		s := &server{requests: make(map[string]int), inFlight: &inFlight, maxAll: &maxAll}
		ts := httptest.NewServer(s)
		t.Cleanup(ts.Close)
		servers = append(servers, s)
		bases = append(bases, ts.URL+"/")
	}
	args := []string{"-start", strings.Join(bases, ","), "-per-host", "2", "-concurrency", "4", "-pages", "30", "-disallow", "/p/2"}
	var log strings.Builder
	if err := run(context.Background(), args, &log); err != nil {
		t.Fatalf("run: %v; log: %s", err, log.String())
	}
	want := map[string]int{"/robots.txt": 1, "/": 1, "/p/1": 1, "/p/3": 2}
	for n := 4; n < 30; n++ {
		if p := pagePath(n); !strings.HasPrefix(p, "/p/2") {
			want[p] = 1
		}
	}
	for i, s := range servers {
		if diff := cmp.Diff(want, s.requests); diff != "" {
			t.Errorf("host %d requests (-want +got):\n%s", i, diff)
		}
		if m := s.maxHost.Load(); m > 2 {
			t.Errorf("host %d: %d requests in flight, want at most 2", i, m)
		}
	}
	if m := maxAll.Load(); m > 4 {
		t.Errorf("%d requests in flight across hosts, want at most 4", m)
	}
	if !strings.Contains(log.String(), "3 retries") {
		t.Errorf("log = %q, want 3 retries", log.String())
	}
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"-start", "http://127.0.0.1:1", "-per-host", "0"}, {"-start", "x", "extra"}} {
		if err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]time.Duration{"1": time.Second, " 3 ": 3 * time.Second, "": time.Second, "Wed, 21 Oct 2015 07:28:00 GMT": time.Second} {
		if got := retryAfter(v); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}
