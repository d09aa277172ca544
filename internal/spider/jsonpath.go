package spider

import (
	"fmt"
	"strings"
)

// parseJSONPath compiles a dot path such as "data.items". "" and "." are the
// value itself; every other segment must be non-empty.
func parseJSONPath(s string) (*JSONPath, error) {
	if s == "" || s == "." {
		return &JSONPath{Source: s}, nil
	}
	segs := strings.Split(s, ".")
	for _, seg := range segs {
		if seg == "" {
			return nil, fmt.Errorf("invalid JSON path %q: segments must not be empty (write a dot path like data.items, or \".\" for the value itself)", s)
		}
	}
	return &JSONPath{Segments: segs, Source: s}, nil
}
