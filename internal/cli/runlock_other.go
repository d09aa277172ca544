//go:build !unix

package cli

// lockRun is a no-op where flock is not available: there, two processes
// must not run the same spider on one database at the same time.
func lockRun(dbPath string, id int64) (func(), error) { return func() {}, nil }
