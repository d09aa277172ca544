package spider_test

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/cascadia"
	"github.com/antchfx/xpath"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/net/html"

	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// compiledCmp compares compiled spiders by what they were compiled from:
// regexps and selectors by source, URLs by string.
func compiledCmp() cmp.Options {
	return cmp.Options{
		cmp.Comparer(func(a, b *regexp.Regexp) bool {
			return (a == nil) == (b == nil) && (a == nil || a.String() == b.String())
		}),
		cmp.Comparer(func(a, b *url.URL) bool {
			return (a == nil) == (b == nil) && (a == nil || a.String() == b.String())
		}),
		cmp.Comparer(func(a, b spider.Selector) bool {
			return a.Source == b.Source && (a.CSS == nil) == (b.CSS == nil) && (a.XPath == nil) == (b.XPath == nil)
		}),
		cmp.Comparer(func(a, b *spider.Cron) bool {
			return (a == nil) == (b == nil) && (a == nil || a.String() == b.String())
		}),
		cmpopts.IgnoreFields(spider.Spider{}, "Source", "Hash"),
		cmpopts.IgnoreUnexported(spider.Scope{}),
	}
}

func css(t *testing.T, src string) spider.Selector {
	t.Helper()
	sel, err := cascadia.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return spider.Selector{CSS: sel, Source: src}
}

