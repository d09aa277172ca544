package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trawl-dev/trawl/internal/store"
	"github.com/trawl-dev/trawl/internal/trawl"
)

// hostCounters are the counter columns of run_hosts, added to on conflict,
// in the order hostCounts returns them.
var hostCounters = func() []string {
	cols := []string{"requests", "s2xx", "s3xx", "s4xx", "s5xx", "snone"}
	for i := range store.LatencyBuckets {
		cols = append(cols, fmt.Sprintf("lat%02d", i))
	}
	return append(cols, "throttled")
}()

// hostCounts returns the counters of h in the order of hostCounters.
func hostCounts(h *store.HostStats) []int64 {
	out := []int64{h.Requests, h.Status.S2xx, h.Status.S3xx, h.Status.S4xx, h.Status.S5xx, h.Status.None}
	out = append(out, h.Latency[:]...)
	return append(out, h.Throttled)
}

// upsertHostsSQL adds the counters of a batch of hosts to their rows and
// replaces their pace; robots keeps the worst state. One statement for the
// whole batch, in host order (rows of one run are written under the run's
// row lock anyway, so the order only matters to a reader).
var upsertHostsSQL = func() string {
	var (
		cols  = append([]string{"host"}, hostCounters...)
		types = []string{"text"}
		set   []string
	)
	for _, c := range hostCounters {
		types = append(types, "bigint")
		set = append(set, c+" = run_hosts."+c+" + excluded."+c)
	}
	cols = append(cols, "robots", "in_flight", "delay_ms", "down")
	types = append(types, "smallint", "bigint", "bigint", "boolean")
	set = append(set, "robots = greatest(run_hosts.robots, excluded.robots)", "in_flight = excluded.in_flight",
		"delay_ms = excluded.delay_ms", "down = excluded.down")
	params := make([]string, len(cols))
	for i, t := range types {
		params[i] = fmt.Sprintf("$%d::%s[]", i+2, t)
	}
	list := strings.Join(cols, ", ")
	return `INSERT INTO run_hosts (run_id, ` + list + `) SELECT $1, ` + list +
		` FROM unnest(` + strings.Join(params, ", ") + `) AS u(` + list + `) ORDER BY host` +
		` ON CONFLICT (run_id, host) DO UPDATE SET ` + strings.Join(set, ", ")
}()

// robotsRank is the stored form of a RobotsState: its rank, worst highest.
func robotsRank(s store.RobotsState) int16 {
	if i := slices.Index(store.RobotsStates, s); i > 0 {
		return int16(i)
	}
	return 0
}

// hostErrors counts the failed pages of a commit by host and class.
type hostErrors map[string]map[string]int64

func (he hostErrors) add(host, class string, n int64) {
	if host == "" || class == "" || n == 0 {
		return
	}
	m := he[host]
	if m == nil {
		m = map[string]int64{}
		he[host] = m
	}
	m[class] += n
}

