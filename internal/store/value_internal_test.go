package store

import (
	"hash/fnv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/trawl"
)

func TestFold(t *testing.T) {
	tests := []struct{ a, b string }{
		{"Albert Einstein", "aLBERT eINSTEIN"},
		{"Émile", "éMILE"},
		{"straße", "STRASSE"}, // not equal: ß has no simple fold to "ss"
		{"K", "\u212a"},       // Kelvin sign folds to K
		{"ſ", "S"},            // long s folds to S
		{"İ", "I"},            // dotted capital I does not fold to I
		{"Σ", "ς"},
	}
	for _, tt := range tests {
		if got, want := Fold(tt.a) == Fold(tt.b), strings.EqualFold(tt.a, tt.b); got != want {
			t.Errorf("Fold(%q) == Fold(%q) is %v, strings.EqualFold says %v", tt.a, tt.b, got, want)
		}
	}
}

func TestAppendValues(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want []string
	}{
		{"string", "x", []string{"x"}},
		{"nil", nil, nil},
		{"int", 42, []string{"42"}},
		{"float", 4.5, []string{"4.5"}},
		{"bool", false, []string{"false"}},
		{"strings", []string{"a", "b"}, []string{"a", "b"}},
		{"mixed list", []any{"a", 1, nil, []any{"nested"}, map[string]any{"k": "v"}, true}, []string{"a", "1", "true"}},
		{"map", map[string]any{"k": "v"}, nil},
		{"typed list", []int{1, 2}, []string{"1", "2"}},
	}
	for _, tt := range tests {
		got, err := appendValues(nil, tt.v, true)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
		// The backfill reads the stored JSON: it must index the same.
		data, _ := (trawl.Item{Fields: []trawl.Field{{Name: "f", Value: tt.v}}}).MarshalJSON()
		fields, err := StoredIndexValues(string(data))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fields {
			if f.Name == "f" {
				if diff := cmp.Diff(tt.want, f.Values); diff != "" {
					t.Errorf("%s from JSON (-want +got):\n%s", tt.name, diff)
				}
			}
		}
	}
}

func TestValueHash(t *testing.T) {
	for _, pair := range [][2]string{{"Albert Einstein", "aLBERT eINSTEIN"}, {"Émile", "éMILE"}, {"K", "\u212a"}, {"", ""}} {
		if ValueHash(pair[0]) != ValueHash(pair[1]) {
			t.Errorf("ValueHash(%q) != ValueHash(%q); their folds are equal", pair[0], pair[1])
		}
	}
	if ValueHash("a") == ValueHash("b") {
		t.Errorf("ValueHash(a) == ValueHash(b)")
	}
	// The hash is stored: it must stay FNV-1a of the fold.
	for _, v := range []string{"x", "Hello, World", "Émile Zola", "\xff"} {
		h := fnv.New64a()
		h.Write([]byte(Fold(v)))
		if got, want := ValueHash(v), int64(h.Sum64()); got != want {
			t.Errorf("ValueHash(%q) = %d, want FNV-1a of %q = %d", v, got, Fold(v), want)
		}
	}
}
