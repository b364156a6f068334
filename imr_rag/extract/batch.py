"""LLM extraction of a whole corpus at Batch API price: a request file now, the results later.

`write_requests` writes one OpenAI Batch API line per letter (custom_id = doc id) whose body is
the live path's own request (`llm.chat_request_body`). `apply_results` reads the Batch API output
file and puts every answer through the live path's validation (`llm.parse_chat_completion`: every
quote checked against the letter), alignment (`llm.to_decision`) and catalog writes
(`service.store_extraction`). A batch cannot re-ask, so an answer quoting text that is not in the
letter fails that letter; a live `imr-rag extract --backend llm` of it can retry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from imr_rag.catalog import Catalog
from imr_rag.schema import Document
from imr_rag.errors import ExtractionFailed
from imr_rag.extract.llm import TokenUsage, chat_request_body, parse_chat_completion, to_decision, usage_of
from imr_rag.extract.service import Extraction, checked, require_items, store_extraction
from imr_rag.settings import Settings

BATCH_URL = "/v1/chat/completions"
MAX_REQUESTS_PER_FILE = 50_000
"""OpenAI's limit of requests in one batch input file."""
MAX_BYTES_PER_FILE = 190 * 2**20
"""OpenAI accepts input files up to 200 MB; a margin below it."""
CHARS_PER_TOKEN = 4
"""For the prompt-token estimate of a request file (no tokenizer of the remote model here)."""


def request_line(settings: Settings, document: Document) -> dict[str, Any]:
    """One Batch API input line: the live request for `document`, keyed by its doc id."""
    return {
        "custom_id": document.doc_id,
        "method": "POST",
        "url": BATCH_URL,
        "body": chat_request_body(settings, document),
    }


@dataclass
class RequestFiles:
    """What `write_requests` wrote."""

    paths: list[Path] = field(default_factory=list)
    requests: int = 0
    body_chars: int = 0
    requested: list[tuple[str, str]] = field(default_factory=list)  # (doc id, part file)

    def prompt_tokens_per_letter(self) -> float:
        """Estimated prompt tokens per letter (the body's characters / CHARS_PER_TOKEN)."""
        return self.body_chars / CHARS_PER_TOKEN / self.requests if self.requests else 0.0


def part_path(path: Path, part: int) -> Path:
    """requests.jsonl, requests.2.jsonl, requests.3.jsonl, ..."""
    return path if part == 1 else path.with_name(f"{path.stem}.{part}{path.suffix}")


def write_requests(
    settings: Settings, documents: Iterable[Document], path: Path, *,
    max_requests: int = MAX_REQUESTS_PER_FILE, max_bytes: int = MAX_BYTES_PER_FILE,
) -> RequestFiles:
    """Write the request lines, starting a new part file before either Batch API limit is hit
    (a year of letters is about 2 GB of requests: ten or more files to submit as separate batches)."""
    written = RequestFiles()
    out = None
    lines = size = 0
    try:
        for document in documents:
            line = json.dumps(request_line(settings, document), ensure_ascii=False) + "\n"
            encoded = len(line.encode("utf-8"))
            if out is None or lines >= max_requests or (lines and size + encoded > max_bytes):
                if out is not None:
                    out.close()
                written.paths.append(part_path(path, len(written.paths) + 1))
                out = written.paths[-1].open("w", encoding="utf-8")
                lines = size = 0
            out.write(line)
            written.requested.append((document.doc_id, str(written.paths[-1])))
            lines += 1
            size += encoded
            written.requests += 1
            written.body_chars += len(line)
    finally:
        if out is not None:
            out.close()
    return written


# -- results -----------------------------------------------------------------------------------


