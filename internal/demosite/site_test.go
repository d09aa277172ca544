package demosite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html/charset"

	"github.com/trawl-dev/trawl/internal/demosite"
)

type testBundle struct {
	site *demosite.Site
	srv  *httptest.Server
}

func setup(t *testing.T, cfg demosite.Config) *testBundle {
	t.Helper()
	site := demosite.New(cfg)
	srv := httptest.NewServer(site.Handler())
	t.Cleanup(srv.Close)
	return &testBundle{site: site, srv: srv}
}

// get fetches path and returns the response with its body read.
func (b *testBundle) get(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := b.srv.Client().Get(b.srv.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", path, err)
	}
	return resp, body
}

// doc fetches an HTML page, checks its status and parses it, decoding its
// charset like a browser would.
func (b *testBundle) doc(t *testing.T, path string, status int) *goquery.Document {
	t.Helper()
	resp, body := b.get(t, path)
	if resp.StatusCode != status {
		t.Fatalf("GET %s: status %d, want %d", path, resp.StatusCode, status)
	}
	r, err := charset.NewReader(bytes.NewReader(body), resp.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("GET %s: charset: %v", path, err)
	}
	d, err := goquery.NewDocumentFromReader(r)
	if err != nil {
		t.Fatalf("GET %s: parse: %v", path, err)
	}
	return d
}

// pageQuotes extracts the quotes of a listing page the way the example
// spider does, with the curly quotation marks removed.
func pageQuotes(t *testing.T, d *goquery.Document) []demosite.Quote {
	t.Helper()
	var out []demosite.Quote
	d.Find("div.quote").Each(func(_ int, s *goquery.Selection) {
		text := s.Find("span.text").First().Text()
		if !strings.HasPrefix(text, "“") || !strings.HasSuffix(text, "”") {
			t.Errorf("quote text %q lacks curly quotation marks", text)
		}
		href, _ := s.Find(`a[href^="/author/"]`).Attr("href")
		q := demosite.Quote{
			Text:       strings.TrimSuffix(strings.TrimPrefix(text, "“"), "”"),
			Author:     s.Find("small.author").Text(),
			AuthorSlug: strings.TrimSuffix(strings.TrimPrefix(href, "/author/"), "/"),
		}
		s.Find("a.tag").Each(func(_ int, a *goquery.Selection) {
			q.Tags = append(q.Tags, a.Text())
			if got, want := a.AttrOr("href", ""), "/tag/"+a.Text()+"/"; got != want {
				t.Errorf("tag link %q, want %q", got, want)
			}
		})
		out = append(out, q)
	})
	return out
}

func TestListingPages(t *testing.T) {
	t.Parallel()
	b := setup(t, demosite.Config{})
	quotes := b.site.Quotes()
	if got, want := b.site.Pages(), 10; got != want {
		t.Fatalf("Pages = %d, want %d", got, want)
	}
	for n := 1; n <= b.site.Pages(); n++ {
		path := fmt.Sprintf("/page/%d/", n)
		d := b.doc(t, path, http.StatusOK)
		got := pageQuotes(t, d)
		if diff := cmp.Diff(quotes[(n-1)*10:n*10], got); diff != "" {
			t.Errorf("%s quotes mismatch (-want +got):\n%s", path, diff)
		}
		next, hasNext := d.Find("li.next > a").Attr("href")
		if wantNext := fmt.Sprintf("/page/%d/", n+1); hasNext != (n < 10) || (hasNext && next != wantNext) {
			t.Errorf("%s next = %q, %v; want %q unless last", path, next, hasNext, wantNext)
		}
		prev, hasPrev := d.Find("li.previous > a").Attr("href")
		if wantPrev := fmt.Sprintf("/page/%d/", n-1); hasPrev != (n > 1) || (hasPrev && prev != wantPrev) {
			t.Errorf("%s previous = %q, %v; want %q unless first", path, prev, hasPrev, wantPrev)
		}
	}
	_, root := b.get(t, "/")
	_, first := b.get(t, "/page/1/")
	if !bytes.Equal(root, first) {
		t.Error("/ and /page/1/ differ")
	}
}

