"""Hostile input to the Apollo routes (issue 14, finding 1; issue 18): no regular
expression of the plugin is super-linear, no URL holds the event loop, the URL's
length is capped, and the routes refuse query parameters rather than ignore them."""

import asyncio
import importlib
import pkgutil
import re
import sys
import time

import pytest

import contacts_api.plugins.apollo as apollo_package
from contacts_api.core.hookspecs import hookimpl
from contacts_api.plugins.apollo import parsing
from contacts_api.plugins.apollo.categories import analyze
from contacts_api.plugins.apollo.mappers import MapResult
from contacts_api.plugins.apollo.mapping import map_parameters
from contacts_api.plugins.apollo.parsing import MAX_URL_LENGTH, ApolloUrlError, parse_apollo_url
from contacts_api.plugins.apollo.search import OFF_LOOP_LENGTH
from tests.helpers import HeaderActors, as_user

ALICE = as_user("alice")
APOLLO = "https://app.apollo.io/#/people?"
N = 60_000  # characters of each hostile run: about the longest accepted URL

# Runs that make backtracking regular expressions work hard: long runs of the
# characters their classes repeat, with the character that makes them fail last.
HOSTILE = {
    "spaces": "a" + " " * N + "b",
    "spaces to the end": "a" + " " * N,
    "tabs and newlines": "a" + "\t\n\r " * (N // 4) + "b",
    "zero-width": "a" + "\u200b \u2060" * (N // 3) + "b",
    "digits": "1" * N + "x",
    "digit-space runs": "1 " * (N // 2) + "x",
    "digits and a comma": "1" * (N // 2) + "," + " " * (N // 2) + "x",
    "digits and dashes": "1" * (N // 2) + " - " + "1" * (N // 2) + "x",
    "percent escapes": "%2" * (N // 2),
    "percents": "%" * N,
    "brackets": "[" * N + "1",
    "bracketed digits": "[1" * (N // 2) + "]x",
    "host labels": "a." * (N // 2) + "x",
    "host label chars": "a" * N + "apollo.i",
    "underscores and dots": "_." * (N // 2) + "x",
    "separators": " ,;" * (N // 3) + "x",
    "letters": "a" * N,
}


def apollo_patterns() -> dict[str, re.Pattern]:
    """Every compiled regular expression at the top level of the plugin's modules."""
    found = {}
    for module_info in pkgutil.iter_modules(apollo_package.__path__):
        module = importlib.import_module(f"{apollo_package.__name__}.{module_info.name}")
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                found[f"{module_info.name}.{name}"] = value
    return found


def test_the_plugin_still_has_regular_expressions_to_check():
    assert len(apollo_patterns()) >= 8


@pytest.mark.alone  # a wall-clock budget
@pytest.mark.parametrize("pattern_name", sorted(apollo_patterns()))
def test_every_regular_expression_is_linear_on_hostile_input(pattern_name):
    """Each pattern, used every way the code uses patterns, on each hostile run:
    linear time is well under a second for 60,000 characters (the quadratic edge
    trimming this replaces took 55 s on 120,000 spaces)."""
    pattern = apollo_patterns()[pattern_name]
    for label, text in HOSTILE.items():
        for use in (pattern.search, pattern.match, lambda t: pattern.sub("", t), pattern.split):
            started = time.perf_counter()
            use(text)
            elapsed = time.perf_counter() - started
            assert elapsed < 0.5, f"{pattern_name} on {label}: {elapsed:.2f} s"


@pytest.mark.alone  # a wall-clock budget
@pytest.mark.parametrize("label", sorted(HOSTILE))
@pytest.mark.parametrize("place", ["value", "key", "around the URL", "fragment"])
def test_parsing_and_mapping_are_linear_on_hostile_urls(label, place):
    text = HOSTILE[label]
    url = {
        "value": APOLLO + "personTitles[]=" + text,
        "key": APOLLO + text + "=1",
        "around the URL": text + APOLLO + "personLocations[]=" + text + "&" + text,
        "fragment": "https://app.apollo.io/#" + text,
    }[place][:MAX_URL_LENGTH]
    started = time.perf_counter()
    try:
        parsed = parse_apollo_url(url)
    except ApolloUrlError:
        pass
    else:
        analyze(parsed)
        map_parameters(parsed)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{elapsed:.2f} s"


def test_edge_trimming_strips_every_whitespace_and_zero_width_character():
    spaces = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert set(parsing._EDGE_CHARS) == set(spaces) | set(parsing._ZERO_WIDTH)
    url = spaces + "\ufeff" + APOLLO + "personTitles[]=cto" + "\u200b" + spaces
    assert parse_apollo_url(url).parameters == {"personTitles[]": ["cto"]}


def test_a_url_over_the_limit_is_refused():
    with pytest.raises(ApolloUrlError, match="65,536"):
        parse_apollo_url(APOLLO + "qKeywords=" + "a" * MAX_URL_LENGTH)


# --- over HTTP --------------------------------------------------------------------------


class SlowMapper:
    """A third-party mapping that takes its time (CPU-bound, as a heavy one would)."""

    seconds = 1.0

    @hookimpl(optionalhook=True)
    def register_apollo_mappings(self, settings):
        def slow(values, context):
            deadline = time.perf_counter() + self.seconds
            while time.perf_counter() < deadline:
                pass
            return MapResult().add("last_name", values[0])

        return {"personLastNames": slow}


@pytest.fixture
async def api(make_client, settings):
    return await make_client(
        settings, extra_plugins=[("header_actors", HeaderActors()), ("slow", SlowMapper())]
    )


async def _health_latencies(api, busy: asyncio.Task) -> list[float]:
    """Latencies of /health, asked every 50 ms while ``busy`` runs."""
    latencies = []
    while not busy.done():
        started = time.perf_counter()
        response = await api.get("/health")
        assert response.status == 200
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.05)
    return latencies


async def test_health_answers_while_a_long_url_is_mapped(api):
    """A URL over OFF_LOOP_LENGTH is parsed and mapped off the event loop: a
    mapper busy for a second does not hold /health up."""
    url = APOLLO + "personLastNames[]=lovelace&qKeywords=" + "x" * OFF_LOOP_LENGTH
    busy = asyncio.create_task(api.post("/api/v2/apollo/analyze", json={"url": url}, headers=ALICE))
    await asyncio.sleep(0.1)  # the analysis has started
    latencies = await _health_latencies(api, busy)
    assert (await busy).status == 200
    assert len(latencies) >= 3 and max(latencies) < 0.5, latencies


@pytest.mark.parametrize("path", ["analyze", "contacts", "contacts/count", "companies"])
async def test_the_reported_redos_url_answers_at_once(api, path):
    """Issue 14's request (120,000 inner spaces) is refused for its length, and the
    longest accepted URL made of inner spaces is analyzed in well under a second,
    while /health keeps answering."""
    response = await api.post(
        f"/api/v2/apollo/{path}", json={"url": "a" + " " * 120_000 + "b"}, headers=ALICE
    )
    body = await response.json()
    assert response.status == 422, body
    assert body["errors"][0]["loc"] == ["body", "url"] and "65,536" in body["detail"]
    url = APOLLO + "personTitles[]=a" + " " * (MAX_URL_LENGTH - len(APOLLO) - 20) + "b"
    started = time.perf_counter()
    busy = asyncio.create_task(api.post(f"/api/v2/apollo/{path}", json={"url": url}, headers=ALICE))
    latencies = await _health_latencies(api, busy)
    assert (await busy).status == 200
    assert time.perf_counter() - started < 2.0
    assert max(latencies, default=0) < 0.5, latencies


@pytest.mark.parametrize("path", ["analyze", "contacts", "contacts/count", "companies"])
async def test_query_parameters_are_refused(api, path):
    """Everything is read from the body: a query parameter (say, a client's
    ``offset`` or ``include_domain_list``) is a 422 naming it, never ignored."""
    response = await api.post(
        f"/api/v2/apollo/{path}?offset=25&include_domain_list=acme.com",
        json={"url": APOLLO + "personTitles[]=cto"},
        headers=ALICE,
    )
    body = await response.json()
    assert response.status == 422, body
    assert body["error_code"] == "VALIDATION_ERROR"
    assert [e["loc"] for e in body["errors"]] == [
        ["query", "offset"],
        ["query", "include_domain_list"],
    ]
