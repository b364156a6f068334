"""SQLite catalog: documents, the paths they were read from, chunks, failures, and caches.

The catalog is the source of truth for what has been ingested; the Chroma collection and the
lexical index are derived from it and can be rebuilt from it. One `Catalog` object holds one
connection; its methods are grouped by what they store, one module each:
`connection` (opening, transactions, meta), `tables` (schema and migrations), `documents`,
`chunks`, `decisions` (items, versions, conflicts), `caches` (vectors, LLM responses, batch
requests) and `stats`; `export` writes the decisions table out.
"""

from __future__ import annotations

from imr_rag.catalog.caches import CacheRecords
from imr_rag.catalog.chunks import ChunkRecords
from imr_rag.catalog.connection import CatalogConnection
from imr_rag.catalog.decisions import CaseConflict, DecisionRecords, RowRevision, like_literal, substance_of
from imr_rag.catalog.documents import DocumentRecords, StoredDocument, pack_offsets, unpack_offsets
from imr_rag.catalog.stats import CatalogStats
from imr_rag.schema import ChunkRow

__all__ = ["Catalog", "CaseConflict", "ChunkRow", "RowRevision", "StoredDocument", "like_literal", "pack_offsets",
           "substance_of", "unpack_offsets"]


class Catalog(DocumentRecords, ChunkRecords, DecisionRecords, CacheRecords, CatalogStats, CatalogConnection):
    """A connection to the catalog database. Use as a context manager or call close()."""
