package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serveProc is a running `trawl serve` child process.
type serveProc struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT
	logPath string
	exited  chan struct{}
	waitErr error
}

// startServe runs `trawl serve --db db --addr 127.0.0.1:PORT extra...` in its own process group,
// logging to logPath, and waits until GET /healthz answers 200 (at most readyTimeout).
func startServe(ctx context.Context, bin, db, logPath string, extra []string, readyTimeout time.Duration) (*serveProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create serve log: %w", err)
	}
	defer logFile.Close()
	argv := append([]string{bin, "serve", "--db", db, "--addr", addr}, extra...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", shortCommand(argv), err)
	}
	s := &serveProc{cmd: cmd, base: "http://" + addr, logPath: logPath, exited: make(chan struct{})}
	go func() { s.waitErr = cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(readyTimeout)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(s.base + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("trawl serve exited before it was ready: %v; log tail: %s", s.waitErr, tail(logPath, 600))
		case <-ctx.Done():
			s.stop()
			return nil, fmt.Errorf("waiting for trawl serve: %w", context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("trawl serve not ready after %v; log tail: %s", readyTimeout, tail(logPath, 600))
		}
	}
}

// pid returns the server's process id.
func (s *serveProc) pid() int { return s.cmd.Process.Pid }

// statusKiB reads a "Name: N kB" field (VmRSS, VmHWM) of the server's /proc status.
func (s *serveProc) statusKiB(field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.pid()) + "/status")
	if err != nil {
		return 0, err
	}
	return parseStatusKiB(b, field)
}

// stop asks the server to shut down (SIGTERM) and kills its group if it has not exited within
// 30 seconds. It returns an error when the server did not exit cleanly.
func (s *serveProc) stop() error {
	select {
	case <-s.exited:
		return s.waitErr
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		syscall.Kill(-s.pid(), syscall.SIGKILL)
		<-s.exited
		return fmt.Errorf("trawl serve ignored SIGTERM for 30s; killed")
	}
	syscall.Kill(-s.pid(), syscall.SIGKILL) // anything it left in its group
	if s.waitErr != nil {
		return fmt.Errorf("trawl serve: %w; log tail: %s", s.waitErr, tail(s.logPath, 600))
	}
	return nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// apiClient speaks the parts of trawl's HTTP API v1 that the bench needs.
type apiClient struct {
	base string
	http *http.Client
}

func newAPIClient(base string) *apiClient {
	return &apiClient{base: base, http: &http.Client{Timeout: 60 * time.Second}}
}

// apiRun is the part of a run's JSON the bench reads.
type apiRun struct {
	ID         int64           `json:"id"`
	Status     string          `json:"status"`
	Error      string          `json:"error"`
	Stats      json.RawMessage `json:"stats"`
	StartedAt  *time.Time      `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at"`
}

// final reports whether the run's status is final.
func (r apiRun) final() bool {
	switch r.Status {
	case "succeeded", "failed", "canceled":
		return true
	}
	return false
}

// do sends a request and decodes a JSON answer with the wanted status into out (nil: discard).
func (c *apiClient) do(ctx context.Context, method, path, contentType string, body io.Reader, want []int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	ok := false
	for _, w := range want {
		ok = ok || resp.StatusCode == w
	}
	if !ok {
		msg := strings.Join(strings.Fields(string(b)), " ")
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, msg)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// putSpider stores the spider YAML source under name.
func (c *apiClient) putSpider(ctx context.Context, name, source string) error {
	return c.do(ctx, http.MethodPut, "/v1/spiders/"+url.PathEscape(name), "application/yaml",
		strings.NewReader(source), []int{http.StatusOK, http.StatusCreated}, nil)
}

// startRun queues a run of the stored spider name.
func (c *apiClient) startRun(ctx context.Context, name string) (apiRun, error) {
	var r apiRun
	err := c.do(ctx, http.MethodPost, "/v1/spiders/"+url.PathEscape(name)+"/runs", "", nil, []int{http.StatusAccepted}, &r)
	return r, err
}

// getRun returns run id.
func (c *apiClient) getRun(ctx context.Context, id int64) (apiRun, error) {
	var r apiRun
	err := c.do(ctx, http.MethodGet, "/v1/runs/"+strconv.FormatInt(id, 10), "", nil, []int{http.StatusOK}, &r)
	return r, err
}

// waitRun polls run id every interval until its status is final or ctx ends, and returns it with
// the time at which the final status was first seen.
func (c *apiClient) waitRun(ctx context.Context, id int64, interval time.Duration) (apiRun, time.Time, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		r, err := c.getRun(ctx, id)
		if err != nil {
			return r, time.Time{}, err
		}
		if r.final() {
			return r, time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return r, time.Time{}, fmt.Errorf("waiting for run %d (status %s): %w", id, r.Status, context.Cause(ctx))
		case <-t.C:
		}
	}
}

// datasetItems returns the item count of dataset name from GET /v1/datasets.
func (c *apiClient) datasetItems(ctx context.Context, name string) (int64, error) {
	var ds struct {
		Datasets []struct {
			Name  string `json:"name"`
			Items int64  `json:"items"`
		} `json:"datasets"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/datasets", "", nil, []int{http.StatusOK}, &ds); err != nil {
		return 0, err
	}
	for _, d := range ds.Datasets {
		if d.Name == name {
			return d.Items, nil
		}
	}
	return 0, fmt.Errorf("GET /v1/datasets: no dataset %q", name)
}

// itemsPage returns the items of one GET of path (a /v1/datasets/NAME/items URL with its query).
func (c *apiClient) itemsPage(ctx context.Context, path string) ([]map[string]any, error) {
	var page struct {
		Items []map[string]any `json:"items"`
	}
	err := c.do(ctx, http.MethodGet, path, "", nil, []int{http.StatusOK}, &page)
	return page.Items, err
}

// errNoStatusField is returned by parseStatusKiB when the field is missing.
var errNoStatusField = errors.New("field not in /proc status")