// writeHosts adds the host statistics of one commit: hosts' counters and
// pace, and the failed pages' classes by host (errs, to which it adds the
// hosts' own Errors). It is called after the run's row was updated, so the
// commits of one run write these rows one after the other. A host listed
// twice in hosts adds up, its last pace wins.
func writeHosts(ctx context.Context, tx pgx.Tx, runID int64, hosts []store.HostStats, errs hostErrors) error {
	merged := map[string]*store.HostStats{}
	for i := range hosts {
		h := &hosts[i]
		for class, n := range h.Errors {
			errs.add(h.Host, class, n)
		}
		m := merged[h.Host]
		if m == nil {
			c := *h
			merged[h.Host] = &c
			continue
		}
		m.Requests += h.Requests
		m.Status.S2xx += h.Status.S2xx
		m.Status.S3xx += h.Status.S3xx
		m.Status.S4xx += h.Status.S4xx
		m.Status.S5xx += h.Status.S5xx
		m.Status.None += h.Status.None
		for j, n := range h.Latency {
			m.Latency[j] += n
		}
		m.Throttled += h.Throttled
		if robotsRank(h.Robots) > robotsRank(m.Robots) {
			m.Robots = h.Robots
		}
		m.InFlight, m.Delay, m.Down = h.InFlight, h.Delay, h.Down
	}
	b := &pgx.Batch{}
	if len(merged) > 0 {
		n := len(merged)
		var (
			names    = make([]string, 0, n)
			counters = make([][]int64, len(hostCounters))
			robots   = make([]int16, 0, n)
			inFlight = make([]int64, 0, n)
			delay    = make([]int64, 0, n)
			down     = make([]bool, 0, n)
		)
		for _, name := range slices.Sorted(maps.Keys(merged)) {
			h := merged[name]
			names = append(names, name)
			for j, c := range hostCounts(h) {
				counters[j] = append(counters[j], c)
			}
			robots = append(robots, robotsRank(h.Robots))
			inFlight = append(inFlight, h.InFlight)
			delay = append(delay, h.Delay.Milliseconds())
			down = append(down, h.Down)
		}
		args := []any{runID, names}
		for _, c := range counters {
			args = append(args, c)
		}
		args = append(args, robots, inFlight, delay, down)
		b.Queue(upsertHostsSQL, args...)
	}
	// A host known only from its failed pages gets a row, its pace left
	// alone.
	var unpaced []string
	for host := range errs {
		if merged[host] == nil {
			unpaced = append(unpaced, host)
		}
	}
	if len(unpaced) > 0 {
		slices.Sort(unpaced)
		b.Queue(`INSERT INTO run_hosts (run_id, host) SELECT $1, host FROM unnest($2::text[]) AS u(host) ORDER BY host
			ON CONFLICT (run_id, host) DO NOTHING`, runID, unpaced)
	}
	if len(errs) > 0 {
		var (
			ehosts, classes []string
			pages           []int64
		)
		for _, host := range slices.Sorted(maps.Keys(errs)) {
			for _, class := range slices.Sorted(maps.Keys(errs[host])) {
				ehosts, classes, pages = append(ehosts, host), append(classes, class), append(pages, errs[host][class])
			}
		}
		b.Queue(`INSERT INTO run_host_errors (run_id, host, class, pages)
			SELECT $1, host, class, pages FROM unnest($2::text[], $3::text[], $4::bigint[]) AS u(host, class, pages) ORDER BY host, class
			ON CONFLICT (run_id, host, class) DO UPDATE SET pages = run_host_errors.pages + excluded.pages`,
			runID, ehosts, classes, pages)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write hosts: %w", err)
	}
	return nil
}

// RunHosts implements store.Store. One statement reads the hosts with
// their errors, so they are one snapshot.
func (db *DB) RunHosts(ctx context.Context, runID int64) ([]store.HostStats, error) {
	cols := "host, " + strings.Join(hostCounters, ", ") + ", robots, in_flight, delay_ms, down"
	rows, err := db.pool.Query(ctx, `SELECT `+cols+`,
			coalesce((SELECT jsonb_object_agg(e.class, e.pages) FROM run_host_errors e WHERE e.run_id = h.run_id AND e.host = h.host), '{}')
		FROM run_hosts h WHERE run_id = $1 ORDER BY host`, runID)
	if err != nil {
		return nil, fmt.Errorf("run %d hosts: %w", runID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.HostStats, error) {
		var (
			h       store.HostStats
			robots  int16
			delayMS int64
			errs    []byte
		)
		dst := []any{&h.Host, &h.Requests, &h.Status.S2xx, &h.Status.S3xx, &h.Status.S4xx, &h.Status.S5xx, &h.Status.None}
		for i := range h.Latency {
			dst = append(dst, &h.Latency[i])
		}
		dst = append(dst, &h.Throttled, &robots, &h.InFlight, &delayMS, &h.Down, &errs)
		if err := row.Scan(dst...); err != nil {
			return h, err
		}
		h.Robots = store.RobotsStates[min(max(int(robots), 0), len(store.RobotsStates)-1)]
		h.Delay = time.Duration(delayMS) * time.Millisecond
		if err := json.Unmarshal(errs, &h.Errors); err != nil {
			return h, fmt.Errorf("decode errors of host %s: %w", h.Host, err)
		}
		if h.Errors == nil {
			h.Errors = map[string]int64{}
		}
		return h, nil
	})
	if err != nil {
		return nil, fmt.Errorf("run %d hosts: %w", runID, err)
	}
	if len(out) == 0 {
		// A run's hosts go with it (ON DELETE CASCADE): none may mean no run.
		if _, err := findRun(ctx, db.pool, runID); err != nil {
			return nil, err
		}
		return []store.HostStats{}, nil
	}
	return out, nil
}

