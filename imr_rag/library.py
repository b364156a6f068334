"""The library: one facade over the catalog, the lexical index and the dense store, built from
one Settings object. It ingests letters (the stages are `imr_rag.ingest.pipeline`) and searches
them (the ranking is `imr_rag.index.retrieval`); what needs the catalog and the indexes together,
such as narrowing a search to a case number the catalog knows, is glue kept here.
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
from pathlib import Path

import numpy as np

from imr_rag.catalog import Catalog
from imr_rag.errors import DataDirUnavailable, StoreUnavailable, redact, write_failure
from imr_rag.index import retrieval
from imr_rag.index.lexical import LexicalIndex
from imr_rag.index.retrieval import SEARCH_MODES, Ranking
from imr_rag.ingest.documents import iter_letter_files
from imr_rag.ingest.pipeline import IngestReport, Progress, _no_progress, run_ingest
from imr_rag.ingest.tabular import is_table, stored_rows
from imr_rag.ingest.writelock import OnWait, _no_wait_notice, writer_lock
from imr_rag.schema import ChunkRow, Hit, SearchFilters
from imr_rag.settings import Settings
from imr_rag.textutil import fold_look_alikes, normalize_case_number, strip_invisible

__all__ = ["SEARCH_MODES", "IngestReport", "Library", "Progress", "open_catalog"]

CASE_NUMBER_CANDIDATE = re.compile(r"\b[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+\b")
"""Any hyphenated token (CM16-0232543, 2024-99011, but also follow-up): a candidate looked up in
the catalog, which alone says whether it is a case number. Not a validator: each format plugin
has its own strict case-number pattern."""
EMBED_BATCH = 256
QUERY_VECTOR_CACHE = 256
def open_catalog(data_dir: Path, catalog_path: Path) -> Catalog:
    """The catalog in `data_dir` (created if need be), or DataDirUnavailable saying why not."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=data_dir):  # can we write here? (os.access asks for the real uid)
            pass
        return Catalog(catalog_path)
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise write_failure(data_dir, exc) or DataDirUnavailable(str(data_dir), reason) from exc


