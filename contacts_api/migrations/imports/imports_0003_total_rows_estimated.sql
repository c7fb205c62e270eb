-- The job's total_rows is known (or estimated from the file size) from the start, so
-- progress has a denominator; this flag says it is an estimate (until the job ends).
-- depends: imports_0001_jobs

ALTER TABLE import_jobs ADD COLUMN total_rows_estimated boolean NOT NULL DEFAULT false;
