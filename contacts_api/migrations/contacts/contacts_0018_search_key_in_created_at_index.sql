-- The default ordering's keyset index also carries search_key.
-- depends: contacts_0017_contains_every
--
-- A search under the default ordering (-created_at) is usually planned as a walk
-- of this index that tests each contact's search_key until a page matches: the
-- planner expects the words in 0.3% of contacts or more. Every walked row was a
-- heap fetch (contacts is ~450 MB at 1M, past shared_buffers), so "software
-- engineer" (1,469 of 1M contacts, the page after 20,600 walked rows) took 60-100
-- ms, and a lower estimate's trigram bitmap 15-50 ms. With search_key in the
-- index the walk is index-only: 13 ms for those 20,600 rows (benchmarks/
-- list_queries.py, "search software engineer"), and a walk the planner chose
-- wrongly costs a fraction of what it did (contacts_0015's 35k-row walk of
-- "garcia sales": 166-204 ms). The index grows from 64 to ~200 MB at 1M contacts;
-- an import maintains one entry per row either way (same index, wider entry).
--
-- Rebuilding it takes ~10 s at 1M contacts on 2 cores, during which contacts
-- is locked against writes.

DROP INDEX contacts_created_at_idx;
CREATE INDEX contacts_created_at_idx ON contacts (created_at, uuid)
    INCLUDE (company_uuid, title_id, country_id, search_key);
