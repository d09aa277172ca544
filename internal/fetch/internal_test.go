package fetch

import (
	"net/netip"
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

func TestIsBlocked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.255.0.9", true},
		{"::1", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"172.32.0.1", false},
		{"192.168.1.1", true},
		{"fc00::1", true},
		{"fd12:3456::1", true},
		{"169.254.169.254", true}, // cloud metadata
		{"fe80::1", true},
		{"0.0.0.0", true},
		{"0.1.2.3", true},
		{"::", true},
		{"100.64.0.1", true},
		{"100.127.255.255", true},
		{"100.128.0.1", false},
		{"224.0.0.1", true},
		{"255.255.255.255", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"8.8.8.8", false},
		{"93.184.216.34", false},
		{"2606:2800:220:1::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			if got := isBlocked(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("isBlocked(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestGuardControl(t *testing.T) {
	t.Parallel()
	if err := guardControl("tcp4", "127.0.0.1:80", nil); err == nil {
		t.Error("guardControl(127.0.0.1:80) = nil, want an error")
	}
	if err := guardControl("tcp6", "[2606:2800:220:1::1]:443", nil); err != nil {
		t.Errorf("guardControl(public) = %v, want nil", err)
	}
}
