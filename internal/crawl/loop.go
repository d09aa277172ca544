package crawl

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trawl-dev/trawl/internal/frontier"
	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// crawler is the state of one Run. The dispatcher goroutine (loop) owns the
// scheduler; workers fetch and extract; one writer commits results in
// batches. They talk over channels only:
//
//	loop --tasks--> workers --results--> writer
//	  ^                |                   |
//	  +-----events-----+-------------------+
type crawler struct {
	e        *Engine
	sp       *spider.Spider
	run      *trawl.Run
	onProg   func(Progress)
	sched    *frontier.Scheduler
	admitter *frontier.Admitter

	events  chan event
	tasks   chan frontier.Task
	results chan store.PageResult

	// starving is set by the loop when it has free slots and nothing to
	// put in them: the writer then commits at once instead of lingering,
	// because the next URLs are waiting in its batch.
	starving atomic.Bool

	// pauses holds, per host, the time before which it gets no request: a
	// worker that receives a throttle signal records it at once, so that a
	// task the loop handed out before it learned of the signal is not sent.
	pausesMu sync.Mutex
	pauses   map[string]time.Time

	// lost holds the hosts whose lease was lost: a worker starts no
	// request to them, whatever the loop handed out before it knew.
	lost map[string]bool // under pausesMu
	// leaseUntil holds, for the hosts of a shared run, until when their
	// lease surely lasts as far as this process knows: the start of the
	// last claim or renewal that covered it, plus the TTL (the store's
	// expiry is later). A renewal held up (a slow or unreachable
	// database) lets it pass, and a worker then starts no request to the
	// host: another process may hold it by now.
	leaseUntil map[string]time.Time // under pausesMu

	// The run's host leases, owned by the loop: held are the hosts the
	// scheduler works on; waiting are hosts claimed while requests of an
	// earlier hold were still in flight or uncommitted, held once those
	// end (so that no page is fetched twice); perHost counts each host's
	// results not yet committed.
	worker  string
	leaser  *leaser
	held    map[string]bool
	waiting map[string]store.HostPace
	perHost map[string]int

	// tally gathers the host statistics the writer commits.
	tally *hostTally
	// sampled and committed are when the writer last asked for a
	// progress sample and last committed (wall clock; owned by the writer).
	sampled, committed time.Time

	stats   trawl.RunStats // last committed; owned by the writer until it exits
	loading int            // refills in progress; owned by the loop
	commits int            // transactions committed; owned by the writer
	commitT time.Duration  // time spent committing; owned by the writer
}

// event is what workers, the writer and store loads tell the loop.
type event struct {
	// A worker finished fetching a task.
	task    *frontier.Task
	release release
	// The writer committed n results, of these hosts (one per result).
	committed int
	hosts     []string
	admitted  []store.Page
	// The leaser claimed hosts, or lost them.
	claimed *claimed
	lost    []string
	// A refill completed.
	refill *frontier.Refill
	pages  []store.Page
	// An infrastructure failure: the run must stop.
	err error
}

func newCrawler(e *Engine, p RunParams) (*crawler, error) {
	n := e.cfg.Concurrency
	sched, err := frontier.NewScheduler(frontier.Config{
		ConcurrencyPerHost: p.Spider.Politeness.ConcurrencyPerHost,
		Delay:              p.Spider.Politeness.Delay,
		WaitForRobots:      p.Spider.Politeness.ObeyRobots,
		Leased:             true,
		// Enough queued pages in memory for several rounds of the
		// host's slots between refills from the store.
		QueueCap:         max(64, 8*p.Spider.Politeness.ConcurrencyPerHost),
		BreakerThreshold: e.cfg.BreakerThreshold,
		BreakerCooldown:  e.cfg.BreakerCooldown,
		BreakerProbes:    e.cfg.BreakerProbes,
	})
	if err != nil {
		return nil, fmt.Errorf("spider %s: %w", p.Spider.Name, err)
	}
	worker := e.cfg.Worker
	if p.Exclusive {
		worker = ExclusiveWorker
	}
	return &crawler{
		worker:     worker,
		lost:       map[string]bool{},
		leaseUntil: map[string]time.Time{},
		held:       map[string]bool{},
		waiting:    map[string]store.HostPace{},
		perHost:    map[string]int{},
		e:          e,
		sp:         p.Spider,
		run:        p.Run,
		onProg:     p.OnProgress,
		sched:      sched,
		admitter:   frontier.NewAdmitter(p.Spider, 0),
		events:     make(chan event, 2*n+64),
		tasks:      make(chan frontier.Task, n),
		results:    make(chan store.PageResult, 2*n),
		pauses:     map[string]time.Time{},
		tally:      newHostTally(),
		stats:      p.Run.Stats,
	}, nil
}

