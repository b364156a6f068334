"""Documents, the paths they were read from, their offset maps, and read failures."""

from __future__ import annotations

import sqlite3
import time
import zlib
from dataclasses import dataclass

import numpy as np

from imr_rag.catalog.decisions import _settle_versions, like_literal
from imr_rag.catalog.tables import BUMP_META
from imr_rag.errors import redact
from imr_rag.schema import Chunk, Document
from imr_rag.textutil import normalize_case_number


@dataclass(frozen=True)
class StoredDocument:
    doc_id: str
    path: str
    letter_format: str
    case_number: str | None
    pages: int
    chars: int
    text: str


DELTA_OFFSETS = b"\x01"
"""Marks an offsets blob stored as int32 differences (a zlib stream itself starts with 0x78)."""


def pack_offsets(offsets: np.ndarray, ends: np.ndarray) -> bytes:
    """Both maps of a document (len(text)+1 starts, then len(text) ends) in one blob: the
    differences between neighbours (mostly 1) as int32, zlib level 1. Compressing the raw int64
    maps at the default level was the largest single cost of ingest (a third of its time)."""
    both = np.concatenate([offsets, ends]).astype(np.int64)
    return DELTA_OFFSETS + zlib.compress(np.diff(both, prepend=0).astype(np.int32).tobytes(), 1)


def unpack_offsets(blob: bytes, length: int) -> tuple[np.ndarray, np.ndarray]:
    if blob[:1] == DELTA_OFFSETS:
        both = np.cumsum(np.frombuffer(zlib.decompress(blob[1:]), dtype=np.int32), dtype=np.int64)
    else:  # written before the difference format
        both = np.frombuffer(zlib.decompress(blob), dtype=np.int64)
    return both[: length + 1], both[length + 1 :]


