-- Retention (CompactFrontier): compacted_at is when the compaction of a
-- run's frontier began, which bars RequeueFailed from then on; compacted is
-- 1 once every page row it deletes is gone. A compaction cut short is found
-- again by compacted = 0 and finished by the next call.
ALTER TABLE runs ADD COLUMN compacted_at INTEGER;
ALTER TABLE runs ADD COLUMN compacted INTEGER NOT NULL DEFAULT 0;
-- The runs a compaction may take, oldest first, without reading the runs it
-- already compacted: after months of schedules that is nearly all of them.
CREATE INDEX runs_to_compact ON runs (finished_at) WHERE compacted = 0 AND finished_at IS NOT NULL;
