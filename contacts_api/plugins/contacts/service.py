"""The contacts service: the public API other plugins (apollo, exports) call.

Reading (list, count, uuid and attribute queries run under ``SET LOCAL
statement_timeout`` = ``[contacts] list_statement_timeout_ms``, see
``plugins.contacts.reads``; a slower query raises psycopg2's
``QueryCanceledError``, answered 503 by the core)::

    applied = parse_contact_query(app, pairs, extra_ignore=())   # or
    applied = app[FILTERS].contacts.parse_mapping({"title": ["CEO"]})
    page = await list_contacts(resources, signer, applied, "-employees", limit=25,
                               cursor=None, offset=0, view="full", include_count=False)
    # page.results: list of Contact dicts (docs/api.md); page.next_cursor /
    # page.previous_cursor: tokens for the ``cursor`` argument (None at either end);
    # page.next_offset / page.previous_offset: the same pages by offset, when no
    # cursor was given and within max_offset; page.count when include_count.
    n = await count_contacts(resources, applied)
    total, uuids = await contact_uuid_list(resources, applied, "-created_at", limit=1000)
    async for contact in iter_contact_rows(resources, applied, batch_size=5000):
        ...   # Contact dicts with company and metadata, keyset batches, constant memory
    page = await list_companies(resources, signer, applied, ...)   # same for companies
    n = await count_companies(resources, applied)
    async for company in iter_company_rows(resources, applied, batch_size=5000): ...
    contact = await get_contact(resources, uuid)       # raises NotFound
    rows = await attribute_values(resources, "contacts", "title", applied, search="head",
                                  ordering="-count", limit=25, offset=0)   # (value, count)

These functions prepare the filters (``AppliedFilters.prepared``: the
dictionary lookups); code building SQL from filters itself must do it first.

Writing (``plugins.contacts.writes``): ``create_contact``, ``update_contact``,
``delete_contact``, ``create_company``, ``update_company``, ``delete_company``;
every write calls ``invalidate_lists(resources)`` (the list cache generation).
A plugin writing contacts by other means (the CSV import) should call
``invalidate_lists`` when it has written, and ``clean_pending_lists(resources.db)``
(``plugins.contacts.maintenance``) when it has written many rows: it merges the
trigram indexes' pending lists, which searches otherwise scan whole.
"""

from collections.abc import AsyncIterator, Iterable
from typing import Any

import attrs

from contacts_api.core.appkeys import FILTERS
from contacts_api.core.errors import NotFound
from contacts_api.core.filters import AppliedFilters
from contacts_api.core.sql import compile_sql
from contacts_api.plugins.contacts import (
    attributes,
    cache,
    dictionaries,
    gated_lookups,
    reads,
    repository,
    serialize,
    stored_terms,
)
from contacts_api.plugins.contacts.maintenance import clean_pending_lists
from contacts_api.plugins.contacts.normalize import composed, normalize_domain
from contacts_api.plugins.contacts.ordering import (
    COMPANY_ORDERING,
    CONTACT_ORDERING,
    Ordering,
    parse_ordering,
)
from contacts_api.plugins.contacts.pagination import (
    PAGE_PARAMS,
    decode_cursor,
    encode_cursor,
    scope_of,
)
from contacts_api.plugins.contacts.serialize import company, contact

# The vocabulary and limits of contact fields, and the company-name lock, for
# plugins that validate or write contacts their own way (apollo, imports).
from contacts_api.plugins.contacts.tables import (
    COMPANY_NAME_LOCK,
    EMAIL_STATUSES,
    MAX_LONG_TEXT,
    MAX_TEXT,
    SENIORITIES,
)

__all__ = [
    "COMPANY_NAME_LOCK",
    "EMAIL_STATUSES",
    "LIST_PARAMS",
    "MAX_LONG_TEXT",
    "MAX_TEXT",
    "SENIORITIES",
    "Page",
    "attribute_values",
    "clean_pending_lists",
    "composed",
    "contact_uuid_list",
    "count_companies",
    "count_contacts",
    "get_company",
    "get_contact",
    "invalidate_lists",
    "iter_company_rows",
    "iter_contact_rows",
    "list_companies",
    "list_contacts",
    "normalize_domain",
    "parse_contact_query",
    "run_read",
]

LIST_PARAMS = (*PAGE_PARAMS, "ordering", "view", "include_count")
invalidate_lists = cache.invalidate


@attrs.frozen
class Page:
    results: list[dict[str, Any]]
    next_cursor: str | None = None
    previous_cursor: str | None = None
    next_offset: int | None = None
    previous_offset: int | None = None
    count: int | None = None


def parse_contact_query(
    app, pairs: Iterable[tuple[str, str]], extra_ignore: Iterable[str] = ()
) -> AppliedFilters:
    """Contact filters from query pairs; list parameters and ``extra_ignore`` skipped."""
    return app[FILTERS].contacts.parse(pairs, ignore=(*LIST_PARAMS, *extra_ignore))


