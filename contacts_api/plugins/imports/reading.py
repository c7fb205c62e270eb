"""Stream a CSV upload from byte chunks into ``(row_number, cells)`` without loading it whole.

The pipeline is: byte chunks -> text pieces (encoding decided on the first 64 KiB) ->
physical lines -> :mod:`csv` records. The csv module needs whole lines (with their
line break, so that a quoted cell keeps its own breaks), so lines are cut here, and a
line cut by a chunk boundary waits for the next chunk.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator

from contacts_api.plugins.imports.columns import canonical_header

_HEAD_BYTES = 64 * 1024
# A physical line this long is not a contacts CSV; refuse it rather than buffer it.
_MAX_LINE_CHARS = 16 * 1024 * 1024
_DELIMITERS = (",", ";", "\t")
# Line breaks that str.splitlines() honours but CSV does not: when a piece holds one,
# lines are cut with a regex instead (slower, so only then).
_EXOTIC_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
# Control bytes that never appear in text; a few are tolerated, many mean binary.
_CONTROL_BYTES = re.compile(rb"[\x01-\x08\x0e-\x1f\x7f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f\ufffd]")
_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook?): save it as CSV"),
    (b"\xd0\xcf\x11\xe0", "an .xls workbook: save it as CSV"),
    (b"\x1f\x8b", "gzip-compressed: upload the uncompressed CSV"),
    (b"%PDF", "a PDF document"),
    (codecs.BOM_UTF16_LE, "UTF-16 text: save it as CSV UTF-8"),
    (codecs.BOM_UTF16_BE, "UTF-16 text: save it as CSV UTF-8"),
)


class CsvFileError(ValueError):
    """The upload is not a CSV file we can read (empty, binary, no header...)."""


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    # Mixed files (a Windows-1252 row pasted into a UTF-8 file) are common enough:
    # read just the invalid bytes as Windows-1252 instead of failing the whole job.
    assert isinstance(error, UnicodeDecodeError)
    bad = error.object[error.start : error.end]
    return bytes(bad).decode("cp1252", "replace"), error.end


codecs.register_error("contacts_api.cp1252_fallback", _cp1252_fallback)


def _read_head(chunks: Iterator[bytes]) -> tuple[bytes, bool]:
    """Return the first bytes (at least _HEAD_BYTES unless the file is shorter) and
    whether they are the whole file."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size >= _HEAD_BYTES:
            return b"".join(parts), False
    return b"".join(parts), True


def _detect_encoding(head: bytes, whole: bool, warnings: list[str]) -> str:
    """Return "utf-8-sig", "utf-8" or "cp1252" for the file starting with head."""
    if not head.strip():
        raise CsvFileError("the file is empty: a CSV file starts with a header line")
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise CsvFileError(f"the file is not CSV: it is {what}")
    if b"\0" in head or len(_CONTROL_BYTES.findall(head)) > max(8, len(head) // 100):
        raise CsvFileError("the file is not CSV: it holds binary data")
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.utf_8_decode(head, "strict", whole)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    lenient = head.decode("utf-8", "replace")
    invalid = lenient.count("\ufffd")
    if len(_NON_ASCII.findall(lenient)) > invalid:
        # Mostly valid UTF-8 with a few stray bytes: the decoder reads those as cp1252.
        return "utf-8"
    try:
        head.decode("cp1252")
    except UnicodeDecodeError:
        raise CsvFileError(
            "the file is not CSV: it is neither UTF-8 nor Windows-1252 text"
        ) from None
    warnings.append("The file is not UTF-8: it was read as Windows-1252 (cp1252).")
    return "cp1252"


def _decode(chunks: Iterable[bytes], encoding: str, warnings: list[str]) -> Iterator[str]:
    """Decode byte chunks into text pieces; a UTF-8 character may span chunks."""
    if encoding == "cp1252":
        for chunk in chunks:
            yield chunk.decode("cp1252", "replace")
        return
    pending = b""
    offset = len(codecs.BOM_UTF8) if encoding == "utf-8-sig" else 0  # of pending[0]
    warned = False
    for chunk in itertools.chain(chunks, [None]):
        final = chunk is None
        data = pending if chunk is None else pending + chunk
        try:
            text, used = codecs.utf_8_decode(data, "strict", final)
        except UnicodeDecodeError as error:
            if not warned:
                warned = True
                warnings.append(
                    f"Bytes that are not valid UTF-8 were found from byte {offset + error.start}"
                    " on; they were read as Windows-1252 (cp1252)."
                )
            text, used = codecs.utf_8_decode(data, "contacts_api.cp1252_fallback", final)
        pending = data[used:]
        offset += used
        yield text


def _lines(pieces: Iterable[str]) -> Iterator[str]:
    """Cut text pieces into physical lines, each with its line break (CRLF, LF or CR)."""
    rest = ""
    for piece in pieces:
        if not piece:
            continue
        text = rest + piece if rest else piece
        if any(mark in text for mark in _EXOTIC_BREAKS):
            lines = _LINE.findall(text)
        else:
            lines = text.splitlines(True)
        # The last line may be incomplete (or a CR whose LF is in the next piece).
        rest = lines.pop()
        if len(rest) > _MAX_LINE_CHARS:
            raise CsvFileError(
                f"the file is not CSV: it has a line longer than {_MAX_LINE_CHARS:,} characters"
            )
        yield from lines
    if rest:
        yield rest


def _sniff_delimiter(line: str) -> str:
    """Pick the delimiter that makes the header line name the most known columns."""

    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([line], delimiter=delimiter))
        return sum(canonical_header(cell) is not None for cell in cells), len(cells)

    return max(_DELIMITERS, key=score)