func xp(t *testing.T, src string) spider.Selector {
	t.Helper()
	return spider.Selector{XPath: xpath.MustCompile(src), Source: src}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func res(patterns ...string) []*regexp.Regexp {
	var list []*regexp.Regexp
	for _, p := range patterns {
		list = append(list, regexp.MustCompile(p))
	}
	return list
}

// defaults returns the compiled settings of a spider that sets none.
func defaults() (spider.Limits, spider.Politeness, spider.Fetch) {
	return spider.Limits{MaxLinks: spider.DefaultMaxLinks},
		spider.Politeness{ObeyRobots: true, ConcurrencyPerHost: 2},
		spider.Fetch{Timeout: 20 * time.Second, Retries: 3, UserAgent: trawl.DefaultUserAgent, MaxBody: 10 << 20, MaxRedirects: 10}
}

func mustParse(t *testing.T, src string) *spider.Spider {
	t.Helper()
	sp, err := spider.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return sp
}

func TestParseValid(t *testing.T) {
	t.Parallel()
	limits, polite, fetch := defaults()
	tests := []struct {
		name string
		src  string
		want func(t *testing.T) *spider.Spider
	}{
		{
			name: "minimal spider gets every default",
			src: `
name: minimal
start_urls: [http://quotes.example/]
items:
  - fields: {title: title}
`,
			want: func(t *testing.T) *spider.Spider {
				return &spider.Spider{
					Name:       "minimal",
					StartURLs:  []*url.URL{mustURL(t, "http://quotes.example/")},
					Scope:      spider.Scope{Hosts: []string{"quotes.example"}},
					Items:      []spider.ItemRule{{Fields: []spider.Field{{Name: "title", Selector: css(t, "title")}}}},
					Limits:     limits,
					Politeness: polite,
					Fetch:      fetch,
				}
			},
		},
		{
			name: "field order is the declared order",
			src: `
name: order
start_urls: [http://quotes.example/]
items:
  - css: div.quote
    fields:
      zeta: .z
      alpha: .a
      mid: {css: .m, all: true}
      beta: {attr: data-id}
`,
			want: func(t *testing.T) *spider.Spider {
				return &spider.Spider{
					Name:      "order",
					StartURLs: []*url.URL{mustURL(t, "http://quotes.example/")},
					Scope:     spider.Scope{Hosts: []string{"quotes.example"}},
					Items: []spider.ItemRule{{
						Root: css(t, "div.quote"),
						Fields: []spider.Field{
							{Name: "zeta", Selector: css(t, ".z")},
							{Name: "alpha", Selector: css(t, ".a")},
							{Name: "mid", Selector: css(t, ".m"), All: true},
							{Name: "beta", Attr: "data-id"},
						},
					}},
					Limits:     limits,
					Politeness: polite,
					Fetch:      fetch,
				}
			},
		},
		{
			name: "scope defaults to the lowercase hosts of start_urls, once each",
			src: `
name: hosts
start_urls:
  - http://Quotes.Example/
  - http://quotes.example/page/2/
  - http://127.0.0.1:8300/api
  - https://[::1]:8443/
scope:
  deny: ['^/login']
items:
  - fields: {title: title}
`,
			want: func(t *testing.T) *spider.Spider {
				return &spider.Spider{
					Name: "hosts",
					StartURLs: []*url.URL{
						mustURL(t, "http://Quotes.Example/"), mustURL(t, "http://quotes.example/page/2/"),
						mustURL(t, "http://127.0.0.1:8300/api"), mustURL(t, "https://[::1]:8443/"),
					},
					Scope: spider.Scope{
						Hosts: []string{"quotes.example", "127.0.0.1:8300", "[::1]:8443"},
						Deny:  res("^/login"),
					},
					Items:      []spider.ItemRule{{Fields: []spider.Field{{Name: "title", Selector: css(t, "title")}}}},
					Limits:     limits,
					Politeness: polite,
					Fetch:      fetch,
				}
			},
		},
		{
			name: "numbers are accepted for durations and sizes",
			src: `
name: numbers
start_urls: [http://quotes.example/]
items:
  - fields: {title: title}
politeness: {delay: 0}
fetch: {max_body: 1048576, timeout: 1m}
`,
			want: func(t *testing.T) *spider.Spider {
				f := fetch
				f.MaxBody = 1 << 20
				f.Timeout = time.Minute
				return &spider.Spider{
					Name:       "numbers",
					StartURLs:  []*url.URL{mustURL(t, "http://quotes.example/")},
					Scope:      spider.Scope{Hosts: []string{"quotes.example"}},
					Items:      []spider.ItemRule{{Fields: []spider.Field{{Name: "title", Selector: css(t, "title")}}}},
					Limits:     limits,
					Politeness: polite,
					Fetch:      f,
				}
			},
		},
		{
			name: "every key",
			src:  readFile(t, "testdata/valid/full.yaml"),
			want: func(t *testing.T) *spider.Spider {
				return &spider.Spider{
					Name:      "full_spider-1",
					StartURLs: []*url.URL{mustURL(t, "http://Quotes.Example:8300/"), mustURL(t, "https://api.example.com/v1/quotes?page=1")},
					Scope: spider.Scope{
						Hosts: []string{"quotes.example", "*.example.com", "127.0.0.1:8300", "[::1]:8080"},
						Allow: res("^/page/", "^/v1/"),
						Deny:  res("^/login"),
					},
					Follow: []spider.FollowRule{
						{Selector: css(t, "li.next > a"), Attr: "href"},
						{Selector: xp(t, `//a[@rel="next"]`), Attr: "data-href", URLs: res("^/page/")},
						{JSON: &spider.JSONPath{Segments: []string{"next"}, Source: "next"}, Attr: "href"},
					},
					Items: []spider.ItemRule{
						{
							Root: css(t, "div.quote"),
							Fields: []spider.Field{
								{Name: "text", Selector: css(t, "span.text")},
								{Name: "id", Attr: "data-id"},
								{Name: "price", Selector: css(t, ".price"), Regex: regexp.MustCompile(`([0-9.]+)`)},
							},
						},
						{
							Root: xp(t, "//article"),
							Fields: []spider.Field{
								{Name: "title", Selector: xp(t, ".//h2")},
								{Name: "body", Selector: css(t, "p.body")},
								{Name: "author", Selector: xp(t, `.//span[@class="author"]`), Attr: "title"},
							},
						},
						{Fields: []spider.Field{{Name: "title", Selector: css(t, "title")}}},
						{
							JSON: &spider.JSONPath{Segments: []string{"data", "quotes"}, Source: "data.quotes"},
							URLs: res("^/v1/"),
							Fields: []spider.Field{
								{Name: "text", JSON: &spider.JSONPath{Segments: []string{"text"}, Source: "text"}},
								{Name: "author", JSON: &spider.JSONPath{Segments: []string{"author", "name"}, Source: "author.name"}},
								{Name: "tags", JSON: &spider.JSONPath{Segments: []string{"tags"}, Source: "tags"}, All: true},
								{Name: "self", JSON: &spider.JSONPath{Source: "."}, Regex: regexp.MustCompile(`id=(\d+)`)},
							},
							Required: []string{"text"},
							Key:      []string{"_url", "text"},
						},
					},
					Limits:     spider.Limits{MaxPages: 10000, MaxDepth: 20, MaxLinks: 500},
					Politeness: spider.Politeness{ObeyRobots: false, ConcurrencyPerHost: 4, Delay: 250 * time.Millisecond},
					Fetch: spider.Fetch{
						Timeout: 5 * time.Second, Retries: 0, UserAgent: "mybot/1.0", MaxBody: 1572864, MaxRedirects: 0,
						Headers: map[string]string{"Accept-Language": "en", "X-Token": "42"},
					},
					Schedule: "*/15 9-17 * * mon-fri",
					Cron:     mustCron(t, "*/15 9-17 * * mon-fri"),
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mustParse(t, tt.src)
			if diff := cmp.Diff(tt.want(t), got, compiledCmp()); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
			if got, want := string(got.Source), tt.src; got != want {
				t.Errorf("Source = %q, want %q", got, want)
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestSelectorsMatch checks that compiled selectors work on a real document,
// including a comma-separated CSS group.
func TestSelectorsMatch(t *testing.T) {
	t.Parallel()
	sp := mustParse(t, `
name: match
start_urls: [http://x.example/]
items:
  - css: 'h1, h2.sub'
    fields: {title: {xpath: 'string(.)'}}
`)
	doc, err := html.Parse(strings.NewReader(`<h1>a</h1><h2>b</h2><h2 class="sub">c</h2><p>d</p>`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range cascadia.QueryAll(doc, sp.Items[0].Root.CSS) {
		got = append(got, n.FirstChild.Data)
	}
	if diff := cmp.Diff([]string{"a", "c"}, got); diff != "" {
		t.Errorf("matches (-want +got):\n%s", diff)
	}
	if got, want := sp.Items[0].Root.CSS.String(), "h1, h2.sub"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if sp.Items[0].Fields[0].Selector.XPath == nil {
		t.Error("field selector is not XPath")
	}
}

func TestParseFile(t *testing.T) {
	t.Parallel()
	sp, err := spider.ParseFile("testdata/valid/quotes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sp.Name, "quotes"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}

	_, err = spider.ParseFile("testdata/does-not-exist.yaml")
	var ve *spider.ValidationError
	if err == nil || errors.As(err, &ve) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ParseFile(missing) error = %v, want a wrapped os.ErrNotExist", err)
	}

	_, err = spider.ParseFile("testdata/invalid/empty/spider.yaml")
	if !errors.As(err, &ve) {
		t.Fatalf("ParseFile(empty) error = %v, want *ValidationError", err)
	}
	if got, want := ve.File, "testdata/invalid/empty/spider.yaml"; got != want {
		t.Errorf("File = %q, want %q", got, want)
	}
}

func TestFieldNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "one rule",
			src:  "items: [{fields: {b: x, a: y}, key: [_url]}]",
			want: []string{"b", "a"},
		},
		{
			name: "union in first-declared order",
			src: `
items:
  - css: div.quote
    fields: {text: .t, author: .a}
  - json: quotes
    fields: {id: id, text: text, tags: tags}
  - fields: {author: .x, title: title}
`,
			want: []string{"text", "author", "id", "tags", "title"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sp := mustParse(t, "name: f\nstart_urls: [http://x.example/]\n"+tt.src)
			if diff := cmp.Diff(tt.want, sp.FieldNames()); diff != "" {
				t.Errorf("FieldNames (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidationErrorFormat(t *testing.T) {
	t.Parallel()
	_, err := spider.Parse("", []byte("name: x\nfolow: []\n"))
	var ve *spider.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v, want *ValidationError", err)
	}
	want := []spider.Problem{
		{Path: "start_urls", Line: 1, Column: 1, Message: "is required: list the absolute http(s) URLs the crawl starts from"},
		{Path: "items", Line: 1, Column: 1, Message: "is required: add at least one item rule with fields to extract"},
		{Path: "folow", Line: 2, Column: 1, Message: `unknown key "folow" (did you mean "follow"?)`},
	}
	if diff := cmp.Diff(want, ve.Problems); diff != "" {
		t.Errorf("Problems (-want +got):\n%s", diff)
	}
	wantText := "1:1: start_urls: is required: list the absolute http(s) URLs the crawl starts from\n" +
		"1:1: items: is required: add at least one item rule with fields to extract\n" +
		"2:1: folow: unknown key \"folow\" (did you mean \"follow\"?)"
	if got := err.Error(); got != wantText {
		t.Errorf("Error() = %q, want %q", got, wantText)
	}
}

// TestAliasExpansionBounded checks that YAML aliases cannot make a small
// file expand into a huge amount of work.
func TestAliasExpansionBounded(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("name: bomb\nstart_urls: [http://x.example/]\nitems:\n  - &r\n    fields:\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "      f%d: p\n", i)
	}
	for range 2000 {
		b.WriteString("  - *r\n")
	}
	_, err := spider.Parse("bomb.yaml", []byte(b.String()))
	var ve *spider.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Parse error = %.300v, want *ValidationError", err)
	}
	want := []spider.Problem{{Line: 1, Column: 1, Message: "document is too large: it expands to more than 131072 YAML nodes (check its aliases)"}}
	if diff := cmp.Diff(want, ve.Problems); diff != "" {
		t.Errorf("Problems (-want +got):\n%s", diff)
	}

	// A modest use of aliases is fine.
	sp := mustParse(t, `
name: aliases
start_urls: [http://x.example/]
items:
  - css: div.a
    fields: &f {title: h1, body: p}
  - css: div.b
    fields: *f
`)
	if got, want := len(sp.Items[1].Fields), 2; got != want {
		t.Errorf("len(Items[1].Fields) = %d, want %d", got, want)
	}
}