class DocumentRecords:
    """Documents and paths (a mixin of Catalog: needs its connection)."""

    def doc_for_path(self, path: str) -> str | None:
        row = self.db.execute("SELECT doc_id FROM sources WHERE path = ?", (path,)).fetchone()
        return row["doc_id"] if row else None

    def has_document(self, doc_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM documents WHERE doc_id = ?", (doc_id,)).fetchone() is not None

    def add_document(
        self,
        *,
        doc_id: str,
        file_hash: str,
        path: str,
        letter_format: str,
        case_number: str | None,
        pages: int,
        text: str,
        source_text: str,
        offsets: np.ndarray,
        ends: np.ndarray,
        chunks: list[tuple[Chunk, str]],
    ) -> str | None:
        """Insert a document and its chunks (chunk, text hash) and point `path` at it, in one
        transaction; returns the id of the document the path held before if nothing refers to it
        any more (it is removed in the same transaction, so a crash never leaves it behind)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO documents (doc_id, file_hash, path, letter_format, case_number, pages, chars, text,"
                " source_text, offsets, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    doc_id, file_hash, path, letter_format, case_number, pages, len(text), text,
                    zlib.compress(source_text.encode("utf-8")), pack_offsets(offsets, ends), time.time(),
                ),
            )
            _insert_chunks(db, doc_id, chunks)
            _bump_generation(db)
            return _point_path(db, path, doc_id)

    def add_row_document(
        self, *, doc_id: str, file_hash: str, path: str, row_of: str, letter_format: str, case_number: str | None,
        text: str, blobs: tuple[bytes, bytes], chunks: list[tuple[Chunk, str]],
    ) -> bool:
        """Insert one row of a published table (`row_of`: the export it was read from) with its
        chunks; `blobs` are its source text (zlib) and its offset maps (`pack_offsets`). A row has
        no entry in `sources`: it is identified by its content, never replaced by a path, and a
        later export without it leaves it in place. Returns True when the case already had a row:
        this one is the publisher's revision of it, and counts from now on."""
        with self.transaction() as db:
            earlier = case_number is not None and db.execute(
                "SELECT 1 FROM documents WHERE case_number = ? AND row_of IS NOT NULL LIMIT 1", (case_number,)
            ).fetchone() is not None
            db.execute(
                "INSERT INTO documents (doc_id, file_hash, path, letter_format, case_number, pages, chars, text,"
                " source_text, offsets, ingested_at, row_of) VALUES (?,?,?,?,?,1,?,?,?,?,?,?)",
                (doc_id, file_hash, path, letter_format, case_number, len(text), text, *blobs, time.time(), row_of),
            )
            _insert_chunks(db, doc_id, chunks)
            _bump_generation(db)
            if earlier:
                _settle_versions(db, case_number)
            return earlier

    def unextracted_rows(self, table: str) -> list[str]:
        """Doc ids of the rows read from `table` that have no decision (their extraction failed,
        or they were ingested without one), in the order they were stored."""
        return [r[0] for r in self.db.execute(
            "SELECT d.doc_id FROM documents d WHERE d.row_of = ?"
            " AND NOT EXISTS (SELECT 1 FROM decisions x WHERE x.doc_id = d.doc_id) ORDER BY d.ingested_at, d.doc_id",
            (table,),
        )]

    def clear_table_failures(self, table: str) -> None:
        """Forget the failures recorded for a table and its rows ("TABLE row N"): a new read of it
        records them afresh (a row fixed in the file is no failure any more)."""
        with self.transaction() as db:
            db.execute("DELETE FROM failures WHERE path = ? OR path LIKE ? ESCAPE '\\'",
                       (table, f"{like_literal(table)} row %"))

    def link_path(self, path: str, doc_id: str) -> str | None:
        """Point `path` at a stored document; returns (and removes) the document it replaced, as
        add_document does."""
        with self.transaction() as db:
            return _point_path(db, path, doc_id)

    def delete_document(self, doc_id: str) -> None:
        """Remove a document with its paths, chunks and decision; its vectors are queued for deletion."""
        with self.transaction() as db:
            _delete_document(db, doc_id)

    def generation(self) -> int:
        """A counter that changes whenever the set of indexed chunks changes (derived indexes
        record the generation they were built from, so a stale one is recognised)."""
        value = self.get_meta("generation")
        return int(value) if value else 0

    def pending_dense_deletes(self) -> list[str]:
        return [r["doc_id"] for r in self.db.execute("SELECT doc_id FROM dense_deletes ORDER BY at")]

    def clear_dense_deletes(self, doc_ids: list[str]) -> None:
        with self.transaction() as db:
            db.executemany("DELETE FROM dense_deletes WHERE doc_id = ?", [(d,) for d in doc_ids])

    def chunk_ids(self, *, embedded: bool | None = None) -> set[str]:
        """Ids of all chunks, or of those (not) yet in the dense store."""
        where = "" if embedded is None else f" WHERE embedded = {int(embedded)}"
        return {r[0] for r in self.db.execute(f"SELECT chunk_id FROM chunks{where}")}

    def mark_unembedded(self, chunk_ids: list[str]) -> None:
        with self.transaction() as db:
            db.executemany("UPDATE chunks SET embedded = 0 WHERE chunk_id = ?", [(c,) for c in chunk_ids])

    def duplicate_case_numbers(self) -> dict[str, int]:
        """Case numbers held by more than one letter, with how many (the versions of a table row
        are its revisions, listed by `row_revisions`)."""
        return dict(self.db.execute(
            "SELECT case_number, COUNT(*) FROM documents WHERE case_number IS NOT NULL AND row_of IS NULL"
            " GROUP BY case_number HAVING COUNT(*) > 1"
        ).fetchall())

    def orphan_documents(self) -> list[str]:
        """Letters that no path refers to (left by older versions; never created now). A table
        row has no path of its own: it is kept whatever later exports hold."""
        return [
            r["doc_id"] for r in self.db.execute(
                "SELECT doc_id FROM documents d WHERE row_of IS NULL"
                " AND NOT EXISTS (SELECT 1 FROM sources s WHERE s.doc_id = d.doc_id)"
            )
        ]

    def record_failure(self, path: str, reason: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO failures VALUES (?, ?, ?)", (path, redact(reason), time.time()))

    def document(self, doc_id: str) -> StoredDocument | None:
        row = self.db.execute(
            "SELECT doc_id, path, letter_format, case_number, pages, chars, text FROM documents"
            " WHERE doc_id = ?",
            (doc_id,),
        ).fetchone()
        return StoredDocument(**dict(row)) if row else None

    def load_document(self, doc_id: str) -> Document | None:
        """The full Document (text, source text, offsets) as it was ingested."""
        row = self.db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        offsets, ends = unpack_offsets(row["offsets"], len(row["text"]))
        return Document(
            doc_id=row["doc_id"], path=row["path"], file_hash=row["file_hash"],
            source_text=zlib.decompress(row["source_text"]).decode("utf-8"), text=row["text"],
            offsets=offsets, ends=ends, pages=row["pages"], letter_format=row["letter_format"],
        )

    def documents(self) -> list[StoredDocument]:
        rows = self.db.execute(
            "SELECT doc_id, path, letter_format, case_number, pages, chars, text FROM documents"
            " ORDER BY path"
        ).fetchall()
        return [StoredDocument(**dict(r)) for r in rows]

    def resolve_document(self, ref: str) -> StoredDocument | None:
        """A document by doc id, case number or (suffix of a) path; for a case number, the
        letter whose decision counts (what `ask` and `export` read)."""
        row = self.db.execute(
            "SELECT d.doc_id FROM documents d LEFT JOIN sources s ON s.doc_id = d.doc_id"
            " LEFT JOIN decisions x ON x.doc_id = d.doc_id"
            " WHERE d.doc_id = ? OR d.case_number = ? OR s.path = ? OR s.path LIKE ? ESCAPE '\\'"
            " OR (d.row_of IS NOT NULL AND (d.path = ? OR d.path LIKE ? ESCAPE '\\'))"
            " ORDER BY d.doc_id = ? DESC, x.superseded_by IS NULL AND x.doc_id IS NOT NULL DESC,"
            " d.ingested_at DESC LIMIT 1",
            (ref, normalize_case_number(ref), ref, f"%/{like_literal(ref)}", ref, f"%/{like_literal(ref)}", ref),
        ).fetchone()
        return self.document(row["doc_id"]) if row else None


def _bump_generation(db: sqlite3.Connection) -> None:
    db.execute(BUMP_META, ("generation",))


def _delete_document(db: sqlite3.Connection, doc_id: str) -> None:
    case = db.execute("SELECT case_number FROM decisions WHERE doc_id = ?", (doc_id,)).fetchone()
    db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
    if case:
        _settle_versions(db, case["case_number"])
    db.execute("INSERT OR REPLACE INTO dense_deletes VALUES (?, ?)", (doc_id, time.time()))
    _bump_generation(db)


def _point_path(db: sqlite3.Connection, path: str, doc_id: str) -> str | None:
    """Make `path` refer to `doc_id`; remove the document it referred to before if that one is
    left without any path. Returns the removed document's id."""
    row = db.execute("SELECT doc_id FROM sources WHERE path = ?", (path,)).fetchone()
    db.execute("INSERT OR REPLACE INTO sources VALUES (?, ?)", (path, doc_id))
    db.execute("DELETE FROM failures WHERE path = ?", (path,))
    previous = row["doc_id"] if row else None
    if previous is None or previous == doc_id:
        return None
    if db.execute("SELECT 1 FROM sources WHERE doc_id = ?", (previous,)).fetchone():
        return None
    _delete_document(db, previous)
    return previous


def _insert_chunks(db, doc_id: str, chunks) -> None:
    """Store a document's chunks, numbered in order, each with the hash of its text."""
    db.executemany(
        "INSERT INTO chunks (chunk_id, doc_id, ordinal, section, item_index, start, end, text,"
        " text_hash) VALUES (?,?,?,?,?,?,?,?,?)",
        [(c.chunk_id, doc_id, n, c.section, c.item_index, c.start, c.end, c.text, h) for n, (c, h) in enumerate(chunks)],
    )
