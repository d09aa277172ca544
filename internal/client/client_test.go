package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/client"
	"github.com/trawl-dev/trawl/internal/client/clienttest"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/trawl"
)

const quotes = "name: quotes\nstart_urls: [http://example.com/]\nitems: [{fields: {text: .text}}]\n"

func newClient(t *testing.T, url, token string) *client.Client {
	t.Helper()
	c, err := client.New(url, token, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewRefusesBadURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "localhost:8080", "ftp://x", "http://", "http://x/?a=1"} {
		if _, err := client.New(u, "", nil); trawl.ErrorCode(err) != trawl.EINVALID {
			t.Errorf("New(%q) = %v; want invalid", u, err)
		}
	}
	c, err := client.New("http://127.0.0.1:8080/trawl/", "", nil)
	if err != nil || c.URL() != "http://127.0.0.1:8080/trawl" {
		t.Errorf("New with a prefix: %v, %v", c, err)
	}
}

// TestProblemDecoding: problem+json answers become *client.Error, which
// trawl.ErrorCode and trawl.ErrorMessage read; validation problems keep
// their line and column.
func TestProblemDecoding(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/spiders/bad":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(422)
			fmt.Fprint(w, `{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"spider bad has 2 problems","code":"invalid_spider",
				"errors":[{"path":"start_urls","line":2,"column":1,"message":"is required"},{"path":"items[0].css","line":4,"column":9,"message":"invalid selector"}]}`)
		case "/v1/runs/9":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(404)
			fmt.Fprint(w, `{"type":"about:blank","title":"Not Found","status":404,"detail":"run 9 not found","code":"not_found"}`)
		default:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			fmt.Fprint(w, "<html>bad gateway</html>")
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, "")
	ctx := context.Background()

	_, _, err := c.PutSpider(ctx, "bad", "yaml", []byte("name: bad\n"))
	var ae *client.Error
	if !errors.As(err, &ae) {
		t.Fatalf("PutSpider: %v; want *client.Error", err)
	}
	want := []spider.Problem{{Path: "start_urls", Line: 2, Column: 1, Message: "is required"}, {Path: "items[0].css", Line: 4, Column: 9, Message: "invalid selector"}}
	if diff := cmp.Diff(want, ae.Problems); diff != "" || ae.Status != 422 || trawl.ErrorCode(err) != "invalid_spider" || trawl.ErrorMessage(err) != "spider bad has 2 problems" {
		t.Errorf("422: %+v (-want +got problems):\n%s", ae, diff)
	}

	_, err = c.Run(ctx, 9)
	if trawl.ErrorCode(err) != trawl.ENOTFOUND || trawl.ErrorMessage(err) != "run 9 not found" {
		t.Errorf("404: code %q message %q", trawl.ErrorCode(err), trawl.ErrorMessage(err))
	}

	_, err = c.Datasets(ctx)
	if !errors.As(err, &ae) || ae.Status != 502 || trawl.ErrorCode(err) != trawl.EINTERNAL || trawl.ErrorMessage(err) != "502 Bad Gateway" {
		t.Errorf("502 without problem+json: %v (message %q)", err, trawl.ErrorMessage(err))
	}
}

func TestUnauthorized(t *testing.T) {
	t.Parallel()
	srv := clienttest.New(t, "s3cret")
	_, err := newClient(t, srv.URL, "wrong").Datasets(context.Background())
	if trawl.ErrorCode(err) != trawl.EUNAUTHORIZED {
		t.Errorf("wrong token: %v; want unauthorized", err)
	}
	if _, err := newClient(t, srv.URL, "s3cret").Datasets(context.Background()); err != nil {
		t.Errorf("right token: %v", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := newClient(t, url, "").Datasets(context.Background())
	if err == nil || !strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), "/v1/") {
		t.Errorf("closed server: %v; want connection refused naming the host", err)
	}
}

