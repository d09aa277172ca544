//go:build !unix

package cli

import "os"

// flock always succeeds where flock is not available: there, two processes
// must not run the same spider on one database at the same time.
func flock(f *os.File) (bool, error) { return true, nil }

func isReadOnlyFS(err error) bool { return false }
