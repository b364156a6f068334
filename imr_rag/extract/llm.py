"""Extract a Decision from a letter with an OpenAI-compatible chat model, through instructor.

The model answers an LLM-facing record (`LLMDecision`, `LLMRowDecision` for a DMHC table row:
`imr_rag.extract.llm_record`) whose items carry verbatim quotes instead of spans. Validators check
every quote against the letter (`align_quote`); a quote that is not there makes instructor re-ask,
up to `llm_max_retries`. Accepted quotes become Evidence spans.

Three limits apply per letter: validation re-asks (`llm_max_retries`), HTTP retries with
exponential backoff on 429/5xx/timeouts/connection errors (`llm_http_retries`), and a token
budget summed over every request made for the letter (`llm_max_tokens_per_letter`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import instructor
import openai
import pydantic
from instructor.core import Hooks, IncompleteOutputException, InstructorError, ResponseParsingError
from instructor.processing.response import handle_response_model, process_response
from instructor.templating import handle_templating
from openai.types.chat import ChatCompletion
from pydantic import BaseModel
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from imr_rag.schema import Document
from imr_rag.errors import ExtractionFailed, ImrError, LLMUnavailable, redact
from imr_rag.extract.llm_record import (  # noqa: F401  (LLMDecision, to_decision: used by batch and tests)
    LLMDecision,
    LLMRowDecision,
    prompt_for,
    response_model_for,
    to_decision,
)
from imr_rag.prompts import jinja_literal, prompt_hash, render_messages
from imr_rag.schema import SCHEMA_VERSION
from imr_rag.settings import Settings

PROMPT_NAME = "extract_decision"
"""The letters' prompt; a table row's is `llm_record.prompt_for(its format)`."""
MODES = {
    "tools": instructor.Mode.TOOLS,
    "json": instructor.Mode.JSON,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "md_json": instructor.Mode.MD_JSON,
}
# What instructor re-asks on (as its own default predicate does); anything else ends the call.
_REASKABLE = (pydantic.ValidationError, json.JSONDecodeError, ResponseParsingError)
_TRANSIENT_STATUS = {408, 409, 429}
_LETTER_REJECTED_STATUS = {400, 413, 422}  # this request is refused; the endpoint itself works


# -- the request and the answer, shared by the live path and the Batch API file -------------


def extraction_messages(document: Document) -> list[dict[str, str]]:
    """The chat messages asking for `document`'s record (before instructor adds its schema).

    The instructions are the system message; the letter is the user message, fenced as quoted
    material (see `imr_rag.prompts`). instructor renders message content as a Jinja template
    whenever a validation context is given; `jinja_literal` keeps a letter's own `{{`, `{%` or
    `{#` from being read as template code (unescaped, `{{ x }}` in a letter reached the model as
    an empty string).
    """
    messages = render_messages(prompt_for(document.letter_format), letter=document.text,
                               letter_format=document.letter_format)
    return [m | {"content": jinja_literal(m["content"])} for m in messages]


def validation_context(document: Document) -> dict[str, str]:
    """What the quote validators check against: the letter's normalised text."""
    return {"text": document.text}


def chat_request_body(settings: Settings, document: Document) -> dict[str, Any]:
    """The /v1/chat/completions body the live path sends for `document`'s first ask.

    instructor turns (response model, mode, messages) into the request in `client.create`, then
    renders the messages with the validation context; this calls the same two functions, so a
    Batch API line carries the very prompt and schema (tool or response_format) of a live request.
    """
    mode = MODES[settings.llm_mode]
    system, user = extraction_messages(document)
    body = json.loads(_request_shape(settings.llm_mode, settings.llm_model, document.letter_format))
    for message in body["messages"]:
        if isinstance(message.get("content"), str):
            message["content"] = (message["content"].replace(_SYSTEM_SLOT, system["content"])
                                  .replace(_USER_SLOT, user["content"]))
    return handle_templating(body, mode=mode, context=validation_context(document))


_SYSTEM_SLOT = "\x00imr-rag instructions\x00"
_USER_SLOT = "\x00imr-rag letter\x00"


@functools.lru_cache(maxsize=8)
def _request_shape(mode: str, model: str, letter_format: str) -> str:
    """instructor's request for a placeholder prompt, as JSON: building the schema costs ~40 ms,
    an hour or two of a year's request file if done per letter; only the prompt differs."""
    _, body = handle_response_model(
        response_model_for(letter_format), mode=MODES[mode], model=model,
        messages=[{"role": "system", "content": _SYSTEM_SLOT}, {"role": "user", "content": _USER_SLOT}],
    )
    return json.dumps(body)


