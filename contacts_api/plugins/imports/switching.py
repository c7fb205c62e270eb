"""The interpreter's thread switch interval while imports run.

An import parses the next batch in a thread (pure Python: it holds the GIL) while the
event loop writes the current one: a dozen round trips to the database per batch.
Each time a reply arrives, the loop's thread must take the GIL back from the parsing
thread, which CPython grants only after the *switch interval* (5 ms by default):
every round trip made while the parser runs waits up to 5 ms more, and the database
sits idle meanwhile (a convoy). ``benchmarks/gil_convoy.py`` measures it: on the
2-core machine (loaded by other work), a ``SELECT 1`` round trip while another thread
runs Python took 14.6 and 17.6 ms on average at 5 ms, 3.6 and 1.0 ms at 0.5 ms,
against 0.8 ms with no other thread (300 trips each). The cost of a shorter interval
is more frequent GIL hand-offs in the parser (a few microseconds each).

Like the collector's threshold (``parsing.import_gc_threshold``), it is process-wide:
set when the first import of the process starts, put back when the last one ends.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator

IMPORT_SWITCH_INTERVAL_S = 0.0005
_lock = threading.Lock()
_running = 0  # imports in this process inside import_switch_interval
_saved: float | None = None


@contextlib.contextmanager
def import_switch_interval(interval_s: float = IMPORT_SWITCH_INTERVAL_S) -> Iterator[None]:
    """Shorten the switch interval (never lengthen it) while the block runs; put the
    process's own back when the last running import leaves its block."""
    global _running, _saved
    with _lock:
        if _running == 0:
            _saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_saved, interval_s))
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _saved is not None:
                sys.setswitchinterval(_saved)
