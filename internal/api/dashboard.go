package api

import (
	"cmp"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/trawl-dev/trawl/internal/spider"
	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// hostJSON is one host of GET /v1/runs/{id}/hosts.
type hostJSON struct {
	Host         string             `json:"host"`
	Requests     int64              `json:"requests"`
	Status       store.StatusCounts `json:"status"`
	Errors       map[string]int64   `json:"errors"`
	LatencyP50MS float64            `json:"latency_p50_ms"`
	LatencyP95MS float64            `json:"latency_p95_ms"`
	InFlight     int64              `json:"in_flight"`
	DelayMS      int64              `json:"delay_ms"`
	Robots       store.RobotsState  `json:"robots"`
	Throttled    int64              `json:"throttled"`
	Down         bool               `json:"down"`
}

// ms shows d in milliseconds with one decimal.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*10) / 10
}

// runHosts answers the per-host statistics of a run, as its commits left
// them in the store: live while it runs, kept once it ended (with nothing
// in flight then).
func (s *server) runHosts(w http.ResponseWriter, r *http.Request) error {
	id, err := runID(r)
	if err != nil {
		return err
	}
	run, err := s.st.Run(r.Context(), id)
	if err != nil {
		return err
	}
	hosts, err := s.st.RunHosts(r.Context(), id)
	if err != nil {
		return err
	}
	out := struct {
		Hosts []hostJSON `json:"hosts"`
	}{Hosts: make([]hostJSON, 0, len(hosts))}
	for i := range hosts {
		h := &hosts[i]
		j := hostJSON{Host: h.Host, Requests: h.Requests, Status: h.Status, Errors: h.Errors,
			LatencyP50MS: ms(h.LatencyQuantile(0.5)), LatencyP95MS: ms(h.LatencyQuantile(0.95)),
			InFlight: h.InFlight, DelayMS: h.Delay.Milliseconds(), Robots: cmp.Or(h.Robots, store.RobotsNotChecked),
			Throttled: h.Throttled, Down: h.Down}
		if run.Status != trawl.RunRunning {
			j.InFlight = 0 // a process killed mid-request left its last count
		}
		if j.Errors == nil {
			j.Errors = map[string]int64{}
		}
		out.Hosts = append(out.Hosts, j)
	}
	return writeJSON(w, http.StatusOK, out)
}

// pointJSON is one point of GET /v1/runs/{id}/series.
type pointJSON struct {
	T      time.Time        `json:"t"`
	Pages  int64            `json:"pages"`
	Items  int64            `json:"items"`
	Bytes  int64            `json:"bytes"`
	Errors map[string]int64 `json:"errors"`
}

// runSeries answers the progress samples of a run: its cumulative
// statistics about once per interval.
func (s *server) runSeries(w http.ResponseWriter, r *http.Request) error {
	id, err := runID(r)
	if err != nil {
		return err
	}
	samples, err := s.st.RunSamples(r.Context(), id)
	if err != nil {
		return err
	}
	out := struct {
		IntervalS int64       `json:"interval_s"`
		Points    []pointJSON `json:"points"`
	}{IntervalS: max(int64(samples.Interval/time.Second), 1), Points: make([]pointJSON, 0, len(samples.Points))}
	for _, p := range samples.Points {
		out.Points = append(out.Points, pointJSON{T: p.At.UTC(), Pages: p.Pages, Items: p.Items, Bytes: p.Bytes, Errors: p.Errors})
	}
	return writeJSON(w, http.StatusOK, out)
}

// scheduleJSON is one schedule of GET /v1/schedules.
type scheduleJSON struct {
	Spider      string     `json:"spider"`
	Schedule    string     `json:"schedule"`
	NextRunAt   time.Time  `json:"next_run_at"`
	LastFiredAt *time.Time `json:"last_fired_at,omitempty"`
}

// schedulesPage is how many stored spiders listSchedules reads at a time.
const schedulesPage = 500

// listSchedules answers every stored spider that has a schedule, soonest
// next fire first.
func (s *server) listSchedules(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	out := struct {
		Schedules []scheduleJSON `json:"schedules"`
	}{Schedules: []scheduleJSON{}}
	now := s.now()
	for after := ""; ; {
		list, err := s.st.Spiders(r.Context(), store.SpiderQuery{After: after, Limit: schedulesPage})
		if err != nil {
			return err
		}
		for i := range list {
			st := &list[i]
			sp, err := spider.Parse(st.Name, st.Source)
			if err != nil || sp.Cron == nil {
				continue // see spiderOf: shown without a schedule
			}
			j := scheduleJSON{Spider: st.Name, Schedule: sp.Schedule, NextRunAt: sp.Cron.Next(now).UTC()}
			if st.LastFiredAt != nil {
				t := st.LastFiredAt.UTC()
				j.LastFiredAt = &t
			}
			out.Schedules = append(out.Schedules, j)
		}
		if len(list) < schedulesPage {
			break
		}
		after = list[len(list)-1].Name
	}
	slices.SortFunc(out.Schedules, func(a, b scheduleJSON) int {
		return cmp.Or(a.NextRunAt.Compare(b.NextRunAt), strings.Compare(a.Spider, b.Spider))
	})
	return writeJSON(w, http.StatusOK, out)
}

// Limits of GET /v1/runs/{id}/failed.
const (
	defaultFailedLimit = 100
	maxFailedLimit     = 1000
)

// runFailed lists a run's failed pages with their error text, in the order
// they were admitted: the run page's "failed pages" table.
func (s *server) runFailed(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := onlyParams(q, "limit"); err != nil {
		return err
	}
	limit, err := intParam(q, "limit", defaultFailedLimit, maxFailedLimit)
	if err != nil {
		return err
	}
	id, err := runID(r)
	if err != nil {
		return err
	}
	if _, err := s.st.Run(r.Context(), id); err != nil {
		return err
	}
	pages, err := s.st.FailedPages(r.Context(), id, limit)
	if err != nil {
		return err
	}
	if pages == nil {
		pages = []store.FailedPage{}
	}
	return writeJSON(w, http.StatusOK, struct {
		Pages []store.FailedPage `json:"pages"`
	}{pages})
}
