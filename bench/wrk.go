package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// wrkResult is what wrk/paths.lua reports in its WRKJSON line: latencies in microseconds.
type wrkResult struct {
	Requests   int64 `json:"requests"`
	DurationUS int64 `json:"duration_us"`
	Bytes      int64 `json:"bytes"`
	Errors     struct {
		Connect int64 `json:"connect"`
		Read    int64 `json:"read"`
		Write   int64 `json:"write"`
		Status  int64 `json:"status"` // responses other than 2xx and 3xx
		Timeout int64 `json:"timeout"`
	} `json:"errors"`
	P50US  int64   `json:"p50_us"`
	P90US  int64   `json:"p90_us"`
	P99US  int64   `json:"p99_us"`
	MaxUS  int64   `json:"max_us"`
	MeanUS float64 `json:"mean_us"`
}

// RPS returns the requests per second over the run.
func (w wrkResult) RPS() float64 {
	if w.DurationUS <= 0 {
		return 0
	}
	return float64(w.Requests) / (float64(w.DurationUS) / 1e6)
}

// ErrorCount returns every failed request: socket errors and non-2xx/3xx answers.
func (w wrkResult) ErrorCount() int64 {
	e := w.Errors
	return e.Connect + e.Read + e.Write + e.Status + e.Timeout
}

// wrkPrefix starts the line that wrk/paths.lua prints from done().
const wrkPrefix = "WRKJSON "

// parseWrkOutput returns the result in the last WRKJSON line of wrk's standard output.
func parseWrkOutput(out []byte) (wrkResult, error) {
	var line string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), wrkPrefix); ok {
			line = rest
		}
	}
	if line == "" {
		return wrkResult{}, errors.New("no WRKJSON line in wrk's output (did the script run?)")
	}
	var r wrkResult
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return wrkResult{}, fmt.Errorf("parse wrk result %q: %w", line, err)
	}
	if r.Requests < 0 || r.DurationUS <= 0 {
		return wrkResult{}, fmt.Errorf("wrk result %q: want a positive duration", line)
	}
	return r, nil
}

// wrkConfig is how the load generator is run.
type wrkConfig struct {
	Bin         string        // wrk executable
	Script      string        // wrk/paths.lua
	Threads     int           // -t
	Connections int           // -c
	Duration    time.Duration // -d, the bound of every run
}

// wrkArgs returns wrk's argv for a run against base that cycles through the paths listed in
// pathsFile, pausing pause before each request on each connection (0: as fast as possible).
func (c wrkConfig) args(base, pathsFile string, duration, pause time.Duration) []string {
	return []string{
		c.Bin,
		"-t", strconv.Itoa(c.Threads),
		"-c", strconv.Itoa(c.Connections),
		"-d", strconv.Itoa(max(1, int(duration.Round(time.Second)/time.Second))) + "s",
		"--timeout", "10s",
		"-s", c.Script,
		base, "--", pathsFile, strconv.FormatInt(pause.Milliseconds(), 10),
	}
}

// runWrk drives base with the paths for at most duration, stopping early (SIGINT, after which wrk
// still reports) when stop is closed; a nil stop runs the whole duration. The paths are written to
// a file in dir.
func runWrk(ctx context.Context, c wrkConfig, base string, paths []string, dir string, duration, pause time.Duration, stop <-chan struct{}) (wrkResult, error) {
	f, err := os.CreateTemp(dir, "paths-*.txt")
	if err != nil {
		return wrkResult{}, fmt.Errorf("write wrk paths: %w", err)
	}
	_, err = f.WriteString(strings.Join(paths, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return wrkResult{}, fmt.Errorf("write wrk paths: %w", err)
	}
	argv := c.args(base, f.Name(), duration, pause)
	cmd := exec.Command(argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return wrkResult{}, fmt.Errorf("start wrk: %w", err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	hard := time.NewTimer(duration + 30*time.Second) // wrk ignores -d when wedged
	defer hard.Stop()
	select {
	case err = <-waitErr:
	case <-stop:
		cmd.Process.Signal(syscall.SIGINT)
		err = <-waitErr
	case <-ctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-waitErr
		return wrkResult{}, fmt.Errorf("wrk interrupted: %w", context.Cause(ctx))
	case <-hard.C:
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-waitErr
		return wrkResult{}, fmt.Errorf("wrk did not finish within %v", duration+30*time.Second)
	}
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %w: %s", filepath.Base(c.Script), err, lastLine(stderr.String()+"\n"+stdout.String()))
	}
	return parseWrkOutput(stdout.Bytes())
}
