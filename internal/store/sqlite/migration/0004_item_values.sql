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
-- or boolean; hash is the 64-bit FNV-1a hash of its Unicode simple case fold
-- (valueHash in values.go), so both kinds of filter read one range.
--
-- The table is its own index: its key starts with (field_id, hash), then
-- item_id, so a filter reads the range of the value's hash from the cursor,
-- already in item id order, and a page is the first LIMIT entries. An exact
-- filter checks value on the entry; a case-insensitive one checks
-- trawl_fold(value) (a function the store registers), which also rules out
-- the rare hash collision. Each value row costs one B-tree insert on the
-- commit path, not two (a table keyed by item plus an index by value), and
-- an entry holds the value once, not with its fold beside it.
--
-- Nothing finds an item's rows by item_id: CommitPages knows them from the
-- item's stored JSON when it updates the item, and deletes the old rows by
-- their full key. item_id has no foreign key on purpose: the check would
-- cost a probe of items for every value row written on the crawl's commit
-- path, and nothing deletes items (a dataset is never dropped), so no row
-- can outlive its item. Code that ever deletes items must delete their
-- value rows in the same transaction.
CREATE TABLE item_values (
	field_id INTEGER NOT NULL,
	hash     INTEGER NOT NULL,
	item_id  INTEGER NOT NULL,
	value    TEXT    NOT NULL,
	PRIMARY KEY (field_id, hash, item_id, value)
) WITHOUT ROWID;

-- since= reads the items stored or updated after a time.
CREATE INDEX items_updated ON items (dataset, updated_at, id);

-- Existing items are indexed by Go code right after this file (backfill in
-- migrate.go): the case fold needs Unicode tables that SQLite lacks.
