package spider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// emptyMessage explains what an empty spider file lacks.
const emptyMessage = "file is empty: a spider needs at least name, start_urls and items"

// load is the first stage: it parses data as YAML (JSON is a subset of YAML)
// and returns the top-level mapping, or nil after recording why there is none.
func load(data []byte, ps *problems) (root *yaml.Node) {
	whole := pos{line: 1, col: 1}
	if len(bytes.TrimSpace(data)) == 0 {
		ps.add(whole, emptyMessage)
		return nil
	}
	// YAML forbids tabs as indentation, JSON allows them anywhere between
	// tokens. In valid JSON a raw tab can only be such whitespace, so a
	// tab-indented JSON file is made YAML-readable by swapping each tab for
	// one space, which keeps every column.
	if json.Valid(data) {
		data = bytes.ReplaceAll(data, []byte{'\t'}, []byte{' '})
	}
	defer func() {
		// yaml.v3 is not known to panic on any input, but a spider may come
		// from an untrusted API request: never let a parser bug crash us.
		if r := recover(); r != nil {
			ps.add(whole, "invalid YAML: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			ps.add(whole, emptyMessage)
		} else {
			addYAMLError(ps, err, data)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		ps.add(pos{line: extra.Line, col: extra.Column},
			`a spider file holds one YAML document: remove this second document (after "---")`)
	case !errors.Is(err, io.EOF):
		addYAMLError(ps, err, data)
	}
	if len(doc.Content) == 0 {
		ps.add(whole, emptyMessage)
		return nil
	}
	root = doc.Content[0]
	switch {
	case root.Kind == yaml.ScalarNode && root.Tag == "!!null":
		ps.add(whole, emptyMessage)
		return nil
	case root.Kind != yaml.MappingNode:
		ps.add(pos{line: root.Line, col: root.Column},
			"the top level must be a mapping of spider keys (name, start_urls, items, ...), got %s", describe(root))
		return nil
	}
	return root
}

// addYAMLError records a yaml.v3 syntax error at the line its message names
// ("yaml: line 3: mapping values are not allowed in this context").
func addYAMLError(ps *problems, err error, data []byte) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, after, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil && n > 0 {
				line, msg = n, after
				if isParserError(msg) {
					line++
				}
			}
		}
	}
	if lines := bytes.Split(data, []byte{'\n'}); line <= len(lines) {
		text := lines[line-1]
		if indent := text[:len(text)-len(bytes.TrimLeft(text, " \t"))]; bytes.IndexByte(indent, '\t') >= 0 {
			msg += " (indent with spaces: YAML does not allow tabs there)"
		}
	}
	ps.add(pos{line: line, col: 1}, "%s", fmt.Sprintf("invalid YAML: %s", msg))
}

// isParserError reports whether msg comes from the yaml.v3 parser rather
// than its scanner. yaml.v3 prints 0-based lines for parser errors (the line
// where the unfinished construct starts) but 1-based ones for scanner
// errors; see decode.go (*parser).fail in gopkg.in/yaml.v3.
func isParserError(msg string) bool {
	for _, prefix := range []string{"did not find expected", "found undefined tag handle", "found duplicate %", "found incompatible YAML document"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}
