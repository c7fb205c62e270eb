"""Location values of Apollo URLs: regions, country abbreviations and metro areas
(docs/api.md ("Apollo search URLs") "Locations").

Real URLs name regions (``Europe``, ``EMEA``, ``DACH``), abbreviations (``UAE``)
and metro areas (``Greater Seattle Area``) as often as places. Searched as
written they find nothing, so :meth:`LocationTable.expand` turns each into the
places it means: a region into its countries, an abbreviation into its country,
a metro area into its city. Anything else is searched as written; a value that
reads like a region but is not in the table (``Pacific Northwest``, ``NORAM+``)
also gets a warning naming it.

The table ships as ``data/apollo_locations.csv`` (its header explains the
columns); a plugin extends it with :meth:`LocationTable.extended` and the
mappers of ``plugins.apollo.mappers.location_mappers``, returned from the
``register_apollo_mappings`` hook. Pure functions, no I/O after the first read.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Literal

__all__ = ["Expansion", "LocationTable", "default_locations"]

_TABLE = "apollo_locations.csv"
Kind = Literal["region", "country", "metro", "place"]
_KINDS = frozenset(("region", "country", "metro", "place"))

# Words around a city that make a metro area: "Greater X Area", "X Metro Area",
# "X Metropolitan Area", "X Bay Area" (the bay is part of the area: Tampa Bay Area
# means Tampa), "X Metroplex". Compared on the folded words of the value.
_METRO_PREFIX = "greater"
_METRO_SUFFIXES = (
    ("metropolitan", "area"),
    ("metro", "area"),
    ("bay", "area"),
    ("area",),
    ("metroplex",),
    ("metro",),
)
# A single-part value holding one of these words reads like a region, not a place.
_REGION_WORDS = frozenset(
    "region regions area areas coast coasts hemisphere worldwide global globally "
    "international continent continental countries states remote anywhere metro "
    "metropolitan midwest north south east west northern southern eastern western "
    "central northeast northwest southeast southwest mid".split()
)


def _fold(text: str) -> str:
    """The lookup form of a name: case folded, dots dropped, ``-`` and ``_`` as
    spaces, whitespace collapsed (``U.S.`` -> ``us``, ``Asia-Pacific`` -> ``asia pacific``)."""
    return " ".join(text.casefold().replace(".", "").replace("-", " ").replace("_", " ").split())


@dataclass(frozen=True)
class Expansion:
    """What one location value is searched as: ``places`` (ORed), the ``kind`` of
    name it was (None: a place, searched as written) and a warning, if any."""

    places: tuple[str, ...]
    kind: Kind | None = None
    warning: str | None = None


@dataclass(frozen=True)
class LocationTable:
    """Names (folded, see :func:`_fold`) and the places they mean, resolved: a
    region's places are countries, never other regions."""

    entries: Mapping[str, tuple[Kind, tuple[str, ...]]]

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, Iterable[str]]]) -> LocationTable:
        """A table from ``(name, kind, places)`` rows; a region's places may name
        other regions (or abbreviations) of the rows, resolved here."""
        raw: dict[str, tuple[Kind, tuple[str, ...]]] = {}
        for name, kind, places in rows:
            if kind not in _KINDS:
                raise ValueError(f"location {name!r}: unknown kind {kind!r}")
            cleaned = tuple(p.strip() for p in places if p.strip())
            if not cleaned:
                raise ValueError(f"location {name!r} names no place")
            raw[_fold(name)] = (kind, cleaned)  # type: ignore[assignment]
        return cls({key: (kind, _resolve(raw, key, ())) for key, (kind, _) in raw.items()})

    def extended(self, extra: Mapping[str, Iterable[str]]) -> LocationTable:
        """This table plus regions ``{name: places}`` (places may name regions of
        this table, e.g. ``{"EMEA+": ["EMEA", "India"]}``); a name already in the
        table is replaced."""
        rows = [(key, kind, places) for key, (kind, places) in self.entries.items()]
        rows += [(name, "region", list(places)) for name, places in extra.items()]
        return LocationTable.from_rows(rows)

    @functools.cached_property
    def known_places(self) -> frozenset[str]:
        """Folded names of every place the table mentions (countries, cities)."""
        return frozenset(_fold(p) for _, places in self.entries.values() for p in places)

    def expand(self, value: str) -> Expansion:
        """What ``value`` is searched as (see the module docstring)."""
        key = _fold(value)
        entry = self.entries.get(key)
        if entry is not None:
            kind, places = entry
            return Expansion((value,) if kind == "place" else places, kind)
        if "," in value:  # "City, State, Country": a place; a metro area may lead it
            first, _, rest = value.partition(",")
            metro = self._metro(first)
            if metro is None or len(metro) != 1:
                return Expansion((value,))
            return Expansion((f"{metro[0]},{rest}",), "metro")
        metro = self._metro(value)
        if metro is not None:
            return Expansion(metro, "metro")
        if key in self.known_places or not self._reads_like_region(value, key):
            return Expansion((value,))
        return Expansion(
            (value,),
            warning=f"location {value!r} is neither a known place nor a known region: "
            "searched as written",
        )

    def _metro(self, value: str) -> tuple[str, ...] | None:
        """The cities of a metro-area form (``Greater Seattle Area``), or None."""
        written = value.split()  # hyphens kept: "Greater Winston-Salem Area"
        folded = [_fold(word) for word in written]
        start, end = (1 if folded[:1] == [_METRO_PREFIX] else 0), len(folded)
        for suffix in _METRO_SUFFIXES:
            if len(folded) - start > len(suffix) and tuple(folded[-len(suffix) :]) == suffix:
                end -= len(suffix)
                break
        if end == len(folded):  # "Greater London" alone is a place's own name
            return None
        city = " ".join(written[start:end])
        entry = self.entries.get(_fold(city))
        if entry is not None and entry[0] == "metro":
            return entry[1]
        return (city,)

    def _reads_like_region(self, value: str, key: str) -> bool:
        """A region-like word, or an unknown acronym of three or more capitals
        (``NORAM``); two capitals are a state or country code."""
        if any(word in _REGION_WORDS for word in key.split()):
            return True
        letters = value.replace("&", "").replace("+", "").replace("/", "")
        return len(letters) >= 3 and letters.isalpha() and letters.isupper()


