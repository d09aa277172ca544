package crawl_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/urlnorm"
)

// googleSuite is internal/robots/testdata/google_robotstxt.json: the verdict
// cases of google/robotstxt's robots_test.cc, which the robots package's
// TestGoogleCases runs through the matcher.
type googleSuite struct {
	Cases []struct {
		Test   string `json:"test"`
		Robots string `json:"robots"`
		Checks []googleCheck
	} `json:"cases"`
}

type googleCheck struct {
	Agent    string `json:"agent"`
	URL      string `json:"url"`
	Allowed  bool   `json:"allowed"`
	Note     string `json:"note"`
	UnitOnly string `json:"unit_only"`
	Sent     string `json:"sent"`
}

var (
	repeatRE = regexp.MustCompile(`\{\{(.)\*(\d+)\}\}`)
	octetRE  = regexp.MustCompile(`\\x[0-9A-Fa-f]{2}`)
)

// expand replaces {{X*N}} with N copies of X and \xHH with the octet, as
// the suite's "format" says.
func expand(s string) string {
	s = repeatRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := repeatRE.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[2])
		return strings.Repeat(sub[1], n)
	})
	return octetRE.ReplaceAllStringFunc(s, func(m string) string {
		v, _ := strconv.ParseUint(m[2:], 16, 8)
		return string([]byte{byte(v)})
	})
}

// target returns the path and query of an absolute URL exactly as written.
func target(u string) string {
	_, rest, _ := strings.Cut(u, "://")
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		return rest[i:]
	}
	return "/"
}

// crawlBatch is a set of checks one crawl can run: one robots.txt, one user
// agent, and URLs with distinct dedup keys (two URLs with one key are one
// page to the frontier, so "/%62az" and "/baz" need a crawl each).
type crawlBatch struct {
	name   string
	robots string
	agent  string
	checks []googleCheck
}

func googleBatches(t *testing.T) []crawlBatch {
	t.Helper()
	data, err := os.ReadFile("../robots/testdata/google_robotstxt.json")
	if err != nil {
		t.Fatal(err)
	}
	var suite googleSuite
	if err := json.Unmarshal(data, &suite); err != nil {
		t.Fatal(err)
	}
	var out []crawlBatch
	for i, c := range suite.Cases {
		type slot struct {
			agent string
			keys  map[string]bool
		}
		first := len(out)
		var slots []slot
	checks:
		for _, ch := range c.Checks {
			if ch.UnitOnly != "" {
				continue
			}
			key := urlnorm.Key(mustURL(t, "http://h.example"+target(expand(ch.URL))))
			for j, s := range slots {
				if s.agent == ch.Agent && !s.keys[key] {
					s.keys[key] = true
					out[first+j].checks = append(out[first+j].checks, ch)
					continue checks
				}
			}
			slots = append(slots, slot{agent: ch.Agent, keys: map[string]bool{key: true}})
			out = append(out, crawlBatch{
				name:   fmt.Sprintf("%02d_%s/%s_%d", i, c.Test, ch.Agent, len(slots)),
				robots: expand(c.Robots), agent: ch.Agent, checks: []googleCheck{ch},
			})
		}
	}
	return out
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestRobotsGoogleCasesEndToEnd runs the verdict cases of google/robotstxt
// through the crawler: a site serves the case's robots.txt, a crawl starts
// at the case's URLs with the case's user agent, and the site's request log
// says which were fetched; the others must have failed as "robots".
func TestRobotsGoogleCasesEndToEnd(t *testing.T) {
	t.Parallel()
	batches := googleBatches(t)
	if len(batches) < 50 {
		t.Fatalf("%d crawls, want the whole suite", len(batches))
	}
	for _, bt := range batches {
		t.Run(bt.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/robots.txt" {
					fmt.Fprint(w, bt.robots)
					return
				}
				fmt.Fprint(w, "<html><body>page</body></html>")
			}))
			var starts []string
			for _, ch := range bt.checks {
				starts = append(starts, s.URL+target(expand(ch.URL)))
			}
			startsJSON, err := json.Marshal(starts)
			if err != nil {
				t.Fatal(err)
			}
			agentJSON, _ := json.Marshal(bt.agent)
			b := setup(t, s.URL, fmt.Sprintf("name: robots\nstart_urls: %s\nfetch: {user_agent: %s, retries: 0}\n"+pageItems, startsJSON, agentJSON))
			b.crawl(t)

			failed, err := b.db.FailedPages(context.Background(), b.run.ID, 1000)
			if err != nil {
				t.Fatal(err)
			}
			gotFailed := map[string]string{}
			for _, p := range failed {
				gotFailed[p.URL] = p.ErrorClass
			}
			wantFailed := map[string]string{}
			for i, ch := range bt.checks {
				sent := cmpOr(ch.Sent, target(expand(ch.URL)))
				want := 0
				if ch.Allowed {
					want = 1
				} else {
					wantFailed[urlnorm.Key(mustURL(t, starts[i]))] = "robots"
				}
				if got := s.Hits(sent); got != want {
					t.Errorf("%.80q requested %d times, want %d (allowed: %v) %s", sent, got, want, ch.Allowed, ch.Note)
				}
			}
			if diff := cmp.Diff(wantFailed, gotFailed); diff != "" {
				t.Errorf("failed pages (-want +got):\n%.2000s", diff)
			}
			if got := s.Hits("/robots.txt"); got != 1 {
				t.Errorf("robots.txt requested %d times, want 1", got)
			}
		})
	}
}

