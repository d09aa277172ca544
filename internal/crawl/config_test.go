package crawl_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/trawl"
)

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   crawl.Config
		field string // named by the error; "" for a valid config
	}{
		{"zero value means defaults", crawl.Config{}, ""},
		{"negative concurrency", crawl.Config{Concurrency: -1}, "Concurrency"},
		{"absurd concurrency", crawl.Config{Concurrency: 1 << 30}, "Concurrency"},
		{"negative batch", crawl.Config{CommitBatch: -1}, "CommitBatch"},
		{"negative linger", crawl.Config{CommitLinger: -time.Millisecond}, "CommitLinger"},
		{"negative parse budget", crawl.Config{ParseBudget: -1}, "ParseBudget"},
		{"negative throttle retries", crawl.Config{ThrottleRetries: -1}, "ThrottleRetries"},
		{"negative throttle window", crawl.Config{ThrottleRetryFor: -time.Second}, "ThrottleRetryFor"},
		{"negative breaker threshold", crawl.Config{BreakerThreshold: -1}, "BreakerThreshold"},
		{"negative cool-down", crawl.Config{BreakerCooldown: -time.Second}, "BreakerCooldown"},
		{"negative probes", crawl.Config{BreakerProbes: -2}, "BreakerProbes"},
		{"negative lease TTL", crawl.Config{LeaseTTL: -time.Second}, "LeaseTTL"},
		{"negative renewal", crawl.Config{LeaseRenew: -time.Second}, "LeaseRenew"},
		{"renewal too close to the TTL", crawl.Config{LeaseTTL: 30 * time.Second, LeaseRenew: 20 * time.Second}, "LeaseRenew"},
		{"renewal default above half a short TTL", crawl.Config{LeaseTTL: 3 * time.Second}, ""},
		{"negative max hosts", crawl.Config{MaxHosts: -1}, "MaxHosts"},
		{"negative claim interval", crawl.Config{ClaimInterval: -time.Second}, "ClaimInterval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := crawl.New(nil, nil, nil, tt.cfg)
			if tt.field == "" {
				if err != nil || e == nil {
					t.Fatalf("New = %v, %v; want an engine", e, err)
				}
				return
			}
			if e != nil || trawl.ErrorCode(err) != trawl.EINVALID {
				t.Fatalf("New = %v, %v; want an invalid error", e, err)
			}
			if msg := trawl.ErrorMessage(err); !strings.Contains(msg, tt.field) || !strings.Contains(msg, "must be") {
				t.Errorf("message %q does not name %s and its range", msg, tt.field)
			}
		})
	}
}