async def run_read(resources, query, *, many: bool = True, tuples: bool = False):
    """One read (a statement or ``(sql, params)``) under the list statement timeout."""
    sql, params = query if isinstance(query, tuple) else compile_sql(query)
    mode = "tuples" if tuples else ("all" if many else "val")
    return (await reads.run(resources, (sql, params, mode)))[0]


async def _page(
    resources,
    signer,
    *,
    resource: str,
    applied: AppliedFilters,
    ordering: Ordering,
    limit: int,
    cursor: str | None,
    offset: int,
    build,
    serialize_page,
    count_query=None,
) -> Page:
    scope = scope_of(resource, ordering.text, applied.raw)
    anchor = decode_cursor(signer, cursor, scope, len(ordering.keys)) if cursor else None
    order = ordering if anchor is None or anchor.forward else ordering.reversed()
    after = list(anchor.values) if anchor else None
    sql, params = build(order, limit=limit + 1, offset=0 if anchor else offset, after=after)
    queries = [(sql, params, "table")]
    if count_query is not None:
        queries.append((*count_query, "val"))
    table, *count = await reads.run(resources, *queries)
    count = count[0] if count else None
    rows = table.rows
    more = len(rows) > limit
    rows = rows[:limit]
    if anchor is not None and not anchor.forward:
        rows.reverse()
    positions = [table.names.index(key.column) for key in ordering.keys]

    def token(forward: bool, row: tuple) -> str:
        return encode_cursor(signer, scope, forward, [row[i] for i in positions])

    page = {"results": serialize_page(table.names, rows), "count": count}
    backward = anchor is not None and not anchor.forward
    if rows:
        if more or backward:
            page["next_cursor"] = token(True, rows[-1])
        if more if backward else (anchor is not None or offset > 0):
            page["previous_cursor"] = token(False, rows[0])
    if anchor is None:
        if more and offset + limit <= resources.settings.contacts.max_offset:
            page["next_offset"] = offset + limit
        if offset > 0:
            page["previous_offset"] = max(0, offset - limit)
    return Page(**page)


async def _cached(resources, key: tuple, load) -> Page:
    """``load()``, through the list cache when it is on (its key, a hash of
    ``key``, is only made then)."""
    if not resources.settings.contacts.list_cache_enabled:
        return await load()
    return await cache.cached_page(resources, cache.page_key(*key), load, Page)


async def list_contacts(
    resources,
    signer,
    applied: AppliedFilters,
    ordering: Ordering | str | None = None,
    *,
    limit: int = 25,
    cursor: str | None = None,
    offset: int = 0,
    view: str = "full",
    include_count: bool = False,
    company_uuid: Any = None,
) -> Page:
    """A page of contacts (``view`` ``full`` or ``simple``); see the module docstring."""
    if not isinstance(ordering, Ordering):
        ordering = parse_ordering(ordering, CONTACT_ORDERING)
    resource = f"company:{company_uuid}" if company_uuid else "contacts"
    key = (resource, ordering.text, applied.raw, limit, cursor, offset, view, include_count)

    async def page_of(ready: AppliedFilters) -> Page:
        counted = await stored_terms.attach(resources.db, ready) if include_count else ready
        return await _page(
            resources,
            signer,
            resource=resource,
            applied=ready,
            ordering=ordering,
            limit=limit,
            cursor=cursor,
            offset=offset,
            build=lambda order, **kw: repository.contact_page(
                ready, order, view=view, company_uuid=company_uuid, **kw
            ),
            serialize_page=(
                serialize.simple_contact_page if view == "simple" else serialize.contact_page
            ),
            count_query=(
                repository.contact_count(counted, company_uuid) if include_count else None
            ),
        )

    async def load() -> Page:
        if include_count:  # a count has no empty answer to tell a failed gate by
            return await page_of(await applied.prepared(resources.db))
        with gated_lookups.collecting() as gates:
            ready = await applied.prepared(resources.db)
        if gates:
            page = await page_of(gated_lookups.with_gates(ready, gates))
            if page.results:
                return page
            # a gate failed, or the page is empty anyway: refreshed, then again
            ready = await applied.prepared(resources.db)
            gated_lookups.refreshed(gates)
        return await page_of(ready)

    return await _cached(resources, key, load)


