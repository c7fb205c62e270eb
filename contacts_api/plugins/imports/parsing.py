"""The import's synchronous side: storage chunks -> CSV rows -> normalized batches.

It runs in a thread (``asyncio.to_thread``) so that the event loop stays responsive
and the next batch is parsed while the previous one is written. The thread pulls the
file's chunks from the async storage stream through :func:`bridge_chunks`, one
chunk at a time, so the file is never held whole.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import gc
import itertools
import json
import multiprocessing
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from contacts_api.plugins.imports.normalize import (
    HeaderMap,
    RowError,
    build_header_map,
    normalize_row,
)
from contacts_api.plugins.imports.reading import CsvFileError, open_csv
from contacts_api.plugins.imports.upsert import Batch, check_row


def bridge_chunks(chunks: AsyncIterator[bytes], loop: asyncio.AbstractEventLoop) -> Iterator[bytes]:
    """A blocking iterator over an async one, for a thread other than the loop's."""

    async def next_chunk() -> bytes | None:
        try:
            return await chunks.__anext__()
        except StopAsyncIteration:
            return None

    while (chunk := asyncio.run_coroutine_threadsafe(next_chunk(), loop).result()) is not None:
        yield chunk


def _row_keys(header: list[str]) -> list[str]:
    """The keys of an error's ``row`` object: header cells as written, made unique."""
    keys: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(header):
        key = cell.lstrip("\ufeff").strip() or f"column {index + 1}"
        if key in seen:
            key = f"{key} ({index + 1})"
        seen.add(key)
        keys.append(key)
    return keys


def row_object(keys: list[str], cells: list[str]) -> str:
    """An error's ``row`` object: the cells under the header's keys (extra cells under
    ``column N``)."""
    row = dict(zip(keys, cells, strict=False))
    for index in range(len(keys), len(cells)):
        row[f"column {index + 1}"] = cells[index]
    return json.dumps(row, ensure_ascii=False)


def parse_records(
    header_map: HeaderMap,
    keys: list[str],
    start_row: int,
    records: list[tuple[int, list[str]]],
    end_row: int,
) -> Batch:
    """Normalize the records of one batch into a prepared Batch (its bad rows as row
    errors). Pure: it runs in the reading thread or in a parsing process alike."""
    row_of = functools.partial(row_object, keys)  # picklable: goes back to the writer
    batch = Batch(start_row=start_row, end_row=end_row, row_object=row_of)
    add = batch.items.append
    for row_number, cells in records:
        try:
            if "\x00" in "".join(cells):
                raise RowError("the row holds a NUL character")
            row = normalize_row(header_map, cells)
            check_row(row)
            add((row_number, row, cells))
        except RowError as error:
            cleaned = [cell.replace("\x00", "") for cell in cells]
            batch.errors.append((row_number, str(error), row_of(cleaned)))
    batch.prepare()
    return batch


# The cyclic garbage collector's first threshold while an import runs (CPython's
# default: 700). A batch keeps its rows alive until it is written (~10 objects per row
# that the collector tracks: the cells, the row's dicts and lists...), so at 700 the
# collector ran every ~70 rows, each time walking the young rows again, and a full
# collection (the worker's whole heap) every few batches: 15-25 us/row of the
# reading thread's ~60 (benchmarks/import_python_cost.py, total_default_gc). Import
# rows hold no reference cycles: reference counting frees them all the same.
IMPORT_GC_THRESHOLD = 20_000
_gc_lock = threading.Lock()
_gc_imports = 0  # imports running in this process (import_gc_threshold blocks entered)
_gc_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def import_gc_threshold() -> Iterator[None]:
    """Raise the collector's first threshold (process-wide) while the block runs, and
    put the thresholds back when the last of the process's running imports leaves its
    block. The import task wraps its whole run in it (in the event loop, so a task
    cancelled at any await still leaves the block: the threshold never stays raised)."""
    global _gc_imports, _gc_saved
    with _gc_lock:
        if _gc_imports == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(max(_gc_saved[0], IMPORT_GC_THRESHOLD), *_gc_saved[1:])
        _gc_imports += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_imports -= 1
            if _gc_imports == 0 and _gc_saved is not None:
                gc.set_threshold(*_gc_saved)


# The header of the file a parsing process works on (set by its initializer).
_CHILD: dict[str, object] = {}


