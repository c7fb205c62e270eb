-- Users (docs/api.md "Users"), their profiles (1:1, created together) and the
-- server-side record of refresh tokens (rotation, reuse detection, logout).

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL CHECK (email <> '' AND length(email) <= 254),
    -- bcrypt over base64(HMAC-SHA256(pepper, password)); see plugins/auth_jwt/passwords.py
    password_hash text NOT NULL,
    role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    is_active boolean NOT NULL DEFAULT true,
    last_sign_in_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Emails are unique case-insensitively; logins look users up by lower(email).
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
-- The admin list pages by (created_at, id).
CREATE INDEX users_created_at_id_idx ON users (created_at, id);

CREATE TABLE user_profiles (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    full_name text,
    job_title text,
    company text,
    timezone text,
    avatar_url text,
    bio text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per refresh token ever issued, keyed by sha256(jti): the token
-- itself is never stored. A family is the chain of rotations of one login.
CREATE TABLE refresh_tokens (
    jti_hash text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id uuid NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_reason text CHECK (revoked_reason IN
        ('rotated', 'logout', 'reuse', 'password_change', 'deactivated'))
);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);
