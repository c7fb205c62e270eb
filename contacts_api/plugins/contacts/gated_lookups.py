"""Remembered dictionary lookups checked inside a list page's own statement,
instead of refreshed by a statement of their own before it.

``matched_ids`` remembers the ids a lookup found and refreshes them on every
request with the values added since (``id > horizon``), usually none: a round
trip of its own per filter value. Under load at 1M contacts that round trip was
12% of the server's time on "country=germany" (py-spy, 10 connections).

A list page can ask the question inside its statement instead. While its filters
are prepared within ``collecting()``, ``dictionaries.match`` hands each
remembered lookup over as a ``Gate``: "no value matching it was added after the
horizon", ``NOT EXISTS`` over the newest values, ANDed at the top of the page's
condition (``with_gates``). PostgreSQL plans an uncorrelated ``NOT EXISTS`` as a
one-time filter: the page's plan is otherwise the same, and a false gate stops
the statement before it reads a row. So:

- rows came back: every gate held in the statement's own snapshot, the
  remembered ids were complete, the page is exact;
- no rows: a value was added since, or the page is empty anyway; the caller
  prepares the filters again without gates (the refresh, which brings the memory
  up to date) and runs the page again. ``refreshed`` then keeps a lookup whose
  refresh found new ids from being gated again until its entry moves on (while
  a writer keeps the horizon from settling, its values would fail the gate
  request after request).

Only the list route gates: a count or an export has no empty answer to tell
from a failed gate.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import attrs
import sqlalchemy as sa

from contacts_api.core.filters import AppliedFilters, FilterSpec
from contacts_api.plugins.contacts.matched_ids import GATE_SPAN

# A gate is offered only for lookups remembered at most GATE_SPAN ids behind the
# settled horizon (``MatchedIds.may_gate``), and fails as soon as a value lies
# that far past its horizon: it reads at most GATE_SPAN of the newest values.
__all__ = ["GATE_SPAN", "Gate", "collecting", "offer", "refreshed", "with_gates"]


@attrs.frozen
class Gate:
    """``fresh``: NOT EXISTS a value added after ``horizon`` that the lookup
    ``key`` of ``memory`` would match (nor one past ``horizon + GATE_SPAN``).
    Equal gates are those of one lookup at one horizon with the same ids (a
    page's condition is reused for equal filters: ``repository.filters_condition``)."""

    memory: Any = attrs.field(eq=False)  # matched_ids.MatchedIds
    key: tuple
    horizon: int
    ids: tuple[int, ...]
    fresh: sa.ColumnElement[bool] = attrs.field(eq=False)


_COLLECTING: ContextVar[list[Gate] | None] = ContextVar("gated_lookups", default=None)


@contextlib.contextmanager
def collecting() -> Iterator[list[Gate]]:
    """Within it, ``offer`` takes gates (into the list it yields)."""
    gates: list[Gate] = []
    token = _COLLECTING.set(gates)
    try:
        yield gates
    finally:
        _COLLECTING.reset(token)


def offer(memory: Any, key: tuple, entry: Any, fresh: Callable[[], sa.ColumnElement[bool]]) -> bool:
    """Take a gate on the lookup ``key`` of ``memory`` (a ``MatchedIds``) and its
    ``entry``, when a page is collecting them and the lookup may be gated
    (``MatchedIds.may_gate``); the lookup then skips its refresh. ``fresh()``
    gives the gate's NOT EXISTS, only when taken."""
    gates = _COLLECTING.get()
    if gates is None or not memory.may_gate(key, entry.horizon):
        return False
    gates.append(Gate(memory, key, entry.horizon, entry.ids, fresh()))
    return True


def refreshed(gates: list[Gate]) -> None:
    """The gated page came back empty and the lookups were refreshed since: a
    lookup whose refresh found new ids had a failed gate, and is not gated again
    at that horizon (values added past a horizon that could not settle would
    fail it request after request). One whose ids did not change did not fail
    (the page was empty anyway): it stays gated."""
    for gate in gates:
        entry = gate.memory.get(gate.key)
        if entry is None or entry.ids != gate.ids:
            gate.memory.gate_failed(gate.key, gate.horizon)


def _build(gates: list[Gate], tables: Any) -> sa.ColumnElement[bool]:
    return sa.and_(*(gate.fresh for gate in gates))


_build.pure = True  # equal gates, the same condition (repository.filters_condition)


# not a filter anyone names: ``with_gates`` adds it to prepared filters only
GATES = FilterSpec("(gated lookups)", "text", _build)


def with_gates(applied: AppliedFilters, gates: list[Gate]) -> AppliedFilters:
    """``applied`` (prepared) and every gate, ANDed with the other filters; the
    raw values (a cursor's scope) are unchanged."""
    if not gates:
        return applied
    return AppliedFilters((*applied.items, (GATES, tuple(gates))), applied.raw, ready=True)
