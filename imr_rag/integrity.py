"""`imr-rag check`: do the catalog, the lexical index and the dense store agree, and repair them.

The catalog is the source of truth; the two indexes are derived from it. A drift is anything in
an index that the catalog does not have, or the other way round, plus catalog rows that nothing
should hold any more (documents without a path). Each drift says what it is, how many, and a
few examples; `repair` brings the indexes back to the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imr_rag.library import Library, Progress, _no_progress

EXAMPLES = 5


@dataclass(frozen=True)
class Drift:
    """One kind of disagreement between the catalog and an index."""

    kind: str
    count: int
    detail: str
    examples: tuple[str, ...] = ()

    def line(self) -> str:
        shown = f" (e.g. {', '.join(self.examples)})" if self.examples else ""
        return f"{self.kind}: {self.count} — {self.detail}{shown}"


@dataclass
class CheckReport:
    """What `check` found; empty `drifts` means everything agrees."""

    documents: int = 0
    chunks: int = 0
    lexical_chunks: int = 0
    dense_chunks: int | None = None
    drifts: list[Drift] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "documents": self.documents, "chunks": self.chunks, "lexical_chunks": self.lexical_chunks,
            "dense_chunks": self.dense_chunks, "notes": self.notes,
            "drifts": [{"kind": d.kind, "count": d.count, "detail": d.detail, "examples": list(d.examples)}
                       for d in self.drifts],
        }


def _drift(report: CheckReport, kind: str, items: list[str] | set[str], detail: str) -> None:
    if items:
        report.drifts.append(Drift(kind, len(items), detail, tuple(sorted(items)[:EXAMPLES])))


def check_library(lib: Library) -> CheckReport:
    """Compare catalog, lexical index and dense store (counts, ids, orphans, stale entries)."""
    catalog = lib.catalog
    report = CheckReport(documents=catalog.stats()["documents"])
    chunk_ids = catalog.chunk_ids()
    report.chunks = len(chunk_ids)
    _drift(report, "orphan_documents", catalog.orphan_documents(),
           "documents no file path refers to (an older version of a replaced file)")
    lexical = set(lib.lexical.chunk_ids())
    report.lexical_chunks = len(lexical)
    if lib.lexical.generation != catalog.generation():
        report.drifts.append(Drift(
            "lexical_stale", 1,
            f"lexical index built from catalog generation {lib.lexical.generation}, catalog is at {catalog.generation()}",
        ))
    _drift(report, "lexical_missing", chunk_ids - lexical, "chunks the lexical index cannot find")
    _drift(report, "lexical_extra", lexical - chunk_ids, "lexical entries for chunks no longer in the catalog")
    _drift(report, "dense_deletes_pending", catalog.pending_dense_deletes(),
           "removed documents whose vectors are still to be deleted from the dense store")
    if catalog.get_meta("dense_used") == "1":
        dense = lib.dense.ids()
        report.dense_chunks = len(dense)
        _drift(report, "dense_missing", catalog.chunk_ids(embedded=True) - dense,
               "chunks marked embedded that the dense store does not have")
        _drift(report, "dense_extra", dense - chunk_ids, "vectors of chunks no longer in the catalog")
        pending = catalog.count_pending()
        if pending:
            report.notes.append(f"{pending} chunks wait for embedding (`imr-rag embed`)")
    for case_number, n in sorted(catalog.duplicate_case_numbers().items()):
        report.notes.append(f"case {case_number} is held by {n} different documents")
    return report


def repair_library(lib: Library, report: CheckReport, progress: Progress = _no_progress) -> list[str]:
    """Fix every drift in `report`; returns what was done, one line each."""
    done: list[str] = []
    kinds = {d.kind for d in report.drifts}
    catalog = lib.catalog
    if "orphan_documents" in kinds:
        orphans = catalog.orphan_documents()
        for doc_id in orphans:
            catalog.delete_document(doc_id)
        done.append(f"removed {len(orphans)} orphan documents")
    if kinds & {"dense_deletes_pending", "orphan_documents"}:
        done.append(f"deleted the vectors of {lib.apply_dense_deletes()} removed documents")
    if "dense_extra" in kinds:
        extra = sorted(lib.dense.ids() - catalog.chunk_ids())
        lib.dense.delete_ids(extra)
        done.append(f"deleted {len(extra)} stale vectors")
    if "dense_missing" in kinds:
        missing = sorted(catalog.chunk_ids(embedded=True) - lib.dense.ids())
        catalog.mark_unembedded(missing)
        stored, _ = lib.embed_pending(progress)
        done.append(f"re-embedded {stored} chunks")
    if kinds & {"lexical_stale", "lexical_missing", "lexical_extra", "orphan_documents"}:
        lib.rebuild_lexical()
        done.append("rebuilt the lexical index")
    return done
