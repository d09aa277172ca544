package extract

import (
	"bytes"
	"cmp"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/andybalholm/cascadia"
	"github.com/antchfx/htmlquery"
	"github.com/antchfx/xpath"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/trawl"
	"github.com/trawl-dev/trawl/internal/urlnorm"
)

// htmlPage is the parsed document of one HTML page and the scratch space its
// rules share. It belongs to one Extract call.
type htmlPage struct {
	doc  *html.Node
	base *url.URL // the page URL, or the document's <base href> resolved against it
	text []byte   // scratch buffer for text content
	ms   []match  // scratch buffer for field matches
	// facts feed the JavaScript heuristic; gathered when a rule first
	// matches nothing.
	facts *scriptFacts
}

// match is one node selected by a CSS or XPath selector. For an XPath
// attribute node (//a/@href) n is the element that owns the attribute and
// attr holds its value.
type match struct {
	n      *html.Node
	attr   string
	isAttr bool
}

func extractHTML(sp *spider.Spider, p Page, uri string) Result {
	var follow []*spider.FollowRule
	for i := range sp.Follow {
		if r := &sp.Follow[i]; r.JSON == nil && !r.Selector.IsZero() && applies(r.URLs, uri) {
			follow = append(follow, r)
		}
	}
	var rules []int // indexes into sp.Items
	for i := range sp.Items {
		if r := &sp.Items[i]; !r.IsJSON() && applies(r.URLs, uri) {
			rules = append(rules, i)
		}
	}
	if len(follow) == 0 && len(rules) == 0 {
		return Result{}
	}
	// html.Parse fails only when the reader does, and a bytes.Reader never
	// does: malformed markup is repaired, not rejected.
	doc, err := html.Parse(bytes.NewReader(p.Body))
	if err != nil {
		return Result{}
	}
	hp := &htmlPage{doc: doc, base: baseURL(doc, p.URL)}
	var res Result
	res.Links, res.LinksCapped = hp.links(follow, sp.Limits.MaxLinks)
	var is items
	pageURL := p.URL.String()
	res.Rules = make([]trawl.RuleStats, len(sp.Items))
	for _, i := range rules {
		r, st := &sp.Items[i], &res.Rules[i]
		st.Pages = 1
		switch {
		case hp.items(r, pageURL, &is):
			st.Matched = 1
		case hp.scripted(r):
			st.Scripted = 1
		}
	}
	res.Items, res.Invalid = is.result()
	return res
}

// baseURL returns the href of the document's first <base> element resolved
// against page, or page when there is none or it does not resolve.
func baseURL(doc *html.Node, page *url.URL) *url.URL {
	for n := next(doc, doc); n != nil; n = next(n, doc) {
		if n.Type != html.ElementNode || n.DataAtom != atom.Base || n.Namespace != "" {
			continue
		}
		href, ok := attr(n, "href")
		if !ok {
			continue
		}
		if u, err := urlnorm.ResolveRaw(page, href); err == nil {
			return u
		}
		return page
	}
	return page
}

// linkRef is a candidate link: the node it came from, for document order,
// and the reference to resolve.
type linkRef struct {
	n   *html.Node
	ref string
}

// links applies the follow rules and returns at most max links (0: no
// limit) and the number of distinct references left out. The references of
// an element's Attr (default href), of an XPath attribute node or of an
// XPath text node are resolved against the base URL.
func (hp *htmlPage) links(rules []*spider.FollowRule, max int) ([]*url.URL, int) {
	l := links{base: hp.base, max: max}
	if allCSS(rules) {
		hp.cssLinks(rules, &l)
		return l.list, l.capped
	}
	var refs []linkRef
	contributing := 0
	for _, r := range rules {
		before := len(refs)
		ms := hp.selectAll(hp.doc, r.Selector, hp.ms[:0])
		name := cmp.Or(r.Attr, "href")
		for _, m := range ms {
			switch {
			case m.isAttr:
				refs = append(refs, linkRef{m.n, m.attr})
			case m.n.Type == html.TextNode:
				refs = append(refs, linkRef{m.n, m.n.Data})
			default:
				if ref, ok := attr(m.n, name); ok {
					refs = append(refs, linkRef{m.n, ref})
				}
			}
		}
		hp.ms = ms[:0]
		if len(refs) > before {
			contributing++
		}
	}
	if contributing > 1 {
		sortDocumentOrder(hp.doc, refs)
	}
	for _, r := range refs {
		l.add(r.ref)
	}
	return l.list, l.capped
}

