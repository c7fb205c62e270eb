-- The visibility map and statistics of contacts, after contacts_0021 rewrote it.
-- depends: contacts_0021_lowered_company_name
-- transactional: false
--
-- As contacts_0016 after contacts_0015: a rewritten table has an empty visibility
-- map (every index-only scan reads the heap again) and no statistics for the new
-- key until autovacuum gets to it. VACUUM cannot run in a transaction; it is
-- harmless to repeat.

VACUUM (ANALYZE) contacts;
