package spider

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/trawl-dev/trawl/internal/trawl"
	"github.com/trawl-dev/trawl/internal/urlnorm"
)

// Bounds of numeric settings.
const (
	maxConcurrencyPerHost = 256
	maxRetries            = 20
	maxRedirects          = 50
)

// compiler is the third stage: it validates the decoded spec and compiles it
// into a Spider, filling every default. Compiling a regex or selector is how
// it is validated, so both happen in one walk.
type compiler struct {
	ps *problems
}

// compile returns the Spider described by s. The result is only meaningful
// when no problem was recorded.
func compile(s *spec, ps *problems) *Spider {
	c := &compiler{ps: ps}
	sp := &Spider{
		Name:      c.name(s),
		StartURLs: c.startURLs(s),
	}
	sp.Scope = c.scope(s.Scope, sp.StartURLs)
	c.startsInScope(s, &sp.Scope)
	sp.Follow = c.follows(s.Follow)
	sp.Items = c.items(s)
	sp.Limits = c.limits(s.Limits)
	sp.Politeness = c.politeness(s.Politeness)
	sp.Fetch = c.fetch(s.Fetch)
	if s.Schedule.set {
		cr, err := ParseCron(s.Schedule.v)
		if err != nil {
			c.ps.add(s.Schedule.pos, "%v", err)
		}
		sp.Schedule = strings.TrimSpace(s.Schedule.v)
		sp.Cron = cr
	}
	return sp
}

// required records a missing key of the mapping at parent.
func (c *compiler) required(parent pos, key, hint string) {
	c.ps.add(pos{path: join(parent.path, key), line: parent.line, col: parent.col}, "is required: %s", hint)
}

func (c *compiler) name(s *spec) string {
	if !s.Name.given() {
		c.required(s.pos, "name", "add a name like quotes (lowercase letters, digits, _ and -)")
		return ""
	}
	if !s.Name.set {
		return "" // wrong type: already reported
	}
	if !validName(s.Name.v) {
		c.ps.add(s.Name.pos, "invalid name %q: use 1 to 64 lowercase letters, digits, _ and -, starting with a letter or digit (^[a-z0-9][a-z0-9_-]{0,63}$)", s.Name.v)
	}
	return s.Name.v
}

// validName reports whether name matches ^[a-z0-9][a-z0-9_-]{0,63}$.
func validName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		ok := b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || i > 0 && (b == '_' || b == '-')
		if !ok {
			return false
		}
	}
	return true
}

func (c *compiler) startURLs(s *spec) []*url.URL {
	if !s.StartURLs.given() {
		c.required(s.pos, "start_urls", "list the absolute http(s) URLs the crawl starts from")
		return nil
	}
	if !s.StartURLs.set {
		return nil // wrong type: already reported
	}
	if len(s.StartURLs.elems) == 0 {
		c.ps.add(s.StartURLs.pos, "must not be empty: list the absolute http(s) URLs the crawl starts from")
		return nil
	}
	var urls []*url.URL
	for _, v := range s.StartURLs.elems {
		if u := c.absURL(v); u != nil {
			urls = append(urls, u)
		}
	}
	return urls
}

// startsInScope reports start URLs whose host the explicit scope.hosts
// leaves out: the crawl could never fetch them.
func (c *compiler) startsInScope(s *spec, sc *Scope) {
	if s.Scope == nil || !s.Scope.Hosts.set || len(sc.Hosts) == 0 {
		return
	}
	for _, v := range s.StartURLs.elems {
		u, err := url.Parse(strings.TrimSpace(v.v))
		if !v.set || err != nil || u.Host == "" {
			continue // not a URL: already reported
		}
		if !sc.hostAllowed(u) {
			c.ps.add(v.pos, "host %q is not in scope.hosts: add it there or remove this start URL", u.Host)
		}
	}
}

