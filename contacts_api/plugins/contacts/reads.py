"""Reads under the list statement timeout, in as few round trips as possible,
and compiled SQL cached by statement shape.

``run`` sends ``SET LOCAL statement_timeout = N;`` together with each
statement: one round trip per statement (a transaction would take four).
A query over the timeout raises psycopg2's ``QueryCanceledError`` (the core
answers 503). ``render`` fills a cached SQL template (compiled once per
shape: joins, ordering, view) with the freshly compiled WHERE condition, so a
request compiles only its filters, not the whole 60-column statement.
"""

import asyncio
from collections.abc import Callable
from typing import Any, NamedTuple

import psycopg2.extensions
import sqlalchemy as sa

from contacts_api.core.sql import compile_sql

WHERE, LIMIT, OFFSET, ROWS = "__WHERE__", "__LIMIT__", "__OFFSET__", "__ROWS__"
GROUPS = "__GROUPS__"
# Reads return uuids as text. Every consumer (JSON pages, cursor tokens, uuid
# lists) wants the string, and aiopg's caster parsed ~100 uuid.UUID objects per
# full page only to have them formatted again: about 0.3 ms of a 25-row page.
UUID_AS_TEXT = psycopg2.extensions.new_type((2950,), "UUID_AS_TEXT", lambda value, cur: value)
Sql = tuple[str, dict[str, Any]]


class Table(NamedTuple):
    """Rows as the database sent them, with their column names: what
    ``serialize``'s page functions take (no dict per row in between)."""

    names: tuple[str, ...]
    rows: list[tuple]


def markers() -> tuple[sa.TextClause, sa.ColumnElement, sa.ColumnElement]:
    """Stand-ins for the condition, limit and offset in a template statement (and
    ``sa.literal_column(ROWS)`` for limit + offset)."""
    return sa.text(WHERE), sa.literal_column(LIMIT), sa.literal_column(OFFSET)


_TEMPLATES: dict[tuple, str] = {}
MAX_TEMPLATES = 1024


def _template(key: tuple, build: Callable[[], Any]) -> str:
    sql = _TEMPLATES.get(key)
    if sql is None:
        sql, params = compile_sql(build())
        # values come through render(); a template may declare bind parameters
        assert all(value is None for value in params.values()), "a value in a template"
        if len(_TEMPLATES) >= MAX_TEMPLATES:
            _TEMPLATES.clear()
        _TEMPLATES[key] = sql
    return sql


_SPLIT = "__SPLIT__"


def _compile_two(first: sa.ColumnElement, second: sa.ColumnElement) -> tuple[str, str, dict]:
    """Both conditions compiled in one go, so that their bind parameters get
    distinct names: ``first AND __SPLIT__ AND second``, cut at the marker (an AND
    of ANDs is flat, any OR inside is parenthesized by the compiler)."""
    sql, params = compile_sql(sa.and_(first, sa.text(_SPLIT), second))
    if _SPLIT not in sql:  # a side was FALSE: the whole AND folded to it
        return "false", "false", params
    head, tail = sql.split(_SPLIT, 1)
    # a side that was TRUE is left out of the AND, with its " AND "
    head, tail = head.removesuffix(" AND "), tail.removeprefix(" AND ")
    return head or "true", tail or "true", params


def render(
    key: tuple,
    build: Callable[[], Any],
    condition: sa.ColumnElement,
    limit: int = 0,
    offset: int = 0,
    params: dict[str, Any] | None = None,
    groups: sa.ColumnElement | None = None,
) -> Sql:
    """The template of ``key`` (``build()`` compiled the first time) with
    ``condition`` compiled into it (wherever the template holds it) and the values
    of the template's own bind parameters, ``params``; ``groups``: a second
    condition, for the template's ``GROUPS`` marker."""
    template = _template(key, build)
    if groups is None:
        where, where_params = compile_sql(condition)
    else:
        where, groups_sql, where_params = _compile_two(condition, groups)
        template = template.replace(GROUPS, f"({groups_sql})")
    sql = (
        template.replace(LIMIT, str(int(limit)), 1)
        .replace(OFFSET, str(int(offset)), 1)
        .replace(ROWS, str(int(limit) + int(offset)))
    )
    # Parenthesized: the template may AND the marker with its own conditions, and
    # "a OR b AND c" would bind as "a OR (b AND c)".
    return sql.replace(WHERE, f"({where})"), {**where_params, **(params or {})}


async def _execute(cur: Any, sql: str, params: Any) -> None:
    try:
        await cur.execute(sql, params)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        # aiopg reports the server's statement_timeout as CancelledError (as in
        # core.resources.database): hand on the database's error, answered 503.
        raise psycopg2.extensions.QueryCanceledError(
            "canceling statement due to statement timeout"
        ) from None


def _convert(cur: Any, rows: list[tuple], mode: str) -> Any:
    if mode == "val":
        return rows[0][0] if rows else None
    if mode == "tuples":
        return rows
    if mode == "table":
        return Table(tuple(col.name for col in cur.description), rows)
    names = [col.name for col in cur.description]
    return [dict(zip(names, row, strict=True)) for row in rows]


async def run(resources, *queries: tuple[str, Any, str]) -> list[Any]:
    """Run ``(sql, params, mode)`` queries under the list statement timeout;
    ``mode`` is ``all`` (dicts), ``tuples``, ``table`` (``Table``) or ``val``;
    uuids come as text. Each is sent as ``SET LOCAL statement_timeout = N;
    <query>``: a multi-statement simple query is one implicit transaction, so
    the setting ends with it (one round trip)."""
    timeout_ms = int(resources.settings.contacts.list_statement_timeout_ms)
    prefix = f"SET LOCAL statement_timeout = {timeout_ms}; "
    results = []
    async with resources.db.connection() as conn, conn.cursor() as cur:
        psycopg2.extensions.register_type(UUID_AS_TEXT, cur.raw)
        for sql, params, mode in queries:
            await _execute(cur, prefix + sql, params)
            results.append(_convert(cur, await cur.fetchall(), mode))
    return results
