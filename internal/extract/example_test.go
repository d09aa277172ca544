package extract_test

import (
	"fmt"
	"log"
	"net/url"

	"github.com/trawl-dev/trawl/internal/extract"
	"github.com/trawl-dev/trawl/internal/spider"
)

func ExampleExtract() {
	sp, err := spider.Parse("quotes.yaml", []byte(`
name: quotes
start_urls: [http://quotes.example/]
follow:
  - css: li.next > a
items:
  - css: div.quote
    fields:
      text: span.text
      author: small.author
      tags: {css: a.tag, all: true}
      about: {css: 'a[href^="/author/"]', attr: href, url: true}
    required: [text]
`))
	if err != nil {
		log.Fatal(err)
	}
	page := extract.Page{
		URL:         &url.URL{Scheme: "http", Host: "quotes.example", Path: "/"},
		ContentType: "text/html",
		Body: []byte(`<html><body>
<div class="quote">
  <span class="text">“Simplicity is
     prerequisite for reliability.”</span>
  by <small class="author">Edsger W. Dijkstra</small> <a href="/author/dijkstra">(about)</a>
  <a class="tag" href="/tag/simplicity/">simplicity</a> <a class="tag" href="/tag/reliability/">reliability</a>
</div>
<div class="quote"><small class="author">Anonymous</small></div>
<ul class="pager"><li class="next"><a href="/page/2/">Next</a></li></ul>
</body></html>`),
	}
	res, err := extract.Extract(sp, page)
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range res.Links {
		fmt.Println("link:", l)
	}
	for _, it := range res.Items {
		b, err := it.MarshalJSON()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("item:", string(b))
	}
	fmt.Println("invalid:", res.Invalid)
	// Output:
	// link: http://quotes.example/page/2/
	// item: {"text":"“Simplicity is prerequisite for reliability.”","author":"Edsger W. Dijkstra","tags":["simplicity","reliability"],"about":"http://quotes.example/author/dijkstra","_url":"http://quotes.example/"}
	// invalid: 1
}
