"""A segment's files read and written a block at a time, and the merge of segments streamed from
disk through them (see `merge_segments`): what the lexical index uses so that neither a merge nor
the index's size sets the memory an ingest needs."""

from __future__ import annotations

import heapq
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MERGE_BLOCK_POSTINGS = 1 << 19
"""Postings a merge holds at a time (about 30 bytes each with their bookkeeping: ~16 MB)."""
MERGE_BLOCK_ENTRIES = 1 << 14
"""(term, segment) postings lists a merge collects before writing them out."""
MERGE_BLOCK_CHUNKS = 1 << 16
"""Chunks whose lengths and metadata a merge copies at a time."""
META_FIELDS = ("chunk_ids", "doc_ids", "case_numbers", "formats", "sections")
"""A segment's per-chunk metadata files (fixed-width UTF-8 bytes, one value a chunk)."""


def fsync_dir(path: Path) -> None:
    """Make a folder's entries (a renamed or new file) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def new_segment_folder(folder: Path) -> Iterator[Path]:
    """A temporary folder to write a segment's files into (each fsynced by its writer), renamed
    to `folder` once complete; removed on a write error."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
        fsync_dir(tmp)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # on a full disk, the half segment holds the room others need
        raise
    tmp.rename(folder)
    fsync_dir(folder.parent)


class _NpyReader:
    """Ranges of a 1-D .npy file, read into memory with plain reads. Not memory-mapped: a merge
    walks whole files, and every mapped page it touched would stay in the process's resident set."""

    def __init__(self, path: Path):
        self.handle = open(path, "rb")  # noqa: SIM115 (read a range at a time until close())
        major, _minor = np.lib.format.read_magic(self.handle)
        read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        shape, _fortran, self.dtype = read_header(self.handle)
        self.length = shape[0]
        self.start = self.handle.tell()

    @classmethod
    def raw(cls, path: Path, dtype) -> _NpyReader:
        """A headerless file of `dtype` values."""
        reader = cls.__new__(cls)
        reader.handle, reader.dtype, reader.start = open(path, "rb"), np.dtype(dtype), 0  # noqa: SIM115
        reader.length = path.stat().st_size // reader.dtype.itemsize
        return reader

    def read(self, a: int, b: int) -> np.ndarray:
        out = np.empty(max(b - a, 0), dtype=self.dtype)
        self.handle.seek(self.start + a * self.dtype.itemsize)
        if out.nbytes and self.handle.readinto(memoryview(out).cast("B")) != out.nbytes:
            raise OSError(f"{self.handle.name}: shorter than its header says")
        return out

    def values(self) -> Iterator[int]:
        """Every value in order, read a block at a time."""
        block = MERGE_BLOCK_CHUNKS
        for a in range(0, self.length, block):
            yield from self.read(a, min(a + block, self.length)).tolist()

    def close(self) -> None:
        self.handle.close()


