package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// datasetLock keeps a second process off a dataset of a database while a
// `trawl run` writes it. Two runs storing one dataset at once would take
// each other's items (items are keyed per dataset, and the newer run claims
// them), so the lock is per (database, dataset), not per run.
//
// The lock is a flock on a sidecar file next to the database, which the
// kernel releases when its holder dies, even by kill -9, so that the next
// start never waits. The file also records what its holder is doing (its
// PID, its run, the output it is writing): a second process names the
// holder, and the next holder learns what a killed one left unfinished.
type datasetLock struct {
	f    *os.File // nil when the lock could not be taken (see lockDataset)
	path string
	// prev is what the previous holder recorded and never cleared: it died
	// (or kept the state on purpose) in the middle of that.
	prev lockState
	keep bool
}

// lockState is what a holder of a datasetLock is doing.
type lockState struct {
	PID    int
	Run    int64
	Output string // absolute path of the -o file being written; "" when none
}

// lockPath is the sidecar lock file of dataset in the database at dbPath.
// The name keeps the .db.run-*.lock shape that .gitignore ignores.
func lockPath(dbPath, dataset string) string {
	return dbPath + ".run-" + unsafeName.ReplaceAllString(dataset, "_") + ".lock"
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_.-]`)

// lockDataset takes the lock of dataset in the database at dbPath, or
// returns ECONFLICT naming the process that holds it. Where the lock file
// cannot be created (a read-only directory), it returns an inert lock: the
// database then fails the first write with its own, clearer message.
func lockDataset(dbPath, dataset string) (*datasetLock, error) {
	path := lockPath(dbPath, dataset)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if errors.Is(err, fs.ErrPermission) || isReadOnlyFS(err) {
			return &datasetLock{path: path}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("lock dataset %s: %w", dataset, err)
		}
		locked, err := flock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock dataset %s: %w", dataset, err)
		}
		if !locked {
			holder := readLockState(f)
			f.Close()
			who := "another process"
			if holder.PID > 0 {
				who = "process " + strconv.Itoa(holder.PID)
			}
			if holder.Run > 0 {
				who += fmt.Sprintf(" (run %d)", holder.Run)
			}
			return nil, trawl.Errorf(trawl.ECONFLICT,
				"dataset %q of %s is being written by %s; wait for it to finish (two runs writing one dataset at once would take each other's items)",
				dataset, dbPath, who)
		}
		// The previous holder removes the file when it lets go. If it did
		// so between our open and our flock, we hold a lock on a file that
		// no longer has this name, and a third process could lock a new
		// one: start again.
		fi, err1 := f.Stat()
		cur, err2 := os.Stat(path)
		if err1 != nil || err2 != nil || !os.SameFile(fi, cur) {
			f.Close()
			continue
		}
		return &datasetLock{f: f, path: path, prev: readLockState(f)}, nil
	}
}

// record replaces what the lock file says the holder is doing. A nil lock
// (a store without a file to lock beside) records nothing.
func (l *datasetLock) record(s lockState) {
	if l == nil || l.f == nil {
		return
	}
	s.PID = os.Getpid()
	text := fmt.Sprintf("pid %d\nrun %d\n", s.PID, s.Run)
	if s.Output != "" {
		text += "output " + s.Output + "\n"
	}
	// Best effort: the state only improves messages; the lock holds anyway.
	_ = l.f.Truncate(0)
	_, _ = l.f.WriteAt([]byte(text), 0)
}

// keepState makes release leave the recorded state for the next holder.
func (l *datasetLock) keepState() {
	if l != nil {
		l.keep = true
	}
}

// release lets go of the lock and, unless keepState was called, removes
// the lock file.
func (l *datasetLock) release() {
	if l.f == nil {
		return
	}
	if !l.keep {
		os.Remove(l.path)
	}
	l.f.Close() // closing the file releases the lock
}

// readLockState parses what a holder recorded; unknown lines are ignored.
func readLockState(f *os.File) lockState {
	var s lockState
	b := make([]byte, 4096)
	n, _ := f.ReadAt(b, 0)
	for line := range strings.SplitSeq(string(b[:n]), "\n") {
		key, val, _ := strings.Cut(line, " ")
		switch key {
		case "pid":
			s.PID, _ = strconv.Atoi(val)
		case "run":
			s.Run, _ = strconv.ParseInt(val, 10, 64)
		case "output":
			s.Output = val
		}
	}
	return s
}
