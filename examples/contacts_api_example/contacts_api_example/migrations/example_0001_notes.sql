-- A table of the example plugin: notes saved by its background task.
CREATE TABLE IF NOT EXISTS example_notes (
    id bigserial PRIMARY KEY,
    author text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
