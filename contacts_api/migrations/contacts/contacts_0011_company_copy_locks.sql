-- A contact written while its company is renamed gets the new name.
-- depends: contacts_0010_import_fills
--
-- The copy of the company's name and sizes in contacts (contacts_0002) is written
-- by two sides: the contact's writer reads the company (contacts_fill_company, or
-- the import's own join), and a rename refreshes the copies of the company's
-- contacts (contacts_company_changed). Under READ COMMITTED they could miss each
-- other: a contact inserted (or moved to the company) while a rename was not yet
-- committed read the old values, and the rename's refresh could not see the
-- uncommitted contact, so the copy stayed stale for good (found by two imports at
-- once, tests/plugins/imports/test_import_fills.py).
--
-- The writer now reads the company FOR SHARE, which waits for an uncommitted
-- rename and then reads the renamed row; a rename that comes later waits for the
-- contact's transaction, and its refresh (a new snapshot) sees the contact. The
-- foreign key check of the same write locks the row anyway (KEY SHARE, which a
-- rename does not wait for); the stronger lock still cost the import's incremental
-- path about 5% per row (399 against 380 us, benchmarks/import.py
-- --incremental-base). (An update that keeps the contact's company would not need
-- it, a rename's refresh and the update meeting on the contact's row; one statement
-- for both keeps the function plain, and API updates are few.)

CREATE OR REPLACE FUNCTION contacts_fill_company() RETURNS trigger LANGUAGE plpgsql AS $$
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
          FROM companies WHERE uuid = NEW.company_uuid FOR SHARE;
    END IF;
    RETURN NEW;
END $$;