// loop dispatches tasks until the frontier is exhausted or the run stops,
// then drains the workers and the writer.
func (c *crawler) loop(ctx context.Context) error {
	fetchCtx, cancelFetches := context.WithCancelCause(ctx)
	defer cancelFetches(nil)

	// More workers than fetch slots: a worker that released its slot may
	// still be extracting while the slot's next fetch starts.
	var workers sync.WaitGroup
	for range c.e.cfg.Concurrency + 2*runtime.GOMAXPROCS(0) {
		workers.Go(func() { c.work(fetchCtx) })
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.write(ctx)
	}()
	go func() {
		workers.Wait()
		close(c.results)
	}()

	runErr := c.dispatch(ctx)
	if runErr != nil {
		cancelFetches(runErr)
	}
	var leased leaseSet
	if c.leaser != nil {
		leased = c.leaser.close()
	}
	close(c.tasks)
	// Keep reading events so that no worker, writer or refill blocks on
	// them, until the writer has committed everything the workers finished
	// and every refill has answered.
	for {
		select {
		case ev := <-c.events:
			if ev.err != nil && runErr == nil {
				runErr = ev.err
			}
			if ev.refill != nil {
				c.loading--
			}
			if ev.task != nil {
				// The scheduler is done with; the request still counts.
				c.tally.record(ev.release.attempt, ev.release.finish.Signal, c.sched.Host(ev.task.Page.Host))
			}
		case <-writerDone:
			writerDone = nil
		}
		if writerDone == nil && c.loading == 0 {
			c.e.cfg.Logger.Debug("crawl stopped", "run", c.run.ID, "pages", c.stats.Pages, "commits", c.commits, "commit_time", c.commitT, "err", runErr)
			err := c.flush(ctx, runErr)
			c.releaseAll(ctx, leased)
			if err != nil {
				return errors.Join(runErr, err)
			}
			return runErr
		}
	}
}

