package spider

import (
	"encoding/json"

	"gopkg.in/yaml.v3"
)

// The spec types hold a spider as decoded, before validation: every value
// remembers where it was written, and its JSON encoding (used for Hash) holds
// only what the file says, never a filled-in default.

// val is a decoded scalar; set is false when the key was absent or null,
// or when its value was rejected (then bad is true and a problem recorded).
type val[T any] struct {
	v   T
	set bool
	bad bool
	pos
}

// given reports whether the key was written with a non-null value.
func (v val[T]) given() bool { return v.set || v.bad }

// IsZero makes `omitzero` leave out unset values.
func (v val[T]) IsZero() bool { return !v.set }

// MarshalJSON encodes the value alone.
func (v val[T]) MarshalJSON() ([]byte, error) { return json.Marshal(v.v) }

// seq is a decoded list; set and bad mean what they mean for val.
type seq[T any] struct {
	elems []T
	set   bool
	bad   bool
	pos
}

// given reports whether the key was written with a non-null value.
func (s seq[T]) given() bool { return s.set || s.bad }

// IsZero makes `omitzero` leave out unset lists.
func (s seq[T]) IsZero() bool { return !s.set }

// MarshalJSON encodes the elements as a JSON array.
func (s seq[T]) MarshalJSON() ([]byte, error) {
	if s.elems == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(s.elems)
}

type spec struct {
	pos
	Name       val[string]      `json:"name,omitzero"`
	StartURLs  seq[val[string]] `json:"start_urls,omitzero"`
	Scope      *scopeSpec       `json:"scope,omitempty"`
	Follow     seq[*followSpec] `json:"follow,omitzero"`
	Items      seq[*itemSpec]   `json:"items,omitzero"`
	Limits     *limitsSpec      `json:"limits,omitempty"`
	Politeness *politenessSpec  `json:"politeness,omitempty"`
	Fetch      *fetchSpec       `json:"fetch,omitempty"`
	Schedule   val[string]      `json:"schedule,omitzero"`
}

type scopeSpec struct {
	pos
	Hosts seq[val[string]] `json:"hosts,omitzero"`
	Allow seq[val[string]] `json:"allow,omitzero"`
	Deny  seq[val[string]] `json:"deny,omitzero"`
}

type followSpec struct {
	pos
	CSS   val[string]      `json:"css,omitzero"`
	XPath val[string]      `json:"xpath,omitzero"`
	JSON  val[string]      `json:"json,omitzero"`
	Attr  val[string]      `json:"attr,omitzero"`
	URLs  seq[val[string]] `json:"urls,omitzero"`
}

type itemSpec struct {
	pos
	CSS      val[string]      `json:"css,omitzero"`
	XPath    val[string]      `json:"xpath,omitzero"`
	JSON     val[string]      `json:"json,omitzero"`
	URLs     seq[val[string]] `json:"urls,omitzero"`
	Fields   seq[*fieldSpec]  `json:"fields,omitzero"`
	Required seq[val[string]] `json:"required,omitzero"`
	Key      seq[val[string]] `json:"key,omitzero"`
}

// fieldSpec is one entry of an item rule's fields, in either form: the
// shorthand string or the mapping.
type fieldSpec struct {
	pos               // of the field's name
	Name  string      `json:"name"`
	Short val[string] `json:"shorthand,omitzero"`
	CSS   val[string] `json:"css,omitzero"`
	XPath val[string] `json:"xpath,omitzero"`
	JSON  val[string] `json:"json,omitzero"`
	Attr  val[string] `json:"attr,omitzero"`
	All   val[bool]   `json:"all,omitzero"`
	URL   val[bool]   `json:"url,omitzero"`
	Regex val[string] `json:"regex,omitzero"`
}

type limitsSpec struct {
	MaxPages val[int64] `json:"max_pages,omitzero"`
	MaxDepth val[int64] `json:"max_depth,omitzero"`
	MaxLinks val[int64] `json:"max_links,omitzero"`
}

type politenessSpec struct {
	Robots             val[string] `json:"robots,omitzero"`
	ConcurrencyPerHost val[int64]  `json:"concurrency_per_host,omitzero"`
	Delay              val[string] `json:"delay,omitzero"`
}

