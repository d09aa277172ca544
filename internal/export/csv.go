package export

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/tidwall/gjson"
)

// writeCSV writes a header row of columns, then one row per item. With safe
// set, every cell, the header's included, goes through GuardCSVCell.
func writeCSV(w *bufio.Writer, items iter.Seq2[json.RawMessage, error], columns []string, safe bool) (int, error) {
	cw := csv.NewWriter(w) // shares w's buffer: bufio.NewWriter returns w itself
	header := columns
	if safe {
		header = make([]string, len(columns))
		for i, c := range columns {
			header[i] = GuardCSVCell(c)
		}
	}
	if err := cw.Write(header); err != nil {
		return 0, fmt.Errorf("write csv: %w", err)
	}
	record := make([]string, len(columns))
	var (
		members []member
		compact bytes.Buffer
	)
	n := 0
	for raw, err := range items {
		if err != nil {
			return n, fmt.Errorf("write csv: read item %d: %w", n+1, err)
		}
		members, err = objectMembers(raw, members[:0])
		if err != nil {
			return n, fmt.Errorf("write csv: item %d: %w", n+1, err)
		}
		for i, c := range columns {
			cell, err := encodeCell(lookup(members, c, i), &compact)
			if err != nil {
				return n, fmt.Errorf("write csv: item %d: column %q: %w", n+1, c, err)
			}
			if safe {
				cell = GuardCSVCell(cell)
			}
			record[i] = cell
		}
		if err := cw.Write(record); err != nil {
			return n, fmt.Errorf("write csv: %w", err)
		}
		n++
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, fmt.Errorf("write csv: %w", err)
	}
	return n, nil
}

// member is one member of a JSON object: its name and value (gjson reads
// both in place, without decoding the object into a map).
type member struct {
	name  string
	value gjson.Result
}

// objectMembers appends the members of the JSON object raw to dst. raw
// must be valid JSON and an object.
func objectMembers(raw json.RawMessage, dst []member) ([]member, error) {
	if !gjson.ValidBytes(raw) {
		return dst, errors.New("item is not valid json")
	}
	obj := gjson.ParseBytes(raw)
	if !obj.IsObject() {
		return dst, errors.New("item is not a json object")
	}
	obj.ForEach(func(k, v gjson.Result) bool {
		dst = append(dst, member{name: k.Str, value: v})
		return true
	})
	return dst, nil
}

// lookup returns the value of the member name, or a zero Result when it
// is missing. Items list their members in the dataset's column order, so
// the member at the column's own index is tried first.
func lookup(members []member, name string, i int) gjson.Result {
	if i < len(members) && members[i].name == name {
		return members[i].value
	}
	for _, m := range members {
		if m.name == name {
			return m.value
		}
	}
	return gjson.Result{}
}

// EncodeCSVCell returns the CSV cell for the JSON value v, before CSV
// quoting (encoding/csv adds that: a cell with a comma, a quote or a line
// break is enclosed in double quotes, with quotes doubled). The rule is:
//
//   - null, or a missing value (empty v), is an empty cell;
//   - a string is written as it is, unless a reader could take it for
//     something else: the empty string, a string starting with `[`, `{` or
//     `"`, exactly `null`, `true` or `false`, or a JSON number such as `42`
//     or `-1.5e3`, and a string with a carriage return (CSV readers such as
//     Go's turn "\r\n" inside a cell into "\n"). Those are written
//     JSON-encoded, so "" becomes `""`, `42` becomes `"42"` and `[x]` becomes
//     `"[x]"`;
//   - numbers and booleans are written as JSON (`42`, `true`);
//   - lists and objects are written as compact JSON (`["a","b, c"]`).
//
// DecodeCSVCell reverses it.
func EncodeCSVCell(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", nil
	}
	if !gjson.ValidBytes(v) {
		return "", fmt.Errorf("invalid json value %.20q", v)
	}
	var buf bytes.Buffer
	return encodeCell(gjson.ParseBytes(v), &buf)
}

// encodeCell is EncodeCSVCell of a value gjson has read from valid JSON;
// a zero Result (a missing member) is an empty cell. buf is scratch space
// for compacting lists and objects.
func encodeCell(v gjson.Result, buf *bytes.Buffer) (string, error) {
	switch v.Type {
	case gjson.Null:
		return "", nil
	case gjson.String:
		if !ambiguousString(v.Str) {
			return v.Str, nil
		}
		return quoteJSON(v.Str), nil
	case gjson.Number, gjson.True, gjson.False:
		return v.Raw, nil
	}
	// A list or an object, as compact JSON. Stored items are compact
	// already: compact only when there is whitespace to remove.
	if strings.IndexAny(v.Raw, " \t\n\r") < 0 {
		return v.Raw, nil
	}
	buf.Reset()
	if err := json.Compact(buf, []byte(v.Raw)); err != nil {
		return "", fmt.Errorf("invalid json value: %w", err)
	}
	return buf.String(), nil
}

// ambiguousString reports whether the string s, written as is, would read
// back as something else under DecodeCSVCell.
func ambiguousString(s string) bool {
	if s == "" || strings.IndexByte(s, '\r') >= 0 {
		return true
	}
	switch s[0] {
	case '[', '{', '"':
		return true
	case 't', 'f', 'n':
		return s == "true" || s == "false" || s == "null"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return !isJSONSpace(s[len(s)-1]) && json.Valid([]byte(s))
	}
	return false
}

// quoteJSON returns s as a JSON string literal, without escaping <, > and &.
func quoteJSON(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}

func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// DecodeCSVCell reads a cell written by EncodeCSVCell (after CSV unquoting)
// back into a value: an empty cell is nil (null); a cell that is a JSON text
// with no surrounding whitespace is that JSON value (string, json.Number,
// bool, []any or map[string]any; numbers stay json.Number so that large
// integers survive); any other cell is the literal string.
func DecodeCSVCell(s string) any {
	if s == "" {
		return nil
	}
	if isJSONSpace(s[0]) || isJSONSpace(s[len(s)-1]) || !json.Valid([]byte(s)) {
		return s
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return s // unreachable: s is valid JSON
	}
	return v
}

// GuardCSVCell returns the cell with a single quote in front when a
// spreadsheet could run it as a formula or it already starts with a quote:
// when its first character is "=", "+", "-", "@", a tab, a carriage return
// (the characters OWASP lists) or "'". Every other cell is returned as is.
// It looks at the first character only, so a negative number (-5) is guarded
// too: spreadsheets run "-5+A1" as well. Quoting a leading "'" makes the
// guard reversible: UnguardCSVCell drops the first character of any cell
// that starts with "'".
func GuardCSVCell(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r', '\'':
		return "'" + cell
	}
	return cell
}

// UnguardCSVCell reverses GuardCSVCell: it drops the first character of a
// cell that starts with "'". Read a cell of a --csv-safe export with
// DecodeCSVCell(UnguardCSVCell(cell)).
func UnguardCSVCell(cell string) string {
	return strings.TrimPrefix(cell, "'")
}
