package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/trawl-dev/trawl/internal/metrics"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// newMetrics returns a Metrics on a registry of its own, and the registry.
func newMetrics(t *testing.T, cfg metrics.Config) (*metrics.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := metrics.New(reg, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, reg
}

// scrape serves reg with metrics.Handler on a loopback server, GETs /metrics and parses the text format into
// series: "name{k=v,...}" → value, with a histogram as its _bucket, _sum and _count series.
func scrape(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	srv := httptest.NewServer(metrics.Handler(reg))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	series := make(map[string]float64)
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			labels := labelString(m.GetLabel())
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				series[name+labels] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				series[name+labels] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				series[name+"_count"+labels] = float64(h.GetSampleCount())
				series[name+"_sum"+labels] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					series[fmt.Sprintf("%s_bucket{le=%g}", name, b.GetUpperBound())] = float64(b.GetCumulativeCount())
				}
			default:
				series[name+labels] = m.GetUntyped().GetValue()
			}
		}
	}
	return series
}

func labelString(ls []*dto.LabelPair) string {
	if len(ls) == 0 {
		return ""
	}
	parts := make([]string, 0, len(ls))
	for _, l := range ls {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// only returns the series whose name starts with prefix.
func only(series map[string]float64, prefix string) map[string]float64 {
	out := make(map[string]float64)
	for k, v := range series {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

func TestObservePage(t *testing.T) {
	t.Parallel()
	m, reg := newMetrics(t, metrics.Config{})
	pages := []struct {
		class  string
		status int
		bytes  int64
		d      time.Duration
		items  int
	}{
		{"", 200, 1000, 120 * time.Millisecond, 3},
		{"", 299, 500, 3 * time.Millisecond, 0},
		{"", 301, 0, 40 * time.Millisecond, 0}, // a redirect that was not followed
		{"http_4xx", 404, 50, 8 * time.Millisecond, 0},
		{"http_5xx", 503, 20, 45 * time.Second, 0}, // beyond the last bucket
		{"dns", 0, 0, 30 * time.Millisecond, 0},
		{"robots", 0, 0, 0, 0}, // not fetched: no latency
		{"parse", 200, 70, 2 * time.Second, 0},
		{"from_the_future", 600, 0, 0, 0}, // an unknown class and a status outside 200-599
		{"http_5xx", 101, 0, 0, 0},
	}
	for _, p := range pages {
		m.ObservePage(p.class, p.status, p.bytes, p.d, p.items)
	}
	got := scrape(t, reg)

	want := map[string]float64{
		"trawl_pages_total{class=2xx}":  3,
		"trawl_pages_total{class=3xx}":  1,
		"trawl_pages_total{class=4xx}":  1,
		"trawl_pages_total{class=5xx}":  1,
		"trawl_pages_total{class=none}": 4,
	}
	if diff := cmp.Diff(want, only(got, "trawl_pages_total")); diff != "" {
		t.Errorf("trawl_pages_total (-want +got):\n%s", diff)
	}

	// Every error class is exported from the start, and nothing else: the label set is closed.
	want = map[string]float64{}
	for _, c := range metrics.ErrorClasses() {
		want["trawl_page_errors_total{class="+c+"}"] = 0
	}
	want["trawl_page_errors_total{class=http_4xx}"] = 1
	want["trawl_page_errors_total{class=http_5xx}"] = 2
	want["trawl_page_errors_total{class=dns}"] = 1
	want["trawl_page_errors_total{class=robots}"] = 1
	want["trawl_page_errors_total{class=parse}"] = 1
	want["trawl_page_errors_total{class=other}"] = 1
	if diff := cmp.Diff(want, only(got, "trawl_page_errors_total")); diff != "" {
		t.Errorf("trawl_page_errors_total (-want +got):\n%s", diff)
	}

	want = map[string]float64{
		"trawl_fetched_bytes_total":          1640,
		"trawl_items_total":                  3,
		"trawl_fetch_duration_seconds_count": 7,
		"trawl_fetch_duration_seconds_sum":   0.12 + 0.003 + 0.04 + 0.008 + 45 + 0.03 + 2,
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || !approx(g, w) {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
	buckets := map[string]float64{}
	wantBuckets := []float64{1, 2, 2, 4, 4, 5, 5, 5, 6, 6, 6, 6, 6} // cumulative, per metrics.FetchBuckets()
	for i, le := range metrics.FetchBuckets() {
		buckets[fmt.Sprintf("trawl_fetch_duration_seconds_bucket{le=%g}", le)] = wantBuckets[i]
	}
	buckets["trawl_fetch_duration_seconds_bucket{le=+Inf}"] = 7
	if diff := cmp.Diff(buckets, only(got, "trawl_fetch_duration_seconds_bucket")); diff != "" {
		t.Errorf("trawl_fetch_duration_seconds buckets (-want +got):\n%s", diff)
	}
}

func approx(a, b float64) bool {
	d := a - b
	return d < 1e-9 && d > -1e-9
}

func TestNilMetrics(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	m.ObservePage("dns", 0, 10, time.Second, 1) // must not panic
	m.JobDone("run", metrics.JobCompleted)
}

func TestJobDone(t *testing.T) {
	t.Parallel()
	m, reg := newMetrics(t, metrics.Config{})
	m.JobDone("run", metrics.JobCompleted)
	m.JobDone("run", metrics.JobCompleted)
	m.JobDone("run", metrics.JobFailed)
	m.JobDone("schedule", metrics.JobSnoozed)
	m.JobDone("cancel", metrics.JobCanceled)
	m.JobDone("cancel", "exploded")
	want := map[string]float64{
		"trawl_jobs_processed_total{kind=run,outcome=completed}":    2,
		"trawl_jobs_processed_total{kind=run,outcome=failed}":       1,
		"trawl_jobs_processed_total{kind=schedule,outcome=snoozed}": 1,
		"trawl_jobs_processed_total{kind=cancel,outcome=canceled}":  1,
		"trawl_jobs_processed_total{kind=cancel,outcome=other}":     1,
	}
	if diff := cmp.Diff(want, only(scrape(t, reg), "trawl_jobs_processed_total")); diff != "" {
		t.Errorf("trawl_jobs_processed_total (-want +got):\n%s", diff)
	}
}

// TestConcurrent checks that pages observed from many goroutines are all counted (and, under -race, that
// ObservePage is safe for concurrent use).
func TestConcurrent(t *testing.T) {
	t.Parallel()
	m, reg := newMetrics(t, metrics.Config{})
	const workers, each = 16, 500
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range each {
				if i%2 == 0 {
					m.ObservePage("", 200, 10, time.Millisecond, 1)
				} else {
					m.ObservePage("timeout", 0, 0, 20*time.Second, 0)
				}
			}
		})
	}
	wg.Wait()
	got := scrape(t, reg)
	for k, w := range map[string]float64{
		"trawl_pages_total{class=2xx}":           workers * each / 2,
		"trawl_pages_total{class=none}":          workers * each / 2,
		"trawl_page_errors_total{class=timeout}": workers * each / 2,
		"trawl_fetched_bytes_total":              workers * each / 2 * 10,
		"trawl_items_total":                      workers * each / 2,
		"trawl_fetch_duration_seconds_count":     workers * each,
	} {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
}

func TestSources(t *testing.T) {
	t.Parallel()
	_, reg := newMetrics(t, metrics.Config{
		RunsFunc: func(ctx context.Context) (map[trawl.RunStatus]int64, error) {
			return map[trawl.RunStatus]int64{trawl.RunRunning: 2, trawl.RunSucceeded: 5, "paused": 1}, nil
		},
		QueueDepthFunc:     func(ctx context.Context) (int64, error) { return 7, nil },
		FrontierQueuedFunc: func(ctx context.Context) (int64, error) { return 1234, nil },
	})
	got := scrape(t, reg)
	want := map[string]float64{
		"trawl_runs{status=queued}":    0, // left out by RunsFunc, exported as 0
		"trawl_runs{status=running}":   2,
		"trawl_runs{status=succeeded}": 5,
		"trawl_runs{status=failed}":    0,
		"trawl_runs{status=canceled}":  0,
		"trawl_runs{status=paused}":    1, // a status this package does not know yet is not dropped
		"trawl_queue_depth":            7,
		"trawl_frontier_queued_pages":  1234,

		"trawl_metrics_source_up{source=runs}":     1,
		"trawl_metrics_source_up{source=queue}":    1,
		"trawl_metrics_source_up{source=frontier}": 1,
	}
	for _, p := range []string{"trawl_runs", "trawl_queue_depth", "trawl_frontier_queued_pages", "trawl_metrics_source_up"} {
		for k := range only(got, p) {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected series %s", k)
			}
		}
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
}

// TestSourcesUnset checks that no gauge is exported for a function that is not set, rather than a false 0.
func TestSourcesUnset(t *testing.T) {
	t.Parallel()
	_, reg := newMetrics(t, metrics.Config{})
	got := scrape(t, reg)
	for _, p := range []string{"trawl_runs", "trawl_queue_depth", "trawl_frontier_queued_pages", "trawl_metrics_source_up"} {
		if s := only(got, p); len(s) != 0 {
			t.Errorf("series %v exported without a function", s)
		}
	}
}

// syncBuffer is a log destination safe for the registry's collector goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestSourceFailure checks that a database that fails or hangs costs its own gauges only: the scrape answers 200
// with every other metric, within the scrape timeout, and says which source is down.
func TestSourceFailure(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	const timeout = 100 * time.Millisecond
	deadlines := make(chan time.Duration, 1)
	m, reg := newMetrics(t, metrics.Config{
		RunsFunc: func(ctx context.Context) (map[trawl.RunStatus]int64, error) {
			return nil, errors.New("database is locked")
		},
		QueueDepthFunc: func(ctx context.Context) (int64, error) { return 3, nil },
		FrontierQueuedFunc: func(ctx context.Context) (int64, error) {
			dl, ok := ctx.Deadline()
			if !ok {
				return 0, errors.New("no deadline")
			}
			deadlines <- time.Until(dl)
			<-ctx.Done() // a query stuck on a lock until its context ends
			return 0, ctx.Err()
		},
		ScrapeTimeout: timeout,
		Logger:        slog.New(slog.NewTextHandler(&logs, nil)),
	})
	m.ObservePage("", 200, 1, time.Millisecond, 0)
	got := scrape(t, reg)
	if left := <-deadlines; left > timeout {
		t.Errorf("FrontierQueuedFunc deadline in %v, want at most %v", left, timeout)
	}

	for k, w := range map[string]float64{
		"trawl_metrics_source_up{source=runs}":     0,
		"trawl_metrics_source_up{source=queue}":    1,
		"trawl_metrics_source_up{source=frontier}": 0,
		"trawl_queue_depth":                        3,
		"trawl_pages_total{class=2xx}":             1,
	} {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
	for _, p := range []string{"trawl_runs", "trawl_frontier_queued_pages"} {
		if s := only(got, p); len(s) != 0 {
			t.Errorf("series %v exported by a failed source", s)
		}
	}
	for _, w := range []string{"source=runs", "database is locked", "source=frontier", "deadline exceeded"} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("log does not contain %q:\n%s", w, logs.String())
		}
	}
}

func TestRuntime(t *testing.T) {
	t.Parallel()
	_, reg := newMetrics(t, metrics.Config{Runtime: true})
	got := scrape(t, reg)
	want := []string{"go_goroutines", "go_memstats_heap_alloc_bytes"}
	if runtime.GOOS == "linux" {
		want = append(want, "process_start_time_seconds", "process_resident_memory_bytes")
	}
	for _, k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("%s missing with Runtime set", k)
		}
	}

	_, reg = newMetrics(t, metrics.Config{})
	for k := range scrape(t, reg) {
		if strings.HasPrefix(k, "go_") || strings.HasPrefix(k, "process_") {
			t.Errorf("%s exported without Runtime", k)
		}
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	if _, err := metrics.New(nil, metrics.Config{}); err == nil {
		t.Error("New(nil registerer): no error")
	}
	if _, err := metrics.New(prometheus.NewRegistry(), metrics.Config{ScrapeTimeout: -time.Second}); err == nil {
		t.Error("New with a negative ScrapeTimeout: no error")
	}
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Config{}); err != nil {
		t.Fatalf("New: %v", err)
	}
	_, err := metrics.New(reg, metrics.Config{})
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		t.Errorf("New twice on one registry: err = %v, want an AlreadyRegisteredError", err)
	}

	// A failed New leaves the registry as it was: here trawl_items_total is taken, and nothing else is added.
	reg = prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "trawl_items_total", Help: "taken"}))
	if _, err := metrics.New(reg, metrics.Config{}); err == nil {
		t.Fatal("New on a registry with trawl_items_total: no error")
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if len(fams) != 1 || fams[0].GetName() != "trawl_items_total" {
		var names []string
		for _, f := range fams {
			names = append(names, f.GetName())
		}
		t.Errorf("registry after a failed New holds %v, want only trawl_items_total", names)
	}
}

// TestNames pins the exported metric names: dashboards and alerts depend on them, and docs/metrics.md lists them.
func TestNames(t *testing.T) {
	t.Parallel()
	_, reg := newMetrics(t, metrics.Config{
		RunsFunc:           func(context.Context) (map[trawl.RunStatus]int64, error) { return nil, nil },
		QueueDepthFunc:     func(context.Context) (int64, error) { return 0, nil },
		FrontierQueuedFunc: func(context.Context) (int64, error) { return 0, nil },
	})
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	var got []string
	for _, f := range fams {
		got = append(got, f.GetName()+" "+f.GetType().String())
	}
	want := []string{
		"trawl_fetch_duration_seconds HISTOGRAM",
		"trawl_fetched_bytes_total COUNTER",
		"trawl_frontier_queued_pages GAUGE",
		"trawl_items_total COUNTER",
		"trawl_metrics_source_up GAUGE",
		"trawl_page_errors_total COUNTER",
		"trawl_pages_total COUNTER",
		"trawl_queue_depth GAUGE",
		"trawl_runs GAUGE",
	}
	// trawl_jobs_processed_total has no series until a job is done, so Gather leaves it out.
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metric families (-want +got):\n%s", diff)
	}
}
