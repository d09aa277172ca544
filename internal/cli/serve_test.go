package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trawl-dev/trawl/internal/store/sqlite"
)

// child is a trawl child process under test, its stderr kept as its log.
type child struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  bytes.Buffer
	done chan struct{} // closed once the process exited
	err  error         // cmd.Wait's, once done is closed
}

// startChild starts cmd, hands each line of its stderr to onLine, which
// returns an address once the process says it is ready and whether to
// keep the line in the log, and waits for that address. what names the
// process in failures.
func startChild(t *testing.T, what string, cmd *exec.Cmd, onLine func(line string) (addr string, keep bool)) (*child, string) {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			addr, keep := onLine(line)
			if keep {
				c.mu.Lock()
				c.log.WriteString(line + "\n")
				c.mu.Unlock()
			}
			if addr != "" {
				select {
				case ready <- addr:
				default:
				}
			}
		}
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.done
	})
	select {
	case a := <-ready:
		return c, a
	case <-c.done:
		t.Fatalf("%s exited before it was ready:\n%s", what, c.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s was not ready within 30s:\n%s", what, c.logs())
	}
	return nil, ""
}

func (c *child) logs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

// service is a `trawl serve` child process under test.
type service struct {
	*child
	base string // http://127.0.0.1:PORT
}

var servingAddr = regexp.MustCompile(`msg=serving addr=(\S+)`)

// startService starts `trawl serve` in dir on a free loopback port and
// waits until it listens.
func startService(t *testing.T, dir string, args ...string) *service {
	t.Helper()
	cmd := trawlCmd(t, dir, append([]string{"serve", "--addr", "127.0.0.1:0", "--shutdown-timeout", "5s"}, args...)...)
	c, addr := startChild(t, "trawl serve", cmd, func(line string) (string, bool) {
		if m := servingAddr.FindStringSubmatch(line); m != nil {
			return m[1], true
		}
		return "", true
	})
	return &service{child: c, base: "http://" + addr}
}

// call sends one request and returns the status and body.
func (s *service) call(t *testing.T, method, path, contentType, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// runJSON is the part of a run the tests read.
type runJSON struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Error  string `json:"error"`
	Stats  struct {
		Pages int64 `json:"pages"`
		Items int64 `json:"items"`
	} `json:"stats"`
}

func (s *service) startRun(t *testing.T, spider string) runJSON {
	t.Helper()
	code, body := s.call(t, "POST", "/v1/spiders/"+spider+"/runs", "", "")
	if code != http.StatusAccepted {
		t.Fatalf("start run: %d %s", code, body)
	}
	var r runJSON
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func (s *service) run(t *testing.T, id int64) runJSON {
	t.Helper()
	code, body := s.call(t, "GET", fmt.Sprintf("/v1/runs/%d", id), "", "")
	if code != http.StatusOK {
		t.Fatalf("get run %d: %d %s", id, code, body)
	}
	var r runJSON
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// waitRun polls the run until its status is final.
func (s *service) waitRun(t *testing.T, id int64, within time.Duration) runJSON {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := s.run(t, id)
		switch r.Status {
		case "succeeded", "failed", "canceled":
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d still %s after %v:\n%s", id, r.Status, within, s.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *service) putSpider(t *testing.T, name, yaml string) {
	t.Helper()
	code, body := s.call(t, "PUT", "/v1/spiders/"+name, "application/yaml", yaml)
	if code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("put spider: %d %s", code, body)
	}
}

func chainYAML(base string) string {
	return fmt.Sprintf(`name: chain
start_urls: ["%s/p/0"]
follow: [{css: a}]
items:
  - css: div.q
    fields:
      text: {regex: "(item .*)"}
politeness: {concurrency_per_host: 4}
`, base)
}

// TestServeKillResume kills `trawl serve` with SIGKILL in the middle of a
// run it crawls, starts it again, and checks that the run continues by
// itself to exactly the items of an uninterrupted run, without fetching a
// committed page again.
func TestServeKillResume(t *testing.T) {
	t.Parallel()
	const pages = 150
	site, killNow, hits := slowSite(t, pages, pages/2)
	dir := t.TempDir()
	svc := startService(t, dir, "--db", "svc.db", "--allow-private-networks")
	svc.putSpider(t, "chain", chainYAML(site.URL))
	run := svc.startRun(t, "chain")
	select {
	case <-killNow:
	case <-time.After(60 * time.Second):
		t.Fatalf("the run did not reach the kill point in 60s:\n%s", svc.logs())
	}
	if err := svc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-svc.done

	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "svc.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	killed, err := db.Run(context.Background(), run.ID)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	committed := killed.Stats.Pages
	if committed == 0 || committed >= pages || killed.Status != "running" {
		t.Fatalf("run after the kill: %s with %d pages committed; the kill did not land mid-run", killed.Status, committed)
	}
	before := hits()

	svc = startService(t, dir, "--db", "svc.db", "--allow-private-networks")
	end := svc.waitRun(t, run.ID, 60*time.Second)
	if end.Status != "succeeded" || end.Stats.Pages != pages || end.Stats.Items != 2*pages {
		t.Errorf("resumed run ended %s with %d pages and %d items, want succeeded, %d, %d (%s)",
			end.Status, end.Stats.Pages, end.Stats.Items, pages, 2*pages, end.Error)
	}
	if got, want := int64(hits()-before), pages-committed; got != want {
		t.Errorf("after the restart the site served %d pages, want exactly the %d not committed", got, want)
	}
	code, body := svc.call(t, "GET", "/v1/datasets/chain/items.jsonl", "", "")
	if code != http.StatusOK {
		t.Fatalf("items.jsonl: %d %s", code, body)
	}
	seen := map[string]bool{}
	for _, l := range lines(string(body)) {
		if seen[l] {
			t.Errorf("duplicate item %s", l)
		}
		seen[l] = true
	}
	if len(seen) != 2*pages {
		t.Errorf("dataset has %d items, want %d", len(seen), 2*pages)
	}
}

// TestServeGracefulShutdown sends SIGTERM mid-run: the service stops
// within its grace period with exit 0, leaves the run resumable, and the
// next start finishes it.
func TestServeGracefulShutdown(t *testing.T) {
	t.Parallel()
	const pages = 150
	site, stopNow, _ := slowSite(t, pages, pages/3)
	dir := t.TempDir()
	svc := startService(t, dir, "--db", "svc.db", "--allow-private-networks")
	svc.putSpider(t, "chain", chainYAML(site.URL))
	run := svc.startRun(t, "chain")
	<-stopNow
	start := time.Now()
	svc.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-svc.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not stop within 10s of SIGTERM:\n%s", svc.logs())
	}
	if code := svc.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0:\n%s", code, svc.logs())
	}
	t.Logf("stopped in %v", time.Since(start))
	if !strings.Contains(svc.logs(), "shutting down") {
		t.Errorf("no shutdown in the log:\n%s", svc.logs())
	}
	svc = startService(t, dir, "--db", "svc.db", "--allow-private-networks")
	if end := svc.waitRun(t, run.ID, 60*time.Second); end.Status != "succeeded" || end.Stats.Items != 2*pages {
		t.Errorf("run after restart: %+v, want succeeded with %d items", end, 2*pages)
	}
}

