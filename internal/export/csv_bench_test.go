package export_test

import (
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/trawl-dev/trawl/internal/export"
)

// BenchmarkWriteCSV writes quote-like items (text, author, tags list, year)
// as CSV: the server's items.csv and trawl export share this path.
func BenchmarkWriteCSV(b *testing.B) {
	items := make([]json.RawMessage, 10000)
	size := 0
	for i := range items {
		items[i] = json.RawMessage(fmt.Sprintf(`{"text":"“The world as we have created it is a process of our thinking, number %d.” It cannot be changed","author":"Albert Einstein %d","tags":["change","deep-thoughts","thinking","world"],"year":%d,"_url":"http://quotes.example/page/%d/"}`, i, i%2000, 1900+i%100, i/100))
		size += len(items[i])
	}
	seq := func(yield func(json.RawMessage, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := export.Write(io.Discard, export.CSV, seq, export.Options{Columns: []string{"text", "author", "tags", "year", "_url"}}); err != nil {
			b.Fatal(err)
		}
	}
}
