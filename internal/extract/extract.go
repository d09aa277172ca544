package extract

import (
	"fmt"
	"hash/maphash"
	"net/url"
	"regexp"
	"strings"

	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/trawl"
	"github.com/trawl-dev/trawl/internal/urlnorm"
)

// Page is one fetched response, body already decoded to UTF-8.
type Page struct {
	URL         *url.URL // the final URL of the response, after redirects
	ContentType string   // media type, lowercase, e.g. "text/html"
	Body        []byte
}

// Result is what one page yields.
type Result struct {
	// Links are the follow-rule links, resolved with urlnorm.ResolveRaw:
	// as the site wrote them, without fragment, not normalized (the
	// frontier fetches them so and keys them normalized). Deduplicated
	// within the page, in document order (JSON follow rules: in rule order).
	Links []*url.URL
	// Items are the valid items: per item rule in document order, rules in
	// declared order. Their Key is set and unique within the page: of items
	// sharing a key only the last one is kept.
	Items []trawl.Item
	// Invalid counts the items dropped because a required field was missing.
	Invalid int
	// LinksCapped counts the links beyond the spider's per-page link limit,
	// which are left out of Links.
	LinksCapped int
	// Rules has one entry per item rule of the spider, in declared order,
	// each count 0 or 1: Pages when the rule applied to this page (content
	// type and URLs), Matched when it matched (an HTML root selected an
	// element, or a rule without root has a field with a value; a JSON path
	// reached an object or a non-empty array), Scripted when an HTML rule
	// did not match and the page looks rendered by JavaScript (see
	// "Scripted rules" in the package doc).
	Rules []trawl.RuleStats
}

// ParseError reports a JSON response whose body is not valid JSON.
type ParseError struct {
	URL string // the page URL
	Err error  // the decoder's error
}

// Error implements the error interface.
func (e *ParseError) Error() string {
	return fmt.Sprintf("parse json response %s: %v", e.URL, e.Err)
}

// Unwrap returns the decoder's error.
func (e *ParseError) Unwrap() error { return e.Err }

// Extract applies sp's follow and item rules to p. It is pure (no I/O) and
// safe for concurrent use, also with one shared sp.
//
// HTML rules (CSS or XPath) apply to HTML pages, and to pages without a
// content type whose body does not look like JSON; JSON rules apply to JSON
// pages (see IsJSON). A rule with URLs patterns applies only when one of them
// matches the page's path and query. The body is parsed or decoded only when
// at least one rule applies.
//
// Extract returns a *ParseError only when a JSON page that rules apply to is
// not valid JSON. Malformed HTML is never an error: the HTML5 parser recovers
// the way browsers do.
func Extract(sp *spider.Spider, p Page) (Result, error) {
	if sp == nil {
		return Result{}, nil
	}
	if p.URL == nil {
		p.URL = &url.URL{}
	}
	uri := p.URL.RequestURI()
	var res Result
	switch {
	case IsJSON(p.ContentType, p.Body):
		var err error
		if res, err = extractJSON(sp, p, uri); err != nil {
			return Result{}, err
		}
	case IsHTML(p.ContentType) || mediaType(p.ContentType) == "":
		res = extractHTML(sp, p, uri)
	}
	if res.Rules == nil && len(sp.Items) > 0 {
		res.Rules = make([]trawl.RuleStats, len(sp.Items)) // no rule applied
	}
	return res, nil
}

// IsJSON reports whether a response is JSON: its media type is
// application/json, text/json or any "+json" type, or the content type is
// empty or text/plain and the body starts with "{" or "[" after optional
// whitespace (and byte order mark). Parameters such as charset are ignored.
func IsJSON(contentType string, body []byte) bool {
	mt := mediaType(contentType)
	switch {
	case mt == "application/json", mt == "text/json", strings.HasSuffix(mt, "+json"):
		return true
	case mt == "", mt == "text/plain":
		b := trimBOM(body)
		for _, c := range b {
			switch c {
			case ' ', '\t', '\n', '\r':
				continue
			case '{', '[':
				return true
			}
			return false
		}
	}
	return false
}

// IsHTML reports whether the media type of contentType is text/html or
// application/xhtml+xml. Parameters such as charset are ignored.
func IsHTML(contentType string) bool {
	mt := mediaType(contentType)
	return mt == "text/html" || mt == "application/xhtml+xml"
}

// mediaType returns the lowercase media type of a Content-Type value without
// its parameters, or "" when there is none.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	// ToLower returns a lowercase ASCII string as it is, without allocating.
	return strings.ToLower(strings.TrimSpace(ct))
}

