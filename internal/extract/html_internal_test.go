package extract

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestTextContent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		html string
		want string
	}{
		{"plain", "<div>hello</div>", "hello"},
		{"trimmed", "<div>  \n hello \t </div>", "hello"},
		{"runs collapse", "<div>a \t\n\r\f b</div>", "a b"},
		{"across elements", "<div><b>a</b> <i>b</i></div>", "a b"},
		{"adjacent elements join", "<div><b>a</b><i>b</i></div>", "ab"},
		{"space only between elements", "<div><b> a </b><i> b </i></div>", "a b"},
		{"unicode spaces", "<div>a\u00a0\u2003\u3000b\u2028c\u0085d</div>", "a b c d"},
		{"entities", "<div>a&nbsp;&nbsp;b &amp; c</div>", "a b & c"},
		{"multibyte text kept", "<div>héllo wörld ✓ 日本</div>", "héllo wörld ✓ 日本"},
		{"comments skipped", "<div>a<!-- hidden -->b</div>", "ab"},
		{"empty", "<div></div>", ""},
		{"only space", "<div> \n </div>", ""},
		{"invalid utf-8 kept", "<div>a\xffb</div>", "a\ufffdb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := html.Parse(strings.NewReader(tt.html))
			if err != nil {
				t.Fatal(err)
			}
			var div *html.Node
			for n := next(doc, doc); n != nil; n = next(n, doc) {
				if n.Type == html.ElementNode && n.Data == "div" {
					div = n
					break
				}
			}
			hp := &htmlPage{doc: doc}
			if got := hp.textContent(div); got != tt.want {
				t.Errorf("textContent(%q) = %q, want %q", tt.html, got, tt.want)
			}
		})
	}
}

func TestAttr(t *testing.T) {
	t.Parallel()
	doc, err := html.Parse(strings.NewReader(`<svg><a xlink:href="/svg-link" HREF="/upper"></a></svg><a Data-X="1"></a>`))
	if err != nil {
		t.Fatal(err)
	}
	var els []*html.Node
	for n := next(doc, doc); n != nil; n = next(n, doc) {
		if n.Type == html.ElementNode && n.Data == "a" {
			els = append(els, n)
		}
	}
	tests := []struct {
		el     int
		name   string
		want   string
		wantOK bool
	}{
		{0, "xlink:href", "/svg-link", true},
		{0, "XLINK:HREF", "/svg-link", true},
		{0, "href", "/upper", true},
		{0, "src", "", false},
		{1, "data-x", "1", true},
		{1, "DATA-X", "1", true},
		{1, "data", "", false},
	}
	for _, tt := range tests {
		got, ok := attr(els[tt.el], tt.name)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("attr(<a> #%d, %q) = %q, %v; want %q, %v", tt.el, tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}
