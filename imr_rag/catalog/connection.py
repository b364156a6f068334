"""The catalog's SQLite connection: opening (schema and migrations), transactions and batches, meta values."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self


from imr_rag.catalog.tables import BUMP_META, SCHEMA, SchemaMigrations
from imr_rag.errors import refused_writes


class CatalogConnection(SchemaMigrations):
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

    def __enter__(self) -> Self:
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
