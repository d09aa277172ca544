package robots

import "strings"

// newRule compiles an allow or disallow value into a rule.
func newRule(allow bool, value string) rule {
	if value[0] != '/' && value[0] != '*' {
		value = "/" + value
	}
	pattern := canonical(value, true)
	glob, anchored := strings.CutSuffix(pattern, "$")
	if !anchored {
		// A pattern matches a prefix of the path: the same as a whole-path match with a trailing "*".
		glob += "*"
	}
	return rule{allow: allow, glob: glob, size: len(pattern)}
}

// canonical returns s in the form paths and patterns are compared in (RFC 9309 §2.2.2): octets that must not
// appear raw in a URL (non-ASCII, controls, space, "<>\"\\^`{|}" and a "%" that starts no escape) are
// percent-encoded and escapes use upper-case hex. Nothing is decoded: an escape matches only the same escape, so
// the pattern "/%62%61%7A" matches the path "/%62%61%7A" and not "/baz", as google/robotstxt's ID_Encoding test
// requires (the RFC's example table decodes it; the reference parser, which sites are tested against, does not).
// In a pattern "*" and a final "$" are operators; in a path they are literal and encoded, as is a "$" inside a
// pattern, so that the pattern "/a%2A" matches the path "/a*" (§2.2.3).
func canonical(s string, pattern bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			writeEscape(&b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case c == '*' && pattern:
			b.WriteByte(c)
		case c == '$' && pattern && i == len(s)-1:
			b.WriteByte(c)
		case c == '*', c == '$', c == '%', c <= ' ', c >= 0x7F, strings.IndexByte("\"<>\\^`{|}", c) >= 0:
			writeEscape(&b, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func writeEscape(b *strings.Builder, c byte) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('%')
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&0x0f])
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// globMatch reports whether the glob p, in which "*" matches any sequence of octets, matches all of s. It backtracks
// only to the last "*", which is enough for "*"-only globs and keeps the cost at O(len(p)·len(s)) in the worst case.
func globMatch(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
