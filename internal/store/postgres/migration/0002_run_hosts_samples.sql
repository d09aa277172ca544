-- Per-host statistics and progress samples of a run: SQLite's migration
-- 0008 on PostgreSQL (docs/storage.md, "Host statistics and progress
-- samples"). CommitPages writes all three tables in its transaction, after
-- the run's row (so under its lock): concurrent commits of one run add up.

-- Per-host statistics of a run (RunHosts). Counters are increments; lat00..
-- lat11 are the buckets of store.LatencyBounds. robots is the worst
-- store.RobotsState seen (0 not_checked .. 3 unreachable); in_flight,
-- delay_ms and down are the host's pace at its last commit.
CREATE TABLE run_hosts (
	run_id    bigint   NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	host      text     COLLATE "C" NOT NULL,
	requests  bigint   NOT NULL DEFAULT 0,
	s2xx      bigint   NOT NULL DEFAULT 0,
	s3xx      bigint   NOT NULL DEFAULT 0,
	s4xx      bigint   NOT NULL DEFAULT 0,
	s5xx      bigint   NOT NULL DEFAULT 0,
	snone     bigint   NOT NULL DEFAULT 0,
	lat00 bigint NOT NULL DEFAULT 0, lat01 bigint NOT NULL DEFAULT 0, lat02 bigint NOT NULL DEFAULT 0,
	lat03 bigint NOT NULL DEFAULT 0, lat04 bigint NOT NULL DEFAULT 0, lat05 bigint NOT NULL DEFAULT 0,
	lat06 bigint NOT NULL DEFAULT 0, lat07 bigint NOT NULL DEFAULT 0, lat08 bigint NOT NULL DEFAULT 0,
	lat09 bigint NOT NULL DEFAULT 0, lat10 bigint NOT NULL DEFAULT 0, lat11 bigint NOT NULL DEFAULT 0,
	throttled bigint   NOT NULL DEFAULT 0,
	robots    smallint NOT NULL DEFAULT 0,
	in_flight bigint   NOT NULL DEFAULT 0,
	delay_ms  bigint   NOT NULL DEFAULT 0,
	down      boolean  NOT NULL DEFAULT false,
	PRIMARY KEY (run_id, host)
);

-- Failed pages of a run by host and class; they add up to the run's
-- statistics' errors.
CREATE TABLE run_host_errors (
	run_id bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	host   text   COLLATE "C" NOT NULL,
	class  text   COLLATE "C" NOT NULL,
	pages  bigint NOT NULL,
	PRIMARY KEY (run_id, host, class)
);

-- Progress samples of a run (RunSamples): its cumulative statistics at
-- most once per sample_every_ms, which doubles whenever the run holds more
-- than store.MaxSamples samples (they are thinned to the new interval).
-- errors is the run's errors by class, as runs.errors.
CREATE TABLE run_samples (
	run_id bigint      NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	at     timestamptz NOT NULL,
	pages  bigint      NOT NULL,
	items  bigint      NOT NULL,
	bytes  bigint      NOT NULL,
	errors jsonb       NOT NULL DEFAULT '{}',
	PRIMARY KEY (run_id, at)
);
ALTER TABLE runs ADD COLUMN sample_every_ms bigint NOT NULL DEFAULT 1000;
