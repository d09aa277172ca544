package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trawl-dev/trawl/bench/simweb"
)

// Statuses of a result.
const (
	statusOK           = "ok"
	statusFailed       = "failed"
	statusTimeout      = "timeout"
	statusNotInstalled = "not installed"
	statusUnavailable  = "unavailable" // the tool could not be built or located
)

// result is one tool's run: the child's resources, the server's counters and the output's items.
type result struct {
	Tool   string `json:"tool"`
	Run    int    `json:"run"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`

	WallSeconds float64     `json:"wall_s"`
	CPUSeconds  float64     `json:"cpu_s"`
	PeakRSSKiB  int64       `json:"peak_rss_kib"`
	RSSQuarters [4]int64    `json:"rss_kib_at_25_50_75_100_pct"`
	RSSTimeline []rssSample `json:"rss_timeline"`

	PagesPerSecond float64 `json:"pages_per_s"`
	PagesFetched   int     `json:"pages_fetched"`
	PagesExpected  int     `json:"pages_expected"`
	NoItems        bool    `json:"no_items,omitempty"` // the tool extracts no items: the item counts are n/a
	ItemLines      int     `json:"item_lines"`
	ItemsDistinct  int     `json:"items_distinct"`
	ItemsCorrect   int     `json:"items_correct"`
	ItemsExpected  int     `json:"items_expected"`
	OutputError    string  `json:"output_error,omitempty"`

	Requests           int     `json:"requests"`
	Duplicates         int     `json:"duplicate_fetches"`
	RobotsRequests     int     `json:"robots_requests"`
	DisallowedRequests int     `json:"disallowed_requests"`
	Status503          int     `json:"status_503"`
	Status404          int     `json:"status_404"`
	Status429          int     `json:"status_429"`
	EarlyRequests      int     `json:"early_requests"`
	RateFloorSeconds   float64 `json:"rate_floor_s,omitempty"`
	WallOverRateFloor  float64 `json:"wall_over_rate_floor,omitempty"`
	InjectedSeconds    float64 `json:"injected_delay_s"`
	FloorSeconds       float64 `json:"latency_floor_s,omitempty"`
	WallOverFloor      float64 `json:"wall_over_floor,omitempty"`
}

// newResult combines a measurement, the web's counters after the run and the tool's output.
func newResult(name string, run int, m measurement, web *simweb.Web, sc scenario, output string) result {
	st := web.Stats()
	cfg := web.Config()
	r := result{
		Tool: name, Run: run, Status: statusOK,
		WallSeconds: m.Wall.Seconds(), CPUSeconds: m.CPU.Seconds(), PeakRSSKiB: m.MaxRSS, RSSTimeline: m.RSS,
		PagesFetched: st.PagesServed, PagesExpected: st.ExpectedPages, ItemsExpected: st.ExpectedItems,
		Requests: st.Requests, Duplicates: st.Duplicates, RobotsRequests: st.RobotsRequests,
		DisallowedRequests: st.DisallowedRequests, Status503: st.Status503, Status404: st.Status404,
		Status429: st.Status429, EarlyRequests: st.EarlyRequests,
		InjectedSeconds: st.InjectedDelay.Seconds(),
	}
	if cfg.RateLimit > 0 {
		// A host's pages go one token apart after the first (burst 1): the least time any
		// crawler that loses nothing can take.
		r.RateFloorSeconds = float64(cfg.PagesPerHost-1) / cfg.RateLimit
		r.WallOverRateFloor = r.WallSeconds / r.RateFloorSeconds
	}
	for i, f := range []float64{0.25, 0.5, 0.75, 1} {
		r.RSSQuarters[i] = rssAt(m.RSS, m.Wall, f)
	}
	if m.Wall > 0 {
		r.PagesPerSecond = float64(st.PagesServed) / m.Wall.Seconds()
	}
	if cfg.LatencyMax > 0 {
		floor := st.InjectedDelay / time.Duration(sc.slots(cfg.Hosts))
		r.FloorSeconds = floor.Seconds()
		if floor > 0 {
			r.WallOverFloor = m.Wall.Seconds() / floor.Seconds()
		}
	}
	switch {
	case m.TimedOut:
		r.Status = statusTimeout
	case m.Err != nil:
		r.Status = statusFailed
	}
	if m.Err != nil {
		r.Error = m.Err.Error()
	}
	if output == "" {
		r.NoItems = true
		return r
	}
	oc, err := countItems(output, web)
	if err != nil {
		r.OutputError = err.Error()
	}
	r.ItemLines, r.ItemsDistinct, r.ItemsCorrect = oc.lines, oc.distinct, oc.correct
	return r
}

// itemCounts are the items a tool wrote.
type itemCounts struct {
	lines    int // JSON lines
	distinct int // distinct _url keys that are pages of the web
	correct  int // of those, items whose title, price and tags are the expected ones
}

// countItems reads a JSONL file of items with _url, title, price and tags.
func countItems(path string, web *simweb.Web) (itemCounts, error) {
	var c itemCounts
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("open output: %w", err)
	}
	defer f.Close()
	seen := make(map[string]bool)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		c.lines++
		var it struct {
			URL   string   `json:"_url"`
			Title string   `json:"title"`
			Price string   `json:"price"`
			Tags  []string `json:"tags"`
		}
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			return c, fmt.Errorf("output line %d: %w", c.lines, err)
		}
		want, ok := web.Item(it.URL)
		if !ok || seen[it.URL] {
			continue
		}
		seen[it.URL] = true
		c.distinct++
		if it.Title == want.Title && it.Price == want.Price && slices.Equal(it.Tags, want.Tags) {
			c.correct++
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("read output: %w", err)
	}
	return c, nil
}