// TestFollowNext crawls the pager from / like the example spider and
// expects every quote exactly once, in order.
func TestFollowNext(t *testing.T) {
	t.Parallel()
	for _, cfg := range []demosite.Config{{}, {Quotes: 25, PerPage: 7}, {Quotes: 3, PerPage: 5}, {Quotes: 230}} {
		t.Run(fmt.Sprintf("%d/%d", cfg.Quotes, cfg.PerPage), func(t *testing.T) {
			t.Parallel()
			b := setup(t, cfg)
			var got []demosite.Quote
			pagesSeen := 0
			for path := "/"; path != ""; {
				d := b.doc(t, path, http.StatusOK)
				got = append(got, pageQuotes(t, d)...)
				pagesSeen++
				path = d.Find("li.next > a").AttrOr("href", "")
				if pagesSeen > 100 {
					t.Fatal("pager does not end")
				}
			}
			if diff := cmp.Diff(b.site.Quotes(), got); diff != "" {
				t.Errorf("quotes mismatch (-want +got):\n%s", diff)
			}
			if pagesSeen != b.site.Pages() {
				t.Errorf("followed %d pages, Pages = %d", pagesSeen, b.site.Pages())
			}
		})
	}
}

func TestPerPage(t *testing.T) {
	t.Parallel()
	b := setup(t, demosite.Config{Quotes: 25, PerPage: 7})
	for n, want := range map[int]int{1: 7, 2: 7, 3: 7, 4: 4} {
		d := b.doc(t, fmt.Sprintf("/page/%d/", n), http.StatusOK)
		if got := d.Find("div.quote").Length(); got != want {
			t.Errorf("page %d has %d quotes, want %d", n, got, want)
		}
	}
}

func TestTagPages(t *testing.T) {
	t.Parallel()
	b := setup(t, demosite.Config{PerPage: 4})
	byTag := map[string][]demosite.Quote{}
	for _, q := range b.site.Quotes() {
		for _, tag := range q.Tags {
			byTag[tag] = append(byTag[tag], q)
		}
	}
	if len(byTag) != 12 {
		t.Errorf("site has %d tags, want 12", len(byTag))
	}
	for tag, want := range byTag {
		var got []demosite.Quote
		for path := "/tag/" + tag + "/"; path != ""; {
			d := b.doc(t, path, http.StatusOK)
			if h := d.Find("h3").Text(); !strings.Contains(h, tag) {
				t.Errorf("%s heading %q does not name the tag", path, h)
			}
			got = append(got, pageQuotes(t, d)...)
			path = d.Find("li.next > a").AttrOr("href", "")
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("tag %s quotes mismatch (-want +got):\n%s", tag, diff)
		}
	}
	b.doc(t, "/tag/no-such-tag/", http.StatusNotFound)
	b.doc(t, "/tag/love/page/99/", http.StatusNotFound)
}