type fetchSpec struct {
	Timeout      val[string]   `json:"timeout,omitzero"`
	Retries      val[int64]    `json:"retries,omitzero"`
	UserAgent    val[string]   `json:"user_agent,omitzero"`
	MaxBody      val[string]   `json:"max_body,omitzero"`
	MaxRedirects val[int64]    `json:"max_redirects,omitzero"`
	Headers      []*headerSpec `json:"headers,omitempty"`
}

type headerSpec struct {
	pos               // of the header's name
	Name  string      `json:"name"`
	Value val[string] `json:"value"`
}

// decode is the second stage: it turns the top-level mapping into a spec,
// recording every unknown key, duplicate key and value of the wrong type.
// It decodes as much as it can, so that later stages report problems too.
func decode(root *yaml.Node, ps *problems) *spec {
	d := &decoder{ps: ps}
	s := &spec{pos: at("", root)}
	o := d.object("", root, "name", "start_urls", "scope", "follow", "items",
		"limits", "politeness", "fetch", "schedule")
	if o == nil {
		return s
	}
	s.Name = d.str(o.sub("name"), o.vals["name"])
	s.StartURLs = d.strs(o.sub("start_urls"), o.vals["start_urls"])
	s.Scope = d.scope(o.sub("scope"), o.vals["scope"])
	s.Follow = list(d, o.sub("follow"), o.vals["follow"], d.follow)
	s.Items = list(d, o.sub("items"), o.vals["items"], d.item)
	s.Limits = d.limits(o.sub("limits"), o.vals["limits"])
	s.Politeness = d.politeness(o.sub("politeness"), o.vals["politeness"])
	s.Fetch = d.fetch(o.sub("fetch"), o.vals["fetch"])
	s.Schedule = d.str(o.sub("schedule"), o.vals["schedule"])
	return s
}

func (d *decoder) scope(path string, n *yaml.Node) *scopeSpec {
	o := d.object(path, n, "hosts", "allow", "deny")
	if o == nil {
		return nil
	}
	return &scopeSpec{
		pos:   o.pos,
		Hosts: d.strs(o.sub("hosts"), o.vals["hosts"]),
		Allow: d.strs(o.sub("allow"), o.vals["allow"]),
		Deny:  d.strs(o.sub("deny"), o.vals["deny"]),
	}
}

func (d *decoder) follow(path string, n *yaml.Node) *followSpec {
	o := d.object(path, n, "css", "xpath", "json", "attr", "urls")
	if o == nil {
		return nil
	}
	return &followSpec{
		pos:   o.pos,
		CSS:   d.str(o.sub("css"), o.vals["css"]),
		XPath: d.str(o.sub("xpath"), o.vals["xpath"]),
		JSON:  d.str(o.sub("json"), o.vals["json"]),
		Attr:  d.str(o.sub("attr"), o.vals["attr"]),
		URLs:  d.strs(o.sub("urls"), o.vals["urls"]),
	}
}

func (d *decoder) item(path string, n *yaml.Node) *itemSpec {
	o := d.object(path, n, "css", "xpath", "json", "urls", "fields", "required", "key")
	if o == nil {
		return nil
	}
	return &itemSpec{
		pos:      o.pos,
		CSS:      d.str(o.sub("css"), o.vals["css"]),
		XPath:    d.str(o.sub("xpath"), o.vals["xpath"]),
		JSON:     d.str(o.sub("json"), o.vals["json"]),
		URLs:     d.strs(o.sub("urls"), o.vals["urls"]),
		Fields:   d.fields(o.sub("fields"), o.vals["fields"]),
		Required: d.strs(o.sub("required"), o.vals["required"]),
		Key:      d.strs(o.sub("key"), o.vals["key"]),
	}
}

