"""Streaming CSV reading: encodings, delimiters, line breaks, chunk boundaries, bad files."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from contacts_api.plugins.imports import reading
from contacts_api.plugins.imports.reading import CsvFileError, CsvStream, open_csv

SAMPLES = Path(__file__).parent / "samples"
SAMPLE_NAMES = sorted(path.name for path in SAMPLES.glob("*.csv"))
APOLLO_2026 = (SAMPLES / "apollo-contacts-export-2026.csv").read_bytes()


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def split_at(data: bytes, *offsets: int) -> list[bytes]:
    bounds = [0, *offsets, len(data)]
    return [data[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]


def read(data: bytes | list[bytes]) -> tuple[CsvStream, list[tuple[int, list[str]]]]:
    stream = open_csv([data] if isinstance(data, bytes) else data)
    return stream, list(stream)


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_samples_have_a_header_and_25_rows(name: str) -> None:
    stream, rows = read((SAMPLES / name).read_bytes())
    assert stream.delimiter == ","
    assert stream.warnings == []
    assert [number for number, _ in rows] == list(range(1, 26))
    assert all(len(cells) == len(stream.header) for _, cells in rows)
    assert stream.header[0] in ("first_name", "First Name")


def test_apollo_2026_bom_crlf_and_multiline_cell() -> None:
    assert APOLLO_2026.startswith(b"\xef\xbb\xbf") and b"\r\n" in APOLLO_2026
    stream, rows = read(APOLLO_2026)
    assert stream.encoding == "utf-8-sig"
    assert stream.header[0] == "First Name"  # no BOM left in the first cell
    keywords = stream.header.index("Keywords")
    assert rows[0][1][keywords] == "logistics,\nsupply chain"
    assert rows[0][1][stream.header.index("AI Lead Score")] == "66"
    assert not any(cell.endswith("\r") for _, cells in rows for cell in cells)


@pytest.mark.parametrize("name", SAMPLE_NAMES)
@pytest.mark.parametrize("size", [1, 7, 64 * 1024])
def test_chunk_size_does_not_change_rows(name: str, size: int) -> None:
    data = (SAMPLES / name).read_bytes()
    whole = read(data)[1]
    stream, rows = read(list(chunked(data, size)))
    assert rows == whole
    assert stream.encoding == ("utf-8-sig" if name.endswith("2026.csv") else "utf-8")


def test_chunk_boundaries_inside_a_character_a_quoted_cell_and_a_crlf() -> None:
    whole = read(APOLLO_2026)[1]
    inside_character = APOLLO_2026.index("ä".encode()) + 1
    inside_cell = APOLLO_2026.index(b"logistics,\nsupply") + len(b"logistics,")
    inside_crlf = APOLLO_2026.index(b"\r\n") + 1
    inside_bom = 2
    for offsets in [(inside_character,), (inside_cell,), (inside_crlf,), (inside_bom,)]:
        assert read(split_at(APOLLO_2026, *offsets))[1] == whole
    assert read(split_at(APOLLO_2026, inside_bom, inside_crlf, inside_cell))[1] == whole


@pytest.mark.parametrize("newline", [b"\r\n", b"\n", b"\r"])
def test_line_breaks(newline: bytes) -> None:
    data = newline.join([b"email,first_name", b"a@x.com,Ann", b'b@x.com,"Bo', b'b"', b""])
    stream, rows = read(data)
    assert stream.header == ["email", "first_name"]
    assert rows == [(1, ["a@x.com", "Ann"]), (2, ["b@x.com", "Bo" + newline.decode() + "b"])]


def test_last_line_without_line_break() -> None:
    assert read(b"email\na@x.com")[1] == [(1, ["a@x.com"])]


def test_quoted_cells_with_delimiters_quotes_and_line_breaks() -> None:
    data = b'email,title,keywords\r\na@x.com,"CEO, ""Chief""","a,\r\nb"\r\nb@x.com,CTO,\r\n'
    rows = read(data)[1]
    assert rows == [
        (1, ["a@x.com", 'CEO, "Chief"', "a,\r\nb"]),
        (2, ["b@x.com", "CTO", ""]),
    ]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_sniffed_delimiters(delimiter: str) -> None:
    text = delimiter.join(["first_name", "last_name", "Company"]) + "\n"
    text += delimiter.join(["Jürgen", "Müller", "Müller, Söhne & Co"]) + "\n"
    stream, rows = read(text.encode())
    assert stream.delimiter == delimiter
    assert rows == [(1, ["Jürgen", "Müller", "Müller, Söhne & Co"])]


def test_delimiter_is_the_one_that_names_known_columns() -> None:
    stream = open_csv([b'email;"Company, Inc";first_name\n'])
    assert stream.delimiter == ";"
    assert stream.header == ["email", "Company, Inc", "first_name"]


def test_windows_1252_file_is_read_with_a_warning() -> None:
    data = "first_name,title\r\nJürgen,Geschäftsführer – Vertrieb\r\n".encode("cp1252")
    stream, rows = read(list(chunked(data, 3)))
    assert stream.encoding == "cp1252"
    assert stream.warnings == ["The file is not UTF-8: it was read as Windows-1252 (cp1252)."]
    assert rows == [(1, ["Jürgen", "Geschäftsführer – Vertrieb"])]


