package extract_test

import (
	"bytes"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/trawl-dev/trawl/internal/extract"
)

// benchSpider follows pagination and tag links and extracts ten quotes per
// page, like the quotes scenario of bench/.
const benchSpider = `
name: bench
start_urls: [http://quotes.example/]
follow:
  - css: li.next > a
  - css: a.tag
  - css: nav a
items:
  - css: div.quote
    fields:
      text: span.text
      author: small.author
      tags: {css: a.tag, all: true}
      about: {css: 'a[href^="/author/"]', attr: href, url: true}
    required: [text]
    key: [text]
`

// benchPage returns a page of about 10 KB with 10 quotes and about 30
// distinct links.
func benchPage() []byte {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><title>Quotes to Scrape</title>
<link rel="stylesheet" href="/static/bootstrap.min.css"><link rel="stylesheet" href="/static/main.css">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="description" content="A collection of quotes by famous people, paginated, with tags and author pages.">
<meta property="og:title" content="Quotes to Scrape"><meta property="og:type" content="website"><meta property="og:url" content="http://quotes.example/">
<script type="text/javascript">
  window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('js', new Date());
  gtag('config', 'UA-000000-1', {'anonymize_ip': true, 'page_path': location.pathname + location.search});
  document.addEventListener('DOMContentLoaded', function () {
    var tags = document.querySelectorAll('a.tag');
    for (var i = 0; i < tags.length; i++) {
      tags[i].addEventListener('click', function (e) { gtag('event', 'tag_click', {'tag': e.target.textContent}); });
    }
  });
</script>
<style>.quote{border:1px solid #333;border-radius:5px;padding:10px;margin-bottom:30px}.tag{background:#7ca3e6;color:#fff;padding:2px 4px;border-radius:4px}</style></head>
<body><div class="container"><div class="row header-box"><div class="col-md-8"><h1><a href="/" style="text-decoration: none">Quotes to Scrape</a></h1></div>
<div class="col-md-4"><p><a href="/login">Login</a></p></div></div>
<nav><a href="/">Home</a> <a href="/about">About</a> <a href="/tableful/">Table</a> <a href="/random">Random</a> <a href="/search.aspx">Search</a></nav>
<div class="row"><div class="col-md-8">
`)
	for i := range 10 {
		fmt.Fprintf(&b, `<div class="quote" itemscope itemtype="http://schema.org/CreativeWork">
    <span class="text" itemprop="text">“Quote number %d: the world as we have created it is a process of our thinking.
        It cannot be changed without changing our thinking, said the author in a long sentence.”</span>
    <span>by <small class="author" itemprop="author">Author %d</small>
    <a href="/author/author-%d">(about)</a></span>
    <div class="tags">Tags: <meta class="keywords" itemprop="keywords" content="change,deep-thoughts">
      <a class="tag" href="/tag/topic-%d/page/1/">topic-%d</a>
      <a class="tag" href="/tag/topic-%d/page/1/">topic-%d</a>
      <a class="tag" href="/tag/common/page/1/">common</a>
    </div>
</div>
`, i, i, i, i, i, i+10, i+10)
	}
	b.WriteString(`<nav><ul class="pager"><li class="next"><a href="/page/2/">Next <span aria-hidden="true">&rarr;</span></a></li></ul></nav>
</div><div class="col-md-4 tags-box"><h2>Top Ten tags</h2>
<span class="tag-item"><a class="tag" style="font-size: 28px" href="/tag/love/">love</a></span>
<span class="tag-item"><a class="tag" style="font-size: 26px" href="/tag/inspirational/">inspirational</a></span>
</div></div></div>
<footer class="footer"><div class="container"><p class="text-muted">Quotes by: <a href="https://www.goodreads.com/quotes">GoodReads.com</a></p>
<p class="copyright">Made with <span class='zyte'>❤</span> by <a class='zyte' href="https://www.zyte.com">Zyte</a></p></div></footer>
</body></html>`)
	return []byte(b.String())
}

func BenchmarkExtract(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark skipped in short mode")
	}
	sp := mustParse(b, benchSpider)
	body := benchPage()
	u, _ := url.Parse("http://quotes.example/page/1/")
	p := extract.Page{URL: u, ContentType: "text/html", Body: body}
	res, err := extract.Extract(sp, p)
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Items) != 10 || len(res.Links) < 25 {
		b.Fatalf("got %d items and %d links, want 10 and about 30", len(res.Items), len(res.Links))
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := extract.Extract(sp, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHTMLParse is the floor for BenchmarkExtract: parsing the same page
// with golang.org/x/net/html and nothing else.
func BenchmarkHTMLParse(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark skipped in short mode")
	}
	body := benchPage()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := html.Parse(bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExtractJSON(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark skipped in short mode")
	}
	sp := mustParse(b, `
name: bench_json
start_urls: [http://api.example/]
follow:
  - json: next
items:
  - json: quotes
    fields: {text: text, author: author.name, tags: tags, score: score}
`)
	var s strings.Builder
	s.WriteString(`{"next": "/api/quotes?page=2", "quotes": [`)
	for i := range 10 {
		if i > 0 {
			s.WriteString(",")
		}
		fmt.Fprintf(&s, `{"text": "Quote %d about thinking and changing the world.", "author": {"name": "Author %d", "slug": "author-%d"}, "tags": ["a", "b", "c"], "score": %d.5}`, i, i, i, i)
	}
	s.WriteString(`]}`)
	u, _ := url.Parse("http://api.example/api/quotes?page=1")
	p := extract.Page{URL: u, ContentType: "application/json", Body: []byte(s.String())}
	if res, err := extract.Extract(sp, p); err != nil || len(res.Items) != 10 {
		b.Fatalf("Extract = %d items, %v; want 10, nil", len(res.Items), err)
	}
	b.SetBytes(int64(len(p.Body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := extract.Extract(sp, p); err != nil {
			b.Fatal(err)
		}
	}
}

// manyLinksPage returns an HTML page of at least size bytes made of short
// distinct links, 33 bytes each, and the number of links.
func manyLinksPage(size int) ([]byte, int) {
	var b bytes.Buffer
	b.Grow(size + 64)
	b.WriteString("<!DOCTYPE html><html><head><title>links</title></head><body>\n")
	n := 0
	for b.Len() < size {
		fmt.Fprintf(&b, "<a href=\"/i/%06d\">i%06d</a>\n", n, n)
		n++
	}
	b.WriteString("</body></html>\n")
	return b.Bytes(), n
}

// BenchmarkExtractManyLinks parses a 10 MiB page of about 330,000 distinct
// links with one follow rule, with the default max_links and without a
// limit. alloc-B/body-B is the bytes allocated per body byte, an upper bound
// of the heap one page in flight needs (see BenchmarkHTMLParseManyLinks for
// the live part).
func BenchmarkExtractManyLinks(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark skipped in short mode")
	}
	body, n := manyLinksPage(10 << 20)
	u, _ := url.Parse("http://links.example/")
	p := extract.Page{URL: u, ContentType: "text/html", Body: body}
	for _, maxLinks := range []int{10000, 0} {
		b.Run(fmt.Sprintf("max_links=%d", maxLinks), func(b *testing.B) {
			sp := mustParse(b, fmt.Sprintf(`
name: bench_links
start_urls: [http://links.example/]
follow:
  - css: a
items:
  - css: title
    fields: {title: {attr: lang}}
limits: {max_links: %d}
`, maxLinks))
			res, err := extract.Extract(sp, p)
			if err != nil {
				b.Fatal(err)
			}
			if got := len(res.Links) + res.LinksCapped; got != n {
				b.Fatalf("%d links + %d capped, want %d in all", len(res.Links), res.LinksCapped, n)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			for b.Loop() {
				if _, err := extract.Extract(sp, p); err != nil {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&m1)
			b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(b.N)/float64(len(body)), "alloc-B/body-B")
		})
	}
}

// BenchmarkHTMLParseManyLinks is the floor for BenchmarkExtractManyLinks:
// parsing the same page with golang.org/x/net/html and nothing else.
func BenchmarkHTMLParseManyLinks(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark skipped in short mode")
	}
	body, _ := manyLinksPage(10 << 20)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for b.Loop() {
		if _, err := html.Parse(bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(b.N)/float64(len(body)), "alloc-B/body-B")
	b.ReportMetric(float64(liveTree(b, body))/float64(len(body)), "live-B/body-B")
}

// liveTree returns the heap bytes a parsed tree of body keeps alive.
func liveTree(tb testing.TB, body []byte) uint64 {
	tb.Helper()
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	runtime.KeepAlive(doc)
	return m1.HeapAlloc - m0.HeapAlloc
}
