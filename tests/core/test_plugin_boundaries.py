"""A plugin reaches another only through that plugin's public ``service``
module, and declares it in ``requires`` (README, "Writing a plugin"). The known exceptions are
listed, so a new one fails here."""

import ast
import importlib
from pathlib import Path

import contacts_api
from contacts_api.core.plugins import BUILTIN_PLUGINS, OPT_IN_PLUGINS

PLUGINS_DIR = Path(contacts_api.__file__).parent / "plugins"

# (importing plugin, imported module): SQL the exports build over the contacts
# tables, and the CSV column rules shared with the importer (being unified).
KNOWN_EXCEPTIONS = {
    ("exports", "contacts_api.plugins.contacts.tables"),
    ("exports", "contacts_api.plugins.imports.columns"),
}
# contact360_compat is a dialect of the other plugins' routes: it calls their
# handlers and request validators on translated requests, so that no rule is
# written twice. Each reach is listed, so a new one is a decision, not a drift.
KNOWN_EXCEPTIONS |= {
    ("contact360_compat", f"contacts_api.plugins.{module}")
    for module in (
        "apollo.routes",
        "apollo.search",
        "auth_jwt.routes",
        "auth_jwt.validation",
        "contacts.attributes",
        "contacts.routes_attributes",
        "contacts.routes_common",
        "contacts.routes_companies",
        "contacts.routes_contacts",
        "contacts.validation",
        "contacts.writes",
        "exports.routes",
        "imports.routes",
    )
}
# An optional dependency: used when loaded, a 422 says so when it is not.
OPTIONAL = {("exports", "apollo")}


def _cross_plugin_imports() -> set[tuple[str, str]]:
    found = set()
    for path in PLUGINS_DIR.rglob("*.py"):
        owner = path.relative_to(PLUGINS_DIR).parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            else:
                continue
            module = modules[0]
            parts = module.split(".")
            if parts[:2] != ["contacts_api", "plugins"] or len(parts) < 3 or parts[2] == owner:
                continue
            if len(parts) == 3:  # from contacts_api.plugins.x import service
                module = next(m for m in modules[1:] if m)
            found.add((owner, module))
    return found


def test_plugins_use_each_other_only_through_service_modules():
    reaches = {
        (owner, module)
        for owner, module in _cross_plugin_imports()
        if not module.endswith(".service")
    }
    assert reaches == KNOWN_EXCEPTIONS


def test_plugins_declare_what_they_use():
    for owner, module in _cross_plugin_imports():
        used = module.split(".")[2]
        module_name = {**BUILTIN_PLUGINS, **OPT_IN_PLUGINS}[owner]
        requires = getattr(importlib.import_module(module_name), "requires", [])
        assert (
            used in requires or (owner, used) in OPTIONAL or (owner, module) in KNOWN_EXCEPTIONS
        ), f"plugin {owner} uses {module} without requires = [{used!r}]"
