"""The dense vector store: the only module that imports chromadb.

Embedded `PersistentClient` under the data directory by default, or a Chroma server when
`chroma_url` is set. Vectors are computed by our own embedder and passed in, so Chroma never
tries to download a model.
"""

from __future__ import annotations

from urllib.parse import urlparse

import numpy as np

from imr_rag.errors import StoreUnavailable, redact
from imr_rag.schema import ChunkRow, SearchFilters
from imr_rag.settings import Settings


PAGE = 5000  # ids per request when listing or deleting many


def chroma_where(filters: SearchFilters) -> dict | None:
    """Chroma `where` clause for the metadata filters that are set."""
    clauses = [{k: v} for k, v in filters.model_dump().items() if v is not None]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def chunk_metadata(row: ChunkRow) -> dict:
    """Chroma metadata for a chunk (Chroma refuses None values, so absent ones are omitted)."""
    meta = {
        "doc_id": row.chunk.doc_id,
        "letter_format": row.letter_format,
        "section": row.chunk.section,
        "start": row.chunk.start,
        "end": row.chunk.end,
        "source": row.source,
    }
    if row.case_number:
        meta["case_number"] = row.case_number
    if row.chunk.item_index is not None:
        meta["item_index"] = row.chunk.item_index
    return meta


class DenseStore:
    """A Chroma collection of chunk vectors, keyed by chunk id."""

    def __init__(self, settings: Settings, embedder_name: str):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        try:
            if settings.chroma_url:
                url = urlparse(settings.chroma_url)
                self.client = chromadb.HttpClient(
                    host=url.hostname or "127.0.0.1",
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                )
                self.location = redact(settings.chroma_url)
            else:
                settings.chroma_path.mkdir(parents=True, exist_ok=True)
                self.client = chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
                self.location = str(settings.chroma_path)
            self.collection = self.client.get_or_create_collection(
                settings.collection,
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "embedder": embedder_name},
            )
        except Exception as exc:  # chromadb raises many types; all mean "cannot use the store"
            where = settings.chroma_url or settings.chroma_path
            raise StoreUnavailable(redact(f"Chroma store at {where}: {exc}", settings.secrets())) from exc
        stored = (self.collection.metadata or {}).get("embedder")
        if stored and stored != embedder_name:
            raise StoreUnavailable(
                f"collection '{settings.collection}' holds vectors of '{stored}', not '{embedder_name}';"
                " use another collection or data directory"
            )

    def close(self) -> None:
        """Release the client (an embedded store is re-read from disk by the next one opened)."""
        self.client.close()

    def _call(self, method: str, **kwargs):
        """collection.<method>(**kwargs), with any failure (a server gone mid-run: httpx errors,
        chromadb errors) turned into StoreUnavailable naming the store."""
        try:
            return getattr(self.collection, method)(**kwargs)
        except Exception as exc:  # chromadb and its HTTP client raise many types; all mean "store failed"
            raise StoreUnavailable(f"Chroma store at {self.location}: {method} failed: {exc}") from exc

    def upsert(self, rows: list[ChunkRow], vectors: np.ndarray) -> None:
        if not rows:
            return
        self._call(
            "upsert",
            ids=[r.chunk.chunk_id for r in rows],
            embeddings=vectors.astype(np.float32),
            metadatas=[chunk_metadata(r) for r in rows],
        )

    def delete_document(self, doc_id: str) -> None:
        self._call("delete", where={"doc_id": doc_id})

    def delete_ids(self, chunk_ids: list[str]) -> None:
        for i in range(0, len(chunk_ids), PAGE):
            self._call("delete", ids=chunk_ids[i : i + PAGE])

    def ids(self) -> set[str]:
        """Every chunk id in the collection (read in pages)."""
        found: set[str] = set()
        offset = 0
        while page := self._call("get", include=[], limit=PAGE, offset=offset)["ids"]:
            found.update(page)
            offset += len(page)
        return found

    def count(self) -> int:
        return self._call("count")

    def version(self) -> str:
        """Chroma's version: the server's own when the store is a server, else the library's."""
        try:
            return self.client.get_version()
        except Exception as exc:  # as in _call: any failure means the store cannot answer
            raise StoreUnavailable(f"Chroma store at {self.location}: version failed: {exc}") from exc

    def query(self, vector: np.ndarray, k: int, filters: SearchFilters) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the k nearest chunks that pass the filters."""
        result = self._call(
            "query",
            query_embeddings=vector.reshape(1, -1).astype(np.float32),
            n_results=k,
            where=chroma_where(filters),
            include=["distances"],
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0])]
