package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// checkWritable refuses a database file, or the directory that must hold
// its -wal and -shm files, that is read-only, before SQLite touches either.
// It goes by the permission bits as well as by what the OS allows, so that
// a file marked read-only stays untouched even for root.
func checkWritable(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return checkDirWritable(path)
	case err != nil:
		return trawl.Errorf(trawl.EINVALID, "cannot open database %s: %v", path, err)
	case fi.IsDir():
		return trawl.Errorf(trawl.EINVALID, "database %s is a directory: name a file in it instead", path)
	case fi.Mode().Perm()&0o222 == 0:
		return readOnlyError(path, "the file is read-only")
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return readOnlyError(path, "the file is read-only")
	} else if err != nil {
		return trawl.Errorf(trawl.EINVALID, "cannot open database %s: %v", path, err)
	}
	f.Close()
	if _, err := os.Stat(path + "-wal"); err == nil {
		return nil // SQLite need not create anything in the directory
	}
	return checkDirWritable(path)
}

func checkDirWritable(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return trawl.Errorf(trawl.EINVALID, "cannot open database %s: its directory %s does not exist; create it first", path, dir)
	}
	if fi.Mode().Perm()&0o222 == 0 {
		return readOnlyError(path, fmt.Sprintf("its directory %s is read-only", dir))
	}
	return nil
}

func readOnlyError(path, why string) error {
	return trawl.Errorf(trawl.EINVALID, "database %s cannot be written: %s; trawl needs to write the file and to create %s-wal and %s-shm beside it: make both writable (chmod u+w) or use another database path",
		path, why, filepath.Base(path), filepath.Base(path))
}

// openError turns what SQLite says about an unusable file into an error
// that names the path and says what to do.
func openError(path string, err error) error {
	if trawl.ErrorCode(err) != trawl.EINTERNAL {
		return err // already says it
	}
	switch sqliteCode(err) {
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM:
		return readOnlyError(path, "SQLite opened it read-only")
	case sqlite3.SQLITE_CANTOPEN:
		return trawl.Errorf(trawl.EINVALID, "cannot open database %s (%v): check that this user may write the file and its directory, where SQLite creates %s-wal and %s-shm",
			path, err, filepath.Base(path), filepath.Base(path))
	case sqlite3.SQLITE_NOTADB:
		return trawl.Errorf(trawl.EINVALID, "%s is not a SQLite database: use a new file or a trawl database instead", path)
	}
	return fmt.Errorf("open sqlite %s: %w", path, writeError(err))
}

// writeError marks err as store.ErrDiskFull when the disk, or the
// database's size limit, is full: SQLite reports both as SQLITE_FULL (it
// maps ENOSPC to it), and an ENOSPC may also come from the OS directly.
func writeError(err error) error {
	if err == nil || errors.Is(err, store.ErrDiskFull) {
		return err
	}
	if sqliteCode(err) == sqlite3.SQLITE_FULL || errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: %w", store.ErrDiskFull, err)
	}
	return err
}

// sqliteCode returns the primary SQLite result code of err, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// missingSidecars lists the -wal and -shm files of path that do not exist
// yet, so that a failed Open can remove the ones it created.
func missingSidecars(path string) []string {
	var out []string
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			out = append(out, p)
		}
	}
	return out
}

// removeSidecars removes the files that a failed Open created. A -wal file
// with content is left alone: it could only be another process's, whose
// data it holds.
func removeSidecars(paths []string) {
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil || strings.HasSuffix(p, "-wal") && fi.Size() > 0 {
			continue
		}
		os.Remove(p)
	}
}
