"""SQLite catalog: documents, the paths they were read from, chunks, failures, and caches.

The catalog is the source of truth for what has been ingested; the Chroma collection and the
lexical index are derived from it and can be rebuilt from it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imr_rag.errors import redact, refused_writes
from imr_rag.schema import Chunk, ChunkRow, Decision, Document, SearchFilters, review_reasons
from imr_rag.textutil import normalize_case_number, service_tokens

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    file_hash TEXT NOT NULL,
    path TEXT NOT NULL,
    letter_format TEXT NOT NULL,
    case_number TEXT,
    pages INTEGER NOT NULL,
    chars INTEGER NOT NULL,
    text TEXT NOT NULL,
    source_text BLOB NOT NULL,
    offsets BLOB NOT NULL,
    ingested_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_case ON documents(case_number);
-- `known_case_number` matches case numbers case-blind: without this index every question that
-- contains a case-number-like word scanned every document.
CREATE INDEX IF NOT EXISTS documents_case_nocase ON documents(case_number COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS sources_doc ON sources(doc_id);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    section TEXT NOT NULL,
    item_index INTEGER,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    embedded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
DROP INDEX IF EXISTS chunks_pending;
-- The embed stage reads pending chunks in this order, a batch at a time: a range of this index
-- (on embedded alone, each batch sorted every pending chunk: quadratic over a year of letters).
CREATE INDEX IF NOT EXISTS chunks_pending_order ON chunks(embedded, doc_id, ordinal);
CREATE TABLE IF NOT EXISTS failures (
    path TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS vectors (
    model TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, text_hash)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Documents removed from the catalog whose vectors may still be in the dense store: written in the
-- transaction that removes the document, cleared once the store has deleted them (a crash in
-- between leaves the row, and the next run finishes the job).
CREATE TABLE IF NOT EXISTS dense_deletes (doc_id TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (
    doc_id TEXT PRIMARY KEY REFERENCES documents(doc_id) ON DELETE CASCADE,
    backend TEXT NOT NULL,
    case_number TEXT,
    letter_format TEXT NOT NULL,
    decision_date TEXT,
    reviewer_specialty TEXT,
    record TEXT NOT NULL,
    flags INTEGER NOT NULL,
    extracted_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_case ON decisions(case_number);
-- A person's choice of the letter that counts for a case whose letters disagree (`review --keep`).
CREATE TABLE IF NOT EXISTS case_choices (
    case_number TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    chosen_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    doc_id TEXT NOT NULL REFERENCES decisions(doc_id) ON DELETE CASCADE,
    item_index INTEGER NOT NULL,
    service TEXT NOT NULL,
    category TEXT NOT NULL,
    determination TEXT NOT NULL,
    medically_necessary INTEGER,
    guideline_sources TEXT NOT NULL,
    determination_start INTEGER,
    determination_end INTEGER,
    authorized_portion TEXT,
    PRIMARY KEY (doc_id, item_index)
);
CREATE INDEX IF NOT EXISTS items_determination ON items(determination);
CREATE INDEX IF NOT EXISTS items_category ON items(category);
CREATE INDEX IF NOT EXISTS decisions_date ON decisions(decision_date);
CREATE INDEX IF NOT EXISTS decisions_specialty ON decisions(reviewer_specialty);
CREATE INDEX IF NOT EXISTS decisions_format ON decisions(letter_format);
CREATE INDEX IF NOT EXISTS decisions_extracted ON decisions(extracted_at);
CREATE TABLE IF NOT EXISTS extraction_failures (
    doc_id TEXT NOT NULL,
    backend TEXT NOT NULL,
    reason TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (doc_id, backend)
);
-- Letters written to a Batch API request file and not yet answered by a results file applied
-- since: a request the batch never answered (expired or cancelled without a line) stays listed.
CREATE TABLE IF NOT EXISTS batch_requests (
    doc_id TEXT PRIMARY KEY REFERENCES documents(doc_id) ON DELETE CASCADE,
    file TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS llm_cache (
    key TEXT PRIMARY KEY,
    response TEXT NOT NULL,
    created REAL NOT NULL
);
"""


# Service words (lower-case, plural-blind: `textutil.service_tokens`) of every item, searchable
# with FTS5. External content: the words live in items.service_words; triggers keep the index in
# step with every insert and delete of an item (cascaded deletes included).
SERVICE_INDEX = """
CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5(
    service_words, content='items', content_rowid='rowid', tokenize='unicode61'
);
CREATE VIRTUAL TABLE IF NOT EXISTS items_fts_vocab USING fts5vocab(items_fts, 'row');
-- Every column a question filters or groups on, so joining an item to its decision never reads the
-- decision's record (a few KB of JSON stored before superseded_by: reading past it walks overflow
-- pages, 50 ms per 20,000 decisions).
CREATE INDEX IF NOT EXISTS decisions_questions ON decisions(
    doc_id, superseded_by, decision_date, case_number, reviewer_specialty, letter_format
);
-- The few superseded versions, found from the decision that counts (`case_conflicts`).
CREATE INDEX IF NOT EXISTS decisions_superseded ON decisions(superseded_by) WHERE superseded_by IS NOT NULL;
CREATE TRIGGER IF NOT EXISTS items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts(rowid, service_words) VALUES (new.rowid, new.service_words);
END;
CREATE TRIGGER IF NOT EXISTS items_fts_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts(items_fts, rowid, service_words) VALUES ('delete', old.rowid, old.service_words);
END;
"""

