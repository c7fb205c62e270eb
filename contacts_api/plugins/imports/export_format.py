"""Cell formatting shared by the CSV export: formula neutralization and list joining."""

from __future__ import annotations

from collections.abc import Iterable

# Spreadsheets run a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would run as a formula; the import drops it."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def join_list(values: Iterable[str]) -> str:
    """Write a list cell the way the import splits it back: ``a, b, c``."""
    return ", ".join(values)
