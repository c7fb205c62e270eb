"""The filter registry's parsing rules (docs/api.md "Contact filters"), on a small
registry of its own."""

import datetime as dt
import time
import uuid

import pytest
import sqlalchemy as sa

from contacts_api.core.errors import ValidationError
from contacts_api.core.filters import MAX_FILTER_VALUES, FilterRegistry, FilterSpec, Range


def _spec(name, kind, **extra):
    return FilterSpec(name=name, kind=kind, build=lambda v, t: sa.true(), **extra)


REGISTRY = FilterRegistry(
    [
        _spec("title", "text", aliases=("job_title",)),
        _spec("seniority", "choice", choices=("vp", "director")),
        _spec("employees_min", "integer", multiple=False),
        _spec("has_email", "boolean", multiple=False),
        _spec("created_at_before", "datetime"),
        _spec("company_uuid", "uuid"),
        _spec("employees_range", "range"),
    ],
    "contact",
)


def _values(applied):
    return {spec.name: list(values) for spec, values in applied.items}


def test_commas_repeats_aliases_and_duplicates():
    applied = REGISTRY.parse(
        [
            ("title", "ceo, cto"),
            ("job_title", "CEO"),
            ("title", "cfo"),
            ("title", "ceo"),
            ("title", " "),
        ]
    )
    assert _values(applied) == {"title": ["ceo", "cto", "CEO", "cfo"]}
    assert applied.raw["title"] == ("ceo", "cto", "CEO", "cfo")


def test_typed_values():
    applied = REGISTRY.parse(
        [
            ("seniority", "VP"),
            ("employees_min", "-5"),
            ("has_email", "false"),
            ("created_at_before", "2026-01-01"),
            ("company_uuid", str(uuid.UUID(int=1))),
            ("employees_range", "10001,"),
            ("employees_range", ",50"),
            ("employees_range", "11,50"),
        ]
    )
    values = _values(applied)
    assert values["seniority"] == ["vp"] and values["employees_min"] == [-5]
    assert values["has_email"] == [False] and values["company_uuid"] == [uuid.UUID(int=1)]
    day = values["created_at_before"][0]
    assert day.whole_day and day.end == dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    assert values["employees_range"] == [Range(10001, None), Range(None, 50), Range(11, 50)]


@pytest.mark.parametrize(
    "pairs, param",
    [
        ([("nope", "1")], "nope"),
        ([("seniority", "ceo")], "seniority"),
        ([("employees_min", "1.5")], "employees_min"),
        ([("employees_min", "1"), ("employees_min", "2")], "employees_min"),
        ([("has_email", "maybe")], "has_email"),
        ([("created_at_before", "yesterday")], "created_at_before"),
        ([("company_uuid", "123")], "company_uuid"),
        ([("employees_range", "50,10")], "employees_range"),
        ([("employees_range", "10")], "employees_range"),
    ],
)
def test_bad_values_are_422_naming_the_parameter(pairs, param):
    with pytest.raises(ValidationError) as raised:
        REGISTRY.parse(pairs)
    assert raised.value.errors[0]["loc"] == ["query", param]


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValidationError) as raised:
        REGISTRY.parse([("nope", "1"), ("employees_min", "x"), ("limit", "5")], ignore={"limit"})
    assert [e["loc"][1] for e in raised.value.errors] == ["nope", "employees_min"]


def test_json_lists_keep_commas_inside_values():
    applied = REGISTRY.parse_mapping(
        {
            "title": ["health, wellness & fitness", "ceo"],
            "has_email": True,
            "employees_range": ["1,10"],
        },
        location="body",
    )
    values = _values(applied)
    assert values["title"] == ["health, wellness & fitness", "ceo"]
    assert values["has_email"] == [True] and values["employees_range"] == [Range(1, 10)]
    with pytest.raises(ValidationError) as raised:
        REGISTRY.parse_mapping({"title": [{"nested": 1}]})
    assert raised.value.errors[0]["loc"] == ["body", "title"]


def test_a_name_declared_twice_fails():
    with pytest.raises(ValueError, match="declared twice"):
        FilterRegistry([_spec("title", "text"), _spec("name", "text", aliases=("title",))], "c")


async def test_prepare_runs_once_before_build():
    """A filter with a ``prepare`` step builds from what it returned; building
    before preparing fails loudly instead of querying with raw values."""
    calls = []

    async def prepare(db, values):
        calls.append((db, values))
        return [v.upper() for v in values]

    built = []
    registry = FilterRegistry(
        [
            FilterSpec("title", "text", lambda v, t: built.append(v) or sa.true(), prepare=prepare),
            _spec("employees_min", "integer", multiple=False),
        ],
        "contact",
    )
    applied = registry.parse([("title", "ceo,cto"), ("employees_min", "5")])
    with pytest.raises(RuntimeError, match="title need AppliedFilters.prepared"):
        applied.condition(None)
    ready = await applied.prepared("the db")
    assert await ready.prepared("again") is ready
    assert calls == [("the db", ["ceo", "cto"])]
    ready.condition(None)
    assert built == [["CEO", "CTO"]]
    assert ready.raw == applied.raw == {"title": ("ceo", "cto"), "employees_min": ("5",)}
    # filters without a prepare step need none
    REGISTRY.parse([("title", "ceo")]).condition(None)


@pytest.mark.alone  # a wall-clock budget
def test_a_filter_takes_at_most_max_values_and_parses_them_in_linear_time():
    """An export body of 50,000 title values froze the event loop for 23-35 s
    (duplicates were removed by a quadratic scan) and then kept the worker busy
    for a minute: over MAX_FILTER_VALUES is a 422 naming the filter, at once."""
    started = time.perf_counter()
    with pytest.raises(ValidationError) as raised:
        REGISTRY.parse_mapping({"title": [str(i) for i in range(50_000)]})
    assert raised.value.errors[0]["loc"] == ["body", "title"]
    assert "at most" in raised.value.errors[0]["msg"]
    many = [str(i) for i in range(MAX_FILTER_VALUES)]  # the most one filter takes
    applied = REGISTRY.parse_mapping({"title": many, "company_uuid": [str(uuid.uuid4())]})
    assert len(_values(applied)["title"]) == MAX_FILTER_VALUES
    assert time.perf_counter() - started < 0.5


def test_duplicates_are_removed_whatever_their_spelling_for_typed_values():
    applied = REGISTRY.parse_mapping({"employees_range": ["1,10", "1, 10", "5,9", "1,10"]})
    assert _values(applied)["employees_range"] == [Range(1, 10), Range(5, 9)]
