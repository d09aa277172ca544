package robots

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Defaults of Config.
const (
	TTLDefault      = 24 * time.Hour
	ErrorTTLDefault = time.Minute
	MaxSizeDefault  = MaxParse
	TimeoutDefault  = 10 * time.Second
)

// maxRobotsRedirects is how many redirects a robots.txt fetch follows (RFC 9309 §2.3.1.2: at least five).
const maxRobotsRedirects = 5

// sweepAt is the number of cached origins above which expired entries are dropped on insert.
const sweepAt = 4096

// Config tunes a Cache. The zero value is ready to use: zero fields mean their defaults; a negative one is invalid
// (Validate).
type Config struct {
	// TTL is how long a fetched robots.txt (or its absence) is used before it is fetched again. Default 24h, the
	// longest RFC 9309 §2.4 recommends.
	TTL time.Duration
	// ErrorTTL is how long an unreachable robots.txt (5xx, 429, network failure) disallows the origin before the
	// next attempt. Default 1m.
	ErrorTTL time.Duration
	// MaxSize is how many bytes of a robots.txt are read; the rest is ignored. Default 500 KiB, which is also the
	// most Parse reads (MaxParse).
	MaxSize int64
	// Timeout bounds one robots.txt fetch. Default 10s.
	Timeout time.Duration
	// Now is the clock for TTLs. Default time.Now.
	Now func() time.Time
}

// Decision is the verdict on one URL.
type Decision struct {
	// Allowed reports whether the URL may be fetched.
	Allowed bool
	// CrawlDelay is the Crawl-delay the matched groups ask for, or 0.
	CrawlDelay time.Duration
	// Unreachable reports that Allowed is false because robots.txt could not be fetched (5xx, 429 or a network
	// failure), not because a rule forbids the URL: the caller may try again after a while.
	Unreachable bool
	// Class is why robots.txt was unreachable (a fetch error class such as
	// connect, dns, timeout or http_5xx); empty unless Unreachable.
	Class fetch.Class
}

// Cache fetches robots.txt once per origin (scheme, host and port) and answers Check from the cached result. It is
// safe for concurrent use.
type Cache struct {
	client  *fetch.Client
	cfg     Config
	flights singleflight.Group
	fetches atomic.Int64

	mu      sync.Mutex
	entries map[string]*entry // by origin
}

// entry is the cached outcome of one robots.txt fetch.
type entry struct {
	robots      *Robots     // nil: no usable file, everything allowed (unless unreachable)
	unreachable bool        // disallow everything
	class       fetch.Class // why robots.txt was unreachable
	expires     time.Time

	mu      sync.Mutex
	byAgent map[string]*Group // merged groups by User-Agent, computed on first use
}

// Validate fills the defaults of c and reports a field out of its range as an EINVALID *trawl.Error naming the field
// and the range. New calls it.
func (c *Config) Validate() error {
	switch {
	case c.TTL < 0:
		return trawl.Errorf(trawl.EINVALID, "robots config: TTL must be 0 (default %v) or more", TTLDefault)
	case c.ErrorTTL < 0:
		return trawl.Errorf(trawl.EINVALID, "robots config: ErrorTTL must be 0 (default %v) or more", ErrorTTLDefault)
	case c.MaxSize < 0 || c.MaxSize > MaxParse:
		return trawl.Errorf(trawl.EINVALID, "robots config: MaxSize must be 0 (default %d) to %d bytes", MaxSizeDefault, MaxParse)
	case c.Timeout < 0:
		return trawl.Errorf(trawl.EINVALID, "robots config: Timeout must be 0 (default %v) or more", TimeoutDefault)
	}
	c.TTL = positiveOr(c.TTL, TTLDefault)
	c.ErrorTTL = positiveOr(c.ErrorTTL, ErrorTTLDefault)
	c.MaxSize = positiveOr(c.MaxSize, MaxSizeDefault)
	c.Timeout = positiveOr(c.Timeout, TimeoutDefault)
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// New returns a Cache that fetches robots.txt with client. cfg comes from code, not from a user: New panics when it
// is invalid (Config.Validate).
func New(client *fetch.Client, cfg Config) *Cache {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return &Cache{client: client, cfg: cfg, entries: map[string]*entry{}}
}

// Check reports whether a crawler with User-Agent ua may fetch u. URLs that are not http or https are allowed.
//
// robots.txt is fetched once per origin, with ua: concurrent first callers wait for the one fetch and share it, and
// its outcome is cached for Config.TTL (Config.ErrorTTL when unreachable). The fetch is not canceled when the caller
// gives up, because other callers may be waiting for it; Config.Timeout bounds it. The outcome follows RFC 9309
// §2.3.1:
//
//   - 2xx: the file is parsed (its first Config.MaxSize bytes).
//   - Redirects are followed up to five hops (§2.3.1.2); more, or a redirect that fetch refuses, counts as
//     unavailable.
//   - 4xx, including 401 and 403 (§2.3.1.3: "unavailable"): everything is allowed.
//   - 429 Too Many Requests: unreachable. The RFC's letter puts it with the 4xx, but the server is asking us to
//     slow down, and crawling it at full speed in reply is the opposite of polite (Google does the same).
//   - 5xx, timeouts and other network or TLS failures, and undecodable bodies (§2.3.1.4): unreachable, so
//     everything is disallowed with Decision.Unreachable set, until ErrorTTL passes. If an earlier fetch had
//     succeeded, its rules stay in force instead, as §2.4 permits.
//   - An address refused by fetch's private-network guard: everything is allowed, so that the page fetch fails
//     with the precise blocked_network class instead of a misleading robots verdict. Nothing reaches the network.
//
// "/robots.txt" itself is always allowed. The returned error is only ever the context's error, when ctx ends
// before the decision is known.
func (c *Cache) Check(ctx context.Context, u *url.URL, ua string) (Decision, error) {
	if u == nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Decision{Allowed: true}, nil
	}
	if err := ctx.Err(); err != nil {
		return Decision{}, err
	}
	key := originKey(u)
	e, _ := c.lookup(key)
	if e == nil {
		ch := c.flights.DoChan(key, func() (any, error) {
			fresh, stale := c.lookup(key)
			if fresh != nil {
				// A flight that ended between the lookup above and DoChan has already stored it.
				return fresh, nil
			}
			return c.fetch(context.WithoutCancel(ctx), u, key, ua, stale), nil
		})
		select {
		case <-ctx.Done():
			return Decision{}, ctx.Err()
		case res := <-ch:
			e = res.Val.(*entry)
		}
	}
	return e.decide(u, ua), nil
}

