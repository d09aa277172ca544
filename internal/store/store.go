// Package store defines the persistence contract of trawl: runs, the
// frontier of each run, the items of each dataset, and the spiders the
// service stores. It holds no SQL; the
// implementations live in its subpackages and pass one conformance suite.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"time"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// Store is the persistence contract. Implementations are safe for concurrent
// use. Errors that users may see carry a trawl error code.
//
// API is not stable: it grows with the service (issue by issue).
type Store interface {
	// CreateRun inserts a run of the spider (running, or queued with
	// p.Queued), records the dataset and its columns, and admits the start
	// URLs at depth 0, in one transaction. With p.Exclusive it returns
	// ECONFLICT, naming the active run, when the spider already has a
	// queued or running run, checked in the same transaction.
	CreateRun(ctx context.Context, p CreateRunParams) (*trawl.Run, error)

	// ResumableRun returns the newest running run of spider with specHash.
	// A queued run is not resumable: it waits in the service's queue, and
	// `trawl run` leaves it there. Returns ENOTFOUND if there is none.
	ResumableRun(ctx context.Context, spider, specHash string) (*trawl.Run, error)

	// RunSpec returns the spider source run id was created with
	// (CreateRunParams.Spec). Returns ENOTFOUND if there is no such run.
	RunSpec(ctx context.Context, id int64) ([]byte, error)

	// ActiveRun returns the newest queued or running run of spider, whatever
	// its spec hash. Returns ENOTFOUND if there is none.
	ActiveRun(ctx context.Context, spider string) (*trawl.Run, error)

	// StartRun takes up run id: a queued run becomes running with its
	// start time set (its RunAt is kept); a running run is returned as it
	// is (a resume). Returns ENOTFOUND for an unknown run and ECONFLICT for
	// a finished one.
	StartRun(ctx context.Context, id int64) (*trawl.Run, error)

	// CancelRun cancels run id: a queued run becomes canceled at once
	// (finish time set); a running run gets CancelRequested set and stays
	// running until whoever crawls it finishes it. Repeating it on a
	// running run changes nothing. Returns the run as it is after the
	// request; ENOTFOUND for an unknown run, ECONFLICT for a finished one.
	CancelRun(ctx context.Context, id int64) (*trawl.Run, error)

	// Run returns the run with id. Returns ENOTFOUND if there is none.
	Run(ctx context.Context, id int64) (*trawl.Run, error)

	// FinishRun sets a final status and error message on a queued or
	// running run. The first final status wins: on a run that has one
	// already, FinishRun changes nothing and returns nil, so that the
	// processes sharing a run may each end it. Returns ENOTFOUND for an
	// unknown run, EINVALID for a status that is not final.
	FinishRun(ctx context.Context, id int64, status trawl.RunStatus, errMsg string) error

	// CommitPages commits a batch of page results in one transaction: for
	// every page its items (by key: inserted, or updated when another run
	// stored them; within one run the first page to yield a key wins), its
	// newly discovered URLs
	// (deduplicated against the run's frontier, capped by MaxPages) and its
	// done mark, plus the run's updated statistics. Either the whole batch
	// commits or none of it does.
	CommitPages(ctx context.Context, p CommitParams) (*CommitResult, error)

	// QueuedPages returns up to limit queued pages of host in run with an
	// ID greater than afterID, in ID order, skipping the pages whose
	// not-before time (DeferPages) is still in the future.
	QueuedPages(ctx context.Context, runID int64, host string, afterID int64, limit int) ([]Page, error)

	// DeferPages records, for queued pages of run, the attempts made so far
	// and the time before which they must not be fetched again (a retry's
	// backoff or a Retry-After), so that whichever worker holds the host
	// next honours them: QueuedPages skips a page until its NotBefore and
	// returns its Attempts. Pages that are not queued in run (done, or
	// unknown) are left alone.
	DeferPages(ctx context.Context, runID int64, pages []PageDefer) error

	// ClaimHosts leases to worker up to max hosts of run that have queued
	// pages due now (see QueuedPages), are not leased (or whose lease
	// expired) and whose pace NotBefore has passed, until now+ttl. Each
	// claim adds 1 to the host's fencing token. Concurrent claimers, in
	// this process or others, never get the same host. Hosts are offered
	// by NotBefore, then name. Returns EINVALID for an empty worker, max
	// < 1 or ttl <= 0; an unknown run has no hosts to claim.
	ClaimHosts(ctx context.Context, runID int64, worker string, max int, ttl time.Duration) ([]HostLease, error)

	// RenewHosts extends to now+ttl the leases of hosts that worker still
	// holds, and returns the hosts it lost: leased by another worker,
	// released, or expired (a lease past its expiry is lost even when
	// nobody reclaimed it yet: a worker may act on a host only until its
	// lease's Expires). Returns EINVALID for an empty worker or ttl <= 0.
	RenewHosts(ctx context.Context, runID int64, worker string, hosts []string, ttl time.Duration) (lost []string, err error)

	// ReleaseHosts hands hosts worker leases back at once (a worker that
	// stops), storing each host's pace so that the next claimer starts
	// from it. A host worker no longer holds (another worker claimed it)
	// is left alone. Returns EINVALID for an empty worker.
	ReleaseHosts(ctx context.Context, runID int64, worker string, hosts []HostRelease) error

	// QueuedHosts returns the hosts that have queued pages in run.
	QueuedHosts(ctx context.Context, runID int64) ([]string, error)

	// ClaimRobots looks up the shared robots.txt record of origin
	// (scheme://host:port) for worker, so that one process fetches each
	// origin's robots.txt and the others read what it got (see
	// RobotsRecord). It answers one of three ways:
	//
	//   - a record that has not expired: Record set, Claimed false; use it;
	//   - no record, or an expired one, and nobody fetching: the fetch is
	//     claimed for worker until now+ttl, Claimed true, and Record is
	//     the expired record (nil if none). The caller fetches, then calls
	//     PutRobots;
	//   - another worker's claim has not expired: Record nil, Claimed false,
	//     Holder and Until say whose claim and until when. The caller asks
	//     again a little later; once the claim expires (its holder died or
	//     hung) the next call claims it.
	//
	// A live claim blocks its own worker too. Concurrent callers, in this
	// process or others, never both get Claimed. Returns EINVALID for an
	// empty origin or worker or ttl <= 0.
	ClaimRobots(ctx context.Context, origin, worker string, ttl time.Duration) (*RobotsClaim, error)

	// PutRobots stores rec as the robots.txt record of origin, replacing
	// any older one, and ends worker's claim on origin (another worker's
	// claim is left alone). A nil rec ends the claim and keeps the record
	// as it was: a fetch whose outcome must not be shared. Idempotent.
	// Returns EINVALID for an empty origin or worker.
	PutRobots(ctx context.Context, origin, worker string, rec *RobotsRecord) error

	// FailedPages returns up to limit pages of run that failed, in ID order.
	FailedPages(ctx context.Context, runID int64, limit int) ([]FailedPage, error)

	// RequeueFailed puts the failed pages of run back in its frontier as
	// queued, removes them from the run's statistics (pages, bytes, errors by
	// class), and marks the run running again (clearing its finish time and
	// error), in one transaction. It returns how many pages it requeued.
	// Returns ENOTFOUND for an unknown run and ECONFLICT when the run has
	// not finished (resume it instead) or when its frontier was compacted
	// (CompactFrontier). A run without failed pages is left as it is, and 0
	// returned.
	RequeueFailed(ctx context.Context, runID int64) (int64, error)

	// CompactFrontier deletes the frontier rows (pages) of the runs that
	// reached a final status before finishedBefore, for retention: the run
	// row and its statistics stay, and so do its items (and the items it
	// stored, for Items with RunID) and a sample of its failed pages, the
	// first FailedPagesKept of them in ID order, so FailedPages still
	// answers. It returns how many page rows it deleted. It works in
	// batches of at most CompactBatch rows per transaction, so that the
	// commits of running crawls never wait long behind it, and it is
	// idempotent: a call cut short (canceled, or the process died) is
	// finished by the next. A compacted run cannot have its failed pages
	// requeued: RequeueFailed answers ECONFLICT saying so.
	CompactFrontier(ctx context.Context, finishedBefore time.Time) (int64, error)

	// Runs lists runs, newest first, filtered and paged by q; an empty
	// list is not an error. Returns EINVALID for an unknown q.Status or a
	// negative q.Limit.
	Runs(ctx context.Context, q RunQuery) ([]trawl.Run, error)

	// Dataset returns a dataset by name. Returns ENOTFOUND if there is none.
	Dataset(ctx context.Context, name string) (*Dataset, error)

	// Datasets lists every dataset, ordered by name, with the same fields
	// as Dataset.
	Datasets(ctx context.Context) ([]Dataset, error)

	// Items iterates over the items of a dataset in the order they were
	// first stored, as JSON objects whose keys follow the dataset's columns.
	// With q.RunID, it yields the items that run stored, as that run stored
	// them, even when a later run updated them since. Returns ENOTFOUND (as
	// the first iteration's error) for an unknown dataset or run.
	//
	// Items honours every part of q: filters, Since, the projection, the
	// After cursor and Limit (0 = every matching item), so an export streams
	// the same set as ItemsPage pages through. Returns EINVALID (likewise)
	// for an invalid q; see ItemQuery.
	Items(ctx context.Context, q ItemQuery) iter.Seq2[json.RawMessage, error]

	// ItemsPage returns one page of the items Items would yield for q, and
	// the cursor of the next page ("" after the last one). Pages keep their
	// place while items are committed: paging from the first cursor to the
	// last yields every item that matched throughout exactly once, in
	// first-stored order; items stored meanwhile come after the older ones.
	// Returns ENOTFOUND for an unknown dataset or run, and EINVALID for an
	// invalid q (see ItemQuery).
	ItemsPage(ctx context.Context, q ItemQuery) (*ItemPage, error)

	// FieldValues returns the distinct values of field in dataset with how
	// many items have each, most frequent first (ties by value), at most
	// limit of them (0 = all). An item counts once per distinct element of a
	// list field. Values are indexed as ItemQuery filters match them (see
	// FieldFilter); objects, nested lists and nulls are not counted.
	// Returns ENOTFOUND for an unknown dataset, EINVALID for a field that
	// is not one of its columns or a negative limit.
	FieldValues(ctx context.Context, dataset, field string, limit int) ([]ValueCount, error)

	// PutSpider stores the spider p.Name, inserting it (created true,
	// Version 1) or replacing its source (created false). A replacement keeps
	// CreatedAt, sets UpdatedAt and adds 1 to Version. Idempotent: a put whose
	// Source, Format and Hash equal the stored ones changes nothing and
	// returns the stored spider with created false. Returns EINVALID for an
	// empty name or a format other than "yaml" or "json".
	PutSpider(ctx context.Context, p PutSpiderParams) (s *StoredSpider, created bool, err error)

	// Spider returns the stored spider name. Returns ENOTFOUND if there is
	// none.
	Spider(ctx context.Context, name string) (*StoredSpider, error)

	// Spiders lists stored spiders by name ascending, paged by q; an empty
	// list is not an error. Returns EINVALID for a negative q.Limit.
	Spiders(ctx context.Context, q SpiderQuery) ([]StoredSpider, error)

	// DeleteSpider removes the stored spider name. It does not delete the
	// spider's runs or its dataset, which stay listed and exportable.
	// Returns ENOTFOUND if there is none, so a repeated delete reports it.
	DeleteSpider(ctx context.Context, name string) error

	// SetSpiderFired records at as the time of the last scheduled fire of
	// spider (StoredSpider.LastFiredAt), kept across puts of the spider.
	// Returns ENOTFOUND if there is no such spider.
	SetSpiderFired(ctx context.Context, name string, at time.Time) error

	// RunHosts returns the per-host statistics of run, by host name: the
	// counters every CommitPages of the run added (CommitParams.Hosts and
	// the failed pages' classes by PageResult.Host), and the pace each host
	// had at its last commit. Returns ENOTFOUND for an unknown run; a run
	// without hosts yet has an empty list.
	RunHosts(ctx context.Context, runID int64) ([]HostStats, error)

	// RunSamples returns the progress samples of run (CommitParams.Sample),
	// oldest first, and the interval they are at least apart. Returns
	// ENOTFOUND for an unknown run.
	RunSamples(ctx context.Context, runID int64) (*Samples, error)

	// CountRuns returns how many runs have each status. Statuses without
	// runs are absent from the map.
	CountRuns(ctx context.Context) (map[trawl.RunStatus]int64, error)

	// QueuedPageCount returns how many pages are queued in runs that have
	// not reached a final status; the queued pages of finished runs (which
	// a resume or retry would fetch) are not counted.
	QueuedPageCount(ctx context.Context) (int64, error)

	// Ping checks that the database answers and that its schema is the one
	// this binary knows (neither missing a migration nor migrated by a newer
	// trawl since the store was opened): what /readyz reports.
	Ping(ctx context.Context) error

	// Close releases the store's resources.
	Close() error
}

