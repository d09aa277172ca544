package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trawl-dev/trawl/internal/store"
)

// upsertHostSQL adds a host's counters to its row and replaces its pace;
// robots keeps the worst state. One statement per host and commit, with no
// read: the commit path stays as cheap as a page's done mark.
var upsertHostSQL = func() string {
	cols := []string{"requests", "s2xx", "s3xx", "s4xx", "s5xx", "snone"}
	for i := range store.LatencyBuckets {
		cols = append(cols, fmt.Sprintf("lat%02d", i))
	}
	cols = append(cols, "throttled")
	var set []string
	for _, c := range cols {
		set = append(set, c+" = "+c+" + excluded."+c)
	}
	all := append([]string{"run_id", "host"}, cols...)
	all = append(all, "robots", "in_flight", "delay_ms", "down")
	set = append(set, "robots = max(robots, excluded.robots)", "in_flight = excluded.in_flight",
		"delay_ms = excluded.delay_ms", "down = excluded.down")
	return "INSERT INTO run_hosts (" + strings.Join(all, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(all)), ", ") + ") ON CONFLICT (run_id, host) DO UPDATE SET " +
		strings.Join(set, ", ")
}()

// upsertHostKeepSQL is upsertHostSQL for a host known only from its failed
// pages in this commit: its pace is not replaced.
const upsertHostKeepSQL = `INSERT INTO run_hosts (run_id, host) VALUES (?, ?) ON CONFLICT (run_id, host) DO NOTHING`

const upsertHostErrorSQL = `INSERT INTO run_host_errors (run_id, host, class, pages) VALUES (?, ?, ?, ?)
	ON CONFLICT (run_id, host, class) DO UPDATE SET pages = pages + excluded.pages`

// robotsRank is the stored form of a RobotsState: its rank, worst highest.
func robotsRank(s store.RobotsState) int {
	if i := slices.Index(store.RobotsStates, s); i > 0 {
		return i
	}
	return 0
}

// hostErrors counts the failed pages of a commit by host and class.
type hostErrors map[string]map[string]int64

func (he hostErrors) add(host, class string) {
	if host == "" || class == "" {
		return
	}
	m := he[host]
	if m == nil {
		m = map[string]int64{}
		he[host] = m
	}
	m[class]++
}

// writeHosts adds the host statistics of one commit: hosts' counters and
// pace, and the failed pages' classes by host.
func (c *committer) writeHosts(ctx context.Context, hosts []store.HostStats, errs hostErrors) error {
	paced := make(map[string]bool, len(hosts))
	for i := range hosts {
		h := &hosts[i]
		args := []any{c.runID, h.Host, h.Requests, h.Status.S2xx, h.Status.S3xx, h.Status.S4xx, h.Status.S5xx, h.Status.None}
		for _, n := range h.Latency {
			args = append(args, n)
		}
		args = append(args, h.Throttled, robotsRank(h.Robots), h.InFlight, h.Delay.Milliseconds(), h.Down)
		if _, err := c.upsertHost.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("host %s: %w", h.Host, err)
		}
		paced[h.Host] = true
		for class, n := range h.Errors {
			if _, err := c.hostError.ExecContext(ctx, c.runID, h.Host, class, n); err != nil {
				return fmt.Errorf("host %s: %w", h.Host, err)
			}
		}
	}
	for host, m := range errs {
		if !paced[host] {
			if _, err := c.upsertHostKeep.ExecContext(ctx, c.runID, host); err != nil {
				return fmt.Errorf("host %s: %w", host, err)
			}
		}
		for class, n := range m {
			if _, err := c.hostError.ExecContext(ctx, c.runID, host, class, n); err != nil {
				return fmt.Errorf("host %s: %w", host, err)
			}
		}
	}
	return nil
}

// RunHosts implements store.Store.
func (db *DB) RunHosts(ctx context.Context, runID int64) ([]store.HostStats, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("run %d hosts: %w", runID, err)
	}
	defer tx.Rollback()
	if err := runExists(ctx, tx, runID); err != nil {
		return nil, err
	}
	cols := "host, requests, s2xx, s3xx, s4xx, s5xx, snone"
	for i := range store.LatencyBuckets {
		cols += fmt.Sprintf(", lat%02d", i)
	}
	cols += ", throttled, robots, in_flight, delay_ms, down"
	rows, err := tx.QueryContext(ctx, `SELECT `+cols+` FROM run_hosts WHERE run_id = ? ORDER BY host`, runID)
	if err != nil {
		return nil, fmt.Errorf("run %d hosts: %w", runID, err)
	}
	defer rows.Close()
	out := []store.HostStats{}
	index := map[string]int{}
	for rows.Next() {
		var (
			h       store.HostStats
			robots  int
			delayMS int64
		)
		dst := []any{&h.Host, &h.Requests, &h.Status.S2xx, &h.Status.S3xx, &h.Status.S4xx, &h.Status.S5xx, &h.Status.None}
		for i := range h.Latency {
			dst = append(dst, &h.Latency[i])
		}
		dst = append(dst, &h.Throttled, &robots, &h.InFlight, &delayMS, &h.Down)
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("run %d hosts: %w", runID, err)
		}
		h.Robots = store.RobotsStates[min(max(robots, 0), len(store.RobotsStates)-1)]
		h.Delay = time.Duration(delayMS) * time.Millisecond
		h.Errors = map[string]int64{}
		index[h.Host] = len(out)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("run %d hosts: %w", runID, err)
	}
	rows.Close()
	erows, err := tx.QueryContext(ctx, `SELECT host, class, pages FROM run_host_errors WHERE run_id = ?`, runID)
	if err != nil {
		return nil, fmt.Errorf("run %d host errors: %w", runID, err)
	}
	defer erows.Close()
	for erows.Next() {
		var (
			host, class string
			n           int64
		)
		if err := erows.Scan(&host, &class, &n); err != nil {
			return nil, fmt.Errorf("run %d host errors: %w", runID, err)
		}
		if i, ok := index[host]; ok {
			out[i].Errors[class] = n
		}
	}
	return out, erows.Err()
}
