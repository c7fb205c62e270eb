-- search_key stored lower-cased, matched with LIKE: exact estimates again, planned cheaply.
-- depends: contacts_0014_stored_terms_use
--
-- contacts_0013 cut search_key's histogram to 250 entries to plan faster, and
-- its estimates became a lottery: "garcia" AND "sales" (538 contacts of 1M) was
-- estimated at 145 to 1,694 rows depending on ANALYZE's sample. Above about
-- 1,300 the planner walks the created_at index instead of reading the trigram
-- bitmap, and that walk read 35k rows: 166-204 ms instead of 9. With 1,000
-- entries the estimate stays within 323-379 (far from the switch), but ILIKE
-- lower-cases every histogram entry while planning: 2.8 ms for two words.
-- LIKE against a lower-cased key plans in 0.8 ms with 1,000 entries (and each
-- recheck skips the same lower-casing). lower(s) LIKE lower(p) is what ILIKE
-- computes, so the filters keep their meaning (plugins/contacts/sqltext.py:
-- matches_pattern). The trigram index is case-insensitive already.
--
-- Adding the column rewrites contacts and rebuilds every index of it: 90 s at
-- 1M contacts on a 2-core machine, during which contacts is locked. (A trigram
-- index on lower(search_key) would not rewrite, but its statistics target lives
-- on the index, and an import's bulk path, which drops and rebuilds the
-- indexes, would lose it.) contacts_0016 then vacuums the rewritten table.

DROP INDEX contacts_search_key_trgm;
ALTER TABLE contacts DROP COLUMN search_key;
ALTER TABLE contacts ADD COLUMN search_key text GENERATED ALWAYS AS (lower(contacts_text_key(
    first_name, last_name, email, title, city, state, country, company_name))) STORED;
CREATE INDEX contacts_search_key_trgm ON contacts USING gin (search_key gin_trgm_ops)
    WITH (fastupdate = on, gin_pending_list_limit = 32768);
ALTER TABLE contacts ALTER COLUMN search_key SET STATISTICS 1000;