class Library:
    """Catalog + lexical index + dense store, built from one Settings object."""

    def __init__(self, settings: Settings, *, on_wait: OnWait = _no_wait_notice):
        """`on_wait(stage, pid)` is told when a write has to wait for another process's."""
        self.settings = settings
        self.on_wait = on_wait
        self.catalog = open_catalog(settings.data_dir, settings.catalog_path)
        self.lexical = LexicalIndex(settings.lexical_path)
        self._embedder = None
        self._dense = None
        self._dense_version: str | None = None
        self._query_vectors: dict[str, np.ndarray] = {}
        self._superseded: tuple[tuple, frozenset[str], int] | None = None
        self.notices: list[str] = []

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def embedder(self):
        if self._embedder is None:
            from imr_rag.index.embeddings import make_embedder

            self._embedder = make_embedder(self.settings)
        return self._embedder

    @property
    def dense(self):
        if self._dense is None:
            from imr_rag.index.store import DenseStore

            self._dense_version = self.catalog.get_meta("dense_version")
            self._dense = DenseStore(self.settings, self.embedder.name)
        return self._dense

    def _dense_changed(self) -> None:
        """Record a change this process made to the dense store (readers elsewhere reopen it)."""
        self._dense_version = self.catalog.bump_meta("dense_version")

    def _follow_dense(self) -> None:
        """Reopen an embedded store another process has written to since it was opened: the
        open client's in-memory index would not see those vectors (a server needs no reopening)."""
        if self._dense is not None and not self.settings.chroma_url:
            if self.catalog.get_meta("dense_version") != self._dense_version:
                self._dense.close()
                self._dense = None

    # -- ingest --------------------------------------------------------------------------
    def ingest(
        self, paths: list[Path], *, embed: bool = True, extract: str | None = None, workers: int = 1,
        progress: Progress = _no_progress,
    ) -> IngestReport:
        """Parse, index lexically and (with `embed`) embed `paths`: `ingest.pipeline.run_ingest`."""
        return run_ingest(self, paths, embed=embed, extract=extract, workers=workers, progress=progress)

    def documents_to_extract(
        self, paths: list[Path], *, progress: Progress = _no_progress
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(path, doc id) to extract, and (path, reason) of unreadable files.

        Given paths are ingested first (parse and lexical stages only) so every decision refers
        to a document in the catalog; with no paths, every ingested document is a target.
        """
        if not paths:
            return [(d.path, d.doc_id) for d in self.catalog.documents()], []
        report = self.ingest(paths, embed=False, progress=progress)
        failed = dict(report.failed)
        targets = []
        for path in iter_letter_files(paths):
            name = str(path)
            if is_table(name):  # each row of a table is a document
                targets.extend(stored_rows(name, self.catalog.has_document))
            elif name not in failed and (doc_id := self.catalog.doc_for_path(name)):
                targets.append((name, doc_id))
        return targets, list(failed.items())

    def ensure_lexical(self, progress: Progress = _no_progress) -> bool:
        """Bring the lexical index up to the catalog if it is missing or behind (what an
        interrupted run left): segments for the documents it lacks, tombstones for those the
        catalog removed; True if it was behind."""
        generation = self.catalog.generation()  # read first: rows added meanwhile only make it look stale
        if self.lexical.generation == generation:
            return False
        indexed = self.lexical.doc_ids()
        current = self.catalog.doc_ids()
        self._append_lexical(sorted(current - indexed), indexed - current, generation)
        self.lexical.merge(lambda done, total: progress("merge", done, total))
        return True

    def rebuild_lexical(self, progress: Progress = _no_progress) -> None:
        """A new lexical index from the catalog, written segment by segment."""
        self.lexical.reset()
        self.ensure_lexical(progress)

    def _append_lexical(self, new: list[str], removed: set[str], generation: int) -> None:
        """Segments for the chunks of `new` documents (at most `lexical_segment_letters` letters
        each, so memory stays flat) and tombstones for `removed` ones; only the last commit
        says the index covers `generation`."""
        size = max(1, self.settings.lexical_segment_letters)
        groups = [new[i : i + size] for i in range(0, len(new), size)] or [[]]
        for n, group in enumerate(groups, 1):
            last = n == len(groups)
            self.lexical.update(self.catalog.iter_index_rows(group), removed if last else set(),
                                generation if last else -1)

    def apply_dense_deletes(self) -> int:
        """Delete from the dense store the vectors of documents the catalog has removed."""
        pending = self.catalog.pending_dense_deletes()
        if pending and self.catalog.get_meta("dense_used") == "1":
            for doc_id in pending:
                self.dense.delete_document(doc_id)
            self._dense_changed()
        self.catalog.clear_dense_deletes(pending)
        return len(pending)

    def writing(self, stage: str):
        """The writer lock of `stage` ('catalog' or 'embed') for this data folder."""
        return writer_lock(self.settings.data_dir, stage, self.on_wait)

    def embed_pending(self, progress: Progress = _no_progress) -> tuple[int, int]:
        """Embed chunks not yet in the dense store; returns (chunks stored, vectors computed)."""
        with self.writing("embed"):
            return self._embed_pending(progress)

    def _embed_pending(self, progress: Progress) -> tuple[int, int]:
        self.apply_dense_deletes()
        total = self.catalog.count_pending()
        done = computed = 0
        if total:
            self.catalog.set_meta("dense_used", "1")
        progress("embed", 0, total)
        skip = self._boilerplate() if total else None
        seen = 0
        while rows := self.catalog.pending_chunks(EMBED_BATCH):
            # What is embedded of each chunk: all of it, or of boilerplate only its specific words
            # (none: the chunk stays out of the dense store; the lexical index has every chunk).
            texts = {r.chunk.chunk_id: r.chunk.text if skip is None else
                     skip.specific_text(r.chunk.text, r.letter_format) for r in rows}
            keep = [r for r in rows if texts[r.chunk.chunk_id] != ""]
            if keep:
                vectors, new = self._vectors_for(keep, [texts[r.chunk.chunk_id] or r.chunk.text for r in keep])
                self.dense.upsert(keep, vectors)
                self._dense_changed()
                self.catalog.mark_embedded([r.chunk.chunk_id for r in keep])
                done += len(keep)
                computed += new
            if len(keep) < len(rows):
                from imr_rag.index.boilerplate import mark_skipped

                kept = {r.chunk.chunk_id for r in keep}
                with self.catalog.transaction() as db:
                    mark_skipped(db, [r.chunk.chunk_id for r in rows if r.chunk.chunk_id not in kept])
            seen += len(rows)
            progress("embed", seen, total)
        return done, computed

    def _boilerplate(self):
        """The near-duplicate filter learned from a sample of the catalog's letters, or None when
        every chunk is embedded whole (`embed_skip_boilerplate` off)."""
        if not self.settings.embed_skip_boilerplate:
            return None
        from imr_rag.index.boilerplate import BoilerplateFilter, sample_letters

        return BoilerplateFilter.learn(sample_letters(self.catalog.db), self.settings.boilerplate_containment)

    def _vectors_for(self, rows: list[ChunkRow], texts: list[str] | None = None) -> tuple[np.ndarray, int]:
        """Vectors for rows, computing only texts never embedded before by this model; `texts`
        (default: the chunks' own) is what to embed of each. The vector is cached under the chunk
        text's hash either way: the vector this library uses for that text."""
        model = self.embedder.name
        cached = self.catalog.cached_vectors(model, [r.text_hash for r in rows])
        missing: dict[str, str] = {}
        for r, text in zip(rows, texts or [r.chunk.text for r in rows]):
            if r.text_hash not in cached:
                missing.setdefault(r.text_hash, text)
        if missing:
            fresh = self.embedder.embed(list(missing.values()))
            new = dict(zip(missing.keys(), fresh))
            self.catalog.cache_vectors(model, new)
            cached.update(new)
        return np.stack([cached[r.text_hash] for r in rows]), len(missing)

    # -- search --------------------------------------------------------------------------
    def search(
        self, query: str, k: int = 5, filters: SearchFilters | None = None, mode: str = "hybrid",
        *, superseded: bool = False,
    ) -> list[Hit]:
        """Top-k passages for a query: dense and BM25 results fused by reciprocal rank.

        A case number in the query that the catalog knows narrows the search to that letter.
        The old versions of table rows that a later export revised (`Catalog.superseded_rows`)
        are left out, as the publisher's corrected-away text, unless `superseded` is set or the
        filters name the document.
        """
        if mode not in SEARCH_MODES:
            raise ValueError(f"search mode must be one of {SEARCH_MODES}, not {mode!r}")
        filters = self._with_case_from_query(query, filters or SearchFilters())
        self._follow_lexical()
        self._follow_dense()
        depth = max(k * 4, 20)
        hidden, hidden_chunks = (frozenset(), 0) if superseded or filters.doc_id else self._superseded_rows()
        ranked: list[list[tuple[str, float]]] = []
        # One case or one letter: its chunks come from the catalog's indexes and are scored directly
        # (BM25 with the whole index's statistics, cosine over cached vectors); no pass over every
        # chunk's metadata. Broader filters use the lexical index's mask.
        few = self.catalog.chunks_matching(filters) if filters.case_number or filters.doc_id else None
        if few is not None and hidden:
            few = [r for r in few if r.chunk.doc_id not in hidden]
        mask = self.lexical.mask(**filters.model_dump()) if few is None else None
        if mode in ("hybrid", "dense") and self.catalog.get_meta("dense_used") == "1":
            try:
                ranked.append(
                    retrieval.ranking_without(  # old row versions dropped after ranking
                        lambda n: self._dense_ranking(query, n, filters, mask, complete=mode == "dense"),
                        depth, hidden, hidden_chunks,
                    ) if few is None
                    else self._exact_dense(self._query_vector(query), [r.chunk.chunk_id for r in few], depth)
                )
            except StoreUnavailable as exc:
                self._notice(f"the dense store is unavailable ({exc}); searched the lexical index only")
                mode = "lexical"
        if mode in ("hybrid", "lexical"):
            ranked.append(self.lexical.search(query, depth, self.lexical.excluding(mask, hidden)) if few is None else
                          self.lexical.score_texts(query, [(r.chunk.chunk_id, r.chunk.text) for r in few], depth))
        best = retrieval.best(ranked, mode, self.settings.rrf_k, k)
        rows = self.catalog.chunks_by_id([cid for cid, _ in best])
        return [retrieval.to_hit(rows[cid], score) for cid, score in best if cid in rows]

    def _superseded_rows(self) -> tuple[frozenset[str], int]:
        """The superseded table rows (doc ids) and how many chunks they have, computed again only
        when the catalog's documents or a person's choice of version changed."""
        key = self.catalog.versions_key()
        if self._superseded is None or self._superseded[0] != key:
            hidden = self.catalog.superseded_rows()
            self._superseded = (key, hidden, self.catalog.chunk_count(hidden) if hidden else 0)
        return self._superseded[1], self._superseded[2]

    def _dense_ranking(
        self, query: str, depth: int, filters: SearchFilters, mask: np.ndarray | None, *, complete: bool
    ) -> Ranking:
        """The `depth` nearest chunks passing the filters (`retrieval.dense_ranking`), with the
        catalog's vector cache and filters passed in."""
        vector = self._query_vector(query)
        return retrieval.dense_ranking(
            vector, depth, filters, mask, complete=complete, dense=self.dense, lexical=self.lexical,
            exact=lambda ids: self._exact_dense(vector, ids, depth), passing=self.catalog.chunks_passing,
        )

    def _exact_dense(self, vector: np.ndarray, chunk_ids: list[str], depth: int) -> Ranking:
        """Cosine similarity of the query to each embedded chunk of `chunk_ids`, best `depth`."""
        ids, matrix = self.catalog.embedded_vectors(self.embedder.name, chunk_ids)
        return retrieval.exact_dense(vector, ids, matrix, depth)

    def _notice(self, text: str) -> None:
        text = redact(text, self.settings.secrets())
        if text not in self.notices:
            self.notices.append(text)

    def take_notices(self) -> list[str]:
        """Warnings about degraded service since the last call (e.g. the dense store is down)."""
        taken, self.notices = self.notices, []
        return taken

    def _follow_lexical(self) -> None:
        """Pick up a lexical index that another process (an ingest) has changed since it was loaded."""
        if self.lexical.loaded and self.lexical.generation != self.lexical.loaded_generation:
            self.lexical = LexicalIndex(self.settings.lexical_path)

    def _query_vector(self, query: str) -> np.ndarray:
        """The query's embedding; one answer searches the same question several ways."""
        vector = self._query_vectors.get(query)
        if vector is None:
            if len(self._query_vectors) >= QUERY_VECTOR_CACHE:
                self._query_vectors.pop(next(iter(self._query_vectors)))
            vector = self._query_vectors[query] = self.embedder.embed([query])[0]
        return vector

    def _with_case_from_query(self, query: str, filters: SearchFilters) -> SearchFilters:
        if filters.case_number:
            return filters.model_copy(update={"case_number": normalize_case_number(filters.case_number)})
        if filters.doc_id:
            return filters
        number = self.known_case_number(query)
        return filters.model_copy(update={"case_number": number}) if number else filters

    def known_case_number(self, text: str) -> str | None:
        """The first case number in `text` that an ingested letter has, however it was typed
        (look-alike characters, other dashes, invisible characters, any case)."""
        for match in CASE_NUMBER_CANDIDATE.finditer(fold_look_alikes(strip_invisible(text))):
            row = self.catalog.db.execute(
                "SELECT case_number FROM documents WHERE case_number = ? COLLATE NOCASE LIMIT 1", (normalize_case_number(match.group(0)),)
            ).fetchone()
            if row:
                return row["case_number"]
        return None

    def stats(self) -> dict:
        stats = self.catalog.stats()
        stats["data_dir"] = str(self.settings.data_dir)
        stats["dense_store"] = self.settings.chroma_url or str(self.settings.chroma_path)
        return stats
