"""Pure text helpers shared by the answer engine: words, sentences with offsets, overlap scores."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:[.\-/][a-z0-9]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z(\"'])|\n\s*\n|(?<=:)\s*\n")

# Words that carry no meaning for matching a question to a service or passage.
QUESTION_WORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have how i if in
    into is it its me of on or please request requests requested requesting show tell that the
    their them then there these they this to was were what when where which who whom why will with
    would about any all case cases letter letters decision decisions decided review reviewer
    upheld uphold overturned overturn overturns partially partial denied approved outcome
    determination many number count much most least""".split()
)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in QUESTION_WORDS and not (len(w) == 1 and not w.isdigit())]


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence in text[start:end], trimmed of surrounding whitespace."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for match in _SENTENCE_END.finditer(text, start, end):
        spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, end))
    trimmed = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            trimmed.append((a, b))
    return trimmed


def printable(text: str) -> str:
    """`text` safe to print on one terminal line: control characters (newline, carriage return,
    the ESC that starts an ANSI sequence), bidi overrides and other invisible characters are shown
    as escapes (\\n, \\x1b, \\u202e), so a file named "x\\ningested 999" prints as one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


_SERVICE_TOKEN = re.compile(r"[a-z0-9]+")


def plural_blind(word: str) -> str:
    """'injections' -> 'injection', 'x-rays' -> 'x-ray'; 'class', 'status' and short words kept."""
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def service_tokens(text: str) -> list[str]:
    """The words the service index stores and searches: runs of letters and digits, lower-case,
    plural-blind ('EMG/NCV' -> ['emg', 'ncv'], 'X-rays' -> ['x', 'ray'])."""
    return [plural_blind(t) for t in _SERVICE_TOKEN.findall(text.lower())]
