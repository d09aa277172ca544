package crawl_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/robots"
	"github.com/trawl-dev/trawl/internal/trawl/clocktest"
)

// silentListener accepts connections and never answers; it counts them.
// The fetch client opens a new connection for each request after a timeout,
// so the count is the number of requests.
func silentListener(t *testing.T) (addr string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = &atomic.Int64{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), accepted
}

// refusedAddr is a loopback address where nothing listens.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestCircuitBreaker crawls three hosts at once: one that accepts
// connections and never answers, one that refuses them, and a healthy one.
// Each dead host has more start pages than a host's in-memory queue holds,
// so some are still in the store when the breaker gives up.
func TestCircuitBreaker(t *testing.T) {
	t.Parallel()
	const deadPages = 100 // more than the scheduler's queue of 64
	silent, accepted := silentListener(t)
	refused := refusedAddr(t)
	good := newSite(t, listing(10, 1))
	var starts []string
	for _, h := range []string{silent, refused} {
		for i := range deadPages {
			starts = append(starts, fmt.Sprintf(`"http://%s/p/%d"`, h, i))
		}
	}
	starts = append(starts, `"`+good.URL+`/"`)
	b := setup(t, "", `
name: breaker
start_urls: [`+strings.Join(starts, ", ")+`]
follow: [{css: li.next > a}]
items: [{css: div.quote, fields: {text: span.text}}]
politeness: {robots: ignore}
fetch: {timeout: 300ms, retries: 3}
`)
	// The default cool-down of 30s, on a fake clock: it costs no real
	// time, and the probes' wait is measured exactly.
	const threshold, cooldown, probes = 3, crawl.DefaultBreakerCooldown, 2
	clock := clocktest.New(t0)
	clock.Start(t)
	logs := &logRecorder{}
	fc := fetch.New(fetch.Config{})
	t.Cleanup(fc.Close)
	b.engine = mustEngine(t, b.db, fc, robots.New(fc, robots.Config{Now: clock.Now}), crawl.Config{
		Concurrency: 8, BreakerThreshold: threshold, BreakerProbes: probes, Clock: clock, Logger: slog.New(logs),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	res, err := b.engine.Run(ctx, crawl.RunParams{Spider: b.sp, Run: b.run})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("wall %v, silent host requests %d, errors %v, hosts %+v", elapsed.Round(time.Millisecond), accepted.Load(), res.Stats.Errors, res.Hosts)

	// Without the breaker each silent page would cost 4 timeouts of 300ms;
	// with it the silent host sees the requests that open the breaker
	// (plus the second slot's, in flight meanwhile) and the probes.
	if n := accepted.Load(); n > threshold+1+probes {
		t.Errorf("the silent host got %d requests, want at most %d", n, threshold+1+probes)
	}
	if elapsed > 10*time.Second {
		t.Errorf("run took %v, want well under 10s", elapsed)
	}
	// Each probe of a dead host waits the cool-down after the request
	// before it (the one that opened the breaker, or the failed probe),
	// in the engine's clock.
	for _, h := range []string{silent, refused} {
		starts := logs.startedAt(h)
		if len(starts) < threshold+probes {
			t.Errorf("%s: %d requests started, want at least %d", h, len(starts), threshold+probes)
			continue
		}
		for i := len(starts) - probes; i < len(starts); i++ {
			if gap := starts[i].Sub(starts[i-1]); gap < cooldown {
				t.Errorf("%s: probe %d started %v after the request before it, want at least the cool-down %v (starts after the first: %v)",
					h, i-(len(starts)-probes)+1, gap, cooldown, offsets(starts))
			}
		}
	}
	// Every page of the dead hosts failed, nearly all as host_down without
	// a request; the healthy host lost nothing.
	if got, want := res.Stats.ErrorCount(), int64(2*deadPages); got != want {
		t.Errorf("failed pages = %d (%v), want %d", got, res.Stats.Errors, want)
	}
	if got, min := res.Stats.Errors[crawl.ClassHostDown], int64(2*(deadPages-threshold-1-probes)); got < min {
		t.Errorf("host_down pages = %d, want at least %d", got, min)
	}
	if got := res.Stats.Items; got != 10 {
		t.Errorf("items = %d, want the healthy host's 10", got)
	}
	var down []string
	for _, h := range res.Hosts {
		if h.Down {
			down = append(down, h.Host)
		}
	}
	slices.Sort(down)
	want := []string{silent, refused}
	slices.Sort(want)
	if !slices.Equal(down, want) {
		t.Errorf("hosts reported down = %v, want %v", down, want)
	}
	for u, class := range b.failed(t) {
		if class != crawl.ClassHostDown && class != string(fetch.ClassTimeout) && class != string(fetch.ClassConnect) {
			t.Errorf("%s failed as %s, want host_down, timeout or connect", u, class)
		}
	}
}

// offsets returns each time after the first, to show a sequence of starts.
func offsets(ts []time.Time) []time.Duration {
	out := make([]time.Duration, len(ts))
	for i, t := range ts {
		out[i] = t.Sub(ts[0])
	}
	return out
}
