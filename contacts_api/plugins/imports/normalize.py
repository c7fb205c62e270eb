"""Turn one CSV row into the contact and company fields to upsert (docs/csv-format.md).

:func:`build_header_map` plans once per file which cell feeds which field, so that
:func:`normalize_row`, run for every row, only strips, composes (Unicode NFC, as
filters compare text) and converts the non-empty cells. Empty cells are left out
of the result (never ``None``): on update an empty cell must not erase a stored
value.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from contacts_api.plugins.contacts.service import (
    EMAIL_STATUSES,
    MAX_LONG_TEXT,
    MAX_TEXT,
    SENIORITIES,
    composed,
    normalize_domain,
)
from contacts_api.plugins.imports.columns import (
    COMPANY,
    COMPANY_METADATA,
    CONTACT,
    CONTACT_METADATA,
    FIRST_PHONE,
    IGNORED_ON_IMPORT,
    IMPORT_COLUMNS,
    STORED_AS,
    SUB_DEPARTMENTS,
    canonical_header,
    split_list,
    unneutralize,
)

# The export prefixes these cells with "'" so that spreadsheets do not run them.
_DOMAIN = r"[\w-]+(?:\.[\w-]+)*\.[\w-]{2,}"
_EMAIL = re.compile(r"[^@\s\"(),:;<>\[\]\\]+@" + _DOMAIN)
# Apollo writes this instead of an email it has not unlocked: not a real address, and
# importing it would merge every such contact into one.
_PLACEHOLDER_EMAILS = frozenset({"email_not_unlocked@domain.com"})
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_ENUM_SEPARATORS = re.compile(r"[\s_-]+")
_SENIORITY_ALIASES = {value: value for value in SENIORITIES} | {
    "csuite": "c_suite", "c_level": "c_suite", "cxo": "c_suite",
    "vice_president": "vp", "entry_level": "entry",
}  # fmt: skip
_EMAIL_STATUS_ALIASES = {value: value for value in EMAIL_STATUSES}
_BIGINT = 2**63  # the database stores these numbers as bigint


class RowError(ValueError):
    """A row that cannot be imported; the message says why, for the job's error list."""


@dataclass(slots=True)
class ImportRow:
    """One row's fields, keyed as the Contact and Company resources name them.

    Only non-empty values are present. ``contact``: first_name, last_name, email,
    title, seniority, departments, email_status, mobile_phone, linkedin_url, city,
    state, country. ``contact_metadata``: work_direct_phone, home_phone, other_phone,
    facebook_url, twitter_url, stage. ``company`` (None unless the row has a company
    name or a website with a host): name, domain, employees_count, industries,
    keywords, technologies, annual_revenue, total_funding, address, city, state,
    country. ``company_metadata`` (empty without a company): website, linkedin_url,
    phone_number, company_name_for_emails, latest_funding, latest_funding_amount,
    last_raised_at.
    """

    contact: dict[str, Any]
    contact_metadata: dict[str, Any]
    company: dict[str, Any] | None
    company_metadata: dict[str, Any]

    @property
    def company_only(self) -> bool:
        """A company-only row (:func:`is_company_only_row`): a company, no contact.
        Every other row has an email or a name, so an empty ``contact`` tells."""
        return not self.contact


# A converter gets the trimmed, non-empty cell and the column's header as written (for
# error messages); it returns the value to store, None to store nothing, or raises
# RowError.
Converter = Callable[[str, str], Any]


def _text(value: str, column_name: str) -> str:
    """A contact's or company's own text field (a btree key: MAX_TEXT)."""
    if len(value) > MAX_TEXT:
        raise RowError(f'column "{column_name}": longer than {MAX_TEXT} characters')
    return value


def _long_text(value: str, column_name: str) -> str:
    """A metadata text field (URLs, stage ...)."""
    if len(value) > MAX_LONG_TEXT:
        raise RowError(f'column "{column_name}": longer than {MAX_LONG_TEXT} characters')
    return value


def _email(value: str, column_name: str) -> str | None:
    email = _text(value, column_name).lower()
    if not _EMAIL.fullmatch(email):
        raise RowError(f'column "{column_name}": "{value}" is not an email address')
    return None if email in _PLACEHOLDER_EMAILS else email


def _integer(value: str, column_name: str) -> int:
    """Read "1200", "1,200", "1200.0", "$1,200" or "2.12E+09" as an integer."""
    try:
        number = int(value)
    except ValueError:
        text = value.lstrip("$€£").strip()
        if _THOUSANDS.fullmatch(text):
            text = text.replace(",", "")
        try:
            decimal = Decimal(text)
        except InvalidOperation:
            decimal = Decimal("NaN")
        if not decimal.is_finite():
            raise RowError(f'column "{column_name}": "{value}" is not a number') from None
        if decimal.adjusted() > 18:  # before int(): "1e999999999" would take forever
            raise RowError(f'column "{column_name}": "{value}" is too large') from None
        number = int(decimal.to_integral_value(ROUND_HALF_UP))
    if not -_BIGINT <= number < _BIGINT:
        raise RowError(f'column "{column_name}": "{value}" is too large')
    return number


