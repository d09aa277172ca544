package runner

import (
	"context"
	"errors"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// NoPageMessage is the error message of a run that fetched no page: not
// one page got an HTTP response that was stored (connection refused, DNS,
// timeouts, robots.txt, ...). A 404 or a 500 is a response: the site is
// there.
const NoPageMessage = "not one request got an HTTP response (check the start URLs and that the site is up)"

// FailedSample is how many failed pages an Outcome lists at most.
const FailedSample = 10

// End is how a crawl of a run ended.
type End int

// Ends of a crawl, and the status each leaves the run in (End.Status).
const (
	// Succeeded: the frontier is exhausted and some page got an HTTP
	// response. The run is succeeded, even if pages failed.
	Succeeded End = iota + 1
	// NoPage: the frontier is exhausted and not one page got an HTTP
	// response. The run is failed with NoPageMessage.
	NoPage
	// Failed: an error stopped the crawl. The run is failed with the
	// error's text.
	Failed
	// Canceled: a user canceled the run (trawl.ErrRunCanceled). The run is
	// canceled.
	Canceled
	// Interrupted: the process is shutting down (trawl.ErrShutdown, a
	// signal). The run stays running: every committed page is kept, and
	// the next Start (here or in another process) resumes it.
	Interrupted
	// DiskFull: a write found the disk full (store.ErrDiskFull). The run
	// stays running, to be resumed once there is space.
	DiskFull
)

// Status is the status a run is left in when its crawl ends as e.
func (e End) Status() trawl.RunStatus {
	switch e {
	case Succeeded:
		return trawl.RunSucceeded
	case NoPage, Failed:
		return trawl.RunFailed
	case Canceled:
		return trawl.RunCanceled
	}
	return trawl.RunRunning
}

// String names the end for logs.
func (e End) String() string {
	switch e {
	case Succeeded:
		return "succeeded"
	case NoPage:
		return "no_page"
	case Failed:
		return "failed"
	case Canceled:
		return "canceled"
	case Interrupted:
		return "interrupted"
	case DiskFull:
		return "disk_full"
	}
	return "unknown"
}

// Outcome is how a crawl of a run ended, as Finish recorded it.
type Outcome struct {
	RunID int64
	End   End
	// Result is what the crawl produced: the run's statistics as
	// committed, and its hosts' reports. Never nil.
	Result *crawl.Result
	// Err is why the crawl stopped: the error for Failed and DiskFull,
	// the context's cause for Canceled and Interrupted, nil otherwise.
	Err error
	// Failed lists up to FailedSample failed pages of a Succeeded or
	// NoPage run, for reports. It is best effort: empty when the store
	// could not list them (the counts are in the statistics anyway).
	Failed []store.FailedPage
}

// Finish records the end of a crawl of run runID that returned res and
// runErr, the crawl having run under ctx, and says how it ended (see End
// for the status each end leaves). The cause of a canceled ctx
// (context.Cause) decides between Canceled and Interrupted. res must not
// be nil.
//
// The store is written with ctx's values but without its cancellation: a
// canceled run must still be recorded as such. DiskFull and Interrupted
// do not touch the store. The error is a failure to record a
// Succeeded, NoPage or Canceled end; for Failed, a failure to record it
// is dropped, because Outcome.Err, which the caller reports, most likely
// says the same (the store failed).
func Finish(ctx context.Context, st Store, runID int64, res *crawl.Result, runErr error) (*Outcome, error) {
	out := &Outcome{RunID: runID, Result: res}
	wctx := context.WithoutCancel(ctx)
	out.End, out.Err = classify(ctx, runErr)
	switch out.End {
	case DiskFull, Interrupted:
		return out, nil
	case Canceled:
		return out, st.FinishRun(wctx, runID, trawl.RunCanceled, "")
	case Failed:
		_ = st.FinishRun(wctx, runID, trawl.RunFailed, out.Err.Error())
		return out, nil
	}
	fetched, err := fetchedAny(wctx, st, runID, res.Stats)
	if err != nil {
		return nil, err
	}
	msg := ""
	if !fetched {
		out.End, msg = NoPage, NoPageMessage
	}
	if err := st.FinishRun(wctx, runID, out.End.Status(), msg); err != nil {
		return nil, err
	}
	if res.Stats.ErrorCount() > 0 {
		out.Failed, _ = st.FailedPages(wctx, runID, FailedSample)
	}
	return out, nil
}

// classify maps why a crawl stopped to its end, before the store is asked
// whether it fetched anything (Succeeded stands for both).
func classify(ctx context.Context, runErr error) (End, error) {
	if runErr == nil {
		return Succeeded, nil
	}
	if errors.Is(runErr, store.ErrDiskFull) {
		// Not a failure: nothing committed is lost, and the run resumes.
		return DiskFull, runErr
	}
	cause := runErr
	if ctx.Err() != nil {
		cause = context.Cause(ctx)
	}
	var stalled *StalledError
	switch {
	case errors.Is(cause, trawl.ErrRunCanceled):
		return Canceled, cause
	case errors.As(cause, &stalled):
		return Failed, stalled
	case ctx.Err() != nil, errors.Is(cause, trawl.ErrShutdown):
		// A signal (signal.NotifyContext's cause is context.Canceled),
		// ErrShutdown, or a deadline: the process stops, the run does not.
		return Interrupted, cause
	}
	return Failed, runErr
}

// fetchedAny reports whether any page of the run got an HTTP response,
// whatever its status.
func fetchedAny(ctx context.Context, st Store, runID int64, s trawl.RunStats) (bool, error) {
	errs := s.ErrorCount()
	if s.Pages > errs {
		return true, nil // a page succeeded
	}
	if errs == 0 {
		return false, nil
	}
	// Every page failed: did any of them fail with a response (a 404)?
	failed, err := st.FailedPages(ctx, runID, int(errs))
	if err != nil {
		return false, err
	}
	for _, p := range failed {
		if p.Status > 0 {
			return true, nil
		}
	}
	return false, nil
}
