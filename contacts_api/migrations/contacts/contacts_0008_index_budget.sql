-- The index budget of contacts: what each index costs an import, per row.
-- depends: contacts_0007_value_dictionaries
--
-- Measured with benchmarks/index_budget.py at 1M contacts (each index priced
-- alone, and all together, inserting 10,000 new contacts in a rolled-back
-- transaction; buffers read and dirtied and WAL per row, which the load of the
-- machine does not change): with all 28 indexes an inserted row read 19 blocks,
-- dirtied 17 and wrote 78 kB of WAL (10 full-page images). Two things cost most:
--
-- 1. The trigram GIN indexes. Each new row adds dozens of trigrams (the search key
--    up to a hundred); inserted one row at a time, every trigram is a write to its
--    posting tree. With `fastupdate` new entries go to a pending list, merged into
--    the index in bulk (each posting tree written once per merge, not once per
--    row) when the list exceeds gin_pending_list_limit (4MB by default: merges every
--    few hundred rows), at (auto)vacuum or analyze, or on gin_clean_pending_list().
--    A 32MB list holds a whole 20,000-row import: the import merges it once at the
--    end (plugins/contacts/maintenance.py, called by the import task when a job
--    finishes). Searches see pending rows (they scan the list), so nothing changes
--    for readers but the time of a search during a large import, which scans at
--    most 32MB more.
-- 2. Random keys. A new contact took a random uuid (gen_random_uuid()), so the
--    primary key and every (key, uuid) btree whose key has few distinct values
--    (seniority, email status, city/state/country, the has_phone partial indexes)
--    received it at a random leaf: with the indexes larger than shared_buffers,
--    each such insert read a page and dirtied one more page (and a full-page image
--    in the WAL after each checkpoint). New uuids are now time-ordered (the UUIDv7
--    layout: milliseconds since 1970 in the first 48 bits, 74 random bits): they
--    are appended at the right end of the key's range instead. The ordering and
--    uniqueness of uuids are unchanged for readers (keyset pages order by uuid
--    within equal keys, whatever the uuids look like).
--
-- Time-ordered uuids alone: 8.7 blocks read, 7.1 dirtied, 27 kB of WAL (3.4 FPIs)
-- per inserted row. No index is dropped and none is added: every list query keeps
-- its plan (benchmarks/list_queries.py --explain); the btrees of the orderings each
-- cost about half a block per row, the price of ordering by that field without a
-- sort of the whole table. Transactional and quick on a live database: ALTER INDEX
-- ... SET of these storage parameters takes a ShareUpdateExclusiveLock (reads and
-- writes go on), SET DEFAULT a brief exclusive lock on the catalog entry.

CREATE OR REPLACE FUNCTION contacts_uuid_v7() RETURNS uuid
    LANGUAGE sql VOLATILE PARALLEL SAFE
    AS $$ SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING
              substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
              FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid $$;

ALTER TABLE contacts ALTER COLUMN uuid SET DEFAULT contacts_uuid_v7();
ALTER TABLE companies ALTER COLUMN uuid SET DEFAULT contacts_uuid_v7();

ALTER INDEX contacts_search_key_trgm SET (fastupdate = on, gin_pending_list_limit = 32768);
ALTER INDEX contacts_title_trgm SET (fastupdate = on, gin_pending_list_limit = 32768);
ALTER INDEX contacts_company_name_trgm SET (fastupdate = on, gin_pending_list_limit = 32768);
ALTER INDEX contacts_mobile_phone_trgm SET (fastupdate = on, gin_pending_list_limit = 32768);
ALTER INDEX contacts_departments_trgm SET (fastupdate = on, gin_pending_list_limit = 32768);
