package fetch

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{"empty", "", 0},
		{"seconds", "30", 30 * time.Second},
		{"seconds with spaces", " 5 ", 5 * time.Second},
		{"zero", "0", 0},
		{"negative", "-5", 0},
		{"huge seconds capped", "999999999999999", 24 * time.Hour},
		{"imf-fixdate", "Sat, 01 Mar 2025 12:01:00 GMT", time.Minute},
		{"rfc 850 date", "Saturday, 01-Mar-25 12:00:10 GMT", 10 * time.Second},
		{"asctime date", "Sat Mar  1 12:00:20 2025", 20 * time.Second},
		{"past date", "Sat, 01 Mar 2025 11:00:00 GMT", 0},
		{"garbage", "tomorrow", 0},
		{"fraction", "1.5", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := parseRetryAfter(tt.value, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}
