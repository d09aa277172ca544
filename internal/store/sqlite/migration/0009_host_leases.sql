-- Host leases (store.Store ClaimHosts, RenewHosts, ReleaseHosts): one row
-- per (run, host) that was ever offered, created by the first claim. worker
-- and expires_at (ms; 0 = not leased) say who holds the host until when;
-- token is the fencing token, incremented by every claim. not_before (ms; 0
-- = at once), delay_ms, allowance (0 = concurrency_per_host) and failures
-- are the host's pace as its last holder released it.
CREATE TABLE host_leases (
	run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	host       TEXT    NOT NULL,
	worker     TEXT    NOT NULL DEFAULT '',
	expires_at INTEGER NOT NULL DEFAULT 0,
	token      INTEGER NOT NULL DEFAULT 0,
	not_before INTEGER NOT NULL DEFAULT 0,
	delay_ms   INTEGER NOT NULL DEFAULT 0,
	allowance  INTEGER NOT NULL DEFAULT 0,
	failures   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (run_id, host)
) WITHOUT ROWID;

-- A queued page's retry (DeferPages): not fetched before not_before (ms;
-- 0 = at once). Its attempts so far are in the existing attempts column.
ALTER TABLE pages ADD COLUMN not_before INTEGER NOT NULL DEFAULT 0;
