"""SQLAlchemy tables of contacts and companies (the schema is in
``migrations/contacts``), and the namespace filters build conditions on.

Third-party filter plugins receive a ``ContactTables`` (contact filters) or a
``CompanyTables`` (company filters) as ``tables`` in ``FilterSpec.build``.
"""

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID

metadata = sa.MetaData()


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    ]


companies = sa.Table(
    "companies", metadata,
    sa.Column("uuid", UUID(as_uuid=True), primary_key=True,
              server_default=sa.text("gen_random_uuid()")),
    sa.Column("name", sa.Text),
    sa.Column("domain", sa.Text),
    sa.Column("employees_count", sa.Integer),
    sa.Column("industries", ARRAY(sa.Text), nullable=False),
    sa.Column("keywords", ARRAY(sa.Text), nullable=False),
    sa.Column("technologies", ARRAY(sa.Text), nullable=False),
    sa.Column("annual_revenue", sa.BigInteger),
    sa.Column("total_funding", sa.BigInteger),
    sa.Column("address", sa.Text),
    sa.Column("city", sa.Text),
    sa.Column("state", sa.Text),
    sa.Column("country", sa.Text),
    *_timestamps(),
)

company_metadata = sa.Table(
    "company_metadata", metadata,
    sa.Column("company_uuid", UUID(as_uuid=True), sa.ForeignKey("companies.uuid"),
              primary_key=True),
    sa.Column("website", sa.Text),
    sa.Column("linkedin_url", sa.Text),
    sa.Column("facebook_url", sa.Text),
    sa.Column("twitter_url", sa.Text),
    sa.Column("phone_number", sa.Text),
    sa.Column("company_name_for_emails", sa.Text),
    sa.Column("latest_funding", sa.Text),
    sa.Column("latest_funding_amount", sa.BigInteger),
    sa.Column("last_raised_at", sa.Text),
)

contacts = sa.Table(
    "contacts", metadata,
    sa.Column("uuid", UUID(as_uuid=True), primary_key=True,
              server_default=sa.text("gen_random_uuid()")),
    sa.Column("first_name", sa.Text),
    sa.Column("last_name", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("seniority", sa.Text),
    sa.Column("departments", ARRAY(sa.Text), nullable=False),
    sa.Column("email_status", sa.Text),
    sa.Column("mobile_phone", sa.Text),
    sa.Column("city", sa.Text),
    sa.Column("state", sa.Text),
    sa.Column("country", sa.Text),
    sa.Column("linkedin_url", sa.Text),
    sa.Column("company_uuid", UUID(as_uuid=True), sa.ForeignKey("companies.uuid")),
    *_timestamps(),
)

contact_metadata = sa.Table(
    "contact_metadata", metadata,
    sa.Column("contact_uuid", UUID(as_uuid=True), sa.ForeignKey("contacts.uuid"),
              primary_key=True),
    sa.Column("work_direct_phone", sa.Text),
    sa.Column("home_phone", sa.Text),
    sa.Column("other_phone", sa.Text),
    sa.Column("twitter_url", sa.Text),
    sa.Column("facebook_url", sa.Text),
    sa.Column("website", sa.Text),
    sa.Column("stage", sa.Text),
)

ALL_TABLES = [companies, company_metadata, contacts, contact_metadata]


@attrs.frozen
class ContactTables:
    """What contact filters build on: ``contacts`` and the optional joins
    ``contact_metadata``, ``companies`` and ``company_metadata``. A filter that
    uses a joined table declares it in ``FilterSpec.needs`` (``"contact_metadata"``,
    ``"company"``, ``"company_metadata"``)."""

    contacts: sa.Table = contacts
    contact_metadata: sa.Table = contact_metadata
    companies: sa.Table = companies
    company_metadata: sa.Table = company_metadata


@attrs.frozen
class CompanyTables:
    """What company filters build on: ``companies`` and ``company_metadata``
    (declare ``"company_metadata"`` in ``needs`` to use it)."""

    companies: sa.Table = companies
    company_metadata: sa.Table = company_metadata
