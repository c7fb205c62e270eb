-- depends: exports_0002_heartbeat
-- Exports of companies (one row per company) next to exports of contacts. Every
-- export made before this migration exported contacts.
ALTER TABLE exports ADD COLUMN kind text NOT NULL DEFAULT 'contacts'
    CHECK (kind IN ('contacts', 'companies'));
