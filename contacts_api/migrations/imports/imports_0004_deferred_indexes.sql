-- The bulk path of a large import (contacts_api/plugins/imports/bulk.py) drops the
-- secondary query indexes of contacts while it writes and builds them again at its
-- end. This table is the record of that: each dropped index with the definition that
-- rebuilds it, and which jobs load in bulk (an index comes back when no unfinished bulk
-- job remains), so a worker killed mid-load leaves what is needed to finish the job and
-- put every index back.
-- depends: imports_0003_total_rows_estimated

CREATE TABLE import_deferred_indexes (
    index_name text PRIMARY KEY,
    table_name text NOT NULL,
    definition text NOT NULL,
    deferred_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE import_bulk_loads (
    job_id uuid PRIMARY KEY REFERENCES import_jobs (id) ON DELETE CASCADE,
    started_at timestamptz NOT NULL DEFAULT now()
);
