"""Parsing off the critical path (issue 16): batches normalized in parsing processes
are exactly the batches the reading thread makes (rows, row errors, resume points,
prepared parameters), in file order, and a file unreadable past some row still ends
with the batches before it and then the error."""

from __future__ import annotations

import pytest

from contacts_api.plugins.imports.parsing import BatchReader, parse_processes
from contacts_api.plugins.imports.reading import CsvFileError

HEADER = "first_name,last_name,email,title,company,website,employees,city\n"


def _file(rows: int) -> bytes:
    lines = [HEADER]
    for n in range(1, rows + 1):
        if n % 7 == 0:
            lines.append(f"Bad{n},,broken-{n},,,,,\n")  # a row error
        elif n % 11 == 0:
            lines.append(",,,,,,,\n")  # blank: numbered, not yielded
        elif n % 13 == 0:
            lines.append(f'Q{n},L,q{n}@x.com,"=SUM(A1)","Acme\nInc",acme.com,-1,\n')
        else:
            lines.append(f"F{n},L{n},P{n % 40}@X.com,T,Co {n % 9},co{n % 9}.com,{n},C\n")
    return "".join(lines).encode()


def _chunks(content: bytes, size: int = 4096):
    for start in range(0, len(content), size):
        yield content[start : start + size]


def _batches(content: bytes, processes: int, batch_size: int = 50, resume_row: int = 0):
    reader = BatchReader(_chunks(content), resume_row, batch_size)
    reader.use_processes(processes)
    out = []
    try:
        end = resume_row
        while (batch := reader.next_batch(end)) is not None:
            out.append(batch)
            end = batch.end_row
    finally:
        reader.close()
    return out


def _shape(batches):
    return [
        (b.start_row, b.end_row, [(n, r, c) for n, r, c in b.items], b.errors, b.params)
        for b in batches
    ]


@pytest.mark.parametrize("resume_row", [0, 120])
def test_parsing_processes_make_the_reading_thread_s_batches(resume_row):
    content = _file(777)
    alone = _batches(content, 0, resume_row=resume_row)
    pooled = _batches(content, 2, resume_row=resume_row)
    assert _shape(pooled) == _shape(alone)
    assert sum(b.rows for b in pooled) > 600
    refused = pooled[0].items[:1]
    # the writer builds refused rows' objects from the header, in its own process
    assert pooled[0].subset(refused).row_object(["a"]) == '{"first_name": "a"}'


def test_an_unreadable_tail_ends_after_the_batches_before_it():
    """As in the thread: the complete batches before the unreadable row, then the
    error (the rows of the batch it falls in are not imported)."""
    content = _file(300) + b'Z,Z,z@x.com,"' + b"x" * (200 * 1024) + b"\n"
    ends = []
    for processes in (0, 2):
        reader = BatchReader(_chunks(content), 0, 50)
        reader.use_processes(processes)
        seen, end = 0, 0
        try:
            with pytest.raises(CsvFileError):
                while (batch := reader.next_batch(end)) is not None:
                    seen += batch.rows
                    end = batch.end_row
        finally:
            reader.close()
        ends.append((end, seen))
    assert ends[0] == ends[1] and 200 < ends[0][0] < 300


def test_parsing_processes_by_default_only_from_four_cores():
    """On 2 cores a parsing process gained nothing and doubled the worker's memory
    (``parse_processes``' docstring): the default spawns none there."""
    assert [parse_processes(0, cores) for cores in (1, 2, 3, 4, 8)] == [0, 0, 0, 3, 7]
    assert parse_processes(2, cores=2) == 2  # an explicit setting is obeyed
