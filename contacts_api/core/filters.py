"""Filters: query parameters that narrow a list, declared by plugins.

A ``FilterSpec`` says how to read a parameter's values (``kind``) and how to
turn them into an SQL condition (``build``). A ``FilterRegistry`` holds the
filters of one resource (contacts or companies), parses a request's query
against them (422 naming every bad parameter) and compiles the result once,
so list, count, attribute-list, Apollo and export routes all share it.

Value rules (docs/api.md): a filter may be repeated or given as a comma list; the
values of one filter are ORed, different filters ANDed; empty values are
ignored. ``range`` values (``MIN,MAX``) are not split on commas.
"""

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import attrs
from sqlalchemy import and_, true
from sqlalchemy.sql import ColumnElement

from contacts_api.core.errors import FieldError, ValidationError, field_error

__all__ = [
    "JOINS",
    "KINDS",
    "RESERVED_PARAMS",
    "AppliedFilters",
    "DuplicateFilter",
    "FilterRegistry",
    "InvalidFilter",
    "FilterSpec",
    "Range",
    "TimeBound",
]

KINDS = ("text", "choice", "integer", "boolean", "datetime", "uuid", "range")
# The list routes' own query parameters (plugins/contacts: paging, ordering, the
# view, the total): a filter of that name would be ignored on the lists and
# applied on the counts.
RESERVED_PARAMS = (
    "limit",
    "page_size",
    "cursor",
    "offset",
    "page",
    "ordering",
    "view",
    "include_count",
)
# The optional joins a filter's condition may use (``FilterSpec.needs``), by
# resource: the tables the contacts plugin joins on request.
JOINS = {
    "contact": frozenset({"company", "company_metadata", "contact_metadata"}),
    "company": frozenset({"company_metadata"}),
}


# Values one filter may take in one request (an export's body could carry
# 50,000; a query string runs out of URL first).
MAX_FILTER_VALUES = 1000


@attrs.frozen
class Range:
    """Inclusive bounds; None is open."""

    low: int | None
    high: int | None


@attrs.frozen
class TimeBound:
    """A parsed date or timestamp. A bare date means the whole UTC day:
    ``start`` is its midnight and ``end`` the next midnight (exclusive)."""

    start: dt.datetime
    end: dt.datetime
    whole_day: bool


@attrs.frozen
class FilterSpec:
    """One filter parameter.

    ``name``: the query parameter. ``aliases``: other accepted names.
    ``kind``: how values are parsed: ``text`` (NFC string), ``choice`` (one of
    ``choices``, lower-cased), ``integer``, ``boolean`` (``true``/``false``),
    ``datetime`` (``TimeBound``), ``uuid`` (``uuid.UUID``), ``range``
    (``Range`` from ``MIN,MAX``).
    ``build(values, tables)``: returns an SQLAlchemy boolean condition; ``values``
    is the non-empty list of parsed values, ``tables`` the owning plugin's
    table namespace. ``needs``: names of optional joins the condition uses, so
    repositories join only what is needed: a contact filter on
    ``tables.companies`` declares ``{"company"}`` (``JOINS`` lists the names; a
    condition on a table it does not declare fails as "missing FROM-clause").
    ``multiple``: False for filters that take one value (``has_email``).
    ``prepare(db, values)``: optional and async. It looks up in the database
    what ``build`` needs and returns the values ``build`` receives instead
    (``db`` is ``core.resources.database.Database``). The contacts plugin turns
    "title contains director" into the ids of the matching distinct titles this
    way, so the planner sees them as constants. ``AppliedFilters.prepared`` runs
    it once per request; building the condition of unprepared filters raises.
    """

    name: str
    kind: str = attrs.field(validator=attrs.validators.in_(KINDS))
    build: Callable[[list[Any], Any], ColumnElement[bool]]
    description: str = ""
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    needs: frozenset[str] = frozenset()
    multiple: bool = True
    prepare: Callable[[Any, list[Any]], Awaitable[list[Any]]] | None = None


