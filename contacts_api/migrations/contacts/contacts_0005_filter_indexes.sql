-- Indexes for the filters that had none (tests/plugins/contacts/test_index_coverage.py
-- finds every filter a selective value of which would read the whole table).
-- depends: contacts_0004_title_in_created_at_index

-- `department`: an element of the departments contains the value.
CREATE INDEX contacts_departments_trgm ON contacts USING gin (departments_key gin_trgm_ops);
-- `email_status`: a few values, one of them (bounced) rare and sought.
CREATE INDEX contacts_email_status_idx ON contacts (email_status);
-- `annual_revenue_min/max`, `total_funding_min/max`: the orderings' btrees
-- (contacts_0006_ordering_indexes.sql).
-- `has_phone`: contacts with and without a mobile (each contact is in one of the
-- two), and the metadata rows holding a phone (plugins/contacts/filters.py).
CREATE INDEX contacts_with_mobile_idx ON contacts (uuid) WHERE coalesce(mobile_phone, '') <> '';
CREATE INDEX contacts_without_mobile_idx ON contacts (uuid) WHERE coalesce(mobile_phone, '') = '';
CREATE INDEX contact_metadata_with_phone_idx ON contact_metadata (contact_uuid)
    WHERE coalesce(work_direct_phone, '') <> '' OR coalesce(home_phone, '') <> ''
       OR coalesce(other_phone, '') <> '';

-- companies: updated_at (the revenue and funding bounds: contacts_0006)
CREATE INDEX companies_updated_at_idx ON companies (updated_at, uuid);
