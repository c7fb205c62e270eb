"""The location table (locations.py, data/apollo_locations.csv): what each form of
location value is searched as."""

import pytest

from contacts_api.plugins.apollo.locations import LocationTable, default_locations

WARNING = "is neither a known place nor a known region"


@pytest.mark.parametrize(
    "value, places, kind",
    [
        ("DACH", ("Germany", "Austria", "Switzerland"), "region"),
        ("dach", ("Germany", "Austria", "Switzerland"), "region"),
        (
            "GCC",
            ("Bahrain", "Kuwait", "Oman", "Qatar", "Saudi Arabia", "United Arab Emirates"),
            "region",
        ),
        ("Asia-Pacific", None, "region"),
        ("UAE", ("United Arab Emirates",), "country"),
        ("U.S.A.", ("United States",), "country"),
        ("Czech Republic", ("Czechia", "Czech Republic"), "country"),
        ("Greater Seattle Area", ("Seattle",), "metro"),
        ("Greater Winston-Salem Area", ("Winston-Salem",), "metro"),
        ("Tampa Bay Area", ("Tampa",), "metro"),
        ("Bay Area", ("San Francisco",), "metro"),
        ("Dallas-Fort Worth Metroplex", ("Dallas", "Fort Worth"), "metro"),
        ("Washington D.C. Metro Area", ("Washington, District of Columbia",), "metro"),
        ("Greater Seattle Area, WA", ("Seattle, WA",), "metro"),
        ("Germany", ("Germany",), None),
        ("Berlin", ("Berlin",), None),
        ("Texas, US", ("Texas, US",), None),
        ("Greater London", ("Greater London",), None),
        ("North Carolina", ("North Carolina",), "place"),
        ("NY", ("NY",), None),
    ],
)
def test_expansions(value, places, kind):
    expansion = default_locations().expand(value)
    assert (expansion.kind, expansion.warning) == (kind, None)
    if places is not None:
        assert expansion.places == places


def test_nested_regions_resolve_to_countries_each_once():
    table = default_locations()
    emea = table.expand("EMEA").places
    assert len(emea) == len(set(emea))
    assert set(table.expand("Europe").places) | set(table.expand("Middle East").places) | set(
        table.expand("Africa").places
    ) == set(emea)
    apac = set(table.expand("APAC").places)
    assert apac == set(table.expand("Asia").places) | set(table.expand("Oceania").places)
    assert "Europe" not in emea and "Asia" not in apac  # no region name is left


def test_region_names_are_not_us_states():
    """A location filter matches by "contains" on city, state and country: a region
    listing Georgia would find Atlanta, GA."""
    states = {"Georgia", "Jersey", "Washington", "Indiana"}
    every_place = {p for _, places in default_locations().entries.values() for p in places}
    assert not states & every_place


@pytest.mark.parametrize("value", ["Pacific Northwest", "East Coast", "Worldwide", "NORAMX"])
def test_region_like_unknowns_are_searched_as_written_with_a_warning(value):
    expansion = default_locations().expand(value)
    assert expansion.places == (value,) and WARNING in expansion.warning


def test_extended_tables_add_regions_on_top_of_the_shipped_ones():
    table = default_locations().extended({"DACH+": ["DACH", "Liechtenstein", "UK"]})
    assert table.expand("DACH+").places == (
        "Germany",
        "Austria",
        "Switzerland",
        "Liechtenstein",
        "United Kingdom",
    )
    assert table.expand("Nordics").places == default_locations().expand("Nordics").places


def test_bad_tables_are_refused():
    with pytest.raises(ValueError, match="refer to each other"):
        LocationTable.from_rows([("A", "region", ["B"]), ("B", "region", ["A"])])
    with pytest.raises(ValueError, match="unknown kind"):
        LocationTable.from_rows([("A", "continent", ["B"])])
    with pytest.raises(ValueError, match="names no place"):
        LocationTable.from_rows([("A", "region", [" "])])