def _resolve(
    raw: Mapping[str, tuple[str, tuple[str, ...]]], key: str, seen: tuple[str, ...]
) -> tuple[str, ...]:
    """The places of region ``key`` with the regions among them replaced by their
    own places, and abbreviations by their countries, in order, each once."""
    if key in seen:
        raise ValueError(f"location regions refer to each other: {' -> '.join((*seen, key))}")
    kind, places = raw[key]
    if kind != "region":
        return places
    resolved: dict[str, None] = {}
    for place in places:
        nested = raw.get(_fold(place))
        if nested is not None and nested[0] == "region":
            resolved.update(dict.fromkeys(_resolve(raw, _fold(place), (*seen, key))))
        elif nested is not None and nested[0] == "country":  # "UK" in a region
            resolved.update(dict.fromkeys(nested[1]))
        else:
            resolved[place] = None
    return tuple(resolved)


def _rows(text: str) -> Iterable[tuple[str, str, list[str]]]:
    lines = (line for line in io.StringIO(text) if line.strip() and not line.startswith("#"))
    for row in csv.DictReader(lines):
        yield row["name"].strip(), row["kind"].strip(), row["places"].split(";")


@functools.cache
def default_locations() -> LocationTable:
    """The table shipped with the plugin (read once)."""
    text = resources.files(__package__).joinpath("data", _TABLE).read_text(encoding="utf-8")
    return LocationTable.from_rows(_rows(text))
