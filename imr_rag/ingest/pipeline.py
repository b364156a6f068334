"""The ingest pipeline, in stages so that a year of letters stays practical:
1. parse: read, normalise, chunk and store each letter in the catalog (streaming, one file at a
   time, so memory stays flat); a letter is committed as soon as it is parsed;
2. lexical: rebuild the BM25 index from the catalog, so parsed letters are searchable at once;
3. embed: embed the chunks not yet in the dense store, in batches, each identical chunk text once
   (the boilerplate paragraphs every letter repeats). Resumable: `embed_pending` picks up where an
   interrupted run stopped, and `imr-rag embed` runs only this stage.

`run_ingest` drives the stages over what it is given (the `Library` facade, described here by
`IngestTarget` so that this module never imports the facade); `prepare_letter` is the part free of
the catalog that worker processes run.
"""

from __future__ import annotations

import gc
import hashlib
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from imr_rag.catalog import Catalog, pack_offsets
from imr_rag.errors import StoreUnavailable, UnreadableDocument
from imr_rag.extract.service import Extraction, extract_rules, store_extraction
from imr_rag.formats import case_number_of, split_sections
from imr_rag.index.lexical import LexicalIndex
from imr_rag.ingest.chunking import chunk_sections
from imr_rag.ingest.documents import Document, ReadLimits, doc_id_for, iter_letter_files, read_document
from imr_rag.ingest.pdf_worker import PdfBounds
from imr_rag.ingest.tabular import RowOutcome, RowUnit, is_table, row_document, table_rows, units_in
from imr_rag.schema import Chunk
from imr_rag.settings import Settings

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as work advances (the parse stage counts letters and table rows)."""

COMMIT_LETTERS = 100
"""Letters per catalog commit (a kill loses at most these; the re-run redoes them)."""
COMMIT_SECONDS = 2.0
"""...or fewer, when they took longer than this to prepare."""
WORKER_TASK = 16
"""Files per task sent to a worker process."""
TABLE_TASK = 64
"""Table rows per task sent to a worker process (a row is a few milliseconds of work)."""


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class IngestTarget(Protocol):
    """What the pipeline writes to: the parts of the `Library` facade it uses."""

    settings: Settings
    catalog: Catalog
    lexical: LexicalIndex

    def writing(self, stage: str) -> AbstractContextManager: ...

    def ensure_lexical(self, progress: Progress = _no_progress) -> bool: ...

    def embed_pending(self, progress: Progress = _no_progress) -> tuple[int, int]: ...


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


def run_ingest(
    lib: IngestTarget, paths: list[Path], *, embed: bool = True, extract: str | None = None,
    workers: int = 1, progress: Progress = _no_progress,
) -> IngestReport:
    """Run the stages over `paths`. Each stage finishes what an interrupted earlier run left:
    the lexical index catches up whenever it is behind the catalog, vectors of removed
    documents are deleted from the dense store, and pending chunks are embedded.

    Letters are committed in batches (`progress("parse", n, total)` is called once letter n
    is committed); the lexical index gets a segment every `lexical_segment_letters` letters.
    `extract="rules"` also extracts each new letter's decision from the text already in
    memory, stored in the letter's batch. `workers` > 1 reads, chunks and extracts in that
    many processes; this process alone writes the catalog and the index.

    A table (a DMHC IMR determinations CSV: `imr_rag.ingest.tabular`) is streamed row by row, each
    row a document in the same batches; a row that cannot be read is a failure named
    "FILE row N", and the others go on.
    """
    if extract not in (None, "rules"):
        raise ValueError("ingest extracts with the rules backend only (extract the rest with `imr-rag extract`)")
    report = IngestReport()
    # As str: a year's 172,000 Path objects took ~70 MB, and again in each forked worker's RSS.
    files = [str(f) for f in iter_letter_files(paths, report.failed)]
    with lib.writing("catalog"):
        started = time.perf_counter()
        lib.ensure_lexical(progress)  # an interrupted run may have left it behind
        lexical_s = time.perf_counter() - started
        feed = LexicalFeed(lib, lib.settings.lexical_segment_letters)
        started = time.perf_counter()
        tables = [f for f in files if is_table(f)]
        total = len(files) - len(tables) + sum(units_in(f) for f in tables)
        for table in tables:  # this run records the table's failures afresh
            lib.catalog.clear_table_failures(table)
        n = 0
        try:
            for n, prepared in enumerate(prepared_letters(lib, files, extract, workers), 1):
                if prepared.failed is not None:
                    lib.catalog.begin_batch()
                    lib.catalog.record_failure(prepared.path, prepared.failed)
                    report.failed.append((prepared.path, prepared.failed))
                elif prepared.row_of is not None:
                    store_row(lib.catalog, prepared, report, feed)
                else:
                    store_letter(lib.catalog, prepared, report, feed)
                if n % COMMIT_LETTERS == 0 or feed.due() or time.monotonic() > feed.commit_by:
                    commit_batch(lib.catalog, feed, n, max(total, n), progress)
        except BaseException:
            lib.catalog.rollback_batch()
            raise
        commit_batch(lib.catalog, feed, n, n, progress)
        parse_s = time.perf_counter() - started - feed.seconds
        if workers <= 1 and extract:  # extraction ran in this process: its own stage
            parse_s -= report.seconds.setdefault("extract", 0.0)
        else:
            report.seconds.pop("extract", None)  # worker time, inside the parse stage's wall time
        report.seconds["parse"] = parse_s
        started = time.perf_counter()
        feed.flush()
        lib.lexical.merge(lambda done, total: progress("merge", done, total))
        lib.ensure_lexical(progress)
        report.seconds["lexical"] = lexical_s + feed.seconds + time.perf_counter() - started
    progress("lexical", 1, 1)
    if embed:
        started = time.perf_counter()
        try:
            report.chunks_embedded, report.vectors_computed = lib.embed_pending(progress)
        except StoreUnavailable as exc:  # parsed letters stay searchable lexically
            report.embed_error = f"{exc}; the letters are searchable lexically, run `imr-rag embed` when the store is back"
        report.seconds["embed"] = time.perf_counter() - started
    return report


def commit_batch(catalog: Catalog, feed: LexicalFeed, done: int, total: int, progress: Progress) -> None:
    """Commit the letters stored since the last commit, tell progress about each, and append
    a lexical segment when enough letters are waiting for one."""
    catalog.commit_batch()
    for n in range(feed.reported + 1, done + 1):
        progress("parse", n, total)
    feed.reported = max(feed.reported, done)
    feed.commit_by = time.monotonic() + COMMIT_SECONDS
    if feed.due():
        feed.flush()


def prepared_letters(
    lib: IngestTarget, files: list[str], extract: str | None, workers: int
) -> Iterator[Prepared]:
    """Each letter read, chunked (and extracted), and each row of each table, in order; in worker
    processes when asked. Units are generated as they are sent, so a table is never all in memory."""
    options = PrepareOptions(
        limits=ReadLimits(
            max_bytes=int(lib.settings.max_file_mb * 2**20), max_chars=lib.settings.max_text_chars,
            max_pages=lib.settings.max_pages,
            pdf=PdfBounds(lib.settings.pdf_memory_mb, lib.settings.pdf_timeout_s),
        ),
        chunk_size=lib.settings.chunk_size, chunk_overlap=lib.settings.chunk_overlap,
        max_chunks=lib.settings.max_chunks_per_document, extract=extract,
    )
    units = work_units(lib.catalog, files)
    if workers <= 1:
        for unit in units:
            yield prepare_unit(unit, options)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: the workers run only prepare_units (never this process's catalog connection), and
    # start without re-importing the caller's main module.
    gc.freeze()  # a worker's garbage collector would otherwise copy every object it inherits
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            window: deque = deque()
            for task in _tasks(units):
                window.append(pool.submit(prepare_units, task, options))
                if len(window) >= 3 * workers:  # bounded: memory stays flat whatever the folder
                    yield from window.popleft().result()
            while window:
                yield from window.popleft().result()
    finally:
        gc.unfreeze()


@dataclass(frozen=True)
class LetterUnit:
    """One letter file to prepare, and the document its path held (None if new)."""

    path: str
    previous: str | None


Unit = LetterUnit | RowUnit | RowOutcome


def work_units(catalog: Catalog, files: list[str]) -> Iterator[Unit]:
    """What to prepare, in order: each letter file, and each row of each table (a row whose
    version is already stored is settled here, before any work)."""
    for path in files:
        if is_table(path):
            yield from table_rows(path, catalog.has_document)
        else:
            yield LetterUnit(path, catalog.doc_for_path(path))


def _tasks(units: Iterator[Unit]) -> Iterator[list[Unit]]:
    """Units in tasks for the worker processes: WORKER_TASK letters, or TABLE_TASK rows."""
    task: list[Unit] = []
    for unit in units:
        task.append(unit)
        if len(task) >= (WORKER_TASK if isinstance(unit, LetterUnit) else TABLE_TASK):
            yield task
            task = []
    if task:
        yield task


def prepare_unit(unit: Unit, options: PrepareOptions) -> Prepared:
    if isinstance(unit, LetterUnit):
        return prepare_letter(Path(unit.path), unit.previous, options)
    if isinstance(unit, RowUnit):
        return prepare_row(unit, options)
    return Prepared(unit.name, failed=unit.failed)  # failed, or unchanged (no document)


def prepare_units(units: list[Unit], options: PrepareOptions) -> list[Prepared]:
    """prepare_unit over a few units (one task of a worker process)."""
    return [prepare_unit(unit, options) for unit in units]


def store_letter(catalog: Catalog, p: Prepared, report: IngestReport, feed: LexicalFeed) -> None:
    """Write one prepared letter (inside the open batch; its own savepoint)."""
    name = p.path
    if p.doc is None:
        report.unchanged.append(name)
        return
    doc = p.doc
    previous = catalog.doc_for_path(name)
    if previous == doc.doc_id:
        report.unchanged.append(name)
        return
    catalog.begin_batch()
    if catalog.has_document(doc.doc_id):
        # The same bytes under another path: one document, two paths; nothing to index.
        feed.removed(catalog.link_path(name, doc.doc_id))
        (report.replaced if previous else report.unchanged).append(name)
        return
    # One savepoint adds the new version and removes the old one: a kill leaves either.
    feed.removed(catalog.add_document(
        doc_id=doc.doc_id, file_hash=doc.file_hash, path=name, letter_format=doc.letter_format,
        case_number=p.case_number, pages=doc.pages, text=doc.text, source_text=doc.source_text,
        offsets=doc.offsets, ends=doc.ends, chunks=p.chunks,
    ))
    feed.added(doc.doc_id)
    _store_extraction(catalog, p, report)
    report.chunks_added += len(p.chunks)
    (report.replaced if previous else report.ingested).append(name)


def store_row(catalog: Catalog, p: Prepared, report: IngestReport, feed: LexicalFeed) -> None:
    """Write one prepared table row (inside the open batch; its own savepoint). A row already
    stored is unchanged; a new version of a stored row's case is a revision (`replaced`)."""
    doc = p.doc
    if doc is None or catalog.has_document(doc.doc_id):  # the same row twice in one export
        report.unchanged.append(p.path)
        return
    catalog.begin_batch()
    revised = catalog.add_row_document(
        doc_id=doc.doc_id, file_hash=doc.file_hash, path=p.path, row_of=p.row_of, letter_format=doc.letter_format,
        case_number=p.case_number, text=doc.text, blobs=p.blobs, chunks=p.chunks,
    )
    feed.added(doc.doc_id)
    _store_extraction(catalog, p, report)
    report.chunks_added += len(p.chunks)
    (report.replaced if revised else report.ingested).append(p.path)


