-- One plain (key, uuid) btree per ordering field, for both directions.
-- depends: contacts_0005_filter_indexes
--
-- A page ordered by one nullable field is read as two walks of its btree: the
-- rows with a value, forwards or backwards, then the empty ones by uuid
-- (plugins/contacts/keyset.py). A plain ASC btree answers both directions, so the
-- pair of DESC NULLS LAST / ASC NULLS LAST indexes on employees becomes one, and
-- every other ordering field gets its btree: first pages and deep pages alike are
-- index ranges instead of a sort of every matching row (ordering=title at 1M
-- contacts: 159 ms before, see benchmarks/list_queries.py). Text keys sort by
-- code point (COLLATE "C"), as plugins/contacts/ordering.py orders them.
-- INCLUDE (company_uuid): the page's inner query checks company filters through a
-- memoized join while walking the index (see contacts_0003_indexes.sql).

DROP INDEX contacts_employees_desc_idx;
DROP INDEX contacts_employees_asc_idx;
CREATE INDEX contacts_employees_idx ON contacts (company_employees, uuid)
    INCLUDE (company_uuid);
CREATE INDEX contacts_annual_revenue_idx ON contacts (company_annual_revenue, uuid)
    INCLUDE (company_uuid);
CREATE INDEX contacts_total_funding_idx ON contacts (company_total_funding, uuid)
    INCLUDE (company_uuid);
CREATE INDEX contacts_first_name_idx ON contacts (first_name COLLATE "C", uuid);
CREATE INDEX contacts_email_idx ON contacts (email COLLATE "C", uuid);
CREATE INDEX contacts_title_idx ON contacts (title COLLATE "C", uuid);
CREATE INDEX contacts_seniority_order_idx ON contacts (seniority COLLATE "C", uuid);
CREATE INDEX contacts_city_idx ON contacts (city COLLATE "C", uuid);
CREATE INDEX contacts_state_idx ON contacts (state COLLATE "C", uuid);
CREATE INDEX contacts_country_idx ON contacts (country COLLATE "C", uuid);
-- The seniority filter compares under COLLATE "C" (equality is the same under any
-- deterministic collation), so the ordering's btree serves it too.
DROP INDEX contacts_seniority_idx;

DROP INDEX companies_employees_desc_idx;
CREATE INDEX companies_annual_revenue_idx ON companies (annual_revenue, uuid);
CREATE INDEX companies_total_funding_idx ON companies (total_funding, uuid);
