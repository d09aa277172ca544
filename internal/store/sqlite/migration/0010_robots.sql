-- Shared robots.txt records (store.Store ClaimRobots, PutRobots): one row
-- per origin (scheme://host:port) ever fetched, so that one process
-- fetches each origin's robots.txt and the others read it. status, class,
-- unreachable and body are the fetch's outcome (store.RobotsRecord);
-- fetched_at and expires_at (ms; expires_at 0 = no record yet, only a
-- claim) say when it was fetched and until when it is used. worker and
-- claim_until (ms; 0 = nobody) name the process fetching it now. A row
-- past its expiry is overwritten by the next fetch, never deleted: the
-- table grows with the number of origins only.
CREATE TABLE robots (
	origin      TEXT    NOT NULL PRIMARY KEY,
	status      INTEGER NOT NULL DEFAULT 0,
	class       TEXT    NOT NULL DEFAULT '',
	unreachable INTEGER NOT NULL DEFAULT 0,
	body        BLOB,
	fetched_at  INTEGER NOT NULL DEFAULT 0,
	expires_at  INTEGER NOT NULL DEFAULT 0,
	worker      TEXT    NOT NULL DEFAULT '',
	claim_until INTEGER NOT NULL DEFAULT 0
);
