// Package demosite serves a deterministic demo website of quotes, with HTML
// pages, a JSON API and deliberately broken pages, for `trawl demo`, the
// docs and the tests.
//
// # Pages
//
// The HTML is modelled on quotes.toscrape.com, so that the example spider
// reads naturally:
//
//	/, /page/N/                 PerPage quotes each (div.quote > span.text,
//	                            small.author, a.tag), li.next and li.previous pagers
//	/tag/T/, /tag/T/page/N/     the quotes with tag T, same markup
//	/author/SLUG/               h3.author-title, span.author-born-date,
//	                            span.author-born-location, div.author-description
//	/robots.txt                 disallows /login and /admin/ for every agent
//	/login                      a login form (disallowed by robots.txt)
//	/admin/                     403 Forbidden (disallowed by robots.txt)
//
// The footer of every HTML page links the broken pages:
//
//	/broken/500                 always 500
//	/broken/404                 always 404
//	/broken/malformed           unclosed and stray tags around one quote that
//	                            stays extractable
//	/broken/latin1              one quote with accents, encoded ISO-8859-1 and
//	                            declared only by <meta charset>
//	/slow                       answers after Config.SlowDelay; honours the
//	                            request's context
//
// The quotes on /broken/malformed and /broken/latin1 are quotes of the site
// (the first and the second), so a crawl that decodes them correctly finds
// no more distinct quotes than Quotes returns.
//
// # JSON API
//
//	/api/quotes?page=N  {"quotes":[{"text","author":{"name","slug"},"tags"}],
//	                    "page":N,"next":"/api/quotes?page=N+1" or null}
//	/api/authors        {"authors":[{"name","slug","born"}]}
//	/api/broken         200 with a body that is not valid JSON
//	/api/down           503
package demosite

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"time"
)

// Defaults of Config.
const (
	DefaultQuotes    = 100
	DefaultPerPage   = 10
	DefaultSlowDelay = 300 * time.Millisecond
)

// Config tunes a Site. The zero value is the default site.
type Config struct {
	// Quotes is how many quotes the site has. Zero or negative means
	// DefaultQuotes (100, each a distinct real quote). Beyond 100 the
	// quotes repeat with a " (#2)", " (#3)", ... suffix so that every text
	// stays unique.
	Quotes int
	// PerPage is how many quotes a listing page and an API page show. Zero
	// or negative means DefaultPerPage (10).
	PerPage int
	// SlowDelay is how long /slow waits before answering. Zero means
	// DefaultSlowDelay (300ms); negative means no wait.
	SlowDelay time.Duration
}

// Quote is one quote of the site: the ground truth that a crawl should find.
type Quote struct {
	// Text is the quote without the curly quotation marks that HTML pages
	// put around it. One text has a line break; extracting it from HTML
	// with whitespace collapsed turns it into a space.
	Text       string
	Author     string
	AuthorSlug string
	Tags       []string
}

// author is an author's page data.
type author struct {
	Name, Slug, Born, Location, Description string
}

// Site is the demo website. It is immutable after New and safe for
// concurrent use.
type Site struct {
	cfg       Config
	quotes    []Quote
	authors   []author       // authors of quotes, in order of first appearance
	bySlug    map[string]int // index into authors
	byTag     map[string][]int
	topTags   []string // every tag, most used first
	malformed Quote    // shown on /broken/malformed
	latin1    Quote    // shown on /broken/latin1
	tmpl      *template.Template
	handler   http.Handler
}

