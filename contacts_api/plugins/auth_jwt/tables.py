"""SQLAlchemy tables of the auth_jwt plugin (the schema is in ``migrations/auth_jwt``).

Other plugins may join on ``users.c.id`` (an actor of kind ``"user"`` has
``actor.id == str(users.c.id)``). Ids are handled as strings (``as_uuid=False``):
aiopg returns uuid columns as text.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

metadata = sa.MetaData()


def _time(name: str, **kwargs) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kwargs)


def _now(name: str) -> sa.Column:
    return _time(name, nullable=False, server_default=sa.func.now())


users = sa.Table(
    "users",
    metadata,
    sa.Column(
        "id", UUID(as_uuid=False), primary_key=True, server_default=sa.text("gen_random_uuid()")
    ),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False, server_default="user"),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    _time("last_sign_in_at"),
    _now("created_at"),
    _now("updated_at"),
    # Access tokens issued (iat) in this second or before are refused: see
    # sessions.access_cutoff.
    _time("tokens_valid_after"),
)

PROFILE_FIELDS = ("full_name", "job_title", "company", "timezone", "avatar_url", "bio")

user_profiles = sa.Table(
    "user_profiles",
    metadata,
    sa.Column(
        "user_id",
        UUID(as_uuid=False),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    *(sa.Column(name, sa.Text) for name in PROFILE_FIELDS),
    _now("updated_at"),
    # The storage key of an uploaded avatar (auth_jwt_0003_avatar_key.sql): when set,
    # the profile's avatar_url is a fresh link to it, and the avatar_url column is NULL.
    sa.Column("avatar_key", sa.Text),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("jti_hash", sa.Text, primary_key=True),
    sa.Column(
        "user_id",
        UUID(as_uuid=False),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("family_id", UUID(as_uuid=False), nullable=False),
    _now("issued_at"),
    _time("expires_at", nullable=False),
    _time("revoked_at"),
    sa.Column("revoked_reason", sa.Text),
)

ALL_TABLES = (users, user_profiles, refresh_tokens)
