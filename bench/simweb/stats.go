package simweb

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Stats are the server-side counters of a simulated web: what a crawler actually fetched.
type Stats struct {
	// Requests is every request received, robots.txt included.
	Requests int `json:"requests"`
	// RobotsRequests is the number of robots.txt requests (ideally one per host).
	RobotsRequests int `json:"robots_requests"`
	// PagesServed is the number of distinct regular pages answered 200.
	PagesServed int `json:"pages_served"`
	// Duplicates is the number of repeated requests of a URL (robots.txt excluded), not counting
	// the one retry that each page whose first request answered 503 deserves, nor one retry for
	// each 429 it got.
	Duplicates int `json:"duplicates"`
	// Status503 and Status404 count the requests answered 503 and 404.
	Status503 int `json:"status_503"`
	Status404 int `json:"status_404"`
	// Status429 counts the requests a rate-limited host (Config.RateLimit) answered 429, and
	// EarlyRequests those that arrived less than its Retry-After after the host's previous 429.
	Status429     int `json:"status_429"`
	EarlyRequests int `json:"early_requests"`
	// DisallowedRequests counts requests of robots-disallowed pages.
	DisallowedRequests int `json:"disallowed_requests"`
	// InjectedDelay is the total latency injected across all requests.
	InjectedDelay time.Duration `json:"injected_delay_ns"`
	// HostDelayMax is the largest total latency injected into the requests of one host: with
	// per-host concurrency P, no polite crawler finishes sooner than HostDelayMax / P.
	HostDelayMax time.Duration `json:"host_delay_max_ns"`
	// MaxInFlightPerHost is the highest number of requests that one host was serving at once,
	// robots.txt included, whoever sent them. A request counts from its arrival until its answer
	// is ready to be written: a client cannot send its next request before it has read the answer,
	// so a slow server goroutine never makes a polite client look impolite.
	MaxInFlightPerHost int `json:"max_in_flight_per_host"`
	// MinStartGap is the shortest time between the arrivals of two consecutive requests to one
	// host, over all hosts; -1 when no host received two requests.
	MinStartGap time.Duration `json:"min_start_gap_ns"`
	// BytesServed is the total size of the response bodies written.
	BytesServed int64 `json:"bytes_served"`
	// ExpectedPages and ExpectedItems are what a complete, polite crawl fetches and extracts.
	ExpectedPages int `json:"expected_pages"`
	ExpectedItems int `json:"expected_items"`
	// RequestsByURL counts the requests of every URL requested at least once.
	RequestsByURL map[string]int `json:"-"`
}

// urlKey identifies a URL of the simulated web.
type urlKey struct {
	host int
	path string
}

// urlStat is what happened to one URL.
type urlStat struct {
	kind      pageKind
	requests  int
	first503  bool // its first request answered 503
	n429      int  // requests answered 429: each deserves a retry
	served200 bool
	n404      int
}

// hostStat is what one host saw: requests in flight and their arrival times.
type hostStat struct {
	inFlight    int
	maxInFlight int
	lastStart   time.Time
	minGap      time.Duration // -1 until the host has received two requests
	delay       time.Duration
}

// recorder counts requests per URL and per host; the mutex guards urls and hosts.
type recorder struct {
	mu    sync.Mutex
	urls  map[urlKey]*urlStat
	hosts []hostStat
	delay atomic.Int64
	bytes atomic.Int64
}

func newRecorder(hosts int) *recorder {
	r := &recorder{urls: make(map[urlKey]*urlStat), hosts: make([]hostStat, hosts)}
	for i := range r.hosts {
		r.hosts[i].minGap = -1
	}
	return r
}

// arrive records that a request to host h arrived at now and is in flight.
func (r *recorder) arrive(h int, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &r.hosts[h]
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	if !s.lastStart.IsZero() {
		if gap := now.Sub(s.lastStart); s.minGap < 0 || gap < s.minGap {
			s.minGap = gap
		}
	}
	s.lastStart = now
}

// leave records that a request to host h is answered (or abandoned).
func (r *recorder) leave(h int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts[h].inFlight--
}

// begin records a request and returns its ordinal for this URL (1 for the first) and whether it
// is the first.
func (r *recorder) begin(h int, path string, kind pageKind) (nth int, first bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := urlKey{h, path}
	s := r.urls[k]
	if s == nil {
		s = &urlStat{kind: kind}
		r.urls[k] = s
	}
	s.requests++
	return s.requests, s.requests == 1
}

// status records the status that a request of a URL answered.
func (r *recorder) status(h int, path string, code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.urls[urlKey{h, path}]
	switch code {
	case http.StatusOK:
		s.served200 = true
	case http.StatusServiceUnavailable:
		s.first503 = true
	case http.StatusNotFound:
		s.n404++
	case http.StatusTooManyRequests:
		s.n429++
	}
}

// addDelay records latency injected into a request to host h.
func (r *recorder) addDelay(h int, d time.Duration) {
	r.delay.Add(int64(d))
	r.mu.Lock()
	r.hosts[h].delay += d
	r.mu.Unlock()
}

func (r *recorder) addBytes(n int) { r.bytes.Add(int64(n)) }

// stats sums the counters; hosts maps host indexes to host:port for RequestsByURL.
func (r *recorder) stats(hosts []string) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Stats{
		InjectedDelay: time.Duration(r.delay.Load()),
		BytesServed:   r.bytes.Load(),
		RequestsByURL: make(map[string]int, len(r.urls)),
		MinStartGap:   -1,
	}
	for _, h := range r.hosts {
		s.HostDelayMax = max(s.HostDelayMax, h.delay)
		s.MaxInFlightPerHost = max(s.MaxInFlightPerHost, h.maxInFlight)
		if h.minGap >= 0 && (s.MinStartGap < 0 || h.minGap < s.MinStartGap) {
			s.MinStartGap = h.minGap
		}
	}
	for k, u := range r.urls {
		s.RequestsByURL["http://"+hosts[k.host]+k.path] = u.requests
		s.Requests += u.requests
		s.Status404 += u.n404
		if u.first503 {
			s.Status503++
		}
		switch u.kind {
		case kindRobots:
			s.RobotsRequests += u.requests
			continue
		case kindPrivate:
			s.DisallowedRequests += u.requests
		case kindPage:
			if u.served200 {
				s.PagesServed++
			}
		}
		allowed := 1 + u.n429
		if u.first503 {
			allowed++
		}
		s.Duplicates += max(0, u.requests-allowed)
	}
	return s
}
