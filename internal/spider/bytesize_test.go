package spider_test

import (
	"strings"
	"testing"

	"github.com/trawl-dev/trawl/internal/spider"
)

func TestParseByteSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{in: "1000", want: 1000},
		{in: "0", want: 0},
		{in: "12B", want: 12},
		{in: "512KiB", want: 512 << 10},
		{in: "10MiB", want: 10 << 20},
		{in: "1GiB", want: 1 << 30},
		{in: "2TiB", want: 2 << 40},
		{in: "10MB", want: 10_000_000},
		{in: "3kB", want: 3000},
		{in: "1GB", want: 1_000_000_000},
		{in: "1.5MiB", want: 1572864},
		{in: "0.5KiB", want: 512},
		{in: "1.0001KiB", want: 1024},
		{in: " 10 mib ", want: 10 << 20},
		{in: "9223372036854775807", want: 9223372036854775807},
		{in: "", wantErr: "invalid size"},
		{in: "MiB", wantErr: "invalid size"},
		{in: "-1MiB", wantErr: "invalid size"},
		{in: "10 megs", wantErr: `invalid size "10 megs"`},
		{in: "1.2.3KB", wantErr: "invalid size"},
		{in: "1e6", wantErr: "invalid size"},
		{in: "0x10", wantErr: "invalid size"},
		{in: "9223372036854775808", wantErr: "too large"},
		{in: "8388608TiB", wantErr: "too large"},
		{in: "8388608.5TiB", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := spider.ParseByteSize(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseByteSize(%q) = %d, %v, want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseByteSize(%q) = %d, %v, want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestByteSizeText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		size spider.ByteSize
		want string
	}{
		{0, "0"},
		{1000, "1000"},
		{1024, "1KiB"},
		{10 << 20, "10MiB"},
		{1572864, "1536KiB"},
		{3 << 30, "3GiB"},
		{1 << 40, "1TiB"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			text, err := tt.size.MarshalText()
			if err != nil || string(text) != tt.want {
				t.Errorf("MarshalText() = %q, %v, want %q", text, err, tt.want)
			}
			var back spider.ByteSize
			if err := back.UnmarshalText(text); err != nil || back != tt.size {
				t.Errorf("UnmarshalText(%q) = %d, %v, want %d", text, back, err, tt.size)
			}
		})
	}
	var b spider.ByteSize
	if err := b.UnmarshalText([]byte("lots")); err == nil {
		t.Error("UnmarshalText(lots) succeeded, want an error")
	}
}
