package extract

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"
)

func TestCSSNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sel  string
		want []selectorName
	}{
		{"div.quote", []selectorName{{value: "quote"}}},
		{"#root > .card.big", []selectorName{{id: true, value: "root"}, {value: "card"}, {value: "big"}}},
		{"li.next > a", []selectorName{{value: "next"}}},
		{"div", nil},
		{`a[href*="/author/"]`, nil},
		{`a[href$=".pdf"], a[href="#top"]`, nil},
		{`[class~=quote]`, []selectorName{{value: "quote"}}},
		{`div[class="a b"]`, []selectorName{{value: "a"}, {value: "b"}}},
		{`div[class*="quo"]`, nil},
		{`[id='main']`, []selectorName{{id: true, value: "main"}}},
		{`div:not(.ad) > p.text`, []selectorName{{value: "text"}}},
		{`div:not(:has(.x)).y`, []selectorName{{value: "y"}}},
		{`div.über`, []selectorName{{value: "über"}}},
		{`a[title="x.y"`, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, cssNames(tt.sel), cmp.AllowUnexported(selectorName{})); diff != "" {
			t.Errorf("cssNames(%q) mismatch (-want +got):\n%s", tt.sel, diff)
		}
	}
}

func TestXPathNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		want []selectorName
	}{
		{`//div[@class="quote"]`, []selectorName{{value: "quote"}}},
		{`//div[@class = 'quote big']/span`, []selectorName{{value: "quote"}, {value: "big"}}},
		{`//*[@id="root"]//li`, []selectorName{{id: true, value: "root"}}},
		{`//div[contains(@class, "quote")]`, []selectorName{{value: "quote"}}},
		{`//div[contains(concat(" ", normalize-space(@class), " "), " quote ")]`, []selectorName{{value: "quote"}}},
		{`//a[@href="/next" and text()="Next"]`, nil},
		{`//ul/li`, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, xpathNames(tt.expr), cmp.AllowUnexported(selectorName{})); diff != "" {
			t.Errorf("xpathNames(%q) mismatch (-want +got):\n%s", tt.expr, diff)
		}
	}
}

func TestMentions(t *testing.T) {
	t.Parallel()
	class := selectorName{value: "quote"}
	id := selectorName{id: true, value: "quote-list"}
	tests := []struct {
		script string
		name   selectorName
		want   bool
	}{
		{`html += '<div class="quote">' + text`, class, true},
		{`html += "<div class=\"big quote\">"`, class, true},
		{`html += '<div class="quote big">'`, class, true},
		{`React.createElement("div", {className: "quote"}, text)`, class, true},
		{`<div className={"quote"}>`, class, true},
		{`el.classList.add('quote')`, class, true},
		{"el.className = `quote`", class, true},
		{`list.id = "quote-list"`, id, true},
		{`list.id = "quote-list"`, selectorName{value: "quote-list"}, false}, // an id, not a class
		{`html += '<div class="myquote">'`, class, false},
		{`html += '<div class="quote-box">'`, class, false},
		{`document.querySelectorAll('.quote')`, class, false},
		{`var quote = data[i]`, class, false},
		{`gtag('event', 'quote')`, class, false},
		{`{"@type": "Blog", "name": "quote"}`, class, false},
		{`// the quote of the day`, class, false},
		{`quote`, class, false},
	}
	for _, tt := range tests {
		f := &scriptFacts{scripts: []string{tt.script}}
		if got := f.mentions(tt.name); got != tt.want {
			t.Errorf("mentions(%+v) in %s = %v, want %v", tt.name, tt.script, got, tt.want)
		}
	}
}

func TestGatherScriptFacts(t *testing.T) {
	t.Parallel()
	const text = `<p>A page with enough visible text to be a real page and not an app shell, so that it counts.</p>`
	tests := []struct {
		name string
		page string
		want scriptFacts // scripts not compared
	}{
		{"no script", text, scriptFacts{}},
		{"no script, empty body", `<title>Quotes</title>`, scriptFacts{shell: true}},
		{"analytics", `<script>gtag('config', 'G-1')</script>` + text, scriptFacts{exec: true}},
		{"external bundle, empty mount point", `<h1>Quotes</h1><nav>` + text + `</nav><div id="app"> </div><script src="/app.js"></script>`,
			scriptFacts{exec: true, shell: true}},
		{"filled mount point", `<div id="root">` + text + `</div><script src="/app.js"></script>`, scriptFacts{exec: true}},
		{"mount point with noscript", text + `<div id="__next"><noscript>Enable JavaScript</noscript></div><script src="/a.js"></script>`,
			scriptFacts{exec: true, shell: true}},
		{"loading text only", `<div class="spinner">Loading…</div><script type="module" src="/main.js"></script>`,
			scriptFacts{exec: true, shell: true}},
		{"json data only", `<script type="application/json" id="__NEXT_DATA__">{}</script>`, scriptFacts{shell: true}},
		{"document.write of content", text + `<script>document.write("<div class='quote'>" + q + "</div>")</script>`,
			scriptFacts{exec: true, written: true}},
		{"document.write of a pixel", text + `<script>document.write('<img src="/p.gif">'); document.write("<script src=x></scr"+"ipt>")</script>`,
			scriptFacts{exec: true}},
		{"old analytics loader", text + `<script>document.write(unescape("%3Cscript src='" + gaJsHost + "ga.js'%3E%3C/script%3E"));</script>`,
			scriptFacts{exec: true}},
		{"text in title and style does not count", `<title>` + strings.Repeat("t", 100) + `</title><style>p{}</style><script>x()</script>`,
			scriptFacts{exec: true, shell: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := html.Parse(strings.NewReader(tt.page))
			if err != nil {
				t.Fatal(err)
			}
			got := *gatherScriptFacts(doc)
			got.scripts = nil
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(scriptFacts{})); diff != "" {
				t.Errorf("gatherScriptFacts mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
