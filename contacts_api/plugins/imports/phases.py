"""Where an import's wall time goes: per-phase totals, logged when a run ends.

An import's run is a pipeline (parsing in a thread or processes, batches written to
the database, the bulk path's index drop and rebuild, the pending-list merge, the
job's bookkeeping); its rows/s alone does not say which part to make cheaper. A run
accumulates the wall time and the count of each phase in a :class:`Phases` and logs
one line at its end, e.g.::

    import <id> phases: wait_parse 3.1 s (100), write 52.0 s (100), rebuild 20.3 s (1)...

``wait_parse`` is the time the writer waited for the next parsed batch (parsing not
hidden behind the database's work); the worker's process CPU time is logged too, for a
measure that a loaded machine does not skew.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator


class Phases:
    """Wall time and count per named phase of one import run, in first-seen order."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.cpu_started = time.process_time()
        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self.counts[name] = self.counts.get(name, 0) + 1

    @contextlib.contextmanager
    def timed(self, name: str) -> Iterator[None]:
        """Count the block's wall time (also when it raises) under ``name``."""
        begun = time.monotonic()
        try:
            yield
        finally:
            self.add(name, time.monotonic() - begun)

    def summary(self) -> str:
        """``name seconds (count)`` per phase, then the run's wall and CPU time."""
        parts = [f"{name} {s:.1f} s ({self.counts[name]})" for name, s in self.seconds.items()]
        wall = time.monotonic() - self.started
        cpu = time.process_time() - self.cpu_started
        parts.append(f"total {wall:.1f} s, worker process CPU {cpu:.1f} s")
        return ", ".join(parts)
