"""Fuzz the reader and the normaliser end to end: bytes on disk -> Document (or UnreadableDocument).

Three kinds of input, each file under a per-file time limit:
- random bytes under every supported suffix (and behind a PDF header, so pdfium parses them);
- letters mutated along their real structure: lines deleted, duplicated, swapped or cut, HTML
  and markdown markup, entities, control characters, odd line endings and Unicode inserted,
  re-encoded as UTF-16, UTF-8 with BOM or Windows-1252;
- a real PDF of a letter with bytes flipped, deleted or inserted.

Whatever the input, read_document returns a Document whose offsets map every character back to
the source text it came from, or raises UnreadableDocument; nothing else, and never slowly.
"""

from __future__ import annotations

import time
import unicodedata
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import SYNTHETIC_LETTERS, seed_files, write_pdf
from imr_rag.ingest.documents import SUPPORTED_SUFFIXES, read_document
from imr_rag.errors import UnreadableDocument

PER_FILE_MS = 15000
"""A hang, not a speed: a typical file takes a few ms, but the limit is wall time and a shared
2-core machine at load 7 (a CI run beside benchmarks, 2026-12-07) took 5.4 s on one PDF file
(its worker process waited for a core); a runaway regex or parser loop takes far longer."""
FUZZ = settings(
    max_examples=400, deadline=timedelta(milliseconds=PER_FILE_MS), derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
LETTERS = sorted(p for p in SYNTHETIC_LETTERS.iterdir() if p.suffix in {".txt", ".md", ".html"}) + seed_files()
LETTER_TEXTS = [p.read_text(encoding="utf-8") for p in LETTERS]
INSERTS = [
    "<b>", "</p>", "<br>", "<div class='x'>", "<script>alert(1)</script>", "<!--", "-->", "<img src=x>",
    "&amp;", "&eacute;", "&#0;", "&#x110000;", "&#99999999;", "&bogus;", "### ", "**", "\r\n", "\r", "\f",
    "\v", "\x00", "\x1b[31m", "\t", "\u00a0", "\u200b", "\u2028", "\u202e", "\ufeff", "\ud7ff", "é", "’",
    "\U0001f600", "-\n", "\n\n\n\n", "IMR ISSUES, DECISIONS AND RATIONALES\n", "Case Number: CM16-0000001\n",
    ": Overturned\n", "Decision rationale: ", "Page 2 of 3\n",
]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252"]
STATS = {"inputs": 0, "read": 0, "unreadable": 0, "slowest_ms": 0.0}


def check(path: Path) -> None:
    """read_document gives a Document with a sound map, or UnreadableDocument; within the limit."""
    STATS["inputs"] += 1
    started = time.perf_counter()
    try:
        doc = read_document(path)
    except UnreadableDocument as exc:
        assert exc.path == str(path) and exc.reason and "\n" not in exc.reason
        STATS["unreadable"] += 1
        return
    finally:
        STATS["slowest_ms"] = max(STATS["slowest_ms"], (time.perf_counter() - started) * 1000)
    STATS["read"] += 1
    text, source = doc.text, doc.source_text
    assert text.strip()
    offsets, ends = doc.offsets, doc.ends
    assert len(offsets) == len(text) + 1 and len(ends) == len(text)
    assert offsets[-1] == len(source)
    assert np.all(np.diff(offsets) >= 0), "offsets run backwards"
    assert np.all(offsets[:-1] < ends) and np.all(ends <= len(source))
    # A character that comes from one source character maps to it: itself, or one of the letters
    # that character folds into (a ligature such as "\ufb00" becomes "ff", each f mapped to it).
    kept = np.flatnonzero(ends - offsets[:-1] == 1)
    for i in kept[:: max(1, len(kept) // 400)]:
        if text[i].isalnum():
            origin = source[offsets[i]]
            assert text[i] in (origin, *unicodedata.normalize("NFKC", origin)), (i, text[i], origin)
    # Any span maps to a span of the source that holds its letters and digits, in order.
    for start, end in ((0, len(text)), (len(text) // 3, len(text) // 2), (len(text), len(text))):
        a, b = doc.source_span(start, end)
        assert 0 <= a <= b <= len(source)
        wanted = [c for c in text[start:end] if c.isascii() and c.isalnum()]
        got = iter("".join(unicodedata.normalize("NFKC", c) for c in source[a:b]))  # ligatures unfolded
        assert all(c in got for c in wanted[:2000]), "a span's characters are missing from its source span"


def write(tmp_path: Path, data: bytes, suffix: str) -> Path:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    return path


# -- random bytes ----------------------------------------------------------------------------
@FUZZ
@given(data=st.binary(min_size=1, max_size=4096), suffix=st.sampled_from(sorted(SUPPORTED_SUFFIXES)),
       pdf_header=st.booleans())
def fuzz_random_bytes(tmp_path: Path, data: bytes, suffix: str, pdf_header: bool) -> None:
    if pdf_header and suffix == ".pdf":
        data = b"%PDF-1.4\n" + data
    check(write(tmp_path, data, suffix))


# -- mutated letters -------------------------------------------------------------------------
@st.composite
def mutated_letter(draw: st.DrawFn) -> tuple[bytes, str]:
    index = draw(st.integers(0, len(LETTER_TEXTS) - 1))
    lines = LETTER_TEXTS[index].splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 8))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "cut", "upper", "join"]))
        if kind == "delete":
            del lines[at]
        elif kind == "duplicate":
            lines.insert(at, lines[at] * draw(st.integers(1, 50)))
        elif kind == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif kind == "insert":
            extra = draw(st.one_of(st.sampled_from(INSERTS), st.text(max_size=20)))
            cut = draw(st.integers(0, len(lines[at])))
            lines[at] = lines[at][:cut] + extra + lines[at][cut:]
        elif kind == "cut":
            lines = lines[: at + 1]
            lines[-1] = lines[-1][: draw(st.integers(0, len(lines[-1])))]
        elif kind == "upper":
            lines[at] = lines[at].upper()
        else:
            lines[at] = lines[at].rstrip("\r\n") + " "
    text = "".join(lines)
    encoding = draw(st.sampled_from(ENCODINGS))
    suffix = draw(st.sampled_from([LETTERS[index].suffix, ".txt", ".md", ".html"]))
    data = text.encode(encoding, errors="replace" if encoding == "cp1252" else "surrogatepass")
    return data, suffix