// Retention limits of CompactFrontier.
const (
	// FailedPagesKept is how many failed pages of a compacted run are kept,
	// the first in ID order, as a sample for reports.
	FailedPagesKept = 1000
	// CompactBatch caps the page rows CompactFrontier deletes in one
	// transaction.
	CompactBatch = 5000
)

// ErrDiskFull is returned (wrapped) when a write failed because the disk or
// the database's size limit is full. A run that hits it is interrupted, not
// failed: nothing committed is lost and it resumes once there is space.
var ErrDiskFull = errors.New("disk full")

// CreateRunParams describe a new run.
type CreateRunParams struct {
	Spider    string
	SpecHash  string
	Spec      []byte   // the spider source, kept for the service and for audits
	Columns   []string // item fields in declared order, without "_url"
	StartURLs []NewURL
	// Queued creates the run queued (not started) instead of running: the
	// service's queue takes it up later with StartRun.
	Queued bool
	// RunAt is when a queued run is due; nil = as soon as possible. Kept
	// in the run (trawl.Run.RunAt).
	RunAt *time.Time
	// Exclusive refuses the run (ECONFLICT) when the spider has a queued
	// or running run.
	Exclusive bool
}

// NewURL is a URL admitted by scope and depth, awaiting deduplication.
type NewURL struct {
	// URL is the URL to fetch, as the site wrote it (resolved, without
	// fragment; see urlnorm.Raw). robots.txt rules are matched against it.
	URL string
	// Key is the normalized URL, the dedup key: a run admits one URL per
	// key. Empty means URL is already normalized and is its own key.
	Key   string
	Host  string // host key (host[:port])
	Depth int
}

