package dashboard_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// spiderFile is the spider the test writes in the editor: slow enough
// (one request at a time, 150 ms apart) that the run is watched live.
const spiderFile = `name: quotes
start_urls:
  - %[1]s/
  - %[1]s/no-such-page
follow:
  - css: li.next > a
items:
  - css: div.quote
    fields:
      text: span.text
      author: small.author
      tags: {css: a.tag, all: true}
    required: [%[2]s]
    key: [text]
limits: {max_pages: 25}
politeness: {concurrency_per_host: 1, delay: 150ms, robots: ignore}
`

// setEditor replaces the editor's text, as a paste would.
func setEditor(text string) chromedp.Action[chromedp.Void] {
	return eval(fmt.Sprintf(`window.trawlEditor.setValue(%q)`, text))
}

// apiGet reads a JSON answer of the API.
func apiGet(t *testing.T, base, path string, v any) {
	t.Helper()
	res, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// TestDashboard walks the dashboard as a user would, in headless Chromium
// against a real server and a real SQLite file: the overview, the editor
// (a problem shown at its line, fixed, saved), a run started against a
// loopback site and watched (progress and chart), its dataset filtered and
// exported as CSV (the file's rows checked), a second run cancelled, each
// page without console errors, and a screenshot of each.
func TestDashboard(t *testing.T) {
	site := demo(t, 300)
	srv := startService(t, "", nil)
	b := newBrowser(t)

	b.open(t, srv.url+"/", "overview")
	b.run(t, "overview sections", chromedp.WaitVisible(css(`#recent .empty`)))
	b.noErrors(t, "overview (empty)")

	// The editor: a spider with a problem on line 13 (an unknown field in
	// required), shown at its line, then fixed and saved.
	b.open(t, srv.url+"/spiders/new", "editor")
	b.run(t, "name and bad spider",
		chromedp.SendKeys(css(`#spider-name`), "quotes"),
		setEditor(fmt.Sprintf(spiderFile, site.URL, "txt")))
	// Validation as you type (POST /v1/try, validate_only): no save needed.
	b.run(t, "problem at its line",
		chromedp.WaitVisible(css(`#problems li[data-line="13"]`)),
		chromedp.WaitVisible(css(`.CodeMirror-code > div:nth-child(13) .problem-mark`)),
		chromedp.WaitVisible(css(`.CodeMirror-code > div:nth-child(13) .cm-problem`)))
	problem := get(t, b, "problem text", chromedp.Text(css(`#problems li[data-line="13"]`)))
	if !strings.Contains(problem, "txt") {
		t.Errorf("problem = %q, want it to name the unknown field txt", problem)
	}
	b.shot(t, "editor-problem")
	b.run(t, "fix and save",
		setEditor(fmt.Sprintf(spiderFile, site.URL, "text")),
		chromedp.Click(css(`#save`)),
		chromedp.WaitVisible(css(`#valid`)),
		chromedp.WaitNotPresent(css(`#problems li[data-line]`)))
	var stored struct{ Version int }
	apiGet(t, srv.url, "/v1/spiders/quotes", &stored)
	if stored.Version != 1 {
		t.Errorf("stored spider version = %d, want 1", stored.Version)
	}
	b.shot(t, "editor")
	b.noErrors(t, "editor")

	// Start a run from the editor and watch it: the pages count grows and
	// the chart gets points while it runs.
	b.run(t, "start", chromedp.Click(css(`#start`)), chromedp.WaitVisible(css(`body[data-ready="run"]`)))
	var sawRunning bool
	waitFor(t, 20*time.Second, "the run's live progress", func() (bool, error) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		st, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector("h1 .badge")?.dataset.status || "", document.querySelector('[data-stat="pages"]')?.textContent || "0", document.body.dataset.points || "0"]`))
		if err != nil || len(st) != 3 {
			return false, err
		}
		status, pages, points := st[0], st[1], st[2]
		n, _ := strconv.Atoi(strings.ReplaceAll(pages, ",", ""))
		p, _ := strconv.Atoi(points)
		if status == "running" && n > 0 && p >= 2 {
			sawRunning = true
		}
		return sawRunning, err
	})
	b.shot(t, "run-live")
	b.run(t, "the run ends", chromedp.WaitVisible(css(`h1 .badge[data-status="succeeded"]`)))
	runURL := get(t, b, "run url", chromedp.Location())
	// A finished run, opened afresh: its chart comes from the stored series
	// and its hosts table from the stored per-host statistics.
	b.open(t, runURL, "run")
	b.run(t, "hosts and history",
		chromedp.WaitVisible(css(`#hosts table tbody tr`)),
		chromedp.WaitVisible(css(`#failed table tbody tr a[href$="/no-such-page"]`)),
		chromedp.WaitVisible(css(`body[data-points]:not([data-points="0"])`)))
	b.shot(t, "run")
	b.noErrors(t, "run")

	// The overview lists the run and the dataset.
	b.open(t, srv.url+"/", "overview")
	b.run(t, "overview lists", chromedp.WaitVisible(css(`#recent .badge[data-status="succeeded"]`)),
		chromedp.WaitVisible(css(`#datasets a[href="/datasets/quotes"]`)))
	b.shot(t, "overview")
	b.noErrors(t, "overview")

	// The dataset: filter by author, check every row, export the CSV and
	// compare it with the API's answer to the same query.
	b.open(t, srv.url+"/datasets/quotes", "dataset")
	b.run(t, "filter",
		chromedp.SetValue(css(`input[data-field="author"]`), "Albert Einstein"),
		eval(`document.querySelector('input[data-field="author"]').dispatchEvent(new Event("change"))`),
		chromedp.WaitVisible(css(`#export-csv[href*="author=Albert"]`)),
		chromedp.WaitReady(css(`#items[data-query*="author=Albert"]`)))
	var authors []string
	waitFor(t, 5*time.Second, "filtered rows", func() (bool, error) {
		var err error
		authors, err = chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#items tbody tr")].map(r => r.children[1].textContent)`))
		return len(authors) > 0, err
	})
	for _, a := range authors {
		if a != "Albert Einstein" {
			t.Errorf("filtered table shows author %q", a)
		}
	}
	href := get(t, b, "export link", chromedp.AttributeValue(css(`#export-csv`), "href")).Value
	if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: b.download}); err != nil {
		t.Fatal(err)
	}
	b.run(t, "download", chromedp.Click(css(`#export-csv`)))
	csvPath := filepath.Join(b.download, "quotes.csv")
	var got []byte
	waitFor(t, 10*time.Second, "the CSV download", func() (bool, error) {
		var err error
		got, err = os.ReadFile(csvPath)
		return err == nil && len(got) > 0, err
	})
	rows, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatalf("downloaded CSV: %v", err)
	}
	if len(rows) < 2 || len(rows)-1 != len(authors) && len(authors) < 50 {
		t.Errorf("CSV has %d rows, the table %d", len(rows)-1, len(authors))
	}
	col := -1
	for i, h := range rows[0] {
		if h == "author" {
			col = i
		}
	}
	for _, r := range rows[1:] {
		if col < 0 || r[col] != "Albert Einstein" {
			t.Fatalf("CSV row %q is not by Albert Einstein (header %q)", r, rows[0])
		}
	}
	u, _ := url.Parse(href)
	if u.Query().Get("author") != "Albert Einstein" {
		t.Errorf("export link %q does not carry the filter", href)
	}
	want := fetch(t, srv.url+href)
	if !bytes.Equal(got, want) {
		t.Errorf("downloaded CSV differs from GET %s:\n%s\nwant:\n%s", href, got, want)
	}
	b.run(t, "row JSON", chromedp.Click(css(`#items tbody tr`)), chromedp.WaitVisible(css(`#row-json pre`)))
	js := get(t, b, "row JSON text", chromedp.Text(css(`#row-json pre`)))
	b.run(t, "close", eval(`document.getElementById("row-json").close()`))
	if !strings.Contains(js, `"author": "Albert Einstein"`) {
		t.Errorf("row JSON = %s", js)
	}
	b.shot(t, "dataset")
	b.noErrors(t, "dataset")

	// Run again from the run page, then cancel that run.
	b.open(t, runURL, "run")
	b.run(t, "run again", chromedp.Click(css(`#again`)),
		chromedp.WaitVisible(css(`#cancel`)),
		chromedp.Click(css(`#cancel`)),
		chromedp.WaitVisible(css(`h1 .badge[data-status="canceled"]`)))
	again := get(t, b, "run url", chromedp.Location())
	if again == runURL {
		t.Errorf("run again stayed on %s", again)
	}
	var run struct{ Status string }
	apiGet(t, srv.url, "/v1/runs/"+again[strings.LastIndex(again, "/")+1:], &run)
	if run.Status != "canceled" {
		t.Errorf("the API says the cancelled run is %q", run.Status)
	}
	b.noErrors(t, "cancel")

	// A phone-sized viewport.
	b.run(t, "phone", chromedp.EmulateViewport(390, 844))
	b.open(t, srv.url+"/", "overview")
	b.shot(t, "overview-phone")
	b.run(t, "desktop", chromedp.EmulateViewport(1280, 800))
	b.noErrors(t, "phone")
}

func fetch(t *testing.T, u string) []byte {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", u, res.Status, err)
	}
	return data
}
