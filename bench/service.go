package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/trawl-dev/trawl/bench/simweb"
)

// Service scenarios measure `trawl serve` instead of comparing crawlers.
const (
	scenarioItemsAPI     = "items-api"
	scenarioExport       = "export"
	scenarioServiceCrawl = "service-crawl"
)

// isServiceScenario reports whether name is one of the service scenarios.
func isServiceScenario(name string) bool {
	switch name {
	case scenarioItemsAPI, scenarioExport, scenarioServiceCrawl:
		return true
	}
	return false
}

// serviceOptions are the knobs of the service scenarios.
type serviceOptions struct {
	Items      int           `json:"items"`       // the large dataset
	SmallItems int           `json:"small_items"` // the small dataset, for the comparison
	PerPage    int           `json:"per_page"`    // quotes per page of the generator
	CacheDir   string        `json:"cache_dir"`
	Wrk        wrkConfig     `json:"wrk"`
	LoadPause  time.Duration `json:"load_pause_ns"` // pause per request per connection of the read load during a crawl
	ServeArgs  []string      `json:"serve_args"`
	Sqlite3    string        `json:"sqlite3"`
}

// quotesConfig returns the generator configuration of a dataset of n items.
func (s serviceOptions) quotesConfig(n int) (simweb.QuotesConfig, error) {
	if n < s.PerPage || n%s.PerPage != 0 {
		return simweb.QuotesConfig{}, fmt.Errorf("%d items: want a multiple of -per-page %d", n, s.PerPage)
	}
	return simweb.QuotesConfig{Pages: n / s.PerPage, PerPage: s.PerPage, Seed: 1}.WithDefaults(), nil
}

// serviceReport is the JSON output of a service scenario.
type serviceReport struct {
	Scenario string          `json:"scenario"`
	Started  time.Time       `json:"started"`
	Machine  machine         `json:"machine"`
	Options  serviceOptions  `json:"options"`
	Datasets []generated     `json:"datasets,omitempty"`
	Latency  []latencyResult `json:"latency,omitempty"`
	Export   []exportResult  `json:"export,omitempty"`
	Crawls   []crawlResult   `json:"crawls,omitempty"`
}

