package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/api"
	"github.com/trawl-dev/trawl/internal/export"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// runJSON is the run document of the API.
type runJSON struct {
	trawl.Run
	Dataset string     `json:"dataset"`
	RunAt   *time.Time `json:"run_at"`
}

type spiderJSON struct {
	Name      string     `json:"name"`
	Format    string     `json:"format"`
	Source    string     `json:"source"`
	Hash      string     `json:"hash"`
	Version   int64      `json:"version"`
	Schedule  string     `json:"schedule"`
	NextRunAt *time.Time `json:"next_run_at"`
}

type itemPage struct {
	Items      []json.RawMessage `json:"items"`
	NextCursor string            `json:"next_cursor"`
}

// texts returns the text field of items, to compare sets.
func texts(t *testing.T, items []json.RawMessage) []string {
	t.Helper()
	out := []string{}
	for _, raw := range items {
		var m struct{ Text string }
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("item %s: %v", raw, err)
		}
		out = append(out, m.Text)
	}
	return out
}

// TestFullFlow: put a spider, start a run of it, watch its events to the
// end, then query its items with every kind of filter, list a field's
// values and export the same filtered set as CSV and JSONL, over real HTTP
// with a real SQLite store and a real crawl.
func TestFullFlow(t *testing.T) {
	t.Parallel()
	site := newQuoteSite(t)
	b := setup(t, nil)

	// Spiders.
	src := spiderYAML("quotes", site.URL)
	put := b.do(t, "PUT", "/v1/spiders/quotes", src, "Content-Type", "application/yaml")
	var sp spiderJSON
	put.mustJSON(t, 201, &sp)
	if sp.Name != "quotes" || sp.Format != "yaml" || sp.Source != src || sp.Version != 1 || sp.Hash == "" || sp.Schedule != "" {
		t.Errorf("created spider = %+v", sp)
	}
	if loc := put.header.Get("Location"); loc != "/v1/spiders/quotes" {
		t.Errorf("Location = %q", loc)
	}
	b.do(t, "PUT", "/v1/spiders/quotes", src, "Content-Type", "application/yaml").mustJSON(t, 200, &sp)
	if sp.Version != 1 {
		t.Errorf("unchanged put: version %d, want 1", sp.Version)
	}
	scheduled := src + "schedule: '@every 1h'\n"
	b.do(t, "PUT", "/v1/spiders/quotes", scheduled, "Content-Type", "text/yaml").mustJSON(t, 200, &sp)
	if sp.Version != 2 || sp.Schedule != "@every 1h" || sp.NextRunAt == nil {
		t.Errorf("replaced spider = %+v, want version 2 with its schedule", sp)
	}
	if got, want := b.queue.Synced(), []string{"quotes", "quotes", "quotes"}; !slices.Equal(got, want) {
		t.Errorf("SyncSchedule calls = %v, want %v", got, want)
	}
	var list struct{ Spiders []spiderJSON }
	b.do(t, "GET", "/v1/spiders", "").mustJSON(t, 200, &list)
	if len(list.Spiders) != 1 || list.Spiders[0].Name != "quotes" {
		t.Errorf("spiders = %+v", list.Spiders)
	}

	// A run, watched live.
	var run runJSON
	sub := b.do(t, "POST", "/v1/spiders/quotes/runs", "")
	sub.mustJSON(t, 202, &run)
	if run.ID == 0 || run.Spider != "quotes" || run.Dataset != "quotes" || run.Status.Final() {
		t.Fatalf("submitted run = %+v", run)
	}
	if loc := sub.header.Get("Location"); loc != fmt.Sprintf("/v1/runs/%d", run.ID) {
		t.Errorf("Location = %q", loc)
	}
	b.do(t, "POST", "/v1/spiders/quotes/runs", "{}", "Content-Type", "application/json").mustProblem(t, 409, "conflict")

	lastID := watchToEnd(t, b, site, run.ID)

	// A client reconnecting after the end gets it at once.
	res, br := b.openEvents(t, run.ID, lastID)
	ev, err := readEvent(br)
	if err != nil || ev.name != "end" {
		t.Fatalf("reconnected: first event %+v, %v; want end", ev, err)
	}
	if want := strconv.Itoa(mustAtoi(t, lastID) + 1); ev.id != want {
		t.Errorf("reconnected: end id %q, want %q (Last-Event-ID + 1)", ev.id, want)
	}
	if _, err := readEvent(br); err != io.EOF {
		t.Errorf("after end: %v, want the stream closed", err)
	}
	res.Body.Close()

	b.do(t, "GET", fmt.Sprintf("/v1/runs/%d", run.ID), "").mustJSON(t, 200, &run)
	if run.Status != trawl.RunSucceeded || run.Stats.Items != 6 || run.Stats.Pages != 2 {
		t.Errorf("finished run = %+v", run)
	}
	var runs struct{ Runs []runJSON }
	b.do(t, "GET", "/v1/runs?spider=quotes&status=succeeded", "").mustJSON(t, 200, &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].ID != run.ID {
		t.Errorf("runs = %+v", runs.Runs)
	}

	// Datasets and items.
	var sets struct{ Datasets []store.Dataset }
	b.do(t, "GET", "/v1/datasets", "").mustJSON(t, 200, &sets)
	if len(sets.Datasets) != 1 || sets.Datasets[0].Items != 6 ||
		!slices.Equal(sets.Datasets[0].Columns, []string{"text", "author", "tags", "_url"}) {
		t.Errorf("datasets = %+v", sets.Datasets)
	}
	checkItemQueries(t, b)
	checkFieldValues(t, b)
	checkExports(t, b)

	// Deleting the spider keeps its runs and dataset.
	if r := b.do(t, "DELETE", "/v1/spiders/quotes", ""); r.status != 204 {
		t.Fatalf("DELETE: status %d: %s", r.status, r.body)
	}
	if got := b.queue.Synced(); len(got) != 4 {
		t.Errorf("SyncSchedule calls after delete = %v, want 4", got)
	}
	b.do(t, "GET", "/v1/spiders/quotes", "").mustProblem(t, 404, "not_found")
	b.do(t, "DELETE", "/v1/spiders/quotes", "").mustProblem(t, 404, "not_found")
	b.do(t, "GET", fmt.Sprintf("/v1/runs/%d", run.ID), "").mustJSON(t, 200, nil)
	b.do(t, "GET", "/v1/datasets/quotes/items?limit=1", "").mustJSON(t, 200, nil)

	if n := b.valid.validated.Load(); n < 25 {
		t.Errorf("only %d responses validated against the OpenAPI document", n)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("event id %q: %v", s, err)
	}
	return n
}

