"""How fast the CSV import parses: 200k synthetic rows in Apollo's 2026 layout.

Builds the file in memory from the 2026 sample (its header and 25 rows, each row
repeated with a new email), then times reading alone and reading + normalizing,
fed in 1 MiB chunks as the import reads storage. Run from the repository root:

    python benchmarks/csv_parse.py [ROWS]
"""

from __future__ import annotations

import csv
import io
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contacts_api.plugins.imports.normalize import build_header_map, normalize_row  # noqa: E402
from contacts_api.plugins.imports.reading import open_csv  # noqa: E402

SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "tests/plugins/imports/samples/apollo-contacts-export-2026.csv"
)
CHUNK = 1024 * 1024


def build_file(rows: int) -> bytes:
    """Return a UTF-8 (BOM, CRLF) CSV of `rows` rows cloned from the 2026 sample.

    Every row gets its own email, and every 8 rows share a company of their own (name,
    website, keywords), so that the caches of per-company values hit as in real files.
    (Person fields other than the email repeat; they are not cached, so that is fair.)
    """
    header, *templates = list(csv.reader(io.StringIO(SAMPLE.read_text("utf-8-sig"))))
    email, company, website, keywords = (
        header.index(name) for name in ("Email", "Company Name", "Website", "Keywords")
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for number in range(rows):
        group = number // 8
        row = list(templates[group % len(templates)])
        local, _, domain = row[email].partition("@")
        row[email] = f"{local}.{number}@{domain}"
        row[company] = f"{row[company]} {group}"
        row[website] = f"https://www.c{group}.example.com/"
        row[keywords] = f"{row[keywords]}, tag {group}"
        writer.writerow(row)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def chunks(data: bytes) -> Iterator[bytes]:
    """Yield data in CHUNK-sized pieces, as the storage reader does."""
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


def main() -> None:
    """Print rows per second for reading alone and for reading + normalizing."""
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    data = build_file(rows)
    print(f"{rows} rows, {len(data) / 1e6:.1f} MB")

    started = time.perf_counter()
    count = sum(1 for _ in open_csv(chunks(data)))
    elapsed = time.perf_counter() - started
    print(f"read:             {count / elapsed:>9,.0f} rows/s ({elapsed:.2f} s)")

    started = time.perf_counter()
    stream = open_csv(chunks(data))
    header_map = build_header_map(stream.header)
    count = sum(1 for _, cells in stream if normalize_row(header_map, cells))
    elapsed = time.perf_counter() - started
    print(f"read + normalize: {count / elapsed:>9,.0f} rows/s ({elapsed:.2f} s)")


if __name__ == "__main__":
    main()
