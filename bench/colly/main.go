// Command colly is the Colly v2 baseline of trawl's benchmark: it crawls the simulated web the way
// a competent Colly user would and writes one JSON line per item.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gocolly/colly/v2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "colly:", err)
		os.Exit(1)
	}
}

// item is one extracted record, with the same fields as trawl's and Scrapy's output.
type item struct {
	URL   string   `json:"_url"`
	Title string   `json:"title"`
	Price string   `json:"price"`
	Tags  []string `json:"tags"`
}

// maxRetries bounds the retries of one URL after its first attempt, as trawl's "retries: 3" and
// Scrapy's RETRY_TIMES = 3 do.
const maxRetries = 3

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("colly", flag.ContinueOnError)
	fs.SetOutput(stderr)
	start := fs.String("start", "", "comma-separated start URLs")
	hosts := fs.String("hosts", "", "comma-separated allowed hosts (host:port)")
	perHost := fs.Int("per-host", 2, "concurrent requests per host")
	out := fs.String("o", "colly.jsonl", "JSONL output file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *start == "" || *hosts == "" || *perHost < 1 {
		return errors.New("-start and -hosts are required and -per-host must be at least 1")
	}
	hostList := strings.Split(*hosts, ",")

	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("create output: %w", err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 64<<10)
	var mu sync.Mutex // guards bw and enc: Colly runs callbacks concurrently
	enc := json.NewEncoder(bw)

	c, err := newCollector(ctx, hostList, *perHost)
	if err != nil {
		return err
	}
	var encErr error
	c.OnHTML("div.item", func(e *colly.HTMLElement) {
		it := item{
			URL:   e.Request.URL.String(),
			Title: collapse(e.ChildText("h1.title")),
			Price: collapse(e.ChildText("span.price")),
			Tags:  e.ChildTexts("a.tag"),
		}
		mu.Lock()
		defer mu.Unlock()
		if err := enc.Encode(it); err != nil && encErr == nil {
			encErr = err
		}
	})
	c.OnHTML("a[href]", func(e *colly.HTMLElement) {
		if u := e.Request.AbsoluteURL(e.Attr("href")); u != "" {
			e.Request.Visit(u) // errors here are "already visited", "forbidden domain" or robots
		}
	})
	// Colly's Request.Ctx is shared by every request visited from it, so attempts are counted per
	// URL in a map rather than in the context.
	var attemptsMu sync.Mutex
	attempts := make(map[string]int)
	c.OnError(func(r *colly.Response, err error) {
		if r.StatusCode != http.StatusServiceUnavailable && r.StatusCode != 0 {
			return // 404 and other client errors are final
		}
		u := r.Request.URL.String()
		attemptsMu.Lock()
		attempts[u]++
		n := attempts[u]
		attemptsMu.Unlock()
		if n <= maxRetries {
			r.Request.Retry()
		}
	})
	for _, u := range strings.Split(*start, ",") {
		// A start URL may already have been visited through a link found on an earlier host.
		var visited *colly.AlreadyVisitedError
		if err := c.Visit(u); err != nil && !errors.As(err, &visited) {
			return fmt.Errorf("visit %s: %w", u, err)
		}
	}
	c.Wait()
	if encErr != nil {
		return fmt.Errorf("write item: %w", encErr)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close output: %w", err)
	}
	return ctx.Err()
}

// newCollector returns an async collector restricted to hosts, obeying robots.txt, with one
// LimitRule per host so that every host gets its own perHost slots (a single "*" rule would share
// one limit across all hosts).
func newCollector(ctx context.Context, hosts []string, perHost int) (*colly.Collector, error) {
	domains := make([]string, 0, len(hosts))
	for _, h := range hosts {
		name, _, err := net.SplitHostPort(h)
		if err != nil {
			name = h
		}
		domains = append(domains, name) // AllowedDomains matches the host name without the port
	}
	c := colly.NewCollector(
		colly.Async(true),
		colly.AllowedDomains(domains...),
		colly.MaxDepth(0),
		colly.StdlibContext(ctx),
	)
	c.IgnoreRobotsTxt = false
	c.SetRequestTimeout(20 * time.Second)
	// The default transport keeps only 2 idle connections per host; size the pool to the per-host
	// concurrency so that connections are reused as they would be in a tuned deployment.
	c.WithTransport(&http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        len(hosts) * perHost,
		MaxIdleConnsPerHost: perHost,
		IdleConnTimeout:     90 * time.Second,
	})
	for _, h := range hosts {
		// LimitRule globs match the request's host with its port.
		if err := c.Limit(&colly.LimitRule{DomainGlob: h, Parallelism: perHost}); err != nil {
			return nil, fmt.Errorf("limit rule for %s: %w", h, err)
		}
	}
	return c, nil
}

// collapse collapses runs of white space to one space, as trawl and the Scrapy baseline do.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
