package extract

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/trawl-dev/trawl/internal/spider"
)

// shellText is the most visible body text, in characters other than white
// space, that an app shell shows: "Loading…", a logo's alt text. A real page
// that a rule should match carries more.
const shellText = 64

// scriptFacts are what the JavaScript heuristic needs to know about a page,
// gathered in one walk when a rule first matches nothing.
type scriptFacts struct {
	// scripts are the texts of every <script> element, whatever its type:
	// a text/template script holding class="quote" is client-side markup too.
	scripts []string
	exec    bool // a script that a browser runs (no type, JavaScript or module)
	shell   bool // visible body text nearly empty, or an empty framework mount point
	written bool // a script writes content markup with document.write
}

// scripted reports whether rule, which matched nothing on this page, likely
// needs JavaScript rendering. See "Scripted rules" in the package doc.
func (hp *htmlPage) scripted(rule *spider.ItemRule) bool {
	if hp.facts == nil {
		hp.facts = gatherScriptFacts(hp.doc)
	}
	f := hp.facts
	switch {
	case !f.exec:
		return false
	case f.shell, f.written:
		return true
	}
	for _, name := range ruleNames(rule) {
		if f.mentions(name) && !inDOM(hp.doc, name) {
			return true
		}
	}
	return false
}

func gatherScriptFacts(doc *html.Node) *scriptFacts {
	f := &scriptFacts{}
	visible := 0 // characters of body text, counted up to shellText+1
	mount := false
	for n := next(doc, doc); n != nil; {
		if n.Type == html.TextNode {
			// Text in <head> is inside <title>, which is skipped, or
			// white space: this is body text.
			visible += nonSpace(n.Data, shellText+1-visible)
		}
		if n.Type != html.ElementNode {
			n = next(n, doc)
			continue
		}
		switch n.DataAtom {
		case atom.Script:
			typ, _ := attr(n, "type")
			f.exec = f.exec || executable(typ)
			if c := n.FirstChild; c != nil && c.Type == html.TextNode {
				f.scripts = append(f.scripts, c.Data)
				f.written = f.written || writesMarkup(c.Data)
			}
			n = skip(n, doc)
			continue
		case atom.Style, atom.Template, atom.Noscript, atom.Title:
			n = skip(n, doc)
			continue
		}
		mount = mount || emptyMount(n)
		n = next(n, doc)
	}
	f.shell = visible <= shellText || mount
	return f
}

// mentions reports whether a script gives an element the class or id
// name, as markup or code would: the name is a whole word of a quoted
// value assigned to class, className or id, or passed to classList.add
// (class="quote", class=\"big quote\", className: 'quote', {className:
// "quote"}, el.id = "root", classList.add("quote")). A bare word (var
// quote), a selector (".quote") or other text ("name": "quote") is not a
// mention.
func (f *scriptFacts) mentions(name selectorName) bool {
	for _, s := range f.scripts {
		for i := 0; ; {
			j := strings.Index(s[i:], name.value)
			if j < 0 {
				break
			}
			j += i
			end := j + len(name.value)
			if j > 0 && delim(s[j-1]) && (end == len(s) || delim(s[end])) && assigned(s[:j], name.id) {
				return true
			}
			i = j + 1
		}
	}
	return false
}

// assigned reports whether the text before a word ends in a quoted value
// assigned to a class (id: an id): the value's other words, a quote,
// backslashes and white space, some of = : ( {, then a name ending in
// class, classname, classlist.add or id (ASCII case-insensitive).
func assigned(before string, id bool) bool {
	i := len(before)
	for i > 0 && (identChar(before[i-1]) || space(before[i-1])) {
		i-- // the value's other words
	}
	if i == 0 || !quote(before[i-1]) {
		return false
	}
	i--
	for i > 0 && (before[i-1] == '\\' || space(before[i-1])) {
		i--
	}
	if i == 0 || !strings.ContainsRune("=:({", rune(before[i-1])) {
		return false
	}
	for i > 0 && (space(before[i-1]) || strings.ContainsRune("=:({", rune(before[i-1]))) {
		i-- // also className={"quote"}
	}
	j := i
	for j > 0 && (identChar(before[j-1]) || before[j-1] == '.' || before[j-1] == '$') {
		j--
	}
	key := strings.ToLower(before[j:i])
	if id {
		return strings.HasSuffix(key, "id")
	}
	return strings.HasSuffix(key, "class") || strings.HasSuffix(key, "classname") || strings.HasSuffix(key, "classlist.add")
}

