package extract_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/extract"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/trawl"
)

var update = flag.Bool("update", false, "rewrite the golden want.json files in testdata")

// golden is the want.json of a test case: the Result with links as strings
// and items as their JSON, or the error.
type golden struct {
	Links       []string          `json:"links"`
	LinksCapped int               `json:"links_capped,omitempty"`
	Items       []json.RawMessage `json:"items"`
	Keys        []string          `json:"keys"`
	Invalid     int               `json:"invalid"`
	Rules       []trawl.RuleStats `json:"rules"`
	Error       string            `json:"error,omitempty"`
}

// TestExtractGolden runs every directory of testdata: spider.yaml applied to
// page.html (text/html) or page.json (application/json) fetched from the URL
// in url.txt must give want.json.
func TestExtractGolden(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob(filepath.Join("testdata", "*", "spider.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no test cases in testdata")
	}
	for _, sp := range dirs {
		dir := filepath.Dir(sp)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			got := runCase(t, dir)
			wantPath := filepath.Join(dir, "want.json")
			if *update {
				if err := os.WriteFile(wantPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("Extract mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// runCase extracts one test case and encodes the result as golden JSON.
func runCase(t *testing.T, dir string) []byte {
	t.Helper()
	sp := mustParseSpider(t, filepath.Join(dir, "spider.yaml"))
	rawURL, err := os.ReadFile(filepath.Join(dir, "url.txt"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(strings.TrimSpace(string(rawURL)))
	if err != nil {
		t.Fatal(err)
	}
	p := extract.Page{URL: u}
	if p.Body, err = os.ReadFile(filepath.Join(dir, "page.html")); err == nil {
		p.ContentType = "text/html"
	} else if p.Body, err = os.ReadFile(filepath.Join(dir, "page.json")); err == nil {
		p.ContentType = "application/json"
	} else {
		t.Fatalf("%s has neither page.html nor page.json", dir)
	}

	res, err := extract.Extract(sp, p)
	g := golden{
		Links: []string{}, LinksCapped: res.LinksCapped, Items: []json.RawMessage{}, Keys: []string{},
		Invalid: res.Invalid, Rules: res.Rules,
	}
	if err != nil {
		var pe *extract.ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("Extract error = %T %v, want *extract.ParseError", err, err)
		}
		if pe.URL != u.String() {
			t.Errorf("ParseError.URL = %q, want %q", pe.URL, u.String())
		}
		g.Error = err.Error()
	}
	for _, l := range res.Links {
		g.Links = append(g.Links, l.String())
	}
	for _, it := range res.Items {
		b, err := it.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		g.Items = append(g.Items, b)
		g.Keys = append(g.Keys, it.Key)
		if it.URL != u.String() {
			t.Errorf("Item.URL = %q, want %q", it.URL, u.String())
		}
		if want := extract.ItemKey(it.Fields, it.URL, keyOf(sp, it.Fields)); it.Key != want {
			t.Errorf("Item.Key = %q, want ItemKey(...) = %q", it.Key, want)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// keyOf returns the key of the item rule whose fields have the names of
// fields, so that the test can recompute an item's key.
func keyOf(sp *spider.Spider, fields []trawl.Field) []string {
	for _, r := range sp.Items {
		if len(r.Fields) != len(fields) {
			continue
		}
		same := true
		for i := range r.Fields {
			same = same && r.Fields[i].Name == fields[i].Name
		}
		if same {
			return r.Key
		}
	}
	return nil
}

// mustParseSpider loads and compiles a spider file.
func mustParseSpider(tb testing.TB, path string) *spider.Spider {
	tb.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	sp, err := spider.Parse(path, src)
	if err != nil {
		tb.Fatalf("parse %s: %v", path, err)
	}
	return sp
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
