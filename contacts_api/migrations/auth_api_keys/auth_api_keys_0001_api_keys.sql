-- depends: auth_jwt_0001_users
-- API keys of users (docs/api.md "Authentication"): `cak_<id>_<secret>`. Only
-- HMAC-SHA256(server key, secret) is kept (plugins/auth_api_keys/keys.py):
-- the secret is shown once, at creation. A key is checked against this row on
-- every request, so a revocation (or the owner's deactivation) counts at once
-- in every process.
CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) <= 200),
    scopes text[] NOT NULL,
    secret_hash bytea NOT NULL CHECK (length(secret_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz
);
-- A user's keys, newest first.
CREATE INDEX api_keys_user_id_created_at_idx ON api_keys (user_id, created_at DESC);