def _phone(value: str, column_name: str) -> str | None:
    # Spreadsheets force a phone to stay text with a leading "'" ("'+1 217-254-9641").
    if value[0] == "'":
        value = value.lstrip("'").strip()
    return _text(value, column_name) or None


@lru_cache(maxsize=1024)
def _enum_key(value: str) -> str:
    return _ENUM_SEPARATORS.sub("_", value.lower()).strip("_")


def _seniority(value: str, column_name: str) -> str | None:
    # Unknown values are dropped, not errors: docs/csv-format.md rejects rows for other reasons.
    return _SENIORITY_ALIASES.get(_enum_key(value))


def _email_status(value: str, column_name: str) -> str | None:
    return _EMAIL_STATUS_ALIASES.get(_enum_key(value))


def _lower_list(value: str, column_name: str) -> list[str] | None:
    return list(_split_list(value, True)) or None


def _list(value: str, column_name: str) -> list[str] | None:
    return list(_split_list(value, False)) or None


def _date(value: str, column_name: str) -> str:
    return normalize_date(value)


# Each column's converter; where its value goes is columns.STORED_AS.
_CONVERTERS: dict[str, Converter] = {
    "first_name": _text,
    "last_name": _text,
    "email": _email,
    "title": _text,
    "seniority": _seniority,
    "departments": _lower_list,
    "email_status": _email_status,
    "mobile_phone": _phone,
    "work_direct_phone": _phone,
    "home_phone": _phone,
    "other_phone": _phone,
    "person_linkedin_url": _text,
    "facebook_url": _long_text,
    "twitter_url": _long_text,
    "stage": _long_text,
    "city": _text,
    "state": _text,
    "country": _text,
    "company": _text,
    "company_name_for_emails": _long_text,
    "website": _long_text,
    "company_linkedin_url": _long_text,
    "employees": _integer,
    # industries are a lower-case taxonomy (as Apollo writes them); keywords and
    # technologies keep their spelling ("HubSpot").
    "industry": _lower_list,
    "keywords": _list,
    "technologies": _list,
    "company_address": _text,
    "company_city": _text,
    "company_state": _text,
    "company_country": _text,
    "company_phone": _phone,
    "annual_revenue": _integer,
    "total_funding": _integer,
    "latest_funding_amount": _integer,
    "latest_funding": _long_text,
    "last_raised_at": _date,
}
assert set(_CONVERTERS) == set(IMPORT_COLUMNS), "every import column needs a converter"

# Where each column goes: (dict, key, converter). Dicts are indexes into the list
# normalize_row fills; _EXTRA holds the input-only columns, which are merged into
# others once the whole row is read.
_CONTACT, _CONTACT_META, _COMPANY, _COMPANY_META, _EXTRA = range(5)
_PARTS = {
    CONTACT: _CONTACT,
    CONTACT_METADATA: _CONTACT_META,
    COMPANY: _COMPANY,
    COMPANY_METADATA: _COMPANY_META,
}
_COLUMNS: dict[str, tuple[int, str, Converter | None]] = {
    column: (_PARTS[STORED_AS[column][0]], STORED_AS[column][1], convert)
    for column, convert in _CONVERTERS.items()
}
_COLUMNS[SUB_DEPARTMENTS] = (_EXTRA, SUB_DEPARTMENTS, _lower_list)
_COLUMNS[FIRST_PHONE] = (_EXTRA, FIRST_PHONE, _phone)
# The contact's phones in the order `First Phone` fills them.
_PHONES = (
    (_CONTACT, "mobile_phone"),
    (_CONTACT_META, "work_direct_phone"),
    (_CONTACT_META, "home_phone"),
    (_CONTACT_META, "other_phone"),
)


# How many distinct companies (their cells as read) a file's HeaderMap remembers;
# when full it forgets the oldest quarter. Rows repeat their company's cells (one
# company per ten contacts in a typical export); a remembered one takes ~2-4 KB.
COMPANY_CACHE_SIZE = 8192