@FUZZ
@given(letter=mutated_letter())
def fuzz_mutated_letters(tmp_path: Path, letter: tuple[bytes, str]) -> None:
    data, suffix = letter
    if data:
        check(write(tmp_path, data, suffix))


# -- mutated PDF -----------------------------------------------------------------------------
@st.composite
def mutated_pdf(draw: st.DrawFn, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif at > 16:
            del data[at:]
        if not data:
            break
    return bytes(data)


@pytest.fixture(scope="module")
def pdf_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("fuzz-pdf")
    return write_pdf((SYNTHETIC_LETTERS / "dwc_cm99_0000001.txt").read_text(encoding="utf-8"), folder / "l.pdf").read_bytes()


def test_random_bytes_read_or_fail_typed(tmp_path: Path) -> None:
    fuzz_random_bytes(tmp_path)


def test_mutated_letters_read_with_a_sound_map_or_fail_typed(tmp_path: Path) -> None:
    before = STATS["read"]
    fuzz_mutated_letters(tmp_path)
    assert STATS["read"] > before, "mutations this mild should leave most letters readable"


@pytest.mark.parametrize("text", ["0\ufb00Cedar Street\nIMR letter\n", "\ufb01le one\n\ufb01le two\n"])
def test_ligatures_map_to_the_character_they_came_from(tmp_path: Path, text: str) -> None:
    """A case hypothesis found: each letter a ligature folds into maps to the ligature's offset."""
    path = tmp_path / "ligature.txt"
    path.write_text(text, encoding="utf-8")
    check(path)


def test_mutated_pdfs_read_or_fail_typed(tmp_path: Path, pdf_bytes: bytes) -> None:
    @settings(FUZZ, max_examples=200)
    @given(data=mutated_pdf(pdf_bytes))
    def fuzz(data: bytes) -> None:
        if data:
            check(write(tmp_path, data, ".pdf"))

    fuzz()


def test_zz_report_how_much_was_fuzzed() -> None:
    """Runs after the fuzzers in this module (pytest keeps file order): says what they covered."""
    if STATS["inputs"] == 0:
        pytest.skip("the fuzz tests did not run in this session")
    print(f"\nfuzzed {STATS['inputs']} inputs: {STATS['read']} read, {STATS['unreadable']} unreadable; "
          f"slowest {STATS['slowest_ms']:.0f} ms (limit {PER_FILE_MS} ms per file)")
    assert STATS["slowest_ms"] < PER_FILE_MS
