"""The explorer's files travel in the wheel: an installed server serves the page."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import contacts_api.plugins.explorer as explorer_package

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = Path(explorer_package.__file__).parent


# pip builds in the source tree (build/, *.egg-info): never two builds at once
@pytest.mark.one_at_a_time("wheel-build")
def test_the_wheel_holds_the_page_and_every_static_file(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps",
         "--quiet", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("contacts_api-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    files = [PACKAGE / "page.html", *(p for p in (PACKAGE / "static").rglob("*") if p.is_file())]
    expected = {f"contacts_api/plugins/explorer/{p.relative_to(PACKAGE)}" for p in files}
    assert len(expected) > 5 and expected <= names, sorted(expected - names)