// Page is one frontier entry.
type Page struct {
	ID    int64
	URL   string // the URL to fetch, as written
	Key   string // the dedup key (normalized); equal to URL when the site wrote it normalized
	Host  string
	Depth int
	// Attempts is how many attempts were made so far (DeferPages); 0 for
	// a page never tried.
	Attempts int
}

// PageDefer is a retry of a queued page, scheduled by DeferPages.
type PageDefer struct {
	PageID    int64
	Attempts  int       // attempts made so far
	NotBefore time.Time // not fetched before; zero = at once
}

// HostPace is the pace of one host in one run, persisted with its lease
// so that a worker claiming the host continues where the previous one
// stopped. The zero value is a host fetched at the spider's configured
// pace.
type HostPace struct {
	// NotBefore is when the next request to the host may start; zero =
	// at once. ClaimHosts does not offer the host before it.
	NotBefore time.Time
	// Delay is the current delay between request starts (the configured
	// one, a Crawl-delay, or more when throttled); 0 = the configured one.
	Delay time.Duration
	// Allowance is how many requests may be in flight to the host, when
	// fewer than the spider's concurrency_per_host (throttled, breaker
	// open, robots.txt unknown); 0 = concurrency_per_host.
	Allowance int
	// Failures is the host's streak of failed requests (connection
	// failures in a row, for the circuit breaker).
	Failures int
}

