"""Parallel batch writers: up to ``imports.writers`` batches of one import written at
once, each in its own transaction, so that the database works on several with more
than one core (issue 16). An import into a large table is bound by the database: at
1M contacts one backend spends ~250 us of CPU per new row maintaining the indexes of
``contacts``, so one writer stays under ~4,000 rows/s whatever the worker does.

The result must stay that of a row-by-row import in file order, and the job's resume
point a prefix of the file (a batch commits its rows with the point after them). So a
batch (a :class:`Flight`, in the order the file gives them):

1. begins its transaction once every earlier batch in flight has written its
   companies, its new dictionary values, locked the keys of its contacts without
   email, and locked FOR SHARE the stored companies its contacts name
   (``upsert.write_batch``'s ``on_companies``): companies are written in file order;
2. before that, waits for the commit of an earlier batch it depends on
   (:meth:`Flight.depends_on`): one sharing an email, or that created or changed a
   company (its values or metadata) one of whose keys (domain, lower-case name; as
   found and as written) this batch looks up. Otherwise both run side by side: what
   they touch in common the earlier one only reads or holds locked, so that a later
   batch changing such a company, adding the same new dictionary value or writing a
   contact without email of the same names and company waits in the database for the
   earlier one's end;
3. commits in file order: before its last statements it waits, in the database, for
   the transaction of each earlier batch in flight (each holds an advisory lock,
   ``ORDER_LOCK``, from its start), then checks that the job's resume point is its
   own first row. When an earlier batch rolled back instead (a lost deadlock, a
   broken connection), it rolls back too and is written again, alone, once the earlier
   ones have landed. Waiting in the database rather than in Python means a cycle of
   waits is always one the database sees: it breaks it (a deadlock error, and that
   batch is written again), where a wait in Python would hang the import.

A batch written again after any failure first waits for every earlier batch to land,
so retries never race. With ``writers = 1`` a batch waits for the one before it to
land before it begins, exactly the serial writer.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

from contacts_api.plugins.imports.upsert import Batch, CompanyWrites

# pg_advisory_xact_lock(ORDER_LOCK_CLASS, hashtext(key)): held by a batch's transaction
# from its start; taken by later batches to wait for its end.
ORDER_LOCK_CLASS = 7_100_003
ORDER_LOCK = "SELECT pg_advisory_xact_lock(%s, hashtext(%s))"

_sequence = itertools.count()


class EarlierPending(Exception):
    """An earlier batch this one ran beside had not committed when this one was ready
    to (it rolled back), or was written again (``Flight.rewritten``): this one rolls
    back too and is written again once the earlier ones landed."""


class Flight:
    """One batch on its way to the database."""

    def __init__(self, batch: Batch, job_id: str, earlier: tuple[Flight, ...]):
        self.batch: Batch | None = batch
        self.earlier = earlier  # the batches in flight before it, in file order
        self.lock_key = f"{job_id}:{next(_sequence)}"
        self.writes: CompanyWrites | None = None
        # Its first transaction failed, or wrote other than what it announced
        # (``upsert.Written.rewritten``): later batches that ran beside it are written
        # again after it.
        self.rewritten = False
        self.companies_written = asyncio.Event()
        self.landed = asyncio.Event()  # committed, or given up (its task raised)
        self.task: asyncio.Future | None = None

    def on_companies(self, writes: CompanyWrites) -> None:
        """``upsert.write_batch``'s callback; the first call counts."""
        if not self.companies_written.is_set():
            self.writes = writes
            self.companies_written.set()

    def depends_on(self, other: Flight) -> bool:
        """Whether this batch must wait for ``other`` (earlier, its companies written)
        to commit before it begins."""
        if other.landed.is_set() or other.batch is None or self.batch is None:
            return False
        mine, theirs = self.batch.params, other.batch.params
        if mine["email_keys"] & theirs["email_keys"]:
            return True
        writes = other.writes  # set with companies_written, unless it landed (above)
        assert writes is not None
        return bool(mine["domain_keys"] & writes.domains or mine["name_keys"] & writes.names)

    def pending_earlier(self) -> list[Flight]:
        return [flight for flight in self.earlier if not flight.landed.is_set()]

    async def after_earlier(self) -> None:
        """Wait until every earlier batch has landed."""
        for flight in self.earlier:
            await flight.landed.wait()

    def land(self) -> None:
        self.companies_written.set()
        self.landed.set()
        # Nothing later needs its rows or its predecessors any more (a chain of
        # flights would keep every batch of the file alive).
        self.batch = None
        self.earlier = ()


class WritePipeline:
    """Writes batches ``writers`` at a time with ``write(flight)`` (which commits the
    flight's batch, retrying as it must), in file order as the module docstring says."""

    def __init__(self, writers: int, job_id: str, write: Callable[[Flight], Awaitable[None]]):
        self.writers = max(1, writers)
        self.job_id = job_id
        self._write = write
        self.flights: list[Flight] = []
        # How it went, for the job's log line: batches, those that began beside an
        # earlier one still in flight, those that waited for an earlier one's commit
        # first (depends_on), and those written again (Flight.rewritten).
        self.batches = self.beside = self.waited = self.rewritten = 0

    async def submit(self, batch: Batch) -> None:
        """Start writing ``batch``; returns once a writer is free for the next one."""
        flight = Flight(batch, self.job_id, tuple(self.flights))
        flight.task = asyncio.ensure_future(self._fly(flight))
        self.flights.append(flight)
        while len(self.flights) >= self.writers:
            await self._land_oldest()

    async def drain(self) -> None:
        """Wait for every batch in flight to commit."""
        while self.flights:
            await self._land_oldest()

    async def abort(self) -> None:
        """Cancel the batches in flight (their transactions roll back)."""
        flights, self.flights = self.flights, []
        for flight in flights:
            if flight.task is not None:
                flight.task.cancel()
        for flight in flights:
            if flight.task is not None:
                await asyncio.gather(flight.task, return_exceptions=True)

    async def _land_oldest(self) -> None:
        flight = self.flights[0]
        try:
            await asyncio.shield(flight.task)  # type: ignore[arg-type]
        except BaseException:
            await self.abort()
            raise
        self.flights.pop(0)

    async def _fly(self, flight: Flight) -> None:
        try:
            for earlier in flight.earlier:
                await earlier.companies_written.wait()
            depends = [earlier for earlier in flight.earlier if flight.depends_on(earlier)]
            self.waited += bool(depends)
            for earlier in depends:
                await earlier.landed.wait()
            self.beside += bool(flight.pending_earlier())
            await self._write(flight)
        finally:
            self.batches += 1
            self.rewritten += flight.rewritten
            flight.land()

    def summary(self) -> str:
        return (
            f"{self.batches} batches, {self.writers} writer(s): {self.beside} began beside an "
            f"earlier one, {self.waited} waited for an earlier one's commit, "
            f"{self.rewritten} written again"
        )
