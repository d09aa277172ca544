// Command ideal is the reference client of trawl's benchmark: the best any client can do against
// the simulated web on this machine. It knows every URL in advance, so it neither parses pages
// nor discovers links nor stores anything. For each host it fetches /robots.txt, then /, /p/1 …
// /p/(pages-1) with exactly per-host lanes per host under a global cap, reads every body to
// io.Discard, and retries a page that answered 503 once, after its Retry-After, without holding a
// lane while it waits. Pages under the -disallow prefix (what the web's robots.txt disallows) are
// skipped. It uses only the standard library.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ideal:", err)
		os.Exit(1)
	}
}

// config is the parsed command line.
type config struct {
	bases       []string // host base URLs without a trailing slash, such as http://127.0.0.2:4242
	perHost     int
	concurrency int
	pages       int
	disallow    string
}

// counts are what a crawl did, for the log.
type counts struct {
	pages, retries, robots atomic.Int64
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("ideal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	start := fs.String("start", "", "comma-separated host base URLs (http://host:port or http://host:port/)")
	var c config
	fs.IntVar(&c.perHost, "per-host", 2, "lanes (requests in flight) per host")
	fs.IntVar(&c.concurrency, "concurrency", 16, "requests in flight across all hosts")
	fs.IntVar(&c.pages, "pages", 100, "pages per host, the home page included")
	fs.StringVar(&c.disallow, "disallow", "", "path prefix that robots.txt disallows; such pages are skipped")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *start == "" || c.perHost < 1 || c.concurrency < 1 || c.pages < 1 {
		return errors.New("-start is required and -per-host, -concurrency and -pages must be at least 1")
	}
	for _, b := range strings.Split(*start, ",") {
		if b = strings.TrimSpace(b); b != "" {
			c.bases = append(c.bases, strings.TrimSuffix(b, "/"))
		}
	}
	began := time.Now()
	var n counts
	err := crawl(ctx, c, &n)
	fmt.Fprintf(stderr, "ideal: %d hosts, %d pages, %d robots.txt, %d retries in %v\n",
		len(c.bases), n.pages.Load(), n.robots.Load(), n.retries.Load(), time.Since(began).Round(time.Millisecond))
	return err
}

// crawl fetches every host's robots.txt and pages, one goroutine per host, and returns every
// failure joined.
func crawl(ctx context.Context, c config, n *counts) error {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        len(c.bases) * c.perHost,
		MaxIdleConnsPerHost: c.perHost,
		IdleConnTimeout:     90 * time.Second,
	}
	defer tr.CloseIdleConnections()
	cl := &crawler{
		client: &http.Client{Transport: tr, Timeout: 20 * time.Second},
		slots:  make(chan struct{}, c.concurrency),
		counts: n,
	}
	var wg sync.WaitGroup
	errs := make([]error, len(c.bases))
	for i, base := range c.bases {
		wg.Go(func() { errs[i] = cl.host(ctx, c, base) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// crawler is shared by every host.
type crawler struct {
	client *http.Client
	slots  chan struct{} // the global cap: one token per request in flight
	counts *counts
}

// retry is a page that answered 503, due again at due.
type retry struct {
	path string
	due  time.Time
}

// hostQueue hands out the paths of one host to its lanes: due retries first, then the next page,
// then retries not yet due. The mutex guards every field.
type hostQueue struct {
	mu      sync.Mutex
	next    int // next page number
	pages   int
	retries []retry
}

// take returns the next path to fetch, whether it is a retry, and how long to wait before
// fetching it; ok is false when nothing is left for this lane.
func (q *hostQueue) take(now time.Time) (path string, isRetry bool, wait time.Duration, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.retries) > 0 && (!q.retries[0].due.After(now) || q.next >= q.pages) {
		r := q.retries[0]
		q.retries = q.retries[1:]
		return r.path, true, r.due.Sub(now), true
	}
	if q.next < q.pages {
		n := q.next
		q.next++
		return pagePath(n), false, 0, true
	}
	return "", false, 0, false
}

// deferPath queues path for one more request at due. Retries are due in the order they are queued,
// since every Retry-After of the simulated web is the same.
func (q *hostQueue) deferPath(path string, due time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.retries = append(q.retries, retry{path, due})
}

// host fetches base's robots.txt, then every allowed page with perHost lanes.
func (cl *crawler) host(ctx context.Context, c config, base string) error {
	if _, _, err := cl.get(ctx, base+"/robots.txt"); err != nil {
		return err
	}
	cl.counts.robots.Add(1)
	q := &hostQueue{pages: c.pages}
	var wg sync.WaitGroup
	errs := make([]error, c.perHost)
	for lane := range c.perHost {
		wg.Go(func() { errs[lane] = cl.lane(ctx, c, base, q) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// lane fetches paths from q until none is left; a 503 is queued again after its Retry-After, once.
func (cl *crawler) lane(ctx context.Context, c config, base string, q *hostQueue) error {
	var errs []error
	for {
		path, isRetry, wait, ok := q.take(time.Now())
		if !ok {
			return errors.Join(errs...)
		}
		if c.disallow != "" && strings.HasPrefix(path, c.disallow) {
			continue
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		status, after, err := cl.get(ctx, base+path)
		switch {
		case err != nil:
			errs = append(errs, err)
		case status == http.StatusOK:
			cl.counts.pages.Add(1)
		case status == http.StatusServiceUnavailable && !isRetry:
			cl.counts.retries.Add(1)
			q.deferPath(path, time.Now().Add(after))
		default:
			errs = append(errs, fmt.Errorf("GET %s%s: status %d", base, path, status))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// get fetches u under the global cap and reads its body to the end. It returns the status and,
// for a 503, the Retry-After delay (1 s when absent or not a number of seconds).
func (cl *crawler) get(ctx context.Context, u string) (int, time.Duration, error) {
	select {
	case cl.slots <- struct{}{}:
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
	defer func() { <-cl.slots }()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := cl.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, 0, fmt.Errorf("read %s: %w", u, err)
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		return resp.StatusCode, retryAfter(resp.Header.Get("Retry-After")), nil
	}
	return resp.StatusCode, 0, nil
}

// retryAfter returns the delay of a Retry-After header given in seconds, and 1 s otherwise.
func retryAfter(v string) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return time.Second
}

// pagePath returns the path of page n of a host: "/" for the home page, /p/n otherwise.
func pagePath(n int) string {
	if n == 0 {
		return "/"
	}
	return "/p/" + strconv.Itoa(n)
}
