package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTry: trawl try prints exactly the page's items, the item rules
// matched and each follow rule's links in and out of scope; --json prints
// the API's document; nothing is stored, no database is made.
func TestTry(t *testing.T) {
	t.Parallel()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/":
			io.WriteString(w, `<html><p class="q"><b>one</b></p><p class="q"><b>two</b></p>
				<a class="nav" href="/2">2</a><a class="nav" href="https://elsewhere.example/x">x</a></html>`)
		case "/2":
			io.WriteString(w, `<html><p class="q"><b>three</b></p></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(site.Close)
	dir := t.TempDir()
	src := fmt.Sprintf(`name: t
start_urls: [%q]
follow: [{css: a.nav}]
items:
  - css: p.q
    fields: {text: b}
  - css: table
    fields: {cell: td}
`, site.URL+"/")
	if err := os.WriteFile(filepath.Join(dir, "t.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runMain(t, dir, nil, "try", "t.yaml")
	want := fmt.Sprintf(`%[1]s/: status 200

Items (2):
  {"text":"one","_url":"%[1]s/"}
  {"text":"two","_url":"%[1]s/"}

Item rules:
  items[0]: matched, 2 items
  items[1]: did not match, 0 items

Links:
  follow[0]: 1 in scope, 1 out of scope
    + %[1]s/2  (followed: queued at depth 1 (from a start URL))
    - https://elsewhere.example/x  (out of scope: host elsewhere.example is not in scope.hosts)
`, site.URL)
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("trawl try: exit %d, stderr %q, stdout:\n%s\nwant:\n%s", r.code, r.stderr, r.stdout, want)
	}

	r = runMain(t, dir, nil, "try", "t.yaml", site.URL+"/2", "--json")
	var doc struct {
		URL    string
		Status int
		Items  []map[string]any
		Links  []any
		Rules  []struct{ Matched bool }
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
		t.Fatalf("trawl try --json: exit %d, %v: %s %s", r.code, err, r.stdout, r.stderr)
	}
	if doc.URL != site.URL+"/2" || doc.Status != 200 || len(doc.Items) != 1 || doc.Items[0]["text"] != "three" ||
		len(doc.Links) != 0 || len(doc.Rules) != 2 || !doc.Rules[0].Matched {
		t.Errorf("trawl try --json = %+v", doc)
	}

	r = runMain(t, dir, nil, "try", "t.yaml", site.URL+"/gone")
	if r.code != 0 || !strings.Contains(r.stdout, "status 404") || !strings.Contains(r.stdout, "problem: fetch failed (http_4xx)") {
		t.Errorf("trawl try of a missing page: exit %d, stdout %s", r.code, r.stdout)
	}
	if r := runMain(t, dir, nil, "try", "t.yaml", "nope"); r.code != 2 || !strings.Contains(r.stderr, "want an absolute http or https URL") {
		t.Errorf("trawl try with a bad URL: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runMain(t, dir, nil, "try"); r.code != 2 {
		t.Errorf("trawl try without a spider: exit %d, want 2", r.code)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("trawl try left files: %v", entries)
	}
}
