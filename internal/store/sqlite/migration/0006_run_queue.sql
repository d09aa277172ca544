-- The run queue of trawl serve (docs/jobs.md). A run created queued waits
-- for the service's job queue; run_at is when it is due (NULL = as soon as
-- possible), kept so that the run shows it and a restart keeps it.
ALTER TABLE runs ADD COLUMN run_at INTEGER;
-- A user asked a running run to stop: the process crawling it polls this
-- flag and ends the run canceled.
ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
-- When the spider's schedule last fired, so that a fire missed while the
-- service was down is caught up once at start.
ALTER TABLE spiders ADD COLUMN last_fired_at INTEGER;
