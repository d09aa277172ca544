package urlnorm

import (
	"fmt"
	"net/url"
	"strings"
)

// The URL as the site wrote it.
//
// A crawler fetches a URL in the form the site wrote it, because that is
// what the server and its robots.txt rules expect: sorting a query or
// decoding an escape can change which page a server returns, and which
// robots.txt rule matches (RFC 9309 §2.2.2). The normalized form is only a
// dedup key, as in Scrapy, which canonicalizes URLs for its dupefilter and
// fetches them as written.

// Raw returns a copy of u in the form to fetch it: the scheme and the host
// are normalized as in [Normalize] (lowercase, punycode, no default port),
// the fragment is dropped, an empty path becomes "/", and octets that may not
// appear in a request line (spaces, controls, non-ASCII bytes and
// `"<>\^{|}` and backquote) are percent-encoded in the path and the query.
// Nothing else changes: escapes keep their form and case, dot segments and
// empty parameters stay, and query parameters keep their order. Raw is
// idempotent and does not modify u.
func Raw(u *url.URL) *url.URL {
	r := *u
	r.Scheme = strings.ToLower(u.Scheme)
	r.Fragment, r.RawFragment = "", ""
	if u.User != nil {
		uu := *u.User
		r.User = &uu
	}
	if r.Opaque != "" {
		return &r
	}
	r.Host = normalizeHost(u.Host, r.Scheme)
	p := u.EscapedPath()
	if u.RawPath != "" {
		// RawPath is the path as written, even when it holds octets that
		// EscapedPath would re-encode from the decoded Path (losing the
		// written escapes).
		if e := escapeUnsafe(u.RawPath); unescapesTo(e, u.Path) {
			p = e
		}
	}
	if p == "" && r.Host != "" {
		p = "/"
	}
	r.RawPath = p
	r.Path, _ = url.PathUnescape(p)
	r.RawQuery = escapeUnsafe(u.RawQuery)
	return &r
}

// ResolveRaw resolves the reference ref against base like [Resolve], with
// the same errors, but returns the URL as written ([Raw]) rather than
// normalized. ref is cleaned like in [Parse].
func ResolveRaw(base *url.URL, ref string) (*url.URL, error) {
	u, err := resolve(base, ref, escapeRef(clean(ref)))
	if err != nil {
		return nil, err
	}
	raw := Raw(u)
	if raw.Host == "" {
		return nil, fmt.Errorf("resolve url %q: %w", ref, ErrNotAbsolute)
	}
	return raw, nil
}

// escapeRef percent-encodes the octets that may not appear in a URL in the
// path, query and fragment of the reference ref, leaving its scheme and
// authority alone (an internationalized host is converted, not encoded).
// url.Parse then keeps the written path in RawPath, and ResolveReference
// keeps the written escapes.
func escapeRef(ref string) string {
	start := 0
	if i := strings.IndexByte(ref, ':'); i > 0 && isScheme(ref[:i]) {
		start = i + 1
	}
	if strings.HasPrefix(ref[start:], "//") {
		end := strings.IndexAny(ref[start+2:], "/?#")
		if end < 0 {
			return ref
		}
		start += 2 + end
	}
	return ref[:start] + escapeUnsafe(ref[start:])
}

// isScheme reports whether s is an RFC 3986 scheme.
func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// escapeUnsafe percent-encodes the octets of s that may not appear in a URL
// at all, and nothing else; it never touches "%", so it is idempotent.
func escapeUnsafe(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if unsafeOctet(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unsafeOctet(c) {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func unsafeOctet(c byte) bool {
	return c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}", c) >= 0
}

// unescapesTo reports whether the escaped path p decodes to path.
func unescapesTo(p, path string) bool {
	d, err := url.PathUnescape(p)
	return err == nil && d == path
}