// pageItems is the item rule of the spiders here, which only fetch.
const pageItems = "items: [{css: body, fields: {text: body}}]\n"

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// redirectSite serves robots and, for each "from" path, a 302 to "to".
func redirectSite(t *testing.T, robotsTxt string, redirects map[string]string) *site {
	t.Helper()
	return newSite(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			fmt.Fprint(w, robotsTxt)
			return
		}
		if to, ok := redirects[r.URL.RequestURI()]; ok {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		fmt.Fprint(w, "<html><body>page</body></html>")
	}))
}

func TestRobotsRedirectToDisallowedPathOnSameHost(t *testing.T) {
	t.Parallel()
	s := redirectSite(t, "User-agent: *\nDisallow: /private\n", map[string]string{
		"/start": "/private/x?b=2&a=1", "/fine": "/public",
	})
	b := setup(t, s.URL, `
name: redirects
start_urls: ["{{URL}}/start", "{{URL}}/fine"]
fetch: {retries: 0}
`+pageItems)
	stats := b.crawl(t)
	if got := s.Hits("/private/x?b=2&a=1"); got != 0 {
		t.Errorf("disallowed redirect target requested %d times, want 0", got)
	}
	if got := s.Hits("/public"); got != 1 {
		t.Errorf("allowed redirect target requested %d times, want 1", got)
	}
	failed, err := b.db.FailedPages(context.Background(), b.run.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0].URL != s.URL+"/start" || failed[0].ErrorClass != "robots" {
		t.Fatalf("failed pages = %+v, want %s/start as robots", failed, s.URL)
	}
	if want := "redirect 1 to " + s.URL + "/private/x?b=2&a=1: disallowed by robots.txt"; failed[0].Error != want {
		t.Errorf("error = %q, want %q", failed[0].Error, want)
	}
	if stats.Errors["robots"] != 1 || stats.Pages != 2 {
		t.Errorf("stats = %+v, want 2 pages, 1 robots error", stats)
	}
}

func TestRobotsRedirectToAnotherHost(t *testing.T) {
	t.Parallel()
	other := redirectSite(t, "User-agent: *\nDisallow: /no\n", map[string]string{"/hop": "/no/x"})
	first := redirectSite(t, "", map[string]string{
		"/a": other.URL + "/ok/1", "/b": other.URL + "/ok/2", "/c": other.URL + "/no/3", "/d": other.URL + "/hop",
	})
	b := setup(t, first.URL, fmt.Sprintf(`
name: redirects
start_urls: ["{{URL}}/a", "{{URL}}/b", "{{URL}}/c", "{{URL}}/d"]
scope: {hosts: [%s, %s]}
fetch: {retries: 0}
politeness: {concurrency_per_host: 4}
`+pageItems, strings.TrimPrefix(first.URL, "http://"), strings.TrimPrefix(other.URL, "http://")))
	stats := b.crawl(t)

	// The second host's robots.txt is fetched once, by the first hop that
	// reaches it, however many pages redirect there at once.
	if got := other.Hits("/robots.txt"); got != 1 {
		t.Errorf("second host's robots.txt requested %d times, want 1", got)
	}
	for uri, want := range map[string]int{"/ok/1": 1, "/ok/2": 1, "/no/3": 0, "/hop": 1, "/no/x": 0} {
		if got := other.Hits(uri); got != want {
			t.Errorf("second host %s requested %d times, want %d", uri, got, want)
		}
	}
	failed, err := b.db.FailedPages(context.Background(), b.run.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range failed {
		got = append(got, p.URL+" "+p.ErrorClass+": "+p.Error)
	}
	slices.Sort(got)
	want := []string{
		first.URL + "/c robots: redirect 1 to " + other.URL + "/no/3: disallowed by robots.txt",
		first.URL + "/d robots: redirect 2 to " + other.URL + "/no/x: disallowed by robots.txt",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("failed pages (-want +got):\n%s", diff)
	}
	if stats.Errors["robots"] != 2 {
		t.Errorf("robots errors = %d, want 2", stats.Errors["robots"])
	}
}

func TestRobotsIgnoredFollowsRedirects(t *testing.T) {
	t.Parallel()
	s := redirectSite(t, "User-agent: *\nDisallow: /\n", map[string]string{"/start": "/private"})
	b := setup(t, s.URL, `
name: redirects
start_urls: ["{{URL}}/start"]
politeness: {robots: ignore}
`+pageItems)
	if stats := b.crawl(t); len(stats.Errors) != 0 {
		t.Errorf("errors = %v, want none", stats.Errors)
	}
	if got := s.Hits("/private"); got != 1 || s.Hits("/robots.txt") != 0 {
		t.Errorf("/private requested %d times, robots.txt %d times; want 1 and 0", got, s.Hits("/robots.txt"))
	}
}
