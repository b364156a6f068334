"""Text normalisation that remembers, for every output character, where it came from.

Every step is a regex rewrite; `MappedText` composes them so that a span of the normalised
text can always be mapped back to the source text it was derived from. Pure: no I/O.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from imr_rag.textutil import INVISIBLE

Replacement = str | Callable[[re.Match[str]], str]

_HTML_TAG = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?\s*>")
_HTML_BLOCK_END = re.compile(r"<\s*(?:br\s*/?|/p|/div|/h[1-6]|/li|/tr|/title)\s*>", re.IGNORECASE)
_HTML_DROPPED = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->|<!DOCTYPE[^>]*>", re.DOTALL | re.IGNORECASE)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_MD_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE)
_MD_BOLD = re.compile(r"\*\*")
_INVISIBLE_INSIDE_WORD = re.compile(f"(?<=\\S)[{INVISIBLE}]+(?=\\S)")
_INVISIBLE_CHAR = re.compile(f"[{INVISIBLE}]")


@dataclass(frozen=True)
class MappedText:
    """A derived text plus where each character came from in the source.

    `offsets[i]` is the source index where text[i] starts and `ends[i]` the source index just
    after it. `offsets` has len(text) + 1 entries (the last is len(source)) so an empty span at
    the end maps too. A character a rewrite put in place of a source run (a space for a tab, "é"
    for "&eacute;") starts at the run's start and ends at the run's end.
    """

    text: str
    offsets: np.ndarray
    ends: np.ndarray

    @classmethod
    def identity(cls, source: str) -> MappedText:
        return cls(source, np.arange(len(source) + 1, dtype=np.int64), np.arange(1, len(source) + 1, dtype=np.int64))

    def sub(self, pattern: re.Pattern[str], repl: Replacement) -> MappedText:
        """Apply a regex rewrite, carrying the offsets along.

        The text is split into pieces: runs kept as they were and replacements. A kept character
        keeps its offsets; a replacement's characters all start where the replaced run started
        and end where it ended (an empty run: where it is). The maps are built for all pieces at
        once (numpy), not per match.
        """
        texts: list[str] = []
        piece_start: list[int] = []  # per piece: index into offsets of its first character
        piece_end: list[int] = []  # per piece: index into ends (+ len(text): into offsets) of it
        piece_len: list[int] = []
        piece_kept: list[bool] = []
        n = len(self.text)
        pos = 0
        for match in pattern.finditer(self.text):
            start, end = match.span()
            new = repl if isinstance(repl, str) else repl(match)
            if new == match.group(0):
                continue
            texts += [self.text[pos:start], new]
            piece_start += [pos, start]
            piece_end += [pos, end - 1 if end > start else n + start]
            piece_len += [start - pos, len(new)]
            piece_kept += [True, False]
            pos = end
        if not texts:
            return self
        texts.append(self.text[pos:])
        piece_start.append(pos)
        piece_end.append(pos)
        piece_len.append(n - pos)
        piece_kept.append(True)
        lens = np.array(piece_len, dtype=np.int64)
        total = int(lens.sum())
        out_start = np.zeros(len(lens), dtype=np.int64)
        np.cumsum(lens[:-1], out=out_start[1:])
        within = (np.arange(total, dtype=np.int64) - np.repeat(out_start, lens)) * np.repeat(np.array(piece_kept), lens)
        starts = self.offsets[np.repeat(np.array(piece_start, dtype=np.int64), lens) + within]
        ends = np.concatenate([self.ends, self.offsets])[np.repeat(np.array(piece_end, dtype=np.int64), lens) + within]
        return MappedText("".join(texts), np.append(starts, self.offsets[-1]), ends)

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Map [start, end) of this text to the covering span of the source text."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span {start}:{end} outside text of length {len(self.text)}")
        if start == end:
            point = int(self.offsets[start])
            return point, point
        return int(self.offsets[start]), int(self.ends[end - 1])


def looks_like_html(text: str) -> bool:
    return bool(_HTML_TAG.search(text[:20000]))


def _entity(match: re.Match[str]) -> str:
    return html.unescape(match.group(0))


def _is_double_spaced(text: str) -> bool:
    """True when most line breaks come with a blank line (the seeds' export artefact)."""
    single = len(re.findall(r"[^\n]\n(?=[^\n])", text))
    double = len(re.findall(r"[^\n]\n\n(?=[^\n])", text))
    return double >= 8 and double > 2 * single


def _collapse_blank_runs(match: re.Match[str]) -> str:
    """In double-spaced text one blank line is a line break; two or more are a paragraph."""
    return "\n" if len(match.group(0)) == 2 else "\n\n"


_LIGATURE = re.compile("[\ufb00-\ufb06]")


def folded(char: str) -> str:
    """What normalisation writes for one source character it folds (a ligature's letters); the
    character itself otherwise."""
    return unicodedata.normalize("NFKC", char) if _LIGATURE.fullmatch(char) else char


_PAGE_NUMBER = re.compile(r"(?:page\s*#(?:\s*(?:of|/)\s*#)?|-\s*#\s*-|#\s*(?:/|of)\s*#|#)", re.IGNORECASE)
_LINE = re.compile(r"[^\n\f]*\n?")
FURNITURE_DEPTH = 2  # header/footer lines looked at at each end of a page


def _furniture_key(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split())).lower()