// TestSpiders against the test double of the API (clienttest).
func TestSpidersAgainstDouble(t *testing.T) {
	t.Parallel()
	srv := clienttest.New(t, "")
	c := newClient(t, srv.URL, "")
	ctx := context.Background()

	s, created, err := c.PutSpider(ctx, "quotes", "yaml", []byte(quotes))
	if err != nil || !created || s.Version != 1 || s.Source != quotes || s.Format != "yaml" || s.Hash == "" {
		t.Fatalf("first put: %+v, created %v, %v", s, created, err)
	}
	s, created, err = c.PutSpider(ctx, "quotes", "yaml", []byte(quotes))
	if err != nil || created || s.Version != 1 {
		t.Errorf("same put again: version %d, created %v, %v; want 1, false", s.Version, created, err)
	}
	changed := strings.Replace(quotes, "example.com", "example.org", 1)
	if s, _, err = c.PutSpider(ctx, "quotes", "yaml", []byte(changed)); err != nil || s.Version != 2 {
		t.Errorf("changed put: %+v, %v; want version 2", s, err)
	}
	for _, name := range []string{"books", "authors"} {
		if _, _, err := c.PutSpider(ctx, name, "yaml", []byte(strings.Replace(quotes, "quotes", name, 1))); err != nil {
			t.Fatal(err)
		}
	}
	page, next, err := c.Spiders(ctx, client.Page{Limit: 2})
	if err != nil || len(page) != 2 || page[0].Name != "authors" || next == "" {
		t.Fatalf("first page: %v, next %q, %v", page, next, err)
	}
	all, err := c.AllSpiders(ctx)
	var names []string
	for _, s := range all {
		names = append(names, s.Name)
	}
	if diff := cmp.Diff([]string{"authors", "books", "quotes"}, names); err != nil || diff != "" {
		t.Errorf("AllSpiders: %v (-want +got):\n%s", err, diff)
	}
	if err := c.DeleteSpider(ctx, "books"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Spider(ctx, "books"); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("deleted spider: %v; want not_found", err)
	}
	if err := c.DeleteSpider(ctx, "books"); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("second delete: %v; want not_found", err)
	}
}

