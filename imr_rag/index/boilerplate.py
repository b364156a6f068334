"""Which chunks repeat a paragraph most letters of their format carry, so the dense stage can leave
them out (they stay in the lexical index, which every chunk is in).

A DWC letter repeats its header layout, "HOW THE IMR FINAL DETERMINATION WAS MADE ..." and "IMR
ISSUES, DECISIONS AND RATIONALES ..." nearly word for word; most of such a chunk says nothing
about the case, and a year holds some 170,000 copies of each. What it does say (the reviewer's
specialty and licences, the dates) is the part the dense stage embeds (`specific_text`): a few
tokens instead of a paragraph, and a chunk with nothing specific is left out of the dense store. Near-duplicates, not only exact ones:
texts are compared as sets of word shingles (`SHINGLE` words each, digits masked, so a case number
or a date does not make a header unique), and a chunk is boilerplate when at least
`containment` of its shingles are *common*: found in at least half the sampled letters of its
format (and in at least `MIN_LETTERS` of them). The common shingles are learned from a sample of
the catalog's letters (`sample_letters`), per letter format, so a format seen in a few letters
has no boilerplate until it has enough.

Pure except for `sample_letters` and `mark_skipped`, which read and write the catalog's `chunks`
table through the connection they are handed (this package never imports the catalog): a chunk
left out is marked `embedded = 2`, so it is neither pending (0) nor counted as in the dense
store (1).
"""

from __future__ import annotations

import re
import sqlite3
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

SHINGLE = 5
"""Words per shingle: long enough that common phrasing ('the patient has') is not a shared shingle."""
MIN_LETTERS = 5
"""A format needs this many sampled letters before any of its shingles can be common."""
COMMON_SHARE = 0.5
"""A shingle is common when at least this share of the sampled letters of its format contain it."""
SAMPLE_LETTERS = 500
"""Letters per format read to learn the common shingles (about 5,000 chunks: well under a second)."""
SKIPPED = 2
"""`chunks.embedded` of a chunk the dense stage left out as boilerplate."""

_WORD = re.compile(r"[a-z0-9]+")
_DIGITS = re.compile(r"\d")


def shingles(text: str) -> set[int]:
    """The chunk's word shingles as 32-bit hashes: lower case, every digit read as 0, punctuation
    and line breaks ignored. A text shorter than one shingle is one shingle of all its words."""
    words = _WORD.findall(_DIGITS.sub("0", text.lower()))
    if not words:
        return set()
    if len(words) < SHINGLE:
        return {zlib.crc32(" ".join(words).encode())}
    return {zlib.crc32(" ".join(words[i : i + SHINGLE]).encode()) for i in range(len(words) - SHINGLE + 1)}


@dataclass
class BoilerplateFilter:
    """Common shingles per letter format, and the share of a chunk's shingles that makes it boilerplate."""

    common: dict[str, set[int]] = field(default_factory=dict)
    containment: float = 0.8
    letters: dict[str, int] = field(default_factory=dict)
    """Sampled letters per format (for reports)."""

    @classmethod
    def learn(cls, letters: Iterable[tuple[str, str, list[str]]], containment: float = 0.8) -> BoilerplateFilter:
        """From (doc id, letter format, chunk texts) of sampled letters."""
        counts: dict[str, Counter[int]] = defaultdict(Counter)
        seen: dict[str, int] = defaultdict(int)
        for _, letter_format, texts in letters:
            union: set[int] = set()
            for text in texts:
                union |= shingles(text)
            counts[letter_format].update(union)
            seen[letter_format] += 1
        common = {}
        for letter_format, counter in counts.items():
            n = seen[letter_format]
            if n < MIN_LETTERS:
                continue
            floor = max(MIN_LETTERS, COMMON_SHARE * n)
            common[letter_format] = {s for s, c in counter.items() if c >= floor}
        return cls(common=common, containment=containment, letters=dict(seen))

    def is_boilerplate(self, text: str, letter_format: str) -> bool:
        """Most of the text's shingles are common in letters of its format."""
        common = self.common.get(letter_format)
        if not common:
            return False
        own = shingles(text)
        return bool(own) and len(own & common) >= self.containment * len(own)

    def specific_text(self, text: str, letter_format: str) -> str | None:
        """What the dense stage embeds of a boilerplate chunk: None when the chunk is not
        boilerplate (embed it whole); else its letter-specific words, the runs of words no common
        shingle covers and every word with a digit in it (a date, a number), joined with '; ';
        '' when there are none (the chunk is left out of the dense store)."""
        if not self.is_boilerplate(text, letter_format):
            return None
        common = self.common[letter_format]
        spans = [(m.start(), m.end()) for m in _WORD.finditer(text.lower())]
        normal = [_DIGITS.sub("0", text[a:b].lower()) for a, b in spans]
        covered = [False] * len(spans)
        for i in range(len(spans) - SHINGLE + 1):
            if zlib.crc32(" ".join(normal[i : i + SHINGLE]).encode()) in common:
                covered[i : i + SHINGLE] = [True] * SHINGLE
        if len(spans) < SHINGLE and shingles(text) <= common:
            covered = [True] * len(spans)
        runs: list[tuple[int, int]] = []
        for (a, b), cover in zip(spans, covered):
            if cover and not _DIGITS.search(text, a, b):
                continue
            if runs and not text[runs[-1][1] : a].strip(" ,.&/-:()'\t"):
                runs[-1] = (runs[-1][0], b)  # the next word of the same run
            else:
                runs.append((a, b))
        return "; ".join(text[a:b] for a, b in runs)


def sample_letters(db: sqlite3.Connection, per_format: int = SAMPLE_LETTERS) -> list[tuple[str, str, list[str]]]:
    """(doc id, letter format, chunk texts) of up to `per_format` letters of each format: the first
    by document id, which is a content hash, so the sample is spread over the library and the
    same for the same library."""
    chosen: dict[str, list[str]] = defaultdict(list)
    for doc_id, letter_format in db.execute("SELECT doc_id, letter_format FROM documents ORDER BY doc_id"):
        if len(chosen[letter_format]) < per_format:
            chosen[letter_format].append(doc_id)
    out = []
    for letter_format, doc_ids in chosen.items():
        for i in range(0, len(doc_ids), 500):
            part = doc_ids[i : i + 500]
            texts: dict[str, list[str]] = defaultdict(list)
            rows = db.execute(f"SELECT doc_id, text FROM chunks WHERE doc_id IN ({','.join('?' * len(part))})", part)
            for doc_id, text in rows:
                texts[doc_id].append(text)
            out += [(doc_id, letter_format, texts[doc_id]) for doc_id in part]
    return out


def mark_skipped(db: sqlite3.Connection, chunk_ids: list[str]) -> None:
    """Mark chunks as left out of the dense store (the caller commits, as one transaction)."""
    db.executemany(f"UPDATE chunks SET embedded = {SKIPPED} WHERE chunk_id = ?", [(c,) for c in chunk_ids])


def count_skipped(db: sqlite3.Connection) -> int:
    return db.execute(f"SELECT COUNT(*) FROM chunks WHERE embedded = {SKIPPED}").fetchone()[0]
