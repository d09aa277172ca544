package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// testConcurrentCommits commits the pages of one run from many goroutines
// at once, one page per CommitPages call (as the workers of several
// processes would), and checks that no update of the run's statistics is
// lost and that the MaxPages budget holds exactly: counters are increments,
// not a read-modify-write of the whole record. Links overlap between the
// goroutines, in opposite orders, so a store must also dedup them across
// concurrent transactions without deadlocking. Every commit also carries
// the statistics of two hosts (in opposite orders) and asks for a sample:
// host counters add up too, and a sample holds the final statistics.
func testConcurrentCommits(t *testing.T, s store.Store) {
	const (
		workers  = 8
		perW     = 8
		pages    = workers * perW
		shared   = 5   // links every page has
		own      = 5   // links only one page has
		maxPages = 200 // fewer than the pages+shared+pages*own = 389 links offered
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var start []store.NewURL
	for i := range pages {
		start = append(start, urls("h", 0, fmt.Sprintf("/p%d", i))...)
	}
	r := mustCreate(t, s, "a", start)
	queued := mustQueued(t, s, r.ID, "h")
	if len(queued) != pages {
		t.Fatalf("queued %d start pages, want %d", len(queued), pages)
	}
	var sharedLinks []store.NewURL
	for i := range shared {
		sharedLinks = append(sharedLinks, urls("h", 1, fmt.Sprintf("/shared/%d", i))...)
	}
	var (
		mu       sync.Mutex
		admitted []int64
		wg       sync.WaitGroup
		errs     = make(chan error, pages)
	)
	for w := range workers {
		wg.Go(func() {
			for k := range perW {
				n := w*perW + k
				links := slices.Clone(sharedLinks)
				if w%2 == 1 {
					slices.Reverse(links)
				}
				for j := range own {
					links = append(links, urls("h", 1, fmt.Sprintf("/own/%d/%d", n, j))...)
				}
				pr := store.PageResult{PageID: queued[n].ID, Status: 200, Attempts: 1, Bytes: 100, Invalid: 1, LinksCapped: 2,
					Items: []trawl.Item{item(fmt.Sprintf("k%d-a", n), "A"), item(fmt.Sprintf("k%d-b", n), "B")},
					Links: links, Rules: []trawl.RuleStats{{Pages: 1, Matched: 1}, {Pages: 1, Scripted: 1}}}
				pr.Host = "h"
				hosts := []store.HostStats{{Host: "h", Requests: 1, Status: store.StatusCounts{S2xx: 1}, Robots: store.RobotsAllowed},
					{Host: "x", Requests: 2, Throttled: 1}}
				hosts[0].ObserveLatency(time.Millisecond)
				if n%2 == 1 {
					pr.Status, pr.ErrorClass, pr.Error = 500, "http_5xx", "server error"
					hosts[0].Status = store.StatusCounts{S5xx: 1}
				}
				if w%2 == 1 {
					slices.Reverse(hosts)
				}
				res, err := s.CommitPages(ctx, store.CommitParams{RunID: r.ID, Dataset: "a", MaxPages: maxPages, Pages: []store.PageResult{pr},
					Hosts: hosts, Sample: store.SampleNow})
				if err != nil {
					errs <- fmt.Errorf("commit page %d: %w", n, err)
					return
				}
				mu.Lock()
				for _, p := range res.Admitted {
					admitted = append(admitted, p.ID)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := s.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := trawl.RunStats{Pages: pages, Items: 2 * pages, Invalid: pages, Bytes: 100 * pages, Queued: maxPages,
		Errors: map[string]int64{"http_5xx": pages / 2}, LinksCapped: 2 * pages,
		Rules: []trawl.RuleStats{{Pages: pages, Matched: pages}, {Pages: pages, Scripted: pages}}}
	if diff := cmp.Diff(want, got.Stats); diff != "" {
		t.Errorf("stats after concurrent commits (-want +got):\n%s", diff)
	}
	gotHosts, err := s.RunHosts(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantH := store.HostStats{Host: "h", Requests: pages, Status: store.StatusCounts{S2xx: pages / 2, S5xx: pages / 2},
		Errors: map[string]int64{"http_5xx": pages / 2}, Robots: store.RobotsAllowed}
	wantH.Latency[0] = pages
	wantHosts := []store.HostStats{wantH, {Host: "x", Requests: 2 * pages, Throttled: pages, Errors: map[string]int64{}, Robots: store.RobotsNotChecked}}
	if diff := cmp.Diff(wantHosts, gotHosts); diff != "" {
		t.Errorf("hosts after concurrent commits (-want +got):\n%s", diff)
	}
	samples, err := s.RunSamples(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var most int64
	for _, p := range samples.Points {
		most = max(most, p.Pages)
	}
	if most != pages {
		t.Errorf("the samples reach %d pages, want %d (the last commit's sample)", most, pages)
	}
	if len(admitted) != maxPages-pages {
		t.Errorf("commits admitted %d pages, want %d (the budget less the start pages)", len(admitted), maxPages-pages)
	}
	if slices.Sort(admitted); len(slices.Compact(admitted)) != len(admitted) {
		t.Errorf("a page was admitted twice: %v", admitted)
	}
	left := mustQueued(t, s, r.ID, "h")
	if len(left) != maxPages-pages {
		t.Errorf("%d pages queued after the commits, want %d", len(left), maxPages-pages)
	}
	keys := map[string]bool{}
	for _, p := range left {
		if keys[p.Key] {
			t.Errorf("URL %s queued twice", p.Key)
		}
		keys[p.Key] = true
	}
	d, err := s.Dataset(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if d.Items != 2*pages {
		t.Errorf("dataset has %d items, want %d", d.Items, 2*pages)
	}
}