// dispatch is the scheduling loop. It returns nil when the run is complete,
// or why it stopped.
func (c *crawler) dispatch(ctx context.Context) error {
	adopted, err := c.adopt(ctx)
	if err != nil {
		return err
	}
	c.leaser = newLeaser(c, c.worker, adopted)
	go c.leaser.run(ctx)
	var (
		uncommitted int // results sent to the writer and not yet committed
		timer       = c.e.cfg.Clock.NewTimer(time.Hour)
		// claiming is set while a claim is out; again asks for another
		// when it answers; endAsked is set once an idle loop asked whether
		// the run has anything left, until the next poll.
		claiming, again, endAsked bool
	)
	claim := func(checkEnd bool) {
		n := c.wanted()
		if !checkEnd && n <= 0 {
			return // full, or busy: idle hosts are handed back at the next poll
		}
		if claiming {
			again = true
			return
		}
		claiming = true
		c.leaser.ask(n, checkEnd)
	}
	// underused says whether the run had free slots at the previous poll
	// as well as now: a shared run claims more hosts only then, so that a
	// momentary dip does not take hosts other workers could crawl.
	var underused bool
	idle := func() bool { return c.sched.Idle() && uncommitted == 0 && c.loading == 0 }
	poll := time.NewTicker(c.e.cfg.ClaimInterval) // the store's clock is the wall clock
	defer poll.Stop()
	// A claim scans the run's queued pages while it holds the write lock.
	// An exclusive run finds its new hosts through its own commits, so a
	// busy one polls ten times less often, for retries that came due.
	lastPoll := time.Now()
	pollEvery := c.e.cfg.ClaimInterval
	if c.worker == ExclusiveWorker {
		pollEvery *= 10
	}
	timer.Stop() // armed below whenever a host waits for its time
	defer timer.Stop()
	claim(false)
	for {
		for _, r := range c.sched.Refills() {
			c.loading++
			go c.refill(ctx, r)
		}
		now := c.e.cfg.Clock.Now()
		for c.sched.InFlight() < c.e.cfg.Concurrency {
			t, ok := c.sched.Next(now)
			if !ok {
				break
			}
			c.tasks <- t // never blocks: in-flight tasks are fewer than the buffer
			c.tally.pace(c.sched.Host(t.Page.Host))
		}
		if idle() && !claiming && !endAsked {
			claim(true)
			endAsked = true
		}
		c.starving.Store(c.sched.Pending() == 0 && c.sched.InFlight() < c.e.cfg.Concurrency)
		var timerC <-chan time.Time
		if at, ok := c.sched.NextAt(); ok && c.sched.InFlight() < c.e.cfg.Concurrency {
			timer.Reset(max(at.Sub(now), time.Millisecond))
			timerC = timer.C()
		} else {
			// Disarmed, so that a fake clock has no stale deadline to jump to.
			timer.Stop()
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-timerC:
		case <-poll.C:
			released := c.releaseIdle()
			c.activateWaiting()
			endAsked = false
			free := c.sched.InFlight() < c.e.cfg.Concurrency
			sustained := free && underused
			underused = free
			if len(c.held) < c.e.cfg.MaxHosts && (idle() || time.Since(lastPoll) >= pollEvery) &&
				(c.worker == ExclusiveWorker || idle() || sustained || released > 0) {
				lastPoll = time.Now()
				claim(idle())
			}
		case ev := <-c.events:
			if ev.refill != nil {
				c.loading--
			}
			switch {
			case ev.err != nil && ctx.Err() != nil:
				return context.Cause(ctx) // a load canceled by the stop itself
			case ev.err != nil:
				return ev.err
			case ev.task != nil:
				c.finishTask(*ev.task, ev.release)
				if ev.release.commits {
					uncommitted++ // before the writer can see the result
					c.perHost[ev.task.Page.Host]++
				}
			case ev.refill != nil:
				c.sched.Refilled(*ev.refill, ev.pages)
			case ev.claimed != nil:
				claiming = false
				for _, l := range ev.claimed.leases {
					c.hold(l.Host, l.Pace)
				}
				if len(ev.claimed.leases) > 0 {
					endAsked = false
				}
				if ev.claimed.empty && idle() && len(c.waiting) == 0 {
					return nil
				}
				if again {
					again = false
					claim(false)
				}
			case ev.lost != nil:
				c.loseHosts(ev.lost)
			default:
				uncommitted -= ev.committed
				for _, h := range ev.hosts {
					if c.perHost[h]--; c.perHost[h] <= 0 {
						delete(c.perHost, h)
					}
				}
				if c.sched.Add(ev.admitted) && (c.worker == ExclusiveWorker || c.sched.InFlight() < c.e.cfg.Concurrency) {
					claim(false) // pages of hosts not held: maybe free
				}
				if c.worker != ExclusiveWorker && c.releaseIdle() > 0 {
					// A shared run hands a finished host back as soon as its
					// last result is committed, and takes another for the
					// slots it freed, instead of leaving them idle until
					// the next polls.
					claim(false)
				}
			}
		}
	}
}

// wanted is how many more hosts the run should claim. An exclusive run
// wants every host, up to MaxHosts. A shared run (trawl worker) wants
// enough to fill its free slots at the spider's per-host concurrency, so
// that the hosts are spread over the workers instead of taken by the
// first to claim.
func (c *crawler) wanted() int {
	n := c.e.cfg.MaxHosts - len(c.held) - len(c.waiting)
	if c.worker == ExclusiveWorker {
		return n
	}
	perHost := max(c.sp.Politeness.ConcurrencyPerHost, 1)
	free := c.e.cfg.Concurrency - c.sched.InFlight()
	if free <= 0 {
		return 0
	}
	// One more than the slots need: a host whose robots.txt is not known
	// yet, or that is slowed, uses one slot only.
	return min(n, (free+perHost-1)/perHost+1)
}

// adopt takes over, for an exclusive run, the leases a crashed
// predecessor left: they are in the same worker's name, so renewing them
// makes them this process's. It returns the hosts taken over.
func (c *crawler) adopt(ctx context.Context) ([]string, error) {
	if c.worker != ExclusiveWorker {
		return nil, nil
	}
	hosts, err := c.e.store.QueuedHosts(ctx, c.run.ID)
	if err != nil || len(hosts) == 0 {
		return nil, err
	}
	lost, err := c.e.store.RenewHosts(ctx, c.run.ID, c.worker, hosts, c.e.cfg.LeaseTTL)
	if err != nil {
		return nil, fmt.Errorf("take over host leases: %w", err)
	}
	gone := make(map[string]bool, len(lost))
	for _, h := range lost {
		gone[h] = true
	}
	var adopted []string
	for _, h := range hosts {
		if !gone[h] {
			adopted = append(adopted, h)
			c.hold(h, store.HostPace{})
		}
	}
	return adopted, nil
}