func TestRunsAgainstDouble(t *testing.T) {
	t.Parallel()
	srv := clienttest.New(t, "")
	srv.PutSpider(t, quotes)
	c := newClient(t, srv.URL, "")
	ctx := context.Background()
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	r, err := c.StartRun(ctx, "quotes", at)
	if err != nil || r.Status != trawl.RunQueued || r.RunAt == nil || !r.RunAt.Equal(at) || r.Dataset != "quotes" {
		t.Fatalf("StartRun: %+v, %v", r, err)
	}
	if _, err := c.StartRun(ctx, "quotes", time.Time{}); trawl.ErrorCode(err) != trawl.ECONFLICT {
		t.Errorf("second start: %v; want conflict", err)
	}
	if _, err := c.StartRun(ctx, "nope", time.Time{}); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("unknown spider: %v; want not_found", err)
	}
	r, err = c.CancelRun(ctx, r.ID)
	if err != nil || r.Status != trawl.RunCanceled {
		t.Errorf("CancelRun: %+v, %v", r, err)
	}
	if _, err := c.CancelRun(ctx, r.ID); trawl.ErrorCode(err) != trawl.ECONFLICT {
		t.Errorf("cancel of a finished run: %v; want conflict", err)
	}
	srv.AddRun("other", trawl.RunSucceeded, trawl.RunStats{Pages: 3})
	runs, next, err := c.Runs(ctx, client.RunQuery{Status: trawl.RunCanceled})
	if err != nil || len(runs) != 1 || runs[0].ID != r.ID || next != "" {
		t.Errorf("Runs(status canceled): %+v, %q, %v", runs, next, err)
	}
	got, err := c.Run(ctx, 2)
	if err != nil || got.Spider != "other" || got.Stats.Pages != 3 {
		t.Errorf("Run(2): %+v, %v", got, err)
	}
	want := []string{"POST /v1/spiders/quotes/runs", "POST /v1/spiders/quotes/runs", "POST /v1/spiders/nope/runs",
		"POST /v1/runs/1/cancel", "POST /v1/runs/1/cancel", "GET /v1/runs?status=canceled", "GET /v1/runs/2"}
	if diff := cmp.Diff(want, srv.Requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// TestWatchRunReconnects: the stream breaks after two progress events; the
// client reconnects with Last-Event-ID 2 and gets the end, without seeing
// an event twice.
func TestWatchRunReconnects(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var lastIDs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/runs/7/events" || r.Header.Get("Accept") != "text/event-stream" {
			http.Error(w, "unexpected "+r.URL.Path, 400)
			return
		}
		mu.Lock()
		lastIDs = append(lastIDs, r.Header.Get("Last-Event-ID"))
		n := len(lastIDs)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		if n == 1 {
			fmt.Fprint(w, "retry: 5\n\n: keep-alive\n\n")
			fmt.Fprint(w, "id: 1\nevent: progress\ndata: {\"run\":{\"id\":7,\"spider\":\"q\",\"status\":\"running\",\"stats\":{\"pages\":1,\"queued\":9}},\n")
			fmt.Fprint(w, "data: \"rate\":1.5,\"queued\":8}\n\n")
			fmt.Fprint(w, "id: 2\r\nevent: progress\r\ndata: {\"run\":{\"id\":7,\"status\":\"running\",\"stats\":{\"pages\":4}},\"rate\":2,\"queued\":5}\r\n\r\n")
			fmt.Fprint(w, "id: 3\nevent: progress\ndata: {\"run\":") // cut mid-event: never dispatched
			return
		}
		fmt.Fprint(w, "event: future-kind\ndata: {}\n\n")
		fmt.Fprint(w, "id: 3\nevent: end\ndata: {\"id\":7,\"spider\":\"q\",\"status\":\"succeeded\",\"stats\":{\"pages\":10,\"items\":20}}\n\n")
	}))
	defer srv.Close()
	var got []client.Event
	final, err := newClient(t, srv.URL, "").WatchRun(context.Background(), 7, func(e client.Event) { got = append(got, e) })
	if err != nil {
		t.Fatal(err)
	}
	if final.Status != trawl.RunSucceeded || final.Stats.Items != 20 {
		t.Errorf("final run: %+v", final)
	}
	type brief struct {
		ID, Type      string
		Pages, Queued int64
		Rate          float64
	}
	var briefs []brief
	for _, e := range got {
		briefs = append(briefs, brief{e.ID, e.Type, e.Run.Stats.Pages, e.Queued, e.Rate})
	}
	want := []brief{{"1", "progress", 1, 8, 1.5}, {"2", "progress", 4, 5, 2}, {"3", "end", 10, 0, 0}}
	if diff := cmp.Diff(want, briefs); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"", "2"}, lastIDs); diff != "" {
		t.Errorf("Last-Event-ID of each connection (-want +got):\n%s", diff)
	}
}

// TestWatchRunDouble: the double's finished run answers with its end at
// once; an unknown run is not_found without reconnecting.
func TestWatchRunDouble(t *testing.T) {
	t.Parallel()
	srv := clienttest.New(t, "")
	id := srv.AddRun("quotes", trawl.RunFailed, trawl.RunStats{Pages: 2})
	c := newClient(t, srv.URL, "")
	final, err := c.WatchRun(context.Background(), id, nil)
	if err != nil || final.Status != trawl.RunFailed || final.Stats.Pages != 2 {
		t.Errorf("finished run: %+v, %v", final, err)
	}
	_, err = c.WatchRun(context.Background(), 99, nil)
	if trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("unknown run: %v; want not_found", err)
	}
	if n := strings.Count(strings.Join(srv.Requests(), "\n"), "/v1/runs/99/events"); n != 1 {
		t.Errorf("unknown run asked %d times, want 1 (no reconnect after a 404)", n)
	}
}

// TestWatchRunGivesUp: a stream that always breaks before any event ends
// the watch after the bounded number of attempts; a canceled context ends
// it at once.
func TestWatchRunGivesUp(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "retry: 1\n\n")
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := newClient(t, srv.URL, "").WatchRun(ctx, 1, nil)
	if err == nil || !strings.Contains(err.Error(), "gave up after 10 attempts") {
		t.Errorf("endless breaks: %v", err)
	}
	mu.Lock()
	if calls != 10 {
		t.Errorf("%d connections, want 10", calls)
	}
	mu.Unlock()

	canceled, stop := context.WithCancel(context.Background())
	stop()
	if _, err := newClient(t, srv.URL, "").WatchRun(canceled, 1, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled watch: %v", err)
	}
}

