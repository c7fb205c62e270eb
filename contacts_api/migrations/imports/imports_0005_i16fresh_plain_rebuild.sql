-- A bulk load that begins on a young table (plugins/imports/bulk.py) rebuilds its
-- deferred indexes with a plain CREATE INDEX, several at once, instead of one by one
-- CONCURRENTLY. The choice is the first deferring load's, recorded with each index so
-- that a resumed job (a worker killed mid-load or mid-rebuild) makes the same one.
-- depends: imports_0004_deferred_indexes

ALTER TABLE import_deferred_indexes
    ADD COLUMN rebuild_plainly boolean NOT NULL DEFAULT false;
