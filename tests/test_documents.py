"""read_document and iter_letter_files: text, offsets, ids and file discovery on real files."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from helpers import SYNTHETIC_LETTERS, squash, write_pdf
from imr_rag.ingest.documents import doc_id_for, iter_letter_files, read_document
from imr_rag.schema import Document
from imr_rag.ingest.textmap import normalise


def _synthetic(name: str) -> Path:
    path = SYNTHETIC_LETTERS / name
    if not path.exists():
        pytest.skip(f"synthetic letter {name} is absent")
    return path


def _check_document(doc: Document, data: bytes) -> None:
    assert doc.file_hash == hashlib.sha256(data).hexdigest()
    assert doc.doc_id == doc_id_for(doc.file_hash) == doc.file_hash[:16]
    assert len(doc.offsets) == len(doc.text) + 1
    assert int(doc.offsets[-1]) == len(doc.source_text)
    assert doc.text == doc.text.strip() and doc.text
    assert doc.pages >= 1


def test_every_letter_reads_with_a_consistent_map(real_documents, synthetic_documents) -> None:
    for name, doc in {**real_documents, **synthetic_documents}.items():
        _check_document(doc, Path(doc.path).read_bytes())
        html = Path(name).suffix == ".html"
        assert normalise(doc.source_text, html_input=True if html else None).text == doc.text, name


def test_quotes_map_back_to_the_source_text(real_documents, synthetic_documents) -> None:
    for name, doc in {**real_documents, **synthetic_documents}.items():
        matches = list(re.finditer(r"[A-Z][a-z]+\s+[a-z]+\s+[a-z-]+", doc.text))[:20]
        assert matches, name
        for match in matches:
            a, b = doc.source_span(*match.span())
            assert squash(doc.source_text[a:b]) == squash(match.group(0)), name


def test_pdf_pages_are_separated_by_form_feeds(real_documents) -> None:
    multi = [d for d in real_documents.values() if d.path.endswith(".pdf") and d.pages > 1]
    if not multi:
        pytest.skip("no multi-page PDF available")
    for doc in multi:
        assert doc.source_text.count("\f") == doc.pages - 1
        assert "\f" not in doc.text


def test_pdf_of_a_letter_reads_as_the_same_words_as_its_text(tmp_path: Path) -> None:
    source = _synthetic("dwc_cm99_0000006.txt")
    text = source.read_text(encoding="utf-8")
    pdf = write_pdf(text, tmp_path / "letter.pdf")
    from_pdf, from_txt = read_document(pdf), read_document(source)
    assert from_pdf.letter_format == from_txt.letter_format == "ca_dwc_imr"
    assert from_pdf.pages >= text.count("\f") + 1
    # The PDF writer maps typographic quotes to ASCII; compare on letters and digits only.
    def letters(s: str) -> str:
        return re.sub(r"[^A-Za-z0-9]", "", s)

    assert letters(from_pdf.text) == letters(from_txt.text)


def test_same_bytes_are_the_same_document_anywhere(tmp_path: Path) -> None:
    source = _synthetic("tx_iro_partial.txt")
    copy = tmp_path / "elsewhere" / "renamed.txt"
    copy.parent.mkdir()
    shutil.copy(source, copy)
    a, b = read_document(source), read_document(copy)
    assert a.doc_id == b.doc_id and a.path != b.path
    copy.write_bytes(copy.read_bytes() + b"\n")
    assert read_document(copy).doc_id != a.doc_id


def test_utf8_bom_is_dropped_and_html_suffix_forces_html(tmp_path: Path) -> None:
    bom = tmp_path / "bom.txt"
    bom.write_bytes("\ufeffCase Number: CM99-0000001\nText".encode("utf-8"))
    assert read_document(bom).text.startswith("Case Number:")
    page = tmp_path / "entities.html"
    page.write_text("Tom &amp; Jerry &eacute;t&eacute;", encoding="utf-8")  # no tags: only the suffix says HTML
    assert read_document(page).text == "Tom & Jerry été"
    plain = tmp_path / "entities.txt"
    plain.write_text("Tom &amp; Jerry", encoding="utf-8")
    assert read_document(plain).text == "Tom &amp; Jerry"


def test_markdown_and_html_letters_lose_their_markup(synthetic_documents) -> None:
    for name in ("dwc_cm99_0000004.md", "dwc_cm99_0000005.html"):
        doc = synthetic_documents.get(name)
        if doc is None:
            continue
        assert "<b>" not in doc.text and "</p>" not in doc.text and "### " not in doc.text and "**" not in doc.text
        assert re.search(r"^HOW THE IMR FINAL DETERMINATION WAS MADE$", doc.text, re.MULTILINE)
        assert re.search(r"^Case Number: CM99-000000[45]", doc.text, re.MULTILINE)


def test_whitespace_only_text_file_is_unreadable(tmp_path: Path) -> None:
    from imr_rag.errors import UnreadableDocument

    path = tmp_path / "blank.txt"
    path.write_text(" \n\t\n \r\n")
    with pytest.raises(UnreadableDocument, match="no text"):
        read_document(path)


def test_iter_letter_files_expands_folders_and_keeps_explicit_files(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "b" / "deeper").mkdir(parents=True)
    for rel in ("a.txt", "b/c.PDF", "b/deeper/d.md", "b/e.html", "b/f.htm", "notes.docx", ".hidden.txt", "g.markdown"):
        (root / rel).write_text("x")
    explicit = tmp_path / "explicit.docx"
    explicit.write_text("x")
    found = iter_letter_files([root, explicit])
    names = [p.relative_to(tmp_path).as_posix() for p in found]
    assert names == [
        "in/a.txt", "in/b/c.PDF", "in/b/deeper/d.md", "in/b/e.html", "in/b/f.htm", "in/g.markdown", "explicit.docx",
    ]
