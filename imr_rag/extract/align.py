"""Find a quoted passage in a document's text and return its exact span, or nothing.

Three passes, strictest first: exact, whitespace-insensitive, fuzzy. Whatever pass succeeds,
the returned Evidence slices the text exactly (`text[start:end] == quote`): a span is never
invented, and a quote that matches nothing well enough gives None. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from difflib import SequenceMatcher
from functools import lru_cache

from imr_rag.schema import Alignment, Evidence

_NON_SPACE = re.compile(r"\S")
_TOKEN = re.compile(r"\S+")


def align_quote(
    text: str, quote: str, *, hint: int = 0, fuzzy_threshold: float = 0.9
) -> Evidence | None:
    """Locate `quote` in `text`; among equal matches prefer the one starting nearest `hint`.

    1. exact: `quote` occurs verbatim;
    2. whitespace: equal once all whitespace is ignored (line breaks, doubled or missing spaces);
    3. fuzzy: the run of whole words most similar to the quote (difflib ratio on
       whitespace-normalised strings) scores at least `fuzzy_threshold`.
    """
    if not quote.strip() or not text:
        return None
    for alignment, find in (
        (Alignment.exact, _exact_span),
        (Alignment.whitespace, _whitespace_span),
    ):
        span = find(text, quote, hint)
        if span is not None:
            return _evidence(text, span, alignment)
    span = _fuzzy_span(text, quote, hint, fuzzy_threshold)
    return _evidence(text, span, Alignment.fuzzy) if span is not None else None


def evidence_is_grounded(text: str, ev: Evidence) -> bool:
    """True when the evidence's span lies inside `text` and slices to exactly its quote."""
    return 0 <= ev.start <= ev.end <= len(text) and text[ev.start : ev.end] == ev.quote


def _evidence(text: str, span: tuple[int, int], alignment: Alignment) -> Evidence:
    start, end = span
    return Evidence(quote=text[start:end], start=start, end=end, alignment=alignment)


def _nearest(starts: list[int], hint: int) -> int | None:
    return min(starts, key=lambda s: (abs(s - hint), s)) if starts else None


def _occurrences(haystack: str, needle: str) -> list[int]:
    """Start offsets of every (possibly overlapping) occurrence of `needle`."""
    starts: list[int] = []
    pos = haystack.find(needle)
    while pos != -1:
        starts.append(pos)
        pos = haystack.find(needle, pos + 1)
    return starts


def _exact_span(text: str, quote: str, hint: int) -> tuple[int, int] | None:
    start = _nearest(_occurrences(text, quote), hint)
    return None if start is None else (start, start + len(quote))


@lru_cache(maxsize=16)
def _squeezed(text: str) -> tuple[str, tuple[int, ...]]:
    """`text` without whitespace, plus the offset in `text` of each kept character."""
    positions = tuple(m.start() for m in _NON_SPACE.finditer(text))
    return "".join(text[i] for i in positions), positions


def _whitespace_span(text: str, quote: str, hint: int) -> tuple[int, int] | None:
    squeezed_text, positions = _squeezed(text)
    squeezed_quote, _ = _squeezed(quote)
    starts = [positions[k] for k in _occurrences(squeezed_text, squeezed_quote)]
    start = _nearest(starts, hint)
    if start is None:
        return None
    first = positions.index(start)
    return start, positions[first + len(squeezed_quote) - 1] + 1


@lru_cache(maxsize=16)
def _tokens(text: str) -> tuple[tuple[int, int, str], ...]:
    return tuple((m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text))


def _fuzzy_span(text: str, quote: str, hint: int, threshold: float) -> tuple[int, int] | None:
    """Best-scoring window of whole words; ties go to the window nearest `hint`."""
    tokens = _tokens(text)
    target = " ".join(quote.split())
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(target)
    best: tuple[float, int, int, int] | None = None  # (score, -distance, start, end)
    for size in _window_sizes(len(quote.split()), len(tokens), threshold):
        for first in _plausible_windows(tokens, target, size, threshold):
            window = tokens[first : first + size]
            matcher.set_seq1(" ".join(t[2] for t in window))
            score = matcher.ratio()
            if score < threshold:
                continue
            start, end = window[0][0], window[-1][1]
            key = (score, -abs(start - hint), start, end)
            if best is None or key[:2] > best[:2]:
                best = key
    return None if best is None else (best[2], best[3])


def _window_sizes(words: int, available: int, threshold: float) -> range:
    """Window lengths (in words) worth scoring: a few more or fewer words than the quote."""
    slack = max(2, math.ceil(2 * words * (1 - threshold) / max(threshold, 1e-9)))
    return range(max(1, words - slack), min(available, words + slack) + 1)


def _plausible_windows(
    tokens: tuple[tuple[int, int, str], ...], target: str, size: int, threshold: float
) -> list[int]:
    """First-token indexes of windows whose character-count bound (difflib's quick_ratio,
    kept up to date as the window slides) can still reach the threshold."""
    want = Counter(target)
    have: Counter[str] = Counter()
    shared = 0  # sum over characters of min(have, want), not counting the joining spaces
    length = 0
    spaces = min(size - 1, want[" "])
    found: list[int] = []
    for index, (_, _, word) in enumerate(tokens):
        for ch in word:
            shared += have[ch] < want[ch]
            have[ch] += 1
        length += len(word)
        if index >= size:
            for ch in tokens[index - size][2]:
                have[ch] -= 1
                shared -= have[ch] < want[ch]
            length -= len(tokens[index - size][2])
        if index >= size - 1:
            window_length = length + size - 1
            if 2 * (shared + spaces) >= threshold * (window_length + len(target)):
                found.append(index - size + 1)
    return found