// New returns the site for cfg.
func New(cfg Config) *Site {
	if cfg.Quotes <= 0 {
		cfg.Quotes = DefaultQuotes
	}
	if cfg.PerPage <= 0 {
		cfg.PerPage = DefaultPerPage
	}
	cfg.SlowDelay = cmp.Or(cfg.SlowDelay, DefaultSlowDelay)

	s := &Site{cfg: cfg, bySlug: map[string]int{}, byTag: map[string][]int{}}
	data := content()
	base := interleave(data)
	s.malformed, s.latin1 = base[0], base[1]
	for i := range cfg.Quotes {
		q := base[i%len(base)]
		q.Tags = slices.Clone(q.Tags)
		if round := i / len(base); round > 0 {
			q.Text = fmt.Sprintf("%s (#%d)", q.Text, round+1)
		}
		s.quotes = append(s.quotes, q)
	}
	for i, q := range s.quotes {
		if _, ok := s.bySlug[q.AuthorSlug]; !ok {
			for _, a := range data {
				if a.Slug == q.AuthorSlug {
					s.bySlug[a.Slug] = len(s.authors)
					s.authors = append(s.authors, author{a.Name, a.Slug, a.Born, a.Location, a.Description})
				}
			}
		}
		for _, t := range q.Tags {
			if _, ok := s.byTag[t]; !ok {
				s.topTags = append(s.topTags, t)
			}
			s.byTag[t] = append(s.byTag[t], i)
		}
	}
	slices.SortStableFunc(s.topTags, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(s.byTag[b]), len(s.byTag[a])), cmp.Compare(a, b))
	})
	s.tmpl = template.Must(template.New("site").Parse(templates)) // the templates are constants: a failure is a bug
	s.handler = s.routes()
	return s
}

// interleave lists the quotes of the authors round-robin: the first quote
// of every author, then the second of every author that has one, and so on.
func interleave(data []authorData) []Quote {
	var out []Quote
	for round := 0; ; round++ {
		added := false
		for _, a := range data {
			if round < len(a.Quotes) {
				q := a.Quotes[round]
				out = append(out, Quote{Text: q.Text, Author: a.Name, AuthorSlug: a.Slug, Tags: q.Tags})
				added = true
			}
		}
		if !added {
			return out
		}
	}
}

// Handler returns the site's HTTP handler.
func (s *Site) Handler() http.Handler { return s.handler }

// Quotes returns a copy of the site's quotes in listing order.
func (s *Site) Quotes() []Quote {
	out := make([]Quote, len(s.quotes))
	for i, q := range s.quotes {
		q.Tags = slices.Clone(q.Tags)
		out[i] = q
	}
	return out
}

// Pages returns the number of listing pages (/, /page/2/, ...), which is
// also the number of /api/quotes pages.
func (s *Site) Pages() int { return pages(len(s.quotes), s.cfg.PerPage) }

func pages(n, perPage int) int { return (n + perPage - 1) / perPage }

func (s *Site) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveIndex)
	mux.HandleFunc("GET /page/{n}/{$}", s.serveIndex)
	mux.HandleFunc("GET /tag/{tag}/{$}", s.serveTag)
	mux.HandleFunc("GET /tag/{tag}/page/{n}/{$}", s.serveTag)
	mux.HandleFunc("GET /author/{slug}/{$}", s.serveAuthor)
	mux.HandleFunc("GET /robots.txt", s.serveRobots)
	mux.HandleFunc("/login", s.serveLogin)
	mux.HandleFunc("/admin/", s.serveAdmin)
	mux.HandleFunc("GET /broken/500", s.serveBroken500)
	mux.HandleFunc("GET /broken/404", s.serveNotFound)
	mux.HandleFunc("GET /broken/malformed", s.serveMalformed)
	mux.HandleFunc("GET /broken/latin1", s.serveLatin1)
	mux.HandleFunc("GET /slow", s.serveSlow)
	mux.HandleFunc("GET /api/quotes", s.serveAPIQuotes)
	mux.HandleFunc("GET /api/authors", s.serveAPIAuthors)
	mux.HandleFunc("GET /api/broken", s.serveAPIBroken)
	mux.HandleFunc("GET /api/down", s.serveAPIDown)
	mux.HandleFunc("/", s.serveNotFound)
	return mux
}
