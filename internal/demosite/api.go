package demosite

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

type apiAuthorRef struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
}

type apiQuote struct {
	Text   string       `json:"text"`
	Author apiAuthorRef `json:"author"`
	Tags   []string     `json:"tags"`
}

type apiQuotes struct {
	Quotes []apiQuote `json:"quotes"`
	Page   int        `json:"page"`
	Next   *string    `json:"next"` // null on the last page
}

type apiAuthor struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
	Born string `json:"born"`
}

type apiAuthors struct {
	Authors []apiAuthor `json:"authors"`
}

type apiError struct {
	Error string `json:"error"`
}

// writeJSON encodes v before writing the header, so that an encoding error
// never goes out with the intended status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "encode json: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// serveAPIQuotes serves /api/quotes?page=N (N defaults to 1).
func (s *Site) serveAPIQuotes(w http.ResponseWriter, r *http.Request) {
	n := 1
	if v := r.URL.Query().Get("page"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{fmt.Sprintf("page %q is not a number", v)})
			return
		}
	}
	last := s.Pages()
	if n < 1 || n > last {
		writeJSON(w, http.StatusNotFound, apiError{fmt.Sprintf("page %d does not exist: pages are 1 to %d", n, last)})
		return
	}
	per := s.cfg.PerPage
	resp := apiQuotes{Quotes: []apiQuote{}, Page: n}
	for _, q := range s.quotes[(n-1)*per : min(n*per, len(s.quotes))] {
		resp.Quotes = append(resp.Quotes, apiQuote{Text: q.Text, Author: apiAuthorRef{q.Author, q.AuthorSlug}, Tags: q.Tags})
	}
	if n < last {
		next := fmt.Sprintf("/api/quotes?page=%d", n+1)
		resp.Next = &next
	}
	writeJSON(w, http.StatusOK, resp)
}

// serveAPIAuthors serves /api/authors: the authors of the site's quotes in
// order of first appearance.
func (s *Site) serveAPIAuthors(w http.ResponseWriter, _ *http.Request) {
	resp := apiAuthors{Authors: []apiAuthor{}}
	for _, a := range s.authors {
		resp.Authors = append(resp.Authors, apiAuthor{a.Name, a.Slug, a.Born})
	}
	writeJSON(w, http.StatusOK, resp)
}

// serveAPIBroken answers 200 with a JSON content type and a truncated body.
func (s *Site) serveAPIBroken(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"quotes": [{"text": "This response is cut off in the middle`))
}

// serveAPIDown answers 503 Service Unavailable, without Retry-After.
func (s *Site) serveAPIDown(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusServiceUnavailable, apiError{"the demo API is down on purpose"})
}
