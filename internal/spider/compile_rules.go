package spider

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/andybalholm/cascadia"
	"github.com/antchfx/xpath"
)

// urlField is the pseudo-field holding an item's page URL; a key may name it.
const urlField = "_url"

func (c *compiler) follows(s seq[*followSpec]) []FollowRule {
	var rules []FollowRule
	for _, f := range s.elems {
		if f == nil {
			continue // not a mapping: already reported
		}
		r := FollowRule{Attr: "href", URLs: c.regexps(f.URLs)}
		switch used := setKeys(f.CSS, f.XPath, f.JSON); {
		case len(used) == 0:
			c.ps.add(f.pos, "needs one of css, xpath or json to find the links to follow, like css: li.next > a")
		case len(used) > 1:
			c.ps.add(f.pos, "use exactly one of css, xpath or json, got %s", describeKeys(used))
		case f.JSON.set:
			r.JSON = c.jsonPath(f.JSON)
			if f.Attr.set {
				c.ps.add(f.Attr.pos, "attr only applies to css and xpath rules: remove it (json: points at the URLs themselves)")
			}
		default:
			r.Selector = c.selector(f.CSS, f.XPath)
		}
		if f.Attr.set && !f.JSON.set {
			r.Attr = c.attr(f.Attr)
		}
		rules = append(rules, r)
	}
	return rules
}

// setKeys returns the names (css, xpath, json) of the values that are set.
func setKeys(css, xp, js val[string]) []string {
	var keys []string
	for _, k := range []struct {
		name string
		set  bool
	}{{"css", css.set}, {"xpath", xp.set}, {"json", js.set}} {
		if k.set {
			keys = append(keys, k.name)
		}
	}
	return keys
}

func (c *compiler) attr(v val[string]) string {
	a := strings.TrimSpace(v.v)
	if a == "" {
		c.ps.add(v.pos, "must not be empty: name an attribute like href or src")
	}
	return a
}

func (c *compiler) items(s *spec) []ItemRule {
	if !s.Items.given() {
		c.required(s.pos, "items", "add at least one item rule with fields to extract")
		return nil
	}
	if !s.Items.set {
		return nil // wrong type: already reported
	}
	if len(s.Items.elems) == 0 {
		c.ps.add(s.Items.pos, "must not be empty: add at least one item rule with fields to extract")
		return nil
	}
	var rules []ItemRule
	for _, it := range s.Items.elems {
		if it == nil {
			continue // not a mapping: already reported
		}
		rules = append(rules, c.item(it))
	}
	return rules
}

func (c *compiler) item(it *itemSpec) ItemRule {
	r := ItemRule{URLs: c.regexps(it.URLs)}
	switch used := setKeys(it.CSS, it.XPath, it.JSON); {
	case len(used) > 1:
		c.ps.add(it.pos, "use at most one of css, xpath or json, got %s", describeKeys(used))
	case it.JSON.set:
		r.JSON = c.jsonPath(it.JSON)
		if r.JSON == nil {
			// Keep the rule a JSON rule so that its fields are checked as such.
			r.JSON = &JSONPath{Source: it.JSON.v}
		}
	case len(used) == 1:
		r.Root = c.selector(it.CSS, it.XPath)
	}
	isJSON := r.JSON != nil
	switch {
	case !it.Fields.given():
		c.required(it.pos, "fields", "map field names to selectors, like fields: {title: h1}")
	case it.Fields.set && len(it.Fields.elems) == 0:
		c.ps.add(it.Fields.pos, "must not be empty: map field names to selectors, like {title: h1}")
	}
	var names []string
	for _, f := range it.Fields.elems {
		if f.Name == urlField {
			c.ps.add(f.pos, "field name %q is reserved for the page URL: choose another name", f.Name)
		} else if strings.TrimSpace(f.Name) == "" {
			c.ps.add(f.pos, "field name must not be empty")
		}
		names = append(names, f.Name)
		if isJSON {
			r.Fields = append(r.Fields, c.jsonField(f))
		} else {
			r.Fields = append(r.Fields, c.htmlField(f, it.XPath.set && !it.CSS.set))
		}
	}
	r.Required = c.fieldRefs(it.Required, names, false)
	if it.Key.set {
		if len(it.Key.elems) == 0 {
			c.ps.add(it.Key.pos, "must not be empty: list field names, or leave key out to use all fields")
		}
		r.Key = c.fieldRefs(it.Key, names, true)
	}
	return r
}

// fieldRefs checks that required or key names declared fields (or _url,
// for key) and that none is listed twice.
func (c *compiler) fieldRefs(s seq[val[string]], names []string, urlOK bool) []string {
	var refs []string
	for _, v := range s.elems {
		if !v.set {
			continue
		}
		switch {
		case slices.Contains(refs, v.v):
			c.ps.add(v.pos, "%q is listed twice", v.v)
			continue
		case v.v == urlField && urlOK:
		case !slices.Contains(names, v.v):
			c.ps.add(v.pos, "unknown field %q %s", v.v, suggestField(v.v, names, urlOK))
		}
		refs = append(refs, v.v)
	}
	return refs
}

