package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// rssInterval is how often the child's resident set size is sampled.
const rssInterval = 200 * time.Millisecond

// rssSample is the resident set size of the child at a moment of its run.
type rssSample struct {
	At  time.Duration `json:"at_ns"`
	KiB int64         `json:"kib"`
}

// measurement is what the runner observed of one child process.
type measurement struct {
	Wall     time.Duration
	CPU      time.Duration // user + system, from rusage
	MaxRSS   int64         // KiB, from rusage
	RSS      []rssSample   // VmRSS every rssInterval
	TimedOut bool
	Err      error // exit status, start failure or cancellation; nil on a clean exit
}

// measure runs argv in dir in its own process group, logging its output to logPath, and kills
// the group when timeout passes or ctx ends.
func measure(ctx context.Context, argv []string, dir, logPath string, timeout time.Duration) measurement {
	logFile, err := os.Create(logPath)
	if err != nil {
		return measurement{Err: fmt.Errorf("create log: %w", err)}
	}
	defer logFile.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return measurement{Err: fmt.Errorf("start %s: %w", argv[0], err)}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var samples []rssSample
	wg.Go(func() { samples = sampleRSS(cmd.Process.Pid, start, done) })
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()

	var m measurement
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err = <-waitErr:
	case <-timer.C:
		m.TimedOut = true
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = <-waitErr
		err = fmt.Errorf("killed after the %v timeout: %w", timeout, err)
	case <-ctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-waitErr
		err = fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	m.Wall = time.Since(start)
	close(done)
	wg.Wait()
	// Kill any grandchild the tool left behind in its group; the group is gone on a clean exit.
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	m.RSS = samples
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		m.MaxRSS = ru.Maxrss // KiB on Linux
	}
	if err != nil {
		m.Err = fmt.Errorf("%w; log tail: %s", err, tail(logPath, 600))
	}
	return m
}

// sampleRSS reads VmRSS of pid every rssInterval until done is closed or the process is gone.
func sampleRSS(pid int, start time.Time, done <-chan struct{}) []rssSample {
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	var samples []rssSample
	t := time.NewTicker(rssInterval)
	defer t.Stop()
	for {
		if kib, err := readVmRSS(path); err == nil {
			samples = append(samples, rssSample{At: time.Since(start), KiB: kib})
		}
		select {
		case <-done:
			return samples
		case <-t.C:
		}
	}
}

// readVmRSS returns the VmRSS line of a /proc/PID/status file, in KiB.
func readVmRSS(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return parseVmRSS(b)
}

// parseVmRSS returns the value of the "VmRSS:   1234 kB" line of a /proc/PID/status file.
func parseVmRSS(status []byte) (int64, error) {
	kib, err := parseStatusKiB(status, "VmRSS")
	if errors.Is(err, errNoStatusField) {
		return 0, errors.New("no VmRSS line (zombie or kernel thread)")
	}
	return kib, err
}

// parseStatusKiB returns the value of the "FIELD:   1234 kB" line of a /proc/PID/status file.
func parseStatusKiB(status []byte, field string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), field+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("malformed %s line %q", field, sc.Text())
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("%s: %w", field, errNoStatusField)
}

// rssAt returns the last sample taken at or before fraction f of wall, or 0 if there is none.
func rssAt(samples []rssSample, wall time.Duration, f float64) int64 {
	at := time.Duration(f * float64(wall))
	var kib int64
	for _, s := range samples {
		if s.At > at {
			break
		}
		kib = s.KiB
	}
	return kib
}

// tail returns the last n bytes of the file at path, on one line.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log)"
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return strings.Join(strings.Fields(string(b)), " ")
}
