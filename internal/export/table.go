package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"unicode"
)

// writeTable buffers every item, then writes an aligned table: a header, a
// separator line of dashes, and one line per item. Columns are separated by
// two spaces; lines have no trailing spaces. Widths are measured in terminal
// columns (East Asian wide characters count two, combining marks zero).
func writeTable(w *bufio.Writer, items iter.Seq2[json.RawMessage, error], opt Options) (int, error) {
	columns := opt.Columns
	auto := len(columns) == 0
	index := make(map[string]int, len(columns))
	for i, c := range columns {
		index[c] = i
	}
	var rows [][]string
	for raw, err := range items {
		if err != nil {
			return 0, fmt.Errorf("write table: read item %d: %w", len(rows)+1, err)
		}
		keys, vals, err := decodeOrdered(raw)
		if err != nil {
			return 0, fmt.Errorf("write table: item %d: %w", len(rows)+1, err)
		}
		row := make([]string, len(columns), max(len(columns), len(keys)))
		for i, k := range keys {
			col, ok := index[k]
			if !ok {
				if !auto {
					continue
				}
				col = len(columns)
				index[k] = col
				columns = append(columns, k)
			}
			for len(row) <= col {
				row = append(row, "")
			}
			cell, err := tableCell(vals[i])
			if err != nil {
				return 0, fmt.Errorf("write table: item %d: field %q: %w", len(rows)+1, k, err)
			}
			row[col] = truncate(cell, opt.MaxWidth)
		}
		rows = append(rows, row)
	}
	if len(columns) == 0 {
		return len(rows), nil
	}

	header := make([]string, len(columns))
	widths := make([]int, len(columns))
	for i, c := range columns {
		header[i] = truncate(oneLine(c), opt.MaxWidth)
		widths[i] = textWidth(header[i])
	}
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], textWidth(cell))
		}
	}
	sep := make([]string, len(columns))
	for i, wd := range widths {
		sep[i] = strings.Repeat("-", wd)
	}
	if err := writeTableLine(w, header, widths); err != nil {
		return 0, err
	}
	if err := writeTableLine(w, sep, widths); err != nil {
		return 0, err
	}
	for _, row := range rows {
		if err := writeTableLine(w, row, widths); err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}

func writeTableLine(w *bufio.Writer, cells []string, widths []int) error {
	var b strings.Builder
	for i := range widths {
		cell := ""
		if i < len(cells) {
			cell = cells[i]
		}
		if i > 0 {
			b.WriteString("  ")
		}
		b.WriteString(cell)
		if i < len(widths)-1 {
			b.WriteString(strings.Repeat(" ", widths[i]-textWidth(cell)))
		}
	}
	line := strings.TrimRight(b.String(), " ")
	if _, err := w.WriteString(line + "\n"); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// decodeOrdered decodes the top-level JSON object raw into its keys, in
// document order, and their raw values.
func decodeOrdered(raw json.RawMessage) ([]string, []json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, nil, errors.New("item is not a json object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return nil, nil, fmt.Errorf("item is not valid json: %w", err)
	}
	var (
		keys []string
		vals []json.RawMessage
	)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("item is not valid json: %w", err)
		}
		key, _ := t.(string) // object keys are always strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("item is not valid json: %w", err)
		}
		keys = append(keys, key)
		vals = append(vals, v)
	}
	if _, err := dec.Token(); err != nil { // }
		return nil, nil, fmt.Errorf("item is not valid json: %w", err)
	}
	return keys, vals, nil
}

// tableCell renders a JSON value on one line: null as nothing, strings as
// they are, lists joined by ", ", anything else as compact JSON.
func tableCell(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return "", nil
	}
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("invalid json string: %w", err)
		}
		return oneLine(s), nil
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			return "", fmt.Errorf("invalid json list: %w", err)
		}
		parts := make([]string, 0, len(list))
		for _, e := range list {
			s, err := tableCell(e)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ", "), nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return "", fmt.Errorf("invalid json value: %w", err)
	}
	return oneLine(buf.String()), nil
}

// oneLine replaces line breaks, tabs and other control characters with
// spaces ("\r\n" becomes one space).
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", " ")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// truncate shortens s to at most max terminal columns, ending it with "…"
// when it cuts.
func truncate(s string, maxWidth int) string {
	if textWidth(s) <= maxWidth {
		return s
	}
	var b strings.Builder
	w := 0
	for _, r := range s {
		rw := runeWidth(r)
		if w+rw > maxWidth-1 {
			break
		}
		b.WriteRune(r)
		w += rw
	}
	b.WriteString("…")
	return b.String()
}

// textWidth is the number of terminal columns s takes.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// runeWidth approximates the terminal width of r: 0 for combining marks, 2
// for East Asian wide and fullwidth characters and common emoji, else 1.
func runeWidth(r rune) int {
	switch {
	case r < 0x300:
		return 1
	case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || r == 0x200B:
		return 0
	case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0x303E, r >= 0x3041 && r <= 0x33FF,
		r >= 0x3400 && r <= 0x4DBF, r >= 0x4E00 && r <= 0x9FFF, r >= 0xA000 && r <= 0xA4CF,
		r >= 0xAC00 && r <= 0xD7A3, r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F,
		r >= 0xFF00 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6, r >= 0x1F300 && r <= 0x1F64F,
		r >= 0x1F900 && r <= 0x1F9FF, r >= 0x20000 && r <= 0x3FFFD:
		return 2
	}
	return 1
}
