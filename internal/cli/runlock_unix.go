//go:build unix

package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// lockRun takes an exclusive lock on run id of the database at dbPath, so
// that two `trawl run` processes never crawl the same run at once (that
// would double every politeness limit). The lock is a flock on a sidecar
// file: the kernel releases it when the process dies, even by kill -9, so a
// resume never waits. The returned function releases it and removes the file.
func lockRun(dbPath string, id int64) (func(), error) {
	path := fmt.Sprintf("%s.run-%d.lock", dbPath, id)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock run %d: %w", id, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := "another process"
		if b, rerr := os.ReadFile(path); rerr == nil && len(strings.TrimSpace(string(b))) > 0 {
			holder = "process " + strings.TrimSpace(string(b))
		}
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, trawl.Errorf(trawl.ECONFLICT, "run %d is being crawled by %s; wait for it to finish, or start a separate run with --restart", id, holder)
		}
		return nil, fmt.Errorf("lock run %d: %w", id, err)
	}
	f.Truncate(0)
	f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	return func() {
		os.Remove(path)
		f.Close() // closing the file releases the lock
	}, nil
}
