"""Counts for `imr-rag stats` and the app's overview."""

from __future__ import annotations


class CatalogStats:
    """A mixin of Catalog: needs its connection."""

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
            "table_rows": one("SELECT COUNT(*) FROM documents WHERE row_of IS NOT NULL"),
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
