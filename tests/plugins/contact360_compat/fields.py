"""Checking a response against the fields the app reads and their types."""

from typing import Any

STR, NUM, BOOL = (str,), (int, float), (bool,)
OPT_STR, OPT_NUM, OPT_BOOL = (str, type(None)), (int, float, type(None)), (bool, type(None))
LIST, DICT, OPT_DICT = (list,), (dict,), (dict, type(None))


def check(obj: Any, fields: dict[str, tuple[type, ...]], where: str = "") -> None:
    """Every field is present with one of its types (a bool is not a number)."""
    assert isinstance(obj, dict), (where, obj)
    for name, types in fields.items():
        assert name in obj, f"{where}: the app reads {name!r}, missing in {sorted(obj)}"
        value = obj[name]
        if isinstance(value, bool) and bool not in types:
            raise AssertionError(f"{where}: {name!r} is a bool, expected {types}")
        assert isinstance(value, types), f"{where}: {name!r} = {value!r}, expected {types}"
