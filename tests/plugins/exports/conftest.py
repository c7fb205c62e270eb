"""Fixtures for export tests: the test auth plugin ``HeaderActors`` (exports
belong to any auth method's actor), seeding through SQL, and polling."""

import asyncio
import csv
import io
import uuid

import pytest
import sqlalchemy as sa

from core.appkeys import RESOURCES
from plugins.contacts.tables import companies, company_metadata, contact_metadata, contacts
from tests.helpers import HeaderActors, as_user


@pytest.fixture
def export_client(make_client):
    async def factory(settings):
        return await make_client(settings, extra_plugins=[("header_actors", HeaderActors())])

    return factory


async def seed(client, people: list[dict]) -> list[uuid.UUID]:
    """Insert contacts (keys of the contacts table, plus optional ``company``,
    ``company_meta`` and ``meta`` dicts); return their uuids in order."""
    db = client.app[RESOURCES].db
    uuids = []
    for person in people:
        person = dict(person)
        company, company_meta = person.pop("company", None), person.pop("company_meta", None)
        meta = person.pop("meta", None)
        company_uuid = None
        if company is not None:
            company_uuid = await db.fetch_val(
                sa.insert(companies).values(**company).returning(companies.c.uuid))
            if company_meta:
                await db.execute(sa.insert(company_metadata).values(
                    company_uuid=company_uuid, **company_meta))
        contact_uuid = await db.fetch_val(sa.insert(contacts).values(
            company_uuid=company_uuid, **person).returning(contacts.c.uuid))
        if meta:
            await db.execute(sa.insert(contact_metadata).values(contact_uuid=contact_uuid, **meta))
        uuids.append(contact_uuid)
    return uuids


async def wait_done(client, export_id: str, user: str = "alice", timeout: float = 20) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        export = await (await client.get(f"/api/v2/exports/{export_id}",
                                         headers=as_user(user))).json()
        if export["status"] in ("completed", "failed"):
            return export
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"export still {export['status']}")
        await asyncio.sleep(0.05)


def parse_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
