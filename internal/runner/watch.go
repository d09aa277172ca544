package runner

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// Watch is how Run.Crawl watches a run while it crawls, whoever crawls
// it: a worker of the service or `trawl run`. The zero value watches
// nothing.
type Watch struct {
	// Poll is how often the run's row is read for its cancel flag
	// (POST /v1/runs/{id}/cancel sets it); once set, the crawl stops with
	// trawl.ErrRunCanceled and the run ends canceled. 0: not read.
	Poll time.Duration
	// StallTimeout stops the crawl with a *StalledError when no page was
	// committed for that long; the run then fails with the error's text.
	// 0: never.
	StallTimeout time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// errEndedElsewhere stops the crawl of a shared run that another process
// ended (finished, failed or canceled it) while this one crawled.
var errEndedElsewhere = errors.New("the run was ended by another process")

// StalledError is the cause of a crawl that Watch.StallTimeout stopped.
type StalledError struct {
	After time.Duration
}

func (e *StalledError) Error() string {
	return fmt.Sprintf("stalled: no page finished for %v", e.After)
}

func (w Watch) enabled() bool { return w.Poll > 0 || w.StallTimeout > 0 }

// interval is how often the watcher wakes: the poll interval, or for the
// stall timeout alone a tenth of it (at least 10 ms, at most 1 s).
func (w Watch) interval() time.Duration {
	if w.Poll > 0 {
		return w.Poll
	}
	return min(max(w.StallTimeout/10, 10*time.Millisecond), time.Second)
}

// watchRun stops the crawl under cancel when the run's cancel flag is set or
// it stalls, until done is closed.
func (r *Run) watchRun(ctx context.Context, w Watch, cancel context.CancelCauseFunc, lastCommit *atomic.Int64, done <-chan struct{}) {
	t := time.NewTicker(w.interval())
	defer t.Stop()
	now := w.Now
	if now == nil {
		now = time.Now
	}
	pages := r.Initial.Stats.Pages
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if w.Poll > 0 {
			run, err := r.store.Run(ctx, r.Initial.ID)
			switch {
			case err != nil:
			case run.CancelRequested:
				cancel(trawl.ErrRunCanceled)
				return
			case run.Status.Final():
				cancel(errEndedElsewhere)
				return
			case run.Stats.Pages != pages:
				// Pages committed by any process sharing the run count
				// as progress, not only this one's.
				pages = run.Stats.Pages
				lastCommit.Store(now().UnixNano())
			}
		}
		if w.StallTimeout > 0 && now().Sub(time.Unix(0, lastCommit.Load())) >= w.StallTimeout {
			cancel(&StalledError{After: w.StallTimeout})
			return
		}
	}
}

// crawlWatched is Crawl with the watcher of w running beside the engine.
func (r *Run) crawlWatched(ctx context.Context, c Crawler, w Watch, onProgress func(crawl.Progress)) (*crawl.Result, error) {
	now := w.Now
	if now == nil {
		now = time.Now
	}
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var lastCommit atomic.Int64
	lastCommit.Store(now().UnixNano())
	done, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		r.watchRun(cctx, w, cancel, &lastCommit, done)
	}()
	res, err := c.Run(cctx, crawl.RunParams{Spider: r.Spider, Run: r.Initial, Exclusive: !r.shared, OnProgress: func(p crawl.Progress) {
		lastCommit.Store(now().UnixNano())
		if onProgress != nil {
			onProgress(p)
		}
	}})
	close(done)
	<-watched
	if ctx.Err() == nil && cctx.Err() != nil {
		r.stopped = context.Cause(cctx) // the watcher stopped it
	}
	return res, err
}
