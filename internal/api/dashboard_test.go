package api_test

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trawl-dev/trawl/internal/api"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

type hostJSON struct {
	Host         string           `json:"host"`
	Requests     int64            `json:"requests"`
	Status       map[string]int64 `json:"status"`
	Errors       map[string]int64 `json:"errors"`
	LatencyP50MS float64          `json:"latency_p50_ms"`
	LatencyP95MS float64          `json:"latency_p95_ms"`
	InFlight     int64            `json:"in_flight"`
	DelayMS      int64            `json:"delay_ms"`
	Robots       string           `json:"robots"`
	Throttled    int64            `json:"throttled"`
	Down         bool             `json:"down"`
}

type seriesJSON struct {
	IntervalS int64 `json:"interval_s"`
	Points    []struct {
		T      time.Time        `json:"t"`
		Pages  int64            `json:"pages"`
		Items  int64            `json:"items"`
		Bytes  int64            `json:"bytes"`
		Errors map[string]int64 `json:"errors"`
	} `json:"points"`
}

// waitRun waits for run id of the test queue to end, for at most 20 s.
func (b *bundle) waitRun(t *testing.T, id int64) runJSON {
	t.Helper()
	b.queue.mu.Lock()
	done := b.queue.done[id]
	b.queue.mu.Unlock()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("run %d did not end within 20s", id)
	}
	var run runJSON
	b.do(t, "GET", fmt.Sprintf("/v1/runs/%d", id), "").mustJSON(t, 200, &run)
	return run
}

