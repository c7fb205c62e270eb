"""A corpus of URLs in the shapes real users paste (``data/real_urls.json``: long
title and keyword lists, mixed encodings, regions, metro areas, exclusions, keys
of saved views and signals, messy pasting), each with the ``applied_filters``
expected, written by hand. Every one goes through the HTTP routes on real
PostgreSQL; none may answer a server error.

A case holds ``name``, ``url`` and ``applied_filters`` (null for a URL that is
not a search: ``status`` 422), and optionally ``page_type`` (``companies``
runs the companies route), the names of the ``unmapped`` parameters in order
(default: none), a substring of each warning in order (default: none),
``page``, ``ordering`` and ``title_match``.
"""

import json
from pathlib import Path

import pytest

from contacts_api.core.plugins import Plugins
from contacts_api.plugins.apollo.mapping import map_parameters
from contacts_api.plugins.apollo.parsing import ApolloUrlError, parse_apollo_url
from contacts_api.plugins.apollo.search import build_search
from tests.conftest import make_settings
from tests.helpers import HeaderActors, as_user, seed

ALICE = as_user("alice")
CASES = json.loads((Path(__file__).parent / "data" / "real_urls.json").read_text("utf-8"))


def test_the_corpus_is_large_and_varied():
    urls = [case["url"] for case in CASES]
    assert len(CASES) >= 60 and len(set(urls)) == len(urls)
    assert len({case["name"] for case in CASES}) == len(CASES)
    assert sum("%5B%5D" in url or "%255B" in url for url in urls) >= 2  # encoded brackets
    assert sum("Locations[]=" in url for url in urls) >= 20  # places, regions, metros
    assert max(url.count("&") for url in urls) >= 40  # a long keyword list


def _route(case: dict) -> str:
    return "companies" if case.get("page_type") == "companies" else "contacts"


def _check(case: dict, answer: dict) -> None:
    """The answer of a search route matches the case."""
    assert answer["applied_filters"] == case["applied_filters"]
    assert [u["name"] for u in answer["unmapped_parameters"]] == case.get("unmapped", [])
    warnings = case.get("warnings", [])
    assert len(answer["warnings"]) == len(warnings), answer["warnings"]
    for got, expected in zip(answer["warnings"], warnings, strict=True):
        assert expected in got
    assert (answer["page"], answer["applied_ordering"]) == (
        case.get("page"),
        case.get("ordering"),
    )


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_each_url_maps_as_expected(case, plugins_for_mapping):
    """The mapping alone, one case per test (a precise report when one changes)."""
    if case.get("status") == 422:
        with pytest.raises(ApolloUrlError):
            parse_apollo_url(case["url"])
        return
    search = build_search(plugins_for_mapping, case["url"])
    _check(case, search.report(_route(case)))
    assert map_parameters(parse_apollo_url(case["url"])).title_match == case.get(
        "title_match", "words"
    )


@pytest.fixture
async def api(make_client, settings):
    client = await make_client(settings, extra_plugins=[("header_actors", HeaderActors())])
    await seed(
        client,
        [
            {"first_name": "Ada", "title": "CEO", "city": "Berlin", "country": "Germany"},
            {"first_name": "Bo", "title": "Marketing Intern", "country": "Sweden"},
            {"first_name": "Cy", "title": "CFO", "city": "Dubai"},
            {
                "first_name": "Di",
                "title": "VP Sales",
                "company": {"name": "Acme", "domain": "acme.com", "country": "Netherlands"},
            },
        ],
    )
    return client


@pytest.fixture(scope="module")
def plugins_for_mapping(tmp_path_factory):
    """The built-in plugins, as the app loads them (for the mapping hook); the
    mapping touches no database."""
    settings = make_settings(
        "postgresql://unused@127.0.0.1/unused",
        "redis://127.0.0.1:6379/0",
        tmp_path_factory.mktemp("m"),
    )
    return Plugins.load(settings)


async def test_every_url_through_every_route(api):
    """Analyze, search and count each URL over HTTP: the documented answer, never a 5xx."""
    failures = {}
    for case in CASES:
        expected_status = case.get("status", 200)
        body = {"url": case["url"]}
        answers = {}
        for path in ("analyze", _route(case), "contacts/count"):
            if path == "contacts/count" and _route(case) == "companies":
                continue
            response = await api.post(f"/api/v2/apollo/{path}", json=body, headers=ALICE)
            answers[path] = await response.json()
            if response.status != expected_status:
                failures[f"{case['name']} ({path})"] = (response.status, answers[path])
        if expected_status != 200 or case["name"] in str(failures):
            continue
        try:
            _check(case, answers[_route(case)])
            assert answers["analyze"]["warnings"] == answers[_route(case)]["warnings"]
        except AssertionError as exc:
            failures[case["name"]] = str(exc)
    assert failures == {}, json.dumps(failures, indent=1, ensure_ascii=False)
