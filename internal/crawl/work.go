package crawl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"time"

	"github.com/trawl-dev/trawl/internal/extract"
	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/frontier"
	"github.com/trawl-dev/trawl/internal/robots"
	"github.com/trawl-dev/trawl/internal/store"
)

// outcome is what a worker learned from one task.
type outcome struct {
	result *store.PageResult // a failed page, to commit
	resp   *fetch.Response   // a fetched page, to extract and commit
	// fetched is how long the page's last fetch attempt took; 0 when no
	// response arrived (for Config.Observer).
	fetched time.Duration
	release
}

// release is what the loop needs to free a task's slot. A worker sends it as
// soon as the fetch ends, before extracting, so the host's next request
// does not wait for the parser.
type release struct {
	finish      frontier.Finish // what the host taught, and when to try again
	robotsKnown bool
	crawlDelay  time.Duration
	commits     bool    // a result will reach the writer
	attempt     attempt // for the host statistics
}

// robotsRetry is the least wait before retrying a page whose host's
// robots.txt was unreachable; the robots cache asks again after a minute.
const robotsRetry = 20 * time.Second

var errOutOfScope = errors.New("redirect target is out of the spider's scope: add its host to scope.hosts to follow it")

// work processes tasks until the loop closes the channel.
func (c *crawler) work(ctx context.Context) {
	for t := range c.tasks {
		o := c.process(ctx, t)
		o.commits = o.result != nil || o.resp != nil
		if f := o.finish; !f.RetryAt.IsZero() && !f.Deferred {
			c.deferPage(ctx, t, f.RetryAt)
		}
		c.events <- event{task: &t, release: o.release}
		// Let the loop run now, before this worker's extraction: it may
		// be waiting to start the host's next request.
		runtime.Gosched()
		if o.resp != nil {
			o.result = c.parse(ctx, t, o.resp)
		}
		if o.result != nil {
			o.result.Host = t.Page.Host // for the host statistics
			if obs := c.e.cfg.Observer; obs != nil {
				r := o.result
				obs.ObservePage(r.ErrorClass, r.Status, r.Bytes, o.fetched, len(r.Items))
			}
			c.results <- *o.result
		}
	}
}

// process checks robots.txt and fetches one page. A canceled fetch yields
// an outcome with neither result nor response: the page stays queued for a
// resume.
func (c *crawler) process(ctx context.Context, t frontier.Task) outcome {
	var o outcome
	if t.HostDown {
		o.result = &store.PageResult{PageID: t.Page.ID, ErrorClass: ClassHostDown, Attempts: t.Attempt - 1,
			Error: "not fetched: the host stopped answering and its circuit breaker gave up on it"}
		return o
	}
	u, err := url.Parse(t.Page.URL)
	if err != nil {
		// Only parsed URLs enter the frontier; this is a corrupt row.
		o.result = &store.PageResult{PageID: t.Page.ID, ErrorClass: "invalid_url", Attempts: t.Attempt}
		return o
	}
	sp := c.sp
	if sp.Politeness.ObeyRobots {
		d, err := c.e.robots.Check(ctx, u, sp.Fetch.UserAgent)
		if err != nil {
			return o // canceled
		}
		o.robotsKnown, o.crawlDelay = true, d.CrawlDelay
		o.attempt.robots = robotsState(d.Allowed, d.Unreachable)
		if !d.Allowed && d.Unreachable {
			return c.robotsUnreachable(t, d, o)
		}
		if !d.Allowed {
			o.result = &store.PageResult{PageID: t.Page.ID, ErrorClass: string(fetch.ClassRobots), Attempts: t.Attempt,
				Error: "disallowed by robots.txt"}
			return o
		}
	}
	if until, ok := c.mayStart(t); !ok {
		if until.IsZero() {
			return o // the host's lease was lost: the page stays queued for its next holder
		}
		// The host asked for a pause after the loop handed this task out.
		o.finish = frontier.Finish{Deferred: true, RetryAt: until}
		return o
	}
	resp, err := c.e.fetcher.Fetch(ctx, &fetch.Request{
		URL:           u,
		UserAgent:     sp.Fetch.UserAgent,
		Header:        c.header(),
		Timeout:       sp.Fetch.Timeout,
		MaxBody:       sp.Fetch.MaxBody,
		MaxRedirects:  sp.Fetch.MaxRedirects,
		CheckRedirect: c.checkRedirect(ctx),
	})
	if resp != nil {
		o.fetched = resp.Duration
	}
	if ctx.Err() == nil && fetch.ClassOf(err) != fetch.ClassCanceled {
		o.attempt = attemptOf(resp, err, o.attempt.robots)
	}
	if err != nil {
		var hop *robotsHopError
		if errors.As(err, &hop) && ctx.Err() == nil {
			return c.robotsHop(t, hop, o)
		}
		return c.failed(ctx, t, resp, err, o)
	}
	o.resp = resp
	o.finish = frontier.Finish{At: c.e.cfg.Clock.Now(), Signal: frontier.SignalAnswered}
	return o
}

