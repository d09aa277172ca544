package extract_test

import (
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/extract"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// bothSpider has an HTML and a JSON rule of each kind, so that a result
// shows which kind of rules a page was given to.
const bothSpider = `
name: both
start_urls: [http://site.example/]
follow:
  - css: a
  - json: next
items:
  - css: p
    fields: {text: {xpath: .}}
  - json: items
    fields: {text: text}
`

func mustParse(tb testing.TB, src string) *spider.Spider {
	tb.Helper()
	sp, err := spider.Parse("spider.yaml", []byte(src))
	if err != nil {
		tb.Fatalf("parse spider: %v", err)
	}
	return sp
}

func TestExtractDispatch(t *testing.T) {
	t.Parallel()
	sp := mustParse(t, bothSpider)
	const (
		htmlBody = `<p>from html</p><a href="/html-link">x</a>`
		jsonBody = `{"next": "/json-link", "items": [{"text": "from json"}]}`
	)
	type summary struct {
		Links []string
		Texts []any
	}
	html := summary{Links: []string{"http://site.example/html-link"}, Texts: []any{"from html"}}
	json := summary{Links: []string{"http://site.example/json-link"}, Texts: []any{"from json"}}
	none := summary{}
	tests := []struct {
		name        string
		contentType string
		body        string
		want        summary
		wantErr     bool
	}{
		{"html", "text/html", htmlBody, html, false},
		{"xhtml", "application/xhtml+xml", htmlBody, html, false},
		{"json", "application/json", jsonBody, json, false},
		{"+json", "application/vnd.api+json", jsonBody, json, false},
		{"sniffed json without type", "", jsonBody, json, false},
		{"sniffed json in text/plain", "text/plain", jsonBody, json, false},
		{"html without type", "", htmlBody, html, false},
		{"html body served as json", "application/json", htmlBody, none, true},
		{"json body served as html", "text/html", jsonBody, summary{Texts: nil}, false},
		{"plain text", "text/plain", "just text", none, false},
		{"image", "image/png", "\x89PNG", none, false},
		{"empty html", "text/html", "", none, false},
		{"binary garbage as html", "text/html", "\x00\xff\xfe<<<>>>\x00", none, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, _ := url.Parse("http://site.example/page")
			res, err := extract.Extract(sp, extract.Page{URL: u, ContentType: tt.contentType, Body: []byte(tt.body)})
			var pe *extract.ParseError
			if got := errors.As(err, &pe); got != tt.wantErr {
				t.Fatalf("Extract error = %v, want a *ParseError: %v", err, tt.wantErr)
			}
			var got summary
			for _, l := range res.Links {
				got.Links = append(got.Links, l.String())
			}
			for _, it := range res.Items {
				got.Texts = append(got.Texts, it.Fields[0].Value)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Extract mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExtractJSONRulesOnlyDecodeWhenTheyApply(t *testing.T) {
	t.Parallel()
	sp := mustParse(t, `
name: only_html
start_urls: [http://site.example/]
items:
  - css: p
    fields: {text: {xpath: .}}
`)
	u, _ := url.Parse("http://site.example/api")
	res, err := extract.Extract(sp, extract.Page{URL: u, ContentType: "application/json", Body: []byte("{broken")})
	if err != nil {
		t.Errorf("Extract error = %v, want nil: no JSON rule applies", err)
	}
	if len(res.Items) != 0 || len(res.Links) != 0 {
		t.Errorf("Extract = %+v, want an empty result", res)
	}
}

func TestParseError(t *testing.T) {
	t.Parallel()
	inner := errors.New("unexpected EOF")
	err := error(&extract.ParseError{URL: "http://x.example/a", Err: inner})
	if got, want := err.Error(), "parse json response http://x.example/a: unexpected EOF"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, inner) {
		t.Errorf("errors.Is(err, inner) = false, want true")
	}
	wrapped := fmt.Errorf("extract: %w", err)
	var pe *extract.ParseError
	if !errors.As(wrapped, &pe) || pe.URL != "http://x.example/a" {
		t.Errorf("errors.As(wrapped) = %v, %+v; want the ParseError", errors.As(wrapped, &pe), pe)
	}
}

// TestXPathScalarExpressions checks that XPath expressions that evaluate to
// a string, number or boolean instead of nodes select nothing rather than
// panic. (Evaluating them would need xpath.Expr.Evaluate, which mutates the
// shared compiled expression and is not safe for concurrent use.)
func TestXPathScalarExpressions(t *testing.T) {
	t.Parallel()
	sp := mustParse(t, `
name: scalar
start_urls: [http://site.example/]
follow:
  - xpath: 'count(//a)'
items:
  - xpath: //p
    fields:
      s: 'string(.)'
      n: {xpath: 'count(.//b)'}
      b: {xpath: 'boolean(.//b)', all: true}
      t: 'normalize-space(.)'
`)
	u, _ := url.Parse("http://site.example/")
	res, err := extract.Extract(sp, extract.Page{URL: u, ContentType: "text/html", Body: []byte(`<p>a <b>b</b></p><a href="/x">x</a>`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Links) != 0 {
		t.Errorf("Links = %v, want none", res.Links)
	}
	if len(res.Items) != 1 {
		t.Fatalf("got %d items, want 1", len(res.Items))
	}
	want := []trawl.Field{{Name: "s"}, {Name: "n"}, {Name: "b", Value: []string{}}, {Name: "t"}}
	if diff := cmp.Diff(want, res.Items[0].Fields); diff != "" {
		t.Errorf("Fields mismatch (-want +got):\n%s", diff)
	}
}

// TestExtractConcurrent shares one spider among goroutines; run with -race.
func TestExtractConcurrent(t *testing.T) {
	t.Parallel()
	sp := mustParseSpider(t, "testdata/xpath/spider.yaml")
	body := mustRead(t, "testdata/xpath/page.html")
	u, _ := url.Parse("https://books.example/catalogue/page-1.html")
	want, err := extract.Extract(sp, extract.Page{URL: u, ContentType: "text/html", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]extract.Result, 8)
	for i := range results {
		wg.Go(func() {
			results[i], _ = extract.Extract(sp, extract.Page{URL: u, ContentType: "text/html", Body: body})
		})
	}
	wg.Wait()
	for i, got := range results {
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("goroutine %d: result differs (-want +got):\n%s", i, diff)
		}
	}
}
