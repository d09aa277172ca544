package extract_test

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/extract"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func TestExtractRuleStats(t *testing.T) {
	t.Parallel()
	sp := mustParse(t, `
name: rules
start_urls: [http://site.example/]
items:
  - css: p.item
    fields: {text: {xpath: .}}
  - json: items
    fields: {text: text}
  - css: p.item
    urls: ['^/only-here']
    fields: {text: {xpath: .}}
  - fields: {title: h1}
`)
	none := trawl.RuleStats{}
	miss := trawl.RuleStats{Pages: 1}
	hit := trawl.RuleStats{Pages: 1, Matched: 1}
	tests := []struct {
		name        string
		contentType string
		body        string
		want        []trawl.RuleStats
	}{
		{"html matched", "text/html", `<h1>T</h1><p class="item">x</p>`, []trawl.RuleStats{hit, none, none, hit}},
		{"html without matches", "text/html", `<p>nothing here for the rules, but plenty of visible text on a static page</p>`,
			[]trawl.RuleStats{miss, none, none, miss}},
		{"json array", "application/json", `{"items": [{"text": "a"}]}`, []trawl.RuleStats{none, hit, none, none}},
		{"json empty array", "application/json", `{"items": []}`, []trawl.RuleStats{none, miss, none, none}},
		{"json object", "application/json", `{"items": {"text": "a"}}`, []trawl.RuleStats{none, hit, none, none}},
		{"json path missing", "application/json", `{"data": []}`, []trawl.RuleStats{none, miss, none, none}},
		{"image", "image/png", "\x89PNG", []trawl.RuleStats{none, none, none, none}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, _ := url.Parse("http://site.example/page")
			res, err := extract.Extract(sp, extract.Page{URL: u, ContentType: tt.contentType, Body: []byte(tt.body)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, res.Rules); diff != "" {
				t.Errorf("Rules mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