def _page_furniture(text: str) -> set[int]:
    """Start offsets of the running header/footer lines of a paged text (pages split by \\f).

    A line at the top or bottom of a page is furniture when the same line (digits aside) sits at
    a page edge on every page (or every page but one), or when it is a bare page number ("Page 2 of 5", "- 3 -").
    Such lines are peeled off each page edge; the same words inside a page are kept.
    """
    if "\f" not in text:
        return set()
    pages: list[list[tuple[int, str]]] = []
    pos = 0
    for page in text.split("\f"):
        lines = [(pos + m.start(), m.group(0)) for m in _LINE.finditer(page) if m.group(0).strip()]
        pages.append(lines)
        pos += len(page) + 1
    seen: dict[str, set[int]] = {}
    for n, lines in enumerate(pages):
        for _, line in lines[:FURNITURE_DEPTH] + lines[-FURNITURE_DEPTH:]:
            seen.setdefault(_furniture_key(line), set()).add(n)
    # Running furniture is on every page, or every page but the first (a letterhead page).
    every = max(2, len(pages) - 1)
    furniture = {key for key, on in seen.items() if len(on) >= every and len(key) <= 120 or _PAGE_NUMBER.fullmatch(key)}
    drop: set[int] = set()
    for lines in pages:
        for edge in (lines, lines[::-1]):
            for start, line in edge[:FURNITURE_DEPTH]:
                if _furniture_key(line) not in furniture:
                    break
                drop.add(start)
    return drop


def _strip_lines(m: MappedText, starts: set[int]) -> MappedText:
    if not starts:
        return m
    return m.sub(_LINE, lambda match: "" if match.start() in starts and match.group(0) else match.group(0))


def _join_hyphenated(m: MappedText) -> MappedText:
    """A word hyphenated across a line break: the break goes; the hyphen goes too when the letter
    spells the word without it elsewhere (and never with it), else it may be real and stays."""
    if "-\n" not in m.text or not _HYPHEN_BREAK.search(m.text):  # most texts: no words to collect
        return m
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", m.text)}
    hyphenated = {w.lower() for w in re.findall(r"[A-Za-z]+-[A-Za-z]+", m.text)}

    def join(match: re.Match[str]) -> str:
        text = match.string
        head = re.search(r"[A-Za-z]+$", text[: match.start()]).group(0)
        tail = re.match(r"[a-z]+", text[match.end():]).group(0)
        if (head + tail).lower() in words and f"{head}-{tail}".lower() not in hyphenated:
            return ""
        return "-"

    return m.sub(_HYPHEN_BREAK, join)


_HYPHEN_BREAK = re.compile(r"(?<=[A-Za-z])-\n(?=[a-z])")


def normalise(source: str, *, html_input: bool | None = None) -> MappedText:
    """Clean extracted or exported letter text, keeping the map back to `source`.

    Line structure is kept (headings are found by line); only artefacts are removed: CR/LF and
    page breaks, running page headers and footers, ligature characters, HTML tags and entities,
    markdown heading marks and bold, runs of spaces and tabs, the blank line between every line,
    and line breaks inside hyphenated words.
    """
    m = MappedText.identity(source)
    m = m.sub(re.compile(r"\r\n?|\v|\u2028|\u2029"), "\n")
    m = _strip_lines(m, _page_furniture(m.text))
    if "\f" in m.text:  # (each `in` test skips a regex scan of the whole text that would find nothing)
        m = m.sub(re.compile(r"\n?\f"), "\n")  # a page break ends a line; it does not make a blank one
    m = m.sub(_LIGATURE, lambda match: folded(match.group(0)))
    if html_input if html_input is not None else looks_like_html(source):
        m = m.sub(_HTML_DROPPED, "")
        m = m.sub(_HTML_COMMENT, "")
        m = m.sub(_HTML_BLOCK_END, "\n")
        m = m.sub(_HTML_TAG, "")
        m = m.sub(_ENTITY, _entity)
    m = m.sub(_MD_HEADING, "")
    m = m.sub(_MD_BOLD, "")
    # An invisible character inside a word is dropped: a zero-width space in "CM16-02325\u200b43"
    # would otherwise split the case number (between words it is a blank, below).
    if _INVISIBLE_CHAR.search(m.text):
        m = m.sub(_INVISIBLE_INSIDE_WORD, "")
    # Runs of blanks become one space; a lone space (most of them) is left alone, not matched.
    if any(blank in m.text for blank in ("  ", "\t", "\u00a0", "\u200b")):
        m = m.sub(re.compile(r"(?: (?=[ \t\u00a0\u200b])|[\t\u00a0\u200b])[ \t\u00a0\u200b]*"), " ")
    if " \n" in m.text or "\n " in m.text or m.text[:1] == " " or m.text[-1:] == " ":
        m = m.sub(re.compile(r" +(?=\n)|(?<=\n) +|^ +| +$"), "")
    if _is_double_spaced(m.text):
        m = m.sub(re.compile(r"\n{2,}"), _collapse_blank_runs)
    else:
        m = m.sub(re.compile(r"\n{3,}"), "\n\n")
    m = _join_hyphenated(m)
    if m.text[:1] == "\n" or m.text[-1:] == "\n":
        m = m.sub(re.compile(r"^\n+|\n+$"), "")
    return m
