-- Marks the file as a trawl database (the SQLite header's application ID,
-- "trwl"), so that Open can tell a trawl file from another program's.
PRAGMA application_id = 1953658732;

-- Run lists (trawl runs, GET /v1/runs) filter by spider or status and page
-- newest first by id; each filter gets an index that yields that order.
CREATE INDEX runs_spider_id ON runs (spider, id);
CREATE INDEX runs_status_id ON runs (status, id);

-- Decoded body bytes of a page, so that requeueing failed pages can take
-- their bytes back out of the run's statistics.
ALTER TABLE pages ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;

-- The items each run stored, as it stored them (export --run N). data stays
-- NULL while the items row still holds this run's version, so the common
-- case costs one small row per item; when another run overwrites the item,
-- the trigger below first copies the old version here.
CREATE TABLE run_items (
	run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	item_id INTEGER NOT NULL,
	data    TEXT,
	PRIMARY KEY (run_id, item_id)
) WITHOUT ROWID;

-- Items stored before this migration: each run keeps the items it last stored.
INSERT INTO run_items (run_id, item_id)
SELECT i.run_id, i.id FROM items i WHERE EXISTS (SELECT 1 FROM runs r WHERE r.id = i.run_id);

-- Triggers keep run_items in step with every write to items, inside the
-- statement that writes it, so CommitPages needs no extra round trips.
CREATE TRIGGER items_run_insert AFTER INSERT ON items BEGIN
	INSERT INTO run_items (run_id, item_id) VALUES (NEW.run_id, NEW.id) ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER items_run_update AFTER UPDATE OF run_id ON items WHEN OLD.run_id != NEW.run_id BEGIN
	UPDATE run_items SET data = OLD.data WHERE run_id = OLD.run_id AND item_id = OLD.id AND data IS NULL;
	INSERT INTO run_items (run_id, item_id) VALUES (NEW.run_id, NEW.id) ON CONFLICT DO NOTHING;
END;
