"""Tabular sources: a published table of decisions, one document per row (the California DMHC IMR
determinations CSV, read by `imr_rag.formats.dmhc_csv`).

A row's document text is the plugin's rendering of the row (`render_row`); its id is the content
hash of that text, so the same row in any export is one document and re-ingesting an export, or a
newer one, adds only the rows the publisher added or changed. A row is never removed because a
later export lacks it. A changed row is a new version of its case (ReferenceID): the catalog keeps
the old one as superseded (`imr_rag.catalog` documents.row_of, `review`: revised in a later
export). Rows are streamed: the file is read one record at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from imr_rag.errors import UnreadableDocument
from imr_rag.formats import ca_dmhc_imr
from imr_rag.formats.dmhc_csv import RowRead, count_rows, read_rows
from imr_rag.ingest.documents import TABLE_SUFFIXES, doc_id_for
from imr_rag.ingest.textmap import normalise
from imr_rag.schema import Document

def is_table(path: str | Path) -> bool:
    return Path(path).suffix.lower() in TABLE_SUFFIXES


def row_path(table: str, reference_id: str | None) -> str:
    """The name of a row's document: the export's path and the row's ReferenceID."""
    return f"{table}#{reference_id}"


def failed_row_name(table: str, row_number: int) -> str:
    """How a row that could not be read is named in FAILED lines and the failures table."""
    return f"{table} row {row_number}"


def units_in(path: str) -> int:
    """Progress units of a table: its rows (one for a file that is not a readable table)."""
    return max(count_rows(Path(path)), 1)


@dataclass(frozen=True)
class RowUnit:
    """One readable row still to be prepared (normalised, chunked, extracted)."""

    table: str
    read: RowRead
    content_hash: str


@dataclass(frozen=True)
class RowOutcome:
    """A row settled without preparing it: already stored (`unchanged`), or failed (`failed`)."""

    name: str
    failed: str | None = None


def table_rows(table: str, stored: Callable[[str], bool]) -> Iterator[RowUnit | RowOutcome]:
    """Every row of `table`, streamed: a RowUnit to prepare, or a RowOutcome for a row whose
    version is already stored (`stored(doc_id)`) or that could not be read. A file that is not
    the DMHC layout (or cannot be read at all) is one failed RowOutcome named after the file."""
    try:
        for read in read_rows(Path(table)):
            if not read.ok:
                where = f" (line {read.line_number}" + (f", {read.reference_id})" if read.reference_id else ")")
                yield RowOutcome(failed_row_name(table, read.row_number), failed=f"{read.failure}{where}")
                continue
            digest = hashlib.sha256(read.text.encode("utf-8")).hexdigest()
            if stored(doc_id_for(digest)):
                yield RowOutcome(row_path(table, read.reference_id))
            else:
                yield RowUnit(table, read, digest)
    except UnreadableDocument as exc:
        yield RowOutcome(table, failed=exc.reason)
    except OSError as exc:  # the file went away or a read failed part way
        yield RowOutcome(table, failed=f"cannot read file: {exc.strerror or exc}")


def stored_rows(table: str, stored: Callable[[str], bool]) -> Iterator[tuple[str, str]]:
    """(row name, doc id) of each readable row of `table` whose version is stored (what `extract
    FILE.csv` extracts after ingesting it), streamed; nothing for an unreadable table."""
    try:
        for read in read_rows(Path(table)):
            if read.ok:
                doc_id = doc_id_for(hashlib.sha256(read.text.encode("utf-8")).hexdigest())
                if stored(doc_id):
                    yield row_path(table, read.reference_id), doc_id
    except (UnreadableDocument, OSError):  # reported by the ingest that ran first
        return


def row_document(unit: RowUnit) -> Document:
    """The document of one row: its rendered text, normalised as any letter's."""
    text = unit.read.text
    mapped = normalise(text)
    return Document(
        doc_id=doc_id_for(unit.content_hash), path=row_path(unit.table, unit.read.reference_id),
        file_hash=unit.content_hash, source_text=text, text=mapped.text, offsets=mapped.offsets, ends=mapped.ends,
        pages=1, letter_format=ca_dmhc_imr.name,
    )