// HostLease is a host of a run leased to one worker by ClaimHosts.
type HostLease struct {
	Host   string
	Worker string
	// Expires is when the lease ends unless renewed (RenewHosts): after
	// it, another worker may claim the host.
	Expires time.Time
	// Token is the fencing token: it grows by 1 with every claim of the
	// host, so a later holder's token is always higher.
	Token int64
	// Pace is the host's pace as the last holder released it.
	Pace HostPace
}

// HostRelease is a host handed back by ReleaseHosts with its pace.
type HostRelease struct {
	Host string
	Pace HostPace
}

// FailedPage is a page that failed, for reports.
type FailedPage struct {
	URL        string `json:"url"`
	Status     int    `json:"status,omitempty"`
	ErrorClass string `json:"error_class"`
	Error      string `json:"error,omitempty"`
	Attempts   int    `json:"attempts"`
}

// PageResult is the outcome of fetching one page.
type PageResult struct {
	PageID     int64
	Status     int    // HTTP status; 0 when none was received
	ErrorClass string // "" when the page succeeded
	Error      string // what went wrong, for people; "" when the page succeeded
	Attempts   int
	Bytes      int64
	Items      []trawl.Item
	Invalid    int
	Links      []NewURL
	// LinksCapped is how many links the page had beyond the per-page limit
	// (dropped, not admitted); added to RunStats.LinksCapped.
	LinksCapped int
	// Rules are this page's per-item-rule counts, added to RunStats.Rules.
	Rules []trawl.RuleStats
	// Host is the page's host key; a failed page's class is added to the
	// host's Errors (RunHosts). "" leaves the host statistics alone.
	Host string
}

