"""Contact filters on a company list (``industries``, ``keywords``,
``technologies``) answered by the uuids of the matching companies.

"industries=computer software" matches ~800 of 100k companies. Written as a
condition on the joined company, the page's walk of the ordering's index probed
the company of every walked contact (5,000 contacts and 4,000 companies read for
a page at 1M contacts: ~20 ms). ``prepare`` reads the matching companies' uuids
first (one trigram lookup on companies); ``build`` then tests the contact's own
``company_uuid`` against them, written as a constant array: the walk stays
index-only (the ordering indexes include ``company_uuid``) and PostgreSQL hashes
the array, and counts read the contacts by ``contacts_company_uuid_idx``.

A filter matching more than ``MAX_COMPANIES`` companies (a common term such as
"software") keeps the join: a long constant array costs planning time and the
walk finds a page after a few rows anyway. Such a value is remembered as broad
(per database handle, bounded) so the next request skips the lookup; companies
change, so the memory only chooses the plan: either condition is exact. The
uuids and the rows are read in two statements, so a company changed between
them is seen as it was, as if the request came a moment earlier.

An ordering by a company field with filters on the company
(``repository.company_groups``) asks for the condition on ``companies``
(``CompanySide`` tables) and gets the list condition, as before.
"""

import weakref
from collections.abc import Callable

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from contacts_api.core.filters import FilterSpec
from contacts_api.core.sql import compile_sql
from contacts_api.plugins.contacts.dictionaries import BroadValues, broad_memory
from contacts_api.plugins.contacts.tables import ContactTables, companies

MAX_COMPANIES = 1000
COMPANY = frozenset({"company"})


@attrs.frozen
class CompanySide(ContactTables):
    """Contact tables for conditions that must hold on ``companies`` alone."""

    company_side: bool = True


@attrs.frozen
class CompanySet:
    """A filter's values and the uuids of the companies they match (``None``:
    more than ``MAX_COMPANIES``)."""

    values: tuple[str, ...]
    uuids: tuple[str, ...] | None


# per database handle, as dictionaries._BROAD
_BROAD: "weakref.WeakKeyDictionary[object, BroadValues]" = weakref.WeakKeyDictionary()


def company_set_filter(
    name: str,
    description: str,
    condition: Callable[[list[str], object], sa.ColumnElement[bool]],
    aliases: tuple[str, ...] = (),
) -> FilterSpec:
    """A contact filter whose ``condition(values, tables)`` holds on
    ``tables.companies`` alone (and is false without a company)."""

    async def prepare(db, values: list[str]) -> list[CompanySet]:
        broad: BroadValues = broad_memory(db, _BROAD)
        key = (name, tuple(values))
        if key in broad:
            return [CompanySet(tuple(values), None)]
        sql, params = compile_sql(
            sa.select(sa.cast(companies.c.uuid, sa.Text))
            .where(condition(values, ContactTables()))
            .limit(MAX_COMPANIES + 1)
        )
        uuids = [row[0] for row in await db.fetch_tuples(sql, params)]
        if len(uuids) > MAX_COMPANIES:
            broad.add(key)
            return [CompanySet(tuple(values), None)]
        return [CompanySet(tuple(values), tuple(sorted(uuids)))]

    def build(prepared: list[CompanySet], t) -> sa.ColumnElement[bool]:
        (found,) = prepared
        if found.uuids is None or getattr(t, "company_side", False):
            return condition(list(found.values), t)
        if not found.uuids:
            return sa.false()
        array = sa.cast(sa.literal("{" + ",".join(found.uuids) + "}"), ARRAY(UUID))
        return t.contacts.c.company_uuid == sa.any_(array)

    return FilterSpec(name, "text", build, description, aliases, needs=COMPANY, prepare=prepare)
