"""Caches that save recomputation: chunk vectors by text hash, LLM responses, Batch API requests."""

from __future__ import annotations

import time

import numpy as np


class CacheRecords:
    """Vector and LLM caches, batch requests (a mixin of Catalog: needs its connection)."""

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

    def cached_llm(self, key: str) -> str | None:
        row = self.db.execute("SELECT response FROM llm_cache WHERE key = ?", (key,)).fetchone()
        return row["response"] if row else None

    def cache_llm(self, key: str, response: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO llm_cache VALUES (?, ?, ?)", (key, response, time.time()))