// TestServeRefusals: a non-loopback address needs a token, and one
// database takes one service.
func TestServeRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := runMain(t, dir, nil, "serve", "--addr", "0.0.0.0:0")
	if r.code != 2 || !strings.Contains(r.stderr, "without a token") {
		t.Errorf("serve on 0.0.0.0 without a token: exit %d, %q", r.code, r.stderr)
	}
	startService(t, dir, "--db", "one.db")
	r = runMain(t, dir, nil, "serve", "--db", "one.db", "--addr", "127.0.0.1:0")
	if r.code != 1 || !strings.Contains(r.stderr, "another trawl serve is using") {
		t.Errorf("second serve on one database: exit %d, %q", r.code, r.stderr)
	}
}

// TestServeRefusesPrivateNetworks: without --allow-private-networks, runs
// of the service reach neither a loopback IP nor a name that resolves to
// one, and the run says why. (Redirects and DNS answers into private
// ranges are refused by the same dial-time guard: internal/fetch's guard
// tests.)
func TestServeRefusesPrivateNetworks(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	hits := 0
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		fmt.Fprint(w, `<title>internal admin</title>`)
	}))
	t.Cleanup(site.Close)
	port := site.URL[strings.LastIndex(site.URL, ":")+1:]
	svc := startService(t, t.TempDir(), "--db", "svc.db")
	for _, start := range []string{site.URL + "/", "http://localhost:" + port + "/"} {
		svc.putSpider(t, "probe", fmt.Sprintf("name: probe\nstart_urls: [%q]\nitems: [{fields: {title: title}}]\n", start))
		run := svc.startRun(t, "probe")
		end := svc.waitRun(t, run.ID, 30*time.Second)
		if end.Status != "failed" {
			t.Errorf("run of %s ended %s, want failed", start, end.Status)
		}
		code, body := svc.call(t, "GET", fmt.Sprintf("/v1/runs/%d", run.ID), "", "")
		if code != http.StatusOK || !strings.Contains(string(body), "blocked_network") {
			t.Errorf("run of %s: %d %s; want its errors to name blocked_network", start, code, body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 0 {
		t.Errorf("the loopback site got %d requests, want 0", hits)
	}
}

// TestServeMetrics checks /metrics after a run: the engine's page and
// item counters, the run gauges read from the database, and the queue.
func TestServeMetrics(t *testing.T) {
	t.Parallel()
	const pages = 20
	site, _, _ := slowSite(t, pages, pages)
	svc := startService(t, t.TempDir(), "--db", "svc.db", "--allow-private-networks")
	svc.putSpider(t, "chain", chainYAML(site.URL))
	run := svc.startRun(t, "chain")
	if end := svc.waitRun(t, run.ID, 30*time.Second); end.Status != "succeeded" {
		t.Fatalf("run ended %s", end.Status)
	}
	wants := []string{
		`trawl_pages_total{class="2xx"} 20`,
		`trawl_items_total 40`,
		`trawl_runs{status="succeeded"} 1`,
		`trawl_queue_depth 0`,
		`trawl_frontier_queued_pages 0`,
		`trawl_jobs_processed_total{kind="trawl_run",outcome="completed"} 1`,
		`trawl_fetch_duration_seconds_count 20`,
		`go_goroutines`,
	}
	// The job is counted when River hears back from the worker, a moment
	// after the run's row says succeeded.
	var body []byte
	for deadline := time.Now().Add(5 * time.Second); ; {
		var code int
		code, body = svc.call(t, "GET", "/metrics", "", "")
		if code != http.StatusOK {
			t.Fatalf("/metrics: %d", code)
		}
		if !strings.Contains(string(body), wants[5]) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		break
	}
	for _, want := range wants {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
	if code, body := svc.call(t, "GET", "/readyz", "", ""); code != http.StatusOK {
		t.Errorf("/readyz = %d %s", code, body)
	}
}

// TestServeWithCLIClients drives a real `trawl serve` with trawl's own
// clients, as a user away from the server would: apply a folder of
// spiders, start a run and watch it to the end, then query its items.
func TestServeWithCLIClients(t *testing.T) {
	t.Parallel()
	const pages = 30
	site, _, _ := slowSite(t, pages, pages)
	dir := t.TempDir()
	writeFile(t, dir, "trawl.yaml", "token: s3cret\nmax-runs: 1\n")
	svc := startService(t, dir, "--db", "svc.db", "--allow-private-networks", "--config", "trawl.yaml")
	// The config file's token is in force.
	if code, _ := svc.call(t, "GET", "/v1/spiders", "", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /v1/spiders without the token from the config file: %d, want 401", code)
	}
	env := map[string]string{"TRAWL_SERVER": svc.base, "TRAWL_TOKEN": "s3cret"}
	spiders := filepath.Join(dir, "spiders")
	if err := os.Mkdir(spiders, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, spiders, "chain.yaml", chainYAML(site.URL))

	if r := runMain(t, dir, env, "apply", "spiders"); r.code != 0 || !strings.Contains(r.stdout+r.stderr, "chain") {
		t.Fatalf("apply: %+v", r)
	}
	r := runMain(t, dir, env, "runs", "start", "chain", "--watch")
	if r.code != 0 || !strings.Contains(r.stderr, "run 1 finished: 30 pages, 60 items, 0 errors") {
		t.Fatalf("runs start --watch: %+v\n%s", r, svc.logs())
	}
	r = runMain(t, dir, env, "items", "chain", "--where", "text=item 7-b", "--format", "jsonl")
	if r.code != 0 || strings.TrimSpace(r.stdout) == "" || len(lines(r.stdout)) != 1 || !strings.Contains(r.stdout, `"item 7-b"`) {
		t.Errorf("items --where text=item 7-b: %+v", r)
	}
	r = runMain(t, dir, env, "runs", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "succeeded") {
		t.Errorf("runs list: %+v", r)
	}
	// A local `trawl run` of the same spider on the same file shows in the
	// service's history.
	writeFile(t, dir, "chain.yaml", chainYAML(site.URL))
	if r := runMain(t, dir, nil, "run", "chain.yaml", "--db", "svc.db", "--quiet"); r.code != 0 {
		t.Fatalf("trawl run on the service's database: %+v", r)
	}
	req, _ := http.NewRequest("GET", svc.base+"/v1/runs?spider=chain", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var list struct {
		Runs []runJSON `json:"runs"`
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list.Runs) != 2 {
		t.Errorf("runs of chain after a service run and a trawl run: %s (%v), want 2", body, err)
	}
}

// TestServiceCancelsATrawlRun: a run that `trawl run` crawls is canceled
// through the service's API on the same database, and the CLI process
// stops within 2 s with the run canceled.
func TestServiceCancelsATrawlRun(t *testing.T) {
	t.Parallel()
	const pages = 400
	site, reached, _ := slowSite(t, pages, 20)
	dir := t.TempDir()
	chainSpider(t, dir, site.URL)
	cmd := trawlCmd(t, dir, "run", "s.yaml", "--db", "shared.db", "--quiet")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case <-reached:
	case <-time.After(60 * time.Second):
		t.Fatal("trawl run did not get going within 60s")
	}
	svc := startService(t, dir, "--db", "shared.db")
	code, body := svc.call(t, "POST", "/v1/runs/1/cancel", "", "")
	if code != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", code, body)
	}
	asked := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("trawl run still crawling 5s after the cancel:\n%s", stderr.String())
	}
	if took := time.Since(asked); took > 2*time.Second {
		t.Errorf("trawl run stopped %v after the cancel, want within 2s", took)
	}
	if got := cmd.ProcessState.ExitCode(); got != 130 || !strings.Contains(stderr.String(), "run 1 canceled") {
		t.Errorf("trawl run after a cancel: exit %d\n%s", got, stderr.String())
	}
	if r := svc.run(t, 1); r.Status != "canceled" {
		t.Errorf("run 1 is %s after the cancel, want canceled", r.Status)
	}
}