// trimBOM removes a leading UTF-8 byte order mark.
func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}

// applies reports whether a rule with the URL patterns pats applies to a page
// whose path and query are uri.
func applies(pats []*regexp.Regexp, uri string) bool {
	if len(pats) == 0 {
		return true
	}
	for _, re := range pats {
		if re.MatchString(uri) {
			return true
		}
	}
	return false
}

// required reports whether every field named in names has a value: not nil,
// not "" and not an empty list.
func required(fields []trawl.Field, names []string) bool {
	for _, name := range names {
		var v any
		for _, f := range fields {
			if f.Name == name {
				v = f.Value
				break
			}
		}
		if isEmpty(v) {
			return false
		}
	}
	return true
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case []string:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

// items collects the valid items of one page: it drops items missing a
// required field, sets keys and keeps only the last item of each key.
type items struct {
	list    []trawl.Item
	invalid int
}

// add validates fields against rule and appends the item.
func (is *items) add(rule *spider.ItemRule, pageURL string, fields []trawl.Field) {
	if !required(fields, rule.Required) {
		is.invalid++
		return
	}
	is.list = append(is.list, trawl.Item{
		Key:    ItemKey(fields, pageURL, rule.Key),
		URL:    pageURL,
		Fields: fields,
	})
}

// result deduplicates the items by key, keeping the last of each key at its
// own position.
func (is *items) result() ([]trawl.Item, int) {
	if len(is.list) < 2 {
		return is.list, is.invalid
	}
	last := make(map[string]int, len(is.list))
	for i, it := range is.list {
		last[it.Key] = i
	}
	if len(last) == len(is.list) {
		return is.list, is.invalid
	}
	out := is.list[:0]
	for i, it := range is.list {
		if last[it.Key] == i {
			out = append(out, it)
		}
	}
	return out, is.invalid
}

// links resolves references and deduplicates the results in order, keeping
// at most max of them (0: no limit).
type links struct {
	base *url.URL
	max  int
	list []*url.URL
	seen map[string]struct{} // resolved links
	// refs holds the references seen before the cap, as written: a repeated
	// reference is skipped without resolving it again.
	refs map[string]struct{}
	// over holds the hashes of the references past the cap, which may be
	// many: 8 bytes each instead of a string header. A collision (odds about
	// n²/2⁶⁵) only makes capped one short.
	over   map[uint64]struct{}
	seed   maphash.Seed
	capped int
}

// add resolves ref against the base and appends it unless it is empty, a
// fragment-only reference, not http(s), or already present. Past the cap it
// only counts ref in capped, unless ref was seen before or has a scheme other
// than http(s): those references, distinct as written, are not resolved, so
// that a page of a million links costs little more than its parse.
func (l *links) add(ref string) {
	ref = strings.TrimSpace(ref)
	if ref == "" || ref[0] == '#' {
		return
	}
	if _, dup := l.refs[ref]; dup {
		return
	}
	if l.max > 0 && len(l.list) >= l.max {
		l.overflow(ref)
		return
	}
	if l.refs == nil {
		l.refs = make(map[string]struct{})
	}
	l.refs[ref] = struct{}{}
	u, err := urlnorm.ResolveRaw(l.base, ref)
	if err != nil {
		return
	}
	if l.seen == nil {
		l.seen = make(map[string]struct{})
	}
	s := u.String()
	if _, dup := l.seen[s]; dup {
		return
	}
	l.seen[s] = struct{}{}
	l.list = append(l.list, u)
}

// overflow counts ref in capped unless it was counted before or has a
// scheme other than http(s).
func (l *links) overflow(ref string) {
	if !webRef(ref) {
		return
	}
	if l.over == nil {
		l.over = make(map[uint64]struct{})
		l.seed = maphash.MakeSeed()
	}
	h := maphash.String(l.seed, ref)
	if _, dup := l.over[h]; dup {
		return
	}
	l.over[h] = struct{}{}
	l.capped++
}

// webRef reports whether ref is relative or has the scheme http or https,
// without parsing it.
func webRef(ref string) bool {
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		switch {
		case c == ':':
			s := ref[:i]
			return i > 0 && (strings.EqualFold(s, "http") || strings.EqualFold(s, "https"))
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return true // a path, query or authority character: relative
		}
	}
	return true
}

// resolveValue resolves a field value against base. An empty value stays
// empty, and a value that does not resolve (a mailto: address, say) is kept
// as it is.
func resolveValue(base *url.URL, v string) string {
	if v == "" {
		return v
	}
	u, err := urlnorm.Resolve(base, v)
	if err != nil {
		return v
	}
	return u.String()
}
