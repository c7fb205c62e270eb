"""The project's own docs (docs/api.md, docs/csv-format.md) agree with the code.

The checks read only the tables the docs define (a header row naming the
columns, then one row per item), never their prose, so rewording a sentence
cannot break them, while a route, error code, filter, ordering field,
attribute or CSV column added to (or removed from) the code without its line
in the docs does. Routes come from the app's OpenAPI document, filters from its
filter registries, so third-party plugins installed in the environment are
left out: the docs describe the built-in plugins.
"""

import re
from importlib.metadata import entry_points
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from contacts_api.core import errors as core_errors
from contacts_api.core import middlewares
from contacts_api.core.app import create_app
from contacts_api.core.appkeys import FILTERS, OPENAPI, PLUGINS
from contacts_api.core.plugins import BUILTIN_PLUGINS, ENTRY_POINT_GROUP
from contacts_api.core.settings import load_settings
from contacts_api.plugins.apollo.mappers import DEFAULT_MAPPERS
from contacts_api.plugins.apollo.mapping import map_parameters
from contacts_api.plugins.apollo.parsing import parse_apollo_url
from contacts_api.plugins.contacts.ordering import COMPANY_ORDERING, CONTACT_ORDERING
from contacts_api.plugins.imports.columns import (
    APOLLO_HEADERS,
    COMPANY_EXPORT_COLUMNS,
    CONTACTS_COUNT,
    EXPORT_COLUMNS,
    FIRST_PHONE,
    SUB_DEPARTMENTS,
    canonical_header,
)

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
API = DOCS / "api.md"
CSV = DOCS / "csv-format.md"
PACKAGE = ROOT / "contacts_api"

ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`")
CODE = re.compile(r"`([^`]+)`")
METHODS = ("get", "post", "put", "patch", "delete")


# -- reading the docs' tables --------------------------------------------------


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def tables(path: Path) -> list[tuple[list[str], list[list[str]]]]:
    """Every Markdown table of ``path``: its header cells (lower case) and rows."""
    found, lines = [], path.read_text().splitlines()
    i = 0
    while i < len(lines):
        is_table = lines[i].lstrip().startswith("|") and i + 1 < len(lines)
        if is_table and re.fullmatch(r"\s*\|[\s:|-]+\|\s*", lines[i + 1]):
            header = [cell.lower() for cell in _cells(lines[i])]
            rows, i = [], i + 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            found.append((header, rows))
        else:
            i += 1
    return found


def column(path: Path, first_header: str) -> list[list[str]]:
    """The rows of every table whose first header cell is ``first_header``."""
    rows = [row for header, body in tables(path) if header[0] == first_header for row in body]
    assert rows, f"{path.name} lost its table headed {first_header!r}"
    return rows


def cell(row: list[str], header: list[str], name: str) -> str:
    return row[header.index(name)]


def codes(text: str) -> list[str]:
    """The backticked names of a cell, a comma list of them."""
    return CODE.findall(text)


def _normalized(path: str) -> str:
    """``/api/v1/contacts/{uuid}/`` and ``/api/v1/contacts/{id}`` alike."""
    return re.sub(r"\{[^}]+\}", "{}", path.rstrip("/")) or "/"


# -- the app the docs describe -------------------------------------------------


@pytest.fixture(scope="module")
def app():
    """The app with the built-in plugins enabled by default, on default settings
    (nothing connects: the OpenAPI document and the filter registries are built
    with the app). Third-party plugins installed here are blocked; a built-in
    plugin disabled by default stays disabled."""
    environ = {
        "DATABASE_URL": "postgresql://docs@127.0.0.1:9/never_connected",
        "JWT_SECRET": "docs-test-secret-" + "x" * 32,
    }
    third_party = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)} - set(BUILTIN_PLUGINS)
    blocked = [*load_settings(environ=environ).plugins.blocked, *sorted(third_party)]
    environ["CONTACTS_API__PLUGINS__BLOCKED"] = ",".join(blocked)
    return create_app(load_settings(environ=environ))


