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
// body is decoded once; numbers stay [encoding/json.Number], the literal as
// written, so that integers beyond 2^53 keep every digit in items.
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
// A JSON field keeps the JSON type of its value. Its regex applies to
// strings and to the literal of numbers (yielding a string); URL applies to
// strings only.
//
// # Keys
//
// Every item gets the [ItemKey] of its rule's key fields. Of items sharing a
// key on one page only the last is kept.
//
// # Links
//
// Follow rules yield links resolved against the base URL, deduplicated
// within the page, in document order (JSON: rule order). At most the
// spider's Limits.MaxLinks are kept (0: no limit); the references past the
// limit are counted in [Result.LinksCapped], once each as written (they are
// not resolved, so /a and http://host/a count twice), leaving out
// references with a scheme other than http(s).
//
// # Scripted rules
//
// [Result.Rules] says per item rule whether it applied to the page and
// matched. When an HTML rule matched nothing, a cheap heuristic says
// whether the page likely needs JavaScript rendering (Scripted). It needs a
// script that a browser runs (no type, a JavaScript type or module; JSON
// data such as __NEXT_DATA__ or ld+json does not count), and then one of:
//
//   - a script writes content: document.write or writeln of a string that
//     starts with an element other than script, iframe, img, link, style,
//     meta or noscript (the loaders and pixels of ads and analytics);
//   - the page is an app shell: its visible body text (outside script,
//     style, template, noscript and title) has at most 64 characters other
//     than white space, or an element with the id root, app, __next,
//     __nuxt, ___gatsby or q-app is empty (nothing but white space or
//     noscript);
//   - the rule's root selector (without root: its fields' selectors) names
//     a class or id (CSS .class, #id, [class~=x], [class=x], [id=x] outside
//     :not(); XPath @class = "x", @id = "x", contains(@class, "x") and the
//     concat(" ", normalize-space(@class), " ") idiom) that no element
//     outside script, template and noscript has, and that a script assigns:
//     a whole word of a quoted value given to class, className,
//     classList.add or id (class="quote", {className: "quote"},
//     el.id = "root"; a selector string ".quote" or a bare word is not
//     enough).
//
// So ordinary pages with analytics or tag-manager scripts, whose content is
// in the markup, are not flagged; a page that builds its content from data
// without naming classes in scripts, and with visible text around it, is
// missed. The facts are gathered in one walk, only for pages where a rule
// matched nothing.
package extract
