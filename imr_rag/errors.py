"""Typed errors. Each carries the file (or endpoint) and a one-line reason.

`redact` is the one function that keeps secrets out of messages; it is applied where a message
leaves the program (CLI output, rows the catalog stores, what the web app shows), and to the
endpoint names the errors themselves carry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "***"
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@]+@")
_KEY_PARAMETER = re.compile(r"(?i)\b((?:api[_-]?key|key|access[_-]?token|token|password|secret)=)[^&\s\"']+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[a-z0-9._~+/=-]{8,}")
_PROVIDER_KEY = re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{12,}")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` without credentials: the user:password part of any URL, api_key=/token= query
    values, bearer tokens and provider-style keys (sk-...), and each of the given secret values
    (the configured API key, say) wherever it appears."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _URL_USERINFO.sub(rf"\1{REDACTED}@", text)
    text = _KEY_PARAMETER.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    return _PROVIDER_KEY.sub(REDACTED, text)


class ImrError(Exception):
    """Base class for errors the CLI reports as one line instead of a traceback."""

    spend = None
    """What an LLM call cost before it failed (imr_rag.extract.llm.LLMSpend), so failed letters
    are still accounted for."""


class UnreadableDocument(ImrError):
    """A file could not be turned into text."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class DataDirUnavailable(ImrError):
    """The data folder cannot be created, written or its catalog opened."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"cannot use the data folder {path}: {reason} (choose another with --data-dir or IMR_DATA_DIR)")
        self.path = path
        self.reason = reason


class ExtractionFailed(ImrError):
    """A letter was read but no decision record could be produced from it."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class LLMUnavailable(ImrError):
    """The configured LLM endpoint could not answer (after retries)."""


class StoreUnavailable(ImrError):
    """The Chroma store could not be opened or reached."""
