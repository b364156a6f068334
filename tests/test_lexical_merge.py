"""The lexical index's segment merge streams postings from disk: it writes what merging the segments
in memory wrote, its memory does not grow with the segments, and a kill while it writes leaves a
usable index."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from helpers import clean_env

from imr_rag.index import lexical, segment_merge
from imr_rag.index.lexical import LexicalIndex, Segment, _write_segment, build_segment
from imr_rag.index.segment_merge import META_FIELDS, SegmentFiles, merge_segments

WORDS = ("lumbar epidural steroid injection physical therapy visits lyrica tramadol mri knee shoulder "
         "guideline medically necessary upheld overturned reviewer orthopedic surgery acupuncture").split()
QUERIES = ["lumbar epidural steroid injection", "physical therapy visits", "tramadol", "mri knee",
           "medically necessary", "unique0042", "w17 w3"]


def rows(n: int, seed: int, first_doc: int = 0) -> list[tuple]:
    """n chunks of letters of 4 chunks each: shared words, words of their own, a rare vocabulary."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        doc = first_doc + i // 4
        words = rng.choices(WORDS, k=rng.randint(0, 40)) + [f"w{rng.randint(0, 300)}" for _ in range(rng.randint(0, 6))]
        words.append(f"unique{seed * 100_000 + i:07d}")
        out.append((f"doc{doc:05d}:{i % 4}", f"doc{doc:05d}", None if doc % 7 == 0 else f"CM97-{doc:07d}",
                    "dwc" if doc % 3 else "other", "item" if i % 4 else "header", " ".join(words)))
    return out


def in_memory_merge(folder: Path, segments: list[Segment]) -> int:
    """The merge before streaming (every posting of the merged segment held in memory): the reference."""
    vocab = sorted(set().union(*(s.vocab for s in segments)))
    vocab_array = np.array(vocab) if vocab else np.zeros(0, dtype="U1")
    maps, keeps, new_ids, counts = [], [], [], np.zeros(len(vocab), dtype=np.int64)
    offset = 0
    for s in segments:
        local = np.array(s.terms) if s.terms else np.zeros(0, dtype="U1")
        gmap = np.searchsorted(vocab_array, local)
        term_of = np.repeat(np.arange(len(s.terms)), np.diff(np.asarray(s.indptr)))
        keep = s.live[np.asarray(s.docs)]
        new_id = np.cumsum(s.live) - 1 + offset
        offset += int(s.live.sum())
        global_terms = gmap[term_of[keep]]
        counts += np.bincount(global_terms, minlength=len(vocab))
        maps.append(global_terms)
        keeps.append(keep)
        new_ids.append(new_id)
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    docs = np.empty(int(indptr[-1]), dtype=np.int32)
    tfs = np.empty(int(indptr[-1]), dtype=np.uint16)
    written = np.zeros(len(vocab), dtype=np.int64)
    for s, global_terms, keep, new_id in zip(segments, maps, keeps, new_ids):
        here = np.bincount(global_terms, minlength=len(vocab))
        starts = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(here, out=starts[1:])
        rank = np.arange(len(global_terms)) - starts[global_terms]
        dest = indptr[global_terms] + written[global_terms] + rank
        docs[dest] = new_id[np.asarray(s.docs)[keep]]
        tfs[dest] = np.asarray(s.tfs)[keep]
        written += here
    lengths = np.concatenate([np.asarray(s.lengths)[s.live] for s in segments])
    meta = {}
    for name in META_FIELDS:
        width = max(s.meta[name].dtype.itemsize for s in segments)
        meta[name] = np.concatenate([np.asarray(s.meta[name])[s.live].astype(f"S{width}") for s in segments])
    _write_segment(folder, vocab, indptr, docs, tfs, lengths, meta)
    return len(lengths)


def segment_files(folder: Path) -> dict[str, object]:
    out: dict[str, object] = {"vocab": (folder / "vocab.txt").read_text(encoding="utf-8")}
    for name in ("indptr", "docs", "tfs", "lengths", *META_FIELDS):
        array = np.load(folder / f"{name}.npy")
        out[name] = (array.dtype.str, array.tolist())
    return out


def make_segments(root: Path, sizes: list[int], deleted: list[set[str]]) -> list[Path]:
    folders, first = [], 0
    for n, size in enumerate(sizes):
        folders.append(root / f"seg-{n + 1:06d}")
        build_segment(folders[-1], rows(size, seed=n + 1, first_doc=first))
        first += size // 4 + 1
    return folders


