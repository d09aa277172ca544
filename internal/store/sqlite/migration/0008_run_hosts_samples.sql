-- Per-host statistics of a run (RunHosts), added to by every CommitPages of
-- the run: counters are increments, so the commits of several workers add
-- up. lat00..lat11 are the buckets of store.LatencyBounds. robots is the
-- worst store.RobotsState seen (0 not_checked .. 3 unreachable); in_flight,
-- delay_ms and down are the host's pace at its last commit.
CREATE TABLE run_hosts (
	run_id    INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	host      TEXT    NOT NULL,
	requests  INTEGER NOT NULL DEFAULT 0,
	s2xx      INTEGER NOT NULL DEFAULT 0,
	s3xx      INTEGER NOT NULL DEFAULT 0,
	s4xx      INTEGER NOT NULL DEFAULT 0,
	s5xx      INTEGER NOT NULL DEFAULT 0,
	snone     INTEGER NOT NULL DEFAULT 0,
	lat00 INTEGER NOT NULL DEFAULT 0, lat01 INTEGER NOT NULL DEFAULT 0, lat02 INTEGER NOT NULL DEFAULT 0,
	lat03 INTEGER NOT NULL DEFAULT 0, lat04 INTEGER NOT NULL DEFAULT 0, lat05 INTEGER NOT NULL DEFAULT 0,
	lat06 INTEGER NOT NULL DEFAULT 0, lat07 INTEGER NOT NULL DEFAULT 0, lat08 INTEGER NOT NULL DEFAULT 0,
	lat09 INTEGER NOT NULL DEFAULT 0, lat10 INTEGER NOT NULL DEFAULT 0, lat11 INTEGER NOT NULL DEFAULT 0,
	throttled INTEGER NOT NULL DEFAULT 0,
	robots    INTEGER NOT NULL DEFAULT 0,
	in_flight INTEGER NOT NULL DEFAULT 0,
	delay_ms  INTEGER NOT NULL DEFAULT 0,
	down      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (run_id, host)
) WITHOUT ROWID;

-- Failed pages of a run by host and class; they add up to the run's
-- statistics' errors.
CREATE TABLE run_host_errors (
	run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	host   TEXT    NOT NULL,
	class  TEXT    NOT NULL,
	pages  INTEGER NOT NULL,
	PRIMARY KEY (run_id, host, class)
) WITHOUT ROWID;

-- Progress samples of a run (RunSamples): its cumulative statistics at
-- most once per sample_every_ms, which doubles whenever the run holds more
-- than store.MaxSamples samples (they are thinned to the new interval).
CREATE TABLE run_samples (
	run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	at     INTEGER NOT NULL,
	pages  INTEGER NOT NULL,
	items  INTEGER NOT NULL,
	bytes  INTEGER NOT NULL,
	errors TEXT    NOT NULL DEFAULT '{}',
	PRIMARY KEY (run_id, at)
) WITHOUT ROWID;
ALTER TABLE runs ADD COLUMN sample_every_ms INTEGER NOT NULL DEFAULT 1000;
