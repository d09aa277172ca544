-- Host leases (store.Store ClaimHosts, RenewHosts, ReleaseHosts): SQLite's
-- migration 0009 on PostgreSQL (docs/scaling.md, "Host leases"). One row per
-- (run, host) that was ever offered, created by the first claim; claims
-- lock rows with FOR UPDATE SKIP LOCKED. worker and expires_at (NULL = not
-- leased) say who holds the host until when; token is the fencing token,
-- incremented by every claim. not_before (NULL = at once), delay_ms,
-- allowance (0 = concurrency_per_host) and failures are the host's pace as
-- its last holder released it.
CREATE TABLE host_leases (
	run_id     bigint      NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	host       text        COLLATE "C" NOT NULL,
	worker     text        NOT NULL DEFAULT '',
	expires_at timestamptz,
	token      bigint      NOT NULL DEFAULT 0,
	not_before timestamptz,
	delay_ms   bigint      NOT NULL DEFAULT 0,
	allowance  integer     NOT NULL DEFAULT 0,
	failures   integer     NOT NULL DEFAULT 0,
	PRIMARY KEY (run_id, host)
);

-- A queued page's retry (DeferPages): not fetched before not_before (NULL
-- = at once). Its attempts so far are in the existing attempts column.
ALTER TABLE pages ADD COLUMN not_before timestamptz;
