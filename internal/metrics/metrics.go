package metrics

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// DefaultScrapeTimeout bounds each Config function call during a scrape.
const DefaultScrapeTimeout = 3 * time.Second

// fetchBuckets are the upper bounds, in seconds, of trawl_fetch_duration_seconds. They span a fast loopback or
// CDN answer (5ms) to the default fetch timeout (20s) and beyond, closer together where crawl latencies cluster
// (50ms to 2.5s).
var fetchBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30}

// errorClasses are the values of the class label of trawl_page_errors_total: fetch's classes, then the
// engine's. A class not listed is counted as "other", so that a new class cannot add series unnoticed; add it
// here (and to docs/metrics.md) instead.
var errorClasses = []string{
	"dns", "connect", "timeout", "tls", "network", "http_4xx", "http_5xx", "too_large", "redirect",
	"out_of_scope", "blocked_network", "decode", "robots", "canceled", // fetch.Class
	"parse", "host_down", "invalid_url", // the engine's
	"other",
}

// statusClasses are the values of the class label of trawl_pages_total, indexed by statusClass.
var statusClasses = [...]string{"none", "2xx", "3xx", "4xx", "5xx"}

// FetchBuckets returns the upper bounds, in seconds, of the buckets of trawl_fetch_duration_seconds (+Inf aside).
func FetchBuckets() []float64 { return slices.Clone(fetchBuckets) }

// ErrorClasses returns the values of the class label of trawl_page_errors_total, "other" last. A crawl test can
// check with it that every class the engine records has its own series.
func ErrorClasses() []string { return slices.Clone(errorClasses) }

// Job outcomes, the values of the outcome label of trawl_jobs_processed_total.
const (
	JobCompleted = "completed" // the worker returned nil
	JobFailed    = "failed"    // the worker returned an error; River retries the job or discards it
	JobCanceled  = "canceled"  // the job was canceled (river.JobCancel, or a canceled run)
	JobSnoozed   = "snoozed"   // the worker asked River to run the job again later (river.JobSnooze)
	JobOther     = "other"     // an outcome not listed above
)

// Config tunes a Metrics. The zero value means defaults: no scrape-time gauges and no runtime collectors.
type Config struct {
	// RunsFunc returns the number of runs by status, read from the database. It is called at scrape time.
	// Statuses it leaves out are exported as 0. nil: trawl_runs is not exported.
	RunsFunc func(ctx context.Context) (map[trawl.RunStatus]int64, error)
	// QueueDepthFunc returns the number of jobs waiting to be worked (available or scheduled, not running).
	// It is called at scrape time. nil: trawl_queue_depth is not exported.
	QueueDepthFunc func(ctx context.Context) (int64, error)
	// FrontierQueuedFunc returns the number of pages queued in the frontiers of all runs that are not final.
	// It is called at scrape time. nil: trawl_frontier_queued_pages is not exported.
	FrontierQueuedFunc func(ctx context.Context) (int64, error)
	// ScrapeTimeout bounds each call of the functions above. A call that fails or times out leaves its gauge
	// out of that scrape and sets trawl_metrics_source_up to 0. Default DefaultScrapeTimeout.
	ScrapeTimeout time.Duration
	// Runtime registers the Go runtime (go_*) and process (process_*) collectors as well.
	Runtime bool
	// Logger receives the failures of the functions above, at Warn. Default: discard.
	Logger *slog.Logger
}

func (c *Config) validate() error {
	if c.ScrapeTimeout < 0 {
		return fmt.Errorf("scrape timeout %v: must not be negative", c.ScrapeTimeout)
	}
	return nil
}

// Metrics records what the engine and the job workers do. Its methods are safe for concurrent use and do nothing
// on a nil *Metrics; ObservePage, called for every page, allocates nothing.
type Metrics struct {
	pages    [len(statusClasses)]prometheus.Counter // by statusClass
	errors   map[string]prometheus.Counter          // by error class; read-only after New
	otherErr prometheus.Counter
	duration prometheus.Histogram
	bytes    prometheus.Counter
	items    prometheus.Counter
	jobs     *prometheus.CounterVec
}

