package fetch_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cfg   fetch.Config
		field string
	}{
		{fetch.Config{MaxConnsPerHost: -1}, "MaxConnsPerHost"},
		{fetch.Config{DialTimeout: -time.Second}, "DialTimeout"},
		{fetch.Config{MaxHeaderBytes: -1}, "MaxHeaderBytes"},
	} {
		err := tt.cfg.Validate()
		if trawl.ErrorCode(err) != trawl.EINVALID || !strings.Contains(trawl.ErrorMessage(err), tt.field) {
			t.Errorf("Validate(%+v) = %v, want an invalid error naming %s", tt.cfg, err, tt.field)
		}
	}
	var cfg fetch.Config
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate(zero) = %v", err)
	}
	if cfg.DialTimeout != fetch.DialTimeoutDefault || cfg.MaxHeaderBytes != fetch.MaxHeaderBytesDefault || cfg.Now == nil {
		t.Errorf("defaults not filled: %+v", cfg)
	}
}