// watchToEnd reads the events of run while the site holds its second page,
// releases it, and reads on to the end event, checking ids and data. It
// returns the end's id.
func watchToEnd(t *testing.T, b *bundle, site *quoteSite, runID int64) string {
	t.Helper()
	res, br := b.openEvents(t, runID, "")
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("events: status %d, Content-Type %q", res.StatusCode, ct)
	}
	progress := 0
	for i := 1; i <= 5000; i++ {
		ev, err := readEvent(br)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if ev.id != strconv.Itoa(i) {
			t.Fatalf("event %d has id %q", i, ev.id)
		}
		switch ev.name {
		case "progress":
			var p struct {
				Run    runJSON
				Rate   *float64
				Queued *int64
			}
			if err := json.Unmarshal([]byte(ev.data), &p); err != nil || p.Rate == nil || p.Queued == nil {
				t.Fatalf("progress data %s: %v", ev.data, err)
			}
			if p.Run.ID != runID || p.Run.Status != trawl.RunRunning {
				t.Fatalf("progress run = %+v", p.Run)
			}
			progress++
			if progress == 3 { // seen running: let the crawl end
				site.Release()
			}
		case "end":
			var r runJSON
			if err := json.Unmarshal([]byte(ev.data), &r); err != nil {
				t.Fatalf("end data %s: %v", ev.data, err)
			}
			if r.ID != runID || r.Status != trawl.RunSucceeded || r.Stats.Items != 6 || r.Dataset != "quotes" {
				t.Fatalf("end run = %+v", r)
			}
			if progress < 3 {
				t.Errorf("%d progress events before the end, want at least 3", progress)
			}
			if _, err := readEvent(br); err != io.EOF {
				t.Errorf("after end: %v, want the stream closed", err)
			}
			return ev.id
		default:
			t.Fatalf("unknown event %+v", ev)
		}
	}
	t.Fatal("no end event")
	return ""
}

