package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/frontier"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Store is what the lifecycle needs of a store: choosing, creating and
// finishing runs, and the failed pages of a run. Every store.Store
// satisfies it.
type Store interface {
	// CreateRun inserts a running run and admits its start URLs.
	CreateRun(ctx context.Context, p store.CreateRunParams) (*trawl.Run, error)
	// ResumableRun returns the newest unfinished run of spider with
	// specHash. Returns ENOTFOUND if there is none.
	ResumableRun(ctx context.Context, spider, specHash string) (*trawl.Run, error)
	// Run returns the run with id. Returns ENOTFOUND if there is none.
	Run(ctx context.Context, id int64) (*trawl.Run, error)
	// Runs lists runs, newest first.
	Runs(ctx context.Context, q store.RunQuery) ([]trawl.Run, error)
	// RequeueFailed puts the failed pages of a finished run back in its
	// frontier and marks it running again.
	RequeueFailed(ctx context.Context, runID int64) (int64, error)
	// FinishRun sets a final status and error message. Idempotent.
	FinishRun(ctx context.Context, id int64, status trawl.RunStatus, errMsg string) error
	// FailedPages returns up to limit failed pages of run, in ID order.
	FailedPages(ctx context.Context, runID int64, limit int) ([]store.FailedPage, error)
	// RunSpec returns the spider source a run was created with.
	RunSpec(ctx context.Context, id int64) ([]byte, error)
	// StartRun takes up a queued or running run by ID.
	StartRun(ctx context.Context, id int64) (*trawl.Run, error)
}

var _ Store = store.Store(nil)

// Crawler crawls one run; *crawl.Engine is the one there is.
type Crawler interface {
	Run(ctx context.Context, p crawl.RunParams) (*crawl.Result, error)
}

var _ Crawler = (*crawl.Engine)(nil)

// Options choose which run Start takes up. The zero value resumes the
// newest unfinished run of the spider, or creates one.
type Options struct {
	// Restart creates a new run even when an unfinished one could be
	// resumed.
	Restart bool
	// RetryFailed takes up the spider's last run, which must have finished
	// with the spider as it is now, and fetches its failed pages again:
	// the run's other pages and items stay as they are. Start returns a
	// *RetryError when that is not possible or there is nothing to retry.
	// It excludes Restart.
	RetryFailed bool
	// LockFunc, if set, keeps other crawls off the spider's dataset: Start
	// calls it with the dataset's name before it chooses the run, and
	// fails with its error; Run.Close calls the unlock function it
	// returned (so does Start when it fails after locking). nil means the
	// caller keeps crawls of one dataset apart some other way (the
	// service's job queue). See the package doc, "Locking".
	LockFunc func(ctx context.Context, dataset string) (unlock func(), err error)
	// Watch makes Run.Crawl stop the crawl when the run is canceled from
	// elsewhere (its cancel flag), ended by another process, or stalls;
	// see Watch.
	Watch Watch
	// Shared says that other processes may crawl the run at the same time
	// (trawl worker on PostgreSQL): the engine then leases the run's hosts
	// in its own name and hands idle ones back, instead of holding them
	// all as the run's only crawler. See the package doc, "Sharing".
	Shared bool
}

// Origin says how Start came by a run.
type Origin int

// Origins of a Run.
const (
	// Created is a new run, with the spider's start URLs queued.
	Created Origin = iota + 1
	// Resumed is an unfinished run taken up where it stopped.
	Resumed
	// Retrying is a finished run whose failed pages were queued again.
	Retrying
	// Joined is a running run that another process took up, joined to
	// help crawl it (Join).
	Joined
)

// Run is a run taken up by this process, ready to crawl.
type Run struct {
	// Spider is the spider the run crawls.
	Spider *spider.Spider
	// Initial is the run as Start took it up: after a resume, its Stats
	// are what earlier processes committed.
	Initial *trawl.Run
	// Origin says whether the run is new, resumed or retrying.
	Origin Origin
	// Requeued is how many failed pages a Retrying run queued again.
	Requeued int64

	store  Store
	unlock func()
	watch  Watch
	shared bool // Options.Shared
	// stopped is why the watcher stopped the crawl; nil when it did not.
	stopped error
}

