"""The library: ingest letters into the catalog and indexes, and search them.

Ingest is a pipeline in stages so that a year of letters stays practical:
1. parse: read, normalise, chunk and store each letter in the catalog (streaming, one file at a
   time, so memory stays flat); a letter is committed as soon as it is parsed;
2. lexical: rebuild the BM25 index from the catalog, so parsed letters are searchable at once;
3. embed: embed the chunks not yet in the dense store, in batches, each identical chunk text once
   (the boilerplate paragraphs every letter repeats). Resumable: `embed_pending` picks up where an
   interrupted run stopped, and `imr-rag embed` runs only this stage.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imr_rag.catalog import Catalog
from imr_rag.ingest.chunking import chunk_sections
from imr_rag.ingest.documents import Document, ReadLimits, doc_id_for, iter_letter_files, read_document
from imr_rag.errors import DataDirUnavailable, StoreUnavailable, UnreadableDocument, redact, write_failure
from imr_rag.extract.service import Extraction, extract_rules, store_extraction
from imr_rag.formats import case_number_of, split_sections
from imr_rag.index.lexical import LexicalIndex
from imr_rag.ingest.pdf_worker import PdfBounds
from imr_rag.schema import Chunk, ChunkRow, Hit, SearchFilters
from imr_rag.settings import Settings
from imr_rag.textutil import fold_look_alikes, normalize_case_number, strip_invisible
from imr_rag.ingest.writelock import OnWait, _no_wait_notice, writer_lock

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as work advances."""