class HeaderMap:
    """Which column each header cell feeds, worked out once per file; and the company
    cells already read (:meth:`company_parts`)."""

    __slots__ = ("width", "columns", "unknown", "plans", "readers", "_company_cells", "_companies")

    def __init__(self, header: list[str]) -> None:
        self.width = len(header)
        columns: dict[str, list[int]] = {}
        unknown: dict[str, None] = {}  # ordered, without repeats
        for index, raw in enumerate(header):
            column = canonical_header(raw)
            if column is not None:
                columns.setdefault(column, []).append(index)
            elif raw.strip():
                unknown[raw.strip()] = None
        #: column -> the indexes of the cells feeding it (the first non-empty one wins)
        self.columns = {column: tuple(indexes) for column, indexes in columns.items()}
        self.unknown = tuple(unknown)
        plans: list[list[tuple[int, str, Converter | None, str]]] = [[], [], [], [], []]
        # Last cell first: when two cells feed one key ("Corporate Phone" and "Company
        # Phone"), the one written last, the first non-empty in header order, wins.
        for index in range(len(header) - 1, -1, -1):
            column = canonical_header(header[index])
            if column is not None and column not in IGNORED_ON_IMPORT:
                part, key, convert = _COLUMNS[column]
                plans[part].append((index, key, convert, header[index].strip()))
        #: per destination dict: (cell index, key, converter, header cell as written)
        self.plans = tuple(tuple(plan) for plan in plans)
        #: per destination dict: its plan compiled (:func:`_compile_reader`)
        self.readers = tuple(_compile_reader(plan) for plan in self.plans)
        company_cells = sorted(
            {plan[0] for part in (_COMPANY, _COMPANY_META) for plan in plans[part]}
        )
        # The cells the company parts read (the cache key: a tuple, or the cell when
        # there is one); None: no company column.
        self._company_cells = operator.itemgetter(*company_cells) if company_cells else None
        # company cells as read -> (company, company metadata, has a company): the
        # result of _company_parts, shared by the rows that repeat those cells.
        self._companies: dict[Any, tuple[dict, dict, bool]] = {}

    def company_parts(self, cells: list[str]) -> tuple[dict, dict, bool]:
        """The row's company and company metadata and whether it has a company, as
        :func:`_company_parts` reads them; remembered per distinct company cells, since
        rows repeat their company. The dicts are shared by those rows: nothing changes
        an ImportRow's dicts (the batch writer copies before it merges)."""
        if self._company_cells is None:
            return _company_parts(cells, self.readers)
        key = self._company_cells(cells)
        parts = self._companies.get(key)
        if parts is None:
            parts = _company_parts(cells, self.readers)  # raises RowError: not remembered
            if len(self._companies) >= COMPANY_CACHE_SIZE:
                # Forget the oldest quarter (insertion order): cheaper than an LRU on
                # every hit, and it keeps the recent companies.
                for old in list(itertools.islice(self._companies, COMPANY_CACHE_SIZE // 4)):
                    del self._companies[old]
            self._companies[key] = parts
        return parts

    @property
    def warning(self) -> str | None:
        """The job warning listing the ignored unknown columns, or None."""
        if not self.unknown:
            return None
        return "Unknown columns were ignored: " + ", ".join(f'"{name}"' for name in self.unknown)


def build_header_map(header: list[str]) -> HeaderMap:
    """Plan how the cells of every row under this header are read."""
    return HeaderMap(header)


def normalize_row(header_map: HeaderMap, cells: list[str]) -> ImportRow:
    """Read one row into an ImportRow; raise RowError when docs/csv-format.md rejects it."""
    missing = header_map.width - len(cells)
    if missing < 0:
        raise RowError(
            f"the row has {len(cells)} cells but the header has {header_map.width} columns"
        )
    if missing:
        cells = cells + [""] * missing
    readers = header_map.readers
    # Read in this order (contact, its metadata, company, its metadata, extra): the
    # first bad cell in that order is the row's error.
    contact = readers[_CONTACT](cells)
    contact_meta = readers[_CONTACT_META](cells)
    company, company_meta, has_company = header_map.company_parts(cells)
    extra = readers[_EXTRA](cells)
    if extra:
        _merge_extra(extra, [contact, contact_meta, company, company_meta])
    if "email" not in contact and "first_name" not in contact and "last_name" not in contact:
        if not is_company_only_row(contact, contact_meta, has_company):
            raise RowError("the row has neither an email nor a first or last name")
    if not has_company:
        return ImportRow(contact, contact_meta, None, {})
    return ImportRow(contact, contact_meta, company, company_meta)


def _company_parts(cells: list[str], readers: tuple) -> tuple[dict, dict, bool]:
    """The row's company, company metadata (its domain from its website) and whether
    it has a company (a name or a domain)."""
    company = readers[_COMPANY](cells)
    company_meta = readers[_COMPANY_META](cells)
    website = company_meta.get("website")
    if website and (domain := domain_from_website(website)):
        company["domain"] = domain
    return company, company_meta, "name" in company or "domain" in company


def is_company_only_row(
    contact: dict[str, Any], contact_metadata: dict[str, Any], has_company: bool
) -> bool:
    """Whether a row without a contact identity (no email, no name) is a
    company-only row: it names a company and has no contact cell at all (a row of
    a companies export). Such a row writes its company and no contact
    (``ImportRow.company_only``); a row with contact cells but no identity stays an
    error, since those cells would be lost."""
    return has_company and not contact and not contact_metadata


def _read(cells: list[str], plan: tuple[tuple[int, str, Converter | None, str], ...]) -> dict:
    """Read the cells of one destination dict by its plan: the rule, which
    :func:`_compile_reader` compiles (the tests compare them on colliding cells)."""
    values: dict[str, Any] = {}
    for index, key, convert, column_name in plan:
        value = cells[index]
        if value:
            value = value.strip()
            if value:
                value = composed(value)
                if value[0] == "'":
                    value = unneutralize(value)
                if convert is not None:
                    value = convert(value, column_name)
                    if value is None:
                        continue
                values[key] = value
    return values


# The text converters whose only check is a length: compiled inline.
_TEXT_LIMITS: dict[Converter, int] = {_text: MAX_TEXT, _long_text: MAX_LONG_TEXT}


def _compile_reader(
    plan: tuple[tuple[int, str, Converter | None, str], ...],
) -> Callable[[list[str]], dict[str, Any]]:
    """:func:`_read` for one plan, as a function of straight-line code (one block per
    cell, text length checks inline): per cell it saves the loop's unpacking and the
    converter call, a third of normalize_row's time. The source holds only cell
    indexes, our keys and limits; header text and messages are passed as names."""
    namespace: dict[str, Any] = {
        "unneutralize": unneutralize,
        "composed": composed,
        "RowError": RowError,
    }
    lines = ["def read(cells):", "    values = {}"]
    for n, (index, key, convert, column_name) in enumerate(plan):
        lines += [
            f"    v = cells[{int(index)}]",
            "    if v:",
            "        v = v.strip()",
            "        if v:",
            # inline: no call for an ASCII cell, most of them (composed checks too)
            "            if not v.isascii():",
            "                v = composed(v)",
            '            if v[0] == "\'":',
            "                v = unneutralize(v)",
        ]
        limit = _TEXT_LIMITS.get(convert) if convert is not None else None
        if convert is None:
            lines.append(f"            values[{key!r}] = v")
        elif limit is not None:
            namespace[f"m{n}"] = f'column "{column_name}": longer than {limit} characters'
            lines += [
                f"            if len(v) > {int(limit)}:",
                f"                raise RowError(m{n})",
                f"            values[{key!r}] = v",
            ]
        else:
            namespace[f"c{n}"], namespace[f"n{n}"] = convert, column_name
            lines += [
                f"            v = c{n}(v, n{n})",
                "            if v is not None:",
                f"                values[{key!r}] = v",
            ]
    lines.append("    return values")
    exec(compile("\n".join(lines), "<imports.normalize reader>", "exec"), namespace)
    return namespace["read"]


def _merge_extra(extra: dict[str, Any], parts: list[dict[str, Any]]) -> None:
    """Merge Apollo's Sub Departments into departments; put First Phone in the first
    empty phone."""
    contact = parts[_CONTACT]
    if SUB_DEPARTMENTS in extra:
        merged = contact.get("departments", []) + extra[SUB_DEPARTMENTS]
        contact["departments"] = list(dict.fromkeys(merged))
    first = extra.get(FIRST_PHONE)
    # Apollo's First Phone often repeats one of the other phones: do not copy it twice.
    if first and all(parts[part].get(key) != first for part, key in _PHONES):
        for part, key in _PHONES:
            if key not in parts[part]:
                parts[part][key] = first
                break


@lru_cache(maxsize=4096)
def _split_list(value: str, lower: bool) -> tuple[str, ...]:
    # Many rows share a company, hence the cache; a tuple, so no caller can change it.
    items: dict[str, str] = {}
    for item in split_list(value):
        if lower:
            item = item.lower()
        items.setdefault(item.casefold(), item)
    return tuple(items.values())


@lru_cache(maxsize=4096)
def domain_from_website(website: str) -> str | None:
    """The company ``domain`` of a website, by the same rule as the API's writes
    (``plugins.contacts.normalize.normalize_domain``) so an imported company and
    one created over HTTP dedupe alike; cached, since rows repeat companies."""
    return normalize_domain(website)


@lru_cache(maxsize=1024)
def normalize_date(value: str) -> str:
    """Return ``YYYY-MM-DD`` for a date (or a midnight UTC time), else RFC 3339 in UTC.

    Reads ISO 8601 (``2022-02-01T00:00:00+00:00``, ``2000-06-01``) and US ``m/d/Y``
    (``10/1/2023``); a time without an offset is taken as UTC. A value it cannot read
    is returned as written.
    """
    try:
        match = _US_DATE.fullmatch(value)
        if match:
            month, day, year, hour, minute, second = (int(part or 0) for part in match.groups())
            moment = datetime(year, month, day, hour, minute, second)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if moment.time() == time():
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
