-- depends: contacts_0001_schema
-- The import matches a row without email to the stored contact without email of the
-- same (lower-case) names and company. Without this index that lookup reads every
-- contact of the company (contacts_company_uuid_idx): at 1M contacts with a few
-- companies of tens of thousands of contacts, the slowest statement of an import.
-- Partial: only contacts without email (a few percent of them).
-- depends: imports_0001_jobs contacts_0001_schema

CREATE INDEX imports_contacts_without_email_idx ON contacts
    (company_uuid, lower(coalesce(first_name, '')), lower(coalesce(last_name, '')))
    WHERE email IS NULL;
