// Package extract applies a spider's follow and item rules to one fetched page and returns its links and items.
//
// Extraction is pure: it does no I/O, compiles nothing and shares no state, so
// one *spider.Spider may serve any number of concurrent [Extract] calls.
//
// # Parsing
//
// An HTML body is parsed once with golang.org/x/net/html, which repairs
// malformed markup the way browsers do; the same tree serves CSS rules
// (cascadia, matched directly on *html.Node) and XPath rules (antchfx). A JSON
// body is decoded once; integers that fit an int64 become int64, other
// numbers float64.
//
// # Selecting
//
// A CSS selector matches the descendant elements of its context (the
// document, or the item element for fields), as goquery's Find does. An
// XPath expression is evaluated with the context as both its context node
// and its root, so //a and .//a both search inside an item. An XPath
// expression may select attribute nodes (//a/@href) or text nodes (text());
// one that evaluates to a string, number or boolean selects nothing.
//
// # Values
//
// A field's value is the text of the matched node, with every run of Unicode
// white space collapsed into one space and trimmed, or the trimmed value of
// its Attr. Then the field's regex keeps the first capture group (or the
// whole match), and a URL field is resolved against the page's base URL
// (<base href> honoured). A field without All is nil when nothing matches;
// with All it is a list, empty when nothing matches.
//
// # Keys
//
// Every item gets the [ItemKey] of its rule's key fields. Of items sharing a
// key on one page only the last is kept.
package extract
