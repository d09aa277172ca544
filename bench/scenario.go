package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trawl-dev/trawl/bench/simweb"
)

// scenario is a simulated web and the concurrency the tools get to crawl it.
type scenario struct {
	Name        string        `json:"name"`
	Web         simweb.Config `json:"web"`
	Concurrency int           `json:"concurrency"` // requests in flight across all hosts
	PerHost     int           `json:"per_host"`    // requests in flight per host
}

// scenarios returns the named presets; "custom" is simweb's defaults, meant to be overridden by flags.
func scenarios() map[string]scenario {
	m := map[string]scenario{
		"many-hosts": {
			Web:         simweb.Config{Hosts: 50, PagesPerHost: 200, LatencyMin: 20 * time.Millisecond, LatencyMax: 80 * time.Millisecond},
			Concurrency: 100, PerHost: 2,
		},
		"big-site": {
			Web:         simweb.Config{Hosts: 1, PagesPerHost: 20000},
			Concurrency: 16, PerHost: 16,
		},
		"faults": {
			Web: simweb.Config{
				Hosts: 10, PagesPerHost: 300, LatencyMin: 5 * time.Millisecond, LatencyMax: 20 * time.Millisecond,
				Fail503: 0.05, NotFound: 0.02, RobotsDisallow: "/private/",
			},
			Concurrency: 20, PerHost: 2,
		},
		"rate-limited": {
			// Every host accepts 1 request/s and answers 429 with Retry-After: 1 beyond it, like a
			// site behind a rate limiter: the rate floor is (pages-1)/rate, about 29 s.
			Web: simweb.Config{
				Hosts: 5, PagesPerHost: 30, LatencyMin: 5 * time.Millisecond, LatencyMax: 20 * time.Millisecond,
				RateLimit: 1,
			},
			Concurrency: 10, PerHost: 2,
		},
		"custom": {Concurrency: 16, PerHost: 2},
		// One worker is the bottleneck: 200 hosts × 2 allow 400 requests in flight, each process
		// only 32 (scaleout.go).
		scenarioScaleOut: {
			Web:         simweb.Config{Hosts: 200, PagesPerHost: 100, LatencyMin: 20 * time.Millisecond, LatencyMax: 80 * time.Millisecond},
			Concurrency: 32, PerHost: 2,
		},
	}
	// The service scenarios (service.go) measure trawl serve; service-crawl crawls the many-hosts
	// web, the others crawl only the quotes API of the dataset generator.
	m[scenarioServiceCrawl] = m["many-hosts"]
	m[scenarioItemsAPI] = m["custom"]
	m[scenarioExport] = m["custom"]
	return m
}

// lookupScenario returns the preset called name.
func lookupScenario(name string) (scenario, error) {
	all := scenarios()
	s, ok := all[name]
	if !ok {
		names := make([]string, 0, len(all))
		for n := range all {
			names = append(names, n)
		}
		slices.Sort(names)
		return scenario{}, fmt.Errorf("unknown scenario %q: want one of %s", name, strings.Join(names, ", "))
	}
	s.Name = name
	s.Web.Seed = 1
	return s, nil
}

// slots is the number of requests that can be in flight at once: every host's per-host slots,
// capped by the global concurrency.
func (s scenario) slots(hosts int) int {
	return max(1, min(hosts*s.PerHost, s.Concurrency))
}

// describe returns a one-line summary of the scenario, defaults of simweb applied in web.
func (s scenario) describe(web simweb.Config) string {
	cross := max(web.CrossHostLinks, 0)
	if web.Hosts < 2 {
		cross = 0
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d hosts × %d pages, %d links + %d cross-host per page, ~%d B pages",
		s.Name, web.Hosts, web.PagesPerHost, max(web.Links, 0), cross, web.PageBytes)
	if web.LatencyMax > 0 {
		fmt.Fprintf(&b, ", latency %v–%v", web.LatencyMin, web.LatencyMax)
	}
	if web.Fail503 > 0 {
		fmt.Fprintf(&b, ", %g%% transient 503", 100*web.Fail503)
	}
	if web.NotFound > 0 {
		fmt.Fprintf(&b, ", %g%% links 404", 100*web.NotFound)
	}
	if web.RobotsDisallow != "" {
		fmt.Fprintf(&b, ", robots disallow %s", web.RobotsDisallow)
	}
	if web.RateLimit > 0 {
		fmt.Fprintf(&b, ", %g requests/s per host (429 beyond)", web.RateLimit)
	}
	fmt.Fprintf(&b, "; concurrency %d, per host %d, seed %d", s.Concurrency, s.PerHost, web.Seed)
	return b.String()
}