@attrs.frozen
class AppliedFilters:
    """Parsed filters of one request: ``(spec, values)`` pairs in a stable order,
    plus the raw text values by canonical name (for links and echoing).
    ``ready``: the values of filters with a ``prepare`` step are prepared."""

    items: tuple[tuple[FilterSpec, tuple[Any, ...]], ...]
    raw: Mapping[str, tuple[str, ...]]
    ready: bool = False

    @property
    def needs(self) -> frozenset[str]:
        return frozenset().union(*(spec.needs for spec, _ in self.items))

    async def prepared(self, db: Any) -> "AppliedFilters":
        """These filters with every ``prepare`` step run (once: prepared filters
        return themselves)."""
        if self.ready:
            return self
        items = []
        for spec, values in self.items:
            if spec.prepare is not None:
                values = tuple(await spec.prepare(db, list(values)))
            items.append((spec, values))
        return AppliedFilters(tuple(items), self.raw, ready=True)

    def condition(self, tables: Any) -> ColumnElement[bool]:
        if not self.ready and any(spec.prepare is not None for spec, _ in self.items):
            names = ", ".join(spec.name for spec, _ in self.items if spec.prepare is not None)
            raise RuntimeError(f"filters {names} need AppliedFilters.prepared(db) first")
        if not self.items:
            return true()
        return and_(*(spec.build(list(values), tables) for spec, values in self.items))

    def __bool__(self) -> bool:
        return bool(self.items)


_INT = re.compile(r"[+-]?\d+")


def _parse_value(spec: FilterSpec, text: str) -> Any:
    kind = spec.kind
    if "\x00" in text:  # PostgreSQL text cannot hold it, whatever the kind
        raise ValueError("must not contain NUL characters")
    if kind == "text":
        return unicodedata.normalize("NFC", text)
    if kind == "choice":
        value = text.lower()
        if value not in spec.choices:
            raise ValueError(f"must be one of {', '.join(spec.choices)}")
        return value
    if kind == "integer":
        if not _INT.fullmatch(text):
            raise ValueError(f"not an integer: {text!r}")
        return int(text)
    if kind == "boolean":
        lowered = text.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError(f"must be true or false, got {text!r}")
    if kind == "uuid":
        try:
            return uuid.UUID(text)
        except ValueError:
            raise ValueError(f"not a UUID: {text!r}") from None
    if kind == "datetime":
        return parse_time_bound(text)
    if kind == "range":
        low, sep, high = text.partition(",")
        if not sep:
            raise ValueError(f"must be MIN,MAX (either side may be empty), got {text!r}")
        bounds = []
        for part in (low.strip(), high.strip()):
            if part and not _INT.fullmatch(part):
                raise ValueError(f"not an integer bound: {part!r}")
            bounds.append(int(part) if part else None)
        if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
            raise ValueError(f"MIN is greater than MAX in {text!r}")
        return Range(*bounds)
    raise AssertionError(kind)