def _start_child(header: list[str], parent_pid: int) -> None:
    _CHILD["map"] = build_header_map(header)
    gc.set_threshold(IMPORT_GC_THRESHOLD, *gc.get_threshold()[1:])  # a process for imports
    _CHILD["keys"] = _row_keys(header)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _exit_with_parent(parent_pid: int) -> None:
    """A worker killed with SIGKILL cannot stop its parsing processes: they notice
    (they are re-parented) and exit within a second."""
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(0)


def _parse_in_child(start_row: int, records: list[tuple[int, list[str]]], end_row: int) -> Batch:
    return parse_records(_CHILD["map"], _CHILD["keys"], start_row, records, end_row)  # type: ignore[arg-type]


def parse_processes(setting: int, cores: int | None = None) -> int:
    """The number of parsing processes: the setting, else (0) one per core but one
    on a machine of 4 cores or more, and none below (the reading thread normalizes):
    the worker's own process splits the CSV and writes, and the database shares the
    cores too. Measured on 2 cores (``benchmarks/import.py --rows 200000``, idle
    machine): one parsing process gained nothing (72 s against 69 s for the fresh
    import, 25-30 s against 23 s for the re-import) and doubled the worker's memory
    (280 MB against 150 MB; each process costs ~90 MB: it imports the normalizing
    code and what it imports)."""
    if setting > 0:
        return setting
    cores = cores or os.cpu_count() or 1
    return cores - 1 if cores >= 4 else 0


class BatchReader:
    """Opens the CSV (raising CsvFileError when it is not one), skips to the resume
    point, then hands out batches of ``batch_size`` rows (valid or not).

    After :meth:`use_processes`, the rows are normalized in that many parsing processes
    (spawned, so they share nothing with the worker's threads and connections): this
    thread only splits the CSV into records and hands batches of them out, keeping
    one batch more than processes in flight, so parsing runs on other cores while the
    writer waits on the database. Batches still come out in file order, and a file
    that cannot be read past some row still ends after the batches before it."""

    def __init__(self, chunks: Iterator[bytes], resume_row: int, batch_size: int):
        self.stream = open_csv(chunks)
        self.header_map = build_header_map(self.stream.header)
        self.keys = _row_keys(self.stream.header)
        self.batch_size = max(1, batch_size)
        if resume_row:
            self.stream.skip(resume_row)
        self.rows = iter(self.stream)
        self.read_to = resume_row  # the last record handed to a batch
        self.pool: ProcessPoolExecutor | None = None
        self.ahead: collections.deque[Future] = collections.deque()
        self.failed: CsvFileError | None = None  # met while reading ahead
        self.depth = 1

    def use_processes(self, processes: int) -> None:
        """Normalize the rows in ``processes`` parsing processes from now on."""
        if processes > 0 and self.pool is None:
            self.depth = processes + 1
            self.pool = ProcessPoolExecutor(
                processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_child,
                initargs=(self.stream.header, os.getpid()),
            )

    def estimate_rows(self, file_size: int) -> tuple[int, bool]:
        """The file's data rows, and whether the count is exact (else estimated)."""
        return self.stream.estimate_rows(file_size)

    @property
    def warnings(self) -> list[str]:
        header_warning = self.header_map.warning
        return ([header_warning] if header_warning else []) + list(self.stream.warnings)

    def _row_object(self, cells: list[str]) -> str:
        return row_object(self.keys, cells)

    def _records(self) -> list[tuple[int, list[str]]]:
        """The next batch's records (raises CsvFileError: the batch is lost with it,
        as the rows after an unreadable point are)."""
        records = list(itertools.islice(self.rows, self.batch_size))
        return records

    def next_batch(self, start_row: int) -> Batch | None:
        """The next batch (after record ``start_row``), or None at the end of the file."""
        if self.pool is None:
            records = self._records()
            if not records:
                return None
            batch = parse_records(
                self.header_map, self.keys, start_row, records, self.stream.row_number
            )
            return batch
        while self.failed is None and len(self.ahead) < self.depth:
            try:
                records = self._records()
            except CsvFileError as error:
                self.failed = error
                break
            if not records:
                break
            end_row = self.stream.row_number
            self.ahead.append(self.pool.submit(_parse_in_child, self.read_to, records, end_row))
            self.read_to = end_row
        if self.ahead:
            return self.ahead.popleft().result()
        if self.failed is not None:
            raise self.failed
        return None

    def close(self) -> None:
        """Stop the parsing processes (batches in flight are dropped)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
