package cli

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/trawl-dev/trawl/internal/crawl"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// progress prints a run's progress on stderr: a live line redrawn in place
// on a terminal, plain periodic lines otherwise.
type progress struct {
	w        io.Writer
	tty      bool
	quiet    bool
	interval time.Duration
	begin    trawl.RunStats
	started  time.Time

	mu    sync.Mutex
	stats trawl.RunStats
	// remote is set once a run watched over the API reports progress: the
	// rate is then the server's, and the time runs from the run's start.
	remote     bool
	rate       float64
	runStarted time.Time
	done       chan struct{}
	wg         sync.WaitGroup
}

func newProgress(w io.Writer, begin trawl.RunStats, quiet bool, interval time.Duration) *progress {
	tty := isTerminal(w)
	if tty {
		interval = 200 * time.Millisecond
	}
	return &progress{w: w, tty: tty, quiet: quiet, interval: cmp.Or(interval, 5*time.Second), begin: begin, stats: begin, done: make(chan struct{})}
}

// update records the latest statistics; called by the engine.
func (p *progress) update(pr crawl.Progress) {
	p.mu.Lock()
	p.stats = pr.Stats
	p.mu.Unlock()
}

// updateRemote records a progress event of a run watched over the API
// (trawl runs watch): its statistics, the server's rate in pages per
// second, and when the run started (nil while it is queued).
func (p *progress) updateRemote(s trawl.RunStats, rate float64, started *time.Time) {
	p.mu.Lock()
	p.stats, p.rate, p.remote = s, rate, true
	if started != nil {
		p.runStarted = *started
	}
	p.mu.Unlock()
}

func (p *progress) start() {
	p.started = time.Now()
	if p.quiet {
		return
	}
	p.wg.Go(func() {
		t := time.NewTicker(p.interval)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				if p.tty {
					fmt.Fprint(p.w, "\r\033[K")
				}
				return
			case <-t.C:
				p.print()
			}
		}
	})
}

func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
}

func (p *progress) print() {
	p.mu.Lock()
	s, remote, remoteRate, runStarted := p.stats, p.remote, p.rate, p.runStarted
	p.mu.Unlock()
	elapsed := time.Since(p.started)
	rate := float64(s.Pages-p.begin.Pages) / max(elapsed.Seconds(), 0.001)
	if remote {
		rate = remoteRate
		if !runStarted.IsZero() {
			elapsed = max(time.Since(runStarted), 0)
		}
	}
	line := fmt.Sprintf("pages %d/%d  items %d  errors %d  %.1f pages/s  %s",
		s.Pages, s.Queued, s.Items, s.ErrorCount(), rate, elapsed.Round(time.Second))
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		return
	}
	fmt.Fprintln(p.w, line)
}

func sortedKeys(m map[string]int64) []string {
	return slices.Sorted(maps.Keys(m))
}
