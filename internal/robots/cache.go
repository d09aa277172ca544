package robots

import (
	"context"
	"errors"
	"log/slog"
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
	TTLDefault        = 24 * time.Hour
	ErrorTTLDefault   = time.Minute
	MaxSizeDefault    = MaxParse
	TimeoutDefault    = 10 * time.Second
	SharedPollDefault = 50 * time.Millisecond
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
	// Shared, if set, is a second level below the Cache's own, shared by the processes that crawl together: on a
	// miss the Cache takes the origin's record from it, or fetches robots.txt and leaves the outcome there, so that
	// one process fetches each origin's robots.txt (see Shared). Default none: every Cache fetches for itself.
	Shared Shared
	// SharedPoll is how often a Cache waiting for another process's fetch asks Shared again. Default 50ms.
	SharedPoll time.Duration
	// Logger receives the warnings of Shared's failures, which never fail a Check. Default: discard.
	Logger *slog.Logger
}

// Shared is robots.txt records kept where every process that crawls together sees them (in trawl, the store,
// adapted by package crawl). A Cache with Config.Shared asks it on a miss, once per origin and TTL:
//
//   - a fresh record is used as if fetched, until its Expires, whoever fetched it;
//   - otherwise the first asker claims the fetch, fetches robots.txt and Puts the outcome (with the rules in force,
//     the earlier file's when the fetch failed, RFC 9309 §2.4); the others poll every Config.SharedPoll until the
//     record is there. A claim lasts twice Config.Timeout: if its holder dies, it expires and the next asker
//     claims. A waiter gives up after two claims' time and fetches for itself.
//
// A failure of Shared is logged at warn and the Cache fetches for itself, as without it. Outcomes that depend on
// this process's settings (an address refused by its private-network guard) are not shared.
type Shared interface {
	// Claim returns the fresh record of origin (claimed false); or claims origin's fetch for the caller until ttl
	// passes (claimed true) with the expired record, nil if none; or, when another process holds the claim, nil
	// and false: ask again later.
	Claim(ctx context.Context, origin string, ttl time.Duration) (rec *Record, claimed bool, err error)
	// Put stores rec as origin's record and ends the caller's claim; a nil rec ends the claim only.
	Put(ctx context.Context, origin string, rec *Record) error
}

// Record is the outcome of one robots.txt fetch as Shared keeps it.
type Record struct {
	// Status is the HTTP status the fetch got; 0 when none.
	Status int
	// Class is the fetch error class of a failed fetch; "" otherwise.
	Class fetch.Class
	// Unreachable says robots.txt could not be fetched and no earlier rules stand in: everything is disallowed
	// until Expires.
	Unreachable bool
	// Body is the robots.txt in force (its first Config.MaxSize bytes): the fetched one, or after a failure the
	// earlier one; nil: none, everything is allowed unless Unreachable.
	Body []byte
	// FetchedAt is when it was fetched, Expires when it is to be fetched again.
	FetchedAt time.Time
	Expires   time.Time
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
	case c.SharedPoll < 0:
		return trawl.Errorf(trawl.EINVALID, "robots config: SharedPoll must be 0 (default %v) or more", SharedPollDefault)
	}
	c.TTL = positiveOr(c.TTL, TTLDefault)
	c.ErrorTTL = positiveOr(c.ErrorTTL, ErrorTTLDefault)
	c.MaxSize = positiveOr(c.MaxSize, MaxSizeDefault)
	c.Timeout = positiveOr(c.Timeout, TimeoutDefault)
	c.SharedPoll = positiveOr(c.SharedPoll, SharedPollDefault)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
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
// With Config.Shared, a miss asks it before fetching (see Shared), so that processes crawling together fetch
// each origin's robots.txt once between them; the rules above decide what is stored there.
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

// fetch fetches the robots.txt of u's origin, or takes it from Config.Shared, stores the outcome under key and
// returns it.
func (c *Cache) fetch(ctx context.Context, u *url.URL, key, ua string, stale *entry) *entry {
	if c.cfg.Shared != nil {
		if e := c.fetchShared(ctx, u, key, ua, stale); e != nil {
			return e
		}
	}
	e, _ := c.get(ctx, u, ua, stale, nil)
	c.store(key, e, c.cfg.Now())
	return e
}