// CommitParams is a batch of page results of one run.
type CommitParams struct {
	RunID    int64
	Dataset  string
	MaxPages int // 0 = unlimited; counts every URL ever admitted to the run
	Pages    []PageResult
	// Hosts are per-host statistics gathered since the previous commit:
	// their counters (Requests, Status, Errors, Latency, Throttled) are
	// added to the run's host rows, the worst Robots state is kept, and
	// the pace (InFlight, Delay, Down) replaces the stored one. A commit
	// without pages may carry hosts.
	Hosts []HostStats
	// Sample asks for a progress sample after the commit (RunSamples).
	Sample SampleMode
}

// SampleMode says whether a commit records a progress sample.
type SampleMode int

// Sample modes of CommitParams.
const (
	// SampleNone records no sample.
	SampleNone SampleMode = iota
	// SampleIfDue records a sample when the run's sampling interval has
	// passed since its last sample: callers may ask at every commit.
	SampleIfDue
	// SampleNow records a sample whatever the interval (the last commit of
	// a crawl, so that the samples end at the final statistics).
	SampleNow
)

// MaxSamples caps the samples kept per run: past it the sampling interval
// doubles and the samples are thinned to the new interval, so a long run
// keeps at most this many, evenly spread.
const MaxSamples = 1000

// Samples are the progress samples of a run.
type Samples struct {
	// Interval is the least time between two samples: 1 s, doubled each
	// time the run reached MaxSamples samples.
	Interval time.Duration
	Points   []Sample
}

