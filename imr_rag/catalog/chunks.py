"""Chunks: the rows the lexical index and the dense store are built from, pending embeds, filters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


from imr_rag.schema import Chunk, ChunkRow, SearchFilters


class ChunkRecords:
    """Chunks (a mixin of Catalog: needs its connection)."""

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

    def chunk_count(self, doc_ids: Iterable[str]) -> int:
        """How many chunks the documents `doc_ids` have."""
        ids, total = list(doc_ids), 0
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            total += self.db.execute(
                f"SELECT COUNT(*) FROM chunks WHERE doc_id IN ({','.join('?' * len(part))})", part).fetchone()[0]
        return total

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


FILTER_COLUMNS = {"case_number": "d.case_number", "letter_format": "d.letter_format", "section": "c.section",
                  "doc_id": "c.doc_id"}
"""Where each search filter is, over chunks `c` joined to their documents `d`."""


def _chunk_filter(filters: SearchFilters) -> tuple[str, tuple[str, ...]]:
    """' AND column = ?' for each filter that is set, and their values."""
    wanted = [(FILTER_COLUMNS[name], value) for name, value in filters.model_dump().items() if value is not None]
    return "".join(f" AND {column} = ?" for column, _ in wanted), tuple(value for _, value in wanted)
