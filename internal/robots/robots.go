// Package robots decides whether a crawler may fetch a URL according to the site's robots.txt, following RFC 9309,
// and fetches each origin's robots.txt once, caching it.
//
// # RFC 9309 choices
//
// The parser and matcher are written here rather than taken from a library, because the common Go library
// (temoto/robotstxt) deviates from the RFC in ways that change decisions: it matches user agents by prefix, lets the
// first of two equally long rules win, measures wildcard rules by their regular expression and rejects a whole file
// for one bad line. This package follows RFC 9309 §2, and where the RFC leaves room it behaves like Google's
// open-source parser (github.com/google/robotstxt), the reference most sites are tested against; its test suite is
// ported in google_test.go.
//
//   - Lines (§2.2): keys are case-insensitive, "#" starts a comment, surrounding whitespace is trimmed, a UTF-8 byte
//     order mark (or the start of one) is skipped, and CR, LF and CRLF all end lines. Only the first 500 KiB are
//     parsed (§2.5), cut back to the last complete line, and only the first [MaxLine] bytes of a line, as Google's
//     parser does.
//   - Google leniencies: a line without a colon is read when it holds exactly two words ("Disallow /x"); the
//     misspellings Google accepts ("useragent", "user agent", "dissallow", "dissalow", "disalow", "diasllow",
//     "disallaw", "site-map") mean their directive; and "Allow: /dir/index.html" (any final "/index.htm…") also
//     allows "/dir/" exactly. Other unknown keys are ignored.
//   - Groups (§2.1, §2.2.1): a group is one or more consecutive user-agent lines followed by rules. Blank lines,
//     sitemap, crawl-delay and unknown lines do not end a group or a run of user-agent lines ("parsing of other
//     records MUST NOT interfere", §2.2.4). Rules before any user-agent line belong to no group and are ignored.
//   - Product tokens (§2.2.1): the crawler's token is the leading run of [A-Za-z_-] of its User-Agent ("trawl" for
//     "trawl/1.0 (+url)"); a user-agent line names the leading run of [A-Za-z_-] of its value, so its value is cut
//     at the first space ("Foo Bar" names foo), compared case-insensitively and exactly: "Trawl/2.0" names trawl
//     and "trawler" does not. Every group naming the token is merged into one; if none does, every "*" group is
//     merged; if there is none, everything is allowed.
//   - Rules (§2.2.2, §2.2.3): allow and disallow patterns match a prefix of the path and query as the site wrote
//     them; "*" matches any sequence and a final "$" anchors the end. The match with the longest pattern (in
//     octets, after canonicalisation) wins; on equal length allow wins; no match allows. An empty pattern matches
//     nothing. "/robots.txt" is always allowed (§2.2.2). A pattern not starting with "/" or "*" gets a leading
//     "/", the conservative reading of what the site meant.
//   - Percent-encoding (§2.2.2): paths and patterns are compared in one canonical form: octets outside printable
//     ASCII, the unsafe "<>\"\\^`{|}" and a "%" starting no escape are percent-encoded, and escapes are written
//     in upper case. Escapes are never decoded: "/%62%61%7A" matches only "/%62%61%7A", not "/baz" (Google's
//     ID_Encoding test), and "/%7Efoo" does not match "/~foo". "/ä" matches "/%C3%A4". A literal "*" or "$" in a
//     path is compared as "%2A" and "%24", as §2.2.3 prescribes. The caller passes the URL as the site wrote it:
//     normalizing it first (sorting its query, decoding escapes) changes what the rules see.
//   - Crawl-delay is not part of the RFC. It is read from the matched groups as decimal seconds; the largest value
//     wins, capped at one minute.
//
// The status rules of [Cache] are documented on [Cache.Check].
package robots

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxParse is the number of bytes of a robots.txt that Parse reads (RFC 9309 §2.5 asks for at least 500 KiB).
const MaxParse = 500 << 10

// MaxLine is the number of bytes of one line that Parse reads; the rest of a longer line is ignored. It is the
// limit of Google's parser (robots.cc: a buffer of 8 × 2083 bytes, the longest URL of old browsers, with room
// for a final NUL), so that a rule cut there means to trawl what it means to Googlebot.
const MaxLine = 8*2083 - 1

// MaxCrawlDelay caps the Crawl-delay a site may impose.
const MaxCrawlDelay = time.Minute

// Robots is a parsed robots.txt. A nil *Robots allows everything. It is immutable and safe for concurrent use.
type Robots struct {
	groups   []group
	sitemaps []string
}