// checkRedirect returns the fetch.Request.CheckRedirect of one page: every
// hop must be in scope and, when the spider obeys robots.txt, allowed by
// the robots.txt of its own host, fetched once through the same cache as
// for any page. A redirect is how a site points elsewhere, not a way
// around its rules (or another host's).
func (c *crawler) checkRedirect(ctx context.Context) func(*url.URL) error {
	sp := c.sp
	hop := 0 // fetch calls it once per hop, in order, from one goroutine
	return func(to *url.URL) error {
		hop++
		if !sp.Scope.Allows(to) {
			return errOutOfScope
		}
		if !sp.Politeness.ObeyRobots {
			return nil
		}
		d, err := c.e.robots.Check(ctx, to, sp.Fetch.UserAgent)
		if err != nil {
			return err // canceled
		}
		if !d.Allowed {
			return &robotsHopError{hop: hop, to: to.String(), decision: d}
		}
		return nil
	}
}

// robotsHopError is a redirect hop that robots.txt forbids, or whose host's
// robots.txt could not be fetched.
type robotsHopError struct {
	hop      int    // 1 for the first redirect
	to       string // the hop's target
	decision robots.Decision
}

func (e *robotsHopError) Error() string {
	if e.decision.Unreachable {
		return fmt.Sprintf("redirect %d to %s: robots.txt of its host is unavailable (%s): RFC 9309 says assume complete disallow",
			e.hop, e.to, e.decision.Class)
	}
	return fmt.Sprintf("redirect %d to %s: disallowed by robots.txt", e.hop, e.to)
}

// robotsHop handles a page whose redirect robots.txt vetoed. A disallowed
// hop fails the page as "robots", its target never requested. When the
// hop's host's robots.txt was unreachable, the page waits and asks again
// like a page of that host would, without pausing its own host, and fails
// when its retries are spent.
func (c *crawler) robotsHop(t frontier.Task, h *robotsHopError, o outcome) outcome {
	class := fetch.ClassRobots
	now := c.e.cfg.Clock.Now()
	// The page's own host answered (with the redirect).
	o.finish = frontier.Finish{At: now, Signal: frontier.SignalAnswered}
	if d := h.decision; d.Unreachable {
		attempt := t.Attempt - t.Throttled // the spider's retries count the others
		if attempt <= c.sp.Fetch.Retries {
			wait := fetch.Backoff(attempt, 0, nil)
			if d.Class != fetch.ClassDNS && d.Class != fetch.ClassConnect {
				wait = max(wait, robotsRetry)
			}
			o.finish.RetryAt = now.Add(wait)
			return o
		}
		if d.Class == fetch.ClassDNS || d.Class == fetch.ClassConnect {
			class = d.Class
		}
	}
	o.result = &store.PageResult{PageID: t.Page.ID, ErrorClass: string(class), Attempts: t.Attempt, Error: h.Error()}
	return o
}

// parse extracts a fetched page within the Engine's parse budget: the
// body's size in bytes is held while the page is parsed, so the memory
// that parsing holds at once stays proportional to the budget, however
// many workers there are. It waits even on a canceled run, because a
// fetched page is committed on shutdown.
func (c *crawler) parse(ctx context.Context, t frontier.Task, resp *fetch.Response) *store.PageResult {
	w := min(int64(len(resp.Body)), c.e.cfg.ParseBudget)
	if err := c.e.parse.Acquire(context.WithoutCancel(ctx), w); err != nil {
		panic(err) // a context that cannot be canceled
	}
	defer c.e.parse.Release(w)
	return c.extract(t, resp)
}