@functools.lru_cache(maxsize=8)
def _prepared_model(mode: str, letter_format: str) -> type[BaseModel]:
    """The response model as instructor prepares it for `mode` (building it costs a schema)."""
    prepared, _ = handle_response_model(response_model_for(letter_format), mode=MODES[mode])
    return prepared


def parse_chat_completion(settings: Settings, body: dict[str, Any], document: Document) -> LLMDecision:
    """Validate a chat completion answered outside the live path (a Batch API result) as the live
    path validates its answers: same mode's parser, same quote validators against the letter.

    Raises ExtractionFailed naming the letter: cut-off answer, invalid JSON, or a validation error
    such as a quote that is not in the letter (a batch cannot re-ask).
    """
    try:
        completion = ChatCompletion.model_validate(body)
    except pydantic.ValidationError as exc:
        raise ExtractionFailed(document.path, f"result is not a chat completion: {describe_failure(exc)}") from exc
    response_model = _prepared_model(settings.llm_mode, document.letter_format)
    try:
        return process_response(
            completion, response_model=response_model, stream=False,
            validation_context=validation_context(document), strict=False, mode=MODES[settings.llm_mode],
        )
    except IncompleteOutputException as exc:
        raise ExtractionFailed(
            document.path, "the model's answer was cut off (output token limit reached)"
        ) from exc
    except (*_REASKABLE, InstructorError, AttributeError, IndexError, KeyError, TypeError) as exc:
        # AttributeError/IndexError/KeyError/TypeError: the answer lacks the tool call or content
        # the mode expects (instructor's parsers index into it)
        raise ExtractionFailed(
            document.path, f"LLM answer failed validation: {describe_failure(exc)}"
        ) from exc


def usage_of(body: dict[str, Any]) -> TokenUsage:
    """The usage a chat completion body reports (zero when it reports none)."""
    usage = body.get("usage") or {}
    return TokenUsage(
        int(usage.get("prompt_tokens") or 0),
        int(usage.get("completion_tokens") or 0),
        int(usage.get("total_tokens") or 0),
    )


# -- accounting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenUsage:
    """Tokens reported by the endpoint, summed over requests."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.total_tokens + other.total_tokens,
        )


@dataclass
class _Meter:
    """Counts every request made for one letter, fed by instructor hooks.

    Usage is copied out of each raw response as it arrives: instructor later overwrites a
    response's usage object in place with its running total, and it restarts that total on
    every `create` call, so neither covers re-asks and HTTP retries together.
    """

    usage: TokenUsage = field(default_factory=TokenUsage)
    calls: int = 0
    reasks: int = 0
    http_retries: int = 0

    def hooks(self) -> Hooks:
        hooks = Hooks()
        hooks.on("completion:kwargs", self._on_request)
        hooks.on("completion:response", self._on_response)
        hooks.on("parse:error", self._on_parse_error)
        return hooks

    def _on_request(self, *args: Any, **kwargs: Any) -> None:
        self.calls += 1

    def _on_response(self, response: Any) -> None:
        usage = getattr(response, "usage", None)
        if usage is not None:
            self.usage += TokenUsage(
                int(usage.prompt_tokens or 0),
                int(usage.completion_tokens or 0),
                int(usage.total_tokens or 0),
            )

    def _on_parse_error(self, error: Exception, **kwargs: Any) -> None:
        self.reasks += 1


class _BudgetSpent(stop_base):
    """Stop re-asking once the letter's summed usage reaches its token budget."""

    def __init__(self, meter: _Meter, budget: int) -> None:
        self.meter = meter
        self.budget = budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.meter.usage.total_tokens >= self.budget


@dataclass(frozen=True)
class LLMSpend:
    """What a letter cost, attached to the error when extraction fails."""

    usage: TokenUsage
    calls: int
    retries: int


@dataclass(frozen=True)
class LLMResult:
    """A decision and what it cost."""

    decision: Decision
    usage: TokenUsage  # summed over every request: first ask, re-asks and HTTP retries
    calls: int  # chat requests sent, including failed ones
    retries: int  # validation re-asks
    http_retries: int  # requests repeated after 429/5xx/timeout/connection errors
    seconds: float  # wall time, backoff included
    fingerprint: str  # what the answer depends on besides the letter (see cache_fingerprint)


