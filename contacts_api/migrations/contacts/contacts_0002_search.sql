-- Search support for the contact and company filters (docs/api.md "Contact filters").
-- depends: contacts_0001_schema
--
-- 1. Contacts carry a copy of their company's name and sizes (company_name,
--    company_employees, company_annual_revenue, company_total_funding), kept by
--    triggers, so that orderings by company fields are btree keyset scans on
--    contacts alone and the `search`/`company` filters need no join. Rows written
--    by plain INSERT/UPDATE of the base columns (CSV import) stay correct: the
--    BEFORE trigger on contacts fills the copy, and an AFTER trigger on companies
--    refreshes its contacts when one of the copied fields changes.
-- 2. Search keys: stored generated columns joining text fields / list elements
--    with chr(31) (a separator no pattern crosses), so one pg_trgm GIN index
--    answers "contains" on several fields or on any element of a list
--    (`technologies_key` folds `_`, `.` and spaces). Stored, not expression
--    indexes: rechecking a row then reads a column instead of calling a function.

CREATE FUNCTION contacts_text_key(VARIADIC parts text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT array_to_string(parts, chr(31)) $$;

CREATE FUNCTION contacts_list_key(items text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT array_to_string(items, chr(31)) $$;

CREATE FUNCTION contacts_tech_key(items text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT regexp_replace(lower(array_to_string(items, chr(31))), '[_. ]+', ' ', 'g') $$;

ALTER TABLE contacts
    ADD COLUMN company_name text,
    ADD COLUMN company_employees integer,
    ADD COLUMN company_annual_revenue bigint,
    ADD COLUMN company_total_funding bigint;

CREATE FUNCTION contacts_fill_company() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.company_uuid IS NULL THEN
        NEW.company_name := NULL;
        NEW.company_employees := NULL;
        NEW.company_annual_revenue := NULL;
        NEW.company_total_funding := NULL;
    ELSE
        SELECT name, employees_count, annual_revenue, total_funding
          INTO NEW.company_name, NEW.company_employees, NEW.company_annual_revenue,
               NEW.company_total_funding
          FROM companies WHERE uuid = NEW.company_uuid;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER contacts_fill_company BEFORE INSERT OR UPDATE ON contacts
    FOR EACH ROW EXECUTE FUNCTION contacts_fill_company();

CREATE FUNCTION contacts_company_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Re-running the contacts trigger copies the new values.
    UPDATE contacts SET company_uuid = company_uuid WHERE company_uuid = NEW.uuid;
    RETURN NULL;
END $$;

CREATE TRIGGER contacts_company_changed AFTER UPDATE ON companies
    FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name
          OR OLD.employees_count IS DISTINCT FROM NEW.employees_count
          OR OLD.annual_revenue IS DISTINCT FROM NEW.annual_revenue
          OR OLD.total_funding IS DISTINCT FROM NEW.total_funding)
    EXECUTE FUNCTION contacts_company_changed();

-- Rows that existed before this migration.
UPDATE contacts SET company_uuid = company_uuid WHERE company_uuid IS NOT NULL;

-- Generated columns are computed after BEFORE triggers: search_key sees company_name.
ALTER TABLE contacts
    ADD COLUMN search_key text GENERATED ALWAYS AS (contacts_text_key(
        first_name, last_name, email, title, city, state, country, company_name)) STORED,
    ADD COLUMN departments_key text GENERATED ALWAYS AS (contacts_list_key(departments)) STORED;

ALTER TABLE companies
    ADD COLUMN search_key text GENERATED ALWAYS AS (contacts_text_key(
        name, domain, address, city, state, country)) STORED,
    ADD COLUMN industries_key text GENERATED ALWAYS AS (contacts_list_key(industries)) STORED,
    ADD COLUMN keywords_key text GENERATED ALWAYS AS (contacts_list_key(keywords)) STORED,
    ADD COLUMN technologies_key text GENERATED ALWAYS AS (contacts_tech_key(technologies)) STORED;
