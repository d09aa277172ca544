package extract_test

import (
	"net/url"
	"path/filepath"
	"testing"

	"github.com/trawl-dev/trawl/internal/extract"
	"github.com/trawl-dev/trawl/internal/spider"
)

// FuzzExtract feeds arbitrary bodies to spiders of testdata, as HTML and as
// JSON: Extract must not panic, HTML must never be an error, links must be
// absolute http(s) URLs without fragment or duplicates, and item keys must be
// unique and items encodable.
func FuzzExtract(f *testing.F) {
	for _, name := range []string{
		"quotes/page.html", "malformed_html/page.html", "xpath/page.html",
		"json_api/page.json", "json_projection/page.json",
	} {
		f.Add(mustRead(f, filepath.Join("testdata", name)))
	}
	f.Add([]byte("<base href=javascript:x><a href=//h/x>"))
	f.Add([]byte(`{"quotes": [1, null, "x", {"author": [1]}], "next": [null, {}]}`))
	cases := []struct {
		sp *spider.Spider
		ct string
	}{
		{mustParseSpider(f, "testdata/quotes/spider.yaml"), "text/html"},
		{mustParseSpider(f, "testdata/xpath/spider.yaml"), ""},
		{mustParseSpider(f, "testdata/json_api/spider.yaml"), "application/json"},
		{mustParseSpider(f, "testdata/json_projection/spider.yaml"), "application/json"},
	}
	u, _ := url.Parse("http://quotes.example/page/1/")
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, c := range cases {
			res, err := extract.Extract(c.sp, extract.Page{URL: u, ContentType: c.ct, Body: body})
			if err != nil && extract.IsHTML(c.ct) {
				t.Errorf("Extract HTML error = %v, want nil", err)
			}
			checkResult(t, res)
		}
	})
}

func checkResult(t *testing.T, res extract.Result) {
	t.Helper()
	links := map[string]bool{}
	for _, l := range res.Links {
		if (l.Scheme != "http" && l.Scheme != "https") || l.Host == "" || l.Fragment != "" {
			t.Errorf("link %q is not an absolute http(s) URL without fragment", l)
		}
		if links[l.String()] {
			t.Errorf("duplicate link %q", l)
		}
		links[l.String()] = true
	}
	keys := map[string]bool{}
	for _, it := range res.Items {
		if keys[it.Key] {
			t.Errorf("duplicate item key %q", it.Key)
		}
		keys[it.Key] = true
		if _, err := it.MarshalJSON(); err != nil {
			t.Errorf("item does not encode: %v", err)
		}
	}
}
