package spider_test

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/trawl-dev/trawl/internal/spider"
)

func ExampleParse() {
	src := `
name: quotes
start_urls: [http://quotes.example/]
follow:
  - css: li.next > a
items:
  - css: div.quote
    fields:
      text: span.text
      tags: {css: a.tag, all: true}
    required: [text]
`
	sp, err := spider.Parse("quotes.yaml", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("name:", sp.Name)
	fmt.Println("hosts:", sp.Scope.Hosts)
	fmt.Println("fields:", sp.FieldNames())
	fmt.Println("follow attr:", sp.Follow[0].Attr)
	fmt.Println("per host:", sp.Politeness.ConcurrencyPerHost, "timeout:", sp.Fetch.Timeout)
	next, _ := url.Parse("http://quotes.example/page/2/")
	fmt.Println("allows page 2:", sp.Scope.Allows(next))
	// Output:
	// name: quotes
	// hosts: [quotes.example]
	// fields: [text tags]
	// follow attr: href
	// per host: 2 timeout: 20s
	// allows page 2: true
}

func ExampleValidationError() {
	src := `
name: Quotes
start_urls: [ftp://quotes.example/]
folow:
  - css: li.next > a
items:
  - css: 'div.quote['
    fields:
      text: span.text
    required: [txt]
politeness:
  delay: 5 seconds
`
	_, err := spider.Parse("quotes.yaml", []byte(src))
	var ve *spider.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(len(ve.Problems), "problems")
	}
	fmt.Println(err)
	// Output:
	// 6 problems
	// quotes.yaml:2:7: name: invalid name "Quotes": use 1 to 64 lowercase letters, digits, _ and -, starting with a letter or digit (^[a-z0-9][a-z0-9_-]{0,63}$)
	// quotes.yaml:3:14: start_urls[0]: must be an absolute http(s) URL, got "ftp://quotes.example/"
	// quotes.yaml:4:1: folow: unknown key "folow" (did you mean "follow"?)
	// quotes.yaml:7:10: items[0].css: invalid CSS selector "div.quote[": expected identifier, found EOF instead
	// quotes.yaml:10:16: items[0].required[0]: unknown field "txt" (did you mean "text"?)
	// quotes.yaml:12:10: politeness.delay: invalid duration "5 seconds": use a Go duration like 500ms, 2s, 1m
}
