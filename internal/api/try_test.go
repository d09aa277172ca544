package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/api"
	"github.com/trawl-dev/trawl/internal/dryrun"
	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/spider"
)

// trySite serves one page with two items and links of two rules, in and
// out of scope, and a second page.
func trySite(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/":
			io.WriteString(w, `<html><div class="q"><b>one</b></div><div class="q"><b>two</b></div>
				<a class="nav" href="/p/2">2</a><a class="nav" href="/private/x">x</a>
				<a class="ext" href="https://elsewhere.example/">e</a><a class="ext" href="/p/2">again</a></html>`)
		case "/p/2":
			io.WriteString(w, `<html><div class="q"><b>three</b></div></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s, &hits
}

func trySpider(base string) string {
	return fmt.Sprintf(`name: try
start_urls: [%q]
scope: {deny: ['^/private']}
follow: [{css: a.nav}, {css: a.ext}]
items:
  - css: div.q
    fields: {text: b}
  - css: div.none
    fields: {text: b}
fetch: {retries: 0}
`, base+"/")
}

func tryBody(t *testing.T, sp, url string) string {
	t.Helper()
	b, err := json.Marshal(map[string]string{"spider": sp, "url": url})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTry: POST /v1/try lists exactly the page's items, each follow rule's
// links with the frontier's verdict, and the item rules matched; an
// invalid spider is 422 like PUT; the private-network guard of the
// server's client applies; nothing is stored.
func TestTry(t *testing.T) {
	t.Parallel()
	site, tryHits := trySite(t)
	fc := fetch.New(fetch.Config{})
	t.Cleanup(fc.Close)
	guarded := fetch.New(fetch.Config{BlockPrivateNetworks: true})
	t.Cleanup(guarded.Close)
	b := setup(t, func(c *api.Config) {
		c.DryRunFunc = func(ctx context.Context, sp *spider.Spider, u string) (*dryrun.Result, error) {
			if strings.HasSuffix(u, "#guarded") {
				return dryrun.Try(ctx, guarded, sp, u)
			}
			return dryrun.Try(ctx, fc, sp, u)
		}
	})
	const ct = "application/json"
	var got dryrun.Result
	first := b.do(t, "POST", "/v1/try", tryBody(t, trySpider(site.URL), ""), "Content-Type", ct)
	first.mustJSON(t, 200, &got)
	var items struct{ Items []json.RawMessage }
	first.mustJSON(t, 200, &items)
	want := dryrun.Result{URL: site.URL + "/", Status: 200, Problems: []spider.Problem{},
		Links: []dryrun.Link{
			{Rule: 0, URL: site.URL + "/p/2", InScope: true, Followed: true, Reason: "followed: queued at depth 1 (from a start URL)"},
			{Rule: 0, URL: site.URL + "/private/x", Reason: "out of scope: matches scope.deny[0] (^/private)"},
			{Rule: 1, URL: "https://elsewhere.example/", Reason: "out of scope: host elsewhere.example is not in scope.hosts"},
			{Rule: 1, URL: site.URL + "/p/2", InScope: true, Followed: true, Reason: "followed: queued at depth 1 (from a start URL)"},
		},
		Rules: []dryrun.Rule{{Rule: 0, Kind: "item", Matched: true, Count: 2}, {Rule: 1, Kind: "item", Matched: false, Count: 0}},
	}
	got.Items = nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("try (-want +got):\n%s", diff)
	}
	raw, _ := json.Marshal(items.Items)
	if wantItems := fmt.Sprintf(`[{"text":"one","_url":"%[1]s/"},{"text":"two","_url":"%[1]s/"}]`, site.URL); string(raw) != wantItems {
		t.Errorf("items = %s, want %s", raw, wantItems)
	}

	// Another page of the site, given by URL.
	b.do(t, "POST", "/v1/try", tryBody(t, trySpider(site.URL), site.URL+"/p/2"), "Content-Type", ct).mustJSON(t, 200, &got)
	if got.Status != 200 || len(got.Items) != 1 || len(got.Links) != 0 || len(got.Problems) != 0 {
		t.Errorf("try /p/2 = %+v, want one item and no link", got)
	}
	// A failed fetch is a problem of the result, with its status.
	b.do(t, "POST", "/v1/try", tryBody(t, trySpider(site.URL), site.URL+"/missing"), "Content-Type", ct).mustJSON(t, 200, &got)
	if got.Status != 404 || len(got.Problems) != 1 || !strings.Contains(got.Problems[0].Message, "http_4xx") || len(got.Items) != 0 {
		t.Errorf("try /missing = %+v, want status 404 and one problem", got)
	}
	// The server's private-network guard applies.
	b.do(t, "POST", "/v1/try", tryBody(t, trySpider(site.URL), site.URL+"/#guarded"), "Content-Type", ct).mustJSON(t, 200, &got)
	if got.Status != 0 || len(got.Problems) != 1 || !strings.Contains(got.Problems[0].Message, "blocked_network") {
		t.Errorf("guarded try = %+v, want a blocked_network problem", got)
	}

	// Invalid spider: 422 with every problem, as PUT answers.
	p := b.do(t, "POST", "/v1/try", tryBody(t, "name: x\nstart_urls: [nope]\nbogus: 1\n", ""), "Content-Type", ct).
		mustProblem(t, 422, "invalid_spider")
	if len(p.Errors) < 2 || p.Errors[0].Line == 0 {
		t.Errorf("problems = %+v, want each with its line", p.Errors)
	}
	b.do(t, "POST", "/v1/try", tryBody(t, trySpider(site.URL), "ftp://x/"), "Content-Type", ct).mustProblem(t, 400, "invalid")
	b.do(t, "POST", "/v1/try", "", "Content-Type", ct).mustProblem(t, 400, "invalid")
	b.do(t, "POST", "/v1/try", `{"spider":"x","extra":1}`, "Content-Type", ct).mustProblem(t, 400, "invalid")
	b.do(t, "POST", "/v1/try", "name: x", "Content-Type", "application/yaml").mustProblem(t, 415, "unsupported_media_type")

	// Validation only: nothing is fetched, the answer is empty or 422.
	hits := tryHits.Load()
	vo := func(spiderText string) string {
		b, _ := json.Marshal(map[string]any{"spider": spiderText, "validate_only": true})
		return string(b)
	}
	var valid dryrun.Result
	b.do(t, "POST", "/v1/try", vo(trySpider(site.URL)), "Content-Type", ct).mustJSON(t, 200, &valid)
	if valid.Status != 0 || len(valid.Items)+len(valid.Links)+len(valid.Rules)+len(valid.Problems) != 0 {
		t.Errorf("validate_only of a valid spider = %+v, want nothing tried", valid)
	}
	b.do(t, "POST", "/v1/try", vo("name: x\nbogus: 1\n"), "Content-Type", ct).mustProblem(t, 422, "invalid_spider")
	if got := tryHits.Load(); got != hits {
		t.Errorf("validate_only fetched %d pages, want none", got-hits)
	}

	// Nothing stored.
	var sets struct{ Datasets []json.RawMessage }
	b.do(t, "GET", "/v1/datasets", "").mustJSON(t, 200, &sets)
	var runs struct{ Runs []json.RawMessage }
	b.do(t, "GET", "/v1/runs", "").mustJSON(t, 200, &runs)
	if len(sets.Datasets) != 0 || len(runs.Runs) != 0 {
		t.Errorf("a dry run stored something: datasets %d, runs %d", len(sets.Datasets), len(runs.Runs))
	}
}

// TestTryNotEnabled: without a DryRunFunc, a valid try is 503.
func TestTryNotEnabled(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.do(t, "POST", "/v1/try", tryBody(t, trySpider("http://127.0.0.1:1"), ""), "Content-Type", "application/json").
		mustProblem(t, 503, "unavailable")
}
