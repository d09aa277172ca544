-- Spiders the service stores (trawl serve), by name. Runs and datasets
-- refer to a spider by name only, without a foreign key: deleting a spider
-- keeps its runs and its dataset. version counts the puts that changed it.
CREATE TABLE spiders (
	name       TEXT    PRIMARY KEY,
	source     TEXT    NOT NULL,
	format     TEXT    NOT NULL,
	hash       TEXT    NOT NULL,
	version    INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
