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
	n := 0
	for raw, err := range items {
		if err != nil {
			return n, fmt.Errorf("write csv: read item %d: %w", n+1, err)
		}
		var obj map[string]json.RawMessage
		if err := decodeObject(raw, &obj); err != nil {
			return n, fmt.Errorf("write csv: item %d: %w", n+1, err)
		}
		for i, c := range columns {
			cell, err := EncodeCSVCell(obj[c])
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

// decodeObject decodes the JSON object raw into obj.
func decodeObject(raw json.RawMessage, obj *map[string]json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("item is not a json object")
	}
	if err := json.Unmarshal(raw, obj); err != nil {
		return fmt.Errorf("item is not valid json: %w", err)
	}
	return nil
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
	switch v[0] {
	case 'n':
		if string(v) != "null" {
			return "", fmt.Errorf("invalid json value %.20q", v)
		}
		return "", nil
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("invalid json string: %w", err)
		}
		if !ambiguousString(s) {
			return s, nil
		}
		return quoteJSON(s), nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
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
