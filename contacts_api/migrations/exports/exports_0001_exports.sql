-- CSV exports (docs/api.md "Export"). An export belongs to the actor that asked for
-- it (any auth method's actor id), and keeps what it selects: contact uuids or
-- the parsed contact filters.

CREATE TABLE exports (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id text NOT NULL,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    selection jsonb NOT NULL,
    file_name text NOT NULL,
    storage_key text NOT NULL,
    row_count bigint NOT NULL DEFAULT 0,
    size_bytes bigint,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
);
CREATE INDEX exports_owner_created_idx ON exports (owner_id, created_at DESC, id DESC);
CREATE INDEX exports_created_idx ON exports (created_at);
