"""Typed errors. Each carries the file (or endpoint) and a one-line reason."""

from __future__ import annotations


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
