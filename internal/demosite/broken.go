package demosite

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

func (s *Site) serveBroken500(w http.ResponseWriter, _ *http.Request) {
	s.render(w, http.StatusInternalServerError, pageData{Title: "Server error", Body: "message",
		Message: "This page always fails with 500 Internal Server Error."})
}

// serveMalformed serves a page with unclosed elements, stray end tags and
// no </head>, around one quote of the site that an HTML5 parser still
// extracts intact.
func (s *Site) serveMalformed(w http.ResponseWriter, _ *http.Request) {
	q := s.malformed
	var tags strings.Builder
	for _, t := range q.Tags {
		fmt.Fprintf(&tags, "<a class=\"tag\" href=\"/tag/%s/\">%s</a>\n", t, html.EscapeString(t))
	}
	page := `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Malformed page | Quotes to Trawl</title>
<body>
<div class="container">
</span></em>
<p>This page is broken on purpose: <b>an unclosed bold, <i>an unclosed italic,
</td></tr></table> and stray end tags.
<div class="quote">
<span class="text">“` + html.EscapeString(q.Text) + `”</span>
<span>by <small class="author">` + html.EscapeString(q.Author) + `</small>
<a href="/author/` + q.AuthorSlug + `/">(about)</a>
<div class="tags">
Tags:
` + tags.String() + `</div>
</div></div></div></p>
<table><tr><td>a cell that never closes
<li>a list item outside a list
<footer class="footer">
<p>Broken pages:
<a href="/broken/500">server error</a> ·
<a href="/broken/404">missing page</a> ·
<a href="/broken/malformed">malformed HTML</a> ·
<a href="/broken/latin1">Latin-1 page</a> ·
<a href="/slow">slow page</a>
</footer>
`
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(page))
}

// serveLatin1 serves one quote with accents in a page encoded as
// ISO-8859-1. The encoding is declared only by <meta charset>: the
// Content-Type header has no charset parameter. Characters outside Latin-1
// (the curly quotation marks) are written as character references, so the
// extracted text is the same as on the UTF-8 pages.
func (s *Site) serveLatin1(w http.ResponseWriter, _ *http.Request) {
	b, err := s.renderBytes(pageData{Charset: "iso-8859-1", Title: "Latin-1 page", Body: "listing", Quotes: []Quote{s.latin1}})
	if err != nil {
		http.Error(w, "render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html")
	_, _ = w.Write(toLatin1(b))
}

// toLatin1 encodes UTF-8 HTML as ISO-8859-1, writing characters outside it
// as numeric character references.
func toLatin1(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if r < 0x100 {
			out = append(out, byte(r))
			continue
		}
		out = fmt.Appendf(out, "&#%d;", r)
	}
	return out
}

// serveSlow answers after SlowDelay, or gives up when the client does.
func (s *Site) serveSlow(w http.ResponseWriter, r *http.Request) {
	if d := s.cfg.SlowDelay; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	s.render(w, http.StatusOK, pageData{Title: "Slow page", Body: "message",
		Message: fmt.Sprintf("This page took %v to answer.", max(s.cfg.SlowDelay, 0))})
}
