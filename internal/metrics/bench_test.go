package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trawl-dev/trawl/internal/metrics"
)

// The engine calls ObservePage once per page from every worker; at 8,000 pages/s it must cost well under a
// microsecond and allocate nothing.

func BenchmarkObservePage(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	m, err := metrics.New(prometheus.NewRegistry(), metrics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%8 == 0 {
			m.ObservePage("http_5xx", 503, 120, 250*time.Millisecond, 0)
		} else {
			m.ObservePage("", 200, 18_000, 80*time.Millisecond, 10)
		}
	}
}

func BenchmarkObservePageParallel(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	m, err := metrics.New(prometheus.NewRegistry(), metrics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObservePage("", 200, 18_000, 80*time.Millisecond, 10)
		}
	})
}

func BenchmarkObservePageNil(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	var m *metrics.Metrics
	b.ReportAllocs()
	for b.Loop() {
		m.ObservePage("", 200, 18_000, 80*time.Millisecond, 10)
	}
}
