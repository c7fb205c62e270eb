"""What ``pip install .`` puts into site-packages, and what plugin authors import."""

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import contacts_api

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/contacts_api_example/contacts_api_example/__init__.py"
README = ROOT / "README.md"

# Modules a third-party plugin may import from this project: the public
# surface and its test helper (each built-in plugin's ``service`` module is
# public too, for plugins that declare that plugin in ``requires``).
PUBLIC_MODULES = {"contacts_api", "contacts_api.testing"}


# pip builds in the source tree (build/, *.egg-info): never two builds at once
@pytest.mark.one_at_a_time("wheel-build")
def test_the_wheel_holds_one_top_level_package(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps",
         "--quiet", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("contacts_api-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/", 1)[0] for name in names}
    dist_info = {name for name in top_level if name.endswith(".dist-info")}
    assert top_level - dist_info == {"contacts_api"}
    # data files travel with their package
    assert "contacts_api/config/default.toml" in names
    assert any(n.startswith("contacts_api/migrations/contacts/") for n in names)
    assert "contacts_api/plugins/apollo/data/apollo_industry_tags.csv" in names
    assert not any(n.startswith(("contacts_api/tests", "tests/")) for n in names)


def _imported_modules(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return {m for m in modules if m.split(".")[0] == "contacts_api"}


def _readme_plugin() -> str:
    text = README.read_text()
    block = text.split("<!-- readme-plugin:start -->", 1)[1].split("<!-- readme-plugin:end -->")[0]
    return block.split("```python", 1)[1].rsplit("```", 1)[0]


def test_the_example_plugin_imports_only_the_public_surface():
    assert _imported_modules(EXAMPLE.read_text()) <= PUBLIC_MODULES


def test_the_readme_plugin_imports_only_the_public_surface():
    assert _imported_modules(_readme_plugin()) == {"contacts_api"}


def test_every_public_name_resolves():
    for name in contacts_api.__all__:
        assert getattr(contacts_api, name) is not None, name
