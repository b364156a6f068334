"""Retrieval: dense ranking (exact over cached vectors, or the store's nearest neighbours) and
reciprocal rank fusion with the BM25 ranking. Free of the catalog: the facade passes its rows,
vectors and filters in as values and callables."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from imr_rag.index.lexical import LexicalIndex
from imr_rag.schema import ChunkRow, Hit, SearchFilters

if TYPE_CHECKING:  # the store imports chromadb: only when a search needs it
    from imr_rag.index.store import DenseStore

SEARCH_MODES = ("hybrid", "dense", "lexical")
EXACT_DENSE_MAX = 4096
"""A filter that leaves at most this many chunks is searched exactly, over their cached vectors
(Chroma's filtered search took 80 ms for one case among 112,000 chunks, growing with the store)."""
DENSE_FETCH_MAX = 2000
"""A broader filter: this many nearest chunks at most are read unfiltered, then filtered."""

Ranking = list[tuple[str, float]]
"""(chunk id, score), best first."""


def dense_ranking(
    vector: np.ndarray, depth: int, filters: SearchFilters, mask: np.ndarray | None, *, complete: bool,
    dense: DenseStore, lexical: LexicalIndex, exact: Callable[[list[str]], Ranking],
    passing: Callable[[list[str], SearchFilters], set[str]],
) -> Ranking:
    """(chunk id, cosine similarity) of the `depth` nearest chunks passing the filters.

    Unfiltered: Chroma's index. Filtered (by format or section; `search` scores one case or
    letter itself), the lexical index's mask (the same chunks, by the same metadata) says how
    many chunks pass: a few are scored exactly from the vector cache (`exact`); more are read
    from Chroma's nearest neighbours unfiltered, keeping those that pass (`passing`). When fewer
    than `depth` of them pass, they are still the nearest passing chunks (none nearer was left
    out), the head of the answer: enough for hybrid search, whose BM25 side covers every passing
    chunk; with `complete` (dense search alone) Chroma's own filter, slow on a large store, gives
    the rest."""
    if mask is None:  # no filter (or no lexical index to count with)
        return dense.query(vector, depth, filters)
    allowed = int(np.count_nonzero(mask))
    if allowed == 0:
        return []
    if allowed <= EXACT_DENSE_MAX:
        return exact(lexical.ids_where(mask))
    fetch = min(DENSE_FETCH_MAX, 4 * depth + 3 * int(depth * len(mask) / allowed))
    nearest = dense.query(vector, fetch, SearchFilters())
    kept_ids = passing([cid for cid, _ in nearest], filters)
    kept = [(cid, score) for cid, score in nearest if cid in kept_ids]
    if len(kept) >= depth or len(nearest) < fetch or not complete:
        return kept[:depth]
    return dense.query(vector, depth, filters)


def doc_of(chunk_id: str) -> str:
    """The document of a chunk id ("<doc id>:<ordinal>", as chunking names them)."""
    return chunk_id.rpartition(":")[0]


def without_docs(ranking: Ranking, doc_ids: frozenset[str]) -> Ranking:
    """`ranking` without the chunks of `doc_ids`, order kept."""
    return [(cid, score) for cid, score in ranking if doc_of(cid) not in doc_ids] if doc_ids else ranking


def ranking_without(rank: Callable[[int], Ranking], depth: int, hidden: frozenset[str], hidden_chunks: int) -> Ranking:
    """The `depth` best of a ranking (`rank(n)` gives its n best) that are not chunks of `hidden`
    documents, which have `hidden_chunks` chunks in all. A few more are asked for; when hidden
    chunks took more places than that, as many more as there are hidden chunks (up to the fetch
    cap), so that the result is still the best `depth` of the rest."""
    kept = without_docs(rank(depth + min(hidden_chunks, depth)), hidden)
    if len(kept) < depth and hidden_chunks > depth:
        kept = without_docs(rank(depth + min(hidden_chunks, DENSE_FETCH_MAX)), hidden)
    return kept[:depth]


def exact_dense(vector: np.ndarray, ids: list[str], matrix: np.ndarray, depth: int) -> Ranking:
    """Cosine similarity of the query to each row of `matrix` (the vectors of `ids`), best `depth`."""
    if not ids:
        return []
    scores = matrix @ vector / np.maximum(np.linalg.norm(matrix, axis=1) * np.linalg.norm(vector), 1e-12)
    order = np.argsort(-scores, kind="stable")[:depth]
    return [(ids[i], float(scores[i])) for i in order]


def fuse(rankings: list[Ranking], rrf_k: int) -> dict[str, float]:
    """Reciprocal rank fusion: each list adds 1 / (rrf_k + rank) to the ids it ranks."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, (chunk_id, _) in enumerate(ranking, 1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (rrf_k + rank)
    return scores


def best(rankings: list[Ranking], mode: str, rrf_k: int, k: int) -> Ranking:
    """The top `k` ids: the rankings fused by reciprocal rank in hybrid mode, else the one ranking."""
    scores = fuse(rankings, rrf_k) if mode == "hybrid" else dict(rankings[0] if rankings else [])
    return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:k]


def to_hit(row: ChunkRow, score: float) -> Hit:
    c = row.chunk
    return Hit(
        chunk_id=c.chunk_id, doc_id=c.doc_id, case_number=row.case_number, letter_format=row.letter_format,
        source=row.source, section=c.section, item_index=c.item_index, start=c.start, end=c.end,
        text=c.text, score=score,
    )