def test_invalid_utf8_after_the_first_chunks_falls_back_to_cp1252() -> None:
    ascii_rows = b"".join(b"a%d@x.com,Ann\n" % number for number in range(10_000))
    header = b"email,first_name\n"
    data = header + ascii_rows + "z@x.com,Jürgen\n".encode("cp1252") + "y@x.com,Zoë\n".encode()
    assert len(header + ascii_rows) > 64 * 1024  # the bad byte comes after the sniffed head
    for chunks in (list(chunked(data, 64 * 1024)), list(chunked(data, 7))):
        stream, rows = read(chunks)
        assert stream.encoding == "utf-8"
        assert rows[-2:] == [(10_001, ["z@x.com", "Jürgen"]), (10_002, ["y@x.com", "Zoë"])]
        offset = data.index(b"\xfc")
        assert stream.warnings == [
            f"Bytes that are not valid UTF-8 were found from byte {offset} on;"
            " they were read as Windows-1252 (cp1252)."
        ]


def test_mostly_utf8_head_with_a_stray_cp1252_byte_stays_utf8() -> None:
    data = "email,first_name\nj@x.de,Jürgen\nk@x.de,Zoë\n".encode() + b"m@x.de,M\xfcller\n"
    stream, rows = read(data)
    assert stream.encoding == "utf-8"
    assert [cells[1] for _, cells in rows] == ["Jürgen", "Zoë", "Müller"]
    assert len(stream.warnings) == 1


@pytest.mark.parametrize(
    ("chunks", "message"),
    [
        ([], "the file is empty"),
        ([b""], "the file is empty"),
        ([b"\r\n  \n"], "the file is empty"),
        ([b"\xef\xbb\xbf"], "the file is empty"),
        ([b"\xef\xbb\xbf\r\n"], "the file is empty"),
        ([b"email,first_name\na@x.com,\x00\x00\x00\n"], "binary data"),
        ([bytes(range(1, 256)) * 40], "binary data"),
        ([b"PK\x03\x04\x14\x00\x06\x00"], "ZIP archive"),
        ([b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"], ".xls workbook"),
        ([b"\x1f\x8b\x08\x00"], "gzip"),
        (["email\r\na@x.com\r\n".encode("utf-16")], "UTF-16"),
        ([b"email,title\na@x.com,\x81\x8d\x90\x9d\xc3\n"], "neither UTF-8 nor Windows-1252"),
        ([b"Jason,Green,jason@x.com\n"], "the first line is not a header"),
        ([b"a,b,c,d,e,f\n1,2,3,4,5,6\n"], "('a', 'b', 'c', 'd', 'e', ...)"),
    ],
)
def test_files_that_are_not_csv(chunks: list[bytes], message: str) -> None:
    with pytest.raises(CsvFileError) as error:
        open_csv(chunks)
    assert message in str(error.value)


def test_header_only_file_has_no_rows() -> None:
    stream, rows = read(b"\n\nemail,first_name\r\n")
    assert stream.header == ["email", "first_name"]
    assert rows == []


def test_blank_records_keep_their_number_but_are_not_yielded() -> None:
    data = b"email,first_name\na@x.com,A\n\n,\n  \nb@x.com,B\n"
    rows = read(data)[1]
    assert rows == [(1, ["a@x.com", "A"]), (4, ["  "]), (5, ["b@x.com", "B"])]


def test_unicode_line_separators_do_not_split_a_row() -> None:
    data = "email,title\na@x.com,CEO\u2028Founder\x0cOwner\nb@x.com,CTO\n".encode()
    for chunks in ([data], list(chunked(data, 5))):
        assert read(chunks)[1] == [
            (1, ["a@x.com", "CEO\u2028Founder\x0cOwner"]),
            (2, ["b@x.com", "CTO"]),
        ]


def test_skip_resumes_at_the_next_row() -> None:
    whole = read(APOLLO_2026)[1]
    for size in (7, 64 * 1024):
        stream = open_csv(chunked(APOLLO_2026, size))
        stream.skip(10)
        assert stream.row_number == 10
        assert list(stream) == whole[10:]


def test_skip_counts_blank_records_and_stops_at_the_end() -> None:
    data = b"email\na@x.com\n\nb@x.com\nc@x.com\n"
    stream = open_csv([data])
    stream.skip(2)
    assert list(stream) == [(3, ["b@x.com"]), (4, ["c@x.com"])]
    stream = open_csv([data])
    stream.skip(0)
    assert [number for number, _ in stream] == [1, 3, 4]
    stream = open_csv([data])
    stream.skip(99)
    assert stream.row_number == 4
    assert list(stream) == []


def test_header_and_rows_are_read_lazily() -> None:
    consumed = []

    def source() -> Iterator[bytes]:
        yield b"email,first_name\n"
        for number in range(10_000):
            consumed.append(number)
            yield b"a%d@x.com,Ann\n" % number

    stream = open_csv(source())
    assert stream.header == ["email", "first_name"]
    assert len(consumed) < 5_000  # the head sniffed is 64 KiB, not the whole file
    assert next(iter(stream)) == (1, ["a0@x.com", "Ann"])


def test_a_cell_over_the_csv_field_limit_fails_with_its_row() -> None:
    data = b'email,title\na@x.com,CEO\nb@x.com,"unclosed' + b"x" * 200_000 + b"\nc@x.com,CTO\n"
    stream = open_csv(chunked(data, 64 * 1024))
    rows = iter(stream)
    assert next(rows) == (1, ["a@x.com", "CEO"])
    with pytest.raises(CsvFileError, match=r"^row 2: field larger than field limit"):
        next(rows)


def test_a_line_over_the_line_limit_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "_MAX_LINE_CHARS", 100)
    with pytest.raises(CsvFileError, match="a line longer than 100 characters"):
        list(open_csv(chunked(b"email\n" + b"x" * 300 + b"\n", 16)))