class _NpyWriter:
    """A 1-D .npy file of a known length written block by block (what np.save writes)."""

    def __init__(self, path: Path, dtype: np.dtype | str, length: int):
        self.dtype, self.length, self.written = np.dtype(dtype), length, 0
        self.handle = open(path, "wb")  # noqa: SIM115 (written a block at a time until close())
        np.lib.format.write_array_header_1_0(
            self.handle, {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": (length,)})

    def write(self, values: np.ndarray) -> None:
        block = np.ascontiguousarray(values, dtype=self.dtype)
        self.handle.write(memoryview(block).cast("B"))
        self.written += len(block)

    def close(self) -> None:
        if self.written != self.length:
            raise ValueError(f"{self.handle.name}: {self.written} values written, {self.length} announced")
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()


@dataclass(frozen=True)
class SegmentFiles:
    """A stored segment as a merge reads it: its folder and the documents removed since."""

    folder: Path
    deleted: frozenset[str] = frozenset()


class _MergeInput:
    """One segment being merged: its postings files, its live chunks (None: all are live) and
    the number the first of them gets in the merged segment."""

    def __init__(self, source: SegmentFiles, offset: int):
        self.folder = source.folder
        self.docs = _NpyReader(source.folder / "docs.npy")
        self.tfs = _NpyReader(source.folder / "tfs.npy")
        self.size = _npy_length(source.folder / "lengths.npy")
        self.offset = offset
        self.live: np.ndarray | None = None  # one byte a chunk, and `rank` four: only with tombstones
        self.rank: np.ndarray | None = None
        if source.deleted:
            gone = np.array([d.encode() for d in source.deleted])
            doc_ids = _NpyReader(source.folder / "doc_ids.npy")
            self.live = np.ones(self.size, dtype=bool)
            for a in range(0, self.size, MERGE_BLOCK_CHUNKS):
                b = min(a + MERGE_BLOCK_CHUNKS, self.size)
                self.live[a:b] = ~np.isin(doc_ids.read(a, b), gone)
            doc_ids.close()
            self.rank = (np.cumsum(self.live, dtype=np.int32) - 1).astype(np.int32)
        self.live_count = self.size if self.live is None else int(np.count_nonzero(self.live))

    def live_postings(self) -> int:
        if self.live is None:
            return self.docs.length
        return sum(int(np.count_nonzero(self.live[self.docs.read(a, min(a + MERGE_BLOCK_POSTINGS, self.docs.length))]))
                   for a in range(0, self.docs.length, MERGE_BLOCK_POSTINGS))

    def entries(self, index: int) -> Iterator[tuple[str, int, int, int]]:
        """(term, index, first posting, end of postings) of each of its terms, in term order."""
        indptr = _NpyReader(self.folder / "indptr.npy")
        with open(self.folder / "vocab.txt", encoding="utf-8") as vocab:
            bounds = indptr.values()
            start = next(bounds, 0)
            for line in vocab:
                end = next(bounds)
                yield line.rstrip("\n"), index, start, end
                start = end
        indptr.close()

    def postings(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Postings a..b: their documents renumbered for the merged segment, their term
        frequencies, and which are live (None: all)."""
        docs, tfs = self.docs.read(a, b), self.tfs.read(a, b)
        if self.live is None:
            return docs + np.int32(self.offset), tfs, None
        keep = self.live[docs]
        return self.rank[docs] + np.int32(self.offset), tfs, keep

    def close(self) -> None:
        self.docs.close()
        self.tfs.close()


def _npy_length(path: Path) -> int:
    reader = _NpyReader(path)
    reader.close()
    return reader.length


class _PostingsWriter:
    """The merged postings, written out a block of (term, segment) postings lists at a time."""

    def __init__(self, folder: Path, inputs: list[_MergeInput], total: int):
        self.folder, self.inputs = folder, inputs
        self.docs = _NpyWriter(folder / "docs.npy", np.int32, total)
        self.tfs = _NpyWriter(folder / "tfs.npy", np.uint16, total)
        self.counts = open(folder / "counts.tmp", "wb")  # noqa: SIM115 (postings per term: indptr at the end)
        self.open_term, self.open_count = -1, 0  # the last term flushed: its lists may go on in the next block
        self.entry_input = np.zeros(MERGE_BLOCK_ENTRIES, dtype=np.int32)
        self.entry_term = np.zeros(MERGE_BLOCK_ENTRIES, dtype=np.int64)
        self.entry_start = np.zeros(MERGE_BLOCK_ENTRIES, dtype=np.int64)
        self.entry_end = np.zeros(MERGE_BLOCK_ENTRIES, dtype=np.int64)
        self.entries = self.postings = 0

    def add(self, index: int, term: int, start: int, end: int) -> None:
        """Postings start..end of input `index` go next, under (merged) term number `term`; a
        list longer than a block is split."""
        while True:
            room = MERGE_BLOCK_POSTINGS - self.postings
            if self.entries == MERGE_BLOCK_ENTRIES or (room <= 0 and self.entries):
                self.flush()
                continue
            piece = min(end, start + max(room, 1))
            n = self.entries
            self.entry_input[n], self.entry_term[n], self.entry_start[n], self.entry_end[n] = index, term, start, piece
            self.entries += 1
            self.postings += piece - start
            if piece == end:
                return
            start = piece

    def flush(self) -> None:
        """Write the collected postings lists: read each input's run of them (contiguous, as its
        terms come in order), drop dead chunks, and put them in list order."""
        n = self.entries
        if not n:
            return
        inputs, terms = self.entry_input[:n], self.entry_term[:n]
        lengths = self.entry_end[:n] - self.entry_start[:n]
        docs_parts, tfs_parts, list_parts = [], [], []
        for index in np.unique(inputs).tolist():
            mine = np.flatnonzero(inputs == index)
            docs, tfs, keep = self.inputs[index].postings(int(self.entry_start[mine[0]]), int(self.entry_end[mine[-1]]))
            lists = np.repeat(mine, lengths[mine])
            if keep is not None:
                docs, tfs, lists = docs[keep], tfs[keep], lists[keep]
            docs_parts.append(docs)
            tfs_parts.append(tfs)
            list_parts.append(lists)
        lists = np.concatenate(list_parts)
        order = np.argsort(lists, kind="stable")  # list order; within a list, document order
        self.docs.write(np.concatenate(docs_parts)[order])
        self.tfs.write(np.concatenate(tfs_parts)[order])
        first = int(terms[0])
        counts = np.bincount(terms[lists] - first, minlength=int(terms[-1]) - first + 1).astype(np.int64)
        if self.open_term == first:  # the last term of the previous block goes on here
            counts[0] += self.open_count
        elif self.open_term >= 0:
            self.counts.write(np.array([self.open_count], dtype=np.int64).tobytes())
        self.counts.write(counts[:-1].tobytes())
        self.open_term, self.open_count = int(terms[-1]), int(counts[-1])
        self.entries = self.postings = 0

    def finish(self) -> None:
        """Write what is collected, then indptr (term starts) from the counts per term."""
        self.flush()
        if self.open_term >= 0:
            self.counts.write(np.array([self.open_count], dtype=np.int64).tobytes())
        self.counts.close()
        self.docs.close()
        self.tfs.close()
        counts = _NpyReader.raw(self.folder / "counts.tmp", np.int64)
        indptr = _NpyWriter(self.folder / "indptr.npy", np.int64, counts.length + 1)
        indptr.write(np.zeros(1, dtype=np.int64))
        total = 0
        for a in range(0, counts.length, MERGE_BLOCK_CHUNKS):
            block = np.cumsum(counts.read(a, min(a + MERGE_BLOCK_CHUNKS, counts.length))) + total
            indptr.write(block)
            total = int(block[-1])
        counts.close()
        indptr.close()
        (self.folder / "counts.tmp").unlink()


def merge_segments(folder: Path, sources: list[SegmentFiles]) -> int:
    """Write one segment at `folder` holding the live chunks of `sources` (in order); returns
    its number of chunks.

    A k-way merge streamed from disk: the sources' sorted vocabularies are merged term by term,
    and each term's postings are copied source by source (chunks renumbered, dead ones dropped)
    in blocks of MERGE_BLOCK_POSTINGS, so memory does not grow with the segments merged (only a
    source with tombstones holds 5 bytes a chunk: which chunks live and their new numbers). The
    result is what merging the segments in memory gives: the union of the vocabularies (a term
    whose every posting is dead stays, with none), and per term the postings of the first
    source, then the second's, each in chunk order."""
    inputs: list[_MergeInput] = []
    try:
        offset = 0
        for source in sources:
            inputs.append(_MergeInput(source, offset))
            offset += inputs[-1].live_count
        with new_segment_folder(folder) as tmp:
            writer = _PostingsWriter(tmp, inputs, sum(i.live_postings() for i in inputs))
            with open(tmp / "vocab.txt", "w", encoding="utf-8") as vocab:
                term, number = None, -1
                for text, index, start, end in heapq.merge(*(inp.entries(i) for i, inp in enumerate(inputs))):
                    if text != term:
                        vocab.write(text if number < 0 else "\n" + text)
                        term, number = text, number + 1
                    writer.add(index, number, start, end)
                vocab.flush()
                os.fsync(vocab.fileno())
            writer.finish()
            _copy_live(tmp / "lengths.npy", [(i.folder / "lengths.npy", i) for i in inputs], offset, np.int32)
            for name in META_FIELDS:
                parts = [(i.folder / f"{name}.npy", i) for i in inputs]
                width = max(_npy_dtype(path).itemsize for path, _ in parts)
                _copy_live(tmp / f"{name}.npy", parts, offset, f"S{width}")
    finally:
        for inp in inputs:
            inp.close()
    return offset


def documents_in(path: Path, doc_ids: set[str]) -> set[str]:
    """Which of `doc_ids` have chunks in a segment's `doc_ids.npy` (read a block at a time)."""
    wanted = np.array(sorted(d.encode() for d in doc_ids))
    reader, found = _NpyReader(path), set()
    for a in range(0, reader.length, MERGE_BLOCK_CHUNKS):
        block = reader.read(a, min(a + MERGE_BLOCK_CHUNKS, reader.length))
        found.update(np.unique(block[np.isin(block, wanted)]).astype(str).tolist())
    reader.close()
    return found


def _npy_dtype(path: Path) -> np.dtype:
    reader = _NpyReader(path)
    reader.close()
    return reader.dtype


def _copy_live(target: Path, parts: list[tuple[Path, _MergeInput]], total: int, dtype) -> None:
    """The live values of each part's per-chunk file, one after the other, into `target`."""
    out = _NpyWriter(target, dtype, total)
    for path, inp in parts:
        reader = _NpyReader(path)
        for a in range(0, reader.length, MERGE_BLOCK_CHUNKS):
            b = min(a + MERGE_BLOCK_CHUNKS, reader.length)
            values = reader.read(a, b)
            out.write(values if inp.live is None else values[inp.live[a:b]])
        reader.close()
    out.close()
