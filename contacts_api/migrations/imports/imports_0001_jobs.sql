-- CSV import jobs and their row errors (docs/api.md "Import").

CREATE TABLE import_jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    file_name text NOT NULL,
    storage_key text NOT NULL,
    file_size bigint NOT NULL DEFAULT 0,
    -- non-blank data rows of the file: known when the job ends
    total_rows bigint,
    -- rows read so far; equals created + updated + error counts at each commit
    processed_rows bigint NOT NULL DEFAULT 0,
    created_count bigint NOT NULL DEFAULT 0,
    updated_count bigint NOT NULL DEFAULT 0,
    error_count bigint NOT NULL DEFAULT 0,
    error text,
    warnings jsonb NOT NULL DEFAULT '[]',
    -- the resume point: the last CSV record (row number) whose batch is committed
    resume_row bigint NOT NULL DEFAULT 0,
    -- the worker running the job, until lease_expires_at (renewed while it works)
    lease_owner text,
    lease_expires_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
);
-- the job list, newest first
CREATE INDEX import_jobs_created_idx ON import_jobs (created_at DESC, id DESC);
-- jobs to re-kick at startup (embedded mode)
CREATE INDEX import_jobs_unfinished_idx ON import_jobs (status)
    WHERE status IN ('pending', 'processing');

CREATE TABLE import_errors (
    job_id uuid NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    row_number bigint NOT NULL,
    message text NOT NULL,
    "row" jsonb NOT NULL,
    PRIMARY KEY (job_id, row_number)
);