// group is one group of the file, before merging.
type group struct {
	agents     []string // product tokens, lowercase
	wildcard   bool     // one of the user-agent lines is "*"
	rules      []rule
	crawlDelay time.Duration
}

// rule is one allow or disallow line.
type rule struct {
	allow bool
	glob  string // canonical pattern without a final "$", with a final "*" when not anchored: a whole-string glob
	size  int    // length of the canonical pattern in octets, the rule's priority
}

// Parse parses a robots.txt body. It never fails: lines it cannot read are skipped, as the RFC asks.
func Parse(body []byte) *Robots {
	if len(body) > MaxParse {
		body = body[:MaxParse]
		// Drop the cut line: a truncated rule would say something the file did not.
		if i := bytes.LastIndexAny(body, "\r\n"); i >= 0 {
			body = body[:i]
		}
	}
	body = trimBOM(body)

	r := &Robots{}
	cur := -1           // index of the group being built, -1 before the first user-agent line
	inAgents := false   // the last group line was a user-agent line
	for len(body) > 0 { // a line ends at CR, LF or CRLF
		var line []byte
		i := bytes.IndexAny(body, "\r\n")
		switch {
		case i < 0:
			line, body = body, nil
		case body[i] == '\r' && i+1 < len(body) && body[i+1] == '\n':
			line, body = body[:i], body[i+2:]
		default:
			line, body = body[:i], body[i+1:]
		}
		if len(line) > MaxLine {
			line = line[:MaxLine]
		}
		key, value, ok := splitLine(string(line))
		if !ok {
			continue
		}
		switch key {
		case keyUserAgent:
			if cur < 0 || !inAgents {
				r.groups = append(r.groups, group{})
				cur = len(r.groups) - 1
			}
			inAgents = true
			g := &r.groups[cur]
			if value == "*" || strings.HasPrefix(value, "* ") || strings.HasPrefix(value, "*\t") {
				g.wildcard = true
			} else if tok := productToken(value); tok != "" {
				g.agents = append(g.agents, tok)
			}
		case keyAllow, keyDisallow:
			if cur < 0 {
				continue
			}
			inAgents = false
			if value == "" {
				continue
			}
			g := &r.groups[cur]
			g.rules = append(g.rules, newRule(key == keyAllow, value))
			if dir, ok := indexDir(value); ok && key == keyAllow {
				g.rules = append(g.rules, newRule(true, dir+"$"))
			}
		case keyCrawlDelay:
			if cur < 0 {
				continue
			}
			if d, ok := parseCrawlDelay(value); ok {
				r.groups[cur].crawlDelay = max(r.groups[cur].crawlDelay, d)
			}
		case keySitemap:
			if value != "" {
				r.sitemaps = append(r.sitemaps, value)
			}
		}
	}
	return r
}

// trimBOM drops a UTF-8 byte order mark, or the start of one, from the start of body. Google's parser skips a
// partial mark too (robots_test.cc ID_UTF8ByteOrderMarkIsSkipped). A body that fetch decoded to UTF-8 holds a
// partial mark, which is invalid UTF-8, as U+FFFD replacement characters, so those are dropped as well: otherwise
// the first line would be garbage to trawl and a rule to Googlebot.
func trimBOM(body []byte) []byte {
	for bytes.HasPrefix(body, []byte("\uFFFD")) {
		body = body[len("\uFFFD"):]
	}
	const bom = "\xEF\xBB\xBF"
	for i := 0; i < len(bom) && len(body) > 0 && body[0] == bom[i]; i++ {
		body = body[1:]
	}
	return body
}

// The directives Parse knows, by their canonical key.
const (
	keyUserAgent  = "user-agent"
	keyAllow      = "allow"
	keyDisallow   = "disallow"
	keyCrawlDelay = "crawl-delay"
	keySitemap    = "sitemap"
)

// keys maps every accepted spelling of a directive, lowercase, to its canonical key. The misspellings are those
// Google's parser accepts (robots.cc KeyIsUserAgent, KeyIsDisallow, KeyIsSitemap): a site that wrote them meant the
// directive, and Googlebot obeys it, so the site has no reason to notice the typo.
var keys = map[string]string{
	"user-agent": keyUserAgent, "useragent": keyUserAgent, "user agent": keyUserAgent,
	"allow":    keyAllow,
	"disallow": keyDisallow, "dissallow": keyDisallow, "dissalow": keyDisallow, "disalow": keyDisallow,
	"diasllow": keyDisallow, "disallaw": keyDisallow,
	"crawl-delay": keyCrawlDelay,
	"sitemap":     keySitemap, "site-map": keySitemap,
}

