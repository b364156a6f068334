"""Lexical (BM25) index over the same chunks as the dense store, persisted beside it (bm25s)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Keep short clinical tokens (L5, S1, #60) and case-number parts; drop common English words.
_TOKEN = re.compile(r"[a-z0-9]+(?:[./][a-z0-9]+)*")
STOPWORDS = frozenset(
    """a an and are as at be been but by for from had has have he her his if in into is it its
    of on or she that the their them then there these they this to was were which who will with
    was what when where how did does do not no than so such""".split()
)


def tokenize(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


@dataclass(frozen=True)
class LexicalMeta:
    """Per-chunk metadata in index order, for filtering lexical hits without the catalog."""

    chunk_ids: list[str]
    doc_ids: list[str]
    case_numbers: list[str | None]
    formats: list[str]
    sections: list[str]


class LexicalIndex:
    """A BM25 index plus the chunk ids in index order."""

    META_FILE = "chunks.json"
    MANIFEST_FILE = "manifest.json"

    def __init__(self, path: Path):
        self.path = path
        self._retriever = None
        self.meta: LexicalMeta | None = None
        self.loaded_generation: int | None = None

    @property
    def generation(self) -> int | None:
        """The catalog generation this index was built from (None: no index on disk)."""
        try:
            return json.loads((self.path / self.MANIFEST_FILE).read_text())["generation"]
        except (OSError, ValueError, KeyError):
            return None

    @staticmethod
    def build(
        path: Path, rows: Iterable[tuple[str, str, str | None, str, str, str]], generation: int
    ) -> LexicalIndex:
        """Rebuild the index from (chunk id, doc id, case number, format, section, text) rows of
        the catalog at `generation`.

        Rows are streamed and only their tokens are kept. The index is written to a temporary
        folder and then swapped in, so a reader never sees a half-written index.
        """
        import bm25s

        tmp = path.with_name(path.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        meta: dict[str, list] = {f: [] for f in ("chunk_ids", "doc_ids", "case_numbers", "formats", "sections")}
        corpus_tokens = []
        for chunk_id, doc_id, case_number, letter_format, section, text in rows:
            for field, value in zip(meta, (chunk_id, doc_id, case_number, letter_format, section)):
                meta[field].append(value)
            corpus_tokens.append(tokenize(text) or ["_empty_"])
        if corpus_tokens:
            retriever = bm25s.BM25()
            retriever.index(corpus_tokens, show_progress=False)
            retriever.save(str(tmp), show_progress=False)
        (tmp / LexicalIndex.META_FILE).write_text(json.dumps(meta))
        (tmp / LexicalIndex.MANIFEST_FILE).write_text(json.dumps({"generation": generation}))
        old = path.with_name(path.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if path.exists():
            path.rename(old)
        tmp.rename(path)
        shutil.rmtree(old, ignore_errors=True)
        return LexicalIndex(path)

    def _load(self) -> bool:
        if self.meta is not None:
            return True
        meta_file = self.path / self.META_FILE
        if not meta_file.exists():
            return False
        self.loaded_generation = self.generation
        self.meta = LexicalMeta(**json.loads(meta_file.read_text()))
        if self.meta.chunk_ids:
            import bm25s

            self._retriever = bm25s.BM25.load(str(self.path), mmap=True, show_progress=False)
        return True

    def chunk_ids(self) -> list[str]:
        """The ids of the chunks in the index (empty when there is no index)."""
        return list(self.meta.chunk_ids) if self._load() else []

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best k chunks, restricted to mask==1 when given."""
        if not self._load() or self._retriever is None:
            return []
        vocab = self._retriever.vocab_dict
        tokens = [t for t in tokenize(query) if t in vocab]
        if not tokens:
            return []
        n = len(self.meta.chunk_ids)
        allowed = n if mask is None else int(mask.sum())
        k = min(k, allowed)
        if k <= 0:
            return []
        docs, scores = self._retriever.retrieve(
            [tokens], k=k, show_progress=False, weight_mask=None if mask is None else mask.astype(np.float32)
        )
        return [
            (self.meta.chunk_ids[int(d)], float(s))
            for d, s in zip(docs[0], scores[0])
            if s > 0
        ]

    def mask(self, *, case_number=None, letter_format=None, section=None, doc_id=None) -> np.ndarray | None:
        """1 for chunks passing all given filters, 0 elsewhere; None when nothing is filtered."""
        if not self._load():
            return None
        wanted = {
            "case_numbers": case_number, "formats": letter_format, "sections": section, "doc_ids": doc_id,
        }
        active = {k: v for k, v in wanted.items() if v is not None}
        if not active:
            return None
        keep = np.ones(len(self.meta.chunk_ids), dtype=bool)
        for field, value in active.items():
            keep &= np.array([v == value for v in getattr(self.meta, field)], dtype=bool)
        return keep.astype(np.float32)