// runService runs a service scenario and prints its table.
func runService(ctx context.Context, o options, stdout, progress io.Writer) (serviceReport, error) {
	rep := serviceReport{Scenario: o.scenario.Name, Started: time.Now().UTC(), Machine: thisMachine(), Options: o.service}
	work, err := os.MkdirTemp("", "trawl-bench-")
	if err != nil {
		return rep, fmt.Errorf("create work directory: %w", err)
	}
	if o.keep {
		fmt.Fprintf(progress, "work directory: %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	tt := &trawlTool{src: o.trawlSrc, bin: o.trawlBin}
	fmt.Fprintln(progress, "preparing trawl")
	if err := tt.Prepare(ctx, work); err != nil {
		return rep, err
	}
	if o.scenario.Name != scenarioServiceCrawl || o.service.LoadPause >= 0 {
		if _, err := exec.LookPath(o.service.Wrk.Bin); err != nil {
			return rep, fmt.Errorf("wrk not found (apt-get install -y wrk): %w", err)
		}
	}
	schema, err := schemaKey(o.trawlSrc)
	if err != nil {
		return rep, err
	}
	dataset := func(n int) (generated, error) {
		cfg, err := o.service.quotesConfig(n)
		if err != nil {
			return generated{}, err
		}
		g, err := ensureDataset(ctx, tt.bin, o.service.CacheDir, schema, cfg, o.timeout, progress)
		if err == nil {
			rep.Datasets = append(rep.Datasets, g)
		}
		return g, err
	}
	switch o.scenario.Name {
	case scenarioItemsAPI:
		var dbs []generated
		for _, n := range []int{o.service.SmallItems, o.service.Items} {
			g, err := dataset(n)
			if err != nil {
				return rep, err
			}
			dbs = append(dbs, g)
		}
		rep.Latency, err = measureLatency(ctx, o, tt.bin, work, dbs, progress)
		if err != nil {
			return rep, err
		}
		return rep, writeLatencyTable(stdout, rep.Latency)
	case scenarioExport:
		g, err := dataset(o.service.Items)
		if err != nil {
			return rep, err
		}
		rep.Export, err = measureExport(ctx, o, tt.bin, work, g, progress)
		if err != nil {
			return rep, err
		}
		return rep, writeExportTable(stdout, rep.Export)
	case scenarioServiceCrawl:
		g, err := dataset(o.service.SmallItems)
		if err != nil {
			return rep, err
		}
		rep.Crawls, err = measureServiceCrawl(ctx, o, tt.bin, work, g, progress)
		if err != nil {
			return rep, err
		}
		return rep, writeCrawlTable(stdout, rep.Crawls)
	}
	return rep, fmt.Errorf("unknown service scenario %q", o.scenario.Name)
}

// query is one kind of items request the latency scenario measures.
type query struct {
	Name  string
	Paths func(cfg simweb.QuotesConfig) []string // cycled through by wrk
}

// itemsPath returns the items URL path of the quotes dataset with the query q.
func itemsPath(q url.Values) string {
	return "/v1/datasets/" + quotesDataset + "/items?" + q.Encode()
}

// latencyQueries are the measured requests: a page of 50, unfiltered; filtered by author (2,000
// names, as properly written), exact and case-insensitive; and filtered by a tag (a list field).
// Filtered requests cycle through every value, so the load is not one hot row range.
func latencyQueries() []query {
	return []query{
		{"page of 50, unfiltered", func(simweb.QuotesConfig) []string {
			return []string{itemsPath(url.Values{"limit": {"50"}})}
		}},
		{"author=NAME (exact)", func(c simweb.QuotesConfig) []string {
			p := make([]string, c.Authors)
			for a := range p {
				p[a] = itemsPath(url.Values{"limit": {"50"}, "author": {simweb.AuthorName(a)}})
			}
			return p
		}},
		{"author=name&match=fold", func(c simweb.QuotesConfig) []string {
			p := make([]string, c.Authors)
			for a := range p {
				p[a] = itemsPath(url.Values{"limit": {"50"}, "match": {"fold"}, "author": {strings.ToLower(simweb.AuthorName(a))}})
			}
			return p
		}},
		{"tags=TAG (list field)", func(c simweb.QuotesConfig) []string {
			p := make([]string, c.Tags)
			for t := range p {
				p[t] = itemsPath(url.Values{"limit": {"50"}, "tags": {simweb.TagName(t)}})
			}
			return p
		}},
	}
}

// latencyResult is one wrk run of one query against one dataset.
type latencyResult struct {
	Query string    `json:"query"`
	Items int       `json:"items"`
	Run   int       `json:"run"`
	Wrk   wrkResult `json:"wrk"`
	// FirstPage is the number of items the first path of the query returned (sanity check).
	FirstPage int `json:"first_page"`
}

// measureLatency serves each dataset in turn and drives every query at it with wrk, -runs times.
func measureLatency(ctx context.Context, o options, bin, work string, dbs []generated, progress io.Writer) ([]latencyResult, error) {
	var out []latencyResult
	for run := 1; run <= o.runs; run++ {
		for _, g := range dbs {
			cfg, err := o.service.quotesConfig(g.Items)
			if err != nil {
				return out, err
			}
			srv, err := startServe(ctx, bin, g.Path, filepath.Join(work, fmt.Sprintf("serve-latency-%d-%d.log", g.Items, run)), o.service.ServeArgs, 2*time.Minute)
			if err != nil {
				return out, err
			}
			rs, err := latencyOnServer(ctx, o, srv, cfg, g.Items, run, work, progress)
			out = append(out, rs...)
			if serr := srv.stop(); err == nil {
				err = serr
			}
			if err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

func latencyOnServer(ctx context.Context, o options, srv *serveProc, cfg simweb.QuotesConfig, items, run int, work string, progress io.Writer) ([]latencyResult, error) {
	c := newAPIClient(srv.base)
	n, err := c.datasetItems(ctx, quotesDataset)
	if err != nil {
		return nil, err
	}
	if n != int64(items) {
		return nil, fmt.Errorf("dataset %s holds %d items, want %d", quotesDataset, n, items)
	}
	var out []latencyResult
	for _, q := range latencyQueries() {
		paths := q.Paths(cfg)
		page, err := c.itemsPage(ctx, paths[0])
		if err != nil {
			return out, err
		}
		if len(page) == 0 {
			return out, fmt.Errorf("%s: GET %s returned no items", q.Name, paths[0])
		}
		// A short warm-up, not measured: the first requests load SQLite's page cache.
		if _, err := runWrk(ctx, o.service.Wrk, srv.base, paths, work, time.Second, 0, nil); err != nil {
			return out, err
		}
		w, err := runWrk(ctx, o.service.Wrk, srv.base, paths, work, o.service.Wrk.Duration, 0, nil)
		if err != nil {
			return out, err
		}
		if w.ErrorCount() > 0 {
			return out, fmt.Errorf("%s at %d items: %d failed requests (%+v)", q.Name, items, w.ErrorCount(), w.Errors)
		}
		fmt.Fprintf(progress, "%s, %d items: p50 %.2f ms, p99 %.2f ms, %.0f req/s\n", q.Name, items,
			float64(w.P50US)/1000, float64(w.P99US)/1000, w.RPS())
		out = append(out, latencyResult{Query: q.Name, Items: items, Run: run, Wrk: w, FirstPage: len(page)})
	}
	return out, nil
}

// writeLatencyTable prints one row per query and run: each dataset's p50, p99 and requests/s side
// by side, and the ratio of the p99s.
func writeLatencyTable(w io.Writer, rs []latencyResult) error {
	type key struct {
		q   string
		run int
	}
	var order []key
	byKey := map[key][]latencyResult{}
	for _, r := range rs {
		k := key{r.Query, r.Run}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "query\trun\titems\tp50 (ms)\tp99 (ms)\treq/s\titems\tp50 (ms)\tp99 (ms)\treq/s\tp99 ratio")
	for _, k := range order {
		row := byKey[k]
		fmt.Fprintf(tw, "%s\t%d", k.q, k.run)
		for _, r := range row {
			fmt.Fprintf(tw, "\t%d\t%.2f\t%.2f\t%.0f", r.Items, float64(r.Wrk.P50US)/1000, float64(r.Wrk.P99US)/1000, r.Wrk.RPS())
		}
		if len(row) == 2 && row[0].Wrk.P99US > 0 {
			fmt.Fprintf(tw, "\t%.2f", float64(row[1].Wrk.P99US)/float64(row[0].Wrk.P99US))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// exportResult is one full export of the dataset, by the server or by sqlite3.
type exportResult struct {
	Tool       string  `json:"tool"` // "trawl serve" or "sqlite3 -json"
	Format     string  `json:"format"`
	Run        int     `json:"run"`
	Bytes      int64   `json:"bytes"`
	Lines      int64   `json:"lines"`
	Seconds    float64 `json:"seconds"`
	MBPerSec   float64 `json:"mb_per_s"` // 10^6 bytes
	ItemsPerS  float64 `json:"items_per_s"`
	HWMBefore  int64   `json:"hwm_before_kib,omitempty"` // the server's VmHWM before the export
	HWMAfter   int64   `json:"hwm_after_kib"`            // after it (sqlite3: rusage max RSS)
	RSSSamples []int64 `json:"rss_kib,omitempty"`        // the server's VmRSS every 250 ms
}

// countingWriter counts bytes and newlines.
type countingWriter struct{ bytes, lines int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.bytes += int64(len(p))
	c.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// measureExport exports the whole dataset as CSV and JSONL from a fresh server each (so VmHWM is
// the export's peak), and reads the same rows with sqlite3 -json from the same file, interleaved.
func measureExport(ctx context.Context, o options, bin, work string, g generated, progress io.Writer) ([]exportResult, error) {
	var out []exportResult
	for run := 1; run <= o.runs; run++ {
		for _, format := range []string{"csv", "jsonl"} {
			r, err := exportFromServer(ctx, o, bin, work, g, format, run)
			if err != nil {
				return out, err
			}
			fmt.Fprintf(progress, "trawl serve items.%s: %.1f MB in %.2fs, %.1f MB/s, VmHWM %d→%d MiB\n", format,
				float64(r.Bytes)/1e6, r.Seconds, r.MBPerSec, r.HWMBefore>>10, r.HWMAfter>>10)
			out = append(out, r)
		}
		r, err := exportWithSqlite3(ctx, o, g, run)
		if err != nil {
			return out, err
		}
		fmt.Fprintf(progress, "sqlite3 -json: %.1f MB in %.2fs, %.1f MB/s, max RSS %d MiB\n",
			float64(r.Bytes)/1e6, r.Seconds, r.MBPerSec, r.HWMAfter>>10)
		out = append(out, r)
	}
	return out, nil
}

func exportFromServer(ctx context.Context, o options, bin, work string, g generated, format string, run int) (exportResult, error) {
	r := exportResult{Tool: "trawl serve", Format: format, Run: run}
	srv, err := startServe(ctx, bin, g.Path, filepath.Join(work, fmt.Sprintf("serve-export-%s-%d.log", format, run)), o.service.ServeArgs, 2*time.Minute)
	if err != nil {
		return r, err
	}
	defer srv.stop()
	if r.HWMBefore, err = srv.statusKiB("VmHWM"); err != nil {
		return r, err
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			if kib, err := srv.statusKiB("VmRSS"); err == nil {
				r.RSSSamples = append(r.RSSSamples, kib)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.base+"/v1/datasets/"+quotesDataset+"/items."+format, nil)
	if err != nil {
		close(done)
		wg.Wait()
		return r, err
	}
	var cw countingWriter
	start := time.Now()
	resp, err := (&http.Client{Timeout: o.timeout}).Do(req)
	if err == nil {
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET items.%s: status %d", format, resp.StatusCode)
		} else {
			_, err = io.Copy(&cw, resp.Body)
		}
		resp.Body.Close()
	}
	elapsed := time.Since(start)
	close(done)
	wg.Wait()
	if err != nil {
		return r, fmt.Errorf("export %s: %w", format, err)
	}
	if r.HWMAfter, err = srv.statusKiB("VmHWM"); err != nil {
		return r, err
	}
	want := int64(g.Items)
	if format == "csv" {
		want++ // the header
	}
	if cw.lines != want {
		return r, fmt.Errorf("items.%s: %d lines, want %d", format, cw.lines, want)
	}
	r.fill(cw, elapsed, g.Items)
	return r, srv.stop()
}

func (r *exportResult) fill(cw countingWriter, elapsed time.Duration, items int) {
	r.Bytes, r.Lines, r.Seconds = cw.bytes, cw.lines, elapsed.Seconds()
	r.MBPerSec = float64(cw.bytes) / 1e6 / elapsed.Seconds()
	r.ItemsPerS = float64(items) / elapsed.Seconds()
}

// exportWithSqlite3 reads the data of every item of the dataset, in id order, with Debian's
// sqlite3 in JSON mode from the same file, read-only.
func exportWithSqlite3(ctx context.Context, o options, g generated, run int) (exportResult, error) {
	r := exportResult{Tool: "sqlite3 -json", Format: "json", Run: run}
	cmd := exec.CommandContext(ctx, o.service.Sqlite3, "-readonly", "-json", g.Path,
		"SELECT data FROM items WHERE dataset = '"+quotesDataset+"' ORDER BY id")
	var cw countingWriter
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &cw, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return r, fmt.Errorf("sqlite3: %w: %s", err, lastLine(stderr.String()+"\n"))
	}
	elapsed := time.Since(start)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.HWMAfter = ru.Maxrss
	}
	if cw.lines < int64(g.Items) {
		return r, fmt.Errorf("sqlite3 -json: %d lines, want at least %d", cw.lines, g.Items)
	}
	r.fill(cw, elapsed, g.Items)
	return r, nil
}

// writeExportTable prints one row per export.
func writeExportTable(w io.Writer, rs []exportResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "tool\tformat\trun\tMB\tseconds\tMB/s\titems/s\tpeak RSS before (MiB)\tpeak RSS (MiB)")
	for _, r := range rs {
		before := "-"
		if r.HWMBefore > 0 {
			before = strconv.FormatInt(r.HWMBefore>>10, 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.2f\t%.1f\t%.0f\t%s\t%d\n", r.Tool, r.Format, r.Run,
			float64(r.Bytes)/1e6, r.Seconds, r.MBPerSec, r.ItemsPerS, before, r.HWMAfter>>10)
	}
	return tw.Flush()
}

// crawlResult is one crawl of the many-hosts web, by `trawl run` or through the service.
type crawlResult struct {
	Mode          string     `json:"mode"` // "trawl run", "service", "service + read load"
	Run           int        `json:"run"`
	WallSeconds   float64    `json:"wall_s"`
	FloorSeconds  float64    `json:"floor_s"`
	Status        string     `json:"status"`
	PagesFetched  int        `json:"pages_fetched"`
	PagesExpected int        `json:"pages_expected"`
	Duplicates    int        `json:"duplicates"`
	Requests      int        `json:"requests"`
	RunSeconds    float64    `json:"run_s,omitempty"` // started_at to finished_at, as the service reports
	Load          *wrkResult `json:"load,omitempty"`
}

// measureServiceCrawl crawls the scenario's web with `trawl run`, then through the service
// (PUT spider, POST run, poll until final), then through the service while wrk reads items at a
// steady pace, -runs times, interleaved. Each crawl gets a fresh web; each service crawl a fresh
// server on a copy of the small quotes dataset, so the read load has items to read.
func measureServiceCrawl(ctx context.Context, o options, bin, work string, small generated, progress io.Writer) ([]crawlResult, error) {
	var out []crawlResult
	modes := []string{"trawl run", "service", "service + read load"}
	if o.service.LoadPause < 0 {
		modes = modes[:2]
	}
	for run := 1; run <= o.runs; run++ {
		for _, mode := range modes {
			dir := filepath.Join(work, fmt.Sprintf("crawl-%s-%d", strings.ReplaceAll(mode, " ", "-"), run))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return out, fmt.Errorf("create run directory: %w", err)
			}
			web, err := simweb.Start(o.scenario.Web)
			if err != nil {
				return out, fmt.Errorf("start simulated web: %w", err)
			}
			var r crawlResult
			if mode == "trawl run" {
				r, err = crawlWithRun(ctx, o, bin, dir, web)
			} else {
				r, err = crawlWithService(ctx, o, bin, dir, web, small, mode != "service")
			}
			if cerr := web.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return out, fmt.Errorf("%s run %d: %w", mode, run, err)
			}
			st := web.Stats()
			r.Mode, r.Run = mode, run
			r.PagesFetched, r.PagesExpected = st.PagesServed, st.ExpectedPages
			r.Duplicates, r.Requests = st.Duplicates, st.Requests
			r.FloorSeconds = st.InjectedDelay.Seconds() / float64(o.scenario.slots(web.Config().Hosts))
			fmt.Fprintf(progress, "%s run %d: %s in %.2fs (floor %.2fs), %d/%d pages\n", mode, run, r.Status,
				r.WallSeconds, r.FloorSeconds, r.PagesFetched, r.PagesExpected)
			out = append(out, r)
		}
	}
	return out, nil
}

func crawlWithRun(ctx context.Context, o options, bin, dir string, web *simweb.Web) (crawlResult, error) {
	var r crawlResult
	spiderPath := filepath.Join(dir, "bench.yaml")
	if err := os.WriteFile(spiderPath, []byte(trawlSpider(web, o.scenario.PerHost)), 0o644); err != nil {
		return r, fmt.Errorf("write spider: %w", err)
	}
	argv := []string{bin, "run", spiderPath, "--db", filepath.Join(dir, "bench.db"),
		"--concurrency", strconv.Itoa(o.scenario.Concurrency), "--quiet"}
	m := measure(ctx, argv, dir, filepath.Join(dir, "trawl.log"), o.timeout)
	r.WallSeconds = m.Wall.Seconds()
	r.Status = statusOK
	if m.Err != nil {
		return r, m.Err
	}
	return r, nil
}

func crawlWithService(ctx context.Context, o options, bin, dir string, web *simweb.Web, small generated, load bool) (crawlResult, error) {
	var r crawlResult
	db := filepath.Join(dir, "service.db")
	if err := copyFile(small.Path, db); err != nil {
		return r, err
	}
	// The same global concurrency as `trawl run --concurrency`; the simulated web is on loopback.
	args := append([]string{"--allow-private-networks", "--concurrency", strconv.Itoa(o.scenario.Concurrency)}, o.service.ServeArgs...)
	srv, err := startServe(ctx, bin, db, filepath.Join(dir, "serve.log"), args, time.Minute)
	if err != nil {
		return r, err
	}
	defer srv.stop()
	c := newAPIClient(srv.base)
	if err := c.putSpider(ctx, "bench", trawlSpider(web, o.scenario.PerHost)); err != nil {
		return r, err
	}
	var (
		stop    = make(chan struct{})
		loadRes wrkResult
		loadErr error
		wg      sync.WaitGroup
	)
	if load {
		cfg, err := o.service.quotesConfig(small.Items)
		if err != nil {
			return r, err
		}
		var paths []string
		for _, q := range latencyQueries() {
			paths = append(paths, q.Paths(cfg)...)
		}
		wg.Go(func() {
			loadRes, loadErr = runWrk(ctx, o.service.Wrk, srv.base, paths, dir, o.timeout, o.service.LoadPause, stop)
		})
		time.Sleep(500 * time.Millisecond) // let the load reach its pace before the crawl starts
	}
	waitCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	start := time.Now()
	run, err := c.startRun(waitCtx, "bench")
	var end time.Time
	if err == nil {
		run, end, err = c.waitRun(waitCtx, run.ID, 20*time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if err != nil {
		return r, err
	}
	r.WallSeconds = end.Sub(start).Seconds()
	r.Status = run.Status
	if run.StartedAt != nil && run.FinishedAt != nil {
		r.RunSeconds = run.FinishedAt.Sub(*run.StartedAt).Seconds()
	}
	if load {
		if loadErr != nil {
			return r, loadErr
		}
		if loadRes.ErrorCount() > 0 {
			return r, fmt.Errorf("read load: %d failed requests (%+v)", loadRes.ErrorCount(), loadRes.Errors)
		}
		r.Load = &loadRes
	}
	if run.Status != "succeeded" {
		return r, fmt.Errorf("run %d ended %s: %s", run.ID, run.Status, run.Error)
	}
	return r, srv.stop()
}

// copyFile copies src to dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy dataset: %w", err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("copy dataset: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy dataset: %w", err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy dataset: %w", err)
	}
	return nil
}

// writeCrawlTable prints one row per crawl, each service crawl's wall against the median of the
// `trawl run` crawls, then one row per mode with its median wall.
func writeCrawlTable(w io.Writer, rs []crawlResult) error {
	var modes []string
	walls := map[string][]float64{}
	for _, r := range rs {
		if _, ok := walls[r.Mode]; !ok {
			modes = append(modes, r.Mode)
		}
		walls[r.Mode] = append(walls[r.Mode], r.WallSeconds)
	}
	base := median(walls["trawl run"])
	vsBase := func(mode string, wall float64) string {
		if base <= 0 || mode == "trawl run" {
			return "-"
		}
		return fmt.Sprintf("%+.1f%%", 100*(wall/base-1))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "mode\trun\twall (s)\tvs trawl run (median)\twall / floor\tpages\tduplicates\trun started→finished (s)\tread load req/s\tload p99 (ms)")
	for _, r := range rs {
		runS, rps, p99 := "-", "-", "-"
		if r.RunSeconds > 0 {
			runS = fmt.Sprintf("%.2f", r.RunSeconds)
		}
		if r.Load != nil {
			rps, p99 = fmt.Sprintf("%.0f", r.Load.RPS()), fmt.Sprintf("%.2f", float64(r.Load.P99US)/1000)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%s\t%.3f\t%d/%d\t%d\t%s\t%s\t%s\n", r.Mode, r.Run, r.WallSeconds, vsBase(r.Mode, r.WallSeconds),
			r.WallSeconds/r.FloorSeconds, r.PagesFetched, r.PagesExpected, r.Duplicates, runS, rps, p99)
	}
	for _, m := range modes {
		med := median(walls[m])
		fmt.Fprintf(tw, "%s\tmedian\t%.2f\t%s\t\t\t\t\t\t\n", m, med, vsBase(m, med))
	}
	return tw.Flush()
}

// median returns the median of xs, or 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// writeServiceJSON writes the report as indented JSON to path.
func writeServiceJSON(path string, rep serviceReport) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