// extract turns a fetched page into its result: items, and links admitted
// to the frontier.
func (c *crawler) extract(t frontier.Task, resp *fetch.Response) *store.PageResult {
	res, err := extract.Extract(c.sp, extract.Page{URL: resp.URL, ContentType: resp.ContentType, Body: resp.Body})
	pr := &store.PageResult{PageID: t.Page.ID, Status: resp.Status, Attempts: t.Attempt, Bytes: int64(len(resp.Body))}
	if err != nil {
		pr.ErrorClass, pr.Error = ClassParse, err.Error()
	} else {
		pr.Items, pr.Invalid = res.Items, res.Invalid
		pr.Links = c.admitter.Admit(t.Page, res.Links)
		pr.LinksCapped, pr.Rules = res.LinksCapped, res.Rules
	}
	return pr
}

// robotsUnreachable handles a page whose host's robots.txt could not be
// fetched. RFC 9309 says to assume complete disallow for now. When the host
// itself is unreachable (no DNS, connection refused) the page fails like a
// fetch would, with that class; otherwise (5xx, timeout) the page waits and
// asks again, and fails as "robots" only when its retries are spent.
//
// A network failure (dns, connect, timeout, network) also counts towards the
// host's circuit breaker, like a failed fetch would.
func (c *crawler) robotsUnreachable(t frontier.Task, d robots.Decision, o outcome) outcome {
	now := c.e.cfg.Clock.Now()
	o.finish.At = now
	if unreachable(d.Class) {
		o.finish.Signal = frontier.SignalUnreachable
	}
	attempt := t.Attempt - t.Throttled // the spider's retries count the others
	if d.Class == fetch.ClassDNS || d.Class == fetch.ClassConnect {
		fe := &fetch.Error{Class: d.Class, URL: t.Page.URL}
		if fe.Retryable() && attempt <= c.sp.Fetch.Retries {
			o.finish.RetryAt = now.Add(fetch.Backoff(attempt, 0, nil))
			return o
		}
		o.result = &store.PageResult{PageID: t.Page.ID, ErrorClass: string(d.Class), Attempts: t.Attempt,
			Error: "host unreachable: fetching robots.txt failed (" + string(d.Class) + ")"}
		return o
	}
	if attempt <= c.sp.Fetch.Retries {
		o.finish.RetryAt = now.Add(max(fetch.Backoff(attempt, 0, nil), robotsRetry))
		o.finish.PauseUntil = o.finish.RetryAt // every page of the host is disallowed meanwhile
		return o
	}
	o.result = &store.PageResult{PageID: t.Page.ID, ErrorClass: string(fetch.ClassRobots), Attempts: t.Attempt,
		Error: "robots.txt stayed unavailable (" + string(d.Class) + "): RFC 9309 says assume complete disallow"}
	return o
}

// failed decides what follows a failed fetch. A throttle signal (429, or a
// 5xx with Retry-After) pauses the host from the moment the response
// arrived, whatever becomes of the page, and the page waits for the host's
// pace within its own budget (Config.ThrottleRetries, ThrottleRetryFor).
// Other retryable failures use the spider's retries with backoff.
func (c *crawler) failed(ctx context.Context, t frontier.Task, resp *fetch.Response, err error, o outcome) outcome {
	var fe *fetch.Error
	if !errors.As(err, &fe) {
		fe = &fetch.Error{Class: fetch.ClassOf(err), Err: err}
	}
	if fe.Class == fetch.ClassCanceled || ctx.Err() != nil {
		return o // the run is stopping; the page stays queued
	}
	now := c.e.cfg.Clock.Now()
	o.finish = frontier.Finish{At: now, Signal: signalOf(fe), RetryAfter: fe.RetryAfter}
	switch o.finish.Signal {
	case frontier.SignalThrottle, frontier.SignalBusy:
		wait := fe.RetryAfter
		if wait <= 0 {
			wait = fetch.Backoff(t.Throttled+1, 0, nil)
		}
		until := now.Add(min(wait, fetch.MaxRetryAfter))
		o.finish.PauseUntil = until
		c.pause(t.Page.Host, until)
		if t.Throttled < c.e.cfg.ThrottleRetries && (t.ThrottledSince.IsZero() || now.Sub(t.ThrottledSince) < c.e.cfg.ThrottleRetryFor) {
			o.finish.RetryAt = until
			return o
		}
	default:
		if attempt := t.Attempt - t.Throttled; fe.Retryable() && attempt <= c.sp.Fetch.Retries {
			o.finish.RetryAt = now.Add(fetch.Backoff(attempt, fe.RetryAfter, nil))
			return o
		}
	}
	pr := &store.PageResult{PageID: t.Page.ID, ErrorClass: string(fe.Class), Error: errorText(fe), Attempts: t.Attempt, Status: fe.Status}
	if resp != nil {
		pr.Status = resp.Status
		pr.Bytes = int64(len(resp.Body))
	}
	o.result = pr
	return o
}

