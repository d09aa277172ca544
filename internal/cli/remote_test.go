package cli_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/client/clienttest"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// spiderYAML is a valid spider file named name.
func spiderYAML(name, host string) string {
	return fmt.Sprintf("name: %s\nstart_urls: [http://%s/]\nitems: [{fields: {title: title}}]\n", name, host)
}

// mutations are the requests that change the double's spiders.
func mutations(reqs []string) []string {
	var out []string
	for _, r := range reqs {
		if strings.HasPrefix(r, "PUT ") || strings.HasPrefix(r, "DELETE ") || strings.HasPrefix(r, "POST ") {
			out = append(out, r)
		}
	}
	return out
}

// TestApplyAgainstDouble: apply's plan against the API test double, as a
// dry run (nothing sent), without and with --prune, then once more with
// nothing left to do.
func TestApplyAgainstDouble(t *testing.T) {
	t.Parallel()
	srv := clienttest.New(t, "")
	srv.PutSpider(t, spiderYAML("books", "books.example"))
	srv.PutSpider(t, spiderYAML("quotes", "old.example"))
	srv.PutSpider(t, spiderYAML("old", "old.example"))
	dir := t.TempDir()
	spiders := filepath.Join(dir, "spiders")
	if err := os.Mkdir(spiders, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, spiders, "books.yaml", spiderYAML("books", "books.example"))
	writeFile(t, spiders, "quotes.yml", spiderYAML("quotes", "quotes.example"))
	writeFile(t, spiders, "authors.json", `{"name": "authors", "start_urls": ["http://a.example/"], "items": [{"fields": {"name": "h1"}}]}`)
	writeFile(t, spiders, "README.md", "not a spider")
	env := map[string]string{"TRAWL_SERVER": srv.URL}

	r := runMain(t, dir, env, "apply", "spiders", "--dry-run", "--prune")
	want := "dry run: what trawl apply would do on " + srv.URL + "\n" +
		"created    authors  spiders/authors.json\n" +
		"unchanged  books    spiders/books.yaml\n" +
		"deleted    old      \n" +
		"updated    quotes   spiders/quotes.yml\n" +
		"1 created, 1 updated, 1 unchanged, 1 deleted (dry run: nothing was changed)\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("dry run: exit %d, stderr %q\n%s\nwant:\n%s", r.code, r.stderr, r.stdout, want)
	}
	if m := mutations(srv.Requests()); len(m) != 0 {
		t.Errorf("dry run sent %q", m)
	}

	r = runMain(t, dir, env, "apply", "spiders")
	want = "created    authors  spiders/authors.json\n" +
		"unchanged  books    spiders/books.yaml\n" +
		"kept       old      not in the folder; --prune deletes it\n" +
		"updated    quotes   spiders/quotes.yml\n" +
		"1 created, 1 updated, 1 unchanged, 1 kept\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("apply: exit %d, stderr %q\n%s\nwant:\n%s", r.code, r.stderr, r.stdout, want)
	}
	if diff := cmp.Diff([]string{"authors", "books", "old", "quotes"}, srv.SpiderNames()); diff != "" {
		t.Errorf("spiders after apply (-want +got):\n%s", diff)
	}
	if src, _ := srv.SpiderSource("quotes"); src != spiderYAML("quotes", "quotes.example") {
		t.Errorf("quotes not updated: %q", src)
	}
	wantPuts := []string{"PUT /v1/spiders/authors", "PUT /v1/spiders/quotes"}
	if diff := cmp.Diff(wantPuts, mutations(srv.Requests())); diff != "" {
		t.Errorf("apply requests (-want +got):\n%s", diff)
	}

	r = runMain(t, dir, env, "apply", "spiders", "--prune")
	if r.code != 0 || !strings.Contains(r.stdout, "deleted    old") || !strings.HasSuffix(r.stdout, "3 unchanged, 1 deleted\n") {
		t.Errorf("apply --prune: exit %d, stderr %q\n%s", r.code, r.stderr, r.stdout)
	}
	if diff := cmp.Diff([]string{"authors", "books", "quotes"}, srv.SpiderNames()); diff != "" {
		t.Errorf("spiders after prune (-want +got):\n%s", diff)
	}
	r = runMain(t, dir, env, "apply", "spiders", "--prune")
	if r.code != 0 || !strings.HasSuffix(r.stdout, "3 unchanged\n") {
		t.Errorf("apply with nothing to do: exit %d\n%s", r.code, r.stdout)
	}
	if n := len(mutations(srv.Requests())); n != 3 {
		t.Errorf("%d changing requests in all, want 3 (2 puts, 1 delete)", n)
	}
}

