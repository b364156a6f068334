"""One interface over the extraction backends, and the batch that stores their results.

Backends: `rules` (the format plugin's deterministic parser, offline), `llm` (instructor-typed
call, every quote aligned to the letter), `hybrid` (rules first, the LLM fills gaps; disagreements
are flagged). LLM answers are cached in the catalog by (document hash, schema version, prompt
hash, model), so a re-run makes no calls.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from imr_rag.catalog import Catalog
from imr_rag.extract.checks import with_checks
from imr_rag.errors import ExtractionFailed, ImrError, LLMUnavailable, redact
from imr_rag.extract.merge import merge_decisions
from imr_rag.formats import get_format
from imr_rag.schema import Decision, Document, ReviewFlag
from imr_rag.settings import Settings

BACKENDS = ("rules", "llm", "hybrid")
LLM_DOWN_AFTER = 3
"""Consecutive unreachable-LLM letters after which a hybrid run stops calling the LLM (each one
costs a timeout and its retries; 100,000 of them would take days to say the same thing)."""


@dataclass
class Extraction:
    """The outcome for one document: a decision or an error, plus LLM accounting."""

    doc_id: str
    source: str
    backend: str
    decision: Decision | None = None
    error: str | None = None
    llm_calls: int = 0
    llm_retries: int = 0
    tokens: dict[str, int] = field(default_factory=dict)
    cached: bool = False
    seconds: float = 0.0
    rules_only: str | None = None
    """Why a hybrid record is the rules parser's alone (the LLM could not be reached)."""

    def as_json_line(self) -> dict:
        return {
            "source": self.source,
            "doc_id": self.doc_id,
            "decision": self.decision.model_dump(mode="json") if self.decision else None,
            "error": self.error,
        }


def default_backend(settings: Settings) -> str:
    return "hybrid" if settings.llm_enabled else "rules"


def rules_decision(document: Document) -> Decision:
    plugin = get_format(document.letter_format)
    if plugin is None:
        raise ExtractionFailed(
            document.path,
            f"letter format '{document.letter_format}' has no rules parser (try --backend llm)",
        )
    decision = plugin.parse(document)
    if not decision.items and not getattr(plugin, "keeps_records_without_items", False):
        raise ExtractionFailed(document.path, "no disputed items found in the letter")
    return decision


def extract_rules(document: Document) -> Extraction:
    """The rules backend's outcome for one document (what ingest runs on the text in memory)."""
    result = Extraction(doc_id=document.doc_id, source=document.path, backend="rules")
    started = time.perf_counter()
    try:
        result.decision = checked(document, rules_decision(document))
    except ImrError as exc:
        result.error = str(getattr(exc, "reason", None) or exc)
    result.seconds = time.perf_counter() - started
    return result


class LLMBackend:
    """The LLM extractor behind the catalog cache."""

    def __init__(self, settings: Settings, catalog: Catalog):
        from imr_rag.extract.llm import LLMExtractor

        self.settings = settings
        # Worker threads use the cache: their own connection (WAL lets it work beside the caller's),
        # one thread at a time.
        self.catalog = Catalog(catalog.path)
        self._cache_lock = threading.Lock()
        self.extractor = LLMExtractor(settings)

    def cache_key(self, document: Document) -> str:
        """Document hash + everything else the answer depends on (schema version, response
        model, prompt hash, model, endpoint, mode: see LLMExtractor.cache_parts)."""
        parts = [document.file_hash, self.extractor.cache_fingerprint(document.letter_format)]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def extract(self, document: Document, result: Extraction) -> Decision:
        key = self.cache_key(document)
        with self._cache_lock:
            hit = self.catalog.cached_llm(key)
        if hit is not None:
            result.cached = True
            decision = Decision.model_validate_json(hit)
            # A cached record may come from the same bytes at another path.
            return decision.model_copy(update={"source": decision.source.model_copy(update={"path": document.path})})
        try:
            outcome = self.extractor.extract(document)
        except ImrError as exc:
            if exc.spend is not None:  # a failed letter still cost calls and tokens
                self._account(result, exc.spend)
            raise
        self._account(result, outcome)
        with self._cache_lock:
            self.catalog.cache_llm(key, outcome.decision.model_dump_json())
        return outcome.decision


    @staticmethod
    def _account(result: Extraction, spend) -> None:
        result.llm_calls += spend.calls
        result.llm_retries += spend.retries
        result.tokens = asdict(spend.usage)


