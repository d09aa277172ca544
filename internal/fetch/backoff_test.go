package fetch_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/fetch"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		attempt    int
		retryAfter time.Duration
		min, max   time.Duration
	}{
		{"attempt 0 counts as 1", 0, 0, 250 * time.Millisecond, 500 * time.Millisecond},
		{"attempt 1", 1, 0, 250 * time.Millisecond, 500 * time.Millisecond},
		{"attempt 2", 2, 0, 500 * time.Millisecond, time.Second},
		{"attempt 3", 3, 0, time.Second, 2 * time.Second},
		{"attempt 6", 6, 0, 8 * time.Second, 16 * time.Second},
		{"attempt 7 is capped", 7, 0, 15 * time.Second, 30 * time.Second},
		{"attempt 1000 is capped", 1000, 0, 15 * time.Second, 30 * time.Second},
		{"retry-after larger than computed", 1, 10 * time.Second, 10 * time.Second, 10 * time.Second},
		{"retry-after smaller than computed", 7, time.Second, 15 * time.Second, 30 * time.Second},
		{"retry-after capped", 1, time.Hour, fetch.MaxRetryAfter, fetch.MaxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rnd := rand.New(rand.NewPCG(1, 2))
			seen := map[time.Duration]bool{}
			for range 200 {
				got := fetch.Backoff(tt.attempt, tt.retryAfter, rnd)
				if got < tt.min || got > tt.max {
					t.Fatalf("Backoff(%d, %v) = %v, want in [%v, %v]", tt.attempt, tt.retryAfter, got, tt.min, tt.max)
				}
				seen[got] = true
			}
			if tt.min != tt.max && len(seen) < 10 {
				t.Errorf("Backoff(%d, %v) gave %d distinct values in 200 draws, want jitter", tt.attempt, tt.retryAfter, len(seen))
			}
		})
	}
	t.Run("nil source", func(t *testing.T) {
		t.Parallel()
		if got := fetch.Backoff(2, 0, nil); got < 500*time.Millisecond || got > time.Second {
			t.Errorf("Backoff(2, 0, nil) = %v, want in [500ms, 1s]", got)
		}
	})
}
