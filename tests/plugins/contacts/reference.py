"""An independent, plain-Python reading of docs/api.md's contact and company filters
and orderings, over the ``dataset`` objects (never the implementation's SQL)."""

import datetime as dt
import functools
import re
import uuid as uuid_mod
from collections.abc import Callable
from urllib.parse import urlsplit

from tests.plugins.contacts.dataset import Company, Contact


def rel(url: str) -> str:
    """An absolute link as a path the test client accepts."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def has(text: str | None, value: str) -> bool:
    return text is not None and value.lower() in text.lower()


def fold(text: str) -> str:
    return re.sub(r"[_. ]+", " ", text.lower()).strip()


def any_has(texts, values) -> bool:
    return any(has(t, v) for t in texts for v in values)


def domain_of(text: str) -> str:
    text = text.strip().lower()
    text = re.sub(r"^[a-z]+://", "", text).split("/")[0]
    return text.removeprefix("www.")


def _co(c: Contact, attr: str):
    return getattr(c.company, attr) if c.company else None


def _in_range(n, low, high) -> bool:
    return n is not None and (low is None or n >= low) and (high is None or n <= high)


def _parse_range(text: str):
    low, high = (p.strip() for p in text.split(","))
    return (int(low) if low else None), (int(high) if high else None)


def _time(text: str):
    if len(text) == 10:
        start = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
        return start, start + dt.timedelta(days=1), True
    moment = dt.datetime.fromisoformat(text)
    return moment, moment, False


def _contact_fields(c: Contact):
    return [c.first_name, c.last_name, c.email, c.title, c.city, c.state, c.country, _co(c, "name")]


def _company_location(c: Company | None):
    return [] if c is None else [c.address, c.city, c.state, c.country]


def _phones(c: Contact):
    meta = c.metadata or {}
    return [
        c.mobile_phone,
        meta.get("work_direct_phone"),
        meta.get("home_phone"),
        meta.get("other_phone"),
    ]


Pred = Callable[[Contact, list[str]], bool]
CONTACT: dict[str, Pred] = {
    "search": lambda c, vs: any(
        all(any_has(_contact_fields(c), [w]) for w in v.split()) for v in vs
    ),
    "first_name": lambda c, vs: any_has([c.first_name], vs),
    "last_name": lambda c, vs: any_has([c.last_name], vs),
    "email": lambda c, vs: any_has([c.email], vs),
    "title": lambda c, vs: any_has([c.title], vs),
    "title_words": lambda c, vs: any(all(has(c.title, w) for w in v.split()) for v in vs),
    "mobile_phone": lambda c, vs: any_has([c.mobile_phone], vs),
    "seniority": lambda c, vs: c.seniority in [v.lower() for v in vs],
    "email_status": lambda c, vs: c.email_status in [v.lower() for v in vs],
    "department": lambda c, vs: any_has(c.departments, vs),
    "company": lambda c, vs: any_has([_co(c, "name")], vs),
    "exclude_company_name": lambda c, vs: not any_has([_co(c, "name")], vs),
    "uuid": lambda c, vs: c.uuid in vs,
    "company_uuid": lambda c, vs: _co(c, "uuid") in vs,
    "exclude_company_ids": lambda c, vs: _co(c, "uuid") not in vs,
    "include_domain_list": lambda c, vs: (
        _co(c, "domain") is not None and _co(c, "domain") in [domain_of(v) for v in vs]
    ),
    "exclude_domain_list": lambda c, vs: _co(c, "domain") not in [domain_of(v) for v in vs],
    "contact_location": lambda c, vs: any_has([c.city, c.state, c.country], vs),
    "company_location": lambda c, vs: any_has(_company_location(c.company), vs),
    "city": lambda c, vs: any_has([c.city], vs),
    "state": lambda c, vs: any_has([c.state], vs),
    "country": lambda c, vs: any_has([c.country], vs),
    "company_city": lambda c, vs: any_has([_co(c, "city")], vs),
    "company_state": lambda c, vs: any_has([_co(c, "state")], vs),
    "company_country": lambda c, vs: any_has([_co(c, "country")], vs),
    "industries": lambda c, vs: any_has(_co(c, "industries") or [], vs),
    "keywords": lambda c, vs: any_has(_co(c, "keywords") or [], vs),
    "technologies": lambda c, vs: any(
        fold(v) in fold(t) for t in _co(c, "technologies") or [] for v in vs
    ),
    "keywords_and": lambda c, vs: all(any_has(_co(c, "keywords") or [], [v]) for v in vs),
    "employees_min": lambda c, vs: _in_range(_co(c, "employees_count"), int(vs[0]), None),
    "employees_max": lambda c, vs: _in_range(_co(c, "employees_count"), None, int(vs[0])),
    "employees_range": lambda c, vs: any(
        _in_range(_co(c, "employees_count"), *_parse_range(v)) for v in vs
    ),
    "annual_revenue_min": lambda c, vs: _in_range(_co(c, "annual_revenue"), int(vs[0]), None),
    "annual_revenue_max": lambda c, vs: _in_range(_co(c, "annual_revenue"), None, int(vs[0])),
    "total_funding_min": lambda c, vs: _in_range(_co(c, "total_funding"), int(vs[0]), None),
    "total_funding_max": lambda c, vs: _in_range(_co(c, "total_funding"), None, int(vs[0])),
    "exclude_titles": lambda c, vs: (
        c.title is None or c.title.lower() not in [v.lower() for v in vs]
    ),
    "exclude_title_contains": lambda c, vs: not any_has([c.title], vs),
    "exclude_seniorities": lambda c, vs: c.seniority not in [v.lower() for v in vs],
    "exclude_departments": lambda c, vs: not any_has(c.departments, vs),
    "exclude_contact_locations": lambda c, vs: not any_has([c.city, c.state, c.country], vs),
    "exclude_company_locations": lambda c, vs: not any_has(_company_location(c.company), vs),
    "exclude_industries": lambda c, vs: not any_has(_co(c, "industries") or [], vs),
    "exclude_keywords": lambda c, vs: not any_has(_co(c, "keywords") or [], vs),
    "exclude_technologies": lambda c, vs: (
        not any(fold(v) in fold(t) for t in _co(c, "technologies") or [] for v in vs)
    ),
    "has_email": lambda c, vs: (c.email is not None) == (vs[0] == "true"),
    "has_phone": lambda c, vs: any(_phones(c)) == (vs[0] == "true"),
    "created_at_after": lambda c, vs: c.created_at >= _time(vs[0])[0],
    "created_at_before": lambda c, vs: (
        c.created_at < _time(vs[0])[1] if _time(vs[0])[2] else c.created_at <= _time(vs[0])[0]
    ),
    "updated_at_after": lambda c, vs: c.updated_at >= _time(vs[0])[0],
    "updated_at_before": lambda c, vs: (
        c.updated_at < _time(vs[0])[1] if _time(vs[0])[2] else c.updated_at <= _time(vs[0])[0]
    ),
}


ALIASES = {"departments": "department", "include_company_name": "company", "industry": "industries"}


def split_values(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Query pairs to values by parameter (comma lists split, except ranges)."""
    out: dict[str, list[str]] = {}
    for name, raw in pairs:
        name = ALIASES.get(name, name)
        parts = [raw] if name == "employees_range" else raw.split(",")
        out.setdefault(name, []).extend(p.strip() for p in parts if p.strip())
    return out