func quote(c byte) bool { return c == '"' || c == '\'' || c == '`' }

func space(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// delim reports whether c may border a class name in a quoted value.
func delim(c byte) bool { return quote(c) || space(c) || c == '\\' }

// executable reports whether a script of this type attribute runs in a
// browser; JSON data (application/json, ld+json) and templates do not.
func executable(typ string) bool {
	typ = strings.ToLower(strings.TrimSpace(typ))
	return typ == "" || typ == "module" || strings.Contains(typ, "javascript") || strings.Contains(typ, "ecmascript")
}

// writeRE finds document.write calls whose argument starts with an element.
var writeRE = regexp.MustCompile(`document\.write(?:ln)?\(\s*["'\x60]\s*<([a-zA-Z][a-zA-Z0-9]*)`)

// writesMarkup reports whether script writes content with document.write.
// Loaders that write a <script>, <iframe>, <img> (tracking pixel), <link>,
// <style>, <meta> or <noscript> are common in ads and analytics and do not
// count.
func writesMarkup(script string) bool {
	if !strings.Contains(script, "document.write") {
		return false
	}
	for _, m := range writeRE.FindAllStringSubmatch(script, -1) {
		switch strings.ToLower(m[1]) {
		case "script", "iframe", "img", "link", "style", "meta", "noscript":
		default:
			return true
		}
	}
	return false
}

// isMountID reports whether id is that of the element client-side
// frameworks render into: React (create-react-app, Vite), Vue, Next.js,
// Nuxt, Gatsby, Quasar.
func isMountID(id string) bool {
	switch id {
	case "root", "app", "__next", "__nuxt", "___gatsby", "q-app":
		return true
	}
	return false
}

// emptyMount reports whether n is a framework mount point with nothing
// rendered into it: no element other than <noscript>, no text.
func emptyMount(n *html.Node) bool {
	if id, ok := attr(n, "id"); !ok || !isMountID(id) {
		return false
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.ElementNode && c.DataAtom != atom.Noscript:
			return false
		case c.Type == html.TextNode && strings.TrimSpace(c.Data) != "":
			return false
		}
	}
	return true
}

// nonSpace counts the characters of s other than white space, stopping at
// limit.
func nonSpace(s string, limit int) int {
	n := 0
	for _, r := range s {
		if n >= limit {
			break
		}
		if r != utf8.RuneError && !isSpace(r) {
			n++
		}
	}
	return n
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\f', '\v', 0xA0:
		return true
	}
	return false
}

// skip returns the node after n's subtree in a pre-order walk of top.
func skip(n, top *html.Node) *html.Node {
	for n != top {
		if n.NextSibling != nil {
			return n.NextSibling
		}
		n = n.Parent
	}
	return nil
}

// selectorName is a class or id that a selector requires.
type selectorName struct {
	id    bool // an id, else a class
	value string
}

// inDOM reports whether an element outside <script>, <template> and
// <noscript> has the class or id name.
func inDOM(doc *html.Node, name selectorName) bool {
	key := "class"
	if name.id {
		key = "id"
	}
	for n := next(doc, doc); n != nil; {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Script, atom.Template, atom.Noscript:
				n = skip(n, doc)
				continue
			}
			if v, ok := attr(n, key); ok {
				if name.id && v == name.value || !name.id && hasClass(v, name.value) {
					return true
				}
			}
		}
		n = next(n, doc)
	}
	return false
}

func hasClass(list, class string) bool {
	for _, c := range strings.Fields(list) {
		if c == class {
			return true
		}
	}
	return false
}

