"""Filtered dense search (`Library.search`): a filter that leaves few chunks is scored exactly over
the cached vectors, a broad one is read from Chroma unfiltered and filtered here (dense search
alone completes it with Chroma's own filter; hybrid search keeps the head it found). Every path is
checked against brute force over the same vectors, on the real embedded library of the synthetic
letters."""

from __future__ import annotations

import numpy as np
import pytest

import imr_rag.index.retrieval as library_module
from imr_rag.schema import SearchFilters

QUERIES = ["physical therapy visits exceed the guideline", "opioid urine drug screen", "MRI of the lumbar spine"]


def passes(row, filters: SearchFilters) -> bool:
    have = {"case_number": row.case_number, "letter_format": row.letter_format, "section": row.chunk.section,
            "doc_id": row.chunk.doc_id}
    return all(value is None or have[name] == value for name, value in filters.model_dump().items())


def brute_force(lib, query: str, filters: SearchFilters, k: int) -> list[tuple[str, float]]:
    """Cosine similarity of the query to every embedded chunk passing the filters, best k."""
    rows = [r for doc in lib.catalog.documents() for r in lib.catalog.chunks_for_doc(doc.doc_id) if passes(r, filters)]
    ids, matrix = lib.catalog.embedded_vectors(lib.embedder.name, [r.chunk.chunk_id for r in rows])
    if not ids:
        return []
    vector = lib._query_vector(query)
    scores = matrix @ vector / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(vector))
    order = np.argsort(-scores, kind="stable")[:k]
    return [(ids[i], float(scores[i])) for i in order]


def filters_of(lib) -> list[SearchFilters]:
    doc = lib.catalog.documents()[0]
    chunk = lib.catalog.chunks_for_doc(doc.doc_id)[0]
    return [SearchFilters(case_number=chunk.case_number), SearchFilters(doc_id=doc.doc_id),
            SearchFilters(letter_format=chunk.letter_format), SearchFilters(section=chunk.chunk.section),
            SearchFilters(letter_format=chunk.letter_format, section="no such section")]


def check(lib, k: int = 8) -> None:
    for query in QUERIES:
        for filters in filters_of(lib):
            hits = lib.search(query, k=k, filters=filters, mode="dense")
            expected = brute_force(lib, query, filters, k)
            for hit in hits:
                row = lib.catalog.chunks_by_id([hit.chunk_id])[hit.chunk_id]
                assert passes(row, filters), (query, filters, hit.chunk_id)
            # Identical texts tie, so compare the scores (ids of tied chunks may differ).
            assert [round(h.score, 4) for h in hits] == [round(s, 4) for _, s in expected], (query, filters)


def test_small_filters_are_scored_exactly(synthetic_library) -> None:
    lib, _ = synthetic_library
    assert len(lib.catalog.chunk_ids()) <= library_module.EXACT_DENSE_MAX  # every filter takes the exact path
    check(lib)


def test_broad_filters_fetch_unfiltered_then_filter(synthetic_library, monkeypatch: pytest.MonkeyPatch) -> None:
    lib, _ = synthetic_library
    monkeypatch.setattr(library_module, "EXACT_DENSE_MAX", 0)
    check(lib)


def test_too_few_nearest_passing(synthetic_library, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading fewer neighbours than it takes to find k passing chunks: dense search alone asks
    Chroma's filter for the rest (brute-force equal); hybrid search keeps the nearest passing
    chunks it found, a head of the same ranking, without that slow call."""
    lib, _ = synthetic_library
    monkeypatch.setattr(library_module, "EXACT_DENSE_MAX", 0)
    monkeypatch.setattr(library_module, "DENSE_FETCH_MAX", 9)
    calls = []
    query = lib.dense.query
    monkeypatch.setattr(lib.dense, "query", lambda v, k, f: calls.append(f) or query(v, k, f))
    check(lib)
    assert any(f.model_dump(exclude_none=True) for f in calls)  # some searches fell back to Chroma's filter
    calls.clear()
    for question in QUERIES:
        for filters in filters_of(lib):
            mask = lib.lexical.mask(**filters.model_dump())
            head = lib._dense_ranking(question, 8, filters, mask, complete=False)
            full = brute_force(lib, question, filters, 8)
            assert [round(s, 4) for _, s in head] == [round(s, 4) for _, s in full[: len(head)]]
    assert not any(f.model_dump(exclude_none=True) for f in calls)