def enabled_modules(app) -> list[str]:
    """The core's and the enabled built-in plugins' module prefixes."""
    names = app[PLUGINS].names()
    return ["contacts_api.core", *(BUILTIN_PLUGINS[n] for n in names if n in BUILTIN_PLUGINS)]


def documented_routes() -> set[tuple[str, str]]:
    """(METHOD, normalized path) of every route in a table headed ``route``,
    with ``{attribute}`` expanded from the table headed ``route | attribute``."""
    attributes: dict[str, list[str]] = {}
    for header, rows in tables(API):
        if header[:2] == ["route", "attribute"]:
            for row in rows:
                (method, path), *_ = ROUTE.findall(row[0])
                attributes[f"{method} {path}"] = codes(row[1])
    routes = set()
    for row in column(API, "route"):
        for method, path in ROUTE.findall(row[0]):
            if "{attribute}" not in path:
                routes.add((method, _normalized(path)))
                continue
            names = attributes.get(f"{method} {path}")
            assert names, f"{method} {path}: no attribute table lists its names"
            routes.update((method, _normalized(path.replace("{attribute}", n))) for n in names)
    return routes


# -- routes --------------------------------------------------------------------


def test_every_route_is_documented_and_every_documented_route_exists(app):
    served = {
        (method.upper(), _normalized(path))
        for path, item in app[OPENAPI]["paths"].items()
        for method in item
        if method in METHODS
    }
    documented = documented_routes()
    missing = sorted(f"{m} {p}" for m, p in served - documented)
    assert not missing, f"routes of /openapi.json missing from docs/api.md: {missing}"
    stale = sorted(f"{m} {p}" for m, p in documented - served)
    assert not stale, f"docs/api.md documents routes the app does not have: {stale}"


def test_the_route_parser_reads_the_tables():
    """The check above cannot pass on an empty reading."""
    routes = documented_routes()
    assert ("GET", "/api/v1/contacts") in routes
    assert ("GET", "/api/v1/contacts/title") in routes  # {attribute} expanded
    assert ("PATCH", "/api/v2/users/{}") in routes


# -- errors --------------------------------------------------------------------


