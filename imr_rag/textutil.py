"""Pure text helpers: words, sentences with offsets, overlap scores, and case numbers read the
same however they were typed."""

from __future__ import annotations

import codecs
import re
import unicodedata

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


# -- case numbers ------------------------------------------------------------------------------
# A case number is the key that says which letters decide one case, so look-alikes of it must be
# read as the case they imitate, wherever one is read (letters, questions, filters, arguments):
# NFKC (full-width digits and letters), Unicode dashes and hyphens as "-", Cyrillic and Greek
# letters that look like Latin ones as those, invisible characters dropped, upper case.
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff"
_CONFUSABLE_PAIRS = (
    # Cyrillic capitals and small letters drawn like Latin ones
    ("\u0410\u0412\u0421\u0415\u041d\u0406\u0408\u041a\u041c\u041e\u0420\u0405\u0422\u0425\u0423",
     "ABCEHIJKMOPSTXY"),
    ("\u0430\u0441\u0435\u0456\u0458\u043e\u0440\u0455\u0445\u0443", "aceijopsxy"),
    # Greek capitals drawn like Latin ones
    ("\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7",
     "ABEZHIKMNOPTYX"),
)
_FOLD = {ord(c): "-" for c in DASHES}
for _look_alikes, _latin in _CONFUSABLE_PAIRS:
    _FOLD.update({ord(a): b for a, b in zip(_look_alikes, _latin, strict=True)})


def fold_look_alikes(text: str) -> str:
    """`text` with dashes, full-width forms and Latin look-alike letters as their ASCII
    counterparts, one character for one (offsets into the result are offsets into `text`)."""
    if text.isascii():
        return text
    return "".join(_fold_char(ch) for ch in text)


def _fold_char(ch: str) -> str:
    if ch.isascii():
        return ch
    folded = _FOLD.get(ord(ch))
    if folded is not None:
        return folded
    compat = unicodedata.normalize("NFKC", ch)
    return compat if len(compat) == 1 else ch


def strip_invisible(text: str) -> str:
    """`text` without zero-width and other invisible characters (a zero-width space inside a case
    number would cut it in two)."""
    return text.translate(_INVISIBLE_TABLE)


_INVISIBLE_TABLE = {ord(c): None for c in INVISIBLE}


def normalize_case_number(raw: str) -> str:
    """The canonical form of a case number however it was typed or printed: 'cm16-0232543',
    'ＣＭ１６－０２３２５４３', 'CM16\u20110232543' and 'СМ16-0232543' (Cyrillic) are all 'CM16-0232543'."""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(ch for ch in text if ch not in INVISIBLE and unicodedata.category(ch) not in ("Cc", "Cf"))
    return fold_look_alikes(text).strip().upper()


# -- decoding text files (letters and the DMHC CSV) ------------------------------------------------
BYTE_ORDER_MARKS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
"""(mark, encoding) of the byte-order marks that say a file's encoding; UTF-32 before UTF-16
(FF FE 00 00 starts with FF FE). UTF-8's own mark is read by the 'utf-8-sig' codec."""
WINDOWS_1252_C1 = "imr-windows-1252-c1"
"""Error handler for `bytes.decode("cp1252", errors=WINDOWS_1252_C1)`: see `_windows_1252_c1`."""


def _windows_1252_c1(error: UnicodeDecodeError) -> tuple[str, int]:
    """The five bytes Python's cp1252 leaves undefined (0x81 0x8D 0x8F 0x90 0x9D) read as the
    C1 controls they stand for, as the WHATWG Windows-1252 decoder (what browsers use) reads them."""
    return "".join(chr(b) for b in error.object[error.start : error.end]), error.end


codecs.register_error(WINDOWS_1252_C1, _windows_1252_c1)
