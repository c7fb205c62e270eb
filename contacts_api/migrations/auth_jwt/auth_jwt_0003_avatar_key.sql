-- depends: auth_jwt_0002_tokens_valid_after
-- Uploaded avatars (POST /api/v2/users/me/avatar): the storage key of the
-- re-encoded thumbnail. The profile's avatar_url is then a fresh signed link to
-- it, made each time the profile is read; the avatar_url column keeps an
-- external URL set through PATCH /api/v2/users/me/profile (one or the other).
ALTER TABLE user_profiles ADD COLUMN avatar_key text;
