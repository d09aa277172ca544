package spider

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/agnivade/levenshtein"
	"gopkg.in/yaml.v3"
)

// maxVisits bounds the nodes the decoder looks at. YAML aliases can make a
// small document expand into a huge one ("billion laughs"); the bound keeps
// decoding cheap without forbidding anchors and aliases. Real spiders have
// a few hundred nodes.
const maxVisits = 1 << 17

// decoder reads yaml.v3 nodes strictly, recording a problem for every
// unknown key, duplicate key and value of the wrong type.
type decoder struct {
	ps     *problems
	visits int
	capped bool
}

// node follows aliases and counts the visit; it returns nil for a missing
// node or once the visit budget is spent.
func (d *decoder) node(n *yaml.Node) *yaml.Node {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if hops > 100 {
			return nil
		}
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	d.visits++
	if d.visits > maxVisits {
		if !d.capped {
			d.capped = true
			d.ps.abort(pos{line: 1, col: 1}, "document is too large: it expands to more than %d YAML nodes (check its aliases)", maxVisits)
		}
		return nil
	}
	return n
}

// isNull reports whether n is absent or an explicit null; both mean "not set".
func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func at(path string, n *yaml.Node) pos {
	if n == nil {
		return pos{path: path, line: 1, col: 1}
	}
	return pos{path: path, line: n.Line, col: n.Column}
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func index(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

// describe names a node's type and value for "got ..." in messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		case "!!null":
			return "null"
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return n.Value
		}
		return fmt.Sprintf("%s %q", n.Tag, n.Value)
	}
	return "an unsupported YAML value"
}

// obj is a decoded mapping with a known set of keys.
type obj struct {
	pos
	vals map[string]*yaml.Node
}

// sub returns the path of key inside o.
func (o *obj) sub(key string) string { return join(o.path, key) }

// object decodes n as a mapping whose keys must be among keys. It returns
// nil when n is null (not set) or not a mapping (a problem is recorded).
func (d *decoder) object(path string, n *yaml.Node, keys ...string) *obj {
	n = d.node(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.ps.add(at(path, n), "must be a mapping with keys %s, got %s", strings.Join(keys, ", "), describe(n))
		return nil
	}
	o := &obj{pos: at(path, n), vals: map[string]*yaml.Node{}}
	d.entries(path, n, func(key string, k, v *yaml.Node) {
		if !slices.Contains(keys, key) {
			d.ps.add(at(join(path, key), k), "unknown key %q %s", key, suggest(key, keys))
			return
		}
		o.vals[key] = v
	})
	return o
}

// entries calls fn for each key of mapping n in order, after recording
// problems for keys that are not scalars and for duplicate keys.
func (d *decoder) entries(path string, n *yaml.Node, fn func(key string, k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.node(n.Content[i])
		if k == nil {
			return
		}
		if k.Kind != yaml.ScalarNode {
			d.ps.add(at(path, k), "keys must be plain strings, got %s", describe(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.ps.add(at(join(path, k.Value), k), "duplicate key %q (first defined on line %d): keep only one", k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		fn(k.Value, k, n.Content[i+1])
	}
}

// suggest returns "(did you mean "x"?)" for a close known key, otherwise the
// list of allowed keys.
func suggest(key string, keys []string) string {
	best, bestDist := "", 3
	for _, k := range keys {
		if len(key) > 64 {
			break // no key is that long; spare the quadratic distance
		}
		if dist := levenshtein.ComputeDistance(strings.ToLower(key), k); dist < bestDist && dist < len(k) {
			best, bestDist = k, dist
		}
	}
	if best != "" {
		return fmt.Sprintf("(did you mean %q?)", best)
	}
	return "(allowed: " + strings.Join(keys, ", ") + ")"
}

// str decodes a string value. A number or boolean is rejected with a hint to
// quote it, so that YAML and JSON spiders are held to the same types.
func (d *decoder) str(path string, n *yaml.Node) val[string] {
	n = d.node(n)
	if isNull(n) {
		return val[string]{}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		return val[string]{v: n.Value, set: true, pos: at(path, n)}
	}
	if n.Kind == yaml.ScalarNode {
		d.ps.add(at(path, n), "must be a string, got %s (quote it: %q)", describe(n), n.Value)
	} else {
		d.ps.add(at(path, n), "must be a string, got %s", describe(n))
	}
	return val[string]{bad: true}
}

// text decodes a scalar written as a string or a number, such as a duration
// ("2s", or 0) or a size ("10MiB", or 1048576).
func (d *decoder) text(path string, n *yaml.Node) val[string] {
	n = d.node(n)
	if isNull(n) {
		return val[string]{}
	}
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!str" || n.Tag == "!!int" || n.Tag == "!!float") {
		return val[string]{v: n.Value, set: true, pos: at(path, n)}
	}
	d.ps.add(at(path, n), "must be a string, got %s", describe(n))
	return val[string]{bad: true}
}

// integer decodes a whole number.
func (d *decoder) integer(path string, n *yaml.Node) val[int64] {
	n = d.node(n)
	if isNull(n) {
		return val[int64]{}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		var i int64
		if err := n.Decode(&i); err == nil {
			return val[int64]{v: i, set: true, pos: at(path, n)}
		}
		d.ps.add(at(path, n), "integer %s is out of range", n.Value)
		return val[int64]{bad: true}
	}
	d.ps.add(at(path, n), "must be a whole number, got %s", describe(n))
	return val[int64]{bad: true}
}

// boolean decodes true or false.
func (d *decoder) boolean(path string, n *yaml.Node) val[bool] {
	n = d.node(n)
	if isNull(n) {
		return val[bool]{}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return val[bool]{v: b, set: true, pos: at(path, n)}
		}
	}
	d.ps.add(at(path, n), "must be true or false, got %s", describe(n))
	return val[bool]{bad: true}
}

// list decodes a sequence, decoding each element with elem.
func list[T any](d *decoder, path string, n *yaml.Node, elem func(path string, n *yaml.Node) T) seq[T] {
	n = d.node(n)
	if isNull(n) {
		return seq[T]{}
	}
	if n.Kind != yaml.SequenceNode {
		hint := ""
		if n.Kind == yaml.ScalarNode {
			hint = fmt.Sprintf(" (write [%s] or one \"- value\" line per entry)", n.Value)
		}
		d.ps.add(at(path, n), "must be a list, got %s%s", describe(n), hint)
		return seq[T]{bad: true}
	}
	s := seq[T]{set: true, pos: at(path, n)}
	for i, e := range n.Content {
		if isNull(d.node(e)) {
			d.ps.add(at(index(path, i), e), "must not be empty: remove the entry or give it a value")
			continue
		}
		s.elems = append(s.elems, elem(index(path, i), e))
	}
	return s
}

// strs decodes a list of strings.
func (d *decoder) strs(path string, n *yaml.Node) seq[val[string]] {
	return list(d, path, n, d.str)
}
