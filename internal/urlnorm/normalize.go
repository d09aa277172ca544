package urlnorm

import (
	"cmp"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/idna"
)

// Normalize returns a normalized copy of u (see the package documentation for
// the rules); u is not modified. Normalize is idempotent. It is meant for
// absolute URLs; an opaque URL ("mailto:x") is returned with only its scheme
// lowercased and its fragment dropped.
func Normalize(u *url.URL) *url.URL {
	n := *u
	n.Scheme = strings.ToLower(u.Scheme)
	n.Fragment, n.RawFragment = "", ""
	n.ForceQuery = false
	if u.User != nil {
		// Copy so that the result shares no pointer with u.
		uu := *u.User
		n.User = &uu
	}
	if n.Opaque != "" {
		return &n
	}
	n.Host = normalizeHost(u.Host, n.Scheme)

	p := normalizeEscapes(u.EscapedPath(), &pathKeep)
	if n.Host != "" && !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	p = removeDotSegments(p)
	n.RawPath = p
	n.Path = unescape(p)

	n.RawQuery = normalizeQuery(u.RawQuery)
	return &n
}

// Key returns the dedup key of u: its normalized form as a string. Two URLs
// with the same Key are the same page to the frontier.
func Key(u *url.URL) string {
	return Normalize(u).String()
}

// HostKey returns the normalized host of u (lowercase, punycode) with
// ":port" only when the port is not the scheme's default, e.g.
// "example.com" or "127.0.0.1:8300".
func HostKey(u *url.URL) string {
	return normalizeHost(u.Host, strings.ToLower(u.Scheme))
}

// normalizeHost normalizes a "host[:port]" string for the given lowercase
// scheme.
func normalizeHost(hostport, scheme string) string {
	if hostport == "" {
		return ""
	}
	host, port := splitHostPort(hostport)
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		// Not a valid host ("a:b:80", "::"); leave it alone but for case,
		// so that normalizing twice gives the same result.
		return lower(hostport)
	}
	if strings.HasPrefix(host, "[") {
		host = normalizeIPv6(host)
	} else {
		host = strings.TrimRight(lower(host), ".")
		if !isASCII(host) {
			if a, err := idna.Lookup.ToASCII(host); err == nil {
				host = a
			}
		}
	}
	if port != "" {
		port = cmp.Or(strings.TrimLeft(port, "0"), "0")
	}
	if port == "" || (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		return host
	}
	return host + ":" + port
}

// normalizeIPv6 returns the bracketed IPv6 literal host ("[2001:DB8:0::1]")
// in its canonical form ("[2001:db8::1]"), its zone unchanged: interface
// names are case-sensitive on Linux. A literal that is not an IPv6 address
// (only a hand-built url.URL can hold one) is lowercased.
func normalizeIPv6(host string) string {
	inner, ok := strings.CutSuffix(host[1:], "]")
	if !ok {
		return strings.ToLower(host)
	}
	a, err := netip.ParseAddr(inner)
	if err != nil || !a.Is6() {
		return strings.ToLower(host)
	}
	return "[" + a.String() + "]"
}

// splitHostPort splits "host:port", "[v6]:port", "host" and "[v6]"; the
// port is "" when absent or empty. Unlike net.SplitHostPort it never fails.
func splitHostPort(hp string) (host, port string) {
	i := strings.LastIndexByte(hp, ':')
	if i < 0 || strings.LastIndexByte(hp, ']') > i {
		return hp, ""
	}
	if p := hp[i+1:]; isDigits(p) {
		return hp[:i], p
	}
	return hp, ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// lower is strings.ToLower with a fast path for strings that are already
// lowercase ASCII, the usual case for hosts.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
			return strings.ToLower(s)
		}
	}
	return s
}

// normalizeQuery normalizes the escapes of every parameter, drops empty
// parameters and sorts the parameters stably by key.
func normalizeQuery(q string) string {
	if q == "" {
		return ""
	}
	type param struct{ key, raw string }
	var buf [16]param
	params := buf[:0]
	for part := range strings.SplitSeq(q, "&") {
		if part == "" {
			continue
		}
		k, v, hasEq := strings.Cut(part, "=")
		k = normalizeEscapes(k, &queryKeyKeep)
		raw := k
		if hasEq {
			raw = k + "=" + normalizeEscapes(v, &queryValueKeep)
		}
		params = append(params, param{k, raw})
	}
	if !slices.IsSortedFunc(params, func(a, b param) int { return strings.Compare(a.key, b.key) }) {
		slices.SortStableFunc(params, func(a, b param) int { return strings.Compare(a.key, b.key) })
	}
	switch len(params) {
	case 0:
		return ""
	case 1:
		return params[0].raw
	}
	var b strings.Builder
	b.Grow(len(q))
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.raw)
	}
	return b.String()
}

// removeDotSegments implements RFC 3986 section 5.2.4 on an escaped path.
func removeDotSegments(p string) string {
	if !hasDotSegment(p) {
		return p
	}
	abs := strings.HasPrefix(p, "/")
	segs := strings.Split(p, "/")
	if abs {
		segs = segs[1:]
	}
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	r := strings.Join(out, "/")
	if abs {
		r = "/" + r
	}
	return r
}

// hasDotSegment reports whether p has a "." or ".." segment.
func hasDotSegment(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] != '.' || (i > 0 && p[i-1] != '/') {
			continue
		}
		j := i + 1
		if j < len(p) && p[j] == '.' {
			j++
		}
		if j == len(p) || p[j] == '/' {
			return true
		}
	}
	return false
}