// TestApplyChecksFilesFirst: one invalid file, or two files of one name,
// and nothing reaches the server.
func TestApplyChecksFilesFirst(t *testing.T) {
	t.Parallel()
	srv := clienttest.New(t, "")
	dir := t.TempDir()
	writeFile(t, dir, "good.yaml", spiderYAML("good", "g.example"))
	writeFile(t, dir, "bad.yaml", "name: bad\nstart_urls: [http://b.example/]\nitems: [{fields: {title: title}}]\nmax_pagez: 3\n")
	r := runMain(t, dir, map[string]string{"TRAWL_SERVER": srv.URL}, "apply", ".")
	if r.code != 2 || !strings.Contains(r.stderr, "bad.yaml:4:1: ") || !strings.Contains(r.stderr, "1 of 2 spider files has problems; nothing was sent to the server") {
		t.Errorf("invalid file: exit %d, stderr %q", r.code, r.stderr)
	}
	writeFile(t, dir, "bad.yaml", spiderYAML("good", "other.example"))
	r = runMain(t, dir, map[string]string{"TRAWL_SERVER": srv.URL}, "apply", ".")
	if r.code != 2 || !strings.Contains(r.stderr, "bad.yaml and good.yaml both define the spider good") {
		t.Errorf("duplicate name: exit %d, stderr %q", r.code, r.stderr)
	}
	if m := mutations(srv.Requests()); len(m) != 0 {
		t.Errorf("requests sent: %q", m)
	}
	r = runMain(t, dir, nil, "apply", ".")
	if r.code != 2 || !strings.Contains(r.stderr, "apply needs a server: --server URL or TRAWL_SERVER") {
		t.Errorf("no server: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestSpidersAgainstDouble(t *testing.T) {
	t.Parallel()
	srv := clienttest.New(t, "tok")
	dir := t.TempDir()
	writeFile(t, dir, "quotes.yaml", spiderYAML("quotes", "q.example"))
	env := map[string]string{"TRAWL_SERVER": srv.URL, "TRAWL_TOKEN": "tok"}

	r := runMain(t, dir, env, "spiders", "put", "quotes.yaml")
	if r.code != 0 || r.stdout != "created quotes from quotes.yaml (version 1)\n" {
		t.Errorf("put: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	r = runMain(t, dir, env, "spiders", "get", "quotes")
	if r.code != 0 || r.stdout != spiderYAML("quotes", "q.example") {
		t.Errorf("get: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	r = runMain(t, dir, env, "spiders")
	if rows := table(r.stdout); r.code != 0 || len(rows) != 2 || rows[1][0] != "quotes" || rows[1][1] != "1" {
		t.Errorf("list: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	r = runMain(t, dir, env, "spiders", "delete", "quotes")
	if r.code != 0 || r.stdout != "deleted quotes\n" {
		t.Errorf("delete: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	r = runMain(t, dir, env, "spiders", "get", "quotes")
	if r.code != 1 || r.stderr != "trawl: spider quotes not found\n" {
		t.Errorf("get of a deleted spider: exit %d, %q", r.code, r.stderr)
	}
	r = runMain(t, dir, map[string]string{"TRAWL_SERVER": srv.URL}, "spiders", "list")
	if r.code != 1 || r.stderr != "trawl: missing or wrong bearer token\n" {
		t.Errorf("no token: exit %d, %q", r.code, r.stderr)
	}
	r = runMain(t, dir, env, "spiders", "lsit")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown subcommand "lsit" of trawl spiders; did you mean "list"?`) {
		t.Errorf("misspelt subcommand: exit %d, %q", r.code, r.stderr)
	}
}

// TestSpidersPutRefused: the server's 422 problems are printed as trawl
// check prints them, against the file.
func TestSpidersPutRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(422)
		fmt.Fprint(w, `{"title":"Unprocessable Entity","status":422,"code":"invalid_spider","detail":"spider q has 1 problem",
			"errors":[{"path":"start_urls[0]","line":2,"column":14,"message":"private address refused"}]}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	writeFile(t, dir, "q.yaml", spiderYAML("q", "q.example"))
	r := runMain(t, dir, nil, "spiders", "put", "q.yaml", "--server", srv.URL)
	want := "q.yaml:2:14: start_urls[0]: private address refused\ntrawl: the server refused q.yaml: spider q has 1 problem\n"
	if r.code != 2 || r.stderr != want {
		t.Errorf("refused put: exit %d, stderr %q, want %q", r.code, r.stderr, want)
	}
}

func TestItemsAgainstDouble(t *testing.T) {
	t.Parallel()
	srv := clienttest.New(t, "")
	srv.AddItems("quotes", []string{"text", "author", "tags"},
		`{"text":"a","author":"Albert Einstein","tags":["life","love"],"_url":"http://x/1"}`,
		`{"text":"b","author":"Jane Austen","tags":["love"],"_url":"http://x/2"}`,
		`{"text":"c","author":"albert einstein","tags":["science"],"_url":"http://x/3"}`)
	dir := t.TempDir()
	env := map[string]string{"TRAWL_SERVER": srv.URL}

	r := runMain(t, dir, env, "items", "quotes", "--where", "author=ALBERT EINSTEIN", "--fold")
	want := `{"text":"a","author":"Albert Einstein","tags":["life","love"],"_url":"http://x/1"}` + "\n" +
		`{"text":"c","author":"albert einstein","tags":["science"],"_url":"http://x/3"}` + "\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("jsonl (default off a terminal): exit %d, %q\n%s", r.code, r.stderr, r.stdout)
	}
	r = runMain(t, dir, env, "items", "quotes", "--where", "tags=love", "--fields", "author,text", "--format", "csv")
	if want := "author,text,_url\nAlbert Einstein,a,http://x/1\nJane Austen,b,http://x/2\n"; r.code != 0 || r.stdout != want {
		t.Errorf("csv: exit %d, %q\n%s\nwant:\n%s", r.code, r.stderr, r.stdout, want)
	}
	r = runMain(t, dir, env, "items", "quotes", "--fields", "author,text", "--format", "table", "--limit", "2")
	if rows := lines(r.stdout); r.code != 0 || len(rows) != 4 || !strings.HasPrefix(rows[0], "author") || !strings.Contains(rows[3], "Jane Austen") || r.stderr != "" {
		t.Errorf("table --limit 2: exit %d, %q\n%s", r.code, r.stderr, r.stdout)
	}
	r = runMain(t, dir, env, "items", "quotes", "--format", "jsonl", "--limit", "1")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("jsonl --limit 1: exit %d\n%s", r.code, r.stdout)
	}
	r = runMain(t, dir, env, "items", "quotes", "--where", "auther=x")
	if r.code != 2 || !strings.Contains(r.stderr, `trawl: unknown field "auther"`) {
		t.Errorf("unknown field: exit %d, %q", r.code, r.stderr)
	}
	r = runMain(t, dir, env, "items", "quotes", "--where", "author")
	if r.code != 2 || !strings.Contains(r.stderr, "want FIELD=VALUE") {
		t.Errorf("--where without =: exit %d, %q", r.code, r.stderr)
	}
	r = runMain(t, dir, env, "items")
	if rows := table(r.stdout); r.code != 0 || len(rows) != 2 || rows[1][0] != "quotes" || rows[1][1] != "3" {
		t.Errorf("items without a dataset: exit %d\n%s", r.code, r.stdout)
	}
	reqs := srv.Requests()
	if !contains(reqs, "GET /v1/datasets/quotes/items.csv?fields=author%2Ctext&tags=love") || !contains(reqs, "GET /v1/datasets/quotes/items?fields=author%2Ctext&limit=2") {
		t.Errorf("requests: %q", reqs)
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func TestRunsAgainstDouble(t *testing.T) {
	t.Parallel()
	srv := clienttest.New(t, "")
	srv.PutSpider(t, spiderYAML("quotes", "q.example"))
	dir := t.TempDir()
	env := map[string]string{"TRAWL_SERVER": srv.URL}

	r := runMain(t, dir, env, "runs", "start", "quotes", "--at", "2030-01-02T03:04:05Z")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "run 1 of quotes queued to start at ") || !strings.HasSuffix(r.stdout, "; follow it with: trawl runs watch 1\n") {
		t.Errorf("start: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	r = runMain(t, dir, env, "runs", "start", "quotes")
	if r.code != 1 || r.stderr != "trawl: spider quotes already has run 1 queued\n" {
		t.Errorf("second start: exit %d, %q", r.code, r.stderr)
	}
	r = runMain(t, dir, env, "runs")
	if rows := table(r.stdout); r.code != 0 || len(rows) != 2 || rows[1][0] != "1" || rows[1][2] != "queued" {
		t.Errorf("runs with a server: exit %d, %q\n%s", r.code, r.stderr, r.stdout)
	}
	r = runMain(t, dir, env, "runs", "cancel", "1")
	if r.code != 0 || r.stdout != "run 1 of quotes canceled\n" {
		t.Errorf("cancel: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	r = runMain(t, dir, env, "runs", "get", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "status    canceled\n") || !strings.Contains(r.stdout, "run at    ") {
		t.Errorf("get: exit %d, %q\n%s", r.code, r.stderr, r.stdout)
	}
	r = runMain(t, dir, env, "runs", "get", "x")
	if r.code != 2 || !strings.Contains(r.stderr, `runs get: "x" is not a run ID`) {
		t.Errorf("get x: exit %d, %q", r.code, r.stderr)
	}
	r = runMain(t, dir, env, "runs", "--db", "other.db", "--server", srv.URL)
	if r.code != 2 || !strings.Contains(r.stderr, "give one of them") {
		t.Errorf("--db with --server: exit %d, %q", r.code, r.stderr)
	}
	// --db on the command line beats TRAWL_SERVER in the environment.
	r = runMain(t, dir, env, "runs", "get", "1", "--db", "other.db")
	if r.code != 1 || !strings.Contains(r.stderr, "no database at") {
		t.Errorf("--db with TRAWL_SERVER: exit %d, %q", r.code, r.stderr)
	}
	// Without a server, runs reads the local database and start refuses.
	r = runMain(t, dir, nil, "runs")
	if r.code != 1 || !strings.Contains(r.stderr, "no database at") {
		t.Errorf("local runs without a database: exit %d, %q", r.code, r.stderr)
	}
	r = runMain(t, dir, nil, "runs", "start", "quotes")
	if r.code != 2 || !strings.HasPrefix(r.stderr, "trawl: runs start needs a server: --server URL or TRAWL_SERVER") {
		t.Errorf("start without a server: exit %d, %q", r.code, r.stderr)
	}
	r = runMain(t, dir, env, "runs", "start", "quotes", "--at", "tomorrow")
	if r.code != 2 || !strings.Contains(r.stderr, `--at: "tomorrow" is not a time`) {
		t.Errorf("--at tomorrow: exit %d, %q", r.code, r.stderr)
	}
}

// TestRunsWatchAgainstDouble: the double's scripted event streams, one of
// which breaks mid-run, end as trawl run ends: summary and exit code.
func TestRunsWatchAgainstDouble(t *testing.T) {
	t.Parallel()
	srv := clienttest.New(t, "")
	progress := func(pages int64, drop bool) clienttest.Event {
		return clienttest.Event{Type: "progress", Status: trawl.RunRunning, Stats: trawl.RunStats{Pages: pages, Queued: 10, Items: pages * 2}, Rate: 2, Drop: drop}
	}
	done := trawl.RunStats{Pages: 10, Queued: 10, Items: 20, Bytes: 2048, Errors: map[string]int64{"http_4xx": 1}}
	ok := srv.AddRun("quotes", trawl.RunRunning, trawl.RunStats{}, progress(2, false), progress(5, true), progress(8, false),
		clienttest.Event{Type: "end", Status: trawl.RunSucceeded, Stats: done})
	failed := srv.AddRun("books", trawl.RunRunning, trawl.RunStats{}, progress(1, false),
		clienttest.Event{Type: "end", Status: trawl.RunFailed, Error: "database is locked", Stats: trawl.RunStats{Pages: 1}})
	canceled := srv.AddRun("authors", trawl.RunCanceled, trawl.RunStats{Pages: 3})
	dir := t.TempDir()
	env := map[string]string{"TRAWL_SERVER": srv.URL}

	r := runMain(t, dir, env, "runs", "watch", fmt.Sprint(ok), "--quiet")
	want := fmt.Sprintf("run %d finished: 10 pages, 20 items, 1 errors (http_4xx 1), 2.0 KiB in 1m0s (0.2 pages/s)\n", ok)
	if r.code != 0 || r.stderr != want {
		t.Errorf("watch ok: exit %d, stderr %q, want %q", r.code, r.stderr, want)
	}
	if n := strings.Count(strings.Join(srv.Requests(), "\n"), fmt.Sprintf("/v1/runs/%d/events", ok)); n != 2 {
		t.Errorf("%d event connections, want 2 (one reconnect)", n)
	}
	r = runMain(t, dir, env, "runs", "watch", fmt.Sprint(failed), "--quiet")
	if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("run %d failed: 1 pages", failed)) || !strings.HasSuffix(r.stderr, "trawl: run 2 failed: database is locked\n") {
		t.Errorf("watch failed: exit %d, %q", r.code, r.stderr)
	}
	r = runMain(t, dir, env, "runs", "watch", fmt.Sprint(canceled))
	if r.code != 130 || !strings.HasPrefix(r.stderr, fmt.Sprintf("run %d canceled: 3 pages", canceled)) {
		t.Errorf("watch canceled: exit %d, %q", r.code, r.stderr)
	}
	r = runMain(t, dir, env, "runs", "watch", "99")
	if r.code != 1 || r.stderr != "trawl: run 99 not found\n" {
		t.Errorf("watch unknown: exit %d, %q", r.code, r.stderr)
	}
}
