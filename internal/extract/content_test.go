package extract_test

import (
	"testing"

	"github.com/trawl-dev/trawl/internal/extract"
)

func TestIsJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		contentType string
		body        string
		want        bool
	}{
		{"application/json", "application/json", "", true},
		{"with charset", "application/json; charset=utf-8", "not even json", true},
		{"uppercase", "Application/JSON", "", true},
		{"problem+json", "application/problem+json", "", true},
		{"vendor +json", "application/vnd.api+json", "", true},
		{"ld+json", "application/ld+json", "", true},
		{"text/json", "text/json", "", true},
		{"html is not json", "text/html", `{"a":1}`, false},
		{"javascript", "application/javascript", `{"a":1}`, false},
		{"jsonp suffix is not +json", "application/jsonp", "", false},
		{"empty type, object body", "", `  {"a":1}`, true},
		{"empty type, array body", "", "\n\t[1,2]", true},
		{"empty type, BOM then object", "", "\xEF\xBB\xBF{}", true},
		{"empty type, html body", "", "<html>", false},
		{"empty type, empty body", "", "", false},
		{"empty type, only space", "", "   ", false},
		{"text/plain, object body", "text/plain; charset=utf-8", `{"a":1}`, true},
		{"text/plain, text body", "text/plain", "hello {", false},
		{"text/csv, array-like body", "text/csv", "[1]", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := extract.IsJSON(tt.contentType, []byte(tt.body)); got != tt.want {
				t.Errorf("IsJSON(%q, %q) = %v, want %v", tt.contentType, tt.body, got, tt.want)
			}
		})
	}
}

func TestIsHTML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		contentType string
		want        bool
	}{
		{"text/html", true},
		{"text/html; charset=iso-8859-1", true},
		{"TEXT/HTML", true},
		{" text/html ", true},
		{"application/xhtml+xml", true},
		{"application/xhtml+xml;charset=utf-8", true},
		{"text/plain", false},
		{"application/json", false},
		{"application/xml", false},
		{"text/htmlx", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			t.Parallel()
			if got := extract.IsHTML(tt.contentType); got != tt.want {
				t.Errorf("IsHTML(%q) = %v, want %v", tt.contentType, got, tt.want)
			}
		})
	}
}