// splitLine returns the canonical key and the value of a line, without comment and surrounding whitespace; ok is
// false for blank lines, comments, unknown keys and lines it cannot split. A line without a colon is split at its
// whitespace when it holds exactly two words ("Disallow /x"), as Google's parser does.
func splitLine(line string) (key, value string, ok bool) {
	line, _, _ = strings.Cut(line, "#")
	line = strings.TrimSpace(line)
	key, value, ok = strings.Cut(line, ":")
	if !ok {
		i := strings.IndexAny(line, " \t")
		if i < 0 {
			return "", "", false
		}
		key, value = line[:i], strings.TrimLeft(line[i:], " \t")
		if strings.ContainsAny(value, " \t") {
			return "", "", false
		}
	}
	key, ok = keys[strings.ToLower(strings.TrimSpace(key))]
	return key, strings.TrimSpace(value), ok
}

// indexDir reports whether an allow pattern names an index page ("/dir/index.html", "/dir/index.htm…") and returns
// its directory ("/dir/"). Google's parser reads such a rule as allowing the directory itself too
// (robots_test.cc GoogleOnly_IndexHTMLisDirectory): the two are one page on most servers.
func indexDir(pattern string) (string, bool) {
	i := strings.LastIndexByte(pattern, '/')
	if i < 0 || !strings.HasPrefix(pattern[i:], "/index.htm") {
		return "", false
	}
	return pattern[:i+1], true
}

// productToken returns the leading run of [A-Za-z_-] of s, lowercase.
func productToken(s string) string {
	end := 0
	for end < len(s) {
		c := s[end]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-') {
			break
		}
		end++
	}
	return strings.ToLower(s[:end])
}

func parseCrawlDelay(v string) (time.Duration, bool) {
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(secs) || secs < 0 {
		return 0, false
	}
	return time.Duration(min(secs, MaxCrawlDelay.Seconds()) * float64(time.Second)), true
}

// Sitemaps returns the sitemap URLs the file lists, in order.
func (r *Robots) Sitemaps() []string {
	if r == nil {
		return nil
	}
	return append([]string(nil), r.sitemaps...)
}

// Group returns the rules that apply to a crawler with the given User-Agent: every group naming its product token
// merged, or else every "*" group merged, or else an empty group that allows everything.
func (r *Robots) Group(ua string) *Group {
	m := &Group{}
	if r == nil {
		return m
	}
	tok := productToken(strings.TrimSpace(ua))
	named := false
	if tok != "" {
		for _, g := range r.groups {
			for _, a := range g.agents {
				if a == tok {
					m.merge(g)
					named = true
					break
				}
			}
		}
	}
	if !named {
		for _, g := range r.groups {
			if g.wildcard {
				m.merge(g)
			}
		}
	}
	return m
}

// Group is the merged set of rules that applies to one crawler. It is immutable and safe for concurrent use.
type Group struct {
	rules      []rule
	crawlDelay time.Duration
}

func (m *Group) merge(g group) {
	m.rules = append(m.rules, g.rules...)
	m.crawlDelay = max(m.crawlDelay, g.crawlDelay)
}

// Allowed reports whether the crawler may fetch a URL with the given path and query ("/a/b?c=d"), which may be
// percent-encoded or not. An empty path means "/".
func (m *Group) Allowed(pathAndQuery string) bool {
	pathAndQuery, _, _ = strings.Cut(pathAndQuery, "#")
	if pathAndQuery == "" {
		pathAndQuery = "/"
	}
	p := canonical(pathAndQuery, false)
	if isRobotsTxt(p) {
		return true
	}
	best, allowed := -1, true
	for _, r := range m.rules {
		if r.size < best || (r.size == best && !r.allow) {
			continue
		}
		if globMatch(r.glob, p) {
			best, allowed = r.size, r.allow
		}
	}
	return allowed
}

// CrawlDelay returns the largest Crawl-delay of the merged groups, at most MaxCrawlDelay, or 0.
func (m *Group) CrawlDelay() time.Duration {
	return m.crawlDelay
}

// isRobotsTxt reports whether a path and query addresses /robots.txt itself, which RFC 9309 §2.2.2 always allows.
func isRobotsTxt(pathAndQuery string) bool {
	path, _, _ := strings.Cut(pathAndQuery, "?")
	return path == "/robots.txt"
}
