"""Upkeep of the contacts tables' indexes after bulk writes.

The trigram GIN indexes of ``contacts`` and ``companies`` take new rows into a
*pending list* (``fastupdate``, sized by ``gin_pending_list_limit``:
``migrations/contacts/contacts_0008_index_budget.sql``) and merge it into the index
in bulk, which costs far less per row than inserting every trigram of every row into
the index as it comes. The merge happens when the list is full, at VACUUM
(autovacuum), or when :func:`clean_pending_lists` asks for it. Rows in the pending
list are found by queries all the same, but every search using the index scans the
whole list: a writer of many rows (the CSV import) calls :func:`clean_pending_lists`
when it has finished, so searches do not pay for a full list until autovacuum
comes. Reached by other plugins through ``plugins.contacts.service``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import psycopg2

log = logging.getLogger("contacts_api.contacts")

# The GIN indexes of the contacts tables, found in the catalog (a third-party
# migration may add some), the largest first.
_GIN_INDEXES = """
SELECT i.indexrelid::regclass::text
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_am am ON am.oid = c.relam
WHERE am.amname = 'gin' AND i.indisvalid AND i.indrelid = ANY(%(tables)s::regclass[])
ORDER BY c.relpages DESC, 1
"""
# gin_clean_pending_list merges one index's pending list and answers the number of
# pending-list pages it removed.
_CLEAN = "SELECT gin_clean_pending_list(%s::regclass)"

TABLES = ("contacts", "companies")


async def clean_pending_lists(
    db: Any, tables: tuple[str, ...] = TABLES, connections: int = 2
) -> dict[str, int]:
    """Merge the pending lists of the GIN indexes of ``tables`` into their indexes,
    ``connections`` indexes at a time (each merge runs on one core); answer ``{index
    name: pending-list pages merged}``.

    Safe to call at any time, concurrently with writers and with itself (PostgreSQL
    serializes the merges of one index). Never raises for the database's refusal
    (a role that does not own the indexes, a read-only standby): the merge is an
    optimization that autovacuum also does, so the refusal is logged and the index
    left out of the answer.
    """
    try:
        names = [name for (name,) in await db.fetch_tuples(_GIN_INDEXES, {"tables": list(tables)})]
    except psycopg2.Error as error:
        _refused(", ".join(tables), error)
        return {}
    merged: dict[str, int] = {}

    async def clean(queue: list[str]) -> None:
        while queue:
            name = queue.pop(0)
            try:
                merged[name] = await db.fetch_val(_CLEAN, (name,))
            except psycopg2.Error as error:
                _refused(name, error)

    await asyncio.gather(*(clean(names) for _ in range(max(1, connections))))
    return dict(sorted(merged.items()))


def _refused(what: str, error: psycopg2.Error) -> None:
    log.warning(
        "could not merge the GIN pending lists of %s: %s",
        what,
        str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
    )
