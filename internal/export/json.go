package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
)

// writeJSONL writes one compact object per line.
func writeJSONL(w *bufio.Writer, items iter.Seq2[json.RawMessage, error]) (int, error) {
	var buf bytes.Buffer
	n := 0
	for raw, err := range items {
		if err != nil {
			return n, fmt.Errorf("write jsonl: read item %d: %w", n+1, err)
		}
		buf.Reset()
		if err := compactObject(&buf, raw); err != nil {
			return n, fmt.Errorf("write jsonl: item %d: %w", n+1, err)
		}
		buf.WriteByte('\n')
		if _, err := w.Write(buf.Bytes()); err != nil {
			return n, fmt.Errorf("write jsonl: %w", err)
		}
		n++
	}
	return n, nil
}

// writeJSON writes an array with one compact object per line:
//
//	[
//	{"a":1},
//	{"a":2}
//	]
//
// and "[]" when there are no items. It streams: the array is never held in
// memory.
func writeJSON(w *bufio.Writer, items iter.Seq2[json.RawMessage, error]) (int, error) {
	var buf bytes.Buffer
	n := 0
	for raw, err := range items {
		if err != nil {
			return n, fmt.Errorf("write json: read item %d: %w", n+1, err)
		}
		buf.Reset()
		if n == 0 {
			buf.WriteString("[\n")
		} else {
			buf.WriteString(",\n")
		}
		if err := compactObject(&buf, raw); err != nil {
			return n, fmt.Errorf("write json: item %d: %w", n+1, err)
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return n, fmt.Errorf("write json: %w", err)
		}
		n++
	}
	end := "\n]\n"
	if n == 0 {
		end = "[]\n"
	}
	if _, err := w.WriteString(end); err != nil {
		return n, fmt.Errorf("write json: %w", err)
	}
	return n, nil
}