# The decision columns a question filters or groups on, copied onto each item when its decision is
# saved (they never change for a stored decision), and `current` (its decision is not superseded),
# kept in step with decisions.superseded_by by a trigger: counting questions read items alone, with
# no join per item (at a year of letters the join was 0.5 us per item of every tally).
ITEM_GROUP_KINDS = {
    "month": "substr({r}.decision_date, 1, 7)",
    "quarter": "substr({r}.decision_date, 1, 4) || '-Q' || ((CAST(substr({r}.decision_date, 6, 2) AS INTEGER) + 2) / 3)",
    "year": "substr({r}.decision_date, 1, 4)",
    "category": "{r}.category",
    "specialty": "{r}.reviewer_specialty",
    "determination": "{r}.determination",
    "format": "{r}.letter_format",
}
"""Group-by keys of current items, as SQL over an item row `{r}` (plus "guideline": each named
guideline family of the item, from its JSON list)."""


def _item_keys(r: str) -> str:
    """(kind, key) rows of item `r` for item_groups; a NULL key is stored as ''."""
    plain = " UNION ALL ".join(f"SELECT '{kind}' AS kind, COALESCE({sql.format(r=r)}, '') AS key"
                               for kind, sql in ITEM_GROUP_KINDS.items())
    return (f"{plain} UNION ALL SELECT 'guideline', COALESCE(g.value, '') FROM (SELECT 1) "
            f"LEFT JOIN json_each({r}.guideline_sources) g")


def _item_groups_change(r: str, delta: int) -> str:
    return (f"INSERT INTO item_groups (kind, key, determination, flagged, n) SELECT k.kind, k.key, "
            f"{r}.determination, COALESCE({r}.needs_review, 0), {delta} FROM ({_item_keys(r)}) AS k "
            f"WHERE {r}.current = 1 ON CONFLICT DO UPDATE SET n = n + excluded.n;")


ITEM_SUMMARY = f"""
CREATE INDEX IF NOT EXISTS items_current_date ON items(current, decision_date);
CREATE INDEX IF NOT EXISTS items_case ON items(case_number COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS items_current_specialty ON items(current, reviewer_specialty);
CREATE TRIGGER IF NOT EXISTS items_follow_decision AFTER UPDATE OF superseded_by ON decisions BEGIN
    UPDATE items SET current = (new.superseded_by IS NULL)
    WHERE doc_id = new.doc_id AND current IS NOT (new.superseded_by IS NULL);
END;
-- How many current items each group-by key holds, by outcome and review flag: a group-by or count
-- question with no other condition reads these few rows instead of every item. Kept by triggers
-- on every insert, delete (cascades included) and change of an item, in the item's transaction.
CREATE TABLE IF NOT EXISTS item_groups (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    determination TEXT NOT NULL,
    flagged INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (kind, key, determination, flagged)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS item_groups_insert AFTER INSERT ON items BEGIN
    {_item_groups_change("new", 1)}
END;
CREATE TRIGGER IF NOT EXISTS item_groups_delete AFTER DELETE ON items BEGIN
    {_item_groups_change("old", -1)}
END;
CREATE TRIGGER IF NOT EXISTS item_groups_update AFTER UPDATE OF current, needs_review, determination, category,
    guideline_sources, decision_date, reviewer_specialty, letter_format ON items BEGIN
    {_item_groups_change("old", -1)}
    {_item_groups_change("new", 1)}
END;
"""

BUMP_META = (
    "INSERT INTO meta VALUES (?, '1') ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
)


@dataclass
class CaseConflict:
    """Letters of one case that give different decisions: the one that counts, and the others
    as (doc id, path)."""

    case_number: str
    doc_id: str
    path: str
    others: list[tuple[str, str]]


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