// sample records the run's statistics stats at now when mode asks for it,
// then thins the samples when the run holds more than store.MaxSamples of
// them. It is called after the run's row was updated: the commits of one
// run sample one after the other, each seeing the samples of those before.
func sample(ctx context.Context, tx pgx.Tx, runID int64, mode store.SampleMode, stats trawl.RunStats, now time.Time) error {
	if mode == store.SampleNone {
		return nil
	}
	var (
		every int64
		last  *time.Time
	)
	if err := tx.QueryRow(ctx, `SELECT sample_every_ms, (SELECT max(at) FROM run_samples WHERE run_id = $1) FROM runs WHERE id = $1`,
		runID).Scan(&every, &last); err != nil {
		return fmt.Errorf("read samples: %w", err)
	}
	if mode == store.SampleIfDue && last != nil && now.Sub(*last) < time.Duration(every)*time.Millisecond {
		return nil
	}
	if stats.Errors == nil {
		stats.Errors = map[string]int64{}
	}
	errs, err := json.Marshal(stats.Errors)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO run_samples (run_id, at, pages, items, bytes, errors) VALUES ($1, $2, $3, $4, $5, $6::jsonb)
		ON CONFLICT (run_id, at) DO UPDATE SET pages = excluded.pages, items = excluded.items, bytes = excluded.bytes, errors = excluded.errors`,
		runID, now, stats.Pages, stats.Items, stats.Bytes, string(errs)); err != nil {
		return fmt.Errorf("write sample: %w", err)
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM run_samples WHERE run_id = $1`, runID).Scan(&n); err != nil {
		return fmt.Errorf("count samples: %w", err)
	}
	if n <= store.MaxSamples {
		return nil
	}
	return thinSamples(ctx, tx, runID, every)
}

// thinSamples doubles the run's sampling interval (more than once if need
// be) and deletes the samples closer than it to the one kept before them,
// keeping the first and the last: at most store.MaxSamples stay, evenly
// spread, and the last is still the newest statistics.
func thinSamples(ctx context.Context, tx pgx.Tx, runID, every int64) error {
	rows, err := tx.Query(ctx, `SELECT at FROM run_samples WHERE run_id = $1 ORDER BY at`, runID)
	if err != nil {
		return fmt.Errorf("thin samples: %w", err)
	}
	ats, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return fmt.Errorf("thin samples: %w", err)
	}
	for {
		every *= 2
		interval := time.Duration(every) * time.Millisecond
		var drop []time.Time
		kept, prev := 1, ats[0]
		for i, at := range ats[1:] {
			if i == len(ats)-2 || at.Sub(prev) >= interval {
				kept++
				prev = at
				continue
			}
			drop = append(drop, at)
		}
		if kept > store.MaxSamples {
			continue
		}
		if _, err := tx.Exec(ctx, `DELETE FROM run_samples WHERE run_id = $1 AND at = ANY($2)`, runID, drop); err != nil {
			return fmt.Errorf("thin samples: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE runs SET sample_every_ms = $2 WHERE id = $1`, runID, every); err != nil {
			return fmt.Errorf("thin samples: %w", err)
		}
		return nil
	}
}

// RunSamples implements store.Store. One statement reads the run's
// interval and its samples, so they are one snapshot; a run without
// samples yields one row of NULL samples.
func (db *DB) RunSamples(ctx context.Context, runID int64) (*store.Samples, error) {
	rows, err := db.pool.Query(ctx, `SELECT r.sample_every_ms, s.at, coalesce(s.pages, 0), coalesce(s.items, 0), coalesce(s.bytes, 0), coalesce(s.errors, '{}')
		FROM runs r LEFT JOIN run_samples s ON s.run_id = r.id WHERE r.id = $1 ORDER BY s.at`, runID)
	if err != nil {
		return nil, fmt.Errorf("run %d samples: %w", runID, err)
	}
	defer rows.Close()
	var out *store.Samples
	for rows.Next() {
		var (
			every int64
			at    *time.Time
			s     store.Sample
			errs  []byte
		)
		if err := rows.Scan(&every, &at, &s.Pages, &s.Items, &s.Bytes, &errs); err != nil {
			return nil, fmt.Errorf("run %d samples: %w", runID, err)
		}
		if out == nil {
			out = &store.Samples{Interval: time.Duration(every) * time.Millisecond, Points: []store.Sample{}}
		}
		if at == nil {
			continue
		}
		s.At = at.UTC()
		if err := json.Unmarshal(errs, &s.Errors); err != nil {
			return nil, fmt.Errorf("run %d samples: decode errors: %w", runID, err)
		}
		if s.Errors == nil {
			s.Errors = map[string]int64{}
		}
		out.Points = append(out.Points, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("run %d samples: %w", runID, err)
	}
	if out == nil {
		return nil, trawl.Errorf(trawl.ENOTFOUND, "run %d not found", runID)
	}
	return out, nil
}
