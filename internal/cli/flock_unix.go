//go:build unix

package cli

import (
	"errors"
	"os"
	"syscall"
)

// flock takes an exclusive flock on f without waiting; false means another
// process holds it.
func flock(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

func isReadOnlyFS(err error) bool { return errors.Is(err, syscall.EROFS) }
