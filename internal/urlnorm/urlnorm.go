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
//   - an IPv6 literal is written in its canonical form (RFC 5952:
//     lowercase, zeros compressed), its zone ("%25en0") kept as it is;
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
//
// # Round trips
//
// The key of every URL that [Parse] or [Resolve] accepts parses back with
// net/url and normalizes to itself. url.Parse accepts a few hosts whose
// string form it cannot parse again (an IPv6 zone with non-ASCII bytes,
// "http://[::%25é]/", comes back as "%25%C3%A9", which it rejects), and
// hosts no server could have; Parse and Resolve reject those with
// [ErrInvalidHost] rather than admit a key the frontier cannot read back.
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
	// ErrInvalidHost: the URL's host or port cannot be written as a URL that
	// parses back (see "Round trips" above): a character that no host name
	// has, an IPv6 zone with characters other than letters, digits and
	// "-._~", or a port above 65535.
	ErrInvalidHost = errors.New("invalid url host")
)

// Parse parses raw as an absolute http or https URL with a host and returns
// it normalized. Leading and trailing spaces and control characters are
// trimmed and tabs and newlines inside are removed, as browsers do. It returns
// an error wrapping ErrNotAbsolute or ErrUnsupportedScheme for URLs it does
// not accept, ErrInvalidHost for a host or port that cannot round-trip, and
// the url.Parse error for malformed ones.
func Parse(raw string) (*url.URL, error) {
	u, err := url.Parse(clean(raw))
	if err != nil {
		return nil, fmt.Errorf("parse url: %w", err)
	}
	if err := check(u); err != nil {
		return nil, fmt.Errorf("parse url %q: %w", raw, err)
	}
	n := Normalize(u)
	if err := checkHost(n.Host); err != nil {
		return nil, fmt.Errorf("parse url %q: %w", raw, err)
	}
	return n, nil
}

// Resolve resolves the reference ref (a link's href, say) against base and
// returns the normalized absolute URL. ref is cleaned like in Parse. A
// reference with a scheme other than http or https (mailto:, javascript:,
// data:, tel:, ftp:) yields an error wrapping ErrUnsupportedScheme; a result
// without a host, or a relative ref with a nil base, yields ErrNotAbsolute; a
// host or port that cannot round-trip yields ErrInvalidHost.
func Resolve(base *url.URL, ref string) (*url.URL, error) {
	u, err := resolve(base, ref, clean(ref))
	if err != nil {
		return nil, err
	}
	n := Normalize(u)
	if err := checkHost(n.Host); err != nil {
		return nil, fmt.Errorf("resolve url %q: %w", ref, err)
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

// checkHost reports whether the normalized host[:port] hp round-trips
// through url.URL.String and url.Parse. It returns ErrNotAbsolute for an
// empty host, such as the normalized host of "http://./" (dots only).
func checkHost(hp string) error {
	host, port := splitHostPort(hp)
	if host == "" {
		return ErrNotAbsolute
	}
	if len(port) > 5 || (len(port) == 5 && port > "65535") {
		return fmt.Errorf("%w: port %s is above 65535", ErrInvalidHost, port)
	}
	if strings.HasPrefix(host, "[") {
		// url.Parse has checked the address; only its zone may be odd. RFC
		// 6874 allows unreserved characters and escapes there, but url.Parse
		// rejects escapes of bytes a host may not hold, and String escapes
		// every non-ASCII byte: only unreserved characters survive both.
		_, zone, _ := strings.Cut(strings.TrimSuffix(host[1:], "]"), "%")
		for i := 0; i < len(zone); i++ {
			if !unreserved(zone[i]) {
				return fmt.Errorf("%w: IPv6 zone %q may hold only letters, digits and -._~", ErrInvalidHost, zone)
			}
		}
		return nil
	}
	for i := 0; i < len(host); i++ {
		// A non-ASCII byte (a name IDNA rejected) is written escaped and
		// reads back. Of ASCII, String escapes what is neither unreserved
		// nor a sub-delimiter, and url.Parse rejects escaped ASCII in a host.
		if c := host[i]; c < 0x80 && !unreserved(c) && strings.IndexByte("!$&'()*+,;=", c) < 0 {
			return fmt.Errorf("%w: %q in host %q", ErrInvalidHost, c, host)
		}
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

// resolve parses cleaned, the cleaned form of the reference ref, resolves
// it against base and checks the result: the steps Resolve and ResolveRaw
// share. Errors name ref as the page wrote it.
func resolve(base *url.URL, ref, cleaned string) (*url.URL, error) {
	r, err := url.Parse(cleaned)
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
	return u, nil
}
