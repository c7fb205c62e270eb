"""No regular expression that sees user input backtracks catastrophically
(issue 14, finding 1). Each is timed the way the code uses it, on long
adversarial inputs: a linear pattern takes milliseconds, a quadratic one
seconds. The Apollo plugin's patterns are tested in its own tests.

A new pattern anywhere in the package fails ``test_every_pattern_is_reviewed``
until it is added here (or listed as never seeing user input)."""

import importlib
import pkgutil
import re
import time
from collections.abc import Callable

import pytest

import contacts_api

# a wall-clock budget: with xdist, no other test runs meanwhile (tests/alone.py)
pytestmark = pytest.mark.alone

LENGTH = 20_000
BUDGET_S = 0.5  # a quadratic pattern needs seconds at this length
UNITS = [" ", "a", "a.", "1,", "@", "a@", "-", "1", "\t", "a-", "_ ", "1,000", "a.a-", "é"]
HEADS = ["", "x@a."]
TAILS = ["", "!", "\x00", "@."]


def _pattern(module: str, name: str) -> re.Pattern:
    return getattr(importlib.import_module(module), name)


# (module, attribute, how the code applies it)
USES: list[tuple[str, str, str]] = [
    ("contacts_api.core.filters", "_INT", "fullmatch"),
    ("contacts_api.core.middlewares", "_REQUEST_ID_OK", "fullmatch"),
    ("contacts_api.plugins.auth_jwt.validation", "EMAIL", "match"),
    ("contacts_api.plugins.auth_api_keys.keys", "_KEY", "fullmatch"),
    ("contacts_api.plugins.contacts.normalize", "_DOMAIN", "fullmatch"),
    ("contacts_api.plugins.contacts.normalize", "_EMAIL", "fullmatch"),
    ("contacts_api.plugins.contacts.sqltext", "_FOLD", "sub"),
    ("contacts_api.plugins.contacts.sqltext", "_WORD3", "search"),
    ("contacts_api.plugins.imports.normalize", "_EMAIL", "fullmatch"),
    ("contacts_api.plugins.imports.normalize", "_THOUSANDS", "fullmatch"),
    ("contacts_api.plugins.imports.normalize", "_US_DATE", "fullmatch"),
    ("contacts_api.plugins.imports.normalize", "_ENUM_SEPARATORS", "sub"),
    ("contacts_api.plugins.imports.reading", "_LINE", "findall"),
    ("contacts_api.plugins.imports.reading", "_NON_ASCII", "findall"),
    ("contacts_api.plugins.imports.reading", "_CONTROL_BYTES", "findall"),
    # CSV list cells (the import reads them with finditer: findall does the same matching)
    ("contacts_api.plugins.imports.columns", "_LIST_TOKEN", "findall"),
    ("contacts_api.plugins.imports.columns", "_NEUTRALIZED", "match"),
]
# Patterns that only ever see our own data (stored hashes, our OpenAPI paths)
# or the operator's settings.
NOT_USER_INPUT = {
    ("contacts_api.plugins.auth_jwt.passwords", "_COST"),
    ("contacts_api.plugins.contact360_compat.config", "_PREFIX"),
    ("contacts_api.plugins.contact360_compat.openapi", "_PARAM"),
}


def _apply(pattern: re.Pattern, how: str) -> Callable[[str], object]:
    if how == "sub":
        return lambda text: pattern.sub(" ", text)
    return getattr(pattern, how)


def _inputs(as_bytes: bool):
    for unit in UNITS:
        for head in HEADS:
            for tail in TAILS:
                text = head + unit * (LENGTH // len(unit)) + tail
                yield text.encode() if as_bytes else text


@pytest.mark.parametrize(("module", "name", "how"), USES, ids=[f"{m}.{n}" for m, n, _ in USES])
def test_pattern_is_linear_on_adversarial_input(module, name, how):
    pattern = _pattern(module, name)
    run = _apply(pattern, how)
    slowest, worst = 0.0, b""
    for text in _inputs(isinstance(pattern.pattern, bytes)):
        started = time.perf_counter()
        run(text)
        took = time.perf_counter() - started
        if took > slowest:
            slowest, worst = took, text[:12]
    assert slowest < BUDGET_S, f"{module}.{name} took {slowest:.2f} s on {worst!r}..."


def test_every_pattern_is_reviewed():
    # by identity: a pattern imported elsewhere (or compiled twice from the same
    # text, which re's cache makes one object) is one pattern
    found: dict[int, str] = {}
    for info in pkgutil.walk_packages(contacts_api.__path__, "contacts_api."):
        if info.name.startswith("contacts_api.plugins.apollo"):
            continue  # reviewed with the Apollo parser
        for name, value in vars(importlib.import_module(info.name)).items():
            if isinstance(value, re.Pattern):
                found.setdefault(id(value), f"{info.name}.{name}")
    reviewed = {id(_pattern(m, n)) for m, n, _ in USES} | {
        id(_pattern(m, n)) for m, n in NOT_USER_INPUT
    }
    unreviewed = sorted(where for key, where in found.items() if key not in reviewed)
    assert unreviewed == [], "review these patterns for backtracking, then list them here"
    assert reviewed <= set(found)  # the discovery sees the listed ones
