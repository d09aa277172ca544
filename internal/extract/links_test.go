package extract_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/extract"
)

func TestExtractMaxLinks(t *testing.T) {
	t.Parallel()
	const (
		// Six distinct links; /a repeats, once spelt differently.
		htmlBody = `<a href="/a">1</a> <a href="/b">2</a> <a href="/a">again</a>
			<a href="http://site.example/a">same as /a</a> <a href="/c">3</a>
			<a href="/d">4</a> <a href="/c">again</a> <a href="/d">again</a>
			<a href="mailto:x@site.example">not a link</a> <a href="javascript:void(0)">nor this</a>
			<a class="more" data-href="/e">5</a> <a href="HTTPS://other.example/f">6</a>`
		jsonBody = `{"next": "/n1", "more": ["/n2", "/n1", "/n3", "/n3", "tel:123", "/n4"]}`
	)
	tests := []struct {
		name       string
		follow     string
		maxLinks   string // the limits: value, "" for the default
		body       string
		wantLinks  []string
		wantCapped int
	}{
		{
			name:      "default limit not reached",
			follow:    "[{css: a}]",
			body:      htmlBody,
			wantLinks: []string{"/a", "/b", "/c", "/d", "https://other.example/f"},
		},
		{
			name:      "limit equal to the distinct links",
			follow:    "[{css: a}]",
			maxLinks:  "limits: {max_links: 5}",
			body:      htmlBody,
			wantLinks: []string{"/a", "/b", "/c", "/d", "https://other.example/f"},
		},
		{
			// Past the cap, references are compared as written, not
			// resolved: /a repeats a kept one and the second /c and /d repeat
			// counted ones, but http://site.example/a counts. mailto: and
			// javascript: are no links.
			name:       "references past the cap are counted once as written",
			follow:     "[{css: a}]",
			maxLinks:   "limits: {max_links: 2}",
			body:       htmlBody,
			wantLinks:  []string{"/a", "/b"},
			wantCapped: 4,
		},
		{
			name:       "two rules count together in document order",
			follow:     "[{css: a.more, attr: data-href}, {css: a}]",
			maxLinks:   "limits: {max_links: 4}",
			body:       htmlBody,
			wantLinks:  []string{"/a", "/b", "/c", "/d"},
			wantCapped: 2,
		},
		{
			name:       "xpath and css rules",
			follow:     "[{xpath: '//a[@class]/@data-href'}, {css: a}]",
			maxLinks:   "limits: {max_links: 1}",
			body:       htmlBody,
			wantLinks:  []string{"/a"},
			wantCapped: 6,
		},
		{
			name:      "zero is unlimited",
			follow:    "[{css: a}, {css: a.more, attr: data-href}]",
			maxLinks:  "limits: {max_links: 0}",
			body:      htmlBody,
			wantLinks: []string{"/a", "/b", "/c", "/d", "/e", "https://other.example/f"},
		},
		{
			name:       "json rules in rule order",
			follow:     "[{json: next}, {json: more}]",
			maxLinks:   "limits: {max_links: 2}",
			body:       jsonBody,
			wantLinks:  []string{"/n1", "/n2"},
			wantCapped: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sp := mustParse(t, fmt.Sprintf(`
name: links
start_urls: [http://site.example/]
follow: %s
items:
  - css: p
    fields: {text: .x}
%s
`, tt.follow, tt.maxLinks))
			u, _ := url.Parse("http://site.example/page")
			ct := "text/html"
			if tt.body == jsonBody {
				ct = "application/json"
			}
			res, err := extract.Extract(sp, extract.Page{URL: u, ContentType: ct, Body: []byte(tt.body)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range res.Links {
				s := l.String()
				if l.Host == "site.example" {
					s = l.RequestURI()
				}
				got = append(got, s)
			}
			if diff := cmp.Diff(tt.wantLinks, got); diff != "" {
				t.Errorf("Links mismatch (-want +got):\n%s", diff)
			}
			if res.LinksCapped != tt.wantCapped {
				t.Errorf("LinksCapped = %d, want %d", res.LinksCapped, tt.wantCapped)
			}
		})
	}
}
