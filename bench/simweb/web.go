// Package simweb serves a deterministic simulated web of many hosts on loopback addresses, with
// injected latency and faults, and counts what a crawler fetched from it.
package simweb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Web is a running simulated web: one HTTP server per host, each on its own loopback address.
// Its methods are safe for concurrent use.
type Web struct {
	site    *site
	index   map[string]int // host:port → host index
	servers []*http.Server
	wg      sync.WaitGroup
	rec     *recorder
	limit   *limiter
	bufs    sync.Pool
}

// Start listens on 127.0.0.2, 127.0.0.3, … (one address and a free port per host) and serves the
// web described by cfg until Close. Each host serves /robots.txt, its home page / (page 0) and
// pages /p/1 … /p/PagesPerHost-1; any other path answers 404.
func Start(cfg Config) (*Web, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("simweb config: %w", err)
	}
	listeners := make([]net.Listener, 0, cfg.Hosts)
	closeAll := func() {
		for _, ln := range listeners {
			ln.Close()
		}
	}
	for h := range cfg.Hosts {
		ln, err := net.Listen("tcp", net.JoinHostPort(hostIP(h), "0"))
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("listen on host %d: %w", h, err)
		}
		listeners = append(listeners, ln)
	}
	w := &Web{
		site:  &site{cfg: cfg, hosts: make([]string, cfg.Hosts), filler: makeFiller(cfg.PageBytes)},
		index: make(map[string]int, cfg.Hosts),
		rec:   newRecorder(cfg.Hosts),
		limit: newLimiter(cfg.RateLimit, cfg.Hosts),
	}
	w.bufs.New = func() any { return new(bytes.Buffer) }
	for h, ln := range listeners {
		host := ln.Addr().String()
		w.site.hosts[h] = host
		w.index[host] = h
	}
	for h, ln := range listeners {
		srv := &http.Server{Handler: w.handler(h), ReadHeaderTimeout: 10 * time.Second}
		w.servers = append(w.servers, srv)
		w.wg.Go(func() { srv.Serve(ln) })
	}
	return w, nil
}

// hostIP returns the loopback address of host h: 127.0.0.2 for host 0, then upwards, skipping
// the .0, .1 and high addresses of each /24.
func hostIP(h int) string {
	return fmt.Sprintf("127.0.%d.%d", h/250, h%250+2)
}

// Close stops every server, closing their connections, and waits for them.
func (w *Web) Close() error {
	var errs []error
	for _, srv := range w.servers {
		if err := srv.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	w.wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close simweb: %w", err)
	}
	return nil
}

// Config returns the configuration in force, defaults applied.
func (w *Web) Config() Config { return w.site.cfg }

// Hosts returns every host as "127.0.0.N:port", in host order.
func (w *Web) Hosts() []string { return append([]string(nil), w.site.hosts...) }

// URLs returns the start URLs: every host's home page.
func (w *Web) URLs() []string {
	urls := make([]string, len(w.site.hosts))
	for i, h := range w.site.hosts {
		urls[i] = "http://" + h + "/"
	}
	return urls
}

// ExpectedPages returns the number of pages that a complete, polite crawl fetches: every
// regular page of every host, all reachable from "/", robots-disallowed pages excluded.
func (w *Web) ExpectedPages() int { return w.site.cfg.Hosts * w.site.cfg.PagesPerHost }

// ExpectedItems returns the number of items that a complete, polite crawl extracts: one per
// expected page.
func (w *Web) ExpectedItems() int { return w.ExpectedPages() }

// Item returns the item that the regular page at rawURL carries, and false if rawURL is not a
// regular page of this web.
func (w *Web) Item(rawURL string) (Item, bool) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" {
		return Item{}, false
	}
	h, ok := w.index[u.Host]
	if !ok {
		return Item{}, false
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	kind, n := w.site.classify(path)
	if kind != kindPage {
		return Item{}, false
	}
	return itemOf(w.site.pageRand(h, n, false), h, n, false), true
}

// Stats returns the counters so far. Call it after the crawler has finished for final figures.
func (w *Web) Stats() Stats {
	s := w.rec.stats(w.site.hosts)
	s.Status429, s.EarlyRequests = w.limit.counts()
	s.ExpectedPages = w.ExpectedPages()
	s.ExpectedItems = w.ExpectedItems()
	return s
}

// handler returns the handler of host h.
func (w *Web) handler(h int) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.rec.arrive(h, time.Now())
		inFlight := true
		done := func() {
			if inFlight {
				inFlight = false
				w.rec.leave(h)
			}
		}
		defer done()
		path := r.URL.Path
		kind, n := w.site.classify(path)
		nth, first := w.rec.begin(h, path, kind)
		if !w.delay(r.Context(), h, path, nth) {
			return
		}
		// The answer is ready: the request leaves the host's in-flight count before it is written,
		// since its client may send the next one as soon as it has read it.
		done()
		switch {
		case kind != kindRobots && !w.limit.allow(h):
			w.rec.status(h, path, http.StatusTooManyRequests)
			rw.Header().Set("Retry-After", strconv.Itoa(RetryAfterThrottle))
			http.Error(rw, "429 too many requests", http.StatusTooManyRequests)
		case kind == kindRobots:
			w.write(rw, http.StatusOK, "text/plain; charset=utf-8", []byte(w.site.robots()))
		case kind == kindNotFound:
			w.rec.status(h, path, http.StatusNotFound)
			http.Error(rw, "404 page not found", http.StatusNotFound)
		case kind == kindPage && first && w.site.fails503(h, n):
			w.rec.status(h, path, http.StatusServiceUnavailable)
			rw.Header().Set("Retry-After", "1")
			http.Error(rw, "503 service unavailable, retry later", http.StatusServiceUnavailable)
		default:
			b := w.bufs.Get().(*bytes.Buffer)
			b.Reset()
			w.site.render(b, h, n, kind == kindPrivate)
			w.rec.status(h, path, http.StatusOK)
			w.write(rw, http.StatusOK, "text/html; charset=utf-8", b.Bytes())
			w.bufs.Put(b)
		}
	})
}

// delay sleeps the injected latency of the nth request of path on host h, and reports false if
// the client went away first.
func (w *Web) delay(ctx context.Context, h int, path string, nth int) bool {
	cfg := w.site.cfg
	if cfg.LatencyMax <= 0 {
		return true
	}
	d := cfg.LatencyMin + time.Duration(unit(w.site.latencyMix(h, path, nth))*float64(cfg.LatencyMax-cfg.LatencyMin))
	t := time.NewTimer(d)
	defer t.Stop()
	start := time.Now()
	select {
	case <-t.C:
		w.rec.addDelay(h, d)
		return true
	case <-ctx.Done():
		w.rec.addDelay(h, time.Since(start))
		return false
	}
}

// write sends a complete response with its length.
func (w *Web) write(rw http.ResponseWriter, status int, contentType string, body []byte) {
	rw.Header().Set("Content-Type", contentType)
	rw.Header().Set("Content-Length", strconv.Itoa(len(body)))
	rw.WriteHeader(status)
	n, _ := rw.Write(body)
	w.rec.addBytes(n)
}
