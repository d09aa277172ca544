package store_test

import (
	"testing"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, id := range []int64{1, 42, 1 << 53, 1<<63 - 1} {
		got, err := store.NewCursor(id).ItemID()
		if err != nil || got != id {
			t.Errorf("NewCursor(%d).ItemID() = %d, %v; want %d", id, got, err, id)
		}
	}
	if got, err := store.Cursor("").ItemID(); got != 0 || err != nil {
		t.Errorf(`Cursor("").ItemID() = %d, %v; want 0, nil`, got, err)
	}
}

func TestCursorGarbage(t *testing.T) {
	tests := []struct{ name, cursor string }{
		{"not base64", "!!!"},
		{"no prefix", "NDI"},                             // "42"
		{"not a number", "aTE6eA"},                       // "i1:x"
		{"zero", "aTE6MA"},                               // "i1:0"
		{"negative", "aTE6LTE"},                          // "i1:-1"
		{"leading zero", "aTE6MDE"},                      // "i1:01"
		{"overflow", "aTE6OTk5OTk5OTk5OTk5OTk5OTk5OTk5"}, // "i1:9999..."
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := store.Cursor(tt.cursor).ItemID(); trawl.ErrorCode(err) != trawl.EINVALID {
				t.Errorf("ItemID() error = %v, want invalid", err)
			}
		})
	}
}
