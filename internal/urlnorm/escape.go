package urlnorm

import "strings"

// keepSet marks the ASCII bytes that may appear unescaped in a component.
type keepSet [128]bool

// The sets of bytes kept as they are. Everything else is percent-encoded,
// except "%" starting a valid escape. Unreserved characters are always kept
// (and decoded when escaped). The sub-delimiters are kept as written, escaped
// or not, because servers may give them a meaning.
var (
	pathKeep       = makeKeep("!$&'()*+,;=:@/")
	queryKeyKeep   = makeKeep("!$'()*+,;:@/?")
	queryValueKeep = makeKeep("!$'()*+,;:@/?=")
)

func makeKeep(extra string) keepSet {
	var k keepSet
	for c := 0; c < 128; c++ {
		k[c] = unreserved(byte(c))
	}
	for i := 0; i < len(extra); i++ {
		k[extra[i]] = true
	}
	return k
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

const upperHex = "0123456789ABCDEF"

// normalizeEscapes returns s with its percent-encoding normalized: escapes of
// unreserved characters decoded, other escapes with uppercase hex digits,
// bytes outside keep (and a "%" that starts no escape) encoded. It returns s
// itself, without allocating, when nothing changes.
func normalizeEscapes(s string, keep *keepSet) string {
	i := 0
	for ; i < len(s); i++ {
		if escapeChange(s, i, keep) {
			break
		}
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			d := unhex(s[i+1])<<4 | unhex(s[i+2])
			if unreserved(d) {
				b.WriteByte(d)
			} else {
				b.WriteByte('%')
				b.WriteByte(upperHex[d>>4])
				b.WriteByte(upperHex[d&15])
			}
			i += 2
		case c < 0x80 && c != '%' && keep[c]:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	return b.String()
}

// escapeChange reports whether normalizeEscapes changes s at byte i (when
// s[i] is "%", the escape s[i:i+3]).
func escapeChange(s string, i int, keep *keepSet) bool {
	c := s[i]
	if c != '%' {
		return c >= 0x80 || !keep[c]
	}
	if i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2]) {
		return true
	}
	h, l := s[i+1], s[i+2]
	if 'a' <= h && h <= 'f' || 'a' <= l && l <= 'f' {
		return true
	}
	return unreserved(unhex(h)<<4 | unhex(l))
}

// unescape decodes every valid percent-escape of s; s must come from
// normalizeEscapes, where every "%" starts a valid escape.
func unescape(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}
