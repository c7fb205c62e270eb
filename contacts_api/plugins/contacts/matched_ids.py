"""The ids a dictionary lookup found, remembered per process and brought up to
date with the values added since, instead of looked up again.

"title=marketing manager" matches ~1,100 of 265k distinct titles. Finding them
is a trigram bitmap over the dictionary whose common trigrams ("ing", " ma",
"ger") have posting lists of tens of thousands of values: ~10 ms of the
request at 1M contacts, paid again on every request. The dictionary
(``contact_field_values``) only grows, and a value never changes under its id,
so the ids that matched once still match; only values added since can join.
A remembered entry is therefore refreshed with ``id > horizon``: a range scan
of the primary key over the newest values, usually none.

The horizon must be *settled*: every id at or below it is either visible to the
refreshing statement or will never exist. Ids come from a sequence, so a writer
can hold id 100 uncommitted while id 101 is already visible; taking "the
largest id seen" as the horizon would lose 100 for good. A writer of the
dictionary holds ROW EXCLUSIVE on it until it ends, so a transaction that
obtains SHARE on the table (``NOWAIT``: it never queues behind a writer, and
holds writers off for a single ``max(id)``) sees a moment with no writer in
flight: its ``max(id)`` is settled, and stays settled for every statement that
starts after it. ``settle`` tries that at most once per ``SETTLE_SECONDS``; when
a writer is in flight it keeps the previous horizon (refreshes then scan a few
more ids, and stay exact).

Entries are per database handle (a test's fresh database, a new app: nothing
remembered) and bounded by the number of ids held (``MAX_IDS_HELD``, least
recently used out first). A dictionary found smaller than the horizon (a
``TRUNCATE ... RESTART IDENTITY`` in tests) drops everything remembered.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import OrderedDict
from typing import Any

import attrs
import psycopg2.errors

log = logging.getLogger("contacts_api.contacts")

SETTLE_SECONDS = 1.0
MAX_IDS_HELD = 200_000
# A refresh reads at most this many values past the horizon; beyond (writers in
# flight at every attempt to settle), the lookup is made afresh.
REFRESH_SPAN = 20_000
# see gated_lookups
GATE_SPAN = 2000
MAX_FAILED_GATES = 1024

# the lock can never be had: no privilege for SHARE mode, or a hot standby
_NEVER = (psycopg2.errors.InsufficientPrivilege, psycopg2.errors.ReadOnlySqlTransaction)
_LOCK = "LOCK TABLE contact_field_values IN SHARE MODE NOWAIT"
_TOP = "SELECT coalesce(max(id), 0) FROM contact_field_values"


@attrs.frozen
class Entry:
    """The ids a lookup found, complete for every id at or below ``horizon``."""

    ids: tuple[int, ...]
    horizon: int


class MatchedIds:
    """Remembered lookups of one database: ``key -> Entry`` and the settled horizon."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._held = 0
        self.horizon: int | None = None  # settled; None: not yet
        self._tried_at = float("-inf")
        # lookups whose gate failed (gated_lookups), by the horizon it failed at
        self._failed_gates: OrderedDict[tuple, int] = OrderedDict()

    def get(self, key: tuple) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple, entry: Entry) -> None:
        self.drop(key)
        self._entries[key] = entry
        self._held += len(entry.ids)
        while self._held > MAX_IDS_HELD and self._entries:
            _, old = self._entries.popitem(last=False)
            self._held -= len(old.ids)

    def drop(self, key: tuple) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._held -= len(old.ids)

    def forget(self) -> None:
        self._entries.clear()
        self._held = 0
        self.horizon = None
        self._failed_gates.clear()

    def may_gate(self, key: tuple, horizon: int) -> bool:
        """Whether the lookup ``key``, remembered up to ``horizon``, may be checked
        within the page's statement (``gated_lookups``): not when the settled
        horizon is far ahead (a refresh moves the entry on), nor when its gate
        failed at this horizon already."""
        if self.horizon is None or self.horizon - horizon > GATE_SPAN:
            return False
        return self._failed_gates.get(key) != horizon

    def gate_failed(self, key: tuple, horizon: int) -> None:
        self._failed_gates[key] = horizon
        self._failed_gates.move_to_end(key)
        while len(self._failed_gates) > MAX_FAILED_GATES:
            self._failed_gates.popitem(last=False)

    async def settle(self, db: Any) -> int | None:
        """The settled horizon, renewed when ``SETTLE_SECONDS`` have passed since
        the last attempt (None: none yet, or ``db`` has no transactions)."""
        now = time.monotonic()
        if now - self._tried_at < SETTLE_SECONDS or not hasattr(db, "transaction"):
            return self.horizon
        self._tried_at = now
        try:
            async with db.transaction() as tx:
                await tx.execute(_LOCK)
                top = await tx.fetch_val(_TOP)
        except psycopg2.errors.LockNotAvailable:
            return self.horizon  # a writer in flight: keep the last one
        except _NEVER:
            # a role without UPDATE on the dictionary, a read-only standby: the
            # lookups are made every time, as without this memory
            log.warning("dictionary lookups are not remembered: no lock on the dictionary")
            self._tried_at = float("inf")
            return self.horizon
        if self.horizon is not None and top < self.horizon:
            self.forget()  # the dictionary was emptied and refilled
        self.horizon = top if self.horizon is None else max(self.horizon, top)
        return self.horizon


_MEMORY: weakref.WeakKeyDictionary[object, MatchedIds] = weakref.WeakKeyDictionary()


def matched_ids(db: Any) -> MatchedIds | None:
    """The ``MatchedIds`` of ``db`` (None for a handle without weak references:
    nothing is remembered)."""
    try:
        return _MEMORY.setdefault(db, MatchedIds())
    except TypeError:
        return None
