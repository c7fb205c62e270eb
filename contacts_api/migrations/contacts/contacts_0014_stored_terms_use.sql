-- When each stored term was last used, so that a full store makes room.
-- depends: contacts_0013_search_key_statistics
--
-- contacts_0012's store stops storing at 1,000 terms or 2M values, and its terms
-- were never removed: once full (a long-running server, or someone requesting
-- many broad terms), every new broad term was counted the slow way for good.
-- plugins/contacts/stored_terms.py now removes the terms unused for an hour when
-- the store is full and a new term comes; a request marks a term used (at most
-- every 10 minutes) before it uses it.

ALTER TABLE contact_field_terms ADD COLUMN used_at timestamptz NOT NULL DEFAULT now();