class ExtractionService:
    """Runs a backend over documents and stores each result in the catalog."""

    def __init__(self, settings: Settings, catalog: Catalog, backend: str | None = None):
        self.backend = backend or default_backend(settings)
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {self.backend!r}")
        if self.backend != "rules" and not settings.llm_enabled:
            raise ImrError(f"backend '{self.backend}' needs an LLM: set IMR_LLM_BASE_URL (and IMR_LLM_MODEL)")
        self.settings = settings
        self.catalog = catalog
        self.llm = LLMBackend(settings, catalog) if self.backend != "rules" else None
        self._llm_failures = 0
        self._llm_lock = threading.Lock()
        self.llm_down: str | None = None
        """Set once the LLM failed LLM_DOWN_AFTER letters in a row: the reason, and no more calls."""

    def extract_one(self, document: Document) -> Extraction:
        if self.backend == "rules":
            return extract_rules(document)
        result = Extraction(doc_id=document.doc_id, source=document.path, backend=self.backend)
        started = time.perf_counter()
        try:
            result.decision = checked(document, self._decide(document, result))
        except ImrError as exc:
            result.error = redact(str(getattr(exc, "reason", None) or exc), self.settings.secrets())
        result.seconds = time.perf_counter() - started
        return result

    def _decide(self, document: Document, result: Extraction) -> Decision:
        if self.backend == "rules":
            return rules_decision(document)
        if self.backend == "llm":
            return self._llm_decision(document, result)
        try:
            rules = rules_decision(document)
        except ExtractionFailed as exc:
            llm = self._llm_decision(document, result)
            flag = ReviewFlag(check="llm_only", reason=f"LLM only: {exc.reason}")
            return llm.model_copy(update={"review_flags": [*llm.review_flags, flag]})
        try:
            return merge_decisions(rules, self._llm_decision(document, result))
        except LLMUnavailable as exc:  # the rules record stands; the summary says the LLM was not consulted
            result.rules_only = redact(str(exc), self.settings.secrets())
            return rules

    def _llm_decision(self, document: Document, result: Extraction) -> Decision:
        if self.llm_down:
            raise LLMUnavailable(f"not called after {LLM_DOWN_AFTER} letters in a row failed: {self.llm_down}")
        try:
            decision = self.llm.extract(document, result)
        except LLMUnavailable as exc:
            with self._llm_lock:
                self._llm_failures += 1
                if self._llm_failures >= LLM_DOWN_AFTER:
                    self.llm_down = str(exc)
            raise
        with self._llm_lock:
            self._llm_failures = 0
        return require_items(document, decision)

    def run(
        self, documents: Iterator[Document], total: int, *, concurrency: int = 1,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> Iterator[Extraction]:
        """Extract documents (LLM calls in parallel threads), storing each result as it arrives.

        Results are stored by the calling thread on its connection; the LLM cache has a connection
        of its own, used by one worker at a time. At most 2 x concurrency documents are in flight,
        so memory stays flat however many documents there are.
        """
        done = 0
        for result in self._in_order(documents, max(1, concurrency)):
            self._store(result)
            done += 1
            if progress:
                progress("extract", done, total)
            yield result
        self.catalog.refresh_query_stats()

    def _in_order(self, documents: Iterator[Document], workers: int) -> Iterator[Extraction]:
        """Results in document order, with a bounded window of documents submitted ahead
        (Executor.map would read every document up front)."""
        with ThreadPoolExecutor(max_workers=workers) as pool:
            window: deque[Future[Extraction]] = deque()
            for document in documents:
                window.append(pool.submit(self.extract_one, document))
                if len(window) >= 2 * workers:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()

    def _store(self, result: Extraction) -> None:
        store_extraction(self.catalog, result)


def checked(document: Document, decision: Decision) -> Decision:
    """The record with the flags of every self-check (generic ones and its format plugin's)."""
    plugin = get_format(decision.letter_format)
    return with_checks(decision, document.text, extra=getattr(plugin, "validators", ()))


def require_items(document: Document, decision: Decision) -> Decision:
    """An LLM record without disputed items is a failure, not a decision."""
    if not decision.items:
        raise ExtractionFailed(document.path, "the LLM found no disputed items in the letter")
    return decision


def store_extraction(catalog: Catalog, result: Extraction) -> None:
    """The catalog write for one outcome: the decision and its items, or the failure reason."""
    if result.decision is not None:
        catalog.save_decision(result.doc_id, result.backend, result.decision)
    else:
        catalog.record_extraction_failure(result.doc_id, result.backend, result.error or "unknown error")


def summarize(results: list[Extraction]) -> dict:
    ok = [r for r in results if r.decision is not None]
    return {
        "documents": len(results),
        "extracted": len(ok),
        "failed": len(results) - len(ok),
        "items": sum(len(r.decision.items) for r in ok),
        "flagged": sum(1 for r in ok if r.decision.review_flags),
        "rules_only": sum(1 for r in ok if r.rules_only),
        "llm_calls": sum(r.llm_calls for r in results),
        "llm_retries": sum(r.llm_retries for r in results),
        "cached": sum(1 for r in results if r.cached),
        "tokens": {
            k: sum(r.tokens.get(k, 0) for r in results) for k in ("prompt_tokens", "completion_tokens", "total_tokens")
        },
    }


def dumps_line(result: Extraction) -> str:
    return json.dumps(result.as_json_line(), ensure_ascii=False)
