"""Find a quoted passage in a document's text and return its exact span, or nothing.

Three passes, strictest first: exact, whitespace-insensitive, fuzzy. Whatever pass succeeds,
the returned Evidence slices the text exactly (`text[start:end] == quote`): a span is never
invented, and a quote that matches nothing well enough gives None. A fuzzy match must say the
same thing as the quote: one that adds or drops a negation ("is not medically necessary"),
flips a negating prefix ("unnecessary") or changes a number is refused, however few characters
differ. Pure: no I/O.
"""

from __future__ import annotations

import bisect
import math
import re
from functools import lru_cache

from imr_rag.schema import Alignment, Evidence

_NON_SPACE = re.compile(r"\S")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NEGATIONS = frozenset("not no non never neither nor none nothing cannot without".split())
_NEGATING_PREFIXES = ("un", "non", "in", "im", "dis")


def align_quote(
    text: str, quote: str, *, hint: int = 0, fuzzy_threshold: float = 0.9
) -> Evidence | None:
    """Locate `quote` in `text`; among equal matches prefer the one starting nearest `hint`.

    1. exact: `quote` occurs verbatim;
    2. whitespace: equal once all whitespace is ignored (line breaks, doubled or missing spaces);
    3. fuzzy: the passage with the fewest character edits from the quote (whitespace ignored),
       if similarity = 1 - edits / quote length is at least `fuzzy_threshold`; the span is
       widened to whole words.
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
    if span is None or not same_claim(quote, text[span[0] : span[1]]):
        return None
    return _evidence(text, span, Alignment.fuzzy)


def same_claim(quote: str, passage: str) -> bool:
    """False when `passage` differs from `quote` in a way that reverses or alters what it says:
    a negation added or dropped, a word gaining or losing a negating prefix ("necessary" /
    "unnecessary"), or different numbers. Typos and spacing do not count."""
    if _NUMBER.findall(quote) != _NUMBER.findall(passage):
        return False
    quote_words, passage_words = _words(quote), _words(passage)
    if _negations(quote_words) != _negations(passage_words):
        return False
    only_quote = set(quote_words) - set(passage_words)
    only_passage = set(passage_words) - set(quote_words)
    return not any(
        _prefixed(a, b) or _prefixed(b, a) for a in only_quote for b in only_passage
    )


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def _negations(words: list[str]) -> list[str]:
    return sorted(w for w in words if w in _NEGATIONS or w.endswith("n't"))


def _prefixed(word: str, stem: str) -> bool:
    """`word` is `stem` with a negating prefix, hyphen-blind ("non-certified" reads as two words)."""
    return any(word == prefix + stem for prefix in _NEGATING_PREFIXES)


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


def _fuzzy_span(text: str, quote: str, hint: int, threshold: float) -> tuple[int, int] | None:
    """The passage within `(1 - threshold) * len(quote)` edits of the quote (whitespace
    ignored) with the fewest edits, nearest `hint` among equals, widened to whole words."""
    squeezed_text, positions = _squeezed(text)
    pattern, _ = _squeezed(quote)
    max_edits = math.floor(len(pattern) * (1 - threshold) + 1e-9)
    if max_edits == 0 or not squeezed_text:
        return None  # no edits allowed: the whitespace pass already said no
    scores = _edit_scores(pattern, squeezed_text, anchored=False)
    fewest = min(scores)
    if fewest > max_edits:
        return None
    hint_at = bisect.bisect_left(positions, hint)
    end = min(
        (j for j, score in enumerate(scores) if score == fewest),
        key=lambda j: (abs(j + 1 - len(pattern) - hint_at), j),
    )
    start = _match_start(pattern, squeezed_text, end, fewest, max_edits)
    return _whole_words(text, positions[start], positions[end] + 1)


def _edit_scores(pattern: str, text: str, *, anchored: bool) -> list[int]:
    """Edit distance between `pattern` and the best passage of `text` ending at each index.

    Myers' bit-parallel algorithm (Hyyro's formulation): one pass, the pattern's DP column
    packed into Python integers. `anchored` makes passages start at text[0] (plain edit
    distance of prefixes) instead of anywhere.
    """
    mask = (1 << len(pattern)) - 1
    high = 1 << (len(pattern) - 1)
    peq: dict[str, int] = {}
    for i, ch in enumerate(pattern):
        peq[ch] = peq.get(ch, 0) | (1 << i)
    pv, mv, score, carry = mask, 0, len(pattern), int(anchored)
    scores: list[int] = []
    for ch in text:
        eq = peq.get(ch, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & mask)
        mh = pv & xh
        score += 1 if ph & high else -1 if mh & high else 0
        ph = ((ph << 1) | carry) & mask
        mh = (mh << 1) & mask
        pv = mh | (~(xv | ph) & mask)
        mv = ph & xv
        scores.append(score)
    return scores


def _match_start(pattern: str, text: str, end: int, edits: int, max_edits: int) -> int:
    """Start of the shortest passage ending at `end` that is `edits` edits from the pattern."""
    low = max(0, end + 1 - len(pattern) - max_edits)
    backwards = _edit_scores(pattern[::-1], text[low : end + 1][::-1], anchored=True)
    return end - next(i for i, score in enumerate(backwards) if score == edits)


def _whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span that cuts a word so that it covers the whole word."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end
