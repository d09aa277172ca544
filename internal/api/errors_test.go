package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/api"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// seedQuotes stores a quotes dataset with one finished run through the
// store, and a stored spider "quotes".
func seedQuotes(t *testing.T, b *bundle) *trawl.Run {
	t.Helper()
	ctx := context.Background()
	r, err := b.db.CreateRun(ctx, store.CreateRunParams{Spider: "quotes", SpecHash: "h", Columns: []string{"text", "author", "limit"},
		StartURLs: []store.NewURL{{URL: "http://q.example/", Host: "q.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := b.db.QueuedPages(ctx, r.ID, "q.example", 0, 10)
	if err != nil || len(pages) != 1 {
		t.Fatalf("queued pages: %v %v", pages, err)
	}
	items := []trawl.Item{
		{Key: "a", URL: "http://q.example/a", Fields: []trawl.Field{{Name: "text", Value: "a"}, {Name: "author", Value: "Ann"}, {Name: "limit", Value: "5"}}},
		{Key: "b", URL: "http://q.example/b", Fields: []trawl.Field{{Name: "text", Value: "b"}, {Name: "author", Value: "Bob"}, {Name: "limit", Value: "7"}}},
	}
	if _, err := b.db.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "quotes",
		Pages: []store.PageResult{{PageID: pages[0].ID, Status: 200, Items: items}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.db.FinishRun(ctx, r.ID, trawl.RunSucceeded, ""); err != nil {
		t.Fatal(err)
	}
	b.do(t, "PUT", "/v1/spiders/quotes", spiderYAML("quotes", "http://q.example"), "Content-Type", "application/yaml").mustJSON(t, 201, nil)
	return r
}

// TestBadRequests: every malformed or impossible request is answered with
// problem+json, the right status and code, and a detail saying what to fix.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *api.Config) { c.MaxBodyBytes = 4 << 10 })
	run := seedQuotes(t, b)
	big := spiderYAML("quotes", "http://q.example") + "# " + strings.Repeat("x", 5<<10) + "\n"
	yamlCT := []string{"Content-Type", "application/yaml"}
	jsonCT := []string{"Content-Type", "application/json"}
	tests := []struct {
		name, method, path, body string
		header                   []string
		status                   int
		code                     string
		detail                   string // a part of the detail
	}{
		{"unknown route", "GET", "/v1/nope", "", nil, 404, "not_found", "no route"},
		{"unknown top route", "GET", "/nope", "", nil, 404, "not_found", "no route"},
		{"unknown spider", "GET", "/v1/spiders/nope", "", nil, 404, "not_found", "nope"},
		{"delete unknown spider", "DELETE", "/v1/spiders/nope", "", nil, 404, "not_found", "nope"},
		{"run of unknown spider", "POST", "/v1/spiders/nope/runs", "", nil, 404, "not_found", "nope"},
		{"unknown run", "GET", "/v1/runs/999", "", nil, 404, "not_found", "999"},
		{"malformed run id", "GET", "/v1/runs/abc", "", nil, 404, "not_found", "abc"},
		{"events of unknown run", "GET", "/v1/runs/999/events", "", nil, 404, "not_found", "999"},
		{"cancel unknown run", "POST", "/v1/runs/999/cancel", "", nil, 404, "not_found", "999"},
		{"cancel finished run", "POST", fmt.Sprintf("/v1/runs/%d/cancel", run.ID), "", nil, 409, "conflict", "finished"},
		{"unknown dataset", "GET", "/v1/datasets/nope/items", "", nil, 404, "not_found", "nope"},
		{"unknown dataset csv", "GET", "/v1/datasets/nope/items.csv", "", nil, 404, "not_found", "nope"},
		{"unknown dataset jsonl", "GET", "/v1/datasets/nope/items.jsonl", "", nil, 404, "not_found", "nope"},
		{"values of unknown dataset", "GET", "/v1/datasets/nope/fields/a", "", nil, 404, "not_found", "nope"},

		{"malformed JSON", "POST", "/v1/spiders/quotes/runs", `{"run_at":`, jsonCT, 400, "invalid", "malformed JSON"},
		{"JSON not an object", "POST", "/v1/spiders/quotes/runs", `[1]`, jsonCT, 400, "invalid", "object"},
		{"unknown JSON field", "POST", "/v1/spiders/quotes/runs", `{"run_at":"2030-01-01T00:00:00Z","force":true}`, jsonCT, 400, "invalid", `unknown field "force"`},
		{"data after JSON", "POST", "/v1/spiders/quotes/runs", `{} {}`, jsonCT, 400, "invalid", "after"},
		{"bad run_at", "POST", "/v1/spiders/quotes/runs", `{"run_at":"tomorrow"}`, jsonCT, 400, "invalid", "run_at"},
		{"wrong content type", "POST", "/v1/spiders/quotes/runs", `{}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", "application/json"},
		{"body of cancel", "POST", fmt.Sprintf("/v1/runs/%d/cancel", run.ID), `{"now":1}`, jsonCT, 400, "invalid", "unknown field"},
		{"oversized spider", "PUT", "/v1/spiders/quotes", big, yamlCT, 413, "too_large", "4 KiB"},
		{"oversized run body", "POST", "/v1/spiders/quotes/runs", `{"run_at":"` + strings.Repeat("x", 5<<10) + `"}`, jsonCT, 413, "too_large", "4 KiB"},

		{"bad runs cursor", "GET", "/v1/runs?cursor=garbage", "", nil, 400, "invalid", "cursor"},
		{"spiders cursor on runs", "GET", "/v1/runs?cursor=czE6cXVvdGVz", "", nil, 400, "invalid", "cursor"},
		{"bad spiders cursor", "GET", "/v1/spiders?cursor=%21%21", "", nil, 400, "invalid", "cursor"},
		{"bad items cursor", "GET", "/v1/datasets/quotes/items?cursor=garbage", "", nil, 400, "invalid", "cursor"},
		{"zero limit", "GET", "/v1/runs?limit=0", "", nil, 400, "invalid", "limit"},
		{"huge limit", "GET", "/v1/datasets/quotes/items?limit=1001", "", nil, 400, "invalid", "1000"},
		{"export limit not a number", "GET", "/v1/datasets/quotes/items.jsonl?limit=all", "", nil, 400, "invalid", "limit"},
		{"limit not a number", "GET", "/v1/spiders?limit=ten", "", nil, 400, "invalid", "limit"},
		{"unknown status", "GET", "/v1/runs?status=done", "", nil, 400, "invalid", "done"},
		{"unknown runs parameter", "GET", "/v1/runs?spidr=quotes", "", nil, 400, "invalid", "spidr"},
		{"repeated runs parameter", "GET", "/v1/runs?spider=a&spider=b", "", nil, 400, "invalid", "once"},
		{"unknown field filter", "GET", "/v1/datasets/quotes/items?auhtor=Ann", "", nil, 400, "invalid", "auhtor"},
		{"unknown field in export", "GET", "/v1/datasets/quotes/items.csv?auhtor=Ann", "", nil, 400, "invalid", "auhtor"},
		{"unknown projection field", "GET", "/v1/datasets/quotes/items?fields=text,nope", "", nil, 400, "invalid", "nope"},
		{"empty projection field", "GET", "/v1/datasets/quotes/items?fields=text,,author", "", nil, 400, "invalid", "fields"},
		{"repeated filter", "GET", "/v1/datasets/quotes/items?author=Ann&author=Bob", "", nil, 400, "invalid", "once"},
		{"field filtered twice", "GET", "/v1/datasets/quotes/items?author=Ann&where=author%3DBob", "", nil, 400, "invalid", "once"},
		{"where without value", "GET", "/v1/datasets/quotes/items?where=author", "", nil, 400, "invalid", "where"},
		{"bad match", "GET", "/v1/datasets/quotes/items?match=fuzzy", "", nil, 400, "invalid", "fold"},
		{"bad since", "GET", "/v1/datasets/quotes/items?since=yesterday", "", nil, 400, "invalid", "since"},
		{"repeated limit", "GET", "/v1/datasets/quotes/items?limit=1&limit=2", "", nil, 400, "invalid", "once"},
		{"malformed query", "GET", "/v1/datasets/quotes/items?author=%zz", "", nil, 400, "invalid", "query"},
		{"values of unknown field", "GET", "/v1/datasets/quotes/fields/nope", "", nil, 400, "invalid", "nope"},
		{"values limit", "GET", "/v1/datasets/quotes/fields/author?limit=-1", "", nil, 400, "invalid", "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.do(t, tt.method, tt.path, tt.body, tt.header...).mustProblem(t, tt.status, tt.code)
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail %q does not mention %q", p.Detail, tt.detail)
			}
		})
	}
}

// TestMethodNotAllowed: a known path with a method it lacks is 405 with an
// Allow header listing the methods it has.
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tests := []struct {
		method, path string
		allow        []string
	}{
		{"DELETE", "/v1/runs", []string{"GET"}},
		{"PATCH", "/v1/spiders/quotes", []string{"GET", "PUT", "DELETE"}},
		{"GET", "/v1/runs/1/cancel", []string{"POST"}},
		{"POST", "/v1/datasets/quotes/items.csv", []string{"GET"}},
		{"PUT", "/healthz", []string{"GET"}},
	}
	for _, tt := range tests {
		r := b.do(t, tt.method, tt.path, "")
		r.mustProblem(t, 405, "method_not_allowed")
		if got := r.header.Values("Allow"); !slices.Equal(got, tt.allow) {
			t.Errorf("%s %s: Allow = %v, want %v", tt.method, tt.path, got, tt.allow)
		}
	}
}

// TestInvalidSpider: PUT answers 422 with every problem exactly as
// spider.Parse (and so `trawl check`) reports them, stores nothing and
// leaves the schedule alone; a name that differs from the URL's is a
// problem at the name.
func TestInvalidSpider(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	good := spiderYAML("quotes", "http://q.example")
	tests := []struct {
		name, body, ct string
		extra          []spider.Problem // problems the API adds to spider.Parse's
	}{
		{"malformed YAML", "name: quotes\nstart_urls: [http://q.example/\n", "application/yaml", nil},
		{"malformed JSON", `{"name": "quotes", "start_urls": [}`, "application/json", nil},
		{"unknown key", strings.Replace(good, "follow:", "folow:", 1), "application/yaml", nil},
		{"several problems", "name: quotes\nstart_urls: [ftp://x]\nlimits: {max_pages: -1}\nschedule: 'every day'\n", "text/yaml", nil},
		{"empty body", "", "", nil},
		{"name differs", spiderYAML("other", "http://q.example"), "application/yaml", []spider.Problem{{Path: "name", Line: 1, Column: 7,
			Message: `the spider is named "other" but was put as "quotes": the name in the URL must match`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var header []string
			if tt.ct != "" {
				header = []string{"Content-Type", tt.ct}
			}
			p := b.do(t, "PUT", "/v1/spiders/quotes", tt.body, header...).mustProblem(t, 422, "invalid_spider")
			var want []spider.Problem
			_, err := spider.Parse("quotes", []byte(tt.body))
			var ve *spider.ValidationError
			if errors.As(err, &ve) {
				want = ve.Problems
			} else if err != nil {
				t.Fatalf("spider.Parse: %v", err)
			}
			want = append(want, tt.extra...)
			if len(want) == 0 {
				t.Fatal("the case has no problem")
			}
			if diff := cmp.Diff(want, p.Errors); diff != "" {
				t.Errorf("errors differ from spider.Parse's (-want +got):\n%s", diff)
			}
		})
	}
	b.do(t, "GET", "/v1/spiders/quotes", "").mustProblem(t, 404, "not_found")
	if got := b.queue.Synced(); len(got) != 0 {
		t.Errorf("SyncSchedule called for invalid spiders: %v", got)
	}
}

// TestListPaging: run and spider lists page by opaque keyset cursors, newest
// run first, every entry exactly once.
func TestListPaging(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	var ids []int64
	for i := range 5 {
		r, err := b.db.CreateRun(ctx, store.CreateRunParams{Spider: fmt.Sprintf("s%d", i%2), SpecHash: "h",
			StartURLs: []store.NewURL{{URL: "http://x.example/", Host: "x.example"}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]int64{r.ID}, ids...)
	}
	var got []int64
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		var page struct {
			Runs       []runJSON
			NextCursor string `json:"next_cursor"`
		}
		b.do(t, "GET", "/v1/runs?limit=2&cursor="+url.QueryEscape(cursor), "").mustJSON(t, 200, &page)
		for _, r := range page.Runs {
			got = append(got, r.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, ids) {
		t.Errorf("paged runs = %v, want %v", got, ids)
	}
	var s0 struct{ Runs []runJSON }
	b.do(t, "GET", "/v1/runs?spider=s0&status=running", "").mustJSON(t, 200, &s0)
	if len(s0.Runs) != 3 {
		t.Errorf("runs of s0 = %d, want 3", len(s0.Runs))
	}

	for _, name := range []string{"c", "a", "b"} {
		b.do(t, "PUT", "/v1/spiders/"+name, spiderYAML(name, "http://x.example"), "Content-Type", "application/yaml").mustJSON(t, 201, nil)
	}
	var names []string
	cursor = ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		var page struct {
			Spiders    []spiderJSON
			NextCursor string `json:"next_cursor"`
		}
		b.do(t, "GET", "/v1/spiders?limit=2&cursor="+url.QueryEscape(cursor), "").mustJSON(t, 200, &page)
		for _, s := range page.Spiders {
			names = append(names, s.Name)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Errorf("paged spiders = %v", names)
	}
}

// TestReservedFieldNames: a field named like a parameter is filtered with
// where=, and its plain parameter keeps its meaning.
func TestReservedFieldNames(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	seedQuotes(t, b)
	var p itemPage
	b.do(t, "GET", "/v1/datasets/quotes/items?where=limit%3D7", "").mustJSON(t, 200, &p)
	if got := texts(t, p.Items); !slices.Equal(got, []string{"b"}) {
		t.Errorf("where=limit=7: %v, want [b]", got)
	}
	b.do(t, "GET", "/v1/datasets/quotes/items?limit=1", "").mustJSON(t, 200, &p)
	if len(p.Items) != 1 || p.NextCursor == "" {
		t.Errorf("limit=1: %d items, next %q", len(p.Items), p.NextCursor)
	}
}