// absURL parses an absolute http(s) URL with a host.
func (c *compiler) absURL(v val[string]) *url.URL {
	if !v.set {
		return nil
	}
	u, err := url.Parse(strings.TrimSpace(v.v))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		c.ps.add(v.pos, "must be an absolute http(s) URL, got %q", v.v)
		return nil
	}
	// The frontier stores the normalized URL as a string and parses it again: reject what would not survive that.
	if _, err := urlnorm.Parse(v.v); err != nil {
		c.ps.add(v.pos, "cannot be crawled: %v", errors.Unwrap(err))
		return nil
	}
	return u
}

func (c *compiler) scope(s *scopeSpec, starts []*url.URL) Scope {
	var sc Scope
	if s == nil {
		s = &scopeSpec{}
	}
	switch {
	case !s.Hosts.set:
		for _, u := range starts {
			if h := strings.ToLower(u.Host); !slices.Contains(sc.Hosts, h) {
				sc.Hosts = append(sc.Hosts, h)
			}
		}
	case len(s.Hosts.elems) == 0:
		c.ps.add(s.Hosts.pos, "must not be empty: list host patterns, or leave hosts out to use the hosts of start_urls")
	}
	for _, v := range s.Hosts.elems {
		if !v.set {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(v.v))
		if err := checkHostPattern(h); err != nil {
			c.ps.add(v.pos, "invalid host %q: %v", v.v, err)
			continue
		}
		if !slices.Contains(sc.Hosts, h) {
			sc.Hosts = append(sc.Hosts, h)
		}
	}
	sc.Allow = c.regexps(s.Allow)
	sc.Deny = c.regexps(s.Deny)
	sc.index = newHostIndex(sc.Hosts)
	return sc
}

// regexps compiles a list of RE2 patterns; nil when the list is empty.
func (c *compiler) regexps(s seq[val[string]]) []*regexp.Regexp {
	var res []*regexp.Regexp
	for _, v := range s.elems {
		if re := c.regexp(v); re != nil {
			res = append(res, re)
		}
	}
	return res
}

func (c *compiler) regexp(v val[string]) *regexp.Regexp {
	if !v.set {
		return nil
	}
	re, err := regexp.Compile(v.v)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
		c.ps.add(v.pos, "invalid regular expression %q: %s (Go RE2 syntax)", v.v, msg)
		return nil
	}
	return re
}

func (c *compiler) limits(s *limitsSpec) Limits {
	if s == nil {
		return Limits{MaxLinks: DefaultMaxLinks}
	}
	return Limits{
		MaxPages: c.intIn(s.MaxPages, 0, 0, -1, "0 means unlimited"),
		MaxDepth: c.intIn(s.MaxDepth, 0, 0, -1, "0 means unlimited"),
		MaxLinks: c.intIn(s.MaxLinks, DefaultMaxLinks, 0, -1, "default 10000, 0 means unlimited"),
	}
}

// intIn returns v, or def when v is unset, after checking lo <= v <= hi;
// hi < 0 means no upper bound.
func (c *compiler) intIn(v val[int64], def, lo, hi int64, note string) int {
	if !v.set {
		return int(def)
	}
	switch {
	case hi < 0 && lo == 0 && v.v < 0:
		c.ps.add(v.pos, "must not be negative, got %d (%s)", v.v, note)
	case hi < 0 && v.v < lo:
		c.ps.add(v.pos, "must be at least %d, got %d (%s)", lo, v.v, note)
	case hi >= 0 && (v.v < lo || v.v > hi):
		c.ps.add(v.pos, "must be between %d and %d, got %d (%s)", lo, hi, v.v, note)
	case int64(int(v.v)) != v.v:
		c.ps.add(v.pos, "%d is too large", v.v)
	}
	return int(v.v)
}

