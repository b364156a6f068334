"""Pure helpers for rules parsers: evidence from known positions, label/value lookups."""

from __future__ import annotations

import re

from imr_rag.schema import Alignment, Evidence


def evidence_at(text: str, start: int, end: int) -> Evidence | None:
    """Evidence for text[start:end] trimmed of surrounding whitespace; None if empty."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return None
    return Evidence(quote=text[start:end], start=start, end=end, alignment=Alignment.exact)


def one_line(value: str) -> str:
    """Collapse wrapped lines and runs of spaces into single spaces."""
    return re.sub(r"\s+", " ", value).strip()


def labelled_value(text: str, label: str, value: str, *, start: int = 0, end: int | None = None) -> str | None:
    """The value after 'Label:' (label words may wrap across lines), matching regex `value`."""
    words = r"\s+".join(re.escape(w) for w in label.split())
    match = re.compile(rf"{words}\s*:\s*({value})", re.IGNORECASE).search(text, start, len(text) if end is None else end)
    return match.group(1).strip() if match else None
