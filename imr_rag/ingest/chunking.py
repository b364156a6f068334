"""Pure: a document's sections -> size-bounded chunks with exact character spans."""

from __future__ import annotations

import re

from imr_rag.schema import Chunk, Section

_BREAKS = (re.compile(r"\n\n"), re.compile(r"\n"), re.compile(r"[.;:?!][\"')\]]*\s"), re.compile(r"\s"))


def chunk_sections(
    doc_id: str, text: str, sections: list[Section], *, size: int, overlap: int
) -> list[Chunk]:
    """Split each section into chunks of at most `size` characters.

    Chunks never cross a section boundary, so every chunk has one section name and item index.
    A long section is cut at the latest paragraph break, else line break, else sentence end,
    else space in the window's second half; the next chunk starts `overlap` characters earlier,
    on a word boundary. Every chunk's text is exactly text[start:end].
    """
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError(f"need size > 0 and 0 <= overlap < size, got size={size} overlap={overlap}")
    chunks: list[Chunk] = []
    for section in sections:
        for start, end in _split(text, section.start, section.end, size, overlap):
            chunks.append(
                Chunk(
                    chunk_id=f"{doc_id}:{len(chunks):04d}",
                    doc_id=doc_id,
                    text=text[start:end],
                    section=section.name,
                    item_index=section.item_index,
                    start=start,
                    end=end,
                )
            )
    return chunks


def _split(text: str, start: int, end: int, size: int, overlap: int) -> list[tuple[int, int]]:
    start, end = _strip(text, start, end)
    spans: list[tuple[int, int]] = []
    while start < end:
        if end - start <= size:
            spans.append((start, end))
            break
        cut = _cut_point(text, start, start + size)
        piece = _strip(text, start, cut)
        if piece[0] < piece[1]:
            spans.append(piece)
        next_start = _word_start(text, max(cut - overlap, start + 1), cut)
        start, end = _strip(text, next_start, end)
    return spans


def _cut_point(text: str, start: int, limit: int) -> int:
    """Latest good break in text[start:limit], not before the window's midpoint."""
    floor = start + (limit - start) // 2
    for pattern in _BREAKS:
        best = None
        for match in pattern.finditer(text, floor, limit):
            best = match.end()
        if best is not None:
            return best
    return limit


def _word_start(text: str, pos: int, limit: int) -> int:
    """First position at or after pos that starts a word (so overlaps do not begin mid-word)."""
    if pos > 0 and not text[pos - 1].isspace():
        space = re.compile(r"\s").search(text, pos, limit)
        if space:
            return space.end()
    return pos


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