// Fetches returns the number of robots.txt HTTP fetches made so far.
func (c *Cache) Fetches() int64 {
	return c.fetches.Load()
}

// lookup returns the fresh entry for key, or nil and the expired entry if there is one.
func (c *Cache) lookup(key string) (fresh, stale *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil {
		return nil, nil
	}
	if c.cfg.Now().Before(e.expires) {
		return e, nil
	}
	return nil, e
}

// fetch fetches the robots.txt of u's origin, stores the outcome under key and returns it.
func (c *Cache) fetch(ctx context.Context, u *url.URL, key, ua string, stale *entry) *entry {
	c.fetches.Add(1)
	resp, err := c.client.Fetch(ctx, &fetch.Request{
		URL:          &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"},
		UserAgent:    ua,
		Header:       http.Header{"Accept": {"text/plain,*/*;q=0.5"}},
		Timeout:      c.cfg.Timeout,
		MaxBody:      c.cfg.MaxSize,
		Truncate:     true,
		MaxRedirects: maxRobotsRedirects,
	})
	now := c.cfg.Now()
	e := &entry{expires: now.Add(c.cfg.TTL)}
	switch {
	case err == nil && resp.Status >= 200 && resp.Status < 300:
		e.robots = Parse(resp.Body)
	case err == nil:
		// A 3xx that fetch did not follow (no Location, 304): no file, so unavailable.
	default:
		var fe *fetch.Error
		status := 0
		if errors.As(err, &fe) {
			status = fe.Status
		}
		switch class := fetch.ClassOf(err); {
		case class == fetch.ClassHTTP4xx && status != http.StatusTooManyRequests,
			class == fetch.ClassRedirect, class == fetch.ClassOutOfScope:
			// Unavailable: allow everything.
		case class == fetch.ClassBlocked:
			e.expires = now.Add(c.cfg.ErrorTTL)
		default:
			e.expires = now.Add(c.cfg.ErrorTTL)
			if stale != nil && stale.robots != nil {
				e.robots = stale.robots
			} else {
				e.unreachable = true
				e.class = class
			}
		}
	}
	c.store(key, e, now)
	return e
}

// store caches e under key, first dropping expired entries if the cache has grown large.
func (c *Cache) store(key string, e *entry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= sweepAt {
		for k, old := range c.entries {
			if !now.Before(old.expires) {
				delete(c.entries, k)
			}
		}
	}
	c.entries[key] = e
}

// decide applies the entry to one URL.
func (e *entry) decide(u *url.URL, ua string) Decision {
	pathAndQuery := u.EscapedPath()
	if u.RawQuery != "" {
		pathAndQuery += "?" + u.RawQuery
	}
	if e.unreachable {
		if isRobotsTxt(canonical(pathAndQuery, false)) {
			return Decision{Allowed: true}
		}
		return Decision{Unreachable: true, Class: e.class}
	}
	g := e.group(ua)
	return Decision{Allowed: g.Allowed(pathAndQuery), CrawlDelay: g.CrawlDelay()}
}

// group returns the merged group for ua, memoised: a crawl asks with the same User-Agent for every URL.
func (e *entry) group(ua string) *Group {
	e.mu.Lock()
	defer e.mu.Unlock()
	g := e.byAgent[ua]
	if g == nil {
		g = e.robots.Group(ua)
		if e.byAgent == nil {
			e.byAgent = map[string]*Group{}
		}
		e.byAgent[ua] = g
	}
	return g
}

// positiveOr returns v, or def when v is zero or negative.
func positiveOr[T int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// originKey identifies u's origin: scheme, lowercase host and explicit port.
func originKey(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return u.Scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
