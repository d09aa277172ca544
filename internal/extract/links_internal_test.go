package extract

import "testing"

func TestWebRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ref  string
		want bool
	}{
		{"/path", true},
		{"page?q=1", true},
		{"//cdn.example/x", true},
		{"http://a.example/", true},
		{"HTTPS://a.example/", true},
		{"a:b/c", false}, // a scheme, as url.Parse reads it
		{"./a:b", true},
		{"mailto:x@a.example", false},
		{"javascript:void(0)", false},
		{"tel:+123", false},
		{"data:text/html,hi", false},
		{"svn+ssh://a.example/", false},
		{":nothing", false},
		{"1a:b", true}, // not a scheme (url.Parse rejects it): counted, a rare overcount
	}
	for _, tt := range tests {
		if got := webRef(tt.ref); got != tt.want {
			t.Errorf("webRef(%q) = %v, want %v", tt.ref, got, tt.want)
		}
	}
}
