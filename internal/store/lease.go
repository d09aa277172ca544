package store

import (
	"time"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// CheckLease returns the EINVALID error of ClaimHosts, RenewHosts and
// ReleaseHosts for arguments out of range (max and ttl are checked when
// positive values are required: pass 1 for the ones a method lacks).
func CheckLease(worker string, max int, ttl time.Duration) error {
	switch {
	case worker == "":
		return trawl.Errorf(trawl.EINVALID, "host lease: empty worker name")
	case max < 1:
		return trawl.Errorf(trawl.EINVALID, "host lease: max %d, want at least 1", max)
	case ttl <= 0:
		return trawl.Errorf(trawl.EINVALID, "host lease: ttl %v, want more than 0", ttl)
	}
	return nil
}