// New registers trawl's collectors on reg and returns the Metrics that feeds them. It fails when reg is nil, cfg
// is invalid, or reg already holds a collector with one of the same names (New was called twice on reg).
func New(reg prometheus.Registerer, cfg Config) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("metrics: nil registerer")
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	cfg.ScrapeTimeout = cmp.Or(cfg.ScrapeTimeout, DefaultScrapeTimeout)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}

	pages := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trawl_pages_total",
		Help: "Pages finished (fetched, failed or skipped), by HTTP status class; none when no response was received.",
	}, []string{"class"})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trawl_page_errors_total",
		Help: "Pages that failed, by error class.",
	}, []string{"class"})
	m := &Metrics{
		errors: make(map[string]prometheus.Counter, len(errorClasses)),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "trawl_fetch_duration_seconds",
			Help:    "Duration of a page's final fetch attempt, from its start to the end of the body.",
			Buckets: fetchBuckets,
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trawl_fetched_bytes_total",
			Help: "Decoded body bytes of finished pages.",
		}),
		items: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trawl_items_total",
			Help: "Items extracted from finished pages.",
		}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trawl_jobs_processed_total",
			Help: "Jobs worked, by kind and outcome; rate() of it is jobs processed per second.",
		}, []string{"kind", "outcome"}),
	}
	// Creating every child now exports each series as 0 from the first scrape (so rate() and ratios see the
	// first event), and lets ObservePage skip the label hashing of WithLabelValues.
	for i, class := range statusClasses {
		m.pages[i] = pages.WithLabelValues(class)
	}
	for _, class := range errorClasses {
		m.errors[class] = errs.WithLabelValues(class)
	}
	m.otherErr = m.errors["other"]

	cs := []prometheus.Collector{pages, errs, m.duration, m.bytes, m.items, m.jobs}
	cs = append(cs, sources(cfg)...)
	if cfg.Runtime {
		cs = append(cs, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			// Leave reg as it was, so that a caller can report the error and go on without metrics.
			for _, r := range cs[:i] {
				reg.Unregister(r)
			}
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	return m, nil
}

// ObservePage records one finished page: errClass is its error class ("" when it succeeded), status its HTTP
// status (0 when no response was received), bytes its decoded body size, d the duration of its final fetch
// attempt (0 when it was not fetched, such as a robots.txt refusal: then no latency is observed) and items the
// number of items extracted from it.
func (m *Metrics) ObservePage(errClass string, status int, bytes int64, d time.Duration, items int) {
	if m == nil {
		return
	}
	m.pages[statusClass(status)].Inc()
	if errClass != "" {
		c, ok := m.errors[errClass]
		if !ok {
			c = m.otherErr
		}
		c.Inc()
	}
	if d > 0 {
		m.duration.Observe(d.Seconds())
	}
	if bytes > 0 {
		m.bytes.Add(float64(bytes))
	}
	if items > 0 {
		m.items.Add(float64(items))
	}
}

// JobDone records one worked job: kind is its River kind (a fixed string per job type, such as "run") and
// outcome one of JobCompleted, JobFailed, JobCanceled and JobSnoozed; any other outcome counts as JobOther.
func (m *Metrics) JobDone(kind, outcome string) {
	if m == nil {
		return
	}
	switch outcome {
	case JobCompleted, JobFailed, JobCanceled, JobSnoozed:
	default:
		outcome = JobOther
	}
	m.jobs.WithLabelValues(kind, outcome).Inc()
}

// statusClass returns the index in statusClasses of an HTTP status: 0 (none) for no status or one outside
// 200-599, which fetch never returns as a response.
func statusClass(status int) int {
	if status < 200 || status > 599 {
		return 0
	}
	return status/100 - 1
}
