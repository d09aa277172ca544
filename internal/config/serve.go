package config

import "time"

// Defaults of trawl serve's settings.
const (
	DefaultAddr            = "127.0.0.1:8080"
	DefaultDB              = "trawl.db" // the same file as trawl run's --db
	DefaultMaxRuns         = 2
	DefaultConcurrency     = 64 // crawl.DefaultConcurrency
	DefaultStallTimeout    = 10 * time.Minute
	DefaultShutdownTimeout = 30 * time.Second
	DefaultRetainFrontier  = 7 * 24 * time.Hour
	DefaultLogFormat       = "text"
	DefaultLogLevel        = "info"
)

// LogFormats and LogLevels are the values of --log-format and --log-level.
var (
	LogFormats = []string{"text", "json"}
	LogLevels  = []string{"debug", "info", "warn", "error"}
)

// Serve is the settings of trawl serve, as Load leaves them: every field
// holds a valid value, its default when nothing set it.
type Serve struct {
	Addr      string // host:port to listen on
	DB        string // the database: a SQLite file or a DSN
	Token     string // bearer token for every /v1 route; "" = none
	ReadToken string // bearer token for the GET routes only; "" = none
	// MaxRuns is how many runs crawl at once; 0 serves the API only and
	// leaves the crawling to trawl worker processes (PostgreSQL).
	MaxRuns int
	// Concurrency caps the requests in flight across all runs; at least 1.
	Concurrency int
	// StallTimeout fails a running run that finished no page for this
	// long; 0 disables the check.
	StallTimeout time.Duration
	// ShutdownTimeout is how long a shutdown waits for pages in flight
	// before it stops them (they are fetched again on the next start).
	ShutdownTimeout time.Duration
	// RetainFrontier is how long the frontier rows of a finished run are
	// kept before they are compacted away; 0 compacts them at once.
	RetainFrontier       time.Duration
	LogFormat            string // text or json
	LogLevel             string // debug, info, warn or error
	AllowPrivateNetworks bool   // let spiders fetch private, loopback and link-local addresses
	Pprof                bool   // serve /debug/pprof/
}

// ServeSettings returns the table of trawl serve's settings, bound to the
// fields of c, which it sets to their defaults.
func ServeSettings(c *Serve) *Table {
	return NewTable(
		String(&c.Addr, "addr", DefaultAddr, "listen on `HOST:PORT`; a non-loopback address needs --token"),
		String(&c.DB, "db", DefaultDB, "database: a SQLite `FILE` or a postgres:// URL"),
		String(&c.Token, "token", "", "require `TOKEN` as a bearer token on every /v1 route (prefer TRAWL_TOKEN or the config file: flags show in ps)"),
		String(&c.ReadToken, "read-token", "", "also accept `TOKEN` on the GET routes only, for viewers and dashboards"),
		Int(&c.MaxRuns, "max-runs", DefaultMaxRuns, 0, "crawl at most `N` runs at once; more wait in the queue; 0 crawls nothing here (PostgreSQL: trawl worker processes crawl)"),
		Int(&c.Concurrency, "concurrency", DefaultConcurrency, 1, "at most `N` requests in flight across all runs (each host's own limits still apply)"),
		Duration(&c.StallTimeout, "stall-timeout", DefaultStallTimeout, "fail a run that finished no page for `DURATION`; 0s never"),
		Duration(&c.ShutdownTimeout, "shutdown-timeout", DefaultShutdownTimeout, "on SIGTERM or SIGINT, let pages in flight finish for up to `DURATION`"),
		Duration(&c.RetainFrontier, "retain-frontier", DefaultRetainFrontier, "keep the frontier of a finished run for `DURATION`, then compact it (summaries, failed-page samples and items stay)"),
		Enum(&c.LogFormat, "log-format", DefaultLogFormat, LogFormats, "write logs as `FORMAT`: text or json"),
		Enum(&c.LogLevel, "log-level", DefaultLogLevel, LogLevels, "log messages of `LEVEL` and above: debug, info, warn or error"),
		Bool(&c.AllowPrivateNetworks, "allow-private-networks", "let spiders fetch private, loopback, link-local and metadata addresses"),
		Bool(&c.Pprof, "pprof", "serve Go's profiles at /debug/pprof/"),
	)
}

// Defaults of trawl worker's settings besides the shared ones.
const (
	DefaultLeaseTTL = 30 * time.Second // crawl.DefaultLeaseTTL
)

// Worker is the settings of trawl worker, as Load leaves them.
type Worker struct {
	DB   string // a postgres:// DSN
	Addr string // host:port of /healthz, /readyz and /metrics; "" = none
	// MaxRuns is how many queued runs the worker takes up at once, and
	// how many running runs of other processes it joins besides; at
	// least 1.
	MaxRuns int
	// Concurrency caps the requests in flight of each run; at least 1.
	Concurrency          int
	StallTimeout         time.Duration
	ShutdownTimeout      time.Duration
	LeaseTTL             time.Duration // how long a dead worker's hosts stay leased
	LogFormat            string
	LogLevel             string
	AllowPrivateNetworks bool
}

// WorkerSettings returns the table of trawl worker's settings, bound to
// the fields of c, which it sets to their defaults.
func WorkerSettings(c *Worker) *Table {
	return NewTable(
		String(&c.DB, "db", "", "the database: a postgres:// `URL` (required; the one trawl serve uses)"),
		String(&c.Addr, "addr", "", "serve /healthz, /readyz and /metrics on `HOST:PORT`; empty serves nothing"),
		Int(&c.MaxRuns, "max-runs", DefaultMaxRuns, 1, "take up at most `N` queued runs at once, and join at most N running runs besides"),
		Int(&c.Concurrency, "concurrency", DefaultConcurrency, 1, "at most `N` requests in flight per run (each host's own limits hold across all workers)"),
		Duration(&c.StallTimeout, "stall-timeout", DefaultStallTimeout, "fail a run this worker took up that finished no page, in any worker, for `DURATION`; 0s never"),
		Duration(&c.ShutdownTimeout, "shutdown-timeout", DefaultShutdownTimeout, "on SIGTERM or SIGINT, let pages in flight finish for up to `DURATION`, then hand the hosts back"),
		Duration(&c.LeaseTTL, "lease-ttl", DefaultLeaseTTL, "a host lease lasts `DURATION` unless renewed: how long the hosts of a killed worker wait for another"),
		Enum(&c.LogFormat, "log-format", DefaultLogFormat, LogFormats, "write logs as `FORMAT`: text or json"),
		Enum(&c.LogLevel, "log-level", DefaultLogLevel, LogLevels, "log messages of `LEVEL` and above: debug, info, warn or error"),
		Bool(&c.AllowPrivateNetworks, "allow-private-networks", "let spiders fetch private, loopback, link-local and metadata addresses"),
	)
}
