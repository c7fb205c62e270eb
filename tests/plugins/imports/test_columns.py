"""The column catalogue: our names, Apollo's aliases, header matching, the list format."""

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from contacts_api.core.sql import compile_sql
from contacts_api.plugins.imports.columns import (
    APOLLO_HEADERS,
    EXPORT_COLUMNS,
    FIRST_PHONE,
    IMPORT_COLUMNS,
    SUB_DEPARTMENTS,
    canonical_header,
    join_list,
    list_cell_sql,
    split_list,
)
from tests.plugins.imports.conftest import query

SAMPLES = Path(__file__).parent / "samples"


def sample_header(name: str) -> list[str]:
    with (SAMPLES / name).open(encoding="utf-8-sig", newline="") as file:
        return next(csv.reader(file))


def test_import_columns_are_the_header_of_our_layout() -> None:
    assert list(IMPORT_COLUMNS) == sample_header("contacts-import.csv")


def test_export_columns_add_the_ids() -> None:
    assert EXPORT_COLUMNS == (*IMPORT_COLUMNS, "uuid", "company_uuid")


@pytest.mark.parametrize("column", EXPORT_COLUMNS)
def test_our_names_map_to_themselves(column: str) -> None:
    assert canonical_header(column) == column


@pytest.mark.parametrize(("alias", "column"), sorted(APOLLO_HEADERS.items()))
def test_apollo_aliases(alias: str, column: str) -> None:
    assert canonical_header(alias) == column


@pytest.mark.parametrize(
    ("raw", "column"),
    [
        ("FIRST NAME", "first_name"),
        ("first name", "first_name"),
        ("First_Name", "first_name"),
        ("  firstname  ", "first_name"),
        ("\ufeffFirst Name", "first_name"),
        ("\ufeffemail", "email"),
        ("# employees", "employees"),
        ("Company Name", "company"),
        ("Corporate Phone", "company_phone"),
        ("Sub Departments", SUB_DEPARTMENTS),
        ("First Phone", FIRST_PHONE),
        ("Person LinkedIn URL", "person_linkedin_url"),
    ],
)
def test_matching_ignores_case_spaces_underscores_and_bom(raw: str, column: str) -> None:
    assert canonical_header(raw) == column


@pytest.mark.parametrize(
    "raw", ["", "Contact Owner", "Apollo Contact Id", "Email Confidence", "e-mail", "name"]
)
def test_unknown_headers(raw: str) -> None:
    assert canonical_header(raw) is None


@pytest.mark.parametrize(
    ("sample", "company_header", "extra"),
    [
        ("apollo-contacts-export-2024.csv", "Company", {"First Phone"}),
        ("apollo-contacts-export-2025-11.csv", "Company Name", set()),
        ("apollo-contacts-export-2026.csv", "Company Name", {"Sub Departments"}),
    ],
)
def test_every_apollo_layout_feeds_every_import_column(
    sample: str, company_header: str, extra: set[str]
) -> None:
    header = sample_header(sample)
    known = {cell: canonical_header(cell) for cell in header if canonical_header(cell)}
    assert set(known.values()) >= set(IMPORT_COLUMNS)
    assert known[company_header] == "company"
    assert extra <= set(known)


# -- the list cell format (shared by the import and the export) -----------------------

_ELEMENTS = st.lists(
    st.text(alphabet=st.sampled_from("ab ,\\\\'-"), min_size=1).map(str.strip).filter(bool),
    max_size=5,
)


@given(_ELEMENTS)
def test_a_joined_list_splits_back_to_its_elements(elements) -> None:
    assert split_list(join_list(elements)) == elements


def test_apollo_plain_lists_still_split_on_commas() -> None:
    assert split_list("Sales, Ops,,  Engineering ") == ["Sales", "Ops", "Engineering"]
    assert split_list("C\\C++, a\\b") == ["C\\C++", "a\\b"]  # a lone backslash stays


def test_elements_with_commas_are_escaped() -> None:
    cell = join_list(["glass, ceramics & concrete", "back\\slash", "plain"])
    assert cell == "glass\\, ceramics & concrete, back\\\\slash, plain"


@pytest.mark.parametrize(
    "elements",
    [
        [],
        ["plain", "list"],
        ["glass, ceramics & concrete", "software"],
        ["back\\slash", "ends\\", "\\,", ",,"],
        ["ünïcödé, ✓", "'quoted'"],
    ],
)
def test_the_export_joins_lists_in_sql_as_join_list_does(settings, elements) -> None:
    sql, params = compile_sql(
        sa.select(
            list_cell_sql(sa.cast(sa.literal(elements, sa.ARRAY(sa.Text)), sa.ARRAY(sa.Text)))
        )
    )
    cell = query(settings, sql, params)[0]
    assert list(cell.values())[0] == (join_list(elements) or None)