func allCSS(rules []*spider.FollowRule) bool {
	for _, r := range rules {
		if r.Selector.CSS == nil {
			return false
		}
	}
	return true
}

// cssLinks applies CSS follow rules in one walk of the document, which
// yields document order (and rule order within one element) with no
// intermediate slices: on a page of many links those slices and their
// growth cost more memory than the links kept.
func (hp *htmlPage) cssLinks(rules []*spider.FollowRule, l *links) {
	for n := next(hp.doc, hp.doc); n != nil; n = next(n, hp.doc) {
		if n.Type != html.ElementNode {
			continue
		}
		for _, r := range rules {
			if !r.Selector.CSS.Match(n) {
				continue
			}
			if ref, ok := attr(n, cmp.Or(r.Attr, "href")); ok {
				l.add(ref)
			}
		}
	}
}

// sortDocumentOrder sorts refs found by several rules into document order;
// refs of one node keep their relative order.
func sortDocumentOrder(doc *html.Node, refs []linkRef) {
	pos := make(map[*html.Node]int, len(refs))
	for _, r := range refs {
		pos[r.n] = 0
	}
	i := 0
	for n := next(doc, doc); n != nil; n = next(n, doc) {
		i++
		if _, ok := pos[n]; ok {
			pos[n] = i
		}
	}
	slices.SortStableFunc(refs, func(a, b linkRef) int { return cmp.Compare(pos[a.n], pos[b.n]) })
}

// items applies one item rule: one item per root element, or one for the
// whole document when the rule has no root. It reports whether the rule
// matched: its root selected an element, or, without a root, a field has a
// value.
func (hp *htmlPage) items(rule *spider.ItemRule, pageURL string, is *items) bool {
	var roots []match
	if rule.Root.IsZero() {
		roots = []match{{n: hp.doc}}
	} else {
		roots = hp.selectAll(hp.doc, rule.Root, nil)
	}
	matched := !rule.Root.IsZero() && len(roots) > 0
	for _, root := range roots {
		fields := make([]trawl.Field, len(rule.Fields))
		for i := range rule.Fields {
			f := &rule.Fields[i]
			fields[i] = trawl.Field{Name: f.Name, Value: hp.field(root, f)}
			matched = matched || !isEmpty(fields[i].Value)
		}
		is.add(rule, pageURL, fields)
	}
	return matched
}

// field extracts one field relative to root: a string or nil, or a
// []string (never nil) when the field takes all matches.
func (hp *htmlPage) field(root match, f *spider.Field) any {
	if f.All {
		ms := append(hp.ms[:0], root)
		if !f.Selector.IsZero() {
			ms = hp.selectAll(root.n, f.Selector, ms[:0])
		}
		out := make([]string, 0, len(ms))
		for _, m := range ms {
			if v, ok := hp.value(m, f); ok {
				out = append(out, v)
			}
		}
		hp.ms = ms[:0]
		return out
	}
	m := root
	if !f.Selector.IsZero() {
		var ok bool
		if m, ok = selectFirst(root.n, f.Selector); !ok {
			return nil
		}
	}
	if v, ok := hp.value(m, f); ok {
		return v
	}
	return nil
}

// value is the value of one matched node: its attribute or its text, then
// the regex, then URL resolution. ok is false when the attribute is absent or
// the regex does not match.
func (hp *htmlPage) value(m match, f *spider.Field) (v string, ok bool) {
	switch {
	case m.isAttr:
		v = strings.TrimSpace(m.attr)
	case f.Attr != "":
		a, ok := attr(m.n, f.Attr)
		if !ok {
			return "", false
		}
		v = strings.TrimSpace(a)
	default:
		v = hp.textContent(m.n)
	}
	if f.Regex != nil {
		if v, ok = applyRegex(f, v); !ok {
			return "", false
		}
	}
	if f.URL {
		v = resolveValue(hp.base, v)
	}
	return v, true
}

// textContent returns the text of n and its descendants with every run of
// Unicode white space collapsed into one space, trimmed.
func (hp *htmlPage) textContent(n *html.Node) string {
	c := collapser{b: hp.text[:0]}
	switch n.Type {
	case html.TextNode, html.CommentNode:
		c.write(n.Data)
	default:
		for d := next(n, n); d != nil; d = next(d, n) {
			if d.Type == html.TextNode {
				c.write(d.Data)
			}
		}
	}
	hp.text = c.b
	return string(c.b)
}

