"""SQLAlchemy tables of import jobs (the schema is in ``migrations/imports``)."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = sa.MetaData()

import_jobs = sa.Table(
    "import_jobs",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("storage_key", sa.Text, nullable=False),
    sa.Column("file_size", sa.BigInteger, nullable=False),
    sa.Column("total_rows", sa.BigInteger),
    sa.Column("total_rows_estimated", sa.Boolean, nullable=False),
    sa.Column("processed_rows", sa.BigInteger, nullable=False),
    sa.Column("created_count", sa.BigInteger, nullable=False),
    sa.Column("updated_count", sa.BigInteger, nullable=False),
    sa.Column("error_count", sa.BigInteger, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("warnings", JSONB, nullable=False),
    sa.Column("resume_row", sa.BigInteger, nullable=False),
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_expires_at", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
)

import_errors = sa.Table(
    "import_errors",
    metadata,
    sa.Column("job_id", UUID(as_uuid=True), sa.ForeignKey("import_jobs.id"), primary_key=True),
    sa.Column("row_number", sa.BigInteger, primary_key=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("row", JSONB, nullable=False),
)

# The bulk path's records (``bulk``): deferred indexes and the jobs holding them back.
import_deferred_indexes = sa.Table(
    "import_deferred_indexes",
    metadata,
    sa.Column("index_name", sa.Text, primary_key=True),
    sa.Column("table_name", sa.Text, nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("deferred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("rebuild_plainly", sa.Boolean, nullable=False),
)

import_bulk_loads = sa.Table(
    "import_bulk_loads",
    metadata,
    sa.Column("job_id", UUID(as_uuid=True), sa.ForeignKey("import_jobs.id"), primary_key=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
)

ALL_TABLES = [import_jobs, import_errors, import_deferred_indexes, import_bulk_loads]
