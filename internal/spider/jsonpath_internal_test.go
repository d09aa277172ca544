package spider

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseJSONPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: ".", want: nil},
		{in: "next", want: []string{"next"}},
		{in: "data.items", want: []string{"data", "items"}},
		{in: "data.items.0.name", want: []string{"data", "items", "0", "name"}},
		{in: "author name.first", want: []string{"author name", "first"}},
		{in: "a..b", wantErr: true},
		{in: ".a", wantErr: true},
		{in: "a.", wantErr: true},
		{in: "..", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseJSONPath(tt.in)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "segments must not be empty") {
					t.Errorf("parseJSONPath(%q) = %v, %v, want an empty-segment error", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseJSONPath(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(&JSONPath{Segments: tt.want, Source: tt.in}, got); diff != "" {
				t.Errorf("parseJSONPath(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	keys := []string{"name", "start_urls", "follow", "items"}
	tests := []struct{ key, want string }{
		{"folow", `(did you mean "follow"?)`},
		{"Name", `(did you mean "name"?)`},
		{"item", `(did you mean "items"?)`},
		{"xyz", "(allowed: name, start_urls, follow, items)"},
		{"a", "(allowed: name, start_urls, follow, items)"},
	}
	for _, tt := range tests {
		if got := suggest(tt.key, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}