def _store_extraction(catalog: Catalog, p: Prepared, report: IngestReport) -> None:
    if p.extraction is not None:
        store_extraction(catalog, p.extraction)
        report.extracted += p.extraction.decision is not None
        report.seconds["extract"] = report.seconds.get("extract", 0.0) + p.extraction.seconds


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
    row_of: str | None = None
    """The table (CSV path) a row came from; None for a letter."""
    blobs: tuple[bytes, bytes] | None = None
    """A row's source text and offset maps as the catalog stores them (documents.source_text, .offsets)."""


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
    return _prepared(name, doc, options)


def prepare_row(unit: RowUnit, options: PrepareOptions) -> Prepared:
    """Normalise, chunk (and extract) one table row, as prepare_letter does a letter's text. The
    catalog's blobs of the row (its source text, its offset maps) are made here too, so that a
    worker process sends them packed, a few hundred bytes instead of the maps' tens of KB."""
    doc = row_document(unit)
    if len(doc.text) > options.limits.max_chars:
        return Prepared(doc.path, failed=f"the row's text is over {len(doc.text):,} characters, more than the limit"
                        f" of {options.limits.max_chars:,} (IMR_MAX_TEXT_CHARS)")
    prepared = _prepared(doc.path, doc, options, row_of=unit.table)
    if prepared.doc is not None:
        prepared.blobs = (zlib.compress(doc.source_text.encode("utf-8")), pack_offsets(doc.offsets, doc.ends))
        prepared.doc = replace(doc, source_text="", offsets=_NO_OFFSETS, ends=_NO_OFFSETS)
    return prepared


_NO_OFFSETS = np.empty(0, dtype=np.int64)


def _prepared(name: str, doc: Document, options: PrepareOptions, row_of: str | None = None) -> Prepared:
    sections = split_sections(doc.text, doc.letter_format)
    chunks = chunk_sections(doc.doc_id, doc.text, sections, size=options.chunk_size, overlap=options.chunk_overlap)
    if len(chunks) > options.max_chunks:
        return Prepared(name, failed=f"{len(chunks):,} chunks, more than the limit of {options.max_chunks:,} "
                        "per document (IMR_MAX_CHUNKS_PER_DOCUMENT)")
    prepared = Prepared(name, doc, [(c, text_hash(c.text)) for c in chunks], case_number_of(doc.text, doc.letter_format),
                        row_of=row_of)
    if options.extract == "rules":
        prepared.extraction = extract_rules(doc)
    return prepared


class LexicalFeed:
    """Documents committed to the catalog but not yet in a lexical segment."""

    def __init__(self, library: IngestTarget, segment_letters: int):
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