class Catalog:
    """A connection to the catalog database. Use as a context manager or call close()."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._batch = False
        self.db.executescript(SCHEMA)
        self._add_missing_columns()
        self._ensure_service_index()
        self._ensure_item_summary()
        self._fill_review_columns()
        self._fill_substance()

    # Columns added after a catalog may already exist on disk: (table, column, declaration).
    ADDED_COLUMNS = [
        ("decisions", "reviewer_specialty", "TEXT"), ("items", "authorized_portion", "TEXT"),
        ("decisions", "superseded_by", "TEXT"), ("items", "service_words", "TEXT"),
        ("decisions", "needs_review", "INTEGER"), ("decisions", "review_reasons", "TEXT"),
        ("items", "needs_review", "INTEGER"), ("items", "review_reasons", "TEXT"),
        ("items", "current", "INTEGER"), ("items", "case_number", "TEXT"), ("items", "letter_format", "TEXT"),
        ("items", "decision_date", "TEXT"), ("items", "reviewer_specialty", "TEXT"),
        ("decisions", "substance", "TEXT"),
    ]

    def _add_missing_columns(self) -> None:
        for table, column, declaration in self.ADDED_COLUMNS:
            existing = {r["name"] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if column not in existing:
                with self.db:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def _fill_review_columns(self) -> None:
        """A catalog written before the review columns existed gets them from each stored record
        (its flags as they were stored; re-run `extract` to put old records through the checks)."""
        rows = self.db.execute("SELECT doc_id, record FROM decisions WHERE needs_review IS NULL").fetchall()
        if rows:
            with self.db:
                for row in rows:
                    _write_review(self.db, row["doc_id"], Decision.model_validate_json(row["record"]))

    def _fill_substance(self) -> None:
        """A catalog written before conflicts were told apart gets each decision's substance, and
        its cases with several letters are settled again under the rule of `_settle_versions`."""
        rows = self.db.execute("SELECT doc_id, case_number, record FROM decisions WHERE substance IS NULL").fetchall()
        if rows:
            with self.db:
                for row in rows:
                    self.db.execute("UPDATE decisions SET substance = ? WHERE doc_id = ?",
                                    (substance_of(Decision.model_validate_json(row["record"])), row["doc_id"]))
                for case in {row["case_number"] for row in rows}:
                    _settle_versions(self.db, case)

    def _ensure_item_summary(self) -> None:
        """The items' copy of their decision's columns and the `item_groups` counts. Items of a
        catalog written before them get the columns from their decision (the triggers count them)."""
        with self.db:
            self.db.executescript(ITEM_SUMMARY)
            self.db.execute(
                "UPDATE items SET (current, case_number, letter_format, decision_date, reviewer_specialty) ="
                " (SELECT d.superseded_by IS NULL, d.case_number, d.letter_format, d.decision_date, d.reviewer_specialty"
                " FROM decisions d WHERE d.doc_id = items.doc_id) WHERE current IS NULL"
            )
            if self.db.execute("SELECT 1 FROM item_groups LIMIT 1").fetchone() is None:
                self._recount_item_groups()

    def _recount_item_groups(self) -> None:
        """item_groups counted afresh from the items (what the triggers keep it equal to)."""
        self.db.execute("DELETE FROM item_groups")
        keys = [(kind, f"COALESCE({sql.format(r='i')}, '')", "") for kind, sql in ITEM_GROUP_KINDS.items()]
        keys.append(("guideline", "COALESCE(g.value, '')", " LEFT JOIN json_each(i.guideline_sources) g"))
        for kind, key, join in keys:
            self.db.execute(
                f"INSERT INTO item_groups (kind, key, determination, flagged, n) SELECT '{kind}', {key},"
                f" i.determination, COALESCE(i.needs_review, 0), COUNT(*) FROM items i{join} WHERE i.current = 1"
                " GROUP BY 2, 3, 4"
            )

    def item_group_drift(self) -> list[tuple]:
        """(kind, key, determination, flagged, kept, counted) where the kept counts differ from a
        recount of the items; empty when the triggers kept them exactly."""
        kept = {tuple(r[:4]): r[4] for r in self.db.execute("SELECT * FROM item_groups WHERE n != 0")}
        self.db.execute("SAVEPOINT recount")
        try:
            self._recount_item_groups()
            counted = {tuple(r[:4]): r[4] for r in self.db.execute("SELECT * FROM item_groups")}
        finally:
            self.db.execute("ROLLBACK TO recount")
            self.db.execute("RELEASE recount")
        return sorted(k + (kept.get(k, 0), counted.get(k, 0)) for k in kept.keys() | counted.keys()
                      if kept.get(k, 0) != counted.get(k, 0))

    def _ensure_service_index(self) -> None:
        """The full-text index of item services (`items_fts`, kept in step by triggers). A catalog
        written before it existed gets its service words computed and the index built once."""
        with self.db:
            self.db.executescript(SERVICE_INDEX)
            missing = self.db.execute("SELECT rowid, service FROM items WHERE service_words IS NULL").fetchall()
            if missing:
                self.db.executemany(
                    "UPDATE items SET service_words = ? WHERE rowid = ?",
                    [(" ".join(service_tokens(r["service"])), r["rowid"]) for r in missing],
                )
                self.db.execute("INSERT INTO items_fts(items_fts) VALUES ('rebuild')")

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One unit of work: committed at once, or inside `batch()` a savepoint of the batch
        (rolled back alone if it fails, committed with the batch). A write the data folder
        refuses (disk full, read-only) raises DataDirNotWritable."""
        if not self._batch:
            with refused_writes(self.path.parent), self.db:
                yield self.db
            return
        self.db.execute("SAVEPOINT unit")
        with refused_writes(self.path.parent):
            try:
                yield self.db
            except BaseException:
                self._undo_unit()
                raise
        self.db.execute("RELEASE unit")

    def _undo_unit(self) -> None:
        """Roll the failed unit back. On a full disk or an I/O error SQLite may already have rolled
        back the whole batch: then there is no savepoint left ("no such savepoint: unit" would hide
        the cause) and no batch either."""
        if self.db.in_transaction:
            self.db.execute("ROLLBACK TO unit")
            self.db.execute("RELEASE unit")
        else:
            self._batch = False

    def begin_batch(self) -> None:
        """From here until `commit_batch`, transactions are savepoints of one batch committed
        together (one fsync for many letters instead of one each). Each keeps its all-or-nothing
        meaning; a crash loses the batch in flight, which a re-run redoes."""
        if not self._batch:
            self.db.execute("BEGIN")
            self._batch = True

    def commit_batch(self) -> None:
        """Commit the batch; if the commit fails the whole batch is rolled back, never left open."""
        if self._batch:
            self._batch = False
            with refused_writes(self.path.parent):
                try:
                    self.db.commit()
                except sqlite3.Error:
                    self.db.rollback()
                    raise

    def rollback_batch(self) -> None:
        if self._batch:
            self._batch = False
            self.db.rollback()

    # -- documents and paths -------------------------------------------------------------
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
                "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    doc_id, file_hash, path, letter_format, case_number, pages, len(text), text,
                    zlib.compress(source_text.encode("utf-8")), pack_offsets(offsets, ends), time.time(),
                ),
            )
            db.executemany(
                "INSERT INTO chunks (chunk_id, doc_id, ordinal, section, item_index, start, end, text,"
                " text_hash) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (c.chunk_id, doc_id, n, c.section, c.item_index, c.start, c.end, c.text, h)
                    for n, (c, h) in enumerate(chunks)
                ],
            )
            _bump_generation(db)
            return _point_path(db, path, doc_id)

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
        """Case numbers held by more than one current document, with how many."""
        return dict(self.db.execute(
            "SELECT case_number, COUNT(*) FROM documents WHERE case_number IS NOT NULL"
            " GROUP BY case_number HAVING COUNT(*) > 1"
        ).fetchall())

    def orphan_documents(self) -> list[str]:
        """Documents that no path refers to (left by older versions; never created now)."""
        return [
            r["doc_id"] for r in self.db.execute(
                "SELECT doc_id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.doc_id = d.doc_id)"
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
            " ORDER BY d.doc_id = ? DESC, x.superseded_by IS NULL AND x.doc_id IS NOT NULL DESC LIMIT 1",
            (ref, normalize_case_number(ref), ref, f"%/{like_literal(ref)}", ref),
        ).fetchone()
        return self.document(row["doc_id"]) if row else None

    # -- chunks --------------------------------------------------------------------------
    def _chunk_rows(self, where: str, params: tuple) -> list[ChunkRow]:
        rows = self.db.execute(
            "SELECT c.chunk_id, c.doc_id, c.section, c.item_index, c.start, c.end, c.text,"
            " c.text_hash, d.case_number, d.letter_format, d.path FROM chunks c"
            f" JOIN documents d ON d.doc_id = c.doc_id {where}",
            params,
        ).fetchall()
        return [
            ChunkRow(
                chunk=Chunk(
                    chunk_id=r["chunk_id"], doc_id=r["doc_id"], text=r["text"], section=r["section"],
                    item_index=r["item_index"], start=r["start"], end=r["end"],
                ),
                case_number=r["case_number"],
                letter_format=r["letter_format"],
                source=r["path"],
                text_hash=r["text_hash"],
            )
            for r in rows
        ]

    def doc_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT doc_id FROM documents")}

    def iter_index_rows(self, doc_ids: list[str]) -> Iterator[tuple[str, str, str | None, str, str, str]]:
        """(chunk id, doc id, case number, format, section, text) of the chunks of `doc_ids`, in
        that order, streamed."""
        for i in range(0, len(doc_ids), 500):
            part = doc_ids[i : i + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                "SELECT c.chunk_id, c.doc_id, d.case_number, d.letter_format, c.section, c.text"
                f" FROM chunks c JOIN documents d ON d.doc_id = c.doc_id WHERE c.doc_id IN ({marks})"
                " ORDER BY c.doc_id, c.ordinal", part,
            )
            yield from rows

    def chunks_by_id(self, chunk_ids: list[str]) -> dict[str, ChunkRow]:
        found: dict[str, ChunkRow] = {}
        for i in range(0, len(chunk_ids), 500):
            part = chunk_ids[i : i + 500]
            marks = ",".join("?" * len(part))
            for row in self._chunk_rows(f"WHERE c.chunk_id IN ({marks})", tuple(part)):
                found[row.chunk.chunk_id] = row
        return found

    def chunks_for_doc(self, doc_id: str) -> list[ChunkRow]:
        return self._chunk_rows("WHERE c.doc_id = ? ORDER BY c.ordinal", (doc_id,))

    def pending_chunks(self, limit: int) -> list[ChunkRow]:
        return self._chunk_rows("WHERE c.embedded = 0 ORDER BY c.doc_id, c.ordinal LIMIT ?", (limit,))

    def count_pending(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM chunks WHERE embedded = 0").fetchone()[0]

    def count_pending_texts(self, model: str) -> int:
        """Distinct texts among pending chunks that `model` has no cached vector for: the texts
        the embed stage will actually compute (identical chunk texts are embedded once)."""
        return self.db.execute(
            "SELECT COUNT(DISTINCT c.text_hash) FROM chunks c WHERE c.embedded = 0 AND NOT EXISTS"
            " (SELECT 1 FROM vectors v WHERE v.model = ? AND v.text_hash = c.text_hash)", (model,)
        ).fetchone()[0]

    def mark_embedded(self, chunk_ids: list[str]) -> None:
        with self.transaction() as db:
            db.executemany("UPDATE chunks SET embedded = 1 WHERE chunk_id = ?", [(c,) for c in chunk_ids])

    # -- vector cache (identical chunk texts are embedded once) --------------------------
    def cached_vectors(self, model: str, hashes: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = sorted(set(hashes))
        for i in range(0, len(unique), 500):
            part = unique[i : i + 500]
            marks = ",".join("?" * len(part))
            for row in self.db.execute(
                f"SELECT text_hash, vector FROM vectors WHERE model = ? AND text_hash IN ({marks})",
                (model, *part),
            ):
                found[row["text_hash"]] = np.frombuffer(row["vector"], dtype=np.float32)
        return found

    def chunks_matching(self, filters: SearchFilters) -> list[ChunkRow]:
        """Every chunk meeting the filters, through the case number and document indexes (for a
        filter naming a case or a document)."""
        condition, values = _chunk_filter(filters)
        return self._chunk_rows(f"WHERE 1{condition} ORDER BY c.doc_id, c.ordinal", values)

    def chunks_passing(self, chunk_ids: list[str], filters: SearchFilters) -> set[str]:
        """The chunks among `chunk_ids` whose metadata meets every filter that is set."""
        condition, values = _chunk_filter(filters)
        found: set[str] = set()
        for i in range(0, len(chunk_ids), 500):
            part = chunk_ids[i : i + 500]
            found.update(r[0] for r in self.db.execute(
                "SELECT c.chunk_id FROM chunks c JOIN documents d ON d.doc_id = c.doc_id"
                f" WHERE c.chunk_id IN ({','.join('?' * len(part))}){condition}", (*part, *values),
            ))
        return found

    def embedded_vectors(self, model: str, chunk_ids: list[str]) -> tuple[list[str], np.ndarray]:
        """The embedded chunks among `chunk_ids` and their cached vectors (one row each)."""
        ids: list[str] = []
        vectors: list[np.ndarray] = []
        for i in range(0, len(chunk_ids), 500):
            part = chunk_ids[i : i + 500]
            for row in self.db.execute(
                "SELECT c.chunk_id, v.vector FROM chunks c JOIN vectors v ON v.model = ? AND v.text_hash = c.text_hash"
                f" WHERE c.embedded = 1 AND c.chunk_id IN ({','.join('?' * len(part))})", (model, *part),
            ):
                ids.append(row["chunk_id"])
                vectors.append(np.frombuffer(row["vector"], dtype=np.float32))
        return ids, np.stack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)

    def record_batch_requests(self, requested: list[tuple[str, str]]) -> None:
        """(doc id, request file) of letters just written to a Batch API request file."""
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO batch_requests VALUES (?, ?, ?)",
                           [(doc_id, file, time.time()) for doc_id, file in requested])

    def batch_waiting(self) -> list[tuple[str, str, str]]:
        """(doc id, path, request file) of requested letters no applied results file answered."""
        return [tuple(r) for r in self.db.execute(
            "SELECT b.doc_id, d.path, b.file FROM batch_requests b JOIN documents d ON d.doc_id = b.doc_id"
            " ORDER BY b.file, d.path")]

    def cache_vectors(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO vectors VALUES (?, ?, ?)",
                [(model, h, v.astype(np.float32).tobytes()) for h, v in vectors.items()],
            )

    # -- decisions ---------------------------------------------------------------------------
    def save_decision(self, doc_id: str, backend: str, decision: Decision) -> None:
        """Replace the document's decision and items (re-extraction never duplicates rows)."""
        if decision.case_number:  # an LLM may copy a look-alike as printed: one case, one key
            decision = decision.model_copy(update={"case_number": normalize_case_number(decision.case_number)})
        with self.transaction() as db:
            db.execute("DELETE FROM decisions WHERE doc_id = ?", (doc_id,))
            db.execute(
                "INSERT INTO decisions (doc_id, backend, case_number, letter_format, decision_date,"
                " reviewer_specialty, record, flags, extracted_at, needs_review, review_reasons, substance)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    doc_id, backend, decision.case_number, decision.letter_format, decision.decision_date,
                    decision.reviewer.specialty, decision.model_dump_json(), len(decision.review_flags), time.time(),
                    int(decision.needs_review), review_reasons(decision.review_flags), substance_of(decision),
                ),
            )
            db.executemany(
                "INSERT INTO items (doc_id, item_index, service, category, determination, medically_necessary,"
                " guideline_sources, determination_start, determination_end, authorized_portion, service_words,"
                " needs_review, review_reasons, current, case_number, letter_format, decision_date, reviewer_specialty)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?,?,?)",
                [
                    (
                        doc_id, n, item.service, item.category.value, item.determination.value,
                        None if item.medically_necessary is None else int(item.medically_necessary),
                        dumps(sorted({g.source for g in item.guidelines if g.cited_by == "reviewer"})),
                        item.evidence.determination.start if item.evidence.determination else None,
                        item.evidence.determination.end if item.evidence.determination else None,
                        item.authorized_portion, " ".join(service_tokens(item.service)),
                        int(bool(decision.item_flags(n))), review_reasons(decision.item_flags(n)),
                        decision.case_number, decision.letter_format, decision.decision_date, decision.reviewer.specialty,
                    )
                    for n, item in enumerate(decision.items)
                ],
            )
            db.execute("DELETE FROM extraction_failures WHERE doc_id = ?", (doc_id,))
            _answered_by_llm(db, doc_id, backend)
            _settle_versions(db, decision.case_number)

    def choose_version(self, case_number: str, doc_id: str) -> None:
        """A person's choice: `doc_id`'s decision is the one that counts for its case."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO case_choices VALUES (?, ?, ?)", (case_number, doc_id, time.time()))
            _settle_versions(db, case_number)

    def case_conflicts(self) -> list[CaseConflict]:
        """Cases whose letters give different decisions, each with the letter that counts and
        the letters that disagree with it, unless a person chose after the last of them came."""
        rows = self.db.execute(
            "SELECT c.case_number, c.doc_id, cd.path, o.doc_id AS other, od.path AS other_path"
            " FROM decisions c JOIN documents cd ON cd.doc_id = c.doc_id"
            " JOIN decisions o ON o.superseded_by = c.doc_id AND o.substance IS NOT c.substance"
            " JOIN documents od ON od.doc_id = o.doc_id"
            " LEFT JOIN case_choices ch ON ch.case_number = c.case_number AND ch.doc_id = c.doc_id"
            " WHERE c.superseded_by IS NULL AND (ch.chosen_at IS NULL OR od.ingested_at > ch.chosen_at)"
            " ORDER BY c.case_number, od.ingested_at"
        ).fetchall()
        conflicts: dict[str, CaseConflict] = {}
        for r in rows:
            conflict = conflicts.setdefault(r["case_number"], CaseConflict(r["case_number"], r["doc_id"], r["path"], []))
            conflict.others.append((r["other"], r["other_path"]))
        return list(conflicts.values())

    def case_versions(self, case_number: str) -> list[sqlite3.Row]:
        """Every stored decision of a case: doc id, path, whether it counts, by ingestion."""
        return self.db.execute(
            "SELECT d.doc_id, doc.path, d.superseded_by IS NULL AS counts, d.decision_date FROM decisions d"
            " JOIN documents doc ON doc.doc_id = d.doc_id WHERE d.case_number = ? ORDER BY doc.ingested_at, d.doc_id",
            (case_number,),
        ).fetchall()

    def item_rows(self) -> list[sqlite3.Row]:
        """Items joined with their decision's metadata, for catalog questions."""
        return self.db.execute(
            "SELECT i.doc_id, i.item_index, i.service, i.authorized_portion, i.category, i.determination, i.guideline_sources,"
            " i.determination_start, i.determination_end, i.needs_review, i.review_reasons,"
            " d.case_number, d.letter_format, d.decision_date,"
            " d.reviewer_specialty, s.path AS source FROM items i JOIN decisions d ON d.doc_id = i.doc_id"
            " JOIN documents s ON s.doc_id = i.doc_id WHERE d.superseded_by IS NULL"
            " ORDER BY d.case_number, i.doc_id, i.item_index"
        ).fetchall()

    def flagged_decisions(self) -> list[tuple[str, Decision]]:
        """(doc id, decision) of every current decision that needs review, by case number."""
        rows = self.db.execute(
            "SELECT doc_id, record FROM decisions WHERE needs_review = 1 AND superseded_by IS NULL"
            " ORDER BY case_number, doc_id"
        )
        return [(r["doc_id"], Decision.model_validate_json(r["record"])) for r in rows]

    def _question_indexes(self) -> str:
        """The indexes of the question tables, as recorded when ANALYZE ran: an index added by a
        newer version has no statistics, and the planner prefers the indexes it knows."""
        return ",".join(r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('items', 'decisions') ORDER BY name"
        ))

    def refresh_query_stats(self, growth: float = 1.25) -> bool:
        """ANALYZE (the query planner's statistics) when there are none or the items table grew by
        more than `growth` since; never waits for another writer (a locked catalog skips it).
        Without statistics SQLite scans every item for a date range instead of using the date
        index: 150 ms instead of 34 ms at 20,000 letters."""
        items = self.db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        last = self.get_meta("analyzed_items")
        indexes = self._question_indexes()
        if last is not None and items <= int(last) * growth and self.get_meta("analyzed_indexes") == indexes:
            return False
        try:
            self.db.execute("PRAGMA busy_timeout = 0")
            with self.db:
                self.db.execute("ANALYZE")
                self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                    [("analyzed_items", str(items)), ("analyzed_indexes", indexes)])
            return True
        except sqlite3.OperationalError:  # another process is writing: next time
            return False
        finally:
            self.db.execute("PRAGMA busy_timeout = 30000")

    def decisions_version(self) -> tuple:
        """Changes whenever a decision is saved or removed (for caches of the items table)."""
        return tuple(self.db.execute("SELECT COUNT(*), MAX(extracted_at) FROM decisions").fetchone())

    def record_extraction_failure(self, doc_id: str, backend: str, reason: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO extraction_failures VALUES (?,?,?,?)",
                (doc_id, backend, redact(reason), time.time()),
            )
            _answered_by_llm(db, doc_id, backend)

    def decision(self, doc_id: str) -> Decision | None:
        row = self.db.execute("SELECT record FROM decisions WHERE doc_id = ?", (doc_id,)).fetchone()
        return Decision.model_validate_json(row["record"]) if row else None

    def decisions(self, *, versions: bool = False) -> list[tuple[str, str, Decision]]:
        """(doc id, backend, decision) for every extracted document, by case number: the current
        version of each case (the newest letter), or with `versions` the superseded ones too."""
        where = "" if versions else " WHERE superseded_by IS NULL"
        rows = self.db.execute(f"SELECT doc_id, backend, record FROM decisions{where} ORDER BY case_number, doc_id")
        return [(r["doc_id"], r["backend"], Decision.model_validate_json(r["record"])) for r in rows]

    # -- LLM response cache ----------------------------------------------------------------
    def cached_llm(self, key: str) -> str | None:
        row = self.db.execute("SELECT response FROM llm_cache WHERE key = ?", (key,)).fetchone()
        return row["response"] if row else None

    def cache_llm(self, key: str, response: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO llm_cache VALUES (?, ?, ?)", (key, response, time.time()))

    # -- meta and stats ------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def bump_meta(self, key: str) -> str:
        """Increment a counter kept in meta; returns its new value."""
        with self.transaction() as db:
            db.execute(BUMP_META, (key,))
        return self.get_meta(key)

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def stats(self) -> dict:
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        formats = dict(
            self.db.execute("SELECT letter_format, COUNT(*) FROM documents GROUP BY letter_format")
        )
        failures = [
            {"path": r["path"], "reason": r["reason"]}
            for r in self.db.execute("SELECT path, reason FROM failures ORDER BY path")
        ]
        return {
            "documents": one("SELECT COUNT(*) FROM documents"),
            "paths": one("SELECT COUNT(*) FROM sources"),
            "chunks": one("SELECT COUNT(*) FROM chunks"),
            "chunks_embedded": one("SELECT COUNT(*) FROM chunks WHERE embedded = 1"),
            "unique_chunk_texts": one("SELECT COUNT(DISTINCT text_hash) FROM chunks"),
            "formats": formats,
            "failures": failures,
            "decisions": one("SELECT COUNT(*) FROM decisions WHERE superseded_by IS NULL"),
            "decisions_superseded": one("SELECT COUNT(*) FROM decisions WHERE superseded_by IS NOT NULL"),
            "items": one(
                "SELECT COUNT(*) FROM items i JOIN decisions d ON d.doc_id = i.doc_id WHERE d.superseded_by IS NULL"
            ),
            "decisions_flagged": one("SELECT COUNT(*) FROM decisions WHERE superseded_by IS NULL AND needs_review = 1"),
            "items_flagged": one(
                "SELECT COUNT(*) FROM items i JOIN decisions d ON d.doc_id = i.doc_id"
                " WHERE d.superseded_by IS NULL AND i.needs_review = 1"
            ),
            "extraction_failures": one("SELECT COUNT(*) FROM extraction_failures"),
        }


FILTER_COLUMNS = {"case_number": "d.case_number", "letter_format": "d.letter_format", "section": "c.section",
                  "doc_id": "c.doc_id"}
"""Where each search filter is, over chunks `c` joined to their documents `d`."""


def _chunk_filter(filters: SearchFilters) -> tuple[str, tuple[str, ...]]:
    """' AND column = ?' for each filter that is set, and their values."""
    wanted = [(FILTER_COLUMNS[name], value) for name, value in filters.model_dump().items() if value is not None]
    return "".join(f" AND {column} = ?" for column, _ in wanted), tuple(value for _, value in wanted)


def _answered_by_llm(db: sqlite3.Connection, doc_id: str, backend: str) -> None:
    """An LLM outcome for a letter (from a batch results file or a live call) answers its Batch API
    request, in the same transaction; a rules record does not."""
    if backend != "rules":
        db.execute("DELETE FROM batch_requests WHERE doc_id = ?", (doc_id,))


def _write_review(db: sqlite3.Connection, doc_id: str, decision: Decision) -> None:
    """Fill the review columns of a stored decision and its items from its record."""
    db.execute(
        "UPDATE decisions SET needs_review = ?, review_reasons = ? WHERE doc_id = ?",
        (int(decision.needs_review), review_reasons(decision.review_flags), doc_id),
    )
    db.executemany(
        "UPDATE items SET needs_review = ?, review_reasons = ? WHERE doc_id = ? AND item_index = ?",
        [
            (int(bool(decision.item_flags(n))), review_reasons(decision.item_flags(n)), doc_id, n)
            for n in range(len(decision.items))
        ],
    )


def like_literal(text: str) -> str:
    """`text` matched literally by LIKE ... ESCAPE '\\': its % and _ are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _bump_generation(db: sqlite3.Connection) -> None:
    db.execute(BUMP_META, ("generation",))


def _delete_document(db: sqlite3.Connection, doc_id: str) -> None:
    case = db.execute("SELECT case_number FROM decisions WHERE doc_id = ?", (doc_id,)).fetchone()
    db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
    if case:
        _settle_versions(db, case["case_number"])
    db.execute("INSERT OR REPLACE INTO dense_deletes VALUES (?, ?)", (doc_id, time.time()))
    _bump_generation(db)


def substance_of(decision: Decision) -> str:
    """What a letter decided, apart from how it was written down: its dates and each item's
    service and outcome. Two letters of one case with the same substance are one decision read
    from two files (a re-save, a .txt copy of the PDF); with different substance, a conflict."""
    items = sorted((" ".join(i.service.lower().split()), i.determination.value) for i in decision.items)
    dates = [decision.decision_date, decision.date_of_injury, decision.ur_denial_date, decision.date_assigned,
             decision.application_received]
    return hashlib.sha256(dumps([dates, items]).encode()).hexdigest()[:16]


def _settle_versions(db: sqlite3.Connection, case_number: str | None) -> None:
    """One case number, one current decision; the other letters of the case are kept as versions
    superseded by it. A later letter never changes what counts by itself: the decision that
    counts is the one a person chose (`review --keep`), else the first stored. Among letters with
    the same substance as that one (the same decision read from other files) the newest ingested
    is current, as for any re-saved file. Letters with another substance are conflicts
    (`case_conflicts`)."""
    if not case_number:
        return
    rows = db.execute(
        "SELECT d.doc_id, d.substance FROM decisions d JOIN documents doc ON doc.doc_id = d.doc_id"
        " WHERE d.case_number = ? ORDER BY doc.ingested_at, d.doc_id",
        (case_number,),
    ).fetchall()
    if not rows:
        return
    chosen = db.execute(
        "SELECT c.doc_id FROM case_choices c JOIN decisions d ON d.doc_id = c.doc_id AND d.case_number = c.case_number"
        " WHERE c.case_number = ?", (case_number,)
    ).fetchone()
    base = next((r for r in rows if chosen and r["doc_id"] == chosen["doc_id"]), rows[0])
    current = [r for r in rows if r["substance"] == base["substance"]][-1]["doc_id"]
    db.execute(
        "UPDATE decisions SET superseded_by = CASE WHEN doc_id = ? THEN NULL ELSE ? END WHERE case_number = ?",
        (current, current, case_number),
    )


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


def dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)