// get fetches the robots.txt of u's origin and returns its entry and the record to share (nil: not to be shared).
// The rules of stale (this Cache's expired entry) or else of old (Shared's expired record) stand in when the fetch
// fails.
func (c *Cache) get(ctx context.Context, u *url.URL, ua string, stale *entry, old *Record) (*entry, *Record) {
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
	rec := &Record{FetchedAt: now}
	switch {
	case err == nil && resp.Status >= 200 && resp.Status < 300:
		e.robots = Parse(resp.Body)
		rec.Status, rec.Body = resp.Status, resp.Body
	case err == nil:
		// A 3xx that fetch did not follow (no Location, 304): no file, so unavailable.
		rec.Status = resp.Status
	default:
		var fe *fetch.Error
		if errors.As(err, &fe) {
			rec.Status = fe.Status
		}
		switch class := fetch.ClassOf(err); {
		case class == fetch.ClassHTTP4xx && rec.Status != http.StatusTooManyRequests,
			class == fetch.ClassRedirect, class == fetch.ClassOutOfScope:
			// Unavailable: allow everything.
			rec.Class = class
		case class == fetch.ClassBlocked:
			e.expires = now.Add(c.cfg.ErrorTTL)
			rec = nil // this process's guard, not the site's answer
		default:
			e.expires = now.Add(c.cfg.ErrorTTL)
			rec.Class = class
			switch {
			case stale != nil && stale.robots != nil:
				e.robots = stale.robots
				if old.hasRules() {
					rec.Body = old.Body
				} else {
					rec.Unreachable = true
				}
			case old.hasRules():
				e.robots, rec.Body = Parse(old.Body), old.Body
			default:
				e.unreachable, e.class = true, class
				rec.Unreachable = true
			}
		}
	}
	if rec != nil {
		rec.Expires = e.expires
	}
	return e, rec
}

// fetchShared takes the entry of key from Config.Shared, or claims the fetch there, fetches and leaves the outcome
// there; it waits while another process fetches. It returns nil, having logged why, when Shared failed or the
// wait was too long: the caller fetches for itself.
func (c *Cache) fetchShared(ctx context.Context, u *url.URL, key, ua string, stale *entry) *entry {
	ttl := 2 * c.cfg.Timeout
	log := c.cfg.Logger.With("origin", key)
	for range int(2*ttl/c.cfg.SharedPoll) + 1 { // bounded: two claims' time
		sctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		rec, claimed, err := c.cfg.Shared.Claim(sctx, key, ttl)
		cancel()
		if err != nil {
			log.Warn("shared robots.txt record unavailable, fetching it here", "err", err)
			return nil
		}
		switch {
		case claimed:
			e, out := c.get(ctx, u, ua, stale, rec)
			sctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
			err := c.cfg.Shared.Put(sctx, key, out)
			cancel()
			if err != nil {
				log.Warn("robots.txt not shared", "err", err)
			}
			c.store(key, e, c.cfg.Now())
			return e
		case rec != nil:
			e := rec.entry(stale)
			c.store(key, e, c.cfg.Now())
			return e
		}
		t := time.NewTimer(c.cfg.SharedPoll)
		<-t.C // ctx never ends: the fetch serves every waiting caller (Check)
	}
	log.Warn("another process's robots.txt fetch is taking too long, fetching it here", "waited", 2*ttl)
	return nil
}

// hasRules reports whether r holds rules that may stand in when a later fetch fails: a file was fetched (even an
// empty one), or stood in itself. A nil r has none.
func (r *Record) hasRules() bool {
	return r != nil && !r.Unreachable && (r.Status >= 200 && r.Status < 300 || len(r.Body) > 0)
}

// entry is r as this Cache's entry; the rules of stale, this Cache's expired entry, stand in when r is
// unreachable, as they would have if this Cache had fetched.
func (r *Record) entry(stale *entry) *entry {
	e := &entry{expires: r.Expires}
	switch {
	case r.Unreachable && stale != nil && stale.robots != nil:
		e.robots = stale.robots
	case r.Unreachable:
		e.unreachable, e.class = true, r.Class
	case len(r.Body) > 0:
		e.robots = Parse(r.Body)
	}
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
