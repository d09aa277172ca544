package robots_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/robots"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cfg   robots.Config
		field string
	}{
		{robots.Config{TTL: -time.Hour}, "TTL"},
		{robots.Config{ErrorTTL: -time.Second}, "ErrorTTL"},
		{robots.Config{MaxSize: -1}, "MaxSize"},
		{robots.Config{MaxSize: robots.MaxParse + 1}, "MaxSize"},
		{robots.Config{Timeout: -time.Second}, "Timeout"},
	} {
		err := tt.cfg.Validate()
		if trawl.ErrorCode(err) != trawl.EINVALID || !strings.Contains(trawl.ErrorMessage(err), tt.field) {
			t.Errorf("Validate(%+v) = %v, want an invalid error naming %s", tt.cfg, err, tt.field)
		}
	}
	var cfg robots.Config
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate(zero) = %v", err)
	}
	if cfg.TTL != robots.TTLDefault || cfg.ErrorTTL != robots.ErrorTTLDefault || cfg.MaxSize != robots.MaxSizeDefault ||
		cfg.Timeout != robots.TimeoutDefault || cfg.Now == nil {
		t.Errorf("defaults not filled: %+v", cfg)
	}
}
