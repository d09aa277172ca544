package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// tempMarker names the temporary files of WriteFile: .NAME.trawl-tmp-PID-RANDOM
// next to the target NAME, so that they are recognisable, hidden, and tied
// to the process that writes them (see RemoveStaleTemps).
const tempMarker = ".trawl-tmp-"

// WriteFile writes items to path in format f, atomically: it writes a
// temporary file in the same directory, syncs it, renames it over path and
// syncs the directory, so that a crash never leaves half a file and readers
// see either the old file or the new one. On any error before the rename,
// including one from the iterator, the temporary file is removed and path is
// left untouched. A process killed while writing leaves its temporary file
// behind; RemoveStaleTemps removes it.
//
// A new file gets mode 0644; a replaced file keeps its mode. A path that
// exists and is neither a regular file nor a directory (/dev/null, a named
// pipe, a terminal) is written directly, as there is nothing to replace.
//
// Errors name path once, and file system errors keep their cause for
// errors.Is (syscall.ENOSPC for a full disk).
func WriteFile(path string, f Format, items iter.Seq2[json.RawMessage, error], opt Options) (n int, err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		switch {
		case fi.IsDir():
			return 0, fmt.Errorf("write %s: is a directory", path)
		case !fi.Mode().IsRegular():
			return writeDevice(path, f, items, opt)
		}
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+base+tempMarker+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", path, pathless(err))
	}
	defer func() {
		if err != nil {
			_ = tmp.Close() // already failed; the first error is the one to report
			_ = os.Remove(tmp.Name())
		}
	}()

	n, err = Write(plainWriter{tmp}, f, items, opt)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return n, fmt.Errorf("write %s: %w", path, pathless(err))
	}
	if err := tmp.Sync(); err != nil {
		return n, fmt.Errorf("write %s: sync: %w", path, pathless(err))
	}
	if err := tmp.Close(); err != nil {
		return n, fmt.Errorf("write %s: close: %w", path, pathless(err))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return n, fmt.Errorf("write %s: %w", path, pathless(err))
	}
	if err := syncDir(dir); err != nil {
		// The data is in place; only its durability across a power loss is
		// in doubt. Report it so that the caller does not claim success.
		return n, fmt.Errorf("write %s: sync directory: %w", path, pathless(err))
	}
	return n, nil
}

// writeDevice writes items straight to a path that is not a regular file.
func writeDevice(path string, f Format, items iter.Seq2[json.RawMessage, error], opt Options) (int, error) {
	out, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", path, pathless(err))
	}
	n, err := Write(plainWriter{out}, f, items, opt)
	if cerr := out.Close(); err == nil && cerr != nil {
		err = pathless(cerr)
	}
	if err != nil {
		return n, fmt.Errorf("write %s: %w", path, err)
	}
	return n, nil
}

// RemoveStaleTemps removes the temporary files that WriteFile left next to
// path in processes that no longer run (killed while writing), and returns
// their names. Temporary files of a live process, which may still be
// writing, are left alone.
func RemoveStaleTemps(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("remove stale temporary files of %s: %w", path, pathless(err))
	}
	prefix := "." + base + tempMarker
	var removed []string
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("remove stale temporary file: %w", err)
		}
		removed = append(removed, name)
	}
	return removed, nil
}

// plainWriter writes to a file and reports its errors without the file's
// name: the temporary name means nothing to users, and WriteFile names the
// target itself.
type plainWriter struct{ f *os.File }

func (w plainWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	return n, pathless(err)
}

// pathless returns the cause of a *fs.PathError, whose message would name
// a path the caller names already.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// syncDir fsyncs a directory so that a rename in it is durable. Some
// platforms cannot sync directories; that is not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, fs.ErrPermission) {
		return err
	}
	return nil
}