CASES = {
    "plain": ([40, 13, 1, 28], [set(), set(), set(), set()]),
    "tombstones": ([40, 13, 9, 28], [{"doc00001", "doc00003"}, set(), {"doc00014", "doc00015", "doc00016"}, set()]),
    "an empty source": ([40, 0, 12], [set(), set(), {"doc00011"}]),
    "every chunk dead": ([8, 20], [{"doc00000", "doc00001"}, set()]),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("blocks", ["default", "tiny"])
def test_the_streamed_merge_writes_what_the_in_memory_merge_wrote(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, blocks: str) -> None:
    if blocks == "tiny":  # every boundary crossed: lists split over blocks, terms over blocks
        monkeypatch.setattr(segment_merge, "MERGE_BLOCK_POSTINGS", 7)
        monkeypatch.setattr(segment_merge, "MERGE_BLOCK_ENTRIES", 3)
        monkeypatch.setattr(segment_merge, "MERGE_BLOCK_CHUNKS", 5)
    sizes, deleted = CASES[case]
    folders = make_segments(tmp_path / "in", sizes, deleted)
    gone = [frozenset(d) for d in deleted]
    expected = in_memory_merge(tmp_path / "old", [Segment(f.name, f, d) for f, d in zip(folders, gone)])
    assert merge_segments(tmp_path / "new", [SegmentFiles(f, d) for f, d in zip(folders, gone)]) == expected
    assert segment_files(tmp_path / "new") == segment_files(tmp_path / "old")
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == sorted(p.name for p in (tmp_path / "old").iterdir())


def index_with(path: Path, merge, monkeypatch: pytest.MonkeyPatch) -> LexicalIndex:
    """An index of 9 appended segments (some letters removed later), merged by `merge` as an
    ingest does: after each append."""
    monkeypatch.setattr(lexical, "merge_segments", merge)
    index = LexicalIndex(path)
    first = merges = 0
    for n in range(9):
        size = 12 + 5 * n
        removed = {f"doc{first - 3:05d}", f"doc{first - 20:05d}"} if n % 3 == 2 else set()
        index.update(rows(size, seed=n + 1, first_doc=first), removed, generation=n)
        merges += index.merge()
        first += size // 4 + 1
    assert merges == 2
    return LexicalIndex(path)


def test_an_index_merged_by_streaming_searches_as_one_merged_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = index_with(tmp_path / "old", lambda folder, sources: in_memory_merge(
        folder, [Segment(s.folder.name, s.folder, s.deleted) for s in sources]), monkeypatch)
    new = index_with(tmp_path / "new", merge_segments, monkeypatch)
    assert new.segment_count() == old.segment_count() == 3
    assert any(e.get("deleted") for e in new.manifest()["segments"])
    assert new.chunk_ids() == old.chunk_ids() and new.doc_ids() == old.doc_ids()
    for query in QUERIES:
        assert new.search(query, 10) == old.search(query, 10), query
        mask = new.mask(section="item")
        assert new.search(query, 10, mask) == old.search(query, 10, old.mask(section="item")), query


def merge_peak(root: Path, chunks_per_segment: int) -> tuple[int, int]:
    """Peak memory traced while merging 4 segments of this many chunks, and the postings merged."""
    folders = make_segments(root, [chunks_per_segment] * 4, [set()] * 4)
    sources = [SegmentFiles(f) for f in folders]
    tracemalloc.start()
    try:
        merge_segments(root / "merged", sources)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, len(np.load(root / "merged" / "docs.npy", mmap_mode="r"))


def test_the_merge_peak_memory_does_not_grow_with_the_segments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segment_merge, "MERGE_BLOCK_POSTINGS", 20_000)
    monkeypatch.setattr(segment_merge, "MERGE_BLOCK_ENTRIES", 2_000)
    monkeypatch.setattr(segment_merge, "MERGE_BLOCK_CHUNKS", 2_000)
    small, small_postings = merge_peak(tmp_path / "small", 5_000)
    large, large_postings = merge_peak(tmp_path / "large", 25_000)
    assert large_postings > 4 * small_postings > 4 * segment_merge.MERGE_BLOCK_POSTINGS
    # The in-memory merge held ~30 bytes a posting: x5 postings was x5 memory.
    assert large < 1.2 * small, (small, large)
    assert large < 30 * large_postings / 5


MERGE_KILLER = textwrap.dedent("""
    import os, random, signal, sys
    from pathlib import Path
    from imr_rag.index import lexical, segment_merge
    sys.path.insert(0, sys.argv[2])
    from test_lexical_merge import rows

    segment_merge.MERGE_BLOCK_POSTINGS = 50
    writes = 0
    flush = segment_merge._PostingsWriter.flush

    def flush_then_die(self):
        global writes
        flush(self)
        writes += 1
        if writes == 3:  # the merged segment half written
            os.kill(os.getpid(), signal.SIGKILL)

    segment_merge._PostingsWriter.flush = flush_then_die
    index = lexical.LexicalIndex(Path(sys.argv[1]))
    for n in range(lexical.MERGE_AT):
        index.update(rows(20, seed=n + 1, first_doc=10 * n), set(), generation=n)
    index.merge()
    sys.exit(3)
""")


def test_a_kill_while_the_merge_writes_leaves_the_unmerged_index(tmp_path: Path) -> None:
    path = tmp_path / "lexical"
    result = subprocess.run([sys.executable, "-c", MERGE_KILLER, str(path), str(Path(__file__).parent)],
                            env=clean_env(), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == -9, result.stderr[-2000:]
    assert [p.name for p in path.glob("seg-*.tmp")], "the half-written merged segment"
    index = LexicalIndex(path)
    assert index.segment_count() == lexical.MERGE_AT
    assert len(index.chunk_ids()) == 20 * lexical.MERGE_AT
    before = [index.search(q, 5) for q in QUERIES]
    assert any(before)
    assert index.merge() == 1  # the next writer clears the leftover and merges
    assert [p.name for p in path.glob("seg-*")] == [e["name"] for e in index.manifest()["segments"]]
    merged = LexicalIndex(path)
    assert merged.segment_count() == 1
    assert [merged.search(q, 5) for q in QUERIES] == before
