package crawl

import (
	"context"
	"time"

	"github.com/trawl-dev/trawl/internal/fetch"
	"github.com/trawl-dev/trawl/internal/robots"
	"github.com/trawl-dev/trawl/internal/store"
)

// RobotsStore is what SharedRobots needs of a store: its shared
// robots.txt records (store.Store.ClaimRobots and PutRobots).
type RobotsStore interface {
	ClaimRobots(ctx context.Context, origin, worker string, ttl time.Duration) (*store.RobotsClaim, error)
	PutRobots(ctx context.Context, origin, worker string, rec *store.RobotsRecord) error
}

var _ RobotsStore = store.Store(nil)

// SharedRobots returns st's robots.txt records as a robots.Shared, for
// robots.Config.Shared: every process that crawls with st then fetches
// each origin's robots.txt once between them. worker names this process's
// claims; "" means a name unique to the process (host name, pid and
// start time). The robots package cannot import store, hence this
// adapter here, where both are known.
func SharedRobots(st RobotsStore, worker string) robots.Shared {
	if worker == "" {
		worker = defaultWorker()
	}
	return sharedRobots{st: st, worker: worker}
}

// sharedRobots adapts a RobotsStore to robots.Shared.
type sharedRobots struct {
	st     RobotsStore
	worker string
}

// Claim implements robots.Shared.
func (s sharedRobots) Claim(ctx context.Context, origin string, ttl time.Duration) (*robots.Record, bool, error) {
	c, err := s.st.ClaimRobots(ctx, origin, s.worker, ttl)
	if err != nil {
		return nil, false, err
	}
	var rec *robots.Record
	if r := c.Record; r != nil {
		rec = &robots.Record{Status: r.Status, Class: fetch.Class(r.Class), Unreachable: r.Unreachable, Body: r.Body,
			FetchedAt: r.FetchedAt, Expires: r.Expires}
	}
	return rec, c.Claimed, nil
}

// Put implements robots.Shared.
func (s sharedRobots) Put(ctx context.Context, origin string, rec *robots.Record) error {
	var r *store.RobotsRecord
	if rec != nil {
		r = &store.RobotsRecord{Status: rec.Status, Class: string(rec.Class), Unreachable: rec.Unreachable, Body: rec.Body,
			FetchedAt: rec.FetchedAt, Expires: rec.Expires}
	}
	return s.st.PutRobots(ctx, origin, s.worker, r)
}
