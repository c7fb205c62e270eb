"""The import worker's Python cost per row, stage by stage (issue 16).

On a 2-core machine the worker's Python and PostgreSQL share the cores, so the
Python cost per row bounds the import rate. This measures, on a generated Apollo
2026 file (``benchmarks/generate.py``, as ``benchmarks/import.py`` makes it), the
CPU time (``time.process_time``, best of ``--repeat``) of each stage the reading
thread runs, per row, with the cyclic garbage collector off (the code's own cost):

- ``read``: bytes -> decoded lines -> csv records (``reading.open_csv``);
- ``normalize``: ``normalize_row`` + ``check_row`` of every record;
- ``prepare``: ``Batch.prepare`` (keys, merges, array literals) per batch;
- ``parse_records``: normalize + prepare as the reading thread runs them;

then, with the collector on, in a heap like the worker's (its modules and plugins
loaded; the stages' inputs dropped), the reading thread's whole work, as
``BatchReader`` does it over the whole file (read + parse_records, one batch alive at
a time, as the writer holds it):

- ``total``: with the collector's threshold the import sets
  (``parsing.IMPORT_GC_THRESHOLD``);
- ``total_default_gc``: with CPython's default threshold (700).

    python benchmarks/import_python_cost.py [--rows 50000] [--repeat 5] [--batch-size 2000]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contacts_api.plugins.imports import parsing  # noqa: E402
from contacts_api.plugins.imports.normalize import build_header_map, normalize_row  # noqa: E402
from contacts_api.plugins.imports.parsing import BatchReader, _row_keys, parse_records  # noqa: E402
from contacts_api.plugins.imports.reading import open_csv  # noqa: E402
from contacts_api.plugins.imports.upsert import Batch, check_row  # noqa: E402

CHUNK = 256 * 1024


def chunks(data: bytes):
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


def best(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return min(times)


def load_worker_modules() -> None:
    """Import what the imports worker imports, so the collector walks a like heap."""
    import contacts_api.core.cli  # noqa: F401
    from contacts_api.core.plugins import Plugins
    from contacts_api.core.settings import load_settings

    environ = {"JWT_SECRET": "x" * 64, **os.environ}
    environ.setdefault("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    Plugins.load(load_settings(environ=environ))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=2_000)
    parser.add_argument("--file", type=Path, help="an existing CSV instead of a generated one")
    parser.add_argument("--only", help="comma-separated stages to run")
    args = parser.parse_args(argv)
    path = args.file
    if path is None:
        from benchmarks.generate import write_apollo_csv

        path = Path(tempfile.gettempdir()) / f"import_python_cost_{args.rows}.csv"
        if not path.exists():
            write_apollo_csv(path, args.rows, max(10, args.rows // 10), 20261126)
    data = path.read_bytes()
    stream = open_csv(chunks(data))
    header_map = build_header_map(stream.header)
    keys = _row_keys(stream.header)
    records = list(stream)
    rows = len(records)
    batches = [records[i : i + args.batch_size] for i in range(0, rows, args.batch_size)]
    items_per_batch = []
    for batch_records in batches:
        items = []
        for row_number, cells in batch_records:
            row = normalize_row(header_map, cells)
            check_row(row)
            items.append((row_number, row, cells))
        items_per_batch.append(items)

    def read():
        for _ in open_csv(chunks(data)):
            pass

    def normalize():
        for _, cells in records:
            check_row(normalize_row(header_map, cells))

    def prepare():
        for items in items_per_batch:
            Batch(0, 0, items).prepare()

    def parse():
        for batch_records in batches:
            parse_records(header_map, keys, 0, batch_records, 0)

    def total():
        reader = BatchReader(chunks(data), 0, args.batch_size)
        end = 0
        try:
            while (batch := reader.next_batch(end)) is not None:
                end = batch.end_row
        finally:
            reader.close()

    stages = {"read": read, "normalize": normalize, "prepare": prepare, "parse_records": parse}
    only = set(args.only.split(",")) if args.only else {*stages, "total", "total_default_gc"}
    print(f"{rows} rows, {len(data) / rows:.0f} bytes/row, batch {args.batch_size}")

    def show(name: str, seconds: float) -> None:
        print(f"{name:>16}: {seconds / rows * 1e6:6.1f} us/row  ({seconds:.2f} s)")

    gc.disable()
    for name, run in stages.items():
        if name in only:
            show(name, best(args.repeat, run))
    records = batches = items_per_batch = []  # not in the heap the collector walks
    gc.enable()
    load_worker_modules()
    gc.collect()
    if "total" in only:
        show("total", best(args.repeat, total))
    if "total_default_gc" in only:
        threshold = getattr(parsing, "IMPORT_GC_THRESHOLD", 700)
        parsing.IMPORT_GC_THRESHOLD = 700
        try:
            show("total_default_gc", best(args.repeat, total))
        finally:
            parsing.IMPORT_GC_THRESHOLD = threshold
    return 0


if __name__ == "__main__":
    sys.exit(main())
