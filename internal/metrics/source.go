package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// runStatuses are the statuses trawl_runs always exports, 0 when RunsFunc leaves one out: a status that
// disappears from a scrape would make alerts on it silently stop matching.
var runStatuses = []trawl.RunStatus{trawl.RunQueued, trawl.RunRunning, trawl.RunSucceeded, trawl.RunFailed, trawl.RunCanceled}

var (
	runsDesc = prometheus.NewDesc("trawl_runs",
		"Runs in the database, by status.", []string{"status"}, nil)
	queueDepthDesc = prometheus.NewDesc("trawl_queue_depth",
		"Jobs waiting to be worked (available or scheduled, not running).", nil, nil)
	frontierDesc = prometheus.NewDesc("trawl_frontier_queued_pages",
		"Pages queued in the frontiers of all runs that are not final.", nil, nil)
)

// source is a collector that reads gauges from the database at scrape time. Each source is registered on its own,
// so that the registry, which collects every collector in its own goroutine, reads the sources in parallel: a
// slow one costs one timeout, not the sum.
type source struct {
	name    string
	desc    *prometheus.Desc
	up      *prometheus.Desc
	timeout time.Duration
	logger  *slog.Logger
	read    func(ctx context.Context, desc *prometheus.Desc, ch chan<- prometheus.Metric) error
}

// sources returns a collector for each function set in cfg.
func sources(cfg Config) []prometheus.Collector {
	var cs []prometheus.Collector
	add := func(name string, desc *prometheus.Desc, read func(context.Context, *prometheus.Desc, chan<- prometheus.Metric) error) {
		cs = append(cs, &source{
			name: name,
			desc: desc,
			up: prometheus.NewDesc("trawl_metrics_source_up",
				"1 when the last scrape read the source's gauges, 0 when reading failed or timed out.",
				nil, prometheus.Labels{"source": name}),
			timeout: cfg.ScrapeTimeout,
			logger:  cfg.Logger,
			read:    read,
		})
	}
	if f := cfg.RunsFunc; f != nil {
		add("runs", runsDesc, func(ctx context.Context, desc *prometheus.Desc, ch chan<- prometheus.Metric) error {
			counts, err := f(ctx)
			if err != nil {
				return err
			}
			for _, s := range runStatuses {
				ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(counts[s]), string(s))
			}
			for s, n := range counts {
				if !slices.Contains(runStatuses, s) {
					ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n), string(s))
				}
			}
			return nil
		})
	}
	if f := cfg.QueueDepthFunc; f != nil {
		add("queue", queueDepthDesc, gauge(f))
	}
	if f := cfg.FrontierQueuedFunc; f != nil {
		add("frontier", frontierDesc, gauge(f))
	}
	return cs
}

// gauge adapts a function returning one number to a source's read.
func gauge(f func(context.Context) (int64, error)) func(context.Context, *prometheus.Desc, chan<- prometheus.Metric) error {
	return func(ctx context.Context, desc *prometheus.Desc, ch chan<- prometheus.Metric) error {
		n, err := f(ctx)
		if err != nil {
			return err
		}
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n))
		return nil
	}
}

// Describe implements prometheus.Collector.
func (s *source) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.desc
	ch <- s.up
}

// Collect implements prometheus.Collector. A failed read leaves the source's gauges out of this scrape rather than
// failing the whole scrape: the engine's counters stay visible while the database is unreachable, and
// trawl_metrics_source_up says which numbers are missing.
func (s *source) Collect(ch chan<- prometheus.Metric) {
	// Collect gets no context from promhttp; the timeout keeps a stuck database from holding the scrape past
	// Prometheus's own scrape timeout.
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	up := 1.0
	if err := s.read(ctx, s.desc, ch); err != nil {
		up = 0
		s.logger.Warn("metrics source failed", "source", s.name, "err", fmt.Errorf("read %s: %w", s.name, err))
	}
	ch <- prometheus.MustNewConstMetric(s.up, prometheus.GaugeValue, up)
}