// ruleNames returns the classes and ids that rule's root selector requires,
// or its fields' selectors when it has no root.
func ruleNames(rule *spider.ItemRule) []selectorName {
	if !rule.Root.IsZero() {
		return selectorNames(rule.Root)
	}
	var names []selectorName
	for i := range rule.Fields {
		names = append(names, selectorNames(rule.Fields[i].Selector)...)
	}
	return names
}

func selectorNames(s spider.Selector) []selectorName {
	switch {
	case s.CSS != nil:
		return cssNames(s.Source)
	case s.XPath != nil:
		return xpathNames(s.Source)
	}
	return nil
}

// cssNames returns the .class and #id names of a CSS selector, and the
// values of [class~=x], [class=x] and [id=x]. Names inside :not() and inside
// quoted strings elsewhere are left out.
func cssNames(sel string) []selectorName {
	var names []selectorName
	for i := 0; i < len(sel); {
		switch c := sel[i]; {
		case c == '.' || c == '#':
			j := i + 1
			for j < len(sel) && identChar(sel[j]) {
				j++
			}
			if j > i+1 {
				names = append(names, selectorName{id: c == '#', value: sel[i+1 : j]})
			}
			i = j
		case c == '[':
			j := strings.IndexByte(sel[i:], ']')
			if j < 0 {
				return names
			}
			names = append(names, attrSelectorNames(sel[i+1:i+j])...)
			i += j + 1
		case c == '"' || c == '\'':
			j := strings.IndexByte(sel[i+1:], c)
			if j < 0 {
				return names
			}
			i += j + 2
		case strings.HasPrefix(sel[i:], ":not("):
			depth := 0
			for i += len(":not"); i < len(sel); i++ {
				if sel[i] == '(' {
					depth++
				} else if sel[i] == ')' {
					if depth--; depth == 0 {
						i++
						break
					}
				}
			}
		default:
			i++
		}
	}
	return names
}

// attrSelectorNames reads the inside of an attribute selector such as
// class~="quote".
func attrSelectorNames(s string) []selectorName {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return nil
	}
	op := ""
	if name != "" && strings.ContainsRune("~|^$*", rune(name[len(name)-1])) {
		op, name = name[len(name)-1:], name[:len(name)-1]
	}
	name = strings.ToLower(strings.TrimSpace(name))
	value = strings.Trim(strings.TrimSpace(value), `"'`)
	switch {
	case name == "id" && op == "":
		return []selectorName{{id: true, value: value}}
	case name == "class" && (op == "" || op == "~"):
		var names []selectorName
		for _, c := range strings.Fields(value) {
			names = append(names, selectorName{value: c})
		}
		return names
	}
	return nil
}

func identChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c >= 0x80
}

var (
	// xpathEqRE: @class="a b", @id='x'.
	xpathEqRE = regexp.MustCompile(`@(class|id)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
	// xpathContainsRE: contains(@class, "x") and the exact-class idiom
	// contains(concat(" ", normalize-space(@class), " "), " x ").
	xpathContainsRE = regexp.MustCompile(`contains\(\s*(?:concat\(\s*["']\s*["']\s*,\s*normalize-space\(\s*@(class)\s*\)\s*,\s*["']\s*["']\s*\)|@(class|id))\s*,\s*(?:"([^"]*)"|'([^']*)')`)
)

// xpathNames returns the classes and ids that an XPath expression compares
// @class or @id with.
func xpathNames(expr string) []selectorName {
	var names []selectorName
	add := func(attr, value string) {
		for _, v := range strings.Fields(value) {
			names = append(names, selectorName{id: attr == "id", value: v})
		}
	}
	for _, m := range xpathEqRE.FindAllStringSubmatch(expr, -1) {
		add(m[1], m[2]+m[3])
	}
	for _, m := range xpathContainsRE.FindAllStringSubmatch(expr, -1) {
		add(m[1]+m[2], m[3]+m[4])
	}
	return names
}