def matching(contacts: list[Contact], pairs: list[tuple[str, str]]) -> list[Contact]:
    values = split_values(pairs)
    return [c for c in contacts if all(CONTACT[n](c, vs) for n, vs in values.items())]


CONTACT_SORT = {
    "created_at": lambda c: c.created_at,
    "updated_at": lambda c: c.updated_at,
    "first_name": lambda c: c.first_name,
    "last_name": lambda c: c.last_name,
    "email": lambda c: c.email,
    "title": lambda c: c.title,
    "seniority": lambda c: c.seniority,
    "company": lambda c: _co(c, "name"),
    "employees": lambda c: _co(c, "employees_count"),
    "annual_revenue": lambda c: _co(c, "annual_revenue"),
    "total_funding": lambda c: _co(c, "total_funding"),
    "city": lambda c: c.city,
    "state": lambda c: c.state,
    "country": lambda c: c.country,
}
COMPANY_SORT = {
    "created_at": lambda c: c.created_at,
    "updated_at": lambda c: c.updated_at,
    "name": lambda c: c.name,
    "employees": lambda c: c.employees_count,
    "annual_revenue": lambda c: c.annual_revenue,
    "total_funding": lambda c: c.total_funding,
}


def ordered(rows: list, ordering: str = "-created_at", table=None) -> list:
    """docs/api.md: empty values last in both directions; ties by uuid in the direction
    of the first field. Text compares by code point."""
    table = table or CONTACT_SORT
    fields = [(f.startswith("-"), table[f.lstrip("-")]) for f in ordering.split(",")]

    def cmp(a, b) -> int:
        for desc, key in fields:
            x, y = key(a), key(b)
            if x == y:
                continue
            if x is None:
                return 1
            if y is None:
                return -1
            result = -1 if x < y else 1
            return -result if desc else result
        ux, uy = uuid_mod.UUID(a.uuid), uuid_mod.UUID(b.uuid)
        result = 0 if ux == uy else (-1 if ux.bytes < uy.bytes else 1)
        return -result if fields[0][0] else result

    return sorted(rows, key=functools.cmp_to_key(cmp))
