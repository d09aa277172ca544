// Package urlnorm resolves and normalizes http(s) URLs and derives the host
// and dedup keys that the frontier uses.
//
// # Normalization
//
// [Normalize] applies these rules, in this order, and is idempotent:
//
//   - the scheme and the host are lowercased;
//   - an internationalized host is converted to punycode (IDNA lookup
//     profile); a host that IDNA rejects is kept, lowercased;
//   - trailing dots of the host are removed ("example.com." is
//     "example.com");
//   - the default port is dropped (:80 for http, :443 for https), an empty
//     port is dropped and leading zeros of a port are removed;
//   - an empty path becomes "/", and dot segments ("." and "..") are removed
//     as in RFC 3986 section 5.2.4;
//   - percent-encoding is normalized in the path and the query: hex digits
//     are uppercased, escapes of unreserved characters (ALPHA, DIGIT, "-",
//     ".", "_", "~") are decoded, and characters that must be encoded
//     (spaces, controls, non-ASCII bytes, `"<>\^{|}` and a "%" that starts no
//     escape) are encoded;
//   - the fragment is dropped, and so is an empty query ("?");
//   - query parameters are sorted by key. The sort is stable, so repeated
//     keys keep their values in their original relative order, and empty
//     parameters ("a=1&&b=2") are dropped. This is what Scrapy's
//     canonicalize_url does: servers almost never give meaning to the order of
//     distinct keys, and sorting makes "?b=2&a=1" and "?a=1&b=2" one page.
//
// The user information ("user:pass@") is kept as it is, case included.
package urlnorm

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Sentinel errors of Parse and Resolve; check them with errors.Is.
var (
	// ErrUnsupportedScheme: the URL's scheme is not http or https
	// (mailto:, javascript:, data:, tel:, ftp:, ...).
	ErrUnsupportedScheme = errors.New("unsupported url scheme")
	// ErrNotAbsolute: the URL has no scheme or no host.
	ErrNotAbsolute = errors.New("url is not absolute")
)

// Parse parses raw as an absolute http or https URL with a host and returns
// it normalized. Leading and trailing spaces and control characters are
// trimmed and tabs and newlines inside are removed, as browsers do. It returns
// an error wrapping ErrNotAbsolute or ErrUnsupportedScheme for URLs it does
// not accept, and the url.Parse error for malformed ones.
func Parse(raw string) (*url.URL, error) {
	u, err := url.Parse(clean(raw))
	if err != nil {
		return nil, fmt.Errorf("parse url: %w", err)
	}
	if err := check(u); err != nil {
		return nil, fmt.Errorf("parse url %q: %w", raw, err)
	}
	n := Normalize(u)
	if n.Host == "" {
		// A host of dots only, such as "http://./".
		return nil, fmt.Errorf("parse url %q: %w", raw, ErrNotAbsolute)
	}
	return n, nil
}

// Resolve resolves the reference ref (a link's href, say) against base and
// returns the normalized absolute URL. ref is cleaned like in Parse. A
// reference with a scheme other than http or https (mailto:, javascript:,
// data:, tel:, ftp:) yields an error wrapping ErrUnsupportedScheme; a result
// without a host, or a relative ref with a nil base, yields ErrNotAbsolute.
func Resolve(base *url.URL, ref string) (*url.URL, error) {
	r, err := url.Parse(clean(ref))
	if err != nil {
		return nil, fmt.Errorf("resolve url: %w", err)
	}
	if r.Scheme != "" && !httpScheme(r.Scheme) {
		return nil, fmt.Errorf("resolve url %q: %w", ref, ErrUnsupportedScheme)
	}
	u := r
	if base != nil {
		u = base.ResolveReference(r)
	}
	if err := check(u); err != nil {
		return nil, fmt.Errorf("resolve url %q: %w", ref, err)
	}
	n := Normalize(u)
	if n.Host == "" {
		return nil, fmt.Errorf("resolve url %q: %w", ref, ErrNotAbsolute)
	}
	return n, nil
}

// check reports whether u is an absolute http(s) URL with a host.
func check(u *url.URL) error {
	switch {
	case u.Scheme == "":
		return ErrNotAbsolute
	case !httpScheme(u.Scheme):
		return ErrUnsupportedScheme
	case u.Host == "" || u.Opaque != "":
		return ErrNotAbsolute
	}
	return nil
}

func httpScheme(s string) bool {
	return strings.EqualFold(s, "http") || strings.EqualFold(s, "https")
}

// clean prepares a URL string the way browsers do before parsing it: it trims
// leading and trailing C0 controls and spaces, removes every tab, CR and LF,
// turns backslashes before the query into slashes, and percent-encodes other
// control characters and a "%" that starts no valid escape (url.Parse would
// reject both).
func clean(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	dirty := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\t', '\n', '\r', '\\':
			dirty = true
		case '%':
			if i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2]) {
				dirty = true
			}
		default:
			dirty = c < ' ' || c == 0x7f
		}
		if dirty {
			break
		}
	}
	if !dirty {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	inPath := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\t' || c == '\n' || c == '\r':
			continue
		case c == '?' || c == '#':
			inPath = false
		case c == '\\' && inPath:
			c = '/'
		case c == '%' && (i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2])):
			b.WriteString("%25")
			continue
		case c < ' ' || c == 0x7f:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