def parse_time_bound(text: str) -> TimeBound:
    """RFC 3339 timestamp or ``YYYY-MM-DD`` (the whole day, UTC)."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            return TimeBound(start, start + dt.timedelta(days=1), True)
        moment = dt.datetime.fromisoformat(text.replace("z", "Z"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        moment.astimezone(dt.UTC)  # 9999-12-31T23:00-05:00 is past the last datetime
    except ValueError:
        raise ValueError(f"not a date or RFC 3339 timestamp: {text!r}") from None
    except OverflowError:  # the day after 9999-12-31
        raise ValueError(f"out of range (the last day is 9999-12-30): {text!r}") from None
    return TimeBound(moment, moment, False)


class DuplicateFilter(ValueError):
    """Two filters of one resource answer to the same parameter name."""

    def __init__(self, resource: str, param: str):
        super().__init__(f"{resource} filter parameter {param!r} is declared twice")
        self.param = param


class InvalidFilter(ValueError):
    """A filter the registry refuses on its own (a reserved name, an unknown join)."""

    def __init__(self, spec: FilterSpec, problem: str):
        super().__init__(problem)
        self.spec = spec


def _check(spec: FilterSpec, resource: str) -> None:
    for param in (spec.name, *spec.aliases):
        if param in RESERVED_PARAMS:
            raise InvalidFilter(
                spec,
                f"{resource} filter {param!r} is named like a parameter of the list routes "
                f"({', '.join(RESERVED_PARAMS)})",
            )
    known = JOINS.get(resource)
    unknown = sorted(set(spec.needs) - known) if known is not None else []
    if unknown:
        raise InvalidFilter(
            spec,
            f"{resource} filter {spec.name!r} needs unknown join(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})",
        )


class FilterRegistry:
    """The filters of one resource, indexed by name and alias."""

    def __init__(self, specs: Iterable[FilterSpec], resource: str):
        self.resource = resource
        self.specs: dict[str, FilterSpec] = {}
        self._by_param: dict[str, FilterSpec] = {}
        for spec in specs:
            _check(spec, resource)
            for param in (spec.name, *spec.aliases):
                if param in self._by_param:
                    raise DuplicateFilter(resource, param)
                self._by_param[param] = spec
            self.specs[spec.name] = spec

    def __contains__(self, param: str) -> bool:
        return param in self._by_param

    def parse(
        self,
        params: Iterable[tuple[str, str]],
        *,
        location: str = "query",
        ignore: Iterable[str] = (),
        split_commas: bool = True,
    ) -> AppliedFilters:
        """Parse ``(name, value)`` pairs; names in ``ignore`` belong to the route
        (``limit``, ``cursor`` ...). Unknown names and bad values give one 422
        listing every problem. ``split_commas``: a query string's comma lists;
        off for values that are already one value each (JSON lists)."""
        ignore = set(ignore)
        errors: list[FieldError] = []
        texts: dict[str, list[tuple[str, str]]] = {}
        for param, raw in params:
            if param in ignore:
                continue
            spec = self._by_param.get(param)
            if spec is None:
                errors.append(field_error((location, param), "unknown parameter", "extra"))
                continue
            parts = raw.split(",") if split_commas and spec.kind != "range" else [raw]
            texts.setdefault(spec.name, []).extend(
                (param, part.strip()) for part in parts if part.strip()
            )
        items, raw_by_name = [], {}
        for name, pairs in texts.items():
            spec = self.specs[name]
            if len(pairs) > MAX_FILTER_VALUES:
                # Every value is a condition of the query (an ILIKE for a text
                # filter): 50,000 of them kept an export's worker busy for a minute.
                errors.append(field_error((location, name), f"at most {MAX_FILTER_VALUES} values"))
                continue
            values: list[Any] = []
            seen: set[Any] = set()
            for param, text in pairs:
                try:
                    value = _parse_value(spec, text)
                except ValueError as exc:
                    errors.append(field_error((location, param), str(exc)))
                    continue
                try:  # a set, not `in values`: that was quadratic, and froze the loop
                    if value in seen:
                        continue
                    seen.add(value)
                except TypeError:  # a plugin's unhashable value
                    if value in values:
                        continue
                values.append(value)
            if not spec.multiple and len(values) > 1:
                errors.append(field_error((location, name), "takes a single value"))
            if values:
                items.append((spec, tuple(values)))
                raw_by_name[name] = tuple(dict.fromkeys(text for _, text in pairs))
        if errors:
            raise ValidationError(errors)
        return AppliedFilters(tuple(items), raw_by_name)

    def parse_mapping(
        self, mapping: Mapping[str, Any], *, location: str = "body"
    ) -> AppliedFilters:
        """Filters given as a JSON object of lists (or scalars), e.g. an export body.
        Each list item is one value: ``["health, wellness & fitness"]`` is not split."""
        pairs: list[tuple[str, str]] = []
        for name, value in mapping.items():
            values = value if isinstance(value, list) else [value]
            for item in values:
                if isinstance(item, bool):
                    item = "true" if item else "false"
                if not isinstance(item, str | int | float):
                    raise ValidationError.single(
                        (location, name), "values must be strings, numbers or booleans"
                    )
                pairs.append((name, str(item)))
        return self.parse(pairs, location=location, split_commas=False)
