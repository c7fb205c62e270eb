"""Apollo industry tag ids (``organizationIndustryTagIds[]``) and their industry names.

The table ships with the plugin (``data/apollo_industry_tags.csv``, columns
``Industry,Tag ID``) and is read once, on first use.
"""

from __future__ import annotations

import csv
import functools
import io
from importlib import resources

_TABLE = "apollo_industry_tags.csv"


@functools.cache
def industry_tags() -> dict[str, str]:
    """Map each tag id (lower case) to its industry name, e.g. ``"airlines/aviation"``."""
    text = resources.files(__package__).joinpath("data", _TABLE).read_text(encoding="utf-8")
    return {
        row["Tag ID"].strip().lower(): row["Industry"].strip()
        for row in csv.DictReader(io.StringIO(text))
        if row.get("Tag ID") and row.get("Industry")
    }


def industry_name(tag_id: str) -> str | None:
    """The industry name of an Apollo tag id (case-insensitive), or None if unknown."""
    return industry_tags().get(tag_id.strip().lower())