func TestItemsAgainstDouble(t *testing.T) {
	t.Parallel()
	srv := clienttest.New(t, "")
	srv.AddItems("quotes", []string{"text", "author", "tags", "limit"},
		`{"text":"a","author":"Albert Einstein","tags":["life","love"],"limit":"1","_url":"http://x/1"}`,
		`{"text":"b","author":"Jane Austen","tags":["love"],"limit":"2","_url":"http://x/2"}`,
		`{"text":"c","author":"albert einstein","tags":["science"],"limit":"1","_url":"http://x/3"}`)
	c := newClient(t, srv.URL, "")
	ctx := context.Background()

	items, next, err := c.Items(ctx, "quotes", client.ItemQuery{
		Filters: []client.Filter{{Field: "author", Value: "ALBERT EINSTEIN"}, {Field: "limit", Value: "1"}},
		Fold:    true, Fields: []string{"text", "author"}, Page: client.Page{Limit: 1},
	})
	if err != nil || len(items) != 1 || next == "" || string(items[0]) != `{"text":"a","author":"Albert Einstein","_url":"http://x/1"}` {
		t.Fatalf("first page: %s, next %q, %v", items, next, err)
	}
	items, next, err = c.Items(ctx, "quotes", client.ItemQuery{
		Filters: []client.Filter{{Field: "author", Value: "ALBERT EINSTEIN"}, {Field: "limit", Value: "1"}},
		Fold:    true, Fields: []string{"text", "author"}, Page: client.Page{Limit: 1, Cursor: next},
	})
	if err != nil || len(items) != 1 || next != "" || !strings.Contains(string(items[0]), `"text":"c"`) {
		t.Errorf("second page: %s, next %q, %v", items, next, err)
	}
	reqs := srv.Requests()
	if want := "GET /v1/datasets/quotes/items?author=ALBERT+EINSTEIN&fields=text%2Cauthor&limit=1&match=fold&where=limit%3D1"; reqs[0] != want {
		t.Errorf("request %q, want %q (a reserved field name goes in where=)", reqs[0], want)
	}

	_, _, err = c.Items(ctx, "quotes", client.ItemQuery{Filters: []client.Filter{{Field: "auther", Value: "x"}}})
	if trawl.ErrorCode(err) != trawl.EINVALID || !strings.Contains(trawl.ErrorMessage(err), `unknown field "auther"`) {
		t.Errorf("unknown field: %v", err)
	}
	if _, _, err = c.Items(ctx, "nope", client.ItemQuery{}); trawl.ErrorCode(err) != trawl.ENOTFOUND {
		t.Errorf("unknown dataset: %v", err)
	}

	body, err := c.ExportItems(ctx, "quotes", client.CSV, client.ItemQuery{Filters: []client.Filter{{Field: "tags", Value: "love"}}})
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(body)
	body.Close()
	if want := "text,author,tags,limit,_url\na,Albert Einstein,\"[\"\"life\"\",\"\"love\"\"]\",\"\"\"1\"\"\",http://x/1\nb,Jane Austen,\"[\"\"love\"\"]\",\"\"\"2\"\"\",http://x/2\n"; string(csv) != want {
		t.Errorf("items.csv:\n%s\nwant:\n%s", csv, want)
	}
	body, err = c.ExportItems(ctx, "quotes", client.JSONL, client.ItemQuery{Page: client.Page{Limit: 2}})
	if err != nil {
		t.Fatal(err)
	}
	jsonl, _ := io.ReadAll(body)
	body.Close()
	if n := strings.Count(string(jsonl), "\n"); n != 2 || !json.Valid([]byte(strings.Split(string(jsonl), "\n")[0])) {
		t.Errorf("items.jsonl with limit 2: %q", jsonl)
	}
	if _, err := c.ExportItems(ctx, "quotes", "xml", client.ItemQuery{}); trawl.ErrorCode(err) != trawl.EINVALID {
		t.Errorf("xml export: %v", err)
	}
	sets, err := c.Datasets(ctx)
	if err != nil || len(sets) != 1 || sets[0].Items != 3 || len(sets[0].Columns) != 4 {
		t.Errorf("Datasets: %+v, %v", sets, err)
	}
}
