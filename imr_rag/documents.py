"""Read letters (PDF, txt, md, html) into normalised text with a map back to the source text.

`read_document` is the only entry point; every failure is an `UnreadableDocument` that names the
file and says why, so a batch can report it and go on.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from imr_rag.errors import UnreadableDocument
from imr_rag.formats import detect_format
from imr_rag.schema import Document
from imr_rag.textmap import normalise

PDF_SUFFIXES = {".pdf"}
TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = PDF_SUFFIXES | TEXT_SUFFIXES | HTML_SUFFIXES


def doc_id_for(content_hash: str) -> str:
    """Documents are identified by their content: the same bytes anywhere are the same letter."""
    return content_hash[:16]


def iter_letter_files(paths: list[Path]) -> list[Path]:
    """Expand folders (recursively) to supported files; explicit files are kept whatever their type."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
            )
        else:
            found.append(path)
    return found


def read_document(path: Path, *, max_bytes: int = 20 * 1024 * 1024) -> Document:
    """Read, extract and normalise one letter, or raise UnreadableDocument."""
    try:
        return _read_document(path, max_bytes)
    except OSError as exc:  # permission denied, I/O error, a file removed while being read
        raise UnreadableDocument(str(path), f"cannot read file: {exc.strerror or exc}") from exc


def _read_document(path: Path, max_bytes: int) -> Document:
    name = str(path)
    if not path.exists():
        raise UnreadableDocument(name, "file not found")
    if not path.is_file():
        raise UnreadableDocument(name, "not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise UnreadableDocument(name, "empty file")
    if size > max_bytes:
        raise UnreadableDocument(
            name, f"file is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit"
        )
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableDocument(name, f"unsupported file type '{suffix or path.name}'")
    data = path.read_bytes()
    content_hash = hashlib.sha256(data).hexdigest()
    if suffix in PDF_SUFFIXES:
        source, pages = _pdf_text(name, data)
    else:
        source, pages = _decode_text(name, data), 1
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


def _pdf_text(name: str, data: bytes) -> tuple[str, int]:
    import pypdfium2 as pdfium

    if not data[:1024].lstrip().startswith(b"%PDF-") and b"%PDF-" not in data[:1024]:
        raise UnreadableDocument(name, "not a PDF (no %PDF header), despite the .pdf name")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise UnreadableDocument(name, "PDF is encrypted with a password") from exc
        raise UnreadableDocument(name, f"corrupt or truncated PDF ({reason})") from exc
    try:
        pages = [page.get_textpage().get_text_range() for page in pdf]
    except pdfium.PdfiumError as exc:
        raise UnreadableDocument(name, f"cannot extract text from PDF ({exc})") from exc
    finally:
        pdf.close()
    if not pages:
        raise UnreadableDocument(name, "PDF has no pages")
    text = "\f".join(pages)
    if not text.strip():
        raise UnreadableDocument(
            name, f"PDF has no text layer ({len(pages)} page(s), image-only?); OCR is not supported"
        )
    return text, len(pages)


def _decode_text(name: str, data: bytes) -> str:
    """UTF-8 (with or without BOM) or, failing that, Windows-1252; binary content is refused."""
    sample = data[:65536]
    if b"\x00" in sample:
        raise UnreadableDocument(name, "binary content (NUL bytes), not a text letter")
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if controls > len(sample) * 0.01:
        raise UnreadableDocument(name, "binary content (control bytes), not a text letter")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise UnreadableDocument(
                name, f"text is neither UTF-8 nor Windows-1252 (byte {utf8_error.start})"
            ) from utf8_error
