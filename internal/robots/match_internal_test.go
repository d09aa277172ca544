package robots

import (
	"regexp"
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		pattern bool
		want    string
	}{
		{"/a/b?c=d&e", false, "/a/b?c=d&e"},
		{"/%7efoo", false, "/%7Efoo"},
		{"/%41%2d%5F", false, "/%41%2D%5F"},
		{"/%2f%3a", false, "/%2F%3A"},
		{"/ä", false, "/%C3%A4"},
		{"/a b\"<>", false, "/a%20b%22%3C%3E"},
		{"/100%", false, "/100%25"},
		{"/%zz", false, "/%25zz"},
		{"/a*b$", false, "/a%2Ab%24"},
		{"/a*b$", true, "/a*b$"},
		{"/a$b$", true, "/a%24b$"},
		{"/%2A", true, "/%2A"},
		// google/robotstxt robots_test.cc TestMaybeEscapePattern.
		{"http://www.example.com", true, "http://www.example.com"},
		{"/a/b/c", true, "/a/b/c"},
		{"á", true, "%C3%A1"},
		{"%aa", true, "%AA"},
	}
	for _, tt := range tests {
		if got := canonical(tt.in, tt.pattern); got != tt.want {
			t.Errorf("canonical(%q, %v) = %q, want %q", tt.in, tt.pattern, got, tt.want)
		}
	}
}

// FuzzGlobMatch checks globMatch against the regular expression it stands for.
func FuzzGlobMatch(f *testing.F) {
	for _, seed := range [][2]string{
		{"/a*b*c", "/aXbYc"}, {"*", ""}, {"/a*", "/b"}, {"**a", "aaa"}, {"/*.php", "/x.php"}, {"a*a*a*a*b", "aaaaaaaaaa"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		parts := strings.Split(p, "*")
		for i, part := range parts {
			parts[i] = regexp.QuoteMeta(part)
		}
		re, err := regexp.Compile(`(?s)\A` + strings.Join(parts, ".*") + `\z`)
		if err != nil {
			return // invalid UTF-8: regexp cannot express it
		}
		// regexp works on runes, globMatch on octets; they agree on valid UTF-8.
		if want := re.MatchString(s); strings.ToValidUTF8(p+s, "") == p+s && globMatch(p, s) != want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", p, s, !want, want)
		}
	})
}
