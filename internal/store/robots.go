package store

import (
	"time"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// RobotsRecord is the robots.txt of one origin as a process fetched it,
// shared through the store with every process that crawls with it
// (ClaimRobots, PutRobots), so that robots.txt is fetched once per origin
// whatever the number of workers. The store keeps it as it is given:
// what the fields mean is the robots package's business.
//
// There is one row per origin ever fetched. A row past its Expires is
// overwritten by the next fetch, never deleted: no compaction job, since
// the table grows with the number of distinct origins only (at most one
// body of robots.MaxParse bytes each).
type RobotsRecord struct {
	// Status is the HTTP status the fetch got; 0 when it got none.
	Status int
	// Class is the fetch error class of a failed fetch; "" otherwise.
	Class string
	// Unreachable says robots.txt could not be fetched and no earlier
	// rules stand in: every URL of the origin is disallowed until Expires.
	Unreachable bool
	// Body is the robots.txt in force (as fetched, or an earlier one kept
	// after a failure), capped as the fetcher caps it; nil: none.
	Body []byte
	// FetchedAt is when it was fetched; Expires when it must be fetched
	// again.
	FetchedAt time.Time
	Expires   time.Time
}

// RobotsClaim is the answer of ClaimRobots.
type RobotsClaim struct {
	// Record is the origin's record: a fresh one when Claimed is false,
	// the expired one (or nil) when Claimed is true; nil while another
	// worker fetches.
	Record *RobotsRecord
	// Claimed says that the caller is to fetch robots.txt and store it
	// with PutRobots.
	Claimed bool
	// Holder and Until name the worker that holds the claim (the caller
	// when Claimed) and when the claim expires; empty when Record is
	// fresh.
	Holder string
	Until  time.Time
}

// CheckRobots returns the EINVALID error of ClaimRobots and PutRobots
// for arguments out of range (pass 1 as ttl for PutRobots).
func CheckRobots(origin, worker string, ttl time.Duration) error {
	switch {
	case origin == "":
		return trawl.Errorf(trawl.EINVALID, "robots record: empty origin")
	case worker == "":
		return trawl.Errorf(trawl.EINVALID, "robots record: empty worker name")
	case ttl <= 0:
		return trawl.Errorf(trawl.EINVALID, "robots record: claim ttl %v, want more than 0", ttl)
	}
	return nil
}
