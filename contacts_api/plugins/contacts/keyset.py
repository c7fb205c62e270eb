"""A page of an ordering by one nullable field, read as two index walks.

"Empty values last, in both directions" (docs/api.md) puts the rows without a value
after the others whichever way the field is sorted. As one ``ORDER BY key NULLS
LAST`` that needs an index per direction, and its keyset condition ``key > v OR
key IS NULL`` is no index range: deep pages walked from the start. Read instead
as two walks of one ``(key, uuid)`` btree, each a plain index range:

1. the rows with a value, from the cursor on, in the key's order (``ASC`` or
   ``DESC``, the btree read forwards or backwards);
2. the rows without one, by uuid (the btree's ``key IS NULL`` range),

each limited to the page (the second only read when the first falls short),
then the at most two pages of rows merged in the ordering's own order.

``groups`` (an ordering by a company's field copied onto its contacts, with
filters on the company, e.g. "technologies salesforce by -employees") reads
the first walk group by group instead: the distinct key values of the
matching companies in the key's order (``groups``, from the companies'
index), and for each a page of the contacts with that value (a range of the
same ``(key, uuid)`` btree, all filters applied), until the page is full. The
btree walk would otherwise read every contact of the biggest companies that
do not match (88k index entries before the 26th row in the benchmark). The
walks' ``ORDER BY`` leaves NULLS to its default (``ASC NULLS LAST`` / ``DESC
NULLS FIRST``): exactly a plain btree's two scan directions, so the planner
needs no sort whichever way the page goes.
"""

from typing import Any

import sqlalchemy as sa

from contacts_api.plugins.contacts.ordering import Key, Ordering

__all__ = ["cursor_params", "cursor_shape", "split_key", "two_walks"]


def split_key(ordering: Ordering) -> Key | None:
    """The key of an ordering by one nullable field (then uuid), else None."""
    keys = ordering.keys
    return keys[0] if len(keys) == 2 and keys[0].nullable else None


def cursor_shape(after: list | None) -> str:
    """Where a cursor points: ``start`` (no cursor), ``empty`` (a row without a value)
    or ``valued``; the statement's shape, its values are :func:`cursor_params`."""
    if after is None:
        return "start"
    return "empty" if after[0] is None else "valued"


def cursor_params(after: list | None) -> dict[str, Any]:
    if after is None:
        return {}
    return {"keyset_value": after[0], "keyset_uuid": after[1]}


def _plain(expr, desc: bool):
    return expr.desc() if desc else expr.asc()


def two_walks(
    table: sa.Table,
    source: sa.FromClause,
    columns: list,
    where,
    ordering: Ordering,
    shape: str,
    rows,
    limit,
    offset,
    groups: sa.Select | None = None,
) -> sa.Select:
    """The page's ``columns`` of ``table`` (read from ``source``, the table with the
    filters' joins) under ``where``, after a cursor of ``shape`` whose values are the
    bind parameters ``keyset_value`` and ``keyset_uuid``. ``rows`` is limit + offset.
    Built once per shape with markers (``plugins.contacts.reads``). ``groups``:
    a one-column select of key values (see the module docstring), each
    value of a row under ``where`` among them."""
    key, tie = ordering.keys
    column, uuid = table.c[key.column], table.c.uuid
    expr = key.expr(table)
    last_uuid = sa.bindparam("keyset_uuid")
    valued_after = empty_after = sa.true()
    if shape == "empty":  # the cursor is among the empty values
        valued_after = sa.false() if key.nulls_last else sa.true()
        empty_after = uuid < last_uuid if tie.desc else uuid > last_uuid
    elif shape == "valued":
        row = sa.tuple_(expr, uuid)
        other = sa.tuple_(sa.bindparam("keyset_value"), last_uuid)
        valued_after = row < other if key.desc else row > other
        empty_after = sa.true() if key.nulls_last else sa.false()
    # Both walks order by (key, uuid), the btree's own order: among empty values
    # that is the uuid order, and the planner sees that no sort is needed.
    order = (_plain(expr, key.desc), _plain(uuid, tie.desc))
    valued = (
        sa.select(*columns)
        .select_from(source)
        .where(where, column.isnot(None), valued_after)
        .order_by(*order)
        .limit(rows)
    )
    if groups is not None:
        valued = _by_groups(valued, groups, column, key, tie, shape, rows)
    empty = (
        sa.select(*columns)
        .select_from(source)
        .where(where, column.is_(None), empty_after)
        .order_by(*order)
        .limit(rows)
    )
    first, second = (valued, empty) if key.nulls_last else (empty, valued)
    # The second walk runs only when the first did not fill the page (a one-time
    # filter on the first walk's row count): most pages never reach the boundary.
    first = first.cte("first_walk")
    filled = sa.select(sa.func.count()).select_from(first).scalar_subquery()
    both = sa.union_all(sa.select(*first.c), second.where(filled < rows)).subquery("walks")
    return sa.select(*both.c).order_by(*ordering.order_by(both)).limit(limit).offset(offset)


_ONE = sa.literal_column("1")  # not a bind parameter: templates hold no values


def _by_groups(valued: sa.Select, groups: sa.Select, column, key: Key, tie: Key, shape, rows):
    """``valued`` read one key value of ``groups`` at a time, in the key's order.

    The distinct values come from a recursive "loose index scan": each step is
    the next value after the previous one (``ORDER BY value LIMIT 1`` under the
    groups' condition: a walk of the companies' btree that stops at the first
    match). A DISTINCT instead is planned for all its rows (a bitmap over every
    matching company, then a sort). For each value a LATERAL page of the
    contacts with it, in the btree's order. There is no ORDER BY over the pages:
    a sort would need every group first. The nested loop returns the pages in
    the recursion's order, each in its own order (a LATERAL reference allows no
    other join), and ``two_walks`` sorts the at most two pages it merges anyway;
    the LIMIT keeps the first ``rows`` of that order."""
    value = groups.selected_columns[0]
    after = (lambda v, bound: v < bound) if key.desc else (lambda v, bound: v > bound)
    first = groups
    if shape == "valued":  # no group before the cursor's own value
        bound = sa.bindparam("keyset_value")
        first = first.where(value <= bound if key.desc else value >= bound)
    first = first.order_by(_plain(value, key.desc)).limit(_ONE)
    found = first.cte("key_groups", recursive=True)
    previous = list(found.c)[0]
    following = (
        groups.where(after(value, previous))
        .order_by(_plain(value, key.desc))
        .limit(_ONE)
        .scalar_subquery()
    )
    found = found.union_all(sa.select(following).where(previous.isnot(None)))
    group_value = list(found.c)[0]
    page = valued.where(column == group_value).lateral("group_page")
    return (
        sa.select(*page.c)
        .select_from(found.join(page, sa.true()))
        .where(group_value.isnot(None))
        .limit(rows)
    )