// Start takes the lock of Options.LockFunc, if any, and then takes up a
// run of sp in st as o says. Returns EINVALID when o sets both Restart and
// RetryFailed, the lock's error, a *RetryError (see Options.RetryFailed),
// or the store's error. The caller must Close the Run.
func Start(ctx context.Context, st Store, sp *spider.Spider, o Options) (*Run, error) {
	if o.Restart && o.RetryFailed {
		return nil, trawl.Errorf(trawl.EINVALID, "restart and retry-failed exclude each other: one starts a new run, the other retries the last one")
	}
	unlock := func() {}
	if o.LockFunc != nil {
		u, err := o.LockFunc(ctx, sp.Name)
		if err != nil {
			return nil, err
		}
		unlock = u
	}
	r := &Run{Spider: sp, store: st, unlock: unlock, watch: o.Watch, shared: o.Shared}
	var err error
	switch {
	case o.RetryFailed:
		r.Initial, r.Requeued, err = retryFailed(ctx, st, sp)
		r.Origin = Retrying
	case o.Restart:
		r.Initial, err = createRun(ctx, st, sp)
		r.Origin = Created
	default:
		r.Initial, r.Origin, err = resumeOrCreate(ctx, st, sp)
	}
	if err != nil {
		unlock()
		return nil, err
	}
	return r, nil
}

// StartID takes up the existing run runID of st, queued (by the service's
// queue) or running (interrupted), with the spider source stored with the
// run, so that a job worker goes through the same lifecycle as Start: the
// lock of o.LockFunc, if any, on the run's dataset, then the run marked
// running (a queued run is Created, a running one Resumed). o.Restart and
// o.RetryFailed do not apply (EINVALID). Returns ENOTFOUND for an unknown
// run, ECONFLICT for a finished one, EINVALID when the stored source no
// longer parses, the lock's error, or the store's. The caller must Close
// the Run.
func StartID(ctx context.Context, st Store, runID int64, o Options) (*Run, error) {
	if o.Restart || o.RetryFailed {
		return nil, trawl.Errorf(trawl.EINVALID, "run %d: restart and retry-failed do not apply to taking up a run by ID", runID)
	}
	src, err := st.RunSpec(ctx, runID)
	if err != nil {
		return nil, err
	}
	sp, err := spider.Parse(fmt.Sprintf("run %d", runID), src)
	if err != nil {
		return nil, trawl.Errorf(trawl.EINVALID, "run %d: its stored spider does not parse: %v", runID, err)
	}
	unlock := func() {}
	if o.LockFunc != nil {
		u, err := o.LockFunc(ctx, sp.Name)
		if err != nil {
			return nil, err
		}
		unlock = u
	}
	before, err := st.Run(ctx, runID)
	if err != nil {
		unlock()
		return nil, err
	}
	run, err := st.StartRun(ctx, runID)
	if err != nil {
		unlock()
		return nil, err
	}
	origin := Resumed
	if before.Status == trawl.RunQueued {
		origin = Created
	}
	return &Run{Spider: sp, Initial: run, Origin: origin, store: st, unlock: unlock, watch: o.Watch, shared: o.Shared}, nil
}