func (c *compiler) politeness(s *politenessSpec) Politeness {
	if s == nil {
		s = &politenessSpec{}
	}
	p := Politeness{
		ObeyRobots:         true,
		ConcurrencyPerHost: c.intIn(s.ConcurrencyPerHost, DefaultConcurrencyPerHost, 1, maxConcurrencyPerHost, "default 2"),
		Delay:              c.duration(s.Delay, 0, true),
	}
	if s.Robots.set {
		switch s.Robots.v {
		case "obey":
		case "ignore":
			p.ObeyRobots = false
		default:
			c.ps.add(s.Robots.pos, `must be "obey" or "ignore", got %q`, s.Robots.v)
		}
	}
	return p
}

// duration parses a Go duration, or returns def when v is unset. zeroOK
// says whether 0 is allowed; negative durations never are.
func (c *compiler) duration(v val[string], def time.Duration, zeroOK bool) time.Duration {
	if !v.set {
		return def
	}
	d, err := time.ParseDuration(strings.TrimSpace(v.v))
	switch {
	case err != nil:
		c.ps.add(v.pos, "invalid duration %q: use a Go duration like 500ms, 2s, 1m", v.v)
	case d < 0:
		c.ps.add(v.pos, "must not be negative, got %s", v.v)
	case d == 0 && !zeroOK:
		c.ps.add(v.pos, "must be greater than 0, got %s (use a Go duration like 500ms, 2s, 1m)", v.v)
	}
	return d
}

func (c *compiler) fetch(s *fetchSpec) Fetch {
	if s == nil {
		s = &fetchSpec{}
	}
	f := Fetch{
		Timeout:      c.duration(s.Timeout, DefaultTimeout, false),
		Retries:      c.intIn(s.Retries, DefaultRetries, 0, maxRetries, "default 3"),
		UserAgent:    cmp.Or(strings.TrimSpace(s.UserAgent.v), trawl.DefaultUserAgent),
		MaxBody:      DefaultMaxBody,
		MaxRedirects: c.intIn(s.MaxRedirects, DefaultMaxRedirects, 0, maxRedirects, "default 10"),
		Headers:      c.headers(s.Headers),
	}
	if strings.ContainsAny(s.UserAgent.v, "\r\n\x00") {
		c.ps.add(s.UserAgent.pos, "must not contain line breaks or NUL characters")
	}
	if s.MaxBody.set {
		n, err := ParseByteSize(s.MaxBody.v)
		switch {
		case err != nil:
			c.ps.add(s.MaxBody.pos, "%v", err)
		case n <= 0:
			c.ps.add(s.MaxBody.pos, "must be greater than 0, got %q (like 10MiB)", s.MaxBody.v)
		default:
			f.MaxBody = n
		}
	}
	return f
}

func (c *compiler) headers(hs []*headerSpec) map[string]string {
	if len(hs) == 0 {
		return nil
	}
	m := make(map[string]string, len(hs))
	seen := map[string]int{}
	for _, h := range hs {
		switch {
		case !validHeaderName(h.Name):
			c.ps.add(h.pos, "invalid header name %q: use letters, digits and - (like Accept-Language)", h.Name)
		case seen[strings.ToLower(h.Name)] > 0:
			c.ps.add(h.pos, "header %q is set twice (header names ignore case; first on line %d)", h.Name, seen[strings.ToLower(h.Name)])
		}
		seen[strings.ToLower(h.Name)] = cmp.Or(seen[strings.ToLower(h.Name)], h.line)
		if strings.ContainsAny(h.Value.v, "\r\n\x00") {
			c.ps.add(h.Value.pos, "header value must not contain line breaks or NUL characters")
		}
		m[h.Name] = h.Value.v
	}
	return m
}

// validHeaderName reports whether name is an HTTP token (RFC 9110).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		ok := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// describeKeys formats keys as `css and xpath` for messages.
func describeKeys(keys []string) string {
	if len(keys) <= 1 {
		return strings.Join(keys, "")
	}
	return fmt.Sprintf("%s and %s", strings.Join(keys[:len(keys)-1], ", "), keys[len(keys)-1])
}
