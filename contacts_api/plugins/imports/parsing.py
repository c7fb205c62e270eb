"""The import's synchronous side: storage chunks -> CSV rows -> normalized batches.

It runs in a thread (``asyncio.to_thread``) so that the event loop stays responsive
and the next batch is parsed while the previous one is written. The thread pulls the
file's chunks from the async storage stream through :func:`bridge_chunks`, one
chunk at a time, so the file is never held whole.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

from contacts_api.plugins.imports.normalize import RowError, build_header_map, normalize_row
from contacts_api.plugins.imports.reading import open_csv
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


class BatchReader:
    """Opens the CSV (raising CsvFileError when it is not one), skips to the resume
    point, then hands out batches of ``batch_size`` rows (valid or not)."""

    def __init__(self, chunks: Iterator[bytes], resume_row: int, batch_size: int):
        self.stream = open_csv(chunks)
        self.header_map = build_header_map(self.stream.header)
        self.keys = _row_keys(self.stream.header)
        self.batch_size = max(1, batch_size)
        if resume_row:
            self.stream.skip(resume_row)
        self.rows = iter(self.stream)

    def estimate_rows(self, file_size: int) -> tuple[int, bool]:
        """The file's data rows, and whether the count is exact (else estimated)."""
        return self.stream.estimate_rows(file_size)

    @property
    def warnings(self) -> list[str]:
        header_warning = self.header_map.warning
        return ([header_warning] if header_warning else []) + list(self.stream.warnings)

    def _row_object(self, cells: list[str]) -> str:
        row = dict(zip(self.keys, cells, strict=False))
        for index in range(len(self.keys), len(cells)):
            row[f"column {index + 1}"] = cells[index]
        return json.dumps(row, ensure_ascii=False)

    def next_batch(self, start_row: int) -> Batch | None:
        """The next batch (after record ``start_row``), or None at the end of the file."""
        batch = Batch(start_row=start_row, row_object=self._row_object)
        header_map, size = self.header_map, self.batch_size
        add = batch.items.append
        for row_number, cells in self.rows:
            try:
                if "\x00" in "".join(cells):
                    raise RowError("the row holds a NUL character")
                row = normalize_row(header_map, cells)
                check_row(row)
                add((row_number, row, cells))
            except RowError as error:
                cleaned = [cell.replace("\x00", "") for cell in cells]
                batch.errors.append((row_number, str(error), self._row_object(cleaned)))
            if batch.rows >= size:
                break
        batch.end_row = self.stream.row_number
        if not batch.rows:
            return None
        batch.prepare()
        return batch
