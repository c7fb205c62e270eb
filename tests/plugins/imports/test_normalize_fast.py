"""The reading thread's fast paths against the plain ones (issue 16).

- ``HeaderMap`` remembers each distinct company's cells read (``company_parts``):
  every row of a file normalized with one HeaderMap must give exactly what a fresh
  HeaderMap per row gives (the plain path: nothing remembered), the same ImportRow
  or the same RowError message, over a small vocabulary of colliding cells (quotes,
  backslashes, unicode, the array literals' marker characters, formula cells, bad
  numbers, too-long text, duplicate header cells), also when the cache is tiny and
  forgets companies all the time.
- ``import_gc_threshold`` raises the collector's first threshold while imports run
  and puts it back when the last one ends (the import tests' ``gc_threshold_restored``
  fixture checks every import test leaves it as it found it, cancelled jobs included).

Each failing example hypothesis found is kept below as a named test.
"""

from __future__ import annotations

import gc

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contacts_api.plugins.imports import normalize, parsing
from contacts_api.plugins.imports.normalize import (
    ImportRow,
    RowError,
    build_header_map,
    normalize_row,
)

# Header cells, duplicates included: two cells feeding one column (the first
# non-empty wins), Apollo aliases, an unknown column, input-only columns.
HEADERS = [
    "Email",
    "First Name",
    "last_name",
    "Title",
    "Mobile Phone",
    "First Phone",
    "Sub Departments",
    "Departments",
    "Company",
    "Company Name",
    "Website",
    "# Employees",
    "Industry",
    "Keywords",
    "Company Phone",
    "Corporate Phone",
    "Annual Revenue",
    "Last Raised At",
    "Company City",
    "Company Linkedin Url",
    "Stage",
    "Lists",
    "uuid",
]
CELLS = [
    "",
    " ",
    "Acme",
    "ACME ",
    "Ünïcode Gmbh",
    # decomposed (NFD, as macOS exports write it): stored composed, as filters compare
    "U\u0308ni\u0308code Gmbh",
    "'e\u0301",
    "cafe\u0301, CAFÉ",
    "x" * 299 + "e\u0301",  # 301 characters decomposed, 300 composed: within the limit
    'say "hi"',
    "back\\slash",
    "\x1d",
    "\x1e",
    "\x1f",
    "a\x1fb",
    "'=1+1",
    "'Ohana",
    "''",
    "'",
    "a, b, A",
    "x\\, y, z",
    "acme.com",
    "https://www.ACME.com/about",
    "1,200",
    "$1,200",
    "2.12E+09",
    "ten",
    "-5",
    "9" * 25,
    "10/1/2023",
    "ann@x.com",
    "not an email",
    "x" * 300,
    "x" * 301,
    "y" * 2000,
    "y" * 2001,
    "'+1 217-254-9641",
]


def plain_normalize_row(header_map, cells: list[str]) -> ImportRow:
    """normalize_row as it was before the company cache: every part read from the
    cells, in the order contact, contact metadata, company, company metadata, extra."""
    missing = header_map.width - len(cells)
    if missing < 0:
        raise RowError(
            f"the row has {len(cells)} cells but the header has {header_map.width} columns"
        )
    cells = cells + [""] * missing
    parts = [normalize._read(cells, plan) for plan in header_map.plans]
    contact, contact_meta, company, company_meta, extra = parts
    if extra:
        normalize._merge_extra(extra, parts)
    website = company_meta.get("website")
    if website and (domain := normalize.domain_from_website(website)):
        company["domain"] = domain
    has_company = "name" in company or "domain" in company
    if "email" not in contact and "first_name" not in contact and "last_name" not in contact:
        if not normalize.is_company_only_row(contact, contact_meta, has_company):
            raise RowError("the row has neither an email nor a first or last name")
    if not has_company:
        return ImportRow(contact, contact_meta, None, {})
    return ImportRow(contact, contact_meta, company, company_meta)


def _normalized(read, header_map, cells: list[str]) -> tuple[str, object]:
    try:
        return "row", read(header_map, cells)
    except RowError as error:
        return "error", str(error)


def _assert_same_as_plain(header: list[str], rows: list[list[str]]) -> None:
    header_map = build_header_map(header)
    for cells in rows:
        plain = _normalized(plain_normalize_row, build_header_map(header), cells)
        assert _normalized(normalize_row, header_map, cells) == plain, cells


@st.composite
def files(draw) -> tuple[list[str], list[list[str]]]:
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=12))
    # Two values per column: rows then share most of their company cells and differ
    # in a few, what the cache's key must tell apart.
    pools = [draw(st.lists(st.sampled_from(CELLS), min_size=2, max_size=2)) for _ in header]
    row = st.tuples(*(st.sampled_from(pool) for pool in pools)).map(list)
    extra = st.lists(st.sampled_from(CELLS), max_size=1)  # a row longer than the header
    rows = draw(st.lists(st.tuples(row, extra).map(lambda r: r[0] + r[1]), min_size=1, max_size=16))
    return header, rows