def apply_results(
    settings: Settings, catalog: Catalog, path: Path,
    on_unknown: Callable[[str, str], None],
) -> Iterator[Extraction]:
    """Each result line as an Extraction (decision or error), stored in the catalog as it comes.

    A line that cannot be tied to a letter of this catalog (not JSON, no or unknown custom_id) is
    reported through `on_unknown(where, reason)` and stores nothing.
    """
    with path.open(encoding="utf-8") as lines:
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            where = f"{path} line {number}"
            try:
                line = json.loads(raw)
            except json.JSONDecodeError as exc:
                on_unknown(where, f"not JSON ({exc.msg})")
                continue
            doc_id = line.get("custom_id") if isinstance(line, dict) else None
            document = catalog.load_document(doc_id) if isinstance(doc_id, str) else None
            if document is None:
                on_unknown(where, f"custom_id {doc_id!r} is not a letter in this catalog")
                continue
            result = result_extraction(settings, line, document)
            store_extraction(catalog, result)
            yield result


def result_extraction(settings: Settings, line: dict[str, Any], document: Document) -> Extraction:
    """One result line for a known letter: its decision, or the reason it has none."""
    result = Extraction(doc_id=document.doc_id, source=document.path, backend="llm", llm_calls=1)
    try:
        body = _completion_body(line, document)
        result.tokens = asdict(usage_of(body))
        answer = parse_chat_completion(settings, body, document)
        result.decision = checked(document, require_items(document, to_decision(answer, document)))
    except ExtractionFailed as exc:
        result.error = exc.reason
    return result


def _completion_body(line: dict[str, Any], document: Document) -> dict[str, Any]:
    """The chat completion of a result line, or ExtractionFailed with the batch's own error."""
    error = line.get("error")
    if error:
        detail = error.get("message") if isinstance(error, dict) else str(error)
        code = error.get("code") if isinstance(error, dict) else None
        raise ExtractionFailed(document.path, f"batch request failed: {code + ': ' if code else ''}{detail}")
    response = line.get("response") or {}
    status = response.get("status_code")
    body = response.get("body")
    if status != 200 or not isinstance(body, dict):
        message = ((body or {}).get("error") or {}).get("message") if isinstance(body, dict) else None
        raise ExtractionFailed(document.path, f"batch request failed: HTTP {status}: {message or 'no answer'}")
    return body


# -- cost --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchCost:
    """Tokens and estimated USD per 1,000 letters, at the configured Batch API prices."""

    prompt_tokens: float
    completion_tokens: float
    usd: float

    @classmethod
    def per_1000(cls, usage: TokenUsage, letters: int, settings: Settings) -> BatchCost:
        scale = 1000 / letters if letters else 0.0
        prompt, completion = usage.prompt_tokens * scale, usage.completion_tokens * scale
        usd = (prompt * settings.llm_batch_price_input + completion * settings.llm_batch_price_output) / 1e6
        return cls(prompt, completion, usd)


@dataclass
class BatchTally:
    """Running totals over applied results, so a year's results file is applied in flat memory."""

    letters: int = 0
    extracted: int = 0
    items: int = 0
    flagged: int = 0
    usage: TokenUsage = field(default_factory=TokenUsage)

    def add(self, result: Extraction) -> None:
        self.letters += 1
        self.usage += TokenUsage(**{k: result.tokens.get(k, 0) for k in ("prompt_tokens", "completion_tokens", "total_tokens")})
        if result.decision is not None:
            self.extracted += 1
            self.items += len(result.decision.items)
            self.flagged += bool(result.decision.review_flags)

    @property
    def failed(self) -> int:
        return self.letters - self.extracted

    def summary(self, settings: Settings) -> dict[str, Any]:
        cost = BatchCost.per_1000(self.usage, self.letters, settings)
        return {
            "documents": self.letters, "extracted": self.extracted, "failed": self.failed, "items": self.items,
            "flagged": self.flagged, "backend": "llm", "tokens": asdict(self.usage),
            "per_1000_letters": {"prompt_tokens": round(cost.prompt_tokens),
                                 "completion_tokens": round(cost.completion_tokens), "usd": round(cost.usd, 4)},
        }
