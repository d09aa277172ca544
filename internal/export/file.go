package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
)

// WriteFile writes items to path in format f, atomically: it writes a
// temporary file in the same directory, syncs it, renames it over path and
// syncs the directory, so that a crash never leaves half a file and readers
// see either the old file or the new one. On any error before the rename,
// including one from the iterator, the temporary file is removed and path is
// left untouched.
// A new file gets mode 0644; a replaced file keeps its mode.
func WriteFile(path string, f Format, items iter.Seq2[json.RawMessage, error], opt Options) (n int, err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return 0, fmt.Errorf("write %s: not a regular file", path)
		}
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close() // already failed; the first error is the one to report
			_ = os.Remove(tmp.Name())
		}
	}()

	n, err = Write(tmp, f, items, opt)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return n, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return n, fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return n, fmt.Errorf("write %s: close: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return n, fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		// The data is in place; only its durability across a power loss is
		// in doubt. Report it so that the caller does not claim success.
		return n, fmt.Errorf("write %s: sync directory: %w", path, err)
	}
	return n, nil
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