@hypothesis_settings(max_examples=400, deadline=None)
@given(files())
def test_remembered_companies_read_as_the_plain_path(file) -> None:
    _assert_same_as_plain(*file)


@hypothesis_settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files())
def test_a_tiny_company_cache_reads_as_the_plain_path(monkeypatch, file) -> None:
    monkeypatch.setattr(normalize, "COMPANY_CACHE_SIZE", 4)
    _assert_same_as_plain(*file)


def test_rows_of_one_company_share_its_parts_and_keep_their_own() -> None:
    header = ["Email", "Company", "Website", "Industry", "Title"]
    header_map = build_header_map(header)
    first = normalize_row(header_map, ["a@x.com", "Acme", "acme.com", "Software, Retail", "CEO"])
    second = normalize_row(header_map, ["b@x.com", "Acme", "acme.com", "Software, Retail", "CTO"])
    assert first.company is second.company  # read once
    assert first.company == {
        "name": "Acme",
        "domain": "acme.com",
        "industries": ["software", "retail"],
    }
    assert (first.contact["title"], second.contact["title"]) == ("CEO", "CTO")


def test_a_bad_company_cell_is_an_error_on_every_row() -> None:
    header_map = build_header_map(["Email", "Company", "# Employees"])
    for email in ("a@x.com", "b@x.com"):
        with pytest.raises(RowError, match='column "# Employees": "ten" is not a number'):
            normalize_row(header_map, [email, "Acme", "ten"])


def test_a_contact_error_comes_before_a_company_error_when_remembered() -> None:
    header_map = build_header_map(["Email", "Company", "# Employees"])
    normalize_row(header_map, ["a@x.com", "Acme", "10"])  # Acme remembered
    with pytest.raises(RowError, match="is not an email address"):
        normalize_row(header_map, ["nope", "Acme", "10"])


def test_the_cache_forgets_its_oldest_quarter_when_full(monkeypatch) -> None:
    monkeypatch.setattr(normalize, "COMPANY_CACHE_SIZE", 8)
    header_map = build_header_map(["Email", "Company"])
    for n in range(9):
        normalize_row(header_map, [f"p{n}@x.com", f"Company {n}"])
    assert len(header_map._companies) == 7  # 8, 2 forgotten, 1 added
    assert "Company 0" not in header_map._companies
    assert "Company 8" in header_map._companies


def test_imports_raise_the_collector_threshold_until_the_last_ends() -> None:
    before = gc.get_threshold()
    assert before[0] < parsing.IMPORT_GC_THRESHOLD, "the test needs CPython's default"
    with parsing.import_gc_threshold():
        with parsing.import_gc_threshold():  # a second import at once
            assert gc.get_threshold() == (parsing.IMPORT_GC_THRESHOLD, *before[1:])
        assert gc.get_threshold()[0] == parsing.IMPORT_GC_THRESHOLD
    assert gc.get_threshold() == before


def test_a_failing_import_puts_the_threshold_back() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), parsing.import_gc_threshold():
        raise RuntimeError("the job failed")
    assert gc.get_threshold() == before


def test_rows_differing_in_one_company_cell_are_two_companies() -> None:
    # Shrunk by hypothesis from a cache key that missed the last company cell.
    header_map = build_header_map(["Email", "Company", "Website"])
    normalize_row(header_map, ["a@x.com", "Acme", ""])
    row = normalize_row(header_map, ["b@x.com", "Acme", "acme.com"])
    assert row.company == {"name": "Acme", "domain": "acme.com"}
    assert row.company_metadata == {"website": "acme.com"}


def test_a_bad_contact_cell_is_the_error_of_a_row_with_a_bad_company_cell() -> None:
    # Shrunk by hypothesis from company cells read before the contact's.
    header_map = build_header_map(["Email", "Company", "# Employees"])
    with pytest.raises(RowError, match="is not an email address"):
        normalize_row(header_map, ["nope", "Acme", "ten"])


def test_decomposed_cells_are_stored_composed() -> None:
    """NFD cells come out NFC from both readers (the compiled one and ``_read``):
    filters compose their values, and "Café" typed either way must find the other."""
    header = ["Company", "Title", "First Name", "Industry", "Email"]
    cells = ["Cafe\u0301 E\u0301lan", " Direc\u0327tor ", "Jose\u0301", "Sante\u0301, IT", "a@x.io"]
    for read in (normalize_row, plain_normalize_row):
        row = read(build_header_map(header), cells)
        assert row.company["name"] == "Café Élan"
        assert row.contact["title"] == "Direçtor"
        assert row.contact["first_name"] == "José"
        assert row.company["industries"] == ["santé", "it"]
