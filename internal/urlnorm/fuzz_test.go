package urlnorm_test

import (
	"net/url"
	"testing"

	"github.com/trawl-dev/trawl/internal/urlnorm"
)

// FuzzNormalize checks that normalization never panics and is idempotent,
// and that the key of every URL Parse or Resolve accepts parses back, with
// net/url and with Parse, to the same key: the frontier stores keys as
// strings and parses them again before fetching.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"http://example.com",
		"HTTP://User:Pw@Ex%41mple.COM.:0080/a/./b/../%7e%2f c?b=2&a=1&&a=0#frag",
		"https://bücher.example/ü?é=ü",
		"http://[fe80::1%25en0]:8080/x",
		"http://[::%25é]/",
		"http://[2001:DB8:0:0::1]/",
		"http://a.com:99999/",
		"http://a.com/100%?q=50%off",
		"http://a.com/..//../a/.",
		"http://a.com?",
		"http://xn--nxasmq6b.com/",
		"mailto:x@y",
		"/relative/../path",
		"http://a.com/%zz%4",
		"http://a.com/a\\b",
		"http://İ.com/",
		"http://a.com/;=&?;=&",
	} {
		f.Add(s)
	}
	base, err := url.Parse("http://example.com/dir/page?q=1")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if u, err := url.Parse(raw); err == nil {
			n1 := urlnorm.Normalize(u)
			n2 := urlnorm.Normalize(n1)
			if got, want := n2.String(), n1.String(); got != want {
				t.Fatalf("Normalize not idempotent for %q: %q then %q", raw, want, got)
			}
			if got, want := urlnorm.Key(n1), urlnorm.Key(u); got != want {
				t.Fatalf("Key(Normalize(%q)) = %q, want %q", raw, got, want)
			}
			_ = urlnorm.HostKey(u)
		}
		if p, err := urlnorm.Parse(raw); err == nil {
			checkRoundTrip(t, "Parse", raw, p)
		}
		if r, err := urlnorm.Resolve(base, raw); err == nil {
			checkRoundTrip(t, "Resolve", raw, r)
		}
	})
}

// checkRoundTrip fails t unless the key of the accepted URL u parses back,
// with url.Parse and with urlnorm.Parse, to the same key and host key.
func checkRoundTrip(t *testing.T, fn, raw string, u *url.URL) {
	t.Helper()
	key := urlnorm.Key(u)
	if got := u.String(); got != key {
		t.Fatalf("%s(%q) = %q, but its key is %q", fn, raw, got, key)
	}
	back, err := url.Parse(key)
	if err != nil {
		t.Fatalf("%s(%q): url.Parse(key %q) = error %v", fn, raw, key, err)
	}
	if got := urlnorm.Key(back); got != key {
		t.Fatalf("%s(%q): key %q parsed back has key %q", fn, raw, key, got)
	}
	if got, want := urlnorm.HostKey(back), urlnorm.HostKey(u); got != want {
		t.Fatalf("%s(%q): key %q parsed back has host key %q, want %q", fn, raw, key, got, want)
	}
	again, err := urlnorm.Parse(key)
	if err != nil {
		t.Fatalf("%s(%q): Parse(key %q) = error %v", fn, raw, key, err)
	}
	if got := urlnorm.Key(again); got != key {
		t.Fatalf("%s(%q): Parse(key %q) has key %q", fn, raw, key, got)
	}
}

func BenchmarkKey(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	u, err := url.Parse("https://quotes.example.com/tag/love/page/2/?sort=desc&q=hello+world")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = urlnorm.Key(u)
	}
}

func BenchmarkResolve(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	base, err := url.Parse("https://quotes.example.com/tag/love/page/2/")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = urlnorm.Resolve(base, "/author/Jane-Austen/")
	}
}
