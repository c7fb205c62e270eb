"""Formula neutralization agrees between its two engines.

The export neutralizes in SQL (:func:`neutralize_sql`, inside its ``COPY``); the
import undoes it in Python (:func:`unneutralize`). Both read one pattern, but
PostgreSQL's ``\\s`` and Python's are not the same class (PostgreSQL's leaves out
U+00A0, Python's takes it), so a stored ``'`` + NBSP + ``=1`` went out as it was and
came back without its quote. These tests run the pattern in both engines over
cells built from the characters where engines and spreadsheets differ.
"""

import psycopg2
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contacts_api.core.sql import compile_sql
from contacts_api.plugins.imports.columns import neutralize, neutralize_sql, unneutralize

# characters a cell may start with: ASCII and Unicode spaces, separators, the
# formula starts in ASCII and full width, a quote, and plain text
START_CHARACTERS = [
    " ", "\t", "\r", "\n", "\u00a0", "\u2003", "\u3000", ";", ",", "\uff1b", "\uff0c",
    "=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20", "\u2212", "'", "a", "1",
]  # fmt: skip
cells = st.lists(st.sampled_from(START_CHARACTERS), min_size=0, max_size=5).map("".join)


@pytest.fixture(scope="module")
def sql_neutralize(database_url):
    """``neutralize_sql`` run by PostgreSQL, one cell at a time."""
    connection = psycopg2.connect(database_url)

    def run(value: str) -> str:
        with connection.cursor() as cur:
            cur.execute(*compile_sql(sa.select(neutralize_sql(sa.literal(value, sa.Text)))))
            return cur.fetchone()[0]

    yield run
    connection.close()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cell=cells)
def test_python_and_postgresql_neutralize_alike(sql_neutralize, cell):
    assert sql_neutralize(cell) == neutralize(cell)


@settings(max_examples=300, deadline=None)
@given(cell=cells)
def test_an_exported_cell_imports_back_unchanged(cell):
    assert unneutralize(neutralize(cell)) == cell


@pytest.mark.parametrize("cell", ["'\u00a0=1", "\u00a0=1", "'\u3000=1", "\u00a0\t", "'\t", "'=1"])
def test_a_quote_before_a_unicode_space_survives_the_round_trip(sql_neutralize, cell):
    """The shrunk failure: the export (SQL) and the import (Python) must agree on
    whether the cell starts a formula, or the stored quote is lost; and a stored
    quote before a formula start is data, not a neutralization (shrunk: "\u00a0\t",
    "'\t")."""
    assert unneutralize(sql_neutralize(cell)) == cell


@pytest.mark.parametrize(
    "cell", ["\uff1d1+1", "\uff0bcmd", "\uff0d2+3", "\uff20SUM(A1)", " \uff1d1"]
)
def test_full_width_formula_starts_are_neutralized(sql_neutralize, cell):
    """Spreadsheets with East Asian input read a full-width ＝ ＋ － ＠ as the
    ASCII sign (OWASP CSV injection lists them)."""
    assert neutralize(cell) == "'" + cell
    assert sql_neutralize(cell) == "'" + cell
