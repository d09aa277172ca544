package urlnorm_test

import (
	"net/url"
	"testing"

	"github.com/trawl-dev/trawl/internal/urlnorm"
)

// FuzzNormalize checks that normalization never panics, is idempotent, and
// that a key parses back to the same key.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"http://example.com",
		"HTTP://User:Pw@Ex%41mple.COM.:0080/a/./b/../%7e%2f c?b=2&a=1&&a=0#frag",
		"https://bücher.example/ü?é=ü",
		"http://[fe80::1%25en0]:8080/x",
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
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		n1 := urlnorm.Normalize(u)
		n2 := urlnorm.Normalize(n1)
		if got, want := n2.String(), n1.String(); got != want {
			t.Fatalf("Normalize not idempotent for %q: %q then %q", raw, want, got)
		}
		if got, want := urlnorm.Key(n1), urlnorm.Key(u); got != want {
			t.Fatalf("Key(Normalize(%q)) = %q, want %q", raw, got, want)
		}
		_ = urlnorm.HostKey(u)

		p, err := urlnorm.Parse(raw)
		if err != nil {
			return
		}
		key := urlnorm.Key(p)
		again, err := urlnorm.Parse(key)
		if err != nil {
			t.Fatalf("Parse(Key(Parse(%q))) = error %v; key %q", raw, err, key)
		}
		if got := urlnorm.Key(again); got != key {
			t.Fatalf("key of %q changed after a round trip: %q then %q", raw, key, got)
		}
	})
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
