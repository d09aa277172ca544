package urlnorm_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/trawl-dev/trawl/internal/urlnorm"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string
		want string
		err  error // nil: success; errAny: any error
	}{
		{name: "already normal", raw: "http://example.com/a/b?x=1", want: "http://example.com/a/b?x=1"},
		{name: "lowercase scheme", raw: "HTTP://example.com/", want: "http://example.com/"},
		{name: "lowercase host", raw: "http://ExAmPle.COM/Path", want: "http://example.com/Path"},
		{name: "path case kept", raw: "http://a.com/CaSe", want: "http://a.com/CaSe"},
		{name: "empty path", raw: "http://example.com", want: "http://example.com/"},
		{name: "empty path with query", raw: "http://example.com?a=1", want: "http://example.com/?a=1"},
		{name: "https", raw: "https://example.com/x", want: "https://example.com/x"},
		{name: "default http port", raw: "http://example.com:80/", want: "http://example.com/"},
		{name: "default https port", raw: "https://example.com:443/", want: "https://example.com/"},
		{name: "443 on http kept", raw: "http://example.com:443/", want: "http://example.com:443/"},
		{name: "80 on https kept", raw: "https://example.com:80/", want: "https://example.com:80/"},
		{name: "other port", raw: "http://127.0.0.1:8300/", want: "http://127.0.0.1:8300/"},
		{name: "empty port", raw: "http://example.com:/", want: "http://example.com/"},
		{name: "port leading zeros", raw: "http://example.com:0080/", want: "http://example.com/"},
		{name: "trailing dot host", raw: "http://example.com./", want: "http://example.com/"},
		{name: "trailing dot host with port", raw: "http://example.com.:8080/", want: "http://example.com:8080/"},
		{name: "idna", raw: "http://bücher.example/", want: "http://xn--bcher-kva.example/"},
		{name: "idna uppercase", raw: "http://BÜCHER.example/", want: "http://xn--bcher-kva.example/"},
		{name: "idna escaped host", raw: "http://b%C3%BCcher.example/", want: "http://xn--bcher-kva.example/"},
		{name: "ipv6", raw: "http://[2001:DB8::1]:80/", want: "http://[2001:db8::1]/"},
		{name: "ipv6 port", raw: "http://[::1]:8080/x", want: "http://[::1]:8080/x"},
		{name: "ipv6 canonical", raw: "http://[2001:0DB8:0:0:0:0:0:01]/", want: "http://[2001:db8::1]/"},
		{name: "ipv4-mapped ipv6", raw: "http://[::FFFF:1.2.3.4]/", want: "http://[::ffff:1.2.3.4]/"},
		{name: "ipv6 zone kept", raw: "http://[FE80::1%25En0]:8080/x", want: "http://[fe80::1%25En0]:8080/x"},
		{name: "ipv6 zone non-ascii", raw: "http://[::%25é]/", err: urlnorm.ErrInvalidHost},
		{name: "ipv6 zone escaped space", raw: "http://[::%25a%20b]/", err: urlnorm.ErrInvalidHost},
		{name: "ipv6 zone percent", raw: "http://[::%25%25]/", err: errAny},
		{name: "host with percent", raw: "http://a%25b.com/", err: urlnorm.ErrInvalidHost},
		{name: "host with quote", raw: `http://a"b.com/`, err: urlnorm.ErrInvalidHost},
		{name: "host with angle bracket", raw: "http://a<b.com/", err: urlnorm.ErrInvalidHost},
		{name: "host with closing bracket", raw: "http://a]b.com/", err: urlnorm.ErrInvalidHost},
		{name: "host with caret", raw: "http://a^b.com/", err: errAny},
		{name: "host with sub-delims", raw: "http://a!$&'()*+,;=b.com/", want: "http://a!$&'()*+,;=b.com/"},
		{name: "idna maps invisible characters away", raw: "http://a\u00ad\u200b.com/", want: "http://a.com/"},
		{name: "port 65535", raw: "http://a.com:65535/", want: "http://a.com:65535/"},
		{name: "port above 65535", raw: "http://a.com:65536/", err: urlnorm.ErrInvalidHost},
		{name: "port long", raw: "http://a.com:0000000000080/", want: "http://a.com/"},
		{name: "port huge", raw: "http://a.com:123456789012345678901234567890/", err: urlnorm.ErrInvalidHost},
		{name: "dot segments", raw: "http://a.com/a/b/c/./../../g", want: "http://a.com/a/g"},
		{name: "dot dot above root", raw: "http://a.com/../../x", want: "http://a.com/x"},
		{name: "trailing dot segment", raw: "http://a.com/a/b/..", want: "http://a.com/a/"},
		{name: "trailing single dot", raw: "http://a.com/a/.", want: "http://a.com/a/"},
		{name: "encoded dot segment", raw: "http://a.com/a/%2E%2E/b", want: "http://a.com/b"},
		{name: "dots in names kept", raw: "http://a.com/a..b/.c/d.", want: "http://a.com/a..b/.c/d."},
		{name: "uppercase hex", raw: "http://a.com/%c3%a9", want: "http://a.com/%C3%A9"},
		{name: "decode unreserved", raw: "http://a.com/%7Euser/%41%2d%5F", want: "http://a.com/~user/A-_"},
		{name: "keep reserved escapes", raw: "http://a.com/a%2Fb%3F", want: "http://a.com/a%2Fb%3F"},
		{name: "encode space", raw: "http://a.com/a b", want: "http://a.com/a%20b"},
		{name: "encode non-ascii", raw: "http://a.com/café", want: "http://a.com/caf%C3%A9"},
		{name: "encode quotes and brackets", raw: `http://a.com/"<x>"|{}`, want: "http://a.com/%22%3Cx%3E%22%7C%7B%7D"},
		{name: "stray percent", raw: "http://a.com/100%", want: "http://a.com/100%25"},
		{name: "stray percent in query", raw: "http://a.com/?q=50%off", want: "http://a.com/?q=50%25off"},
		{name: "sub-delims kept", raw: "http://a.com/a;b=c,d!$'()*+@:", want: "http://a.com/a;b=c,d!$'()*+@:"},
		{name: "fragment dropped", raw: "http://a.com/x#frag", want: "http://a.com/x"},
		{name: "empty fragment dropped", raw: "http://a.com/x#", want: "http://a.com/x"},
		{name: "empty query dropped", raw: "http://a.com/x?", want: "http://a.com/x"},
		{name: "empty query and fragment", raw: "http://a.com/x?#y", want: "http://a.com/x"},
		{name: "query sorted", raw: "http://a.com/?b=2&a=1&c=3", want: "http://a.com/?a=1&b=2&c=3"},
		{name: "query sort stable", raw: "http://a.com/?b=2&a=z&b=1&a=y", want: "http://a.com/?a=z&a=y&b=2&b=1"},
		{name: "query empty params dropped", raw: "http://a.com/?a=1&&b=2&", want: "http://a.com/?a=1&b=2"},
		{name: "query only ampersands", raw: "http://a.com/?&&", want: "http://a.com/"},
		{name: "query key without value", raw: "http://a.com/?b&a=", want: "http://a.com/?a=&b"},
		{name: "query plus kept", raw: "http://a.com/?q=a+b&r=a%2Bb", want: "http://a.com/?q=a+b&r=a%2Bb"},
		{name: "query escapes", raw: "http://a.com/?q=%7e%3d%26%c3%a9", want: "http://a.com/?q=~%3D%26%C3%A9"},
		{name: "query space and unicode", raw: "http://a.com/?q=a b&é=1", want: "http://a.com/?%C3%A9=1&q=a%20b"},
		{name: "query equals in value", raw: "http://a.com/?a=b=c", want: "http://a.com/?a=b=c"},
		{name: "userinfo kept", raw: "http://User:PaSS@Example.com/", want: "http://User:PaSS@example.com/"},
		{name: "whitespace trimmed", raw: " \t http://a.com/x \n", want: "http://a.com/x"},
		{name: "newline and tab removed inside", raw: "http://a.com/a\n/b\tc", want: "http://a.com/a/bc"},
		{name: "backslash as slash", raw: `http://a.com\a\b?x=\`, want: "http://a.com/a/b?x=%5C"},
		{name: "relative", raw: "/path", err: urlnorm.ErrNotAbsolute},
		{name: "no scheme", raw: "example.com/x", err: urlnorm.ErrNotAbsolute},
		{name: "no host", raw: "http:///x", err: urlnorm.ErrNotAbsolute},
		{name: "opaque", raw: "http:foo", err: urlnorm.ErrNotAbsolute},
		{name: "empty", raw: "", err: urlnorm.ErrNotAbsolute},
		{name: "ftp", raw: "ftp://a.com/x", err: urlnorm.ErrUnsupportedScheme},
		{name: "mailto", raw: "mailto:a@b.com", err: urlnorm.ErrUnsupportedScheme},
		{name: "bad host", raw: "http://a b.com/", err: errAny},
		{name: "control chars encoded", raw: "http://a.com/a\x01b?c=\x7f", want: "http://a.com/a%01b?c=%7F"},
		{name: "control char in host", raw: "http://a\x01.com/", err: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := urlnorm.Parse(tt.raw)
			if tt.err != nil {
				if err == nil {
					t.Fatalf("Parse(%q) = %v, want error %v", tt.raw, u, tt.err)
				}
				if tt.err != errAny && !errors.Is(err, tt.err) {
					t.Fatalf("Parse(%q) error = %v, want %v", tt.raw, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) error = %v", tt.raw, err)
			}
			if got := u.String(); got != tt.want {
				t.Errorf("Parse(%q) = %q, want %q", tt.raw, got, tt.want)
			}
			if got := urlnorm.Key(u); got != tt.want {
				t.Errorf("Key(Parse(%q)) = %q, want %q", tt.raw, got, tt.want)
			}
			// The key survives a round trip through its string form.
			again, err := urlnorm.Parse(tt.want)
			if err != nil {
				t.Fatalf("Parse(%q) error = %v", tt.want, err)
			}
			if got := urlnorm.Key(again); got != tt.want {
				t.Errorf("Key(Parse(%q)) = %q, want it unchanged", tt.want, got)
			}
		})
	}
}

// errAny stands for "some error" in tables.
var errAny = errors.New("any error")

func TestResolve(t *testing.T) {
	t.Parallel()
	base := mustParse(t, "http://example.com/dir/page.html?q=1#top")
	tests := []struct {
		name string
		ref  string
		want string
		err  error
	}{
		{name: "relative file", ref: "other.html", want: "http://example.com/dir/other.html"},
		{name: "parent", ref: "../up.html", want: "http://example.com/up.html"},
		{name: "root", ref: "/page/2/", want: "http://example.com/page/2/"},
		{name: "query only", ref: "?page=2", want: "http://example.com/dir/page.html?page=2"},
		{name: "fragment only", ref: "#section", want: "http://example.com/dir/page.html?q=1"},
		{name: "empty", ref: "", want: "http://example.com/dir/page.html?q=1"},
		{name: "blank", ref: "   ", want: "http://example.com/dir/page.html?q=1"},
		{name: "protocol relative", ref: "//Other.Example:80/x", want: "http://other.example/x"},
		{name: "absolute https", ref: "https://b.com:443/y", want: "https://b.com/y"},
		{name: "whitespace around", ref: "\n  /a/b  \t", want: "http://example.com/a/b"},
		{name: "newline inside", ref: "/a\n/b", want: "http://example.com/a/b"},
		{name: "spaces inside kept", ref: "a b.html", want: "http://example.com/dir/a%20b.html"},
		{name: "unicode path", ref: "/ünïcode", want: "http://example.com/%C3%BCn%C3%AFcode"},
		{name: "dot segments", ref: "./a/./b/../c", want: "http://example.com/dir/a/c"},
		{name: "mailto", ref: "mailto:someone@example.com", err: urlnorm.ErrUnsupportedScheme},
		{name: "javascript", ref: "javascript:void(0)", err: urlnorm.ErrUnsupportedScheme},
		{name: "javascript uppercase", ref: " JavaScript:alert(1)", err: urlnorm.ErrUnsupportedScheme},
		{name: "data", ref: "data:text/plain,hi", err: urlnorm.ErrUnsupportedScheme},
		{name: "tel", ref: "tel:+123", err: urlnorm.ErrUnsupportedScheme},
		{name: "ftp", ref: "ftp://example.com/f", err: urlnorm.ErrUnsupportedScheme},
		{name: "bad", ref: "http://[::1", err: errAny},
		{name: "bad ipv6 zone", ref: "//[::%25é]/x", err: urlnorm.ErrInvalidHost},
		{name: "bad port", ref: "http://a.com:70000/", err: urlnorm.ErrInvalidHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := urlnorm.Resolve(base, tt.ref)
			if tt.err != nil {
				if err == nil {
					t.Fatalf("Resolve(%q) = %v, want error %v", tt.ref, u, tt.err)
				}
				if tt.err != errAny && !errors.Is(err, tt.err) {
					t.Fatalf("Resolve(%q) error = %v, want %v", tt.ref, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q) error = %v", tt.ref, err)
			}
			if got := u.String(); got != tt.want {
				t.Errorf("Resolve(%q) = %q, want %q", tt.ref, got, tt.want)
			}
		})
	}
}

func TestResolveNilBase(t *testing.T) {
	t.Parallel()
	if _, err := urlnorm.Resolve(nil, "/x"); !errors.Is(err, urlnorm.ErrNotAbsolute) {
		t.Errorf("Resolve(nil, %q) error = %v, want %v", "/x", err, urlnorm.ErrNotAbsolute)
	}
	u, err := urlnorm.Resolve(nil, "HTTP://A.com")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.String(), "http://a.com/"; got != want {
		t.Errorf("Resolve(nil, abs) = %q, want %q", got, want)
	}
}

func TestHostKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want string
	}{
		{"http://Example.COM/x", "example.com"},
		{"http://example.com:80/", "example.com"},
		{"https://example.com:443/", "example.com"},
		{"https://example.com:8443/", "example.com:8443"},
		{"http://127.0.0.1:8300/", "127.0.0.1:8300"},
		{"http://[::1]:8080/", "[::1]:8080"},
		{"http://bücher.example./", "xn--bcher-kva.example"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := urlnorm.HostKey(u); got != tt.want {
			t.Errorf("HostKey(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestNormalizeDoesNotModifyInput(t *testing.T) {
	t.Parallel()
	u, err := url.Parse("HTTP://User@EXAMPLE.com:80/a/../%7e?b=1&a=2#f")
	if err != nil {
		t.Fatal(err)
	}
	before := u.String()
	n := urlnorm.Normalize(u)
	if got := u.String(); got != before {
		t.Errorf("input changed to %q, want %q", got, before)
	}
	if got, want := n.String(), "http://User@example.com/~?a=2&b=1"; got != want {
		t.Errorf("Normalize = %q, want %q", got, want)
	}
	if n.User == u.User {
		t.Error("Normalize shares the Userinfo pointer with its input")
	}
}

func TestNormalizeConstructed(t *testing.T) {
	t.Parallel()
	u := &url.URL{Scheme: "HTTPS", Host: "Example.com", Path: "a b/ü", RawQuery: "z=1&y=2", Fragment: "x"}
	if got, want := urlnorm.Key(u), "https://example.com/a%20b/%C3%BC?y=2&z=1"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := urlnorm.Parse(raw)
	if err != nil {
		t.Fatalf("Parse(%q): %v", raw, err)
	}
	return u
}
