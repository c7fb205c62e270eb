"""Test helpers that are not fixtures."""

import asyncio
import contextlib
import uuid
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

from contacts_api.core.appkeys import RESOURCES
from contacts_api.core.auth import Actor
from contacts_api.core.hookspecs import hookimpl
from contacts_api.plugins.contacts.tables import (
    companies,
    company_metadata,
    contact_metadata,
    contacts,
)


class HeaderActors:
    """A test-only auth method: ``X-Test-User: alice`` is the actor ``alice``.
    Routes that only need *some* authenticated actor are tested with it."""

    @hookimpl
    def actor_from_request(self, request, resources):
        user = request.headers.get("X-Test-User")
        return Actor(id=user, kind="test") if user else None


def as_user(name: str) -> dict[str, str]:
    return {"X-Test-User": name}


class TcpProxy:
    """A loopback TCP proxy to a real service, so a test can cut the service
    off (``stop()`` drops every connection and refuses new ones) and bring it
    back (``start()`` on the same port) without touching the shared server."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port: int | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port or 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update((writer, up_writer))


def url_via(url: str, port: int) -> str:
    """``url`` with its host and port replaced by the loopback proxy's."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (userinfo + "@" if userinfo else "") + f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


async def seed(client, people: list[dict]) -> list[uuid.UUID]:
    """Insert contacts (keys of the contacts table, plus optional ``company``,
    ``company_meta`` and ``meta`` dicts); return their uuids in order. People
    naming the same company dict (same name and domain) share one company."""
    db = client.app[RESOURCES].db
    uuids, known = [], {}
    for person in people:
        person = dict(person)
        company, company_meta = person.pop("company", None), person.pop("company_meta", None)
        meta = person.pop("meta", None)
        company_uuid = None
        identity = company and (company.get("name"), company.get("domain"))
        if identity in known:
            company_uuid = known[identity]
        elif company is not None:
            company_uuid = known[identity] = await db.fetch_val(
                sa.insert(companies).values(**company).returning(companies.c.uuid)
            )
            if company_meta:
                await db.execute(
                    sa.insert(company_metadata).values(company_uuid=company_uuid, **company_meta)
                )
        contact_uuid = await db.fetch_val(
            sa.insert(contacts)
            .values(company_uuid=company_uuid, **person)
            .returning(contacts.c.uuid)
        )
        if meta:
            await db.execute(sa.insert(contact_metadata).values(contact_uuid=contact_uuid, **meta))
        uuids.append(contact_uuid)
    return uuids


async def assert_kicks_the_lost_jobs_once(tasks, task_name, key, recover, lost, queued) -> None:
    """``recover()`` (a ``core.recovery.kick_lost``) kicks exactly the ``lost`` jobs,
    leaving them in the task's queue beside the ``queued`` ones, and, called again,
    kicks nothing: they are queued now."""
    assert sorted(await recover()) == sorted(lost)
    in_queue = sorted(payload[key] for payload in await tasks.queued(task_name))
    assert in_queue == sorted([*lost, *queued])
    assert await recover() == []