func TestAuthorPages(t *testing.T) {
	t.Parallel()
	b := setup(t, demosite.Config{})
	seen := map[string]bool{}
	for _, q := range b.site.Quotes() {
		if seen[q.AuthorSlug] {
			continue
		}
		seen[q.AuthorSlug] = true
		d := b.doc(t, "/author/"+q.AuthorSlug+"/", http.StatusOK)
		if got := d.Find("h3.author-title").Text(); got != q.Author {
			t.Errorf("author-title = %q, want %q", got, q.Author)
		}
		for _, sel := range []string{"span.author-born-date", "span.author-born-location", "div.author-description"} {
			if strings.TrimSpace(d.Find(sel).Text()) == "" {
				t.Errorf("author %s: %s is empty", q.AuthorSlug, sel)
			}
		}
	}
	if len(seen) < 20 {
		t.Errorf("%d authors, want at least 20", len(seen))
	}
	d := b.doc(t, "/author/rene-descartes/", http.StatusOK)
	if got, want := d.Find("span.author-born-date").Text(), "March 31, 1596"; got != want {
		t.Errorf("born date = %q, want %q", got, want)
	}
	b.doc(t, "/author/nobody/", http.StatusNotFound)
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t, demosite.Config{})
	for _, path := range []string{"/page/0/", "/page/11/", "/page/01/", "/page/x/", "/nope", "/broken/404", "/api/nope"} {
		resp, _ := b.get(t, path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestRobots(t *testing.T) {
	t.Parallel()
	b := setup(t, demosite.Config{})
	resp, body := b.get(t, "/robots.txt")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("robots.txt: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var lines []string
	for l := range strings.SplitSeq(string(body), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	want := []string{"User-agent: *", "Disallow: /login", "Disallow: /admin/"}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("robots.txt rules (-want +got):\n%s", diff)
	}
	d := b.doc(t, "/login", http.StatusOK)
	if d.Find(`form input[type="password"]`).Length() != 1 {
		t.Error("/login has no password field")
	}
	b.doc(t, "/admin/", http.StatusForbidden)
}

func TestFooterLinksOnEveryPage(t *testing.T) {
	t.Parallel()
	b := setup(t, demosite.Config{})
	want := []string{"/broken/500", "/broken/404", "/broken/malformed", "/broken/latin1", "/slow"}
	pages := map[string]int{
		"/": 200, "/page/3/": 200, "/tag/love/": 200, "/author/mark-twain/": 200, "/login": 200,
		"/nope": 404, "/broken/500": 500, "/broken/malformed": 200, "/broken/latin1": 200, "/admin/": 403,
	}
	for path, status := range pages {
		d := b.doc(t, path, status)
		var got []string
		d.Find("footer a").Each(func(_ int, s *goquery.Selection) { got = append(got, s.AttrOr("href", "")) })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s footer links (-want +got):\n%s", path, diff)
		}
	}
}

func TestMalformed(t *testing.T) {
	t.Parallel()
	b := setup(t, demosite.Config{})
	d := b.doc(t, "/broken/malformed", http.StatusOK)
	got := pageQuotes(t, d)
	if diff := cmp.Diff(b.site.Quotes()[:1], got); diff != "" {
		t.Errorf("malformed page quotes (-want +got):\n%s", diff)
	}
}

func TestLatin1(t *testing.T) {
	t.Parallel()
	b := setup(t, demosite.Config{})
	resp, body := b.get(t, "/broken/latin1")
	if got := resp.Header.Get("Content-Type"); got != "text/html" {
		t.Errorf("Content-Type = %q, want %q (the charset is declared only in the page)", got, "text/html")
	}
	if utf8.Valid(body) {
		t.Error("body is valid UTF-8, want ISO-8859-1")
	}
	if !bytes.Contains(body, []byte("\xe9ternel")) || !bytes.Contains(body, []byte(`<meta charset="iso-8859-1">`)) {
		t.Error("body lacks the Latin-1 é or the meta charset")
	}
	d := b.doc(t, "/broken/latin1", http.StatusOK)
	got := pageQuotes(t, d)
	want := b.site.Quotes()[1:2]
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("latin1 page quotes (-want +got):\n%s", diff)
	}
	if !strings.Contains(want[0].Text, "é") {
		t.Errorf("quote %q has no accent", want[0].Text)
	}
}

func TestSlow(t *testing.T) {
	t.Parallel()
	t.Run("waits", func(t *testing.T) {
		t.Parallel()
		b := setup(t, demosite.Config{SlowDelay: 50 * time.Millisecond})
		start := time.Now()
		resp, _ := b.get(t, "/slow")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status %d, want 200", resp.StatusCode)
		}
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Errorf("answered after %v, want at least 50ms", d)
		}
	})
	t.Run("honours cancellation", func(t *testing.T) {
		t.Parallel()
		site := demosite.New(demosite.Config{SlowDelay: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/slow", nil)
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			site.Handler().ServeHTTP(rec, req)
		}()
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("/slow did not return after its request was canceled")
		}
		if rec.Body.Len() != 0 {
			t.Errorf("canceled /slow wrote %q", rec.Body.String())
		}
	})
}

// apiQuotes is the shape of /api/quotes.
type apiQuotes struct {
	Quotes []struct {
		Text   string `json:"text"`
		Author struct {
			Name string `json:"name"`
			Slug string `json:"slug"`
		} `json:"author"`
		Tags []string `json:"tags"`
	} `json:"quotes"`
	Page int     `json:"page"`
	Next *string `json:"next"`
}

