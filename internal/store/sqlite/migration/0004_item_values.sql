-- The value index of items (GET /v1/datasets/{name}/items?FIELD=VALUE,
-- .../fields/{field}): filters read it instead of parsing JSON. See
-- docs/storage.md for the design and the query plans.

-- One row per (dataset, field name), so the value rows carry a small
-- integer instead of repeating both names.
CREATE TABLE item_fields (
	id      INTEGER PRIMARY KEY,
	dataset TEXT    NOT NULL REFERENCES datasets (name) ON DELETE CASCADE,
	name    TEXT    NOT NULL,
	UNIQUE (dataset, name)
);

-- One row per scalar value of an item's field; a list field has one row per
-- distinct element. value is the string itself, or the JSON text of a number
-- or boolean; folded is its Unicode simple case fold. The primary key
-- starts with item_id so that replacing an item's rows on update is a range
-- delete and new items append at the end of the table.
--
-- item_id has no foreign key on purpose: the check would cost a probe of
-- items for every value row written on the crawl's commit path, and it
-- guards nothing. CommitPages replaces an item's rows explicitly when it
-- updates the item, and nothing deletes items (a dataset is never dropped),
-- so no row can outlive its item. Code that ever deletes items must delete
-- their value rows in the same transaction.
CREATE TABLE item_values (
	item_id  INTEGER NOT NULL,
	field_id INTEGER NOT NULL,
	value    TEXT    NOT NULL,
	folded   TEXT    NOT NULL,
	PRIMARY KEY (item_id, field_id, value)
) WITHOUT ROWID;
-- One secondary index serves both kinds of filter, so each value row costs
-- one index entry on the commit path, not two. A filter reads the range of
-- (field_id, folded) from the cursor, already in item id order: a page is
-- the first LIMIT entries, no sort, no scan. An exact filter also checks
-- value on the entry itself (the index covers it), skipping the entries of
-- the other case variants, which are rare.
CREATE INDEX item_values_folded ON item_values (field_id, folded, item_id, value);

-- since= reads the items stored or updated after a time.
CREATE INDEX items_updated ON items (dataset, updated_at, id);

-- Existing items are indexed by Go code right after this file (backfill in
-- migrate.go): the case fold needs Unicode tables that SQLite lacks.
