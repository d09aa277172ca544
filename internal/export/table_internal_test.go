package export

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestTableAlignsWideText checks that every column starts at the same
// terminal column on every line, with wide and combining characters.
func TestTableAlignsWideText(t *testing.T) {
	t.Parallel()
	rows := [][3]string{
		{"name", "note", "end"},
		{"東京", "tokyo", "a"},
		{"Zu\u0308rich", "combining", "b"},
		{"🐟 fish", "emoji", "c"},
		{"plain", "ascii", "d"},
		{"한국어", "hangul", "e"},
	}
	var items []json.RawMessage
	for _, r := range rows[1:] {
		b, err := json.Marshal(map[string]string{"name": r[0], "note": r[1], "end": r[2]})
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, b)
	}
	var buf bytes.Buffer
	_, err := Write(&buf, Table, func(yield func(json.RawMessage, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	}, Options{Columns: []string{"name", "note", "end"}})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if got, want := len(lines), len(rows)+1; got != want {
		t.Fatalf("got %d lines, want %d:\n%s", got, want, buf.String())
	}
	lines = append(lines[:1], lines[2:]...) // drop the separator
	var starts [2]int
	for i, line := range lines {
		for c := 1; c <= 2; c++ {
			idx := strings.Index(line, "  "+rows[i][c])
			if idx < 0 {
				t.Fatalf("line %q lacks %q", line, rows[i][c])
			}
			start := textWidth(line[:idx]) + 2
			if i == 0 {
				starts[c-1] = start
			} else if start != starts[c-1] {
				t.Errorf("line %q: column %d starts at %d, want %d", line, c, start, starts[c-1])
			}
		}
	}
	if want := 7 + 2; starts[0] != want { // "🐟 fish", 7 columns, is the widest name
		t.Errorf("second column starts at %d, want %d", starts[0], want)
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven ch…"},
		{"東京東京東京", 6, "東京…"},
		{"東京東京東京", 7, "東京東…"},
		{"Zu\u0308rich", 6, "Zu\u0308rich"},
	}
	for _, tt := range tests {
		got := truncate(tt.in, tt.max)
		if got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
		if w := textWidth(got); w > tt.max {
			t.Errorf("truncate(%q, %d) is %d wide", tt.in, tt.max, w)
		}
	}
}