// Join takes up run runID, running and taken up by another process, to
// help crawl it: a trawl worker joins every running run. The joined run is
// shared (Options.Shared is implied), takes no lock (its owner holds it)
// and is not marked running again. Its Finish records only the ends that
// concern the whole run: the frontier exhausted (succeeded, or failed
// without one response) and a cancel; any other end of this process's
// part (a shutdown, a store failure) leaves the run to the others.
// Returns ENOTFOUND for an unknown run, ECONFLICT for a run that is not
// running, EINVALID when o sets Restart, RetryFailed or LockFunc or the
// stored source no longer parses, or the store's error.
func Join(ctx context.Context, st Store, runID int64, o Options) (*Run, error) {
	if o.Restart || o.RetryFailed || o.LockFunc != nil {
		return nil, trawl.Errorf(trawl.EINVALID, "run %d: restart, retry-failed and a lock do not apply to joining a run", runID)
	}
	run, err := st.Run(ctx, runID)
	if err != nil {
		return nil, err
	}
	if run.Status != trawl.RunRunning {
		return nil, trawl.Errorf(trawl.ECONFLICT, "run %d is %s, not running: nothing to join", runID, run.Status)
	}
	src, err := st.RunSpec(ctx, runID)
	if err != nil {
		return nil, err
	}
	sp, err := spider.Parse(fmt.Sprintf("run %d", runID), src)
	if err != nil {
		return nil, trawl.Errorf(trawl.EINVALID, "run %d: its stored spider does not parse: %v", runID, err)
	}
	return &Run{Spider: sp, Initial: run, Origin: Joined, store: st, watch: o.Watch, shared: true}, nil
}

// ID is the run's ID.
func (r *Run) ID() int64 { return r.Initial.ID }

// Crawl runs c on the run until its frontier is exhausted, ctx is
// canceled or the store fails, and returns what the engine returned: the
// result (never nil) and why it stopped, which Finish turns into the run's
// end. onProgress, if set, is called after every commit, from the
// engine's goroutines, and must return quickly. With Options.Watch, a
// watcher stops the crawl when the run is canceled from elsewhere or
// stalls, and Finish records that end.
func (r *Run) Crawl(ctx context.Context, c Crawler, onProgress func(crawl.Progress)) (*crawl.Result, error) {
	var (
		res *crawl.Result
		err error
	)
	if r.watch.enabled() {
		res, err = r.crawlWatched(ctx, c, r.watch, onProgress)
	} else {
		res, err = c.Run(ctx, crawl.RunParams{Spider: r.Spider, Run: r.Initial, OnProgress: onProgress, Exclusive: !r.shared})
	}
	if res == nil {
		res = &crawl.Result{Stats: r.Initial.Stats}
	}
	return res, err
}

// Finish records how the crawl of the run ended: see the function Finish.
func (r *Run) Finish(ctx context.Context, res *crawl.Result, runErr error) (*Outcome, error) {
	if r.Origin == Joined || errors.Is(r.stopped, errEndedElsewhere) {
		return r.finishPart(ctx, res, runErr)
	}
	if r.stopped != nil && runErr != nil {
		// The watcher stopped the crawl: that, not ctx, says why.
		sctx, cancel := context.WithCancelCause(ctx)
		cancel(r.stopped)
		return Finish(sctx, r.store, r.Initial.ID, res, runErr)
	}
	return Finish(ctx, r.store, r.Initial.ID, res, runErr)
}

// finishPart is Finish for a crawl that was one part of a shared run (a
// joined run, or one whose end another process recorded first): it records
// only the ends that concern the whole run, and reports the others as
// Interrupted: this process stopped, the run did not.
func (r *Run) finishPart(ctx context.Context, res *crawl.Result, runErr error) (*Outcome, error) {
	cause := runErr
	if r.stopped != nil && runErr != nil {
		cause = r.stopped
	}
	if errors.Is(cause, errEndedElsewhere) {
		// Another process recorded the end: report it, write nothing.
		out := &Outcome{RunID: r.ID(), End: Interrupted, Result: res, Err: cause}
		if run, err := r.store.Run(context.WithoutCancel(ctx), r.ID()); err == nil {
			switch run.Status {
			case trawl.RunSucceeded:
				out.End, out.Err = Succeeded, nil
			case trawl.RunFailed:
				out.End, out.Err = Failed, errors.New(run.Error)
			case trawl.RunCanceled:
				out.End, out.Err = Canceled, trawl.ErrRunCanceled
			}
		}
		return out, nil
	}
	if r.stopped != nil && runErr != nil {
		sctx, cancel := context.WithCancelCause(ctx)
		cancel(r.stopped)
		ctx = sctx
	}
	end, err := classify(ctx, runErr)
	if end != Succeeded && end != Canceled {
		return &Outcome{RunID: r.ID(), End: Interrupted, Result: res, Err: err}, nil
	}
	return Finish(ctx, r.store, r.ID(), res, runErr)
}

