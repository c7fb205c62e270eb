"""Create, update and delete contacts and companies (docs/api.md CRUD rules).

Bodies come checked by ``plugins.contacts.validation``. A contact's
``company`` is ``{"uuid"}`` (link), or company fields: found by domain, else
by case-insensitive name, else created. ``metadata`` is written as a nested
object (a partial object on update changes only the given keys; ``null``
removes it). Every write bumps the list-cache generation once committed.
"""

from typing import Any

import psycopg2.errors
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from contacts_api.core.errors import Conflict, NotFound, ValidationError
from contacts_api.plugins.contacts import cache
from contacts_api.plugins.contacts.service import get_company, get_contact
from contacts_api.plugins.contacts.tables import (
    COMPANY_NAME_LOCK,
    companies,
    company_metadata,
    contact_metadata,
    contacts,
)


async def _upsert_metadata(tx, table, key: str, uuid: str, values: dict | None) -> None:
    if values is None:
        await tx.execute(sa.delete(table).where(table.c[key] == uuid))
        return
    statement = pg_insert(table).values({key: uuid, **values})
    if values:
        statement = statement.on_conflict_do_update(index_elements=[key], set_=values)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=[key])
    await tx.execute(statement)


async def _insert_company(tx, fields: dict[str, Any], *, link: bool = False) -> str:
    """Insert a company; with ``link``, a company created meanwhile with the same
    domain is returned instead (find-or-create races end in a link, not a 409)."""
    values = {k: v for k, v in fields.items() if k != "metadata"}
    statement = pg_insert(companies).values(values)
    if link and values.get("domain"):
        statement = statement.on_conflict_do_nothing(
            index_elements=["domain"], index_where=companies.c.domain.isnot(None)
        )
    uuid = await tx.fetch_val(statement.returning(companies.c.uuid))
    if uuid is None:
        return str(
            await tx.fetch_val(
                sa.select(companies.c.uuid).where(companies.c.domain == values["domain"])
            )
        )
    if fields.get("metadata") is not None:
        await _upsert_metadata(tx, company_metadata, "company_uuid", uuid, fields["metadata"])
    return str(uuid)


async def _resolve_company(tx, ref: dict[str, Any] | None) -> str | None:
    if ref is None:
        return None
    if set(ref) == {"uuid"}:
        found = await tx.fetch_val(
            sa.select(companies.c.uuid).where(companies.c.uuid == ref["uuid"])
        )
        if found is None:
            raise ValidationError.single(("body", "company", "uuid"), "no such company")
        return str(found)
    if ref.get("domain"):
        found = await tx.fetch_val(
            sa.select(companies.c.uuid).where(companies.c.domain == ref["domain"])
        )
        if found is not None:
            return str(found)
    if ref.get("name"):
        # Until this transaction ends, no one else finds-or-creates this name
        # (the import takes the same lock): two creators cannot both miss it.
        await tx.fetch_val(
            sa.select(
                sa.func.pg_advisory_xact_lock(
                    COMPANY_NAME_LOCK, sa.func.hashtext(ref["name"].lower())
                )
            )
        )
        found = await tx.fetch_val(
            sa.select(companies.c.uuid)
            .where(sa.func.lower(companies.c.name) == sa.func.lower(ref["name"]))
            .order_by(companies.c.created_at, companies.c.uuid)
            .limit(1)
        )
        if found is not None:
            return str(found)
    return await _insert_company(tx, ref, link=True)


def _conflict(exc: psycopg2.errors.UniqueViolation) -> Conflict:
    constraint = getattr(exc.diag, "constraint_name", "") or ""
    if "email" in constraint:
        return Conflict("A contact with this email already exists.")
    if "domain" in constraint:
        return Conflict("A company with this domain already exists.")
    return Conflict()


async def _contact_write(resources, uuid: str | None, fields: dict[str, Any]) -> str:
    values = {k: v for k, v in fields.items() if k not in ("company", "metadata")}

    async def write(tx) -> str:
        row = dict(values)
        if "company" in fields:
            row["company_uuid"] = await _resolve_company(tx, fields["company"])
        if uuid is None:
            written = str(
                await tx.fetch_val(sa.insert(contacts).values(row).returning(contacts.c.uuid))
            )
        else:
            row["updated_at"] = sa.func.now()
            written = await tx.fetch_val(
                sa.update(contacts)
                .values(row)
                .where(contacts.c.uuid == uuid)
                .returning(contacts.c.uuid)
            )
            if written is None:
                raise NotFound("Contact not found.")
            written = str(written)
        if "metadata" in fields:
            await _upsert_metadata(
                tx, contact_metadata, "contact_uuid", written, fields["metadata"]
            )
        return written

    try:
        # A write can deadlock with an import (the company name lock, new dictionary
        # values): it was rolled back whole, so it runs again.
        written = await resources.db.in_transaction(write)
    except psycopg2.errors.UniqueViolation as exc:
        raise _conflict(exc) from None
    await cache.invalidate(resources)
    return written


async def create_contact(resources, fields: dict[str, Any]) -> dict[str, Any]:
    return await get_contact(resources, await _contact_write(resources, None, fields))


async def update_contact(resources, uuid: str, fields: dict[str, Any]) -> dict[str, Any]:
    return await get_contact(resources, await _contact_write(resources, uuid, fields))


async def _company_write(resources, uuid: str | None, fields: dict[str, Any]) -> str:
    values = {k: v for k, v in fields.items() if k != "metadata"}

    async def write(tx) -> str:
        if uuid is None:
            return await _insert_company(tx, fields)
        updated = await tx.fetch_val(
            sa.update(companies)
            .values({**values, "updated_at": sa.func.now()})
            .where(companies.c.uuid == uuid)
            .returning(companies.c.uuid)
        )
        if updated is None:
            raise NotFound("Company not found.")
        if "metadata" in fields:
            await _upsert_metadata(tx, company_metadata, "company_uuid", uuid, fields["metadata"])
        return uuid

    try:
        written = await resources.db.in_transaction(write)
    except psycopg2.errors.UniqueViolation as exc:
        raise _conflict(exc) from None
    await cache.invalidate(resources)
    return written


async def create_company(resources, fields: dict[str, Any]) -> dict[str, Any]:
    return await get_company(resources, await _company_write(resources, None, fields))


async def update_company(resources, uuid: str, fields: dict[str, Any]) -> dict[str, Any]:
    return await get_company(resources, await _company_write(resources, uuid, fields))


async def _delete(resources, table, uuid: str, what: str) -> None:
    deleted = await resources.db.fetch_val(
        sa.delete(table).where(table.c.uuid == uuid).returning(table.c.uuid)
    )
    if deleted is None:
        raise NotFound(f"{what} not found.")
    await cache.invalidate(resources)


async def delete_contact(resources, uuid: str) -> None:
    await _delete(resources, contacts, uuid, "Contact")


async def delete_company(resources, uuid: str) -> None:
    """Its contacts stay, with ``company: null`` (the foreign key sets NULL)."""
    await _delete(resources, companies, uuid, "Company")