// hold starts work on a claimed host, or, while requests of an earlier
// hold of it are in flight or uncommitted, files it as waiting.
func (c *crawler) hold(host string, p store.HostPace) {
	if c.sched.Host(host).InFlight > 0 || c.perHost[host] > 0 {
		c.waiting[host] = p
		return
	}
	delete(c.waiting, host)
	c.e.cfg.Logger.Debug("host held", "run", c.run.ID, "worker", c.worker, "host", host, "not_before", p.NotBefore, "delay", p.Delay)
	c.held[host] = true
	c.pausesMu.Lock()
	delete(c.lost, host)
	c.pausesMu.Unlock()
	c.sched.Hold(host, fromStorePace(p, c.e.cfg.Clock))
}

// activateWaiting holds the waiting hosts whose earlier requests ended.
func (c *crawler) activateWaiting() {
	for h, p := range c.waiting {
		c.hold(h, p)
	}
}

// loseHosts stops work on hosts whose lease was lost: no request to them
// starts any more, and their tasks in memory are dropped (the pages stay
// queued in the store for the new holder).
func (c *crawler) loseHosts(hosts []string) {
	c.e.cfg.Logger.Warn("host leases lost", "run", c.run.ID, "worker", c.worker, "hosts", hosts)
	c.pausesMu.Lock()
	for _, h := range hosts {
		c.lost[h] = true
	}
	c.pausesMu.Unlock()
	for _, h := range hosts {
		delete(c.waiting, h)
		if c.held[h] {
			delete(c.held, h)
			c.sched.Release(h)
		}
	}
}

// releaseIdle hands back the held hosts with nothing left to do and no
// uncommitted result, so that pages other workers admit to them get
// crawled, and returns how many it handed back. An exclusive run keeps
// them until it holds MaxHosts: pages of its hosts come only from its own
// commits.
func (c *crawler) releaseIdle() int {
	if c.worker == ExclusiveWorker && len(c.held) < c.e.cfg.MaxHosts {
		return 0
	}
	var rel []store.HostRelease
	for _, h := range c.sched.Releasable() {
		if !c.held[h] || c.perHost[h] > 0 {
			continue
		}
		delete(c.held, h)
		rel = append(rel, store.HostRelease{Host: h, Pace: toStorePace(c.sched.Release(h), c.e.cfg.Clock)})
		c.e.cfg.Logger.Debug("host released", "run", c.run.ID, "worker", c.worker, "host", h, "not_before", rel[len(rel)-1].Pace.NotBefore)
	}
	if len(rel) > 0 {
		c.leaser.release(rel)
	}
	return len(rel)
}

// releaseAll hands back every host the run still leases, with its pace,
// once nothing is in flight or uncommitted: on a clean end, a cancel or a
// shutdown. A failure is logged: the leases then expire on their own.
func (c *crawler) releaseAll(ctx context.Context, leased leaseSet) {
	if len(leased) == 0 {
		return
	}
	rel := make([]store.HostRelease, 0, len(leased))
	for h, p := range leased {
		if c.held[h] {
			p = toStorePace(c.sched.HostPace(h), c.e.cfg.Clock)
		} else if w, ok := c.waiting[h]; ok {
			p = w
		}
		rel = append(rel, store.HostRelease{Host: h, Pace: p})
	}
	slices.SortFunc(rel, func(a, b store.HostRelease) int { return strings.Compare(a.Host, b.Host) })
	if err := c.e.store.ReleaseHosts(context.WithoutCancel(ctx), c.run.ID, c.worker, rel); err != nil {
		c.e.cfg.Logger.Warn("release host leases", "run", c.run.ID, "worker", c.worker, "err", err)
	}
}

func (c *crawler) finishTask(t frontier.Task, o release) {
	if o.robotsKnown {
		c.sched.SetRobots(t.Page.Host, o.crawlDelay)
	}
	c.sched.Finish(t, o.finish)
	c.tally.record(o.attempt, o.finish.Signal, c.sched.Host(t.Page.Host))
}

