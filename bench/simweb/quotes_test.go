package simweb_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/bench/simweb"
)

func mustStartQuotes(tb testing.TB, cfg simweb.QuotesConfig) *simweb.Quotes {
	tb.Helper()
	q, err := simweb.StartQuotes(cfg)
	if err != nil {
		tb.Fatalf("StartQuotes: %v", err)
	}
	tb.Cleanup(func() {
		if err := q.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return q
}

// getJSON fetches rawURL and decodes its JSON body into out, returning the status.
func getJSON(tb testing.TB, rawURL string, out any) int {
	tb.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		tb.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			tb.Errorf("GET %s: Content-Type %q, want application/json", rawURL, ct)
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			tb.Fatalf("GET %s: decode: %v", rawURL, err)
		}
	}
	return resp.StatusCode
}

// TestQuotesServesPages checks the shape a crawler sees: an index linking every page, pages of
// PerPage quotes with consecutive ids equal to Config.Quote, and 404 for anything else.
func TestQuotesServesPages(t *testing.T) {
	t.Parallel()
	q := mustStartQuotes(t, simweb.QuotesConfig{Pages: 3, PerPage: 40, Seed: 7})
	var idx simweb.QuotesIndex
	if st := getJSON(t, q.URL(), &idx); st != http.StatusOK {
		t.Fatalf("index: status %d", st)
	}
	if diff := cmp.Diff([]string{"/quotes/1", "/quotes/2", "/quotes/3"}, idx.Pages); diff != "" {
		t.Errorf("index pages (-want +got):\n%s", diff)
	}
	var page simweb.QuotesPage
	if st := getJSON(t, "http://"+q.Host()+"/quotes/2", &page); st != http.StatusOK {
		t.Fatalf("page 2: status %d", st)
	}
	if page.Page != 2 || len(page.Quotes) != 40 {
		t.Fatalf("page 2: page %d with %d quotes, want page 2 with 40", page.Page, len(page.Quotes))
	}
	for i, got := range page.Quotes {
		if want := q.Config().Quote(40 + i); !cmp.Equal(want, got) {
			t.Fatalf("page 2 quote %d = %+v, want %+v", i, got, want)
		}
	}
	for _, path := range []string{"/quotes/0", "/quotes/4", "/quotes/02", "/quotes/x", "/other"} {
		if st := getJSON(t, "http://"+q.Host()+path, nil); st != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, st)
		}
	}
	if n := q.Requests(); n != 7 {
		t.Errorf("Requests = %d, want 7", n)
	}
}

// TestQuoteDistribution checks the properties the items API measurements rely on over 10,000
// quotes: authors from the name list in varied case (so that exact and case-insensitive filters
// differ), most of the 2,000 names and 500 tags in use, 1 to 4 distinct tags, years 1800-2024,
// and the same quote for the same seed.
func TestQuoteDistribution(t *testing.T) {
	t.Parallel()
	cfg := simweb.QuotesConfig{Pages: 100, Seed: 1}.WithDefaults()
	names := map[string]bool{}
	for a := range cfg.Authors {
		names[simweb.AuthorName(a)] = true
	}
	tags := map[string]bool{}
	for i := range cfg.Tags {
		tags[simweb.TagName(i)] = true
	}
	if len(names) != 2000 || len(tags) != 500 {
		t.Fatalf("%d distinct names and %d tags, want 2000 and 500", len(names), len(tags))
	}
	authors, usedTags := map[string]bool{}, map[string]bool{}
	var lower, upper, proper int
	texts := map[string]bool{}
	for id := range cfg.Items() {
		qt := cfg.Quote(id)
		if qt.ID != id || texts[qt.Text] {
			t.Fatalf("quote %d: id %d, text %q (unique texts expected)", id, qt.ID, qt.Text)
		}
		texts[qt.Text] = true
		switch {
		case names[qt.Author]:
			proper++
		case qt.Author == strings.ToLower(qt.Author):
			lower++
		case qt.Author == strings.ToUpper(qt.Author):
			upper++
		default:
			t.Fatalf("quote %d: author %q is no name in any case", id, qt.Author)
		}
		authors[strings.ToLower(qt.Author)] = true
		if len(qt.Tags) < 1 || len(qt.Tags) > 4 {
			t.Fatalf("quote %d: %d tags, want 1 to 4", id, len(qt.Tags))
		}
		seen := map[string]bool{}
		for _, tag := range qt.Tags {
			if !tags[tag] || seen[tag] {
				t.Fatalf("quote %d: tags %q: unknown or repeated", id, qt.Tags)
			}
			seen[tag], usedTags[tag] = true, true
		}
		if qt.Year < 1800 || qt.Year > 2024 {
			t.Fatalf("quote %d: year %d", id, qt.Year)
		}
	}
	if proper < 7500 || lower < 700 || upper < 700 {
		t.Errorf("author case: %d proper, %d lower, %d upper; want about 8000, 1000, 1000", proper, lower, upper)
	}
	if len(authors) < 1900 || len(usedTags) < 490 {
		t.Errorf("%d distinct authors and %d tags in use, want nearly all of 2000 and 500", len(authors), len(usedTags))
	}
	again := simweb.QuotesConfig{Pages: 1, Seed: 1}.WithDefaults()
	if !cmp.Equal(cfg.Quote(42), again.Quote(42)) || cmp.Equal(cfg.Quote(42), simweb.QuotesConfig{Seed: 2}.WithDefaults().Quote(42)) {
		t.Error("Quote must depend on the seed and the id only")
	}
}

func TestQuotesConfigInvalid(t *testing.T) {
	t.Parallel()
	for _, cfg := range []simweb.QuotesConfig{
		{Pages: -1},
		{PerPage: simweb.QuotesPerPageMax + 1},
		{Authors: 1 << 20},
		{Tags: -3},
	} {
		if q, err := simweb.StartQuotes(cfg); err == nil {
			q.Close()
			t.Errorf("StartQuotes(%+v): no error", cfg)
		}
	}
}