// report is everything one invocation measured, as written to -json.
type report struct {
	Scenario    scenario      `json:"scenario"`
	Web         simweb.Config `json:"web"` // simweb defaults applied
	Description string        `json:"description"`
	Machine     machine       `json:"machine"`
	Started     time.Time     `json:"started"`
	Results     []result      `json:"results"`
}

// machine describes where the numbers were taken; they compare only within one report.
type machine struct {
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
}

// writeTable prints the results side by side, one column per tool run.
func writeTable(w io.Writer, rep report) error {
	fmt.Fprintf(w, "scenario %s\nmachine: %d CPUs, %s, %s; started %s\n\n", rep.Description,
		rep.Machine.CPUs, rep.Machine.OS, rep.Machine.GoVersion, rep.Started.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	runs := 0
	for _, r := range rep.Results {
		runs = max(runs, r.Run)
	}
	row := func(label string, cell func(r result) string) {
		fmt.Fprintf(tw, "%-30s\t", label)
		for _, r := range rep.Results {
			c := "-"
			if r.Status != statusNotInstalled && r.Status != statusUnavailable {
				c = cell(r)
			}
			fmt.Fprintf(tw, "%s\t", c)
		}
		fmt.Fprintln(tw)
	}
	heading := func(r result) string {
		if runs > 1 {
			return fmt.Sprintf("%s #%d", r.Tool, r.Run)
		}
		return r.Tool
	}
	fmt.Fprintf(tw, "%-30s\t", "")
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t", heading(r))
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "%-30s\t", "status")
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t", r.Status)
	}
	fmt.Fprintln(tw)
	mib := func(kib int64) string { return fmt.Sprintf("%.0f", float64(kib)/1024) }
	row("wall (s)", func(r result) string { return fmt.Sprintf("%.2f", r.WallSeconds) })
	row("CPU user+sys (s)", func(r result) string { return fmt.Sprintf("%.2f", r.CPUSeconds) })
	row("peak RSS (MiB)", func(r result) string { return mib(r.PeakRSSKiB) })
	row("RSS at 25/50/75/100% (MiB)", func(r result) string {
		q := r.RSSQuarters
		return mib(q[0]) + "/" + mib(q[1]) + "/" + mib(q[2]) + "/" + mib(q[3])
	})
	row("pages/s", func(r result) string { return fmt.Sprintf("%.0f", r.PagesPerSecond) })
	row("pages fetched / expected", func(r result) string { return ratio(r.PagesFetched, r.PagesExpected) })
	row("items distinct / expected", func(r result) string {
		if r.NoItems {
			return "n/a"
		}
		return ratio(r.ItemsDistinct, r.ItemsExpected)
	})
	row("items correct / output lines", func(r result) string {
		if r.NoItems {
			return "n/a"
		}
		return fmt.Sprintf("%d / %d", r.ItemsCorrect, r.ItemLines)
	})
	row("requests", func(r result) string { return fmt.Sprint(r.Requests) })
	row("duplicate fetches", func(r result) string { return fmt.Sprint(r.Duplicates) })
	row("robots.txt fetches", func(r result) string { return fmt.Sprint(r.RobotsRequests) })
	row("robots-disallowed fetches", func(r result) string { return fmt.Sprint(r.DisallowedRequests) })
	row("503 / 404 answered", func(r result) string { return fmt.Sprintf("%d / %d", r.Status503, r.Status404) })
	if rep.Web.RateLimit > 0 {
		row("429 answered", func(r result) string { return fmt.Sprint(r.Status429) })
		row("requests < Retry-After after a 429", func(r result) string { return fmt.Sprint(r.EarlyRequests) })
		row("rate floor (s)", func(r result) string { return fmt.Sprintf("%.1f", r.RateFloorSeconds) })
		row("wall / rate floor", func(r result) string { return fmt.Sprintf("%.2f", r.WallOverRateFloor) })
	}
	if rep.Web.LatencyMax > 0 {
		row("injected delay (s)", func(r result) string { return fmt.Sprintf("%.1f", r.InjectedSeconds) })
		row("latency floor (s)", func(r result) string { return fmt.Sprintf("%.2f", r.FloorSeconds) })
		row("wall / floor", func(r result) string { return fmt.Sprintf("%.2f", r.WallOverFloor) })
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	for _, r := range rep.Results {
		if r.Error != "" {
			fmt.Fprintf(w, "\n%s: %s", heading(r), r.Error)
		}
		if r.OutputError != "" {
			fmt.Fprintf(w, "\n%s output: %s", heading(r), r.OutputError)
		}
	}
	fmt.Fprintln(w)
	return nil
}

// ratio formats n of total with a percentage.
func ratio(n, total int) string {
	if total == 0 {
		return fmt.Sprintf("%d / 0", n)
	}
	return fmt.Sprintf("%d / %d (%.1f%%)", n, total, 100*float64(n)/float64(total))
}

// writeJSON writes the report to path.
func writeJSON(path string, rep report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
