"""Streaming reader of the California DMHC IMR determinations CSV (one document per row).

The published file has about 42,700 rows whose `Findings` hold newlines, curly quotes and commas;
exports come in UTF-8 (with or without BOM) or Windows-1252. Rows are read one at a time: the file
is split into records by quote parity (a record ends at a line end outside quotes), and each
record is parsed by the csv module on its own, so a malformed row is one failure with its row and
line number and the rows after it are read as usual. A file of another layout is refused.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from imr_rag.errors import UnreadableDocument
from imr_rag.formats.ca_dmhc_imr import COLUMNS, render_row
from imr_rag.textutil import BYTE_ORDER_MARKS, WINDOWS_1252_C1

# A findings text of a few pages is ~30,000 characters; the csv module's default limit is 131,072.
FIELD_SIZE_LIMIT = 16 * 1024 * 1024
# A quoted field left open would swallow the rest of the file; a record this long is given up.
MAX_RECORD_CHARS = 4 * 1024 * 1024
# The start of a row: a reference id and a report year ("MN24-40814,2024,"). An open quote that
# runs into such a line was a row's bad quoting, not a findings text with a line break.
ROW_START = re.compile(r'^\ufeff?"?[A-Z]{2,4}\d{2}-\d{1,8}"?,"?(?:19|20)\d\d"?,')
# A byte-order mark read as Windows-1252 (a UTF-8 export with one stray byte): not part of a name.
_BOM_MARKS = "\ufeff\u00ef\u00bb\u00bf"


@dataclass(frozen=True)
class RowRead:
    """One data row as read: its document text, or why it could not be read."""

    row_number: int  # 1-based among the data rows (the header is not counted)
    line_number: int  # physical line of the file where the row starts (the header is line 1)
    reference_id: str | None  # ReferenceID when it could be read, even from a failed row
    row: dict[str, str] | None  # column -> value; None when the row failed
    text: str | None  # render_row(row); None when the row failed
    failure: str | None = None  # why the row failed: "bad quoting: ...", "missing columns: X", "empty findings"

    @property
    def ok(self) -> bool:
        return self.failure is None


def is_dmhc_header(first_line_or_fields: str | Sequence[str]) -> bool:
    """True when a header (a CSV line, or its fields) has every DMHC column, each once."""
    fields = _header_fields(first_line_or_fields)
    return fields is not None and _layout_problem(fields) is None


def _header_fields(value: str | Sequence[str]) -> list[str] | None:
    if isinstance(value, str):
        try:
            value = next(csv.reader([value.lstrip(_BOM_MARKS).rstrip("\r\n")]), [])
        except csv.Error:
            return None
    return [f.lstrip(_BOM_MARKS).strip() for f in value]


def _layout_problem(fields: list[str]) -> str | None:
    missing = [c for c in COLUMNS if c not in fields]
    doubled = sorted({f for f in fields if f in COLUMNS and fields.count(f) > 1})
    if not missing and not doubled:
        return None
    found = ", ".join(f for f in fields[:20] if f) or "no columns"
    more = " ..." if len(fields) > 20 else ""
    why = f"missing {', '.join(missing)}" if missing else f"repeated {', '.join(doubled)}"
    return f"not the DMHC IMR layout: expected columns {', '.join(COLUMNS)}; found {found}{more} ({why})"


def file_encoding(path: Path) -> tuple[str, str]:
    """(encoding, error handler) for the whole file: a UTF-16/32 BOM's, else UTF-8 (with or without
    BOM) when every byte decodes as UTF-8 (checked in one streamed pass), else Windows-1252."""
    with path.open("rb") as handle:
        head = handle.read(4)
        for bom, encoding in BYTE_ORDER_MARKS:
            if head.startswith(bom):
                return encoding, "strict"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(1 << 16):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252", WINDOWS_1252_C1
    return "utf-8-sig", "strict"


def read_rows(path: Path) -> Iterator[RowRead]:
    """Every data row of a DMHC CSV, streamed. Raises UnreadableDocument before the first row when
    the file cannot be read or is not the DMHC layout; a bad row is a RowRead with its failure."""
    name = str(path)
    if not path.is_file():
        raise UnreadableDocument(name, "file not found" if not path.exists() else "not a regular file")
    if path.stat().st_size == 0:
        raise UnreadableDocument(name, "empty file")
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
    encoding, errors = file_encoding(path)
    try:
        handle = path.open(encoding=encoding, errors=errors, newline="")
    except OSError as exc:
        raise UnreadableDocument(name, f"cannot read file: {exc.strerror or exc}") from exc
    with handle:
        records = _records(handle)
        header = next(records, None)
        if header is None:
            raise UnreadableDocument(name, "empty file")
        _, lines, _ = header
        try:
            fields = _header_fields(next(csv.reader(lines, strict=True), []))
        except csv.Error as exc:
            raise UnreadableDocument(name, f"not the DMHC IMR layout: the header cannot be read ({exc})") from exc
        if fields is None or (problem := _layout_problem(fields)):
            raise UnreadableDocument(name, problem or "not the DMHC IMR layout")
        try:
            for number, (line, lines, problem) in enumerate(records, 1):
                yield _row(fields, number, line, lines, problem)
        except UnicodeDecodeError as exc:  # a UTF-16/32 file with a BOM whose bytes are not that
            raise UnreadableDocument(name, f"not {encoding.upper()} after its byte-order mark ({exc.reason})") from exc


def count_rows(path: Path) -> int:
    """How many rows `read_rows` will give (bad ones included), by one streamed pass that splits
    records without parsing them; 0 when the file cannot be read. For progress totals."""
    try:
        encoding, errors = file_encoding(path)
        with path.open(encoding=encoding, errors=errors, newline="") as handle:
            return max(sum(1 for _ in _records(handle)) - 1, 0)
    except (OSError, UnicodeDecodeError):
        return 0


def _records(lines: Iterable[str]) -> Iterator[tuple[int, list[str], str | None]]:
    """(first line number, physical lines, quoting problem) per record; blank lines are skipped."""
    pending: list[str] = []
    first, quotes, size = 0, 0, 0
    for number, line in enumerate(lines, 1):
        if pending and quotes % 2 and ROW_START.match(line):
            yield first, pending, f"a quoted field opened on line {first} is not closed before the next row"
            pending, quotes, size = [], 0, 0
        if not pending:
            if not line.strip():
                continue
            first = number
        pending.append(line)
        quotes += line.count('"')
        size += len(line)
        if quotes % 2 == 0:
            yield first, pending, None
            pending, quotes, size = [], 0, 0
        elif size > MAX_RECORD_CHARS:
            yield first, pending, f"a quoted field opened on line {first} runs on for over {MAX_RECORD_CHARS:,} characters"
            pending, quotes, size = [], 0, 0
    if pending:
        yield first, pending, f"a quoted field opened on line {first} is not closed at the end of the file"


def _row(header: list[str], number: int, line: int, lines: list[str], problem: str | None) -> RowRead:
    reference = _reference_of(lines[0])
    if problem is not None:
        return RowRead(number, line, reference, None, None, f"bad quoting: {problem}")
    try:
        parsed = list(csv.reader(lines, strict=True))
    except csv.Error as exc:
        return RowRead(number, line, reference, None, None, f"bad quoting: {exc}")
    if len(parsed) != 1:
        return RowRead(number, line, reference, None, None, f"bad quoting: the row reads as {len(parsed)} rows")
    values = parsed[0]
    if len(values) < len(header):
        missing = [c for c in header[len(values):] if c]
        return RowRead(number, line, reference, None, None, f"missing columns: {', '.join(missing)}")
    if len(values) > len(header):
        return RowRead(number, line, reference, None, None,
                       f"extra fields: {len(values)} values for {len(header)} columns")
    row = {column: value for column, value in zip(header, values) if column}
    reference = row["ReferenceID"].strip() or None
    if reference is None:
        return RowRead(number, line, None, None, None, "empty ReferenceID")
    if not row["Findings"].strip():
        return RowRead(number, line, reference, None, None, "empty findings")
    return RowRead(number, line, reference, row, render_row(row))


def _reference_of(first_line: str) -> str | None:
    m = re.match(r'\ufeff?"?([A-Z]{2,4}\d{2}-\d{1,8})\b', first_line)
    return m.group(1) if m else None