func checkItemQueries(t *testing.T, b *bundle) {
	t.Helper()
	all := []string{
		"Imagination is more important than knowledge.", "It is a truth universally acknowledged.", "Life is like riding a bicycle.",
		"Be yourself; everyone else is already taken.", "A room without books is like a body without a soul.", "Two things are infinite.",
	}
	q := url.QueryEscape
	hourAgo, inHour := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"all", "", all},
		{"exact", "author=" + q("Albert Einstein"), all[:1]},
		{"exact other case", "author=" + q("albert einstein"), all[2:3]},
		{"match fold", "author=" + q("albert einstein") + "&match=fold", []string{all[0], all[2], all[5]}},
		{"tilde folds one filter", "author~=" + q("ALBERT Einstein"), []string{all[0], all[2], all[5]}},
		{"list field", "tags=life", []string{all[1], all[2], all[3]}},
		{"list field and fold", "tags=life&author~=" + q("albert einstein"), all[2:3]},
		{"where", "where=" + q("author=Jane Austen"), all[1:2]},
		{"where fold", "where=" + q("author~=jane austen"), all[1:2]},
		{"since an hour ago", "since=" + q(hourAgo), all},
		{"since the future", "since=" + q(inHour), []string{}},
		{"no match", "author=nobody", []string{}},
	}
	for _, tt := range tests {
		var p itemPage
		b.do(t, "GET", "/v1/datasets/quotes/items?"+tt.query, "").mustJSON(t, 200, &p)
		if diff := cmp.Diff(tt.want, texts(t, p.Items)); diff != "" {
			t.Errorf("%s (%s): items differ (-want +got):\n%s", tt.name, tt.query, diff)
		}
		if p.NextCursor != "" {
			t.Errorf("%s: next_cursor %q on the only page", tt.name, p.NextCursor)
		}
	}

	// Projection keeps the order asked for.
	var p itemPage
	b.do(t, "GET", "/v1/datasets/quotes/items?fields=author,text&limit=1", "").mustJSON(t, 200, &p)
	if len(p.Items) != 1 || string(p.Items[0]) != `{"author":"Albert Einstein","text":"Imagination is more important than knowledge."}` {
		t.Errorf("projected items = %s", p.Items)
	}

	// Paging by cursor, with and without a filter.
	for _, tc := range []struct {
		query string
		limit int
		want  []string
	}{{"", 4, all}, {"tags=life&", 2, []string{all[1], all[2], all[3]}}} {
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			path := fmt.Sprintf("/v1/datasets/quotes/items?%slimit=%d", tc.query, tc.limit)
			if cursor != "" {
				path += "&cursor=" + q(cursor)
			}
			var p itemPage
			b.do(t, "GET", path, "").mustJSON(t, 200, &p)
			if len(p.Items) > tc.limit {
				t.Fatalf("%s: %d items, limit %d", path, len(p.Items), tc.limit)
			}
			got = append(got, texts(t, p.Items)...)
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("paging %q by %d (-want +got):\n%s", tc.query, tc.limit, diff)
		}
	}
}

