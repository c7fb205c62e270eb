"""Read an Apollo.io search URL into its route and fragment parameters.

Apollo keeps a search in the URL *fragment* (``#/people?personTitles[]=CEO&...``).
Users paste these URLs from browsers, chat tools and spreadsheets, so this module
repairs what it safely can (recording a warning for each repair) and refuses, with
:class:`ApolloUrlError`, anything that is not an Apollo search. Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, unquote_plus, unquote_to_bytes, urlsplit

PageType = Literal["people", "companies"]

EXAMPLE = "https://app.apollo.io/#/people?personTitles[]=CEO"

# A percent escape left after one decode means the value was encoded twice.
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
# An escape cut short at the very end of the URL: the URL was probably truncated.
_CUT_ESCAPE = re.compile(r"%[0-9A-Fa-f]?$")
# Browsers drop tabs and newlines anywhere in a URL (WHATWG); chat tools insert them.
_TAB_NEWLINE = re.compile(r"[\t\r\n]+")
# str.strip() keeps zero-width characters, which chat tools like to add at the edges.
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
# What is stripped at the edges: every character str.isspace() accepts (all are below
# U+3001) and the zero-width ones. str.strip(chars) is linear; the regular expression
# it replaces (``[\s...]+$`` searched) was quadratic in a run of inner whitespace, and
# one pasted URL with 120,000 inner spaces held the event loop for a minute.
_EDGE_CHARS = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + _ZERO_WIDTH
# The longest URL accepted (characters). Real ones reach about 13,000 (282 values).
MAX_URL_LENGTH = 65_536
# An address typed or copied without its scheme ("app.apollo.io/#/people?...").
_SCHEMELESS_APOLLO = re.compile(r"^(?:[a-z0-9-]+\.)*apollo\.io(?=[:/#?]|$)", re.IGNORECASE)
_ENCODED_SCHEME = re.compile(r"^https?%3A%2F%2F", re.IGNORECASE)
# Pairs of wrappers that chat tools and spreadsheets put around a pasted link.
_WRAPPERS = {"<": ">", '"': '"', "'": "'", "\u201c": "\u201d"}
_MAX_EXTRA_DECODES = 2

# Apollo routes that exist but are not searches, and how to name them to the user.
_NOT_SEARCH_ROUTES = {
    "lists": "a saved list",
    "settings": "a settings page",
    "accounts": "a page of saved accounts",
    "contacts": "a page of saved contacts",
    "organizations": "a company's page",
    "sequences": "a sequence",
    "home": "the home page",
}


class ApolloUrlError(ValueError):
    """The input is not an Apollo search URL; the message says why, for a human."""


@dataclass(frozen=True)
class ParsedUrl:
    """An Apollo search URL read into its route and fragment parameters.

    ``parameters`` maps each key (``%5B%5D`` decoded to ``[]``, whitespace stripped) to
    its distinct values in first-seen order; a key given without ``=`` or with only
    empty values has an empty list. ``ignored_query`` holds a query string found
    before the ``#``, which is not part of Apollo's search state.
    """

    url: str
    page_type: PageType
    parameters: dict[str, list[str]]
    warnings: list[str]
    ignored_query: dict[str, list[str]]


def parse_apollo_url(url: str) -> ParsedUrl:
    """Parse ``url`` into a :class:`ParsedUrl`; raise :class:`ApolloUrlError` if it is
    not an Apollo people or companies search."""
    warnings: dict[str, None] = {}  # an ordered set: the same repair is reported once
    text = _clean_input(url, warnings)
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
    except ValueError as exc:  # e.g. an unbalanced "[" in the host part
        raise ApolloUrlError(f"Not a URL: {_short(text)} ({exc})") from None
    if parts.scheme not in ("http", "https", "") or not hostname:
        raise ApolloUrlError(
            f"Not a URL: {_short(text)}; expected an Apollo search address such as {EXAMPLE}"
        )
    host = hostname.rstrip(".")
    if host != "apollo.io" and not host.endswith(".apollo.io"):
        raise ApolloUrlError(f"Not an Apollo URL: the host is {host}, expected app.apollo.io")
    if not parts.fragment.strip():
        missing = "nothing after its '#'" if "#" in text else "no '#' part"
        raise ApolloUrlError(
            f"Not an Apollo search: the URL has {missing}, and Apollo keeps a search "
            f"there (#/people?... or #/companies?...), e.g. {EXAMPLE}"
        )
    page_type, query = _split_route(parts.fragment, warnings)
    parameters = _parse_pairs(query, warnings)
    ignored: dict[str, list[str]] = {}
    if parts.query:
        ignored = _parse_pairs(parts.query, {})  # repairs of ignored data are not news
        warnings[
            "query string before '#' ignored (Apollo keeps its search after '#'): "
            + ", ".join(ignored or [parts.query])
        ] = None
    return ParsedUrl(text, page_type, parameters, list(warnings), ignored)


def _clean_input(url: str, warnings: dict[str, None]) -> str:
    """Trim and unwrap a pasted URL; raise if nothing usable is left."""
    if not isinstance(url, str):
        raise ApolloUrlError(f"The URL must be a string, not {type(url).__name__}")
    if len(url) > MAX_URL_LENGTH:
        raise ApolloUrlError(
            f"The URL is {len(url):,} characters long; at most {MAX_URL_LENGTH:,} are accepted"
        )
    text = url.strip(_EDGE_CHARS)
    if len(text) >= 2 and _WRAPPERS.get(text[0]) == text[-1]:
        text = text[1:-1].strip(_EDGE_CHARS)
        warnings["removed the quotes or brackets around the URL"] = None
    if not text:
        raise ApolloUrlError(f"The URL is empty: paste the address of an Apollo search ({EXAMPLE})")
    if _TAB_NEWLINE.search(text):
        text = _TAB_NEWLINE.sub("", text)
        warnings["removed line breaks or tabs inside the URL"] = None
    if _ENCODED_SCHEME.match(text):  # the whole URL was percent-encoded, as in a redirect
        text = unquote(text)
        warnings["the whole URL was percent-encoded: decoded it once"] = None
    if "://" not in text and _SCHEMELESS_APOLLO.match(text):
        text = "https://" + text
        warnings["the URL had no scheme: read it as https://"] = None
    return text


def _split_route(fragment: str, warnings: dict[str, None]) -> tuple[PageType, str]:
    """Split ``/people?a=b`` into its page type and query; raise for non-search routes."""
    if fragment[:1].isspace():
        warnings["stray whitespace removed at the start of the '#' part"] = None
    route, sep, query = fragment.strip().partition("?")
    if not sep and "=" in route and "&" in route:  # "#/people&a=b": the "?" was lost
        route, _, query = route.partition("&")
        warnings["the '#' part had no '?' after the route: read the pairs after the '&'"] = None
    segments = [s.strip() for s in route.lstrip("!").split("/") if s.strip()]
    shown = "#/" + "/".join(segments)
    kind = segments[0].lower() if segments else ""
    if kind in ("people", "companies") and len(segments) == 1:
        page_type: PageType = "people" if kind == "people" else "companies"
        return page_type, query.lstrip("?")  # "#/people??a=b": a doubled "?"
    if kind in ("people", "companies"):
        what = "a person's page" if kind == "people" else "a company's page"
    elif kind in _NOT_SEARCH_ROUTES:
        what = _NOT_SEARCH_ROUTES[kind]
    elif not kind:
        raise ApolloUrlError(
            "Not an Apollo search: the '#' part has no route; expected #/people?... "
            "or #/companies?..."
        )
    else:
        what = "not a people or company search"
    raise ApolloUrlError(
        f"Not an Apollo search: {_short(shown)} is {what}; copy the URL of a people "
        "search (#/people?...) or a company search (#/companies?...)"
    )


def _parse_pairs(query: str, warnings: dict[str, None]) -> dict[str, list[str]]:
    """Split on '&' first, then decode each key and value once (form semantics)."""
    parameters: dict[str, dict[str, None]] = {}  # ordered sets of values
    keys: dict[str, str] = {}  # raw key -> key: a long list repeats its key hundreds of times
    pieces = query.split("&")
    for piece in pieces:
        if not piece:
            continue
        raw_key, has_value, raw_value = piece.partition("=")
        key = keys.get(raw_key)
        if key is None:
            key = keys[raw_key] = _decode(raw_key, "key", warnings)
        if not key:
            if raw_value.strip():
                warnings[f"value {raw_value!r} without a name ignored"] = None
            continue
        values = parameters.setdefault(key, {})
        if has_value:
            value = _decode(raw_value, f"value of {key}", warnings)
            if value:
                values[value] = None
    if pieces and _CUT_ESCAPE.search(pieces[-1]):
        warnings["the URL ends inside a %-escape: possibly truncated URL"] = None
    return {key: list(values) for key, values in parameters.items()}


def _decode(raw: str, what: str, warnings: dict[str, None]) -> str:
    """Decode one key or value: form decoding, a second pass when double-encoded,
    Unicode NFC, and trimming of stray whitespace."""
    text = raw
    if "%" in text or "+" in text:
        text = _unquote(text, what, warnings)
        if "%" in text and _PERCENT_ESCAPE.search(text):
            once = text
            for _ in range(_MAX_EXTRA_DECODES):
                text = _unquote(text, what, warnings)
                if "%" not in text or not _PERCENT_ESCAPE.search(text):
                    break
            warnings[f"double-encoded {what} decoded again: {once!r} -> {text!r}"] = None
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if text and (
        text[0].isspace() or text[-1].isspace() or text[0] in _ZERO_WIDTH or text[-1] in _ZERO_WIDTH
    ):
        warnings[f"stray whitespace removed from the {what}: {text!r}"] = None
        text = text.strip(_EDGE_CHARS)
    return text


def _unquote(text: str, what: str, warnings: dict[str, None]) -> str:
    """``unquote_plus`` as UTF-8; bytes that are not UTF-8 are read as Latin-1.
    (Through bytes: the same result, in half the time of ``unquote_plus``.)"""
    try:
        return unquote_to_bytes(text.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        warnings[f"{what} was not UTF-8: read it as Latin-1"] = None
        return unquote_plus(text, encoding="latin-1")


def _short(text: str, limit: int = 80) -> str:
    """Quote ``text`` for an error message, cut to ``limit`` characters."""
    return repr(text if len(text) <= limit else text[: limit - 1] + "\u2026")
