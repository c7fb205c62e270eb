"""The array literals the batch writer sends survive PostgreSQL's parser unchanged."""

import pytest

from contacts_api.plugins.imports.upsert_sql import literal
from tests.plugins.imports.conftest import query

TEXTS = [
    ["plain", "with space", "", None],
    ['quote " inside', "back\\slash", "\\", '"', "{braces}", "a,b", "NULL", "null"],
    ["tab\tnew\nline\r", "ünïcödé ✓", "\x1dNULL\x1d", "x\x1ey", "\x1d"],
    [None, None],
    [],
]


@pytest.mark.parametrize("values", TEXTS)
def test_text_literals_round_trip(settings, values):
    for text in (True, False):
        rows = query(settings, "SELECT %s::text[] AS v", (literal(values, text=text),))
        assert rows[0]["v"] == values


def test_integer_literals_round_trip(settings):
    values = [0, -5, None, 2**62]
    assert query(settings, "SELECT %s::bigint[] AS v", (literal(values),))[0]["v"] == values
