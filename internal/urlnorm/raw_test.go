package urlnorm_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/trawl-dev/trawl/internal/urlnorm"
)

func TestResolveRaw(t *testing.T) {
	t.Parallel()
	base, err := url.Parse("http://h.example/d/e/page?x=1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ref  string
		want string
		err  error
	}{
		{name: "query order and empty parameter kept", ref: "/foo/bar?qux=taz&baz=http://foo.bar?tar&par",
			want: "http://h.example/foo/bar?qux=taz&baz=http://foo.bar?tar&par"},
		{name: "unreserved escapes kept", ref: "/foo/bar/%62%61%7A", want: "http://h.example/foo/bar/%62%61%7A"},
		{name: "escape case kept", ref: "/%7e%2f", want: "http://h.example/%7e%2f"},
		{name: "non-ASCII encoded", ref: "/foo/bar/ツ", want: "http://h.example/foo/bar/%E3%83%84"},
		{name: "space encoded, escapes kept", ref: "/a b/%62?q=c d", want: "http://h.example/a%20b/%62?q=c%20d"},
		{name: "unsafe octets encoded", ref: `/a|b?c="<>"`, want: "http://h.example/a%7Cb?c=%22%3C%3E%22"},
		{name: "fragment dropped", ref: "/a?b#c", want: "http://h.example/a?b"},
		{name: "relative with dot segments", ref: "../x?b=2&a=1", want: "http://h.example/d/x?b=2&a=1"},
		{name: "query only", ref: "?z=1&a", want: "http://h.example/d/e/page?z=1&a"},
		{name: "double slash kept", ref: "/foo//quz", want: "http://h.example/foo//quz"},
		{name: "scheme and host normalized", ref: "HTTP://Example.COM:80/A%41", want: "http://example.com/A%41"},
		{name: "empty path", ref: "http://example.com", want: "http://example.com/"},
		{name: "idna host", ref: "http://bücher.example/ü", want: "http://xn--bcher-kva.example/%C3%BC"},
		{name: "protocol-relative", ref: "//other.example/p q", want: "http://other.example/p%20q"},
		{name: "backslash and whitespace cleaned", ref: " \\a\\b\t ", want: "http://h.example/a/b"},
		{name: "mailto", ref: "mailto:x@y", err: urlnorm.ErrUnsupportedScheme},
		{name: "no host", ref: "http:///x", err: urlnorm.ErrNotAbsolute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := urlnorm.ResolveRaw(base, tt.ref)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ResolveRaw(%q) error = %v, want %v", tt.ref, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ResolveRaw(%q): %v", tt.ref, err)
			}
			if got.String() != tt.want {
				t.Errorf("ResolveRaw(%q) = %q, want %q", tt.ref, got, tt.want)
			}
			// The request line carries the path and query as written.
			if want := tt.want[len("http://")+len(got.Host):]; got.RequestURI() != want {
				t.Errorf("RequestURI() = %q, want %q", got.RequestURI(), want)
			}
			// The dedup key is what Resolve has always returned.
			norm, err := urlnorm.Resolve(base, tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if urlnorm.Key(got) != norm.String() {
				t.Errorf("Key(ResolveRaw(%q)) = %q, want Resolve's %q", tt.ref, urlnorm.Key(got), norm)
			}
			if again := urlnorm.Raw(got); again.String() != got.String() {
				t.Errorf("Raw is not idempotent: %q, then %q", got, again)
			}
		})
	}
}

func TestRaw(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"http://Example.com:80/a b/%62?q=1 2#frag", "http://example.com/a%20b/%62?q=1%202"},
		{"https://h.example/foo/bar?qux=taz&baz=http://foo.bar?tar&par", "https://h.example/foo/bar?qux=taz&baz=http://foo.bar?tar&par"},
		{"http://h.example", "http://h.example/"},
		{"http://u:P@h.example/%7E", "http://u:P@h.example/%7E"},
	}
	for _, tt := range tests {
		in, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		before := *in
		if got := urlnorm.Raw(in).String(); got != tt.want {
			t.Errorf("Raw(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if in.String() != before.String() {
			t.Errorf("Raw modified its input: %q", in)
		}
	}
}

// FuzzResolveRaw checks that the URL as written and the normalized URL are
// the same page to the frontier, and that the request line is well formed.
func FuzzResolveRaw(f *testing.F) {
	for _, seed := range []string{"/a b/%62?q=c d#x", "../x?b=2&a=1", "http://bücher.example/ü", "//o.example/p", "?", "/%zz\\x\t"} {
		f.Add(seed)
	}
	base, _ := url.Parse("http://h.example/d/e/page?x=1")
	f.Fuzz(func(t *testing.T, ref string) {
		raw, err := urlnorm.ResolveRaw(base, ref)
		norm, nerr := urlnorm.Resolve(base, ref)
		if (err == nil) != (nerr == nil) {
			t.Fatalf("ResolveRaw(%q) error %v, Resolve error %v", ref, err, nerr)
		}
		if err != nil {
			return
		}
		// Resolve re-encodes a whole path from its decoded form when the path
		// holds an octet that must be encoded ("a! b" becomes "a%21%20b"),
		// so the keys agree only for references without such octets.
		if !strings.ContainsFunc(ref, mustEncode) && urlnorm.Key(raw) != norm.String() {
			t.Fatalf("Key(ResolveRaw(%q)) = %q, Resolve = %q", ref, urlnorm.Key(raw), norm)
		}
		for _, c := range []byte(raw.RequestURI()) {
			if c <= ' ' || c >= 0x7f {
				t.Fatalf("RequestURI() of %q = %q has octet %#x", ref, raw.RequestURI(), c)
			}
		}
	})
}

func mustEncode(r rune) bool {
	return r <= ' ' || r >= 0x7f || strings.ContainsRune("\"<>\\^`{|}", r)
}
