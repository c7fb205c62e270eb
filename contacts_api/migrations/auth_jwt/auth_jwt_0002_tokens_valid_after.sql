-- depends: auth_jwt_0001_users
-- Access tokens are not stored: to refuse them after a logout, a password
-- change or a refresh-token reuse, each user records the moment before which
-- its access tokens stopped counting: a whole second, and tokens whose `iat`
-- is that second or earlier are refused. NULL: every unexpired access token
-- of the user is good.

ALTER TABLE users ADD COLUMN tokens_valid_after timestamptz;
