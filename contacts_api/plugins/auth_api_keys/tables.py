"""SQLAlchemy tables of the auth_api_keys plugin (schema: ``migrations/auth_api_keys``).

``users`` is the auth_jwt plugin's table, named here by the public columns
this plugin reads (``id``, ``email``, ``role``, ``is_active``), as any plugin
may join on ``users.c.id``; it is not registered as this plugin's table.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, UUID

__all__ = ["ALL_TABLES", "api_keys", "users"]

metadata = sa.MetaData()

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("user_id", UUID(as_uuid=False), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("scopes", ARRAY(sa.Text), nullable=False),
    sa.Column("secret_hash", BYTEA, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

users = sa.table(
    "users",
    sa.column("id", UUID(as_uuid=False)),
    sa.column("email", sa.Text),
    sa.column("role", sa.Text),
    sa.column("is_active", sa.Boolean),
)

ALL_TABLES = (api_keys,)