class CsvStream:
    """An open CSV upload: its header, and an iterator over ``(row_number, cells)``.

    Row numbers count the records after the header from 1, as a spreadsheet shows them
    (a quoted cell with line breaks is still one row). Blank records (an empty line, or
    only delimiters) keep their number but are not yielded. ``warnings`` can grow while
    rows are read (invalid UTF-8 late in the file): read it after the last row.
    Iterating raises CsvFileError when the rest of the file cannot be parsed (a cell
    over the csv module's 128 KiB limit, usually an unclosed quote).
    """

    def __init__(
        self,
        records: Iterator[list[str]],
        header: list[str],
        delimiter: str,
        encoding: str,
        warnings: list[str],
    ) -> None:
        self.header = header
        self.delimiter = delimiter
        self.encoding = encoding
        self.warnings = warnings
        self.row_number = 0  # the last record read
        self._records = records
        # (non-blank data rows, bytes they and the header take, whole file) of the
        # first bytes of the file; set by open_csv
        self.head_count: tuple[int, int, bool] = (0, 0, False)

    def estimate_rows(self, file_size: int) -> tuple[int, bool]:
        """The file's non-blank data rows and whether that is exact: counted when the
        whole file fitted in its first 64 KiB, else estimated from the file size at the
        bytes per record of those first lines."""
        rows, head_bytes, whole = self.head_count
        if whole or head_bytes == 0:
            return rows, whole
        per_record = head_bytes / (rows + 1)  # the header is a record too
        return max(rows, round(file_size / per_record) - 1), False

    def skip(self, row_number: int) -> None:
        """Read past the rows up to ``row_number`` (to resume an interrupted import).

        The rows are still parsed, so quoting stays in step, but nothing else is done.
        """
        try:
            while self.row_number < row_number and next(self._records, None) is not None:
                self.row_number += 1
        except csv.Error as error:
            raise CsvFileError(f"row {self.row_number + 1}: {error}") from None

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        try:
            for cells in self._records:
                self.row_number += 1
                if any(cells):
                    yield self.row_number, cells
        except csv.Error as error:
            # Typically an unclosed quote that swallowed the rest of the file.
            raise CsvFileError(f"row {self.row_number + 1}: {error}") from None


def open_csv(chunks: Iterable[bytes]) -> CsvStream:
    """Open a CSV upload given as byte chunks; read its header and sniff its format.

    Raises CsvFileError when the bytes are not a CSV file: empty, binary, or without a
    header line naming at least one known column.
    """
    chunk_iter = iter(chunks)
    head, whole = _read_head(chunk_iter)
    warnings: list[str] = []
    encoding = _detect_encoding(head, whole, warnings)
    if encoding == "utf-8-sig":
        head = head[len(codecs.BOM_UTF8) :]
    lines = _lines(_decode(itertools.chain([head], chunk_iter), encoding, warnings))
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise CsvFileError("the file is empty: a CSV file starts with a header line")
    delimiter = _sniff_delimiter(first)
    records = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    try:
        header = next(records)
    except csv.Error as error:
        raise CsvFileError(f"the header line cannot be read: {error}") from None
    if not any(canonical_header(cell) for cell in header):
        shown = ", ".join(repr(cell) for cell in header[:5])
        raise CsvFileError(
            "the first line is not a header: none of its cells names a known column"
            f" ({shown}{', ...' if len(header) > 5 else ''})"
        )
    stream = CsvStream(records, header, delimiter, encoding, warnings)
    stream.head_count = _count_head(head, whole, encoding, delimiter)
    return stream


def _count_head(head: bytes, whole: bool, encoding: str, delimiter: str) -> tuple[int, int, bool]:
    """Count the non-blank data rows in the complete lines of the file's first bytes:
    (rows, bytes of those lines, whether they are the whole file)."""
    if not whole:
        cut = max(head.rfind(b"\n"), head.rfind(b"\r")) + 1
        head = head[:cut]
    text = head.decode("cp1252" if encoding == "cp1252" else "utf-8", "replace")
    try:
        records = sum(
            1 for cells in csv.reader(io.StringIO(text), delimiter=delimiter) if any(cells)
        )
    except csv.Error:
        return 0, 0, False  # nothing worth an estimate: the run will say what is wrong
    return max(records - 1, 0), len(head), whole
