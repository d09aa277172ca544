-- Shared robots.txt records (store.Store ClaimRobots, PutRobots): SQLite's
-- migration 0010 on PostgreSQL. One row per origin (scheme://host:port)
-- ever fetched, so that one process fetches each origin's robots.txt and
-- the others read it. status, class, unreachable and body are the fetch's
-- outcome (store.RobotsRecord); fetched_at and expires_at (NULL = no
-- record yet, only a claim) say when it was fetched and until when it is
-- used. worker and claim_until (NULL = nobody) name the process fetching
-- it now; a claim is taken by INSERT ... ON CONFLICT DO NOTHING or by an
-- UPDATE whose WHERE re-checks that the claim expired, so concurrent
-- claimers serialize on the row and one wins. A row past its expiry is
-- overwritten by the next fetch, never deleted: the table grows with the
-- number of origins only.
CREATE TABLE robots (
	origin      text        COLLATE "C" PRIMARY KEY,
	status      integer     NOT NULL DEFAULT 0,
	class       text        NOT NULL DEFAULT '',
	unreachable boolean     NOT NULL DEFAULT false,
	body        bytea,
	fetched_at  timestamptz,
	expires_at  timestamptz,
	worker      text        NOT NULL DEFAULT '',
	claim_until timestamptz
);