// flush commits, once the writer is done, the host statistics gathered
// since its last commit, every host's final pace (nothing in flight), and
// a last progress sample, so that the samples end at the final statistics.
// It does nothing after a store failure.
func (c *crawler) flush(ctx context.Context, runErr error) error {
	if runErr != nil && ctx.Err() == nil {
		return nil // the store failed: the run stops as it is
	}
	for _, p := range c.sched.Pace() {
		p.InFlight = 0
		c.tally.pace(p)
	}
	_, err := c.e.store.CommitPages(context.WithoutCancel(ctx), store.CommitParams{
		RunID: c.run.ID, Dataset: c.sp.Name, Hosts: c.tally.take(), Sample: store.SampleNow,
	})
	if err != nil {
		return fmt.Errorf("commit host statistics: %w", err)
	}
	return nil
}

func (c *crawler) refill(ctx context.Context, r frontier.Refill) {
	pages, err := c.e.store.QueuedPages(ctx, c.run.ID, r.Host, r.AfterID, r.Limit)
	if err != nil {
		c.events <- event{refill: &r, err: err}
		return
	}
	c.events <- event{refill: &r, pages: pages}
}

// write commits results in batches: whatever finished while the previous
// commit ran goes into the next transaction. On shutdown it commits what
// the workers finished, even though ctx is canceled, so no finished page is
// fetched again on resume.
func (c *crawler) write(ctx context.Context) {
	commitCtx := context.WithoutCancel(ctx)
	var failed bool
	batch := make([]store.PageResult, 0, c.e.cfg.CommitBatch)
	// A heartbeat commits the host statistics and a progress sample when
	// no page finished for a second (a slow page, a long politeness
	// delay), so that what the API shows stays live. It runs on the wall
	// clock, like the store's samples: it waits for nothing.
	heartbeat := time.NewTicker(time.Second)
	defer heartbeat.Stop()
	for {
		var first store.PageResult
		select {
		case r, ok := <-c.results:
			if !ok {
				return
			}
			first = r
		case <-heartbeat.C:
			if !failed && time.Since(c.committed) >= time.Second {
				if _, err := c.commit(commitCtx, nil); err != nil {
					failed = true
					c.events <- event{err: err}
				}
			}
			continue
		}
		batch = append(batch[:0], first)
		// Linger a moment for more results: a transaction's fixed cost
		// (the WAL append at commit) then spreads over more pages. Not when
		// the loop is starving: then the next URLs are in this batch.
		wait := c.e.cfg.CommitLinger
		if c.starving.Load() {
			wait = 0
		}
		linger := c.e.cfg.Clock.NewTimer(wait)
	fill:
		for len(batch) < c.e.cfg.CommitBatch {
			select {
			case r, ok := <-c.results:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			case <-linger.C():
				break fill
			}
		}
		linger.Stop()
		if failed {
			continue // drain so that workers never block
		}
		start := time.Now()
		res, err := c.commit(commitCtx, batch)
		c.commitT += time.Since(start)
		if err != nil {
			failed = true
			c.events <- event{err: err}
			continue
		}
		c.stats = res.Stats
		c.commits++
		if c.onProg != nil {
			c.onProg(Progress{Stats: res.Stats})
		}
		hosts := make([]string, len(batch))
		for i, r := range batch {
			hosts[i] = r.Host
		}
		c.events <- event{committed: len(batch), hosts: hosts, admitted: res.Admitted}
	}
}

func (c *crawler) commit(ctx context.Context, batch []store.PageResult) (*store.CommitResult, error) {
	// ctx is never canceled here (see write). That matters for speed too:
	// the SQLite driver starts a watcher goroutine for every statement run
	// under a cancelable context, which cost a third of the commit time.
	p := store.CommitParams{
		RunID: c.run.ID, Dataset: c.sp.Name, MaxPages: c.sp.Limits.MaxPages, Pages: batch, Hosts: c.tally.take(),
	}
	// At most one sample a second: the store records it only when its
	// interval passed, and asking costs a query.
	now := time.Now()
	if now.Sub(c.sampled) >= time.Second {
		p.Sample, c.sampled = store.SampleIfDue, now
	}
	c.committed = now
	return c.e.store.CommitPages(ctx, p)
}