// suggestField hints at a declared field close to name, or lists them.
func suggestField(name string, names []string, urlOK bool) string {
	if urlOK {
		names = append(slices.Clone(names), urlField)
	}
	if len(names) == 0 {
		return "(no fields are declared)"
	}
	if hint := suggest(name, names); strings.HasPrefix(hint, "(did") {
		return hint
	}
	return "(declared: " + strings.Join(names, ", ") + ")"
}

// htmlField compiles a field of a CSS, XPath or whole-page rule. The
// shorthand is a CSS selector, or an XPath expression in an XPath rule.
func (c *compiler) htmlField(f *fieldSpec, xpathRule bool) Field {
	fl := Field{Name: f.Name, All: f.All.v, URL: f.URL.v, Regex: c.regexp(f.Regex)}
	switch {
	case f.Short.set && xpathRule:
		fl.Selector = c.selector(val[string]{}, f.Short)
	case f.Short.set:
		fl.Selector = c.selector(f.Short, val[string]{})
	case f.CSS.set && f.XPath.set:
		c.ps.add(f.pos, "use at most one of css or xpath, got css and xpath")
	case f.CSS.set || f.XPath.set:
		fl.Selector = c.selector(f.CSS, f.XPath)
	}
	if f.JSON.set {
		c.ps.add(f.JSON.pos, "json only applies in json item rules: this rule reads HTML, so use css or xpath")
	}
	if f.Attr.set {
		fl.Attr = c.attr(f.Attr)
	}
	return fl
}

// jsonField compiles a field of a JSON rule: a dot path relative to the item.
func (c *compiler) jsonField(f *fieldSpec) Field {
	fl := Field{Name: f.Name, All: f.All.v, URL: f.URL.v, Regex: c.regexp(f.Regex)}
	for _, v := range []val[string]{f.CSS, f.XPath, f.Attr} {
		if v.set {
			key := v.path[strings.LastIndexByte(v.path, '.')+1:]
			c.ps.add(v.pos, "%s is not allowed in a json item rule: use json: with a dot path like author.name", key)
		}
	}
	switch {
	case f.Short.set:
		fl.JSON = c.jsonPath(f.Short)
	case f.JSON.set:
		fl.JSON = c.jsonPath(f.JSON)
	case !f.CSS.set && !f.XPath.set && !f.Attr.set:
		c.ps.add(f.pos, `needs json: a dot path relative to the item, like {json: author.name} (use "." for the item itself)`)
	}
	return fl
}

func (c *compiler) jsonPath(v val[string]) *JSONPath {
	p, err := parseJSONPath(strings.TrimSpace(v.v))
	if err != nil {
		c.ps.add(v.pos, "%v", err)
		return nil
	}
	p.Source = v.v
	return p
}

// selector compiles whichever of css and xp is set (css wins if both are).
func (c *compiler) selector(css, xp val[string]) Selector {
	if css.set {
		sel, err := parseCSS(css.v)
		if err != nil {
			c.ps.add(css.pos, "invalid CSS selector %q: %v", css.v, err)
			return Selector{}
		}
		return Selector{CSS: sel, Source: css.v}
	}
	if xp.set {
		expr, err := parseXPath(xp.v)
		if err != nil {
			c.ps.add(xp.pos, "invalid XPath expression %q: %v", xp.v, err)
			return Selector{}
		}
		return Selector{XPath: expr, Source: xp.v}
	}
	return Selector{}
}

var errEmptySelector = errors.New("selector is empty")

// parseCSS compiles a CSS selector or a comma-separated group of them.
func parseCSS(s string) (sel cascadia.Sel, err error) {
	if strings.TrimSpace(s) == "" {
		return nil, errEmptySelector
	}
	defer func() {
		// A parser bug must not crash a server that validates untrusted spiders.
		if r := recover(); r != nil {
			sel, err = nil, fmt.Errorf("selector parser failed: %v", r)
		}
	}()
	group, err := cascadia.ParseGroup(s)
	if err != nil {
		return nil, err
	}
	if len(group) == 1 {
		return group[0], nil
	}
	return selectorGroup{group}, nil
}

// parseXPath compiles an XPath 1.0 expression.
func parseXPath(s string) (expr *xpath.Expr, err error) {
	if strings.TrimSpace(s) == "" {
		return nil, errEmptySelector
	}
	defer func() {
		if r := recover(); r != nil {
			expr, err = nil, fmt.Errorf("xpath parser failed: %v", r)
		}
	}()
	return xpath.Compile(s)
}

// selectorGroup makes a comma-separated cascadia.SelectorGroup a
// cascadia.Sel; it matches an element that any of its selectors matches.
type selectorGroup struct {
	cascadia.SelectorGroup
}

// Specificity returns the highest specificity of the group's selectors.
func (g selectorGroup) Specificity() cascadia.Specificity {
	var best cascadia.Specificity
	for _, s := range g.SelectorGroup {
		if sp := s.Specificity(); best.Less(sp) {
			best = sp
		}
	}
	return best
}

// PseudoElement returns "": groups are parsed without pseudo-elements.
func (g selectorGroup) PseudoElement() string { return "" }

var _ cascadia.Sel = selectorGroup{}
