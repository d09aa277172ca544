-- Runs: one execution of a spider. stats is a JSON trawl.RunStats.
CREATE TABLE runs (
	id          INTEGER PRIMARY KEY,
	spider      TEXT    NOT NULL,
	spec_hash   TEXT    NOT NULL,
	spec        TEXT    NOT NULL,
	status      TEXT    NOT NULL,
	error       TEXT    NOT NULL DEFAULT '',
	stats       TEXT    NOT NULL DEFAULT '{}',
	created_at  INTEGER NOT NULL,
	started_at  INTEGER,
	finished_at INTEGER
);
CREATE INDEX runs_spider ON runs (spider, status, id);

-- The frontier: one row per (run, normalized URL). state: 0 queued, 1 done.
-- The unique key is the dedup: a URL is fetched at most once per run.
CREATE TABLE pages (
	id          INTEGER PRIMARY KEY,
	run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	url         TEXT    NOT NULL,
	host        TEXT    NOT NULL,
	depth       INTEGER NOT NULL,
	state       INTEGER NOT NULL DEFAULT 0,
	status      INTEGER NOT NULL DEFAULT 0,
	error_class TEXT    NOT NULL DEFAULT '',
	error       TEXT    NOT NULL DEFAULT '', -- what went wrong, for people
	attempts    INTEGER NOT NULL DEFAULT 0,
	fetched_at  INTEGER,
	UNIQUE (run_id, url)
);
-- Partial index: only queued pages, so it stays small as the run progresses.
CREATE INDEX pages_queued ON pages (run_id, host, id) WHERE state = 0;
-- Failed pages, for the run summary and reports; few, so the index is small.
CREATE INDEX pages_failed ON pages (run_id, id) WHERE error_class != '';

CREATE TABLE datasets (
	name       TEXT    PRIMARY KEY,
	columns    TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

-- Items keep their first rowid on update, so exports keep first-seen order.
CREATE TABLE items (
	id         INTEGER PRIMARY KEY,
	dataset    TEXT    NOT NULL REFERENCES datasets (name) ON DELETE CASCADE,
	key        TEXT    NOT NULL,
	url        TEXT    NOT NULL,
	data       TEXT    NOT NULL,
	run_id     INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (dataset, key)
);
CREATE INDEX items_run ON items (run_id, id);
