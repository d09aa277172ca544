package simweb

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults applied by [Start] to zero-valued [Config] fields.
const (
	HostsDefault          = 1
	PagesPerHostDefault   = 100
	LinksDefault          = 10
	CrossHostLinksDefault = 1
	PageBytesDefault      = 6 * 1024
	// HostsMax bounds Hosts: every host takes one loopback address and one listener.
	HostsMax = 10000
)

// Config describes the shape and the misbehaviour of a simulated web. The zero value is a valid
// web of one host with 100 pages and no latency or faults.
type Config struct {
	// Hosts is the number of hosts, each served on its own loopback address (127.0.0.2, 127.0.0.3, …).
	// Default 1, at most HostsMax.
	Hosts int `json:"hosts"`
	// PagesPerHost is the number of pages of each host, the home page "/" included. Default 100.
	PagesPerHost int `json:"pages_per_host"`
	// Links is the number of pseudo-random same-host out-links per page, on top of the link to the
	// next page that keeps every page reachable from "/". Default 10; -1 means none.
	Links int `json:"links"`
	// CrossHostLinks is the number of links per page to pages of other hosts. Default 1; -1 means none.
	CrossHostLinks int `json:"cross_host_links"`
	// LatencyMin and LatencyMax bound the delay injected before every response, drawn uniformly
	// per request from a generator seeded by Seed, the URL and the request's ordinal. Zero means no
	// delay; a zero LatencyMax with a positive LatencyMin means a fixed LatencyMin.
	LatencyMin time.Duration `json:"latency_min_ns"`
	// LatencyMax is the upper bound of the injected delay; see LatencyMin.
	LatencyMax time.Duration `json:"latency_max_ns"`
	// Fail503 is the fraction (0–1) of pages whose first request answers 503 with Retry-After: 1;
	// later requests of the same page succeed.
	Fail503 float64 `json:"fail_503"`
	// NotFound is the fraction (0–1) of the pseudo-random links that point to pages that answer 404.
	NotFound float64 `json:"not_found"`
	// RobotsDisallow is a path prefix that robots.txt disallows for every agent, such as "/private/".
	// When set, pages under it exist (they answer 200) and about one page in ten links into it.
	// Empty means robots.txt allows everything.
	RobotsDisallow string `json:"robots_disallow"`
	// RateLimit is how many requests per second each host accepts (a token bucket with a burst of
	// 1); a request beyond it answers 429 with Retry-After: 1. robots.txt is exempt. Zero means no
	// limit.
	RateLimit float64 `json:"rate_limit"`
	// PageBytes is the approximate size of every HTML page in bytes, reached with filler text.
	// Default 6 KiB.
	PageBytes int `json:"page_bytes"`
	// Seed makes the link graph, the items, the faults and the latencies reproducible.
	Seed int64 `json:"seed"`
}

// WithDefaults returns c with every zero field set to its default, as Start applies them.
func (c Config) WithDefaults() Config {
	c.Hosts = cmp.Or(c.Hosts, HostsDefault)
	c.PagesPerHost = cmp.Or(c.PagesPerHost, PagesPerHostDefault)
	c.Links = cmp.Or(c.Links, LinksDefault)
	c.CrossHostLinks = cmp.Or(c.CrossHostLinks, CrossHostLinksDefault)
	c.PageBytes = cmp.Or(c.PageBytes, PageBytesDefault)
	if c.LatencyMax == 0 {
		c.LatencyMax = c.LatencyMin
	}
	return c
}

// validate reports every bad value of a defaulted Config.
func (c Config) validate() error {
	var errs []error
	if c.Hosts < 1 || c.Hosts > HostsMax {
		errs = append(errs, fmt.Errorf("hosts %d: want 1 to %d", c.Hosts, HostsMax))
	}
	if c.PagesPerHost < 1 {
		errs = append(errs, fmt.Errorf("pages per host %d: want at least 1", c.PagesPerHost))
	}
	if c.Links < -1 {
		errs = append(errs, fmt.Errorf("links %d: want -1 (none) or more", c.Links))
	}
	if c.CrossHostLinks < -1 {
		errs = append(errs, fmt.Errorf("cross-host links %d: want -1 (none) or more", c.CrossHostLinks))
	}
	if c.LatencyMin < 0 || c.LatencyMax < c.LatencyMin {
		errs = append(errs, fmt.Errorf("latency %v–%v: want 0 <= min <= max", c.LatencyMin, c.LatencyMax))
	}
	if c.Fail503 < 0 || c.Fail503 > 1 {
		errs = append(errs, fmt.Errorf("fail503 %v: want a fraction from 0 to 1", c.Fail503))
	}
	if c.NotFound < 0 || c.NotFound > 1 {
		errs = append(errs, fmt.Errorf("not-found %v: want a fraction from 0 to 1", c.NotFound))
	}
	if c.RateLimit < 0 {
		errs = append(errs, fmt.Errorf("rate limit %v: want 0 (none) or more requests per second", c.RateLimit))
	}
	if c.PageBytes < 0 {
		errs = append(errs, fmt.Errorf("page bytes %d: want 0 or more", c.PageBytes))
	}
	if d := c.RobotsDisallow; d != "" {
		switch {
		case !strings.HasPrefix(d, "/") || d == "/":
			errs = append(errs, fmt.Errorf("robots disallow %q: want a path prefix such as /private/", d))
		case strings.HasPrefix("/p/1", d) || strings.HasPrefix("/robots.txt", d):
			errs = append(errs, fmt.Errorf("robots disallow %q: would disallow the regular pages /p/N or robots.txt", d))
		}
	}
	return errors.Join(errs...)
}

// links returns the number of pseudo-random same-host links per page, resolving -1.
func (c Config) links() int { return max(c.Links, 0) }

// crossHostLinks returns the number of cross-host links per page, resolving -1 and a single host.
func (c Config) crossHostLinks() int {
	if c.Hosts < 2 {
		return 0
	}
	return max(c.CrossHostLinks, 0)
}

// privatePages returns the number of robots-disallowed pages per host.
func (c Config) privatePages() int {
	if c.RobotsDisallow == "" {
		return 0
	}
	return max(1, c.PagesPerHost/50)
}
