package spider_test

import (
	"net/url"
	"testing"

	"github.com/trawl-dev/trawl/internal/spider"
)

func TestScopeAllows(t *testing.T) {
	t.Parallel()
	hosts := spider.Scope{Hosts: []string{"quotes.example", "*.example.com", "127.0.0.1:8300", "ported.example:8080", "[::1]:9000"}}
	filtered := spider.Scope{
		Hosts: []string{"quotes.example"},
		Allow: res(`^/page/`, `\?id=\d+$`),
		Deny:  res(`^/page/secret`, `^/login`),
	}
	denyOnly := spider.Scope{Hosts: []string{"quotes.example"}, Deny: res(`^/login`)}
	defaultPorts := spider.Scope{Hosts: []string{"plain.example:80", "secure.example:443"}}
	tests := []struct {
		name  string
		scope spider.Scope
		url   string
		want  bool
	}{
		{"exact host", hosts, "http://quotes.example/page/1", true},
		{"exact host matches any port", hosts, "http://quotes.example:9999/", true},
		{"exact host, https", hosts, "https://quotes.example/", true},
		{"host is case-insensitive", hosts, "http://QUOTES.Example/", true},
		{"trailing dot", hosts, "http://quotes.example./", true},
		{"subdomain of exact host", hosts, "http://www.quotes.example/", false},
		{"other host", hosts, "http://evil.example/", false},
		{"wildcard matches the domain itself", hosts, "http://example.com/", true},
		{"wildcard matches a subdomain", hosts, "https://www.example.com/", true},
		{"wildcard matches a deep subdomain", hosts, "http://a.b.example.com/x", true},
		{"wildcard needs a dot boundary", hosts, "http://badexample.com/", false},
		{"wildcard suffix trick", hosts, "http://example.com.evil.net/", false},
		{"host with port, same port", hosts, "http://127.0.0.1:8300/", true},
		{"host with port, other port", hosts, "http://127.0.0.1:8301/", false},
		{"host with port, default port", hosts, "http://127.0.0.1/", false},
		{"port 8080 pattern", hosts, "http://ported.example:8080/a", true},
		{"port 8080 pattern, no port", hosts, "http://ported.example/a", false},
		{"IPv6 with port", hosts, "http://[::1]:9000/", true},
		{"IPv6 other port", hosts, "http://[::1]:9001/", false},
		{"http default port 80", defaultPorts, "http://plain.example/", true},
		{"explicit port 80", defaultPorts, "http://plain.example:80/", true},
		{"https default port is not 80", defaultPorts, "https://plain.example/", false},
		{"https default port 443", defaultPorts, "https://secure.example/", true},
		{"ftp scheme", hosts, "ftp://quotes.example/", false},
		{"mailto", hosts, "mailto:a@quotes.example", false},
		{"relative URL", hosts, "/page/1", false},
		{"allow matches", filtered, "http://quotes.example/page/2", true},
		{"allow matches on query", filtered, "http://quotes.example/item?id=42", true},
		{"no allow matches", filtered, "http://quotes.example/about", false},
		{"deny wins over allow", filtered, "http://quotes.example/page/secret/1", false},
		{"empty path is /", denyOnly, "http://quotes.example", true},
		{"deny", denyOnly, "http://quotes.example/login?next=/", false},
		{"deny sees the escaped path", denyOnly, "http://quotes.example/%6Cogin", true},
		{"no hosts allows nothing", spider.Scope{}, "http://quotes.example/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.scope.Allows(u); got != tt.want {
				t.Errorf("Allows(%s) = %v, want %v", tt.url, got, tt.want)
			}
			if reason := tt.scope.Reason(u); (reason == "") != tt.want {
				t.Errorf("Reason(%s) = %q, which disagrees with Allows = %v", tt.url, reason, tt.want)
			}
		})
	}
	for url, want := range map[string]string{
		"http://evil.example/":                "host evil.example is not in scope.hosts",
		"http://quotes.example/page/secret/1": "matches scope.deny[0] (^/page/secret)",
		"http://quotes.example/about":         "matches no pattern of scope.allow",
		"ftp://quotes.example/page/1":         "scheme ftp is not http or https",
	} {
		if got := filtered.Reason(mustURL(t, url)); got != want {
			t.Errorf("Reason(%s) = %q, want %q", url, got, want)
		}
	}
	if (&spider.Scope{Hosts: []string{"x"}}).Allows(nil) {
		t.Error("Allows(nil) = true, want false")
	}
}

// TestScopeFromSpider checks that a parsed spider's scope admits its own
// start URLs and nothing outside them.
func TestScopeFromSpider(t *testing.T) {
	t.Parallel()
	sp := mustParse(t, `
name: scoped
start_urls: [http://127.0.0.1:8300/, http://Quotes.Example/]
items: [{fields: {t: title}}]
`)
	for _, tt := range []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:8300/page/2", true},
		{"http://127.0.0.1:8301/page/2", false},
		{"http://quotes.example/a", true},
		{"http://other.example/a", false},
	} {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := sp.Scope.Allows(u); got != tt.want {
			t.Errorf("Allows(%s) = %v, want %v", tt.url, got, tt.want)
		}
	}
}