func checkFieldValues(t *testing.T, b *bundle) {
	t.Helper()
	var v struct {
		Field  string
		Values []store.ValueCount
	}
	b.do(t, "GET", "/v1/datasets/quotes/fields/tags", "").mustJSON(t, 200, &v)
	want := []store.ValueCount{{Value: "life", Count: 3}, {Value: "books", Count: 2}, {Value: "honesty", Count: 1},
		{Value: "humor", Count: 1}, {Value: "imagination", Count: 1}, {Value: "knowledge", Count: 1}}
	if diff := cmp.Diff(want, v.Values); v.Field != "tags" || diff != "" {
		t.Errorf("values of %q differ (-want +got):\n%s", v.Field, diff)
	}
	b.do(t, "GET", "/v1/datasets/quotes/fields/tags?limit=1", "").mustJSON(t, 200, &v)
	if diff := cmp.Diff(want[:1], v.Values); diff != "" {
		t.Errorf("values with limit 1 differ (-want +got):\n%s", diff)
	}
}

// checkExports: items.csv and items.jsonl stream the filtered set exactly as
// the export package writes it.
func checkExports(t *testing.T, b *bundle) {
	t.Helper()
	query := store.ItemQuery{Dataset: "quotes", Filters: []store.FieldFilter{{Field: "tags", Value: "life"}}}
	for _, tc := range []struct {
		format      export.Format
		contentType string
		columns     []string
	}{
		{export.CSV, "text/csv; charset=utf-8", []string{"text", "author", "tags", "_url"}},
		{export.JSONL, "application/x-ndjson", nil},
	} {
		r := b.do(t, "GET", "/v1/datasets/quotes/items."+string(tc.format)+"?tags=life", "")
		if r.status != 200 || r.header.Get("Content-Type") != tc.contentType {
			t.Fatalf("%s: status %d, Content-Type %q: %s", tc.format, r.status, r.header.Get("Content-Type"), r.body)
		}
		if cd, want := r.header.Get("Content-Disposition"), `attachment; filename="quotes.`+string(tc.format)+`"`; cd != want {
			t.Errorf("%s: Content-Disposition %q, want %q", tc.format, cd, want)
		}
		var want bytes.Buffer
		n, err := export.Write(&want, tc.format, b.db.Items(context.Background(), query), export.Options{Columns: tc.columns})
		if err != nil || n != 3 {
			t.Fatalf("export.Write: %d items, %v", n, err)
		}
		if diff := cmp.Diff(want.String(), string(r.body)); diff != "" {
			t.Errorf("%s differs from export.Write (-want +got):\n%s", tc.format, diff)
		}
	}
	// The CSV parses, with the projection's columns.
	r := b.do(t, "GET", "/v1/datasets/quotes/items.csv?author~="+url.QueryEscape("albert einstein")+"&fields=author,tags", "")
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatalf("parse csv: %v\n%s", err, r.body)
	}
	wantRows := [][]string{{"author", "tags"}, {"Albert Einstein", `["imagination","knowledge"]`},
		{"albert einstein", `["life"]`}, {"ALBERT EINSTEIN", `["humor"]`}}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("csv rows (-want +got):\n%s", diff)
	}
	r = b.do(t, "GET", "/v1/datasets/quotes/items.jsonl?limit=2", "")
	if lines := strings.Count(string(r.body), "\n"); lines != 2 {
		t.Errorf("jsonl with limit 2: %d lines:\n%s", lines, r.body)
	}
}

// TestPutJSONSpider: a JSON spider is stored as JSON; YAML sent as JSON is
// stored as the YAML it is.
func TestPutJSONSpider(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	b := setup(t, func(c *api.Config) { c.Now = func() time.Time { return now } })
	src := `{"name": "api", "start_urls": ["http://q.example/"], "items": [{"fields": {"title": "h1"}}], "schedule": "@daily"}`
	var sp spiderJSON
	b.do(t, "PUT", "/v1/spiders/api", src, "Content-Type", "application/json; charset=utf-8").mustJSON(t, 201, &sp)
	if sp.Format != "json" || sp.Source != src || sp.Schedule != "@daily" || sp.NextRunAt == nil ||
		!sp.NextRunAt.Equal(time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("JSON spider = %+v", sp)
	}
	b.do(t, "PUT", "/v1/spiders/quotes", spiderYAML("quotes", "http://q.example"), "Content-Type", "application/json").mustJSON(t, 201, &sp)
	if sp.Format != "yaml" {
		t.Errorf("YAML sent as JSON stored with format %q", sp.Format)
	}
}
