-- The dictionary's values lower-cased once, for its "contains" lookups.
-- depends: contacts_0008_index_budget
--
-- A lookup (plugins/contacts/dictionaries.py) tests every candidate of the trigram
-- index with ILIKE, which in a multi-byte database lower-cases both the value and
-- the pattern on every test (like.c) and costs about a microsecond a value:
-- "title_words=vp sales" rechecked 12,000 distinct titles holding "sales" (the
-- two-letter "vp" has no trigram) twice each, ~20 ms of CPU at 265k distinct
-- titles. `value_lower LIKE lower(pattern)` is the very same test (ILIKE is
-- defined as LIKE on lower() of both sides, with the same collation), with the
-- lower-casing done once per value when it is added. pg_trgm lower-cases its
-- trigrams itself, so the index on value_lower holds the same trigrams as the one
-- on value it replaces. Only new distinct values pay the extra lower() (the
-- contacts_fill_value_ids trigger is unchanged); the dictionary is rewritten once
-- (a second or two at 265k values, inserts of new values wait meanwhile).

ALTER TABLE contact_field_values
    ADD COLUMN value_lower text GENERATED ALWAYS AS (lower(value)) STORED;
DROP INDEX contact_field_values_trgm;
CREATE INDEX contact_field_values_lower_trgm ON contact_field_values
    USING gin (value_lower gin_trgm_ops);
-- The planner estimates how many distinct values a pattern matches (the id
-- lists, the semi-joins of broad values) from this column's histogram.
ALTER TABLE contact_field_values ALTER COLUMN value_lower SET STATISTICS 1000;
ANALYZE contact_field_values;
