"""Lexical (BM25) index over the same chunks as the dense store, kept as immutable segments.

A year of letters is 1.7 million chunks: rebuilding one BM25 matrix from the whole catalog after
every ingest held every chunk's tokens in memory and grew with the corpus. Instead each ingest
batch appends a *segment* (the term frequencies of its chunks, with their metadata), and segments
of similar size are merged from their stored postings (never re-tokenised), streamed from disk a
block at a time (a k-way merge of their sorted vocabularies, as Lucene merges), so neither a merge
nor the index's size sets the memory an ingest needs. Scores are computed at
query time from the statistics summed over all segments (documents, their lengths, each term's
document frequency), so a query scores exactly as one index over all chunks would (BM25, Lucene
variant, k1 = 1.5, b = 0.75).

On disk (`lexical/`):
- `seg-NNNNNN/`: `vocab.txt` (sorted terms), `indptr.npy`, `docs.npy`, `tfs.npy` (postings by
  term, CSC), `lengths.npy`, and the chunk metadata `chunk_ids.npy`, `doc_ids.npy`,
  `case_numbers.npy`, `formats.npy`, `sections.npy`; all read memory-mapped.
- `manifest.json`: the catalog generation the index covers, the live segments in order, and per
  segment the documents removed since it was written (tombstones, dropped by the next merge).

A segment is written completely before the manifest that lists it replaces the old manifest
(atomically), and segments are deleted only after no manifest lists them: a crash at any point
leaves the previous manifest and its segments, a usable index, and the next run (by the one writer)
removes the leftovers and finishes the append or merge.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imr_rag.errors import refused_writes
from imr_rag.index.segment_merge import (
    META_FIELDS,
    SegmentFiles,
    documents_in,
    fsync_dir,
    merge_segments,
    new_segment_folder,
)

# Keep short clinical tokens (L5, S1, #60) and case-number parts; drop common English words.
_TOKEN = re.compile(r"[a-z0-9]+(?:[./][a-z0-9]+)*")
STOPWORDS = frozenset(
    """a an and are as at be been but by for from had has have he her his if in into is it its
    of on or she that the their them then there these they this to was were which who will with
    was what when where how did does do not no than so such""".split()
)
K1, B = 1.5, 0.75
MERGE_AT = 4
"""Segments of one size tier (a factor of 8 in chunks) merged once there are this many."""
MASK_CACHE = 16
"""Filter masks kept per loaded index (one bool per chunk each: 1.9 MB at a year of letters)."""
FEW_ALLOWED = 20_000
"""A filter leaving at most this many chunks of a segment scores just those (by postings search)."""
MAX_MERGED_CHUNKS = 250_000
"""No merge makes a segment larger than this: a merge rewrites its inputs, and past this size the
rewriting costs more disk time than fewer segments save at query time. (A merge's memory does not
depend on it: postings are streamed, see `segment_merge`.)"""
Row = tuple[str, str, "str | None", str, str, str]
"""(chunk id, doc id, case number, format, section, text) of one chunk."""


def tokenize(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


def _save(folder: Path, name: str, array: np.ndarray) -> None:
    with open(folder / f"{name}.npy", "wb") as handle:
        np.save(handle, array)
        handle.flush()
        os.fsync(handle.fileno())


def _strings(values: list) -> np.ndarray:
    """Fixed-width UTF-8 bytes (None as b''), for vectorised equality filters on a memory map."""
    encoded = [(v or "").encode("utf-8") for v in values]
    width = max((len(v) for v in encoded), default=1) or 1
    return np.array(encoded, dtype=f"S{width}")


def _write_segment(folder: Path, vocab: list[str], indptr: np.ndarray, docs: np.ndarray, tfs: np.ndarray,
                   lengths: np.ndarray, meta: dict[str, np.ndarray]) -> None:
    with new_segment_folder(folder) as tmp:
        with open(tmp / "vocab.txt", "w", encoding="utf-8") as handle:
            handle.write("\n".join(vocab))
            handle.flush()
            os.fsync(handle.fileno())
        _save(tmp, "indptr", indptr.astype(np.int64))
        _save(tmp, "docs", docs.astype(np.int32))
        _save(tmp, "tfs", tfs.astype(np.uint16))
        _save(tmp, "lengths", lengths.astype(np.int32))
        for name, values in meta.items():
            _save(tmp, name, values)


def build_segment(folder: Path, rows: Iterable[Row]) -> int:
    """Tokenise rows into a new segment at `folder`; returns its number of chunks."""
    ids: dict[str, int] = {}
    # Typed arrays, not lists: held as Python ints, a segment's postings took twice the memory.
    terms, docs, tfs, lengths = array("q"), array("i"), array("H"), array("i")
    meta: dict[str, list] = {f: [] for f in META_FIELDS}
    for n, (chunk_id, doc_id, case_number, letter_format, section, text) in enumerate(rows):
        for name, value in zip(META_FIELDS, (chunk_id, doc_id, case_number, letter_format, section)):
            meta[name].append(value)
        tokens = tokenize(text)
        lengths.append(len(tokens))
        for term, tf in Counter(tokens).items():
            terms.append(ids.setdefault(term, len(ids)))
            docs.append(n)
            tfs.append(min(tf, 65535))
    vocab = sorted(ids)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.array([ids[t] for t in vocab], dtype=np.int64)] = np.arange(len(vocab))
    term_of = rank[np.frombuffer(terms, dtype=np.int64)] if terms else np.zeros(0, dtype=np.int64)
    del terms
    order = np.argsort(term_of, kind="stable")  # by term, documents ascending within a term
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(np.bincount(term_of, minlength=len(vocab)), out=indptr[1:])
    del term_of
    _write_segment(folder, vocab, indptr, np.frombuffer(docs, dtype=np.int32)[order],
                   np.frombuffer(tfs, dtype=np.uint16)[order], np.frombuffer(lengths, dtype=np.int32),
                   {name: _strings(values) for name, values in meta.items()})
    return len(lengths)


@dataclass
class Segment:
    """One immutable segment, memory-mapped."""

    name: str
    folder: Path
    deleted: frozenset[str] = frozenset()
    vocab: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        text = (self.folder / "vocab.txt").read_text(encoding="utf-8")
        self.terms = text.split("\n") if text else []
        self.vocab = {t: i for i, t in enumerate(self.terms)}
        load = lambda name: np.load(self.folder / f"{name}.npy", mmap_mode="r")  # noqa: E731
        self.indptr, self.docs, self.tfs, self.lengths = (load(n) for n in ("indptr", "docs", "tfs", "lengths"))
        self.meta = {name: load(name) for name in META_FIELDS}
        self.size = len(self.lengths)
        self.live = np.ones(self.size, dtype=bool)
        if self.deleted:
            self.live &= ~np.isin(self.meta["doc_ids"], np.array([d.encode() for d in self.deleted]))

    def df(self, term: str) -> int:
        i = self.vocab.get(term)
        return 0 if i is None else int(self.indptr[i + 1] - self.indptr[i])

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        i = self.vocab.get(term)
        if i is None:
            return None
        a, b = int(self.indptr[i]), int(self.indptr[i + 1])
        return self.docs[a:b], self.tfs[a:b]


def _tier(size: int) -> int:
    return int(math.log(max(size, 1), 8))


class LexicalIndex:
    """The segments listed by the manifest, searched as one BM25 index."""

    MANIFEST_FILE = "manifest.json"

    def __init__(self, path: Path):
        self.path = path
        self.segments: list[Segment] | None = None
        self.loaded_generation: int | None = None
        self._norm_cache: tuple[list[Segment], int, dict[str, np.ndarray], float] | None = None
        self._masks: dict[tuple, np.ndarray] = {}

    # -- the manifest ------------------------------------------------------------------------
    def manifest(self) -> dict | None:
        """The manifest, or None when there is no index (or only one of the single-matrix format
        before segments, which the next writer replaces)."""
        try:
            manifest = json.loads((self.path / self.MANIFEST_FILE).read_text())
        except (OSError, ValueError):
            return None
        return manifest if isinstance(manifest, dict) and "segments" in manifest else None

    @property
    def generation(self) -> int | None:
        """The catalog generation this index covers (None: no index on disk)."""
        manifest = self.manifest()
        return manifest.get("generation") if manifest else None

    def _commit(self, segments: list[dict], generation: int) -> None:
        """Atomically make `segments` the index at `generation`, then drop segments none lists."""
        tmp = self.path / (self.MANIFEST_FILE + ".tmp")
        try:
            with open(tmp, "w") as handle:
                json.dump({"generation": generation, "segments": segments}, handle)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError:
            tmp.unlink(missing_ok=True)  # a half-written manifest would only hold room others need
            raise
        os.replace(tmp, self.path / self.MANIFEST_FILE)
        fsync_dir(self.path)
        self.remove_leftovers()
        self.segments = None

    def remove_leftovers(self) -> list[str]:
        """Delete segment folders the manifest does not list (an interrupted append or merge, or
        the inputs of a finished merge). Only the writer calls this."""
        manifest = self.manifest() or {"segments": []}
        listed = {s["name"] for s in manifest["segments"]}
        removed = []
        for child in self.path.glob("seg-*"):
            if child.name not in listed:
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child.name)
        return removed

    def _new_name(self, manifest: dict) -> str:
        taken = [int(s["name"][4:]) for s in manifest["segments"]]
        taken += [int(p.name[4:].split(".")[0]) for p in self.path.glob("seg-*") if p.name[4:].split(".")[0].isdigit()]
        return f"seg-{max(taken, default=0) + 1:06d}"

    # -- writing (one writer: the catalog writer lock) ---------------------------------------
    def update(self, new_rows: Iterable[Row], removed_docs: set[str], generation: int) -> int:
        """Append a segment of `new_rows` and tombstone `removed_docs`; the index then covers
        `generation`. Returns the number of chunks appended. A write the disk refuses raises
        DataDirNotWritable; the index stays at its previous manifest."""
        with refused_writes(self.path):
            return self._update(new_rows, removed_docs, generation)

    def _update(self, new_rows: Iterable[Row], removed_docs: set[str], generation: int) -> int:
        if self.path.exists() and self.manifest() is None:  # nothing, or the format before segments
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.remove_leftovers()
        manifest = self.manifest() or {"generation": None, "segments": []}
        segments = manifest["segments"]
        if removed_docs:
            for entry in segments:
                hit = documents_in(self.path / entry["name"] / "doc_ids.npy", removed_docs)
                if hit:
                    entry["deleted"] = sorted(set(entry.get("deleted", [])) | hit)
        added = 0
        rows = iter(new_rows)
        first = next(rows, None)
        if first is not None:
            name = self._new_name(manifest)
            added = build_segment(self.path / name, _chain(first, rows))
            segments.append({"name": name, "size": added})
        self._commit(segments, generation)
        return added

    def merge(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Merge segments of one size tier once there are MERGE_AT of them (never above
        MAX_MERGED_CHUNKS), until no tier has that many; returns the merges done.

        `progress(done, total)` is called when a merged segment has been written, before the
        manifest swaps it in (a kill there leaves the unmerged index, which the next run merges).
        A write the disk refuses raises DataDirNotWritable, leaving the unmerged index.
        """
        with refused_writes(self.path):
            return self._merge(progress)

    def _merge(self, progress: Callable[[int, int], None] | None) -> int:
        done = 0
        while True:
            manifest = self.manifest()
            if not manifest:
                return done
            group = self._merge_group(manifest["segments"])
            if not group:
                return done
            name = self._new_name(manifest)  # only the merged segments' files are read, a block at a time
            size = merge_segments(self.path / name, [SegmentFiles(self.path / e["name"], frozenset(e.get("deleted", ())))
                                                     for e in group])
            if progress:
                progress(done + 1, done + 1)
            names = {e["name"] for e in group}
            first = next(i for i, e in enumerate(manifest["segments"]) if e["name"] in names)
            kept = [e for e in manifest["segments"] if e["name"] not in names]
            kept.insert(first, {"name": name, "size": size})
            self._commit(kept, manifest["generation"])
            done += 1

    @staticmethod
    def _merge_group(entries: list[dict]) -> list[dict]:
        tiers: dict[int, list[dict]] = {}
        for entry in entries:
            if entry["size"] < MAX_MERGED_CHUNKS:
                tiers.setdefault(_tier(entry["size"]), []).append(entry)
        for tier in sorted(tiers):
            group = tiers[tier]
            if len(group) >= MERGE_AT:
                chosen, total = [], 0
                for entry in group:
                    if total + entry["size"] > MAX_MERGED_CHUNKS and len(chosen) >= 2:
                        break
                    chosen.append(entry)
                    total += entry["size"]
                return chosen
        return []

    def reset(self) -> None:
        """Drop every segment (a full rebuild follows)."""
        shutil.rmtree(self.path, ignore_errors=True)
        with refused_writes(self.path.parent):
            self.path.mkdir(parents=True)
            self._commit([], -1)

    # -- reading -----------------------------------------------------------------------------
    def _load_from(self, manifest: dict) -> list[Segment]:
        return [Segment(e["name"], self.path / e["name"], frozenset(e.get("deleted", ()))) for e in manifest["segments"]]

    def _load(self) -> bool:
        if self.segments is not None:
            return True
        for _ in range(3):  # a merge may delete segments between reading the manifest and opening them
            manifest = self.manifest()
            if manifest is None:
                return False
            try:
                self.segments = self._load_from(manifest)
            except FileNotFoundError:
                continue
            self._masks.clear()
            self.loaded_generation = manifest["generation"]
            return True
        return False

    @property
    def loaded(self) -> bool:
        return self.segments is not None

    def segment_count(self) -> int:
        return len(self.segments) if self._load() else 0

    def chunk_ids(self) -> list[str]:
        """The ids of the live chunks in the index (empty when there is no index)."""
        if not self._load():
            return []
        return [c for s in self.segments for c in np.asarray(s.meta["chunk_ids"])[s.live].astype(str).tolist()]

    def doc_ids(self) -> set[str]:
        """The documents with live chunks in the index."""
        if not self._load():
            return set()
        found: set[str] = set()
        for s in self.segments:
            found.update(np.unique(np.asarray(s.meta["doc_ids"])[s.live]).astype(str).tolist())
        return found

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best k chunks, restricted to the mask's chunks when given."""
        if not self._load() or not self.segments or k <= 0:
            return []
        n_docs, norms, _ = self._norms()
        idf = self._idf(query, n_docs)
        if not idf:
            return []
        best: list[tuple[float, str]] = []
        offset = 0
        for s in self.segments:
            allowed = s.live if mask is None else s.live & mask[offset: offset + s.size]
            offset += s.size
            if mask is not None and np.count_nonzero(allowed) <= FEW_ALLOWED:
                best.extend(_score_few(s, np.flatnonzero(allowed), idf, norms[s.name], k))
                continue
            if not allowed.any():
                continue
            scores = np.zeros(s.size, dtype=np.float32)
            norm = norms[s.name]
            for t, weight in idf.items():
                found = s.postings(t)
                if found is None:
                    continue
                docs, tfs = np.asarray(found[0]), np.asarray(found[1]).astype(np.float32)
                scores[docs] += weight * tfs / (tfs + norm[docs])
            if mask is not None or s.deleted:
                scores[~allowed] = 0
            scored = np.flatnonzero(scores)  # top k among the chunks a term reached, not every chunk
            if len(scored) > k:
                scored = scored[np.argpartition(scores[scored], len(scored) - k)[len(scored) - k:]]
            chunk_ids = s.meta["chunk_ids"]
            best.extend((float(scores[i]), chunk_ids[i].decode()) for i in scored)
        best.sort(key=lambda x: (-x[0], x[1]))
        return [(cid, score) for score, cid in best[:k]]

    def terms_near(self, token: str, max_edits: int) -> set[str]:
        """Indexed terms within `max_edits` edits of `token` (itself included when indexed): the
        near forms a claim that no letter uses a word must have ruled out."""
        from rapidfuzz.distance import Levenshtein
        from rapidfuzz.process import extract

        if not self._load():
            return set()
        found: set[str] = set()
        for s in self.segments:
            found.update(term for term, _score, _i in extract(
                token, s.terms, scorer=Levenshtein.distance, score_cutoff=max_edits, limit=None))
        return found

    def ids_where(self, mask: np.ndarray) -> list[str]:
        """The chunk ids at the positions where `mask` (as from `mask()`) is set, live ones only."""
        found: list[str] = []
        offset = 0
        for s in self.segments or []:
            keep = s.live & mask[offset: offset + s.size]
            offset += s.size
            found.extend(np.asarray(s.meta["chunk_ids"])[keep].astype(str).tolist())
        return found

    def score_texts(self, query: str, chunks: list[tuple[str, str]], k: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best k of the given (chunk id, text) chunks, scored with the
        whole index's statistics: what `search` gives them, without a pass over every chunk."""
        if not self._load() or not self.segments or k <= 0 or not chunks:
            return []
        n_docs, _, avgdl = self._norms()
        idf = self._idf(query, n_docs)
        scored = []
        for chunk_id, text in chunks:
            tokens = tokenize(text)
            counts = Counter(tokens)
            norm = K1 * (1 - B + B * len(tokens) / avgdl)
            score = sum(w * counts[t] / (counts[t] + norm) for t, w in idf.items() if counts[t])
            if score > 0:
                scored.append((-score, chunk_id))
        scored.sort()
        return [(chunk_id, -score) for score, chunk_id in scored[:k]]

    def _idf(self, query: str, n_docs: int) -> dict[str, float]:
        """IDF of each distinct query term found in the index (document frequency summed over the
        segments, as one index over every chunk would count it)."""
        idf = {}
        for t in dict.fromkeys(tokenize(query)):
            df = sum(s.df(t) for s in self.segments)
            if df:
                idf[t] = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        return idf

    def _norms(self) -> tuple[int, dict[str, np.ndarray], float]:
        """Chunks in the index, per segment each chunk's BM25 length norm k1 (1 - b + b dl / avgdl),
        and avgdl: computed once per loaded index (per query, they were a pass over every chunk's
        length)."""
        if self._norm_cache is None or self._norm_cache[0] is not self.segments:
            n_docs = sum(s.size for s in self.segments)
            avgdl = max(sum(float(np.asarray(s.lengths).sum()) for s in self.segments) / max(n_docs, 1), 1e-9)
            norms = {s.name: (K1 * (1 - B + B * np.asarray(s.lengths, dtype=np.float32) / avgdl)).astype(np.float32)
                     for s in self.segments}
            self._norm_cache = (self.segments, n_docs, norms, avgdl)
        return self._norm_cache[1:]

    def mask(self, *, case_number=None, letter_format=None, section=None, doc_id=None) -> np.ndarray | None:
        """True for chunks passing all given filters (segments in order); None when nothing is
        filtered."""
        if not self._load():
            return None
        wanted = {"case_numbers": case_number, "formats": letter_format, "sections": section, "doc_ids": doc_id}
        active = {k: v.encode("utf-8") for k, v in wanted.items() if v is not None}
        if not active:
            return None
        key = tuple(sorted(active.items()))
        if key not in self._masks:  # a format or section recurs in many queries: computed once per load
            if len(self._masks) >= MASK_CACHE:
                self._masks.pop(next(iter(self._masks)))
            self._masks[key] = self._mask(active)
        return self._masks[key]

    def excluding(self, mask: np.ndarray | None, doc_ids: frozenset[str]) -> np.ndarray | None:
        """`mask` (None: every chunk) with the chunks of `doc_ids` cleared; `mask` itself when
        there are none or no index. The cleared positions are computed once per load and set."""
        if not doc_ids or not self._load():
            return mask
        key = ("excluding", doc_ids)
        if key not in self._masks:
            if len(self._masks) >= MASK_CACHE:
                self._masks.pop(next(iter(self._masks)))
            hidden = np.array([d.encode("utf-8") for d in doc_ids])
            parts = [~np.isin(np.asarray(s.meta["doc_ids"]), hidden) for s in self.segments]
            self._masks[key] = np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
        kept = self._masks[key]
        return kept if mask is None else mask & kept

    def _mask(self, active: dict[str, bytes]) -> np.ndarray:
        parts = []
        for s in self.segments:
            keep = np.ones(s.size, dtype=bool)
            for name, value in active.items():
                keep &= np.asarray(s.meta[name]) == value
            parts.append(keep)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _score_few(s: Segment, allowed: np.ndarray, idf: dict[str, float], norm: np.ndarray,
               k: int) -> list[tuple[float, str]]:
    """BM25 of a few allowed chunks (sorted positions) of a segment: each term's postings are
    searched for them (postings are sorted by chunk) instead of scoring every chunk and masking."""
    if not len(allowed):
        return []
    scores = np.zeros(len(allowed), dtype=np.float32)
    for t, weight in idf.items():
        found = s.postings(t)
        if found is None:
            continue
        docs = np.asarray(found[0])
        at = np.minimum(np.searchsorted(docs, allowed), len(docs) - 1)
        hit = docs[at] == allowed
        tfs = np.asarray(found[1])[at[hit]].astype(np.float32)
        scores[hit] += weight * tfs / (tfs + norm[allowed[hit]])
    order = np.argsort(-scores, kind="stable")[:k]
    chunk_ids = s.meta["chunk_ids"]
    return [(float(scores[i]), chunk_ids[allowed[i]].decode()) for i in order if scores[i] > 0]


def _chain(first: Row, rest: Iterable[Row]) -> Iterable[Row]:
    yield first
    yield from rest