// hostSites are two loopback sites with a known mix: A links to pages of
// both; on A three pages take 30 ms (200, 404 and 500), /a4 is disallowed
// by robots.txt; on B /b1 answers and /b2 drops the connection.
func hostSites(t *testing.T) (a, b *httptest.Server) {
	t.Helper()
	b = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/b1":
			io.WriteString(w, "<html>b1</html>")
		case "/b2":
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(b.Close)
	a = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			io.WriteString(w, "User-agent: *\nDisallow: /a4\n")
		case "/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<html><a href="/a1">1</a><a href="/a2">2</a><a href="/a3">3</a><a href="/a4">4</a>
				<a href="%s/b1">b1</a><a href="%s/b2">b2</a><a href="https://elsewhere.example/">x</a></html>`, b.URL, b.URL)
		case "/a1":
			time.Sleep(30 * time.Millisecond)
			io.WriteString(w, "<html>a1</html>")
		case "/a2":
			time.Sleep(30 * time.Millisecond)
			http.NotFound(w, r)
		case "/a3":
			time.Sleep(30 * time.Millisecond)
			http.Error(w, "down", http.StatusInternalServerError)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(a.Close)
	return a, b
}

func hostKey(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// TestRunHostsAndSeries: a crawl of two loopback hosts with a known mix of
// latencies, statuses, failures and robots.txt rules shows exactly that
// mix per host, its failed pages adding up to the run's errors, and a
// series that only grows and ends at the run's final statistics.
func TestRunHostsAndSeries(t *testing.T) {
	t.Parallel()
	siteA, siteB := hostSites(t)
	b := setup(t, nil)
	src := fmt.Sprintf(`name: hosts
start_urls: [%q]
scope: {hosts: [%q, %q]}
follow: [{css: a}]
items:
  - fields: {body: html}
politeness: {robots: obey, delay: 0s}
fetch: {retries: 0}
`, siteA.URL+"/", hostKey(t, siteA.URL), hostKey(t, siteB.URL))
	b.do(t, "PUT", "/v1/spiders/hosts", src).mustJSON(t, 201, nil)
	var run runJSON
	b.do(t, "POST", "/v1/spiders/hosts/runs", "").mustJSON(t, 202, &run)
	run = b.waitRun(t, run.ID)
	if run.Status != trawl.RunSucceeded || run.Stats.Pages != 7 {
		t.Fatalf("run = %+v, want succeeded with 7 pages", run)
	}

	var hosts struct{ Hosts []hostJSON }
	b.do(t, "GET", fmt.Sprintf("/v1/runs/%d/hosts", run.ID), "").mustJSON(t, 200, &hosts)
	if len(hosts.Hosts) != 2 {
		t.Fatalf("hosts = %+v, want 2", hosts.Hosts)
	}
	a, hb := hosts.Hosts[0], hosts.Hosts[1]
	if a.Host != hostKey(t, siteA.URL) {
		a, hb = hb, a
	}
	// A: /, a1, a2, a3 requested (a4 disallowed, robots.txt not counted).
	wantA := hostJSON{Host: hostKey(t, siteA.URL), Requests: 4,
		Status: map[string]int64{"2xx": 2, "3xx": 0, "4xx": 1, "5xx": 1, "none": 0},
		Errors: map[string]int64{"http_4xx": 1, "http_5xx": 1, "robots": 1}, Robots: "disallowed_some",
		LatencyP50MS: a.LatencyP50MS, LatencyP95MS: a.LatencyP95MS}
	if diff := cmp.Diff(wantA, a); diff != "" {
		t.Errorf("host A (-want +got):\n%s", diff)
	}
	// Three of A's four requests took 30 ms or more.
	if a.LatencyP50MS < 25 || a.LatencyP95MS < a.LatencyP50MS || a.LatencyP95MS > 1000 {
		t.Errorf("host A latency p50 %v ms, p95 %v ms; want 25 <= p50 <= p95 <= 1000", a.LatencyP50MS, a.LatencyP95MS)
	}
	if hb.Host != hostKey(t, siteB.URL) || hb.Requests != 2 || hb.Status["2xx"] != 1 || hb.Status["none"] != 1 ||
		hb.Robots != "allowed" || len(hb.Errors) != 1 || hb.InFlight != 0 || hb.Down {
		t.Errorf("host B = %+v, want 2 requests (one 2xx, one without response), one failed page, robots allowed", hb)
	}
	sum := maps.Clone(a.Errors)
	for k, v := range hb.Errors {
		sum[k] += v
	}
	if diff := cmp.Diff(run.Stats.Errors, sum); diff != "" {
		t.Errorf("hosts' errors do not add up to the run's (-run +hosts):\n%s", diff)
	}

	// The failed pages, one by one with their error text: as many as the
	// run's errors, each class as often as the run counts it.
	var failed struct {
		Pages []store.FailedPage `json:"pages"`
	}
	b.do(t, "GET", fmt.Sprintf("/v1/runs/%d/failed", run.ID), "").mustJSON(t, 200, &failed)
	byClass := map[string]int64{}
	for _, p := range failed.Pages {
		byClass[p.ErrorClass]++
		if p.URL == "" || p.Error == "" {
			t.Errorf("failed page %+v lacks its URL or error text", p)
		}
	}
	if diff := cmp.Diff(run.Stats.Errors, byClass); diff != "" {
		t.Errorf("failed pages by class differ from the run's errors (-run +failed):\n%s", diff)
	}
	b.do(t, "GET", fmt.Sprintf("/v1/runs/%d/failed?limit=1", run.ID), "").mustJSON(t, 200, &failed)
	if len(failed.Pages) != 1 {
		t.Errorf("failed?limit=1 listed %d pages", len(failed.Pages))
	}
	b.do(t, "GET", fmt.Sprintf("/v1/runs/%d/failed?limit=0", run.ID), "").mustProblem(t, 400, "invalid")
	b.do(t, "GET", "/v1/runs/999/failed", "").mustProblem(t, 404, "not_found")

	var series seriesJSON
	b.do(t, "GET", fmt.Sprintf("/v1/runs/%d/series", run.ID), "").mustJSON(t, 200, &series)
	if series.IntervalS != 1 || len(series.Points) == 0 {
		t.Fatalf("series = %+v, want points at 1 s", series)
	}
	for i := 1; i < len(series.Points); i++ {
		p, q := series.Points[i-1], series.Points[i]
		if !q.T.After(p.T) || q.Pages < p.Pages || q.Items < p.Items || q.Bytes < p.Bytes {
			t.Errorf("point %d %+v does not follow point %d %+v", i, q, i-1, p)
		}
	}
	last := series.Points[len(series.Points)-1]
	if last.Pages != run.Stats.Pages || last.Items != run.Stats.Items || last.Bytes != run.Stats.Bytes ||
		!cmp.Equal(last.Errors, run.Stats.Errors) {
		t.Errorf("last point %+v, want the final stats %+v", last, run.Stats)
	}

	for _, path := range []string{"/v1/runs/999/hosts", "/v1/runs/999/series", "/v1/runs/x/hosts"} {
		b.do(t, "GET", path, "").mustProblem(t, 404, "not_found")
	}
}

// TestRunHostsLive: while a page is held, the run's hosts show it in
// flight (the heartbeat commits the engine's view within about a second),
// and the series grows while nothing finishes; after the end nothing is
// in flight.
func TestRunHostsLive(t *testing.T) {
	t.Parallel()
	site := newQuoteSite(t)
	b := setup(t, nil)
	b.do(t, "PUT", "/v1/spiders/live", spiderYAML("live", site.URL)).mustJSON(t, 201, nil)
	var run runJSON
	b.do(t, "POST", "/v1/spiders/live/runs", "").mustJSON(t, 202, &run)
	host := hostKey(t, site.URL)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var hosts struct{ Hosts []hostJSON }
		b.do(t, "GET", fmt.Sprintf("/v1/runs/%d/hosts", run.ID), "").mustJSON(t, 200, &hosts)
		if len(hosts.Hosts) == 1 && hosts.Hosts[0].Host == host && hosts.Hosts[0].InFlight == 1 && hosts.Hosts[0].Requests == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hosts = %+v, want %s with 1 request done and 1 in flight within 10s", hosts.Hosts, host)
		}
		time.Sleep(50 * time.Millisecond) // polling the API as the dashboard does
	}
	var series seriesJSON
	b.do(t, "GET", fmt.Sprintf("/v1/runs/%d/series", run.ID), "").mustJSON(t, 200, &series)
	if len(series.Points) == 0 || series.Points[len(series.Points)-1].Pages != 1 {
		t.Errorf("series while running = %+v, want points up to 1 page", series)
	}
	site.Release()
	run = b.waitRun(t, run.ID)
	var hosts struct{ Hosts []hostJSON }
	b.do(t, "GET", fmt.Sprintf("/v1/runs/%d/hosts", run.ID), "").mustJSON(t, 200, &hosts)
	if len(hosts.Hosts) != 1 || hosts.Hosts[0].InFlight != 0 || hosts.Hosts[0].Requests != 2 || hosts.Hosts[0].Status["2xx"] != 2 {
		t.Errorf("hosts after the end = %+v, want 2 requests, nothing in flight", hosts.Hosts)
	}
}

// TestSchedules: the spiders with a schedule, soonest first, with their
// last fire once it happened; spiders without one are left out.
func TestSchedules(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
	b := setup(t, func(c *api.Config) { c.Now = func() time.Time { return now } })
	base := "http://127.0.0.1:1/"
	b.do(t, "PUT", "/v1/spiders/daily", spiderYAML("daily", base)+"schedule: '0 6 * * *'\n").mustJSON(t, 201, nil)
	b.do(t, "PUT", "/v1/spiders/hourly", spiderYAML("hourly", base)+"schedule: '@hourly'\n").mustJSON(t, 201, nil)
	b.do(t, "PUT", "/v1/spiders/none", spiderYAML("none", base)).mustJSON(t, 201, nil)
	fired := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := b.db.SetSpiderFired(t.Context(), "hourly", fired); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Schedules []struct {
			Spider      string     `json:"spider"`
			Schedule    string     `json:"schedule"`
			NextRunAt   time.Time  `json:"next_run_at"`
			LastFiredAt *time.Time `json:"last_fired_at"`
		} `json:"schedules"`
	}
	r := b.do(t, "GET", "/v1/schedules", "")
	r.mustJSON(t, 200, &got)
	if len(got.Schedules) != 2 {
		t.Fatalf("schedules = %s, want 2", r.body)
	}
	h, d := got.Schedules[0], got.Schedules[1]
	if h.Spider != "hourly" || h.Schedule != "@hourly" || !h.NextRunAt.Equal(time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)) ||
		h.LastFiredAt == nil || !h.LastFiredAt.Equal(fired) {
		t.Errorf("first schedule = %+v, want hourly next at 11:00, fired at 10:00", h)
	}
	if d.Spider != "daily" || !d.NextRunAt.Equal(time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)) || d.LastFiredAt != nil {
		t.Errorf("second schedule = %+v, want daily next at 06:00 tomorrow, never fired", d)
	}
	if strings.Contains(string(r.body), `"none"`) {
		t.Errorf("an unscheduled spider is listed: %s", r.body)
	}
	b.do(t, "GET", "/v1/schedules?limit=1", "").mustProblem(t, 400, "invalid")
}
