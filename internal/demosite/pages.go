package demosite

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
)

// pageData is what the layout template renders.
type pageData struct {
	Charset string // "utf-8" unless a page says otherwise
	Title   string
	Body    string // "listing", "author", "login" or "message"
	Message string
	Tag     string
	Quotes  []Quote
	Prev    string
	Next    string
	TopTags []string
	Author  author
}

// render writes the page with the given status. It renders into a buffer
// first so that a template error never sends half a page with a 200.
func (s *Site) render(w http.ResponseWriter, status int, d pageData) {
	b, err := s.renderBytes(d)
	if err != nil {
		http.Error(w, "render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client went away; nothing to do
}

func (s *Site) renderBytes(d pageData) ([]byte, error) {
	if d.Charset == "" {
		d.Charset = "utf-8"
	}
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, "layout", d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pageNumber parses the {n} path value: "" is page 1; otherwise a canonical
// decimal between 1 and last. It reports false for anything else.
func pageNumber(r *http.Request, last int) (int, bool) {
	v := r.PathValue("n")
	if v == "" {
		return 1, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || strconv.Itoa(n) != v || n < 1 || n > last {
		return 0, false
	}
	return n, true
}

// serveIndex serves / and /page/N/.
func (s *Site) serveIndex(w http.ResponseWriter, r *http.Request) {
	n, ok := pageNumber(r, s.Pages())
	if !ok {
		s.serveNotFound(w, r)
		return
	}
	idx := make([]int, len(s.quotes))
	for i := range idx {
		idx[i] = i
	}
	s.renderListing(w, "", idx, n, func(p int) string { return fmt.Sprintf("/page/%d/", p) })
}

// serveTag serves /tag/T/ and /tag/T/page/N/.
func (s *Site) serveTag(w http.ResponseWriter, r *http.Request) {
	tag := r.PathValue("tag")
	idx, ok := s.byTag[tag]
	if !ok {
		s.serveNotFound(w, r)
		return
	}
	n, ok := pageNumber(r, pages(len(idx), s.cfg.PerPage))
	if !ok {
		s.serveNotFound(w, r)
		return
	}
	s.renderListing(w, tag, idx, n, func(p int) string { return fmt.Sprintf("/tag/%s/page/%d/", tag, p) })
}

// renderListing renders page n of the quotes idx.
func (s *Site) renderListing(w http.ResponseWriter, tag string, idx []int, n int, pageURL func(int) string) {
	per := s.cfg.PerPage
	d := pageData{Title: "Quotes", Body: "listing", Tag: tag, TopTags: s.topTags[:min(10, len(s.topTags))]}
	if tag != "" {
		d.Title = "Quotes tagged " + tag
	}
	if n > 1 {
		d.Title += fmt.Sprintf(" (page %d)", n)
		d.Prev = pageURL(n - 1)
	}
	if n < pages(len(idx), per) {
		d.Next = pageURL(n + 1)
	}
	for _, i := range idx[(n-1)*per : min(n*per, len(idx))] {
		d.Quotes = append(d.Quotes, s.quotes[i])
	}
	s.render(w, http.StatusOK, d)
}

// serveAuthor serves /author/SLUG/.
func (s *Site) serveAuthor(w http.ResponseWriter, r *http.Request) {
	i, ok := s.bySlug[r.PathValue("slug")]
	if !ok {
		s.serveNotFound(w, r)
		return
	}
	a := s.authors[i]
	s.render(w, http.StatusOK, pageData{Title: a.Name, Body: "author", Author: a})
}

// robotsTxt is served as /robots.txt.
const robotsTxt = `# The demo site allows everything but the login form and the admin area.
User-agent: *
Disallow: /login
Disallow: /admin/
`

func (s *Site) serveRobots(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(robotsTxt))
}

// serveLogin shows a login form; posting it logs nobody in.
func (s *Site) serveLogin(w http.ResponseWriter, r *http.Request) {
	msg := "This form is disallowed by robots.txt: a polite crawler never sees it."
	if r.Method == http.MethodPost {
		msg = "Nobody can log in to the demo site."
	}
	s.render(w, http.StatusOK, pageData{Title: "Login", Body: "login", Message: msg})
}

func (s *Site) serveAdmin(w http.ResponseWriter, _ *http.Request) {
	s.render(w, http.StatusForbidden, pageData{Title: "Forbidden", Body: "message",
		Message: "The admin area is disallowed by robots.txt and forbidden to everyone."})
}

func (s *Site) serveNotFound(w http.ResponseWriter, _ *http.Request) {
	s.render(w, http.StatusNotFound, pageData{Title: "Not found", Body: "message",
		Message: "There is no page at this address."})
}
