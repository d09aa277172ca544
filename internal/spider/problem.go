package spider

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// Problem is one thing wrong with a spider file.
type Problem struct {
	// Path locates the value in the spider, dotted with list indexes, for
	// example "items[0].fields.tags.css". It is "" for problems with the
	// whole document, such as a YAML syntax error.
	Path string `json:"path"`
	// Line and Column are 1-based and point at the offending key or value.
	Line   int `json:"line"`
	Column int `json:"column"`
	// Message says what is wrong and how to fix it, in lowercase.
	Message string `json:"message"`
}

// String formats the problem as "LINE:COL: PATH: message"; the path is left
// out when it is empty.
func (p Problem) String() string {
	if p.Path == "" {
		return fmt.Sprintf("%d:%d: %s", p.Line, p.Column, p.Message)
	}
	return fmt.Sprintf("%d:%d: %s: %s", p.Line, p.Column, p.Path, p.Message)
}

// ValidationError lists every problem found in a spider file, sorted by line
// and column. Parse returns it for any input it rejects.
type ValidationError struct {
	File     string // the filename given to Parse; "" leaves the prefix out
	Problems []Problem
}

// Error returns one line per problem, "FILE:LINE:COL: PATH: message", joined
// by newlines.
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		if e.File != "" {
			b.WriteString(e.File)
			b.WriteByte(':')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap returns a *trawl.Error with code EINVALID, so that
// trawl.ErrorCode(err) reports an invalid spider as "invalid".
func (e *ValidationError) Unwrap() error {
	return trawl.Errorf(trawl.EINVALID, "invalid spider: %d problem(s)", len(e.Problems))
}

// pos is where a value sits in the spider file: its path, line and column.
type pos struct {
	path      string
	line, col int
}

// problems collects every problem found by the stages of Parse.
type problems struct {
	list    []Problem
	aborted bool // a problem made the others meaningless; see abort
}

// add records a problem at p. Whole-document positions are clamped to 1:1
// so that every problem has a usable location.
func (ps *problems) add(p pos, format string, args ...any) {
	if ps.aborted {
		return
	}
	ps.list = append(ps.list, Problem{
		Path:    p.path,
		Line:    max(p.line, 1),
		Column:  max(p.col, 1),
		Message: fmt.Sprintf(format, args...),
	})
}

// abort replaces every problem with this one and ignores any later ones.
func (ps *problems) abort(p pos, format string, args ...any) {
	ps.list = nil
	ps.add(p, format, args...)
	ps.aborted = true
}

// err returns nil when no problem was found, otherwise a *ValidationError
// with the problems sorted by position.
func (ps *problems) err(file string) error {
	if len(ps.list) == 0 {
		return nil
	}
	list := slices.Clone(ps.list)
	slices.SortStableFunc(list, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return &ValidationError{File: file, Problems: list}
}
