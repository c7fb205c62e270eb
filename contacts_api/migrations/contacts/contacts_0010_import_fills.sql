-- The CSV import fills the triggers' columns of contacts itself, set-based.
-- depends: contacts_0009_lowered_dictionary
--
-- Two per-row BEFORE triggers keep derived columns of contacts: contacts_fill_company
-- (the copy of the company's name and sizes, contacts_0002) and
-- contacts_fill_value_ids (title_id and country_id, contacts_0007). Each is a
-- PL/pgSQL call with its own lookups per written row: about 100 us of database CPU
-- per imported row together, as much as the maintenance of the 28 indexes
-- (benchmarks/import_bulk_cost.py). The import writer computes the same values in
-- its own statements instead (plugins/imports/upsert_sql.py: one join with companies
-- and the dictionary per statement, the new dictionary values added in one sorted
-- statement first), and says so with a transaction-local setting,
-- `SET LOCAL contacts.fill_done = 'on'`, that it turns on only around its own
-- statements. The triggers' WHEN condition reads that setting: when on, PostgreSQL
-- does not call the trigger function at all. Everything else (the API, plain SQL,
-- any other session) leaves the setting unset and the triggers work as before.
--
-- The AFTER trigger on companies (a company's name or sizes changed: refresh its
-- contacts' copy) used to re-fire the BEFORE trigger with a no-op UPDATE. Inside an
-- import (which renames companies) the BEFORE trigger is now skipped, so it writes
-- the copy explicitly, and only to the contacts whose copy differs. It runs its
-- UPDATE with the setting on (a function SET clause, restored on exit): the copy is
-- written directly and the titles do not change, so neither BEFORE trigger has work.

CREATE OR REPLACE TRIGGER contacts_fill_company BEFORE INSERT OR UPDATE ON contacts
    FOR EACH ROW
    WHEN (current_setting('contacts.fill_done', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION contacts_fill_company();

CREATE OR REPLACE TRIGGER contacts_fill_value_ids BEFORE INSERT OR UPDATE ON contacts
    FOR EACH ROW
    WHEN (current_setting('contacts.fill_done', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION contacts_fill_value_ids();

CREATE OR REPLACE FUNCTION contacts_company_changed() RETURNS trigger LANGUAGE plpgsql
    SET contacts.fill_done = 'on' AS $$
BEGIN
    UPDATE contacts
       SET company_name = NEW.name,
           company_employees = NEW.employees_count,
           company_annual_revenue = NEW.annual_revenue,
           company_total_funding = NEW.total_funding
     WHERE company_uuid = NEW.uuid
       AND (company_name, company_employees, company_annual_revenue, company_total_funding)
           IS DISTINCT FROM (NEW.name, NEW.employees_count, NEW.annual_revenue, NEW.total_funding);
    RETURN NULL;
END $$;