// collapser appends text with white space collapsed: a run of white space
// becomes one space, but only between two non-space characters.
type collapser struct {
	b       []byte
	pending bool // white space seen since the last character written
}

func (c *collapser) write(s string) {
	for i := 0; i < len(s); {
		ch := s[i]
		if ch < utf8.RuneSelf {
			if ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v' {
				c.pending = len(c.b) > 0
			} else {
				c.char(s[i : i+1])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			c.pending = len(c.b) > 0
		case r == utf8.RuneError && size == 1:
			c.char("\uFFFD") // invalid UTF-8 would be replaced when stored anyway
		default:
			c.char(s[i : i+size])
		}
		i += size
	}
}

func (c *collapser) char(s string) {
	if c.pending {
		c.b = append(c.b, ' ')
		c.pending = false
	}
	c.b = append(c.b, s...)
}

// selectAll appends the nodes under top that s selects, in document order.
// A CSS selector matches descendant elements of top, as goquery's Find does;
// an XPath expression is evaluated with top as its context and root node.
func (hp *htmlPage) selectAll(top *html.Node, s spider.Selector, dst []match) []match {
	switch {
	case s.CSS != nil:
		for n := next(top, top); n != nil; n = next(n, top) {
			if n.Type == html.ElementNode && s.CSS.Match(n) {
				dst = append(dst, match{n: n})
			}
		}
	case s.XPath != nil:
		// Select clones the compiled query, so concurrent use is safe;
		// Expr.Evaluate would not be.
		it := s.XPath.Select(htmlquery.CreateXPathNavigator(top))
		for it.MoveNext() {
			if m, ok := navMatch(it); ok {
				dst = append(dst, m)
			}
		}
	}
	return dst
}

// selectFirst returns the first node under top that s selects.
func selectFirst(top *html.Node, s spider.Selector) (match, bool) {
	switch {
	case s.CSS != nil:
		if n := cascadiaFirst(top, s.CSS); n != nil {
			return match{n: n}, true
		}
	case s.XPath != nil:
		it := s.XPath.Select(htmlquery.CreateXPathNavigator(top))
		if it.MoveNext() {
			return navMatch(it)
		}
	}
	return match{}, false
}

func cascadiaFirst(top *html.Node, sel cascadia.Sel) *html.Node {
	for n := next(top, top); n != nil; n = next(n, top) {
		if n.Type == html.ElementNode && sel.Match(n) {
			return n
		}
	}
	return nil
}

// navMatch converts the current node of an XPath iterator.
func navMatch(it *xpath.NodeIterator) (match, bool) {
	nav, ok := it.Current().(*htmlquery.NodeNavigator)
	if !ok {
		return match{}, false
	}
	if nav.NodeType() == xpath.AttributeNode {
		return match{n: nav.Current(), attr: nav.Value(), isAttr: true}, true
	}
	return match{n: nav.Current()}, true
}

// next returns the node after n in a pre-order walk of top's subtree, or nil
// at its end. Walking without recursion keeps deeply nested hostile markup
// from growing the stack.
func next(n, top *html.Node) *html.Node {
	if n.FirstChild != nil {
		return n.FirstChild
	}
	for n != top {
		if n.NextSibling != nil {
			return n.NextSibling
		}
		n = n.Parent
	}
	return nil
}

// attr returns the value of n's attribute name (ASCII case-insensitive; a
// "prefix:name" matches a namespaced attribute such as xlink:href).
func attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" {
			if strings.EqualFold(a.Key, name) {
				return a.Val, true
			}
			continue
		}
		if len(name) == len(a.Namespace)+1+len(a.Key) && name[len(a.Namespace)] == ':' &&
			strings.EqualFold(name[:len(a.Namespace)], a.Namespace) && strings.EqualFold(name[len(a.Namespace)+1:], a.Key) {
			return a.Val, true
		}
	}
	return "", false
}

// applyRegex keeps the first capture group of f.Regex in v, or the whole
// match when the regex has no group. ok is false when it does not match.
func applyRegex(f *spider.Field, v string) (string, bool) {
	sub := f.Regex.FindStringSubmatch(v)
	switch {
	case sub == nil:
		return "", false
	case len(sub) > 1:
		return sub[1], true
	}
	return sub[0], true
}
