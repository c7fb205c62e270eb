"""The ``exports`` table (schema in ``migrations/exports``)."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = sa.MetaData()

exports = sa.Table(
    "exports",
    metadata,
    sa.Column(
        "id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")
    ),
    sa.Column("owner_id", sa.Text, nullable=False),
    # "contacts" or "companies" (exports_0003_kind.sql)
    sa.Column("kind", sa.Text, nullable=False, server_default="contacts"),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("selection", JSONB, nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("storage_key", sa.Text, nullable=False),
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("size_bytes", sa.BigInteger),
    sa.Column("error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
)