def _error_classes() -> list[type[core_errors.ApiError]]:
    found, todo = [], [core_errors.ApiError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def raisable_error_codes(app) -> dict[str, int]:
    """error_code -> status of everything the core and the enabled built-in
    plugins can answer: their ApiError classes (the app is built, so their
    modules are imported), the HTTP errors aiohttp raises, and codes written
    literally in their source."""
    modules = tuple(enabled_modules(app))
    found = {
        cls.error_code: cls.status for cls in _error_classes() if cls.__module__.startswith(modules)
    }
    found.update((code, status) for status, code in middlewares._HTTP_CODES.items())
    literal = re.compile(r"""error_code["']?\s*[=:]\s*["']([A-Z][A-Z_]+)["']""")
    for module in modules:
        folder = PACKAGE.parent.joinpath(*module.split("."))
        for source in folder.rglob("*.py") if folder.is_dir() else [folder.with_suffix(".py")]:
            for code in literal.findall(source.read_text()):
                found.setdefault(code, 0)
    return found


def test_every_error_code_is_documented_with_its_status(app):
    rows = column(API, "status")
    documented = {}
    for row in rows:
        (code,) = codes(row[1])
        documented[code] = int(row[0])
    raisable = raisable_error_codes(app)
    missing = sorted(set(raisable) - set(documented))
    assert not missing, f"error codes missing from docs/api.md's Errors table: {missing}"
    stale = sorted(set(documented) - set(raisable))
    assert not stale, f"docs/api.md lists error codes nothing raises: {stale}"
    wrong = {c: s for c, s in raisable.items() if s and documented[c] != s}
    assert not wrong, f"documented with another status: {wrong}"


# -- filters, ordering ---------------------------------------------------------


def documented_filters(first_header: str) -> dict[str, set[str]]:
    """name -> aliases, from the table headed ``first_header``."""
    header = next(h for h, _ in tables(API) if h[0] == first_header)
    return {
        codes(row[0])[0]: set(codes(cell(row, header, "aliases")))
        for row in column(API, first_header)
    }


@pytest.mark.parametrize(
    ("registry", "first_header"), [("contacts", "contact filter"), ("companies", "company filter")]
)
def test_every_filter_and_alias_is_documented(app, registry, first_header):
    specs = getattr(app[FILTERS], registry).specs
    served = {name: set(spec.aliases) for name, spec in specs.items()}
    documented = documented_filters(first_header)
    missing = sorted(set(served) - set(documented))
    assert not missing, f"{registry} filters missing from docs/api.md: {missing}"
    stale = sorted(set(documented) - set(served))
    assert not stale, f"docs/api.md documents {registry} filters that do not exist: {stale}"
    aliases = {n: (documented[n], a) for n, a in served.items() if documented[n] != a}
    assert not aliases, f"aliases (documented, served) differ: {aliases}"


def test_ordering_fields_are_documented():
    rows = {row[0]: codes(row[1]) for row in column(API, "list")}
    assert rows["contacts"] == list(CONTACT_ORDERING)
    assert rows["companies"] == list(COMPANY_ORDERING)


def test_every_apollo_parameter_is_documented_with_the_filters_it_maps_to():
    """Each row's example, alone in a URL, maps to the row's filters (or none)."""
    header = next(h for h, _ in tables(API) if h[0] == "apollo parameter")
    rows = column(API, "apollo parameter")
    documented = [codes(row[0])[0] for row in rows]
    assert sorted(documented) == sorted(DEFAULT_MAPPERS), (
        "docs/api.md's Apollo table and the default mappers list different parameters"
    )
    for row in rows:
        name, (example,) = codes(row[0])[0], codes(cell(row, header, "example"))
        filters = set(codes(cell(row, header, "filter")))
        url = "https://app.apollo.io/#/people?" + urlencode({name: example})
        mapped = set(map_parameters(parse_apollo_url(url)).filters)
        if filters:
            assert mapped and mapped <= filters, f"{name}={example} maps to {mapped}, not {filters}"
        else:
            assert not mapped, f"{name}={example} maps to {mapped}; docs/api.md says no filter"


# -- CSV format ----------------------------------------------------------------


def csv_columns() -> dict[str, list[str]]:
    """column -> its Apollo headers, from the tables headed ``column``."""
    return {codes(row[0])[0]: codes(row[2]) for row in column(CSV, "column")}


def test_every_csv_column_and_apollo_header_is_documented():
    documented = csv_columns()
    recognized = [*EXPORT_COLUMNS, CONTACTS_COUNT, SUB_DEPARTMENTS, FIRST_PHONE]
    assert sorted(documented) == sorted(recognized)
    for name, headers in documented.items():
        for header in headers:
            assert canonical_header(header) == name, f"{header!r} does not feed {name}"
    for header, name in APOLLO_HEADERS.items():
        assert header in documented[name], f"Apollo header {header!r} ({name}) is not documented"


def test_the_export_header_line_is_documented():
    text = CSV.read_text()
    blocks = re.findall(r"```text\n(.*?)\n```", text, re.S)
    assert ",".join(EXPORT_COLUMNS) in [block.strip() for block in blocks]
    assert ",".join(COMPANY_EXPORT_COLUMNS) in [block.strip() for block in blocks]


# -- links ---------------------------------------------------------------------


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to -."""
    headings = re.findall(r"^#+ (.+)$", path.read_text(), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", ["README.md", "docs/api.md", "docs/csv-format.md"])
def test_relative_links_resolve(page):
    path = ROOT / page
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
        if urlsplit(target).scheme:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        assert linked.is_file(), f"{page}: broken link {target}"
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked), f"{page}: no heading for #{anchor} in {target}"


def test_readme_points_to_the_docs():
    readme = (ROOT / "README.md").read_text()
    assert "(docs/api.md)" in readme and "(docs/csv-format.md)" in readme


def test_docs_cite_only_files_of_the_repository():
    """The shared design notes are not part of the repository: the docs stand alone."""
    for page in (API, CSV, ROOT / "README.md"):
        text = page.read_text()
        assert not re.search(r"\b(API|CSV_FORMAT|APOLLO|DESIGN)\.md\b", text), page.name