// signalOf is what a failed fetch tells about its host.
func signalOf(fe *fetch.Error) frontier.Signal {
	switch {
	case fe.Status == http.StatusTooManyRequests:
		return frontier.SignalThrottle
	case fe.Class == fetch.ClassHTTP5xx && fe.RetryAfter > 0 && fe.Retryable():
		return frontier.SignalBusy
	case unreachable(fe.Class):
		return frontier.SignalUnreachable
	case fe.Class == fetch.ClassTLS || fe.Class == fetch.ClassBlocked:
		return frontier.SignalNone // no HTTP conversation took place
	default:
		return frontier.SignalAnswered
	}
}

// unreachable reports whether class means the host did not answer: the
// failures that count towards its circuit breaker.
func unreachable(class fetch.Class) bool {
	switch class {
	case fetch.ClassConnect, fetch.ClassTimeout, fetch.ClassDNS, fetch.ClassNetwork:
		return true
	}
	return false
}

// pause records that host gets no request before until. It and mayStart
// log under one lock, so the debug log orders pauses and request starts
// as they happened.
func (c *crawler) pause(host string, until time.Time) {
	c.pausesMu.Lock()
	defer c.pausesMu.Unlock()
	if until.After(c.pauses[host]) {
		c.pauses[host] = until
	}
	c.e.cfg.Logger.Debug("host paused", "host", host, "until", until)
}

// deferPage records in the store that t's page is retried at retryAt (in
// the engine's clock) after t.Attempt attempts, so that whoever holds its
// host next, this process or another, honours both. A store failure stops
// the run.
func (c *crawler) deferPage(ctx context.Context, t frontier.Task, retryAt time.Time) {
	d := store.PageDefer{PageID: t.Page.ID, Attempts: t.Attempt}
	if wait := retryAt.Sub(c.e.cfg.Clock.Now()); wait > 0 {
		d.NotBefore = time.Now().Add(wait) // the store's clock is the wall clock
	}
	err := c.e.store.DeferPages(ctx, c.run.ID, []store.PageDefer{d})
	if err != nil && ctx.Err() == nil {
		c.events <- event{err: fmt.Errorf("defer page %d: %w", t.Page.ID, err)}
	}
}

// mayStart reports whether the request of t may start now, and if not,
// until when its host is paused, or the zero time when its lease was lost. The debug record of a start carries when
// the scheduler handed the task out, in the engine's clock.
func (c *crawler) mayStart(t frontier.Task) (time.Time, bool) {
	c.pausesMu.Lock()
	defer c.pausesMu.Unlock()
	if c.lost[t.Page.Host] {
		return time.Time{}, false
	}
	if until, ok := c.leaseUntil[t.Page.Host]; ok && time.Now().After(until) {
		// The lease was not renewed in time: another process may hold
		// the host by now. The page stays queued.
		return time.Time{}, false
	}
	until := c.pauses[t.Page.Host]
	if c.e.cfg.Clock.Now().Before(until) {
		return until, false
	}
	if log := c.e.cfg.Logger; log.Enabled(context.Background(), slog.LevelDebug) {
		log.Debug("fetch", "host", t.Page.Host, "url", t.Page.URL, "started", t.Started)
	}
	return time.Time{}, true
}

func (c *crawler) header() http.Header {
	if len(c.sp.Fetch.Headers) == 0 {
		return nil
	}
	h := make(http.Header, len(c.sp.Fetch.Headers))
	for k, v := range c.sp.Fetch.Headers {
		h.Set(k, v)
	}
	return h
}

// errorText describes a fetch failure without repeating the URL, which the
// page row already holds.
func errorText(fe *fetch.Error) string {
	if fe.Err != nil {
		return fe.Err.Error()
	}
	if fe.Status != 0 {
		return http.StatusText(fe.Status)
	}
	return string(fe.Class)
}