// Sample is a run's cumulative statistics at one time.
type Sample struct {
	At     time.Time
	Pages  int64
	Items  int64
	Bytes  int64
	Errors map[string]int64 // failed pages by class; never nil
}

// RobotsState is what robots.txt said about a host, the worst seen during
// the run: the states are ordered, each one worse than the one before.
type RobotsState string

// Robots states, best first.
const (
	RobotsNotChecked     RobotsState = "not_checked"     // the spider ignores robots.txt, or no page was checked yet
	RobotsAllowed        RobotsState = "allowed"         // every page checked was allowed
	RobotsDisallowedSome RobotsState = "disallowed_some" // some page was disallowed
	RobotsUnreachable    RobotsState = "unreachable"     // robots.txt could not be fetched (RFC 9309: assume disallow)
)

// RobotsStates lists the states in order, best first.
var RobotsStates = []RobotsState{RobotsNotChecked, RobotsAllowed, RobotsDisallowedSome, RobotsUnreachable}

// LatencyBounds are the upper bounds of the buckets of
// HostStats.Latency; the last bucket holds the slower requests.
var LatencyBounds = [LatencyBuckets - 1]time.Duration{
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second,
	2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// LatencyBuckets is the number of buckets of HostStats.Latency.
const LatencyBuckets = 12

// StatusCounts count responses by status class; None counts the requests
// that got no response (connection failure, timeout, ...).
type StatusCounts struct {
	S2xx int64 `json:"2xx"`
	S3xx int64 `json:"3xx"`
	S4xx int64 `json:"4xx"`
	S5xx int64 `json:"5xx"`
	None int64 `json:"none"`
}

// Add counts one request that got status (0: no response).
func (c *StatusCounts) Add(status int) {
	switch {
	case status >= 200 && status < 300:
		c.S2xx++
	case status >= 300 && status < 400:
		c.S3xx++
	case status >= 400 && status < 500:
		c.S4xx++
	case status >= 500 && status < 600:
		c.S5xx++
	default:
		c.None++
	}
}

// HostStats are the statistics of one host in one run.
type HostStats struct {
	Host string
	// Requests counts the requests sent to the host for pages (every
	// attempt, retries included; robots.txt not counted).
	Requests int64
	// Status counts those requests by the status class of their response.
	Status StatusCounts
	// Errors counts the host's failed pages by class; their sum over
	// the hosts is the run's RunStats.Errors.
	Errors map[string]int64
	// Latency counts the requests that got a response by the time it
	// took, in the buckets of LatencyBounds.
	Latency [LatencyBuckets]int64
	// Throttled counts the throttle signals (429, or 5xx with Retry-After).
	Throttled int64
	// Robots is the worst robots.txt state seen.
	Robots RobotsState
	// InFlight, Delay and Down are the host's pace at its last commit:
	// requests in flight, the delay between request starts (configured,
	// Crawl-delay or throttled), and whether the circuit breaker gave up
	// on it.
	InFlight int64
	Delay    time.Duration
	Down     bool
}

// ObserveLatency counts one response that took d.
func (h *HostStats) ObserveLatency(d time.Duration) {
	i := 0
	for i < len(LatencyBounds) && d > LatencyBounds[i] {
		i++
	}
	h.Latency[i]++
}

// LatencyQuantile estimates the q-quantile (0 < q <= 1) of the latency
// from the buckets, interpolating linearly within the bucket that holds
// it (the last, open bucket counts as twice its lower bound wide). It
// returns 0 when no request got a response.
func (h *HostStats) LatencyQuantile(q float64) time.Duration {
	var total int64
	for _, n := range h.Latency {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var seen int64
	for i, n := range h.Latency {
		if n == 0 || float64(seen+n) < rank {
			seen += n
			continue
		}
		var lo, hi time.Duration
		if i > 0 {
			lo = LatencyBounds[i-1]
		}
		if i < len(LatencyBounds) {
			hi = LatencyBounds[i]
		} else {
			hi = 2 * lo
		}
		frac := (rank - float64(seen)) / float64(n)
		return lo + time.Duration(frac*float64(hi-lo))
	}
	return LatencyBounds[len(LatencyBounds)-1] * 2
}

// CommitResult reports what a commit changed.
type CommitResult struct {
	Admitted []Page         // newly admitted URLs, in ID order
	Stats    trawl.RunStats // the run's statistics after the commit
}

// Dataset is a named collection of items.
type Dataset struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"` // item fields in order, "_url" last
	Items   int64    `json:"items"`
	// LastRun is the newest run of the dataset's spider; 0 when none.
	LastRun   int64     `json:"last_run,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ItemQuery selects items of a dataset. The zero value of every field but
// Dataset selects everything.
//
// The store returns EINVALID for a filter or projection on a field that is
// not one of the dataset's columns (the message names the field and lists
// the columns), a negative Limit, a malformed After cursor, and Filters or
// Since together with RunID (a run's record holds old versions of items,
// which the value index does not cover).
type ItemQuery struct {
	Dataset string
	RunID   int64 // 0 = all items; otherwise the items this run stored, as it stored them

	// Filters select the items that match every filter (AND).
	Filters []FieldFilter
	// Since selects the items stored or updated after this time (strictly,
	// at millisecond resolution); zero = no limit.
	Since time.Time
	// Fields is the projection: the items carry these members only, in
	// this order ("_url" included). nil = every column, in the dataset's
	// order.
	Fields []string
	// After is the cursor a previous ItemPage returned: the items after it.
	// "" = from the first.
	After Cursor
	// Limit caps the number of items: the page size of ItemsPage, the
	// total of Items. 0 = all.
	Limit int
}

// FieldFilter selects items by the value of one field.
//
// A string field matches when it equals Value; a number or a boolean when
// its JSON text does ("42", "4.5", "true"); a list when any of its scalar
// elements does. Null, objects and lists nested in lists never match.
type FieldFilter struct {
	Field string // a dataset column, "_url" included
	Value string
	// Fold makes the comparison case-insensitive (Unicode simple case
	// folding, as strings.EqualFold).
	Fold bool
}

// ItemPage is one page of items.
type ItemPage struct {
	Items []json.RawMessage
	Next  Cursor // "" when there are no more items
}

// ValueCount is one distinct value of a field and how many items have it.
type ValueCount struct {
	Value string `json:"value"` // as FieldFilter.Value matches it
	Count int64  `json:"count"`
}

// RunQuery selects runs for Runs. The zero value lists the newest 100 runs.
type RunQuery struct {
	Spider   string          // "" = every spider
	Status   trawl.RunStatus // "" = every status
	BeforeID int64           // 0 = from the newest; otherwise runs with a smaller ID (keyset paging)
	Limit    int             // 0 = 100
}

// Spider source formats of PutSpiderParams.Format.
const (
	FormatYAML = "yaml"
	FormatJSON = "json"
)

// PutSpiderParams describe a spider to store.
type PutSpiderParams struct {
	Name   string
	Source []byte // the spider as the user wrote it
	Format string // FormatYAML or FormatJSON
	Hash   string // the spec hash of Source (spider.Spider.Hash), as runs record it
}

// StoredSpider is a spider the service keeps, as it was last put.
type StoredSpider struct {
	Name   string `json:"name"`
	Source []byte `json:"source"`
	Format string `json:"format"`
	Hash   string `json:"hash"`
	// Version is 1 when the spider was created and grows by 1 with each
	// put that changed it.
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// LastFiredAt is when the spider's schedule last fired (see
	// SetSpiderFired); nil when it never did.
	LastFiredAt *time.Time `json:"last_fired_at,omitempty"`
}

// SpiderQuery selects stored spiders for Spiders. The zero value lists the
// first 100 by name.
type SpiderQuery struct {
	After string // "" = from the first name; otherwise names after it (keyset paging)
	Limit int    // 0 = 100
}
