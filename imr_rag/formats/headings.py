"""Shared, pure helpers for splitting a letter at its headings."""

from __future__ import annotations

import re
from collections.abc import Sequence

from imr_rag.schema import Section


def heading_pattern(words: str) -> re.Pattern[str]:
    """A heading whose words may be split by any whitespace (PDF text wraps long headings)."""
    return re.compile(r"\s+".join(re.escape(w) for w in words.split()), re.IGNORECASE)


def sections_from_headings(
    text: str, headings: Sequence[tuple[str, re.Pattern[str]]], first: str = "header"
) -> list[Section]:
    """Cut `text` at the first occurrence of each heading, in the order they are listed.

    A heading that is missing is skipped; text before the first heading found is `first`.
    """
    cuts: list[tuple[int, str]] = []
    pos = 0
    for name, pattern in headings:
        match = pattern.search(text, pos)
        if match:
            cuts.append((match.start(), name))
            pos = match.end()
    sections: list[Section] = []
    starts = [0, *(start for start, _ in cuts)]
    names = [first, *(name for _, name in cuts)]
    ends = [*starts[1:], len(text)]
    for name, start, end in zip(names, starts, ends):
        if text[start:end].strip():
            sections.append(Section(name=name, start=start, end=end))
    return sections


def line_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each line of text[start:end], end excluding the newline."""
    end = len(text) if end is None else end
    spans = []
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl == -1 else nl
        spans.append((pos, stop))
        pos = stop + 1
    return spans
