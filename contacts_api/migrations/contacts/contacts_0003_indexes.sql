-- Indexes for the filters and orderings, chosen with EXPLAIN at 1M contacts
-- (benchmarks/list_queries.py --explain prints the plans).
-- depends: contacts_0002_search

-- "contains" filters: trigram indexes on the search keys (every searchable
-- field; used as a prefilter rechecked on the field itself) and on the busiest
-- single fields, whose posting lists are much shorter.
CREATE INDEX contacts_search_key_trgm ON contacts USING gin (search_key gin_trgm_ops);
CREATE INDEX contacts_title_trgm ON contacts USING gin (title gin_trgm_ops);
CREATE INDEX contacts_company_name_trgm ON contacts USING gin (company_name gin_trgm_ops);
CREATE INDEX contacts_mobile_phone_trgm ON contacts USING gin (mobile_phone gin_trgm_ops);
CREATE INDEX contacts_seniority_idx ON contacts (seniority);

-- keyset orderings: (key, uuid). Nullable keys sort NULLS LAST in both
-- directions, so the busiest one (employees) gets an index per direction.
-- INCLUDE (company_uuid): a page's inner query (uuid + sort keys only) walks
-- these as index-only scans while checking company filters through the join
-- ("technology contains X ordered by employees": 270 ms -> 36 ms at 1M rows).
CREATE INDEX contacts_created_at_idx ON contacts (created_at, uuid) INCLUDE (company_uuid);
CREATE INDEX contacts_updated_at_idx ON contacts (updated_at, uuid);
CREATE INDEX contacts_employees_desc_idx ON contacts (company_employees DESC NULLS LAST, uuid DESC)
    INCLUDE (company_uuid);
CREATE INDEX contacts_employees_asc_idx ON contacts (company_employees ASC NULLS LAST, uuid)
    INCLUDE (company_uuid);
CREATE INDEX contacts_last_name_idx ON contacts (last_name COLLATE "C", uuid);
CREATE INDEX contacts_company_name_idx ON contacts (company_name COLLATE "C", uuid);

-- companies: text fields, list elements, orderings
CREATE INDEX companies_search_key_trgm ON companies USING gin (search_key gin_trgm_ops);
CREATE INDEX companies_industries_trgm ON companies USING gin (industries_key gin_trgm_ops);
CREATE INDEX companies_keywords_trgm ON companies USING gin (keywords_key gin_trgm_ops);
CREATE INDEX companies_technologies_trgm ON companies USING gin (technologies_key gin_trgm_ops);
CREATE INDEX companies_created_at_idx ON companies (created_at, uuid);
CREATE INDEX companies_employees_desc_idx ON companies (employees_count DESC NULLS LAST, uuid DESC);
CREATE INDEX companies_employees_idx ON companies (employees_count, uuid);
CREATE INDEX companies_name_idx ON companies (name COLLATE "C", uuid);

-- Finer statistics where "contains" patterns are estimated from the histogram:
-- the planner then chooses between a trigram bitmap and a keyset walk on
-- estimates near the truth.
ALTER TABLE contacts ALTER COLUMN title SET STATISTICS 1000,
    ALTER COLUMN search_key SET STATISTICS 1000,
    ALTER COLUMN company_name SET STATISTICS 1000;