async def list_companies(
    resources,
    signer,
    applied: AppliedFilters,
    ordering: Ordering | str | None = None,
    *,
    limit: int = 25,
    cursor: str | None = None,
    offset: int = 0,
    include_count: bool = False,
) -> Page:
    if not isinstance(ordering, Ordering):
        ordering = parse_ordering(ordering, COMPANY_ORDERING)
    key = ("companies", ordering.text, applied.raw, limit, cursor, offset, "full", include_count)

    async def load() -> Page:
        ready = await applied.prepared(resources.db)
        return await _page(
            resources,
            signer,
            resource="companies",
            applied=ready,
            ordering=ordering,
            limit=limit,
            cursor=cursor,
            offset=offset,
            build=lambda order, **kw: repository.company_page(ready, order, **kw),
            serialize_page=serialize.company_page,
            count_query=repository.company_count(ready) if include_count else None,
        )

    return await _cached(resources, key, load)


async def attribute_values(
    resources,
    kind: str,
    attribute: str,
    applied: AppliedFilters,
    *,
    search: str | None,
    ordering: str,
    limit: int,
    offset: int,
) -> list[tuple[str, int]]:
    """``(value, count)`` rows of an attribute (``kind`` ``contacts`` or
    ``companies``) among the matching rows; ``search`` narrows the values."""
    applied = await applied.prepared(resources.db)
    if kind == "contacts":
        applied = await stored_terms.attach(resources.db, applied)
        if attribute in attributes.DICTIONARY_ATTRIBUTES and search:
            search = await dictionaries.match(resources.db, attribute, search)
            search = await stored_terms.attach_one(resources.db, search)
        query = attributes.contact_values(
            attribute, applied, search=search, ordering=ordering, limit=limit, offset=offset
        )
    else:
        query = attributes.company_values(
            attribute, applied, search=search, ordering=ordering, limit=limit, offset=offset
        )
    return await run_read(resources, query, tuples=True)


async def count_contacts(resources, applied: AppliedFilters, company_uuid: Any = None) -> int:
    applied = await stored_terms.attach(resources.db, await applied.prepared(resources.db))
    return await run_read(resources, repository.contact_count(applied, company_uuid), many=False)


async def count_companies(resources, applied: AppliedFilters) -> int:
    applied = await applied.prepared(resources.db)
    return await run_read(resources, repository.company_count(applied), many=False)


async def contact_uuid_list(
    resources, applied: AppliedFilters, ordering=None, *, limit: int, company_uuid: Any = None
) -> tuple[int, list[str]]:
    """``(total matching, the first limit uuids in list order)``."""
    if not isinstance(ordering, Ordering):
        ordering = parse_ordering(ordering, CONTACT_ORDERING)
    applied = await applied.prepared(resources.db)
    counted = await stored_terms.attach(resources.db, applied)
    total, rows = await reads.run(
        resources,
        (*repository.contact_count(counted, company_uuid), "val"),
        (*repository.contact_uuids(applied, ordering, limit, company_uuid), "tuples"),
    )
    return total, [str(r[0]) for r in rows]


async def company_uuid_list(
    resources, applied: AppliedFilters, ordering=None, *, limit: int
) -> tuple[int, list[str]]:
    if not isinstance(ordering, Ordering):
        ordering = parse_ordering(ordering, COMPANY_ORDERING)
    applied = await applied.prepared(resources.db)
    total, rows = await reads.run(
        resources,
        (*repository.company_count(applied), "val"),
        (*repository.company_uuids(applied, ordering, limit), "tuples"),
    )
    return total, [str(r[0]) for r in rows]


async def _iterate(
    resources, applied: AppliedFilters, page, serialize, ordering: Ordering, batch_size: int
) -> AsyncIterator[dict[str, Any]]:
    applied = await applied.prepared(resources.db)
    after = None
    while True:
        rows = await resources.db.fetch_all(*page(applied, ordering, limit=batch_size, after=after))
        for row in rows:
            yield serialize(row)
        if len(rows) < batch_size:
            return
        after = repository.sort_values(rows[-1], ordering)


def iter_contact_rows(
    resources, applied: AppliedFilters, batch_size: int = 5000, ordering: str | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Every matching contact (full view), fetched in keyset batches."""
    order = parse_ordering(ordering, CONTACT_ORDERING)
    return _iterate(resources, applied, repository.contact_page, contact, order, batch_size)


def iter_company_rows(
    resources, applied: AppliedFilters, batch_size: int = 5000, ordering: str | None = None
) -> AsyncIterator[dict[str, Any]]:
    order = parse_ordering(ordering, COMPANY_ORDERING)
    return _iterate(resources, applied, repository.company_page, company, order, batch_size)


async def get_contact(resources, uuid: Any) -> dict[str, Any]:
    rows = await resources.db.fetch_all(*repository.contact_by_uuid(uuid))
    if not rows:
        raise NotFound("Contact not found.")
    return contact(rows[0])


async def get_company(resources, uuid: Any) -> dict[str, Any]:
    rows = await resources.db.fetch_all(*repository.company_by_uuid(uuid))
    if not rows:
        raise NotFound("Company not found.")
    return company(rows[0])
