-- depends: exports_0001_exports
-- The running task's heartbeat: an export whose heartbeat stopped (its worker
-- died) may be taken over by a redelivered task; a live one is waited for.
ALTER TABLE exports ADD COLUMN heartbeat_at timestamptz;