// fields decodes the fields mapping, keeping the declared order.
func (d *decoder) fields(path string, n *yaml.Node) seq[*fieldSpec] {
	n = d.node(n)
	if isNull(n) {
		return seq[*fieldSpec]{}
	}
	if n.Kind != yaml.MappingNode {
		d.ps.add(at(path, n), "must be a mapping of field names to selectors, got %s", describe(n))
		return seq[*fieldSpec]{bad: true}
	}
	s := seq[*fieldSpec]{set: true, pos: at(path, n), elems: []*fieldSpec{}}
	d.entries(path, n, func(name string, k, v *yaml.Node) {
		if f := d.field(join(path, name), name, k, v); f != nil {
			s.elems = append(s.elems, f)
		}
	})
	return s
}

func (d *decoder) field(path, name string, k, v *yaml.Node) *fieldSpec {
	f := &fieldSpec{pos: at(path, k), Name: name}
	v = d.node(v)
	switch {
	case v != nil && v.Kind == yaml.ScalarNode && v.Tag == "!!str":
		f.Short = d.str(path, v)
	case v != nil && v.Kind == yaml.MappingNode:
		o := d.object(path, v, "css", "xpath", "json", "attr", "all", "url", "regex")
		if o == nil {
			return nil
		}
		f.CSS = d.str(o.sub("css"), o.vals["css"])
		f.XPath = d.str(o.sub("xpath"), o.vals["xpath"])
		f.JSON = d.str(o.sub("json"), o.vals["json"])
		f.Attr = d.str(o.sub("attr"), o.vals["attr"])
		f.All = d.boolean(o.sub("all"), o.vals["all"])
		f.URL = d.boolean(o.sub("url"), o.vals["url"])
		f.Regex = d.str(o.sub("regex"), o.vals["regex"])
	case v == nil:
		return nil
	default:
		d.ps.add(at(path, v), "must be a selector string or a mapping with css, xpath, json, attr, all, url or regex, got %s", describe(v))
		return nil
	}
	return f
}

func (d *decoder) limits(path string, n *yaml.Node) *limitsSpec {
	o := d.object(path, n, "max_pages", "max_depth", "max_links")
	if o == nil {
		return nil
	}
	return &limitsSpec{
		MaxPages: d.integer(o.sub("max_pages"), o.vals["max_pages"]),
		MaxDepth: d.integer(o.sub("max_depth"), o.vals["max_depth"]),
		MaxLinks: d.integer(o.sub("max_links"), o.vals["max_links"]),
	}
}

func (d *decoder) politeness(path string, n *yaml.Node) *politenessSpec {
	o := d.object(path, n, "robots", "concurrency_per_host", "delay")
	if o == nil {
		return nil
	}
	return &politenessSpec{
		Robots:             d.str(o.sub("robots"), o.vals["robots"]),
		ConcurrencyPerHost: d.integer(o.sub("concurrency_per_host"), o.vals["concurrency_per_host"]),
		Delay:              d.text(o.sub("delay"), o.vals["delay"]),
	}
}

func (d *decoder) fetch(path string, n *yaml.Node) *fetchSpec {
	o := d.object(path, n, "timeout", "retries", "user_agent", "max_body", "max_redirects", "headers")
	if o == nil {
		return nil
	}
	return &fetchSpec{
		Timeout:      d.text(o.sub("timeout"), o.vals["timeout"]),
		Retries:      d.integer(o.sub("retries"), o.vals["retries"]),
		UserAgent:    d.str(o.sub("user_agent"), o.vals["user_agent"]),
		MaxBody:      d.text(o.sub("max_body"), o.vals["max_body"]),
		MaxRedirects: d.integer(o.sub("max_redirects"), o.vals["max_redirects"]),
		Headers:      d.headers(o.sub("headers"), o.vals["headers"]),
	}
}

func (d *decoder) headers(path string, n *yaml.Node) []*headerSpec {
	n = d.node(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.ps.add(at(path, n), "must be a mapping of header names to values, got %s", describe(n))
		return nil
	}
	var hs []*headerSpec
	d.entries(path, n, func(name string, k, v *yaml.Node) {
		hp := join(path, name)
		if isNull(d.node(v)) {
			d.ps.add(at(hp, k), "header has no value: give it a string value or remove it")
			return
		}
		hs = append(hs, &headerSpec{pos: at(hp, k), Name: name, Value: d.str(hp, v)})
	})
	return hs
}