# Anything shaped like a case number (CM16-0232543, 2024-99011); only ones the catalog knows count.
CASE_NUMBER_LIKE = re.compile(r"\b[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+\b")
EMBED_BATCH = 256
SEARCH_MODES = ("hybrid", "dense", "lexical")
QUERY_VECTOR_CACHE = 256
EXACT_DENSE_MAX = 4096
"""A filter that leaves at most this many chunks is searched exactly, over their cached vectors
(Chroma's filtered search took 80 ms for one case among 112,000 chunks, growing with the store)."""
DENSE_FETCH_MAX = 2000
"""A broader filter: this many nearest chunks at most are read unfiltered, then filtered."""
COMMIT_LETTERS = 100
"""Letters per catalog commit (a kill loses at most these; the re-run redoes them)."""
COMMIT_SECONDS = 2.0
"""...or fewer, when they took longer than this to prepare."""
WORKER_TASK = 16
"""Files per task sent to a worker process."""


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass
class IngestReport:
    """What an ingest run did, file by file."""

    ingested: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks_added: int = 0
    extracted: int = 0
    chunks_embedded: int = 0
    vectors_computed: int = 0
    embed_error: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "ingested": self.ingested,
            "replaced": self.replaced,
            "unchanged": self.unchanged,
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
            "chunks_added": self.chunks_added,
            "extracted": self.extracted,
            "chunks_embedded": self.chunks_embedded,
            "vectors_computed": self.vectors_computed,
            "embed_error": self.embed_error,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


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
        """Run the stages over `paths`. Each stage finishes what an interrupted earlier run left:
        the lexical index catches up whenever it is behind the catalog, vectors of removed
        documents are deleted from the dense store, and pending chunks are embedded.

        Letters are committed in batches (`progress("parse", n, total)` is called once letter n
        is committed); the lexical index gets a segment every `lexical_segment_letters` letters.
        `extract="rules"` also extracts each new letter's decision from the text already in
        memory, stored in the letter's batch. `workers` > 1 reads, chunks and extracts in that
        many processes; this process alone writes the catalog and the index.
        """
        if extract not in (None, "rules"):
            raise ValueError("ingest extracts with the rules backend only (extract the rest with `imr-rag extract`)")
        report = IngestReport()
        files = iter_letter_files(paths, report.failed)
        with self.writing("catalog"):
            started = time.perf_counter()
            self.ensure_lexical(progress)  # an interrupted run may have left it behind
            lexical_s = time.perf_counter() - started
            feed = _LexicalFeed(self, self.settings.lexical_segment_letters)
            started = time.perf_counter()
            try:
                for n, prepared in enumerate(self._prepared(files, extract, workers), 1):
                    if prepared.failed is None:
                        self._store(prepared, report, feed)
                    else:
                        self.catalog.begin_batch()
                        self.catalog.record_failure(prepared.path, prepared.failed)
                        report.failed.append((prepared.path, prepared.failed))
                    if n % COMMIT_LETTERS == 0 or feed.due() or time.monotonic() > feed.commit_by:
                        self._commit_batch(feed, n, len(files), progress)
            except BaseException:
                self.catalog.rollback_batch()
                raise
            self._commit_batch(feed, len(files), len(files), progress)
            parse_s = time.perf_counter() - started - feed.seconds
            if workers <= 1 and extract:  # extraction ran in this process: its own stage
                parse_s -= report.seconds.setdefault("extract", 0.0)
            else:
                report.seconds.pop("extract", None)  # worker time, inside the parse stage's wall time
            report.seconds["parse"] = parse_s
            started = time.perf_counter()
            feed.flush()
            self.lexical.merge(lambda done, total: progress("merge", done, total))
            self.ensure_lexical(progress)
            report.seconds["lexical"] = lexical_s + feed.seconds + time.perf_counter() - started
        progress("lexical", 1, 1)
        if embed:
            started = time.perf_counter()
            try:
                report.chunks_embedded, report.vectors_computed = self.embed_pending(progress)
            except StoreUnavailable as exc:  # parsed letters stay searchable lexically
                report.embed_error = f"{exc}; the letters are searchable lexically, run `imr-rag embed` when the store is back"
            report.seconds["embed"] = time.perf_counter() - started
        return report

    def _commit_batch(self, feed: _LexicalFeed, done: int, total: int, progress: Progress) -> None:
        """Commit the letters stored since the last commit, tell progress about each, and append
        a lexical segment when enough letters are waiting for one."""
        self.catalog.commit_batch()
        for n in range(feed.reported + 1, done + 1):
            progress("parse", n, total)
        feed.reported = max(feed.reported, done)
        feed.commit_by = time.monotonic() + COMMIT_SECONDS
        if feed.due():
            feed.flush()

    def _prepared(self, files: list[Path], extract: str | None, workers: int) -> Iterator[Prepared]:
        """Each file read, chunked (and extracted), in order; in worker processes when asked."""
        options = PrepareOptions(
            limits=ReadLimits(
                max_bytes=int(self.settings.max_file_mb * 2**20), max_chars=self.settings.max_text_chars,
                max_pages=self.settings.max_pages,
                pdf=PdfBounds(self.settings.pdf_memory_mb, self.settings.pdf_timeout_s),
            ),
            chunk_size=self.settings.chunk_size, chunk_overlap=self.settings.chunk_overlap,
            max_chunks=self.settings.max_chunks_per_document, extract=extract,
        )
        known = self.catalog.doc_for_path
        if workers <= 1:
            for path in files:
                yield prepare_letter(path, known(str(path)), options)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        tasks = [files[i : i + WORKER_TASK] for i in range(0, len(files), WORKER_TASK)]
        # fork: the workers run only prepare_letters (never this process's catalog connection), and
        # start without re-importing the caller's main module.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            window: deque = deque()
            for task in tasks:
                window.append(pool.submit(prepare_letters, [(p, known(str(p))) for p in task], options))
                if len(window) >= 3 * workers:  # bounded: memory stays flat whatever the folder
                    yield from window.popleft().result()
            while window:
                yield from window.popleft().result()

    def _store(self, p: Prepared, report: IngestReport, feed: _LexicalFeed) -> None:
        """Write one prepared letter (inside the open batch; its own savepoint)."""
        name = p.path
        if p.doc is None:
            report.unchanged.append(name)
            return
        doc = p.doc
        previous = self.catalog.doc_for_path(name)
        if previous == doc.doc_id:
            report.unchanged.append(name)
            return
        self.catalog.begin_batch()
        if self.catalog.has_document(doc.doc_id):
            # The same bytes under another path: one document, two paths; nothing to index.
            feed.removed(self.catalog.link_path(name, doc.doc_id))
            (report.replaced if previous else report.unchanged).append(name)
            return
        # One savepoint adds the new version and removes the old one: a kill leaves either.
        feed.removed(self.catalog.add_document(
            doc_id=doc.doc_id, file_hash=doc.file_hash, path=name, letter_format=doc.letter_format,
            case_number=p.case_number, pages=doc.pages, text=doc.text, source_text=doc.source_text,
            offsets=doc.offsets, ends=doc.ends, chunks=p.chunks,
        ))
        feed.added(doc.doc_id)
        if p.extraction is not None:
            store_extraction(self.catalog, p.extraction)
            report.extracted += p.extraction.decision is not None
            report.seconds["extract"] = report.seconds.get("extract", 0.0) + p.extraction.seconds
        report.chunks_added += len(p.chunks)
        (report.replaced if previous else report.ingested).append(name)

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
            if name not in failed and (doc_id := self.catalog.doc_for_path(name)):
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
        while rows := self.catalog.pending_chunks(EMBED_BATCH):
            vectors, new = self._vectors_for(rows)
            self.dense.upsert(rows, vectors)
            self._dense_changed()
            self.catalog.mark_embedded([r.chunk.chunk_id for r in rows])
            done += len(rows)
            computed += new
            progress("embed", done, total)
        return done, computed

    def _vectors_for(self, rows: list[ChunkRow]) -> tuple[np.ndarray, int]:
        """Vectors for rows, computing only texts never embedded before by this model."""
        model = self.embedder.name
        cached = self.catalog.cached_vectors(model, [r.text_hash for r in rows])
        missing: dict[str, str] = {}
        for r in rows:
            if r.text_hash not in cached:
                missing.setdefault(r.text_hash, r.chunk.text)
        if missing:
            fresh = self.embedder.embed(list(missing.values()))
            new = dict(zip(missing.keys(), fresh))
            self.catalog.cache_vectors(model, new)
            cached.update(new)
        return np.stack([cached[r.text_hash] for r in rows]), len(missing)

    # -- search --------------------------------------------------------------------------
    def search(
        self, query: str, k: int = 5, filters: SearchFilters | None = None, mode: str = "hybrid"
    ) -> list[Hit]:
        """Top-k passages for a query: dense and BM25 results fused by reciprocal rank.

        A case number in the query that the catalog knows narrows the search to that letter.
        """
        if mode not in SEARCH_MODES:
            raise ValueError(f"search mode must be one of {SEARCH_MODES}, not {mode!r}")
        filters = self._with_case_from_query(query, filters or SearchFilters())
        self._follow_lexical()
        self._follow_dense()
        depth = max(k * 4, 20)
        ranked: list[list[tuple[str, float]]] = []
        # One case or one letter: its chunks come from the catalog's indexes and are scored directly
        # (BM25 with the whole index's statistics, cosine over cached vectors); no pass over every
        # chunk's metadata. Broader filters use the lexical index's mask.
        few = self.catalog.chunks_matching(filters) if filters.case_number or filters.doc_id else None
        mask = self.lexical.mask(**filters.model_dump()) if few is None else None
        if mode in ("hybrid", "dense") and self.catalog.get_meta("dense_used") == "1":
            try:
                ranked.append(
                    self._dense_ranking(query, depth, filters, mask, complete=mode == "dense") if few is None
                    else self._exact_dense(self._query_vector(query), [r.chunk.chunk_id for r in few], depth)
                )
            except StoreUnavailable as exc:
                self._notice(f"the dense store is unavailable ({exc}); searched the lexical index only")
                mode = "lexical"
        if mode in ("hybrid", "lexical"):
            ranked.append(self.lexical.search(query, depth, mask) if few is None else
                          self.lexical.score_texts(query, [(r.chunk.chunk_id, r.chunk.text) for r in few], depth))
        scores = fuse(ranked, self.settings.rrf_k) if mode == "hybrid" else dict(ranked[0] if ranked else [])
        best = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:k]
        rows = self.catalog.chunks_by_id([cid for cid, _ in best])
        return [_hit(rows[cid], score) for cid, score in best if cid in rows]

    def _dense_ranking(
        self, query: str, depth: int, filters: SearchFilters, mask: np.ndarray | None, *, complete: bool
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the `depth` nearest chunks passing the filters.

        Unfiltered: Chroma's index. Filtered (by format or section; `search` scores one case or
        letter itself), the lexical index's mask (the same chunks, by the same metadata) says how
        many chunks pass: a few are scored exactly from the vector cache; more are read from Chroma's nearest neighbours unfiltered, keeping those
        that pass. When fewer than `depth` of them pass, they are still the nearest passing chunks
        (none nearer was left out), the head of the answer: enough for hybrid search, whose BM25
        side covers every passing chunk; with `complete` (dense search alone) Chroma's own
        filter, slow on a large store, gives the rest."""
        vector = self._query_vector(query)
        if mask is None:  # no filter (or no lexical index to count with)
            return self.dense.query(vector, depth, filters)
        allowed = int(np.count_nonzero(mask))
        if allowed == 0:
            return []
        if allowed <= EXACT_DENSE_MAX:
            return self._exact_dense(vector, self.lexical.ids_where(mask), depth)
        fetch = min(DENSE_FETCH_MAX, 4 * depth + 3 * int(depth * len(mask) / allowed))
        nearest = self.dense.query(vector, fetch, SearchFilters())
        passing = self.catalog.chunks_passing([cid for cid, _ in nearest], filters)
        kept = [(cid, score) for cid, score in nearest if cid in passing]
        if len(kept) >= depth or len(nearest) < fetch or not complete:
            return kept[:depth]
        return self.dense.query(vector, depth, filters)

    def _exact_dense(self, vector: np.ndarray, chunk_ids: list[str], depth: int) -> list[tuple[str, float]]:
        """Cosine similarity of the query to each embedded chunk of `chunk_ids`, best `depth`."""
        ids, matrix = self.catalog.embedded_vectors(self.embedder.name, chunk_ids)
        if not ids:
            return []
        scores = matrix @ vector / np.maximum(np.linalg.norm(matrix, axis=1) * np.linalg.norm(vector), 1e-12)
        order = np.argsort(-scores, kind="stable")[:depth]
        return [(ids[i], float(scores[i])) for i in order]

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
        for match in CASE_NUMBER_LIKE.finditer(fold_look_alikes(strip_invisible(text))):
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


@dataclass(frozen=True)
class PrepareOptions:
    limits: ReadLimits
    chunk_size: int
    chunk_overlap: int
    max_chunks: int
    extract: str | None


@dataclass
class Prepared:
    """One file as the catalog writer needs it: the document, its chunks (with text hashes), its
    case number and, when asked, its extraction; or why it failed; or `doc` None if unchanged."""

    path: str
    doc: Document | None = None
    chunks: list[tuple[Chunk, str]] = field(default_factory=list)
    case_number: str | None = None
    extraction: Extraction | None = None
    failed: str | None = None


def prepare_letter(path: Path, previous: str | None, options: PrepareOptions) -> Prepared:
    """Read, normalise, chunk (and extract) one file: the CPU-bound part of ingest, free of the
    catalog so worker processes can run it. `previous` is the document the path held: an
    unchanged file is recognised by its hash before any parsing."""
    name = str(path)
    try:
        if previous is not None and doc_id_for(hashlib.sha256(path.read_bytes()).hexdigest()) == previous:
            return Prepared(name)
        doc = read_document(path, limits=options.limits)
    except OSError as exc:
        return Prepared(name, failed=f"cannot read file: {exc.strerror or exc}")
    except UnreadableDocument as exc:
        return Prepared(name, failed=exc.reason)
    sections = split_sections(doc.text, doc.letter_format)
    chunks = chunk_sections(doc.doc_id, doc.text, sections, size=options.chunk_size, overlap=options.chunk_overlap)
    if len(chunks) > options.max_chunks:
        return Prepared(name, failed=f"{len(chunks):,} chunks, more than the limit of {options.max_chunks:,} "
                        "per document (IMR_MAX_CHUNKS_PER_DOCUMENT)")
    prepared = Prepared(name, doc, [(c, text_hash(c.text)) for c in chunks], case_number_of(doc.text, doc.letter_format))
    if options.extract == "rules":
        prepared.extraction = extract_rules(doc)
    return prepared


def prepare_letters(items: list[tuple[Path, str | None]], options: PrepareOptions) -> list[Prepared]:
    """prepare_letter over a few files (one task of a worker process)."""
    return [prepare_letter(path, previous, options) for path, previous in items]


class _LexicalFeed:
    """Documents committed to the catalog but not yet in a lexical segment."""

    def __init__(self, library: Library, segment_letters: int):
        self.library = library
        self.segment_letters = max(1, segment_letters)
        self.new: list[str] = []
        self.gone: set[str] = set()
        self.reported = 0
        self.seconds = 0.0
        self.commit_by = time.monotonic() + COMMIT_SECONDS

    def added(self, doc_id: str) -> None:
        self.new.append(doc_id)

    def removed(self, doc_id: str | None) -> None:
        if doc_id:
            self.gone.add(doc_id)

    def due(self) -> bool:
        return len(self.new) >= self.segment_letters

    def flush(self) -> None:
        """Append a segment of the committed new documents (call only between batches)."""
        if not self.new and not self.gone:
            return
        started = time.perf_counter()
        lib = self.library
        new, gone = self.new, self.gone - set(self.new)
        self.new, self.gone = [], set()
        lib.lexical.update(lib.catalog.iter_index_rows(new), gone, lib.catalog.generation())
        self.seconds += time.perf_counter() - started


def fuse(rankings: list[list[tuple[str, float]]], rrf_k: int) -> dict[str, float]:
    """Reciprocal rank fusion: each list adds 1 / (rrf_k + rank) to the ids it ranks."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, (chunk_id, _) in enumerate(ranking, 1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (rrf_k + rank)
    return scores


def _hit(row: ChunkRow, score: float) -> Hit:
    c = row.chunk
    return Hit(
        chunk_id=c.chunk_id, doc_id=c.doc_id, case_number=row.case_number, letter_format=row.letter_format,
        source=row.source, section=c.section, item_index=c.item_index, start=c.start, end=c.end,
        text=c.text, score=score,
    )