// Close releases the lock taken by Start, if any. The run itself stays as
// Crawl left it. Close is idempotent.
func (r *Run) Close() {
	if r.unlock != nil {
		r.unlock()
		r.unlock = nil
	}
}

// resumeOrCreate resumes the newest unfinished run of sp with the same
// content, or creates a new one.
func resumeOrCreate(ctx context.Context, st Store, sp *spider.Spider) (*trawl.Run, Origin, error) {
	run, err := st.ResumableRun(ctx, sp.Name, sp.Hash)
	if err == nil {
		return run, Resumed, nil
	}
	if trawl.ErrorCode(err) != trawl.ENOTFOUND {
		return nil, 0, err
	}
	run, err = createRun(ctx, st, sp)
	return run, Created, err
}

// createRun creates a run of sp with its start URLs queued.
func createRun(ctx context.Context, st Store, sp *spider.Spider) (*trawl.Run, error) {
	return st.CreateRun(ctx, store.CreateRunParams{
		Spider:    sp.Name,
		SpecHash:  sp.Hash,
		Spec:      sp.Source,
		Columns:   sp.FieldNames(),
		StartURLs: frontier.StartURLs(sp),
	})
}

// retryFailed puts the failed pages of the last run of sp back in its
// frontier, so that crawling the run fetches them again and updates it.
func retryFailed(ctx context.Context, st Store, sp *spider.Spider) (*trawl.Run, int64, error) {
	runs, err := st.Runs(ctx, store.RunQuery{Spider: sp.Name, Limit: 1})
	if err != nil {
		return nil, 0, err
	}
	if len(runs) == 0 {
		return nil, 0, &RetryError{Spider: sp.Name, Reason: NoRunToRetry}
	}
	last := &runs[0]
	switch {
	case !last.Status.Final():
		return nil, 0, &RetryError{Spider: sp.Name, Reason: LastRunUnfinished, Last: last}
	case last.SpecHash != sp.Hash:
		return nil, 0, &RetryError{Spider: sp.Name, Reason: SpiderChanged, Last: last}
	case last.Stats.ErrorCount() == 0:
		return nil, 0, &RetryError{Spider: sp.Name, Reason: NoFailedPages, Last: last}
	}
	n, err := st.RequeueFailed(ctx, last.ID)
	if err != nil {
		return nil, 0, fmt.Errorf("requeue the failed pages of run %d: %w", last.ID, err)
	}
	run, err := st.Run(ctx, last.ID)
	if err != nil {
		return nil, 0, err
	}
	return run, n, nil
}

// RetryError is why Start with Options.RetryFailed took up no run.
type RetryError struct {
	Spider string
	Reason RetryReason
	// Last is the spider's last run; nil when Reason is NoRunToRetry.
	Last *trawl.Run
}

// RetryReason is why there is nothing to retry.
type RetryReason int

// Reasons of a RetryError.
const (
	// NoRunToRetry: the spider has no run yet.
	NoRunToRetry RetryReason = iota + 1
	// LastRunUnfinished: the last run has not finished; resume it instead.
	LastRunUnfinished
	// SpiderChanged: the spider changed since its last run, whose pages
	// were found with the old version.
	SpiderChanged
	// NoFailedPages: the last run has no failed pages. Not a failure:
	// there is nothing to do.
	NoFailedPages
)

func (e *RetryError) Error() string {
	switch e.Reason {
	case NoRunToRetry:
		return fmt.Sprintf("spider %s has no run to retry yet", e.Spider)
	case LastRunUnfinished:
		return fmt.Sprintf("run %d of %s has not finished: resume it instead", e.Last.ID, e.Spider)
	case SpiderChanged:
		return fmt.Sprintf("spider %s changed since its last run (run %d), whose pages were found with the old version", e.Spider, e.Last.ID)
	case NoFailedPages:
		return fmt.Sprintf("run %d of %s has no failed pages: nothing to retry", e.Last.ID, e.Spider)
	}
	return "nothing to retry"
}