# -- the extractor -----------------------------------------------------------------------------


class _Transient(Exception):
    """A failure worth retrying after a pause (429, 5xx, timeout, connection)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class LLMExtractor:
    """Extract decisions through one configured OpenAI-compatible endpoint.

    `backoff_base` is the first pause in seconds before an HTTP retry; it doubles each time,
    capped at `max_backoff` (a Retry-After header is honoured within the same cap).
    """

    def __init__(self, settings: Settings, *, backoff_base: float = 1.0, max_backoff: float = 30.0):
        if not settings.llm_base_url:
            raise LLMUnavailable("no LLM endpoint configured (set IMR_LLM_BASE_URL)")
        self.settings = settings
        self.endpoint = redact(settings.llm_base_url)  # named in errors and cache keys: no credentials
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.prompt_hash = prompt_hash(PROMPT_NAME)
        self._prompt_hashes = {PROMPT_NAME: self.prompt_hash}
        self.client = instructor.from_openai(
            openai.OpenAI(
                base_url=settings.llm_base_url,
                api_key=settings.llm_api_key,
                timeout=settings.llm_timeout,
                max_retries=0,  # retries are ours: counted, budgeted, and reported
            ),
            mode=MODES[settings.llm_mode],
        )

    def cache_fingerprint(self, letter_format: str | None = None) -> str:
        """sha256 over everything but the letter that decides the answer; see cache_parts."""
        return hashlib.sha256(json.dumps(self.cache_parts(letter_format), sort_keys=True).encode()).hexdigest()

    def cache_parts(self, letter_format: str | None = None) -> dict[str, str]:
        """What the answer for a letter (or a document of `letter_format`) depends on besides it."""
        model = response_model_for(letter_format or "")
        return {
            "schema_version": SCHEMA_VERSION,
            "response_model": response_model_hash(model),
            "prompt": self._prompt_hash(prompt_for(letter_format or "")),
            "model": self.settings.llm_model,
            "endpoint": self.endpoint,  # one model name can mean different models on two servers
            "mode": self.settings.llm_mode,
        }

    def _prompt_hash(self, name: str) -> str:
        if name not in self._prompt_hashes:
            self._prompt_hashes[name] = prompt_hash(name)
        return self._prompt_hashes[name]

    def extract(self, document: Document) -> LLMResult:
        """One Decision for `document`, or ExtractionFailed / LLMUnavailable."""
        started = time.monotonic()
        meter = _Meter()
        messages = extraction_messages(document)
        try:
            decision = to_decision(self._ask_with_backoff(messages, document, meter), document)
        except ImrError as exc:
            exc.spend = LLMSpend(usage=meter.usage, calls=meter.calls, retries=meter.reasks)
            raise
        return LLMResult(
            decision=decision,
            usage=meter.usage,
            calls=meter.calls,
            retries=meter.reasks,
            http_retries=meter.http_retries,
            seconds=time.monotonic() - started,
            fingerprint=self.cache_fingerprint(document.letter_format),
        )

    def _ask_with_backoff(
        self, messages: list[dict[str, str]], document: Document, meter: _Meter
    ) -> LLMDecision:
        attempts = self.settings.llm_http_retries + 1
        for attempt in range(attempts):
            self._check_budget(document, meter)
            try:
                return self._ask(messages, document, meter)
            except _Transient as exc:
                if attempt == attempts - 1:
                    raise LLMUnavailable(
                        f"LLM endpoint {self.endpoint} unavailable after {attempts} attempt(s): "
                        f"{exc.reason}"
                    ) from exc
                meter.http_retries += 1
                time.sleep(self._pause(attempt, exc.retry_after))
        raise AssertionError("unreachable")  # the loop returns or raises

    def _pause(self, attempt: int, retry_after: float | None) -> float:
        pause = self.backoff_base * 2**attempt
        if retry_after is not None:
            pause = max(pause, retry_after)
        return min(pause, self.max_backoff)

    def _check_budget(self, document: Document, meter: _Meter) -> None:
        budget = self.settings.llm_max_tokens_per_letter
        if meter.usage.total_tokens >= budget:
            raise ExtractionFailed(document.path, _budget_reason(meter, budget))

    def _ask(self, messages: list[dict[str, str]], document: Document, meter: _Meter) -> LLMDecision:
        """One instructor call (a first ask plus its re-asks); failures are translated."""
        try:
            return self.client.create(
                model=self.settings.llm_model,
                response_model=response_model_for(document.letter_format),
                messages=messages,
                max_retries=self._reask_policy(meter),
                context=validation_context(document),
                strict=False,  # let small local models write 58 as "58"
                hooks=meter.hooks(),
            )
        except IncompleteOutputException as exc:
            raise ExtractionFailed(
                document.path, "the model's answer was cut off (output token limit reached)"
            ) from exc
        except InstructorError as exc:
            raise self._translate(exc, document, meter) from exc

    def _reask_policy(self, meter: _Meter) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.settings.llm_max_retries + 1)
            | _BudgetSpent(meter, self.settings.llm_max_tokens_per_letter),
            retry=retry_if_exception_type(_REASKABLE),
            reraise=True,
        )

    def _translate(self, exc: InstructorError, document: Document, meter: _Meter) -> Exception:
        api_error = find_cause(exc, openai.APIError)
        if api_error is not None:
            return self._api_failure(api_error, document)
        budget = self.settings.llm_max_tokens_per_letter
        if meter.usage.total_tokens >= budget:
            return ExtractionFailed(document.path, f"{_budget_reason(meter, budget)}; last error: "
                                    f"{describe_failure(exc)}")
        return ExtractionFailed(
            document.path,
            f"LLM answer failed validation after {meter.calls} attempt(s): {describe_failure(exc)}",
        )

    def _api_failure(self, error: openai.APIError, document: Document) -> Exception:
        if isinstance(error, openai.APITimeoutError):
            return _Transient(f"timed out after {self.settings.llm_timeout:g} s")
        if isinstance(error, openai.APIConnectionError):
            return _Transient(f"connection failed ({_cause_text(error)})")
        if isinstance(error, openai.APIStatusError):
            status = error.status_code
            reason = f"HTTP {status}: {_status_message(error)}"
            if status in _TRANSIENT_STATUS or status >= 500:
                return _Transient(reason, _retry_after(error))
            if status in _LETTER_REJECTED_STATUS:
                return ExtractionFailed(document.path, f"LLM endpoint rejected the request: {reason}")
            return LLMUnavailable(f"LLM endpoint {self.endpoint} refused the request: {reason}")
        return LLMUnavailable(f"LLM endpoint {self.endpoint}: {error}")


def response_model_hash(model: type[BaseModel] = LLMDecision) -> str:
    """sha256 of the JSON schema the model is asked to fill (its descriptions are prompt too)."""
    schema = json.dumps(model.model_json_schema(), sort_keys=True)
    return hashlib.sha256(schema.encode()).hexdigest()


# -- error text --------------------------------------------------------------------------------


def find_cause(exc: BaseException, kind: type[BaseException]) -> Any:
    """instructor wraps the SDK's exception; walk the cause chain to find it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def describe_failure(exc: BaseException) -> str:
    """One line: the first validation error (and how many there were) or the parse error."""
    attempts = getattr(exc, "failed_attempts", None)
    if attempts:  # instructor's own message is a multi-line XML-ish dump
        exc = attempts[-1].exception
    validation = find_cause(exc, pydantic.ValidationError)
    if validation is not None:
        errors = validation.errors()
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"]) or "answer"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"{where}: {first['msg']}{more}"
    decode = find_cause(exc, json.JSONDecodeError)
    if decode is not None:
        return f"answer is not valid JSON ({decode.msg})"
    return _first_line(str(exc))


def _budget_reason(meter: _Meter, budget: int) -> str:
    return (
        f"token budget of {budget} per letter exhausted ({meter.usage.total_tokens} tokens "
        f"over {meter.calls} request(s))"
    )


def _status_message(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if message:
            return _first_line(str(message))
    return _first_line(error.message)


def _retry_after(error: openai.APIStatusError) -> float | None:
    try:
        return float(error.response.headers.get("retry-after", ""))
    except ValueError:
        return None


def _cause_text(error: BaseException) -> str:
    cause = error.__cause__
    return _first_line(str(cause)) if cause else type(error).__name__


def _first_line(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "no detail"
    return line if len(line) <= limit else line[: limit - 3] + "..."