func TestAPIQuotes(t *testing.T) {
	t.Parallel()
	for _, cfg := range []demosite.Config{{}, {Quotes: 25, PerPage: 7}} {
		t.Run(fmt.Sprintf("%d/%d", cfg.Quotes, cfg.PerPage), func(t *testing.T) {
			t.Parallel()
			b := setup(t, cfg)
			base, err := url.Parse(b.srv.URL + "/api/quotes?page=1")
			if err != nil {
				t.Fatal(err)
			}
			var got []demosite.Quote
			page := 0
			for u := base; u != nil; {
				resp, body := b.get(t, u.RequestURI())
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
					t.Fatalf("GET %s: %d %s", u, resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				var r apiQuotes
				if err := json.Unmarshal(body, &r); err != nil {
					t.Fatalf("GET %s: %v", u, err)
				}
				page++
				if r.Page != page {
					t.Errorf("page = %d, want %d", r.Page, page)
				}
				for _, q := range r.Quotes {
					got = append(got, demosite.Quote{Text: q.Text, Author: q.Author.Name, AuthorSlug: q.Author.Slug, Tags: q.Tags})
				}
				u = nil
				if r.Next != nil {
					if u, err = base.Parse(*r.Next); err != nil {
						t.Fatal(err)
					}
				}
			}
			if diff := cmp.Diff(b.site.Quotes(), got); diff != "" {
				t.Errorf("api quotes mismatch (-want +got):\n%s", diff)
			}
			if page != b.site.Pages() {
				t.Errorf("%d api pages, want %d", page, b.site.Pages())
			}
		})
	}
	b := setup(t, demosite.Config{})
	for path, status := range map[string]int{
		"/api/quotes": 200, "/api/quotes?page=0": 404, "/api/quotes?page=11": 404, "/api/quotes?page=x": 400,
	} {
		resp, body := b.get(t, path)
		if resp.StatusCode != status || !json.Valid(body) {
			t.Errorf("GET %s: status %d (want %d), valid json %v", path, resp.StatusCode, status, json.Valid(body))
		}
	}
}

func TestAPIAuthors(t *testing.T) {
	t.Parallel()
	b := setup(t, demosite.Config{})
	resp, body := b.get(t, "/api/authors")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var r struct {
		Authors []struct{ Name, Slug, Born string } `json:"authors"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, q := range b.site.Quotes() {
		if !slices.Contains(want, q.AuthorSlug) {
			want = append(want, q.AuthorSlug)
		}
	}
	for _, a := range r.Authors {
		got = append(got, a.Slug)
		if a.Name == "" || a.Born == "" {
			t.Errorf("author %+v lacks a name or a birth date", a)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("authors (-want +got):\n%s", diff)
	}
}

func TestAPIBrokenAndDown(t *testing.T) {
	t.Parallel()
	b := setup(t, demosite.Config{})
	resp, body := b.get(t, "/api/broken")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || json.Valid(body) {
		t.Errorf("/api/broken: %d %s, valid json %v; want 200 application/json, invalid", resp.StatusCode, resp.Header.Get("Content-Type"), json.Valid(body))
	}
	resp, _ = b.get(t, "/api/down")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/api/down: status %d, want 503", resp.StatusCode)
	}
}

func TestContent(t *testing.T) {
	t.Parallel()
	quotes := demosite.New(demosite.Config{}).Quotes()
	if len(quotes) != 100 {
		t.Fatalf("%d quotes, want 100", len(quotes))
	}
	texts := map[string]bool{}
	var commas, dquotes, newlines int
	for _, q := range quotes {
		if texts[q.Text] {
			t.Errorf("duplicate text %q", q.Text)
		}
		texts[q.Text] = true
		if strings.Contains(q.Text, " (#") {
			t.Errorf("default quote %q has a repeat suffix", q.Text)
		}
		if len(q.Tags) == 0 || q.Author == "" || q.AuthorSlug == "" {
			t.Errorf("incomplete quote %+v", q)
		}
		if strings.Contains(q.Text, ",") {
			commas++
		}
		if strings.Contains(q.Text, `"`) {
			dquotes++
		}
		if strings.Contains(q.Text, "\n") {
			newlines++
		}
	}
	if commas < 3 || dquotes < 3 || newlines != 1 {
		t.Errorf("%d texts with commas, %d with double quotes, %d with a newline; want >= 3, >= 3, 1", commas, dquotes, newlines)
	}

	many := demosite.New(demosite.Config{Quotes: 250}).Quotes()
	seen := map[string]bool{}
	for _, q := range many {
		if seen[q.Text] {
			t.Errorf("duplicate text %q among 250", q.Text)
		}
		seen[q.Text] = true
	}
	if diff := cmp.Diff(quotes, many[:100]); diff != "" {
		t.Errorf("the first 100 of 250 quotes differ from the default (-want +got):\n%s", diff)
	}
}

func TestQuotesReturnsACopy(t *testing.T) {
	t.Parallel()
	site := demosite.New(demosite.Config{})
	q := site.Quotes()
	q[0].Text = "changed"
	q[0].Tags[0] = "changed"
	again := site.Quotes()
	if again[0].Text == "changed" || again[0].Tags[0] == "changed" {
		t.Error("Quotes exposes the site's own slices")
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	a := setup(t, demosite.Config{})
	b := setup(t, demosite.Config{})
	if diff := cmp.Diff(a.site.Quotes(), b.site.Quotes()); diff != "" {
		t.Errorf("two sites differ (-a +b):\n%s", diff)
	}
	for _, path := range []string{"/", "/page/7/", "/tag/life/page/2/", "/author/jane-austen/", "/broken/latin1", "/broken/malformed", "/api/quotes?page=3", "/api/authors"} {
		_, x := a.get(t, path)
		_, y := b.get(t, path)
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two sites", path)
		}
	}
}
