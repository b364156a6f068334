"""Read letters (PDF, txt, md, html) into normalised text with a map back to the source text.

`read_document` is the only entry point; every failure is an `UnreadableDocument` that names the
file and says why, so a batch can report it and go on.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from imr_rag.errors import UnreadableDocument
from imr_rag.formats import detect_format
from imr_rag.ingest.pdf_worker import PdfBounds, worker_for
from imr_rag.schema import Document
from imr_rag.ingest.textmap import normalise
from imr_rag.textutil import BYTE_ORDER_MARKS, WINDOWS_1252_C1

PDF_SUFFIXES = {".pdf"}
TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = PDF_SUFFIXES | TEXT_SUFFIXES | HTML_SUFFIXES
TABLE_SUFFIXES = {".csv"}
"""Published tables of decisions, one document per row (read by imr_rag.ingest.tabular)."""


def doc_id_for(content_hash: str) -> str:
    """Documents are identified by their content: the same bytes anywhere are the same letter."""
    return content_hash[:16]


@dataclass(frozen=True)
class ReadLimits:
    """How much a letter may hold. Bytes on disk say little: a small PDF whose pages share one
    content stream expands to millions of characters, so the extracted text is what is limited
    (the largest real letter seen has 10 pages and 27,000 characters). A PDF's text is extracted
    in a child process bounded by `pdf` (memory and time), since pdfium expands a page before
    the character count can be taken."""

    max_bytes: int = 20 * 1024 * 1024
    max_chars: int = 1_000_000
    max_pages: int = 300
    pdf: PdfBounds = PdfBounds()


def iter_letter_files(paths: list[Path], problems: list[tuple[str, str]] | None = None) -> list[Path]:
    """Expand folders (recursively) to supported files; explicit files are kept whatever their type.

    What cannot be looked at is appended to `problems` as (path, reason) instead of being passed
    over in silence: a folder that cannot be listed, a letter-named link whose target is gone.
    """
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue

        def unlisted(error: OSError) -> None:
            if problems is not None:
                problems.append((error.filename or str(path), f"cannot read folder: {error.strerror or error}"))

        in_folder: list[Path] = []
        for folder, _dirs, names in os.walk(path, onerror=unlisted):
            for name in names:
                p = Path(folder, name)
                if name.startswith(".") or p.suffix.lower() not in SUPPORTED_SUFFIXES | TABLE_SUFFIXES:
                    continue
                if p.is_file():
                    in_folder.append(p)
                elif problems is not None and p.is_symlink() and not p.exists():
                    problems.append((str(p), f"dangling symbolic link (its target {os.readlink(p)} is missing)"))
        found.extend(sorted(in_folder))
    return found


def read_document(path: Path, *, limits: ReadLimits = ReadLimits()) -> Document:
    """Read, extract and normalise one letter, or raise UnreadableDocument."""
    try:
        return _read_document(path, limits)
    except OSError as exc:  # permission denied, I/O error, a file removed while being read
        raise UnreadableDocument(str(path), f"cannot read file: {exc.strerror or exc}") from exc
    except MemoryError as exc:  # what the limits did not foresee still fails this file only
        raise UnreadableDocument(str(path), "out of memory while reading the file") from exc


def _read_document(path: Path, limits: ReadLimits) -> Document:
    name = str(path)
    if not path.exists():
        raise UnreadableDocument(name, "file not found")
    if not path.is_file():
        raise UnreadableDocument(name, "not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise UnreadableDocument(name, "empty file")
    if size > limits.max_bytes:
        raise UnreadableDocument(
            name, f"file is {size / 2**20:.1f} MB, over the {limits.max_bytes / 2**20:.0f} MB limit"
        )
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableDocument(name, f"unsupported file type '{suffix or path.name}'")
    data = path.read_bytes()
    content_hash = hashlib.sha256(data).hexdigest()
    if suffix in PDF_SUFFIXES:
        source, pages = _pdf_text(name, data, limits)
    else:
        source, pages = _decode_text(name, data), 1
        if len(source) > limits.max_chars:
            raise UnreadableDocument(name, _over_chars(len(source), limits))
    mapped = normalise(source, html_input=True if suffix in HTML_SUFFIXES else None)
    if not mapped.text.strip():
        raise UnreadableDocument(name, "no text after normalisation")
    return Document(
        doc_id=doc_id_for(content_hash),
        path=name,
        file_hash=content_hash,
        source_text=source,
        text=mapped.text,
        offsets=mapped.offsets,
        ends=mapped.ends,
        pages=pages,
        letter_format=detect_format(mapped.text),
    )


def _over_chars(count: int, limits: ReadLimits) -> str:
    return (f"text is over {count:,} characters, more than the limit of {limits.max_chars:,} "
            "(IMR_MAX_TEXT_CHARS)")


def _pdf_text(name: str, data: bytes, limits: ReadLimits) -> tuple[str, int]:
    if not data[:1024].lstrip().startswith(b"%PDF-") and b"%PDF-" not in data[:1024]:
        raise UnreadableDocument(name, "not a PDF (no %PDF header), despite the .pdf name")
    pages = worker_for(limits.pdf).pages(name, data, limits.max_chars, limits.max_pages)
    if not pages:
        raise UnreadableDocument(name, "PDF has no pages")
    text = "\f".join(pages)
    if not text.strip():
        raise UnreadableDocument(
            name, f"PDF has no text layer ({len(pages)} page(s), image-only?); OCR is not supported"
        )
    return text, len(pages)


def _decode_text(name: str, data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16/32 with a BOM or, failing that, Windows-1252;
    binary content is refused."""
    for bom, encoding in BYTE_ORDER_MARKS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise UnreadableDocument(
                    name, f"starts with a {encoding.upper()} byte-order mark but is not {encoding.upper()} "
                    f"(byte {exc.start})"
                ) from exc
    sample = data[:65536]
    if b"\x00" in sample:
        raise UnreadableDocument(name, "binary content (NUL bytes), not a text letter")
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if controls > len(sample) * 0.01:
        raise UnreadableDocument(name, "binary content (control bytes), not a text letter")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors=WINDOWS_1252_C1)
