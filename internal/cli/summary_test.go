package cli_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestSummaryNotesEndToEnd runs a crawl whose summary must carry every note
// the engine can feed it here: a rule that matched nothing on pages built by
// a script, links dropped by limits.max_links, and a host that throttled.
func TestSummaryNotesEndToEnd(t *testing.T) {
	t.Parallel()
	// An app shell: the quotes are built by a script, so div.quote matches
	// nothing; six links, of which limits.max_links keeps two.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `<html><body><div id="root"></div>
<a href="/a">a</a><a href="/b">b</a><a href="/c">c</a><a href="/d">d</a><a href="/e">e</a><a href="/f">f</a>
<script>for (const q of quotes) { const d = document.createElement("div"); d.className = "quote"; root.appendChild(d); }</script>
</body></html>`)
	}))
	t.Cleanup(app.Close)
	// A host that answers its first page request with 429 and Retry-After: 1.
	var first atomic.Bool
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		if first.CompareAndSwap(false, true) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, `<div class="quote"><span class="text">hello</span></div>`)
	}))
	t.Cleanup(busy.Close)

	dir := t.TempDir()
	writeFile(t, dir, "s.yaml", fmt.Sprintf(`name: notes
start_urls: ["%s/", "%s/"]
follow: [{css: a}]
items:
  - css: div.quote
    fields: {text: span.text}
limits: {max_links: 2, max_depth: 1}
`, app.URL, busy.URL))
	res := runMain(t, dir, nil, "run", "s.yaml", "--quiet")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	busyHost := strings.TrimPrefix(busy.URL, "http://")
	for _, want := range []string{
		"run 1 finished: 4 pages, 1 items, 0 errors",
		"item rule 1 (css div.quote) matched nothing on 3 pages that look rendered by JavaScript",
		"12 links not followed: pages had more links than limits.max_links allows", // 4 on each app page
		"host " + busyHost + " was throttled (1 time)",
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, res.stderr)
		}
	}
}
