package examples_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"

	"github.com/trawl-dev/trawl/examples"
	"github.com/trawl-dev/trawl/internal/demosite"
	"github.com/trawl-dev/trawl/internal/spider"
)

// TestExamplesValidate parses every example spider on disk and checks that
// the embedded FS holds the same files.
func TestExamplesValidate(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := fs.Glob(examples.FS, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(paths, embedded) || len(paths) < 2 {
		t.Fatalf("files on disk %v, embedded %v; want the same, at least 2", paths, embedded)
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			if _, err := spider.ParseFile(p); err != nil {
				t.Fatalf("ParseFile(%s): %v", p, err)
			}
		})
	}
}

func mustParse(t *testing.T, name string) *spider.Spider {
	t.Helper()
	data, err := fs.ReadFile(examples.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spider.Parse(name, data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return sp
}

// TestQuotesSpiderMatchesDemoSite applies the quotes spider's compiled
// selectors to the demo site's first page.
func TestQuotesSpiderMatchesDemoSite(t *testing.T) {
	t.Parallel()
	sp := mustParse(t, "quotes.yaml")
	if got, want := sp.StartURLs[0].String(), "http://127.0.0.1:8300/"; got != want {
		t.Errorf("start URL = %q, want %q (trawl demo rewrites it)", got, want)
	}
	if got, want := sp.Politeness.ConcurrencyPerHost, 4; got != want {
		t.Errorf("concurrency_per_host = %d, want %d", got, want)
	}

	site := demosite.New(demosite.Config{})
	srv := httptest.NewServer(site.Handler())
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: status %d", resp.StatusCode)
	}
	doc, err := html.Parse(resp.Body)
	if err != nil {
		t.Fatal(err)
	}

	var links []string
	for _, f := range sp.Follow {
		for _, n := range cascadia.QueryAll(doc, f.Selector.CSS) {
			links = append(links, attr(n, f.Attr))
		}
	}
	want := []string{"/page/2/", "/broken/500", "/broken/404", "/broken/malformed", "/broken/latin1", "/slow"}
	if !slices.Equal(links, want) {
		t.Errorf("followed links = %v, want %v", links, want)
	}

	rule := sp.Items[0]
	quotes := cascadia.QueryAll(doc, rule.Root.CSS)
	if len(quotes) != 10 {
		t.Fatalf("%d item elements, want 10", len(quotes))
	}
	var names []string
	for _, f := range rule.Fields {
		names = append(names, f.Name)
	}
	if want := []string{"text", "author", "tags", "author_url"}; !slices.Equal(names, want) {
		t.Errorf("fields = %v, want %v", names, want)
	}
	truth := site.Quotes()
	for i, q := range quotes {
		text := strings.Join(strings.Fields(textOf(cascadia.Query(q, rule.Fields[0].Selector.CSS))), " ")
		m := rule.Fields[0].Regex.FindStringSubmatch(text)
		if want := strings.Join(strings.Fields(truth[i].Text), " "); m == nil || m[1] != want {
			t.Errorf("quote %d: regex on %q gives %q, want %q", i, text, m, want)
		}
		if got := len(cascadia.QueryAll(q, rule.Fields[2].Selector.CSS)); got != len(truth[i].Tags) {
			t.Errorf("quote %d: %d tags, want %d", i, got, len(truth[i].Tags))
		}
		a := cascadia.Query(q, rule.Fields[3].Selector.CSS)
		if a == nil || attr(a, rule.Fields[3].Attr) != "/author/"+truth[i].AuthorSlug+"/" {
			t.Errorf("quote %d: author link not found", i)
		}
	}
}

// TestAPIsSpiderRules checks that each start URL of the APIs spider has
// exactly one item rule.
func TestAPIsSpiderRules(t *testing.T) {
	t.Parallel()
	sp := mustParse(t, "apis.yaml")
	if len(sp.StartURLs) != 4 {
		t.Fatalf("%d start URLs, want 4", len(sp.StartURLs))
	}
	for _, u := range sp.StartURLs {
		pq := u.RequestURI()
		n := 0
		for _, r := range sp.Items {
			if !r.IsJSON() {
				t.Errorf("rule %v is not a JSON rule", r.URLs)
			}
			for _, re := range r.URLs {
				if re.MatchString(pq) {
					n++
					break
				}
			}
		}
		if n != 1 {
			t.Errorf("%s matches %d item rules, want 1", pq, n)
		}
	}
	if len(sp.Follow) != 1 || sp.Follow[0].JSON == nil {
		t.Errorf("follow = %+v, want one json rule", sp.Follow)
	}
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
