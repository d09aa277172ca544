package extract_test

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/trawl-dev/trawl/internal/extract"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func TestItemKey(t *testing.T) {
	t.Parallel()
	const pageURL = "http://quotes.example/page/1/"
	fields := []trawl.Field{
		{Name: "text", Value: "To be"},
		{Name: "author", Value: "Shakespeare"},
		{Name: "tags", Value: []string{"life", "death"}},
	}
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	key := func(fs []trawl.Field, u string, k ...string) string {
		t.Helper()
		s := extract.ItemKey(fs, u, k)
		if !hex32.MatchString(s) {
			t.Fatalf("ItemKey = %q, want 32 lowercase hex digits", s)
		}
		return s
	}

	tests := []struct {
		name  string
		a, b  string
		equal bool
	}{
		{"stable", key(fields, pageURL, "text"), key(fields, pageURL, "text"), true},
		{
			// The known value pins the encoding: changing it would duplicate
			// every stored item on the next run.
			"known value: sha256 of [\"To be\"]", key(fields, pageURL, "text"),
			"096bb8a0adc3a434368878d2e3aecf28", true,
		},
		{"page URL ignored without _url", key(fields, pageURL, "text"), key(fields, "http://other.example/", "text"), true},
		{"_url uses the page URL", key(fields, pageURL, "text", "_url"), key(fields, "http://other.example/", "text", "_url"), false},
		{"order-sensitive", key(fields, pageURL, "text", "author"), key(fields, pageURL, "author", "text"), false},
		{"values are not concatenated", key([]trawl.Field{{Name: "a", Value: "ab"}, {Name: "b", Value: "c"}}, pageURL),
			key([]trawl.Field{{Name: "a", Value: "a"}, {Name: "b", Value: "bc"}}, pageURL), false},
		{"empty key is all fields", key(fields, pageURL), key(fields, pageURL, "text", "author", "tags"), true},
		{"empty key excludes _url", key(fields, pageURL), key(fields, "http://other.example/"), true},
		{"field names do not matter", key(fields, pageURL, "text"),
			key([]trawl.Field{{Name: "quote", Value: "To be"}}, pageURL, "quote"), true},
		{"missing field is null", key(fields, pageURL, "nope"),
			key([]trawl.Field{{Name: "x", Value: nil}}, pageURL, "x"), true},
		{"nil differs from empty string", key([]trawl.Field{{Name: "x", Value: nil}}, pageURL),
			key([]trawl.Field{{Name: "x", Value: ""}}, pageURL), false},
		{"list differs from string", key([]trawl.Field{{Name: "x", Value: []string{"a"}}}, pageURL),
			key([]trawl.Field{{Name: "x", Value: "a"}}, pageURL), false},
		{"int64 and integral float64 agree", key([]trawl.Field{{Name: "x", Value: int64(3)}}, pageURL),
			key([]trawl.Field{{Name: "x", Value: float64(3)}}, pageURL), true},
		// JSON numbers are json.Number now; keys must not change for
		// values that decoded to int64 or float64 before.
		{"json.Number and int64 agree", key(num("-42"), pageURL), key([]trawl.Field{{Name: "x", Value: int64(-42)}}, pageURL), true},
		{"json.Number and float64 agree", key(num("2.50"), pageURL), key([]trawl.Field{{Name: "x", Value: 2.5}}, pageURL), true},
		{"exponent and float64 agree", key(num("1e3"), pageURL), key([]trawl.Field{{Name: "x", Value: 1000.0}}, pageURL), true},
		{"big integers stay distinct", key(num("12345678901234567890123"), pageURL), key(num("12345678901234567890124"), pageURL), false},
		{"nested json.Number and int64 agree",
			key([]trawl.Field{{Name: "x", Value: []any{map[string]any{"n": json.Number("7")}}}}, pageURL),
			key([]trawl.Field{{Name: "x", Value: []any{map[string]any{"n": int64(7)}}}}, pageURL), true},
		{"list and []any agree", key([]trawl.Field{{Name: "x", Value: []string{"a", "b"}}}, pageURL),
			key([]trawl.Field{{Name: "x", Value: []any{"a", "b"}}}, pageURL), true},
		{"map key order does not matter", key([]trawl.Field{{Name: "x", Value: map[string]any{"a": 1, "b": 2}}}, pageURL),
			key([]trawl.Field{{Name: "x", Value: map[string]any{"b": 2, "a": 1}}}, pageURL), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.a == tt.b; got != tt.equal {
				t.Errorf("keys %s and %s: equal = %v, want %v", tt.a, tt.b, got, tt.equal)
			}
		})
	}
}

// num is one field x holding the JSON number s.
func num(s string) []trawl.Field { return []trawl.Field{{Name: "x", Value: json.Number(s)}} }
