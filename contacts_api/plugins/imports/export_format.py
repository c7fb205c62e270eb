"""Cell formatting of the CSV export: formula neutralization. (The list format is
``columns``', with the other column rules; ``join_list`` is re-exported here.)"""

from __future__ import annotations

from contacts_api.plugins.imports.columns import join_list

__all__ = ["join_list", "neutralize"]

# Spreadsheets run a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would run as a formula; the import drops it."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell
