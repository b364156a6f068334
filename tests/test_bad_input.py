"""Bad files: each fails with one clear reason, and a batch goes on without duplicating anything."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import REPO_ROOT, dev_pdfs, make_settings, synthetic_letter, write_pdf

from evals.make_pdf import assemble_pdf
from imr_rag.index.boilerplate import count_skipped
from imr_rag.faces import cli
from imr_rag.ingest.documents import ReadLimits, read_document
from imr_rag.errors import UnreadableDocument
from imr_rag.library import Library

GOOD_TEXT_LETTER = "dwc_cm99_0000001.txt"
GOOD_PDF_SOURCE = "dwc_cm99_0000002.txt"
OTHER_KIND = "appeal_letter_generic.txt"


def _letter_text(name: str = GOOD_TEXT_LETTER) -> str:
    return synthetic_letter(name).read_text(encoding="utf-8")


# -- builders: each writes one file into `folder` and returns its path ------------------------
def empty_file(folder: Path) -> Path:
    path = folder / "empty.txt"
    path.touch()
    return path


def text_named_pdf(folder: Path) -> Path:
    path = folder / "x.pdf"
    path.write_text(_letter_text(), encoding="utf-8")
    return path


def truncated_pdf(folder: Path) -> Path:
    whole = write_pdf(_letter_text(), folder / "whole.tmp")
    data = whole.read_bytes()
    whole.unlink()
    path = folder / "truncated.pdf"
    path.write_bytes(data[: len(data) // 2])
    return path


def password_pdf(folder: Path) -> Path:
    return write_pdf(_letter_text(), folder / "locked.pdf", password="secret")


def empty_password_pdf(folder: Path) -> Path:
    return write_pdf(_letter_text(GOOD_PDF_SOURCE), folder / "empty-password.pdf", password="")


def image_only_pdf(folder: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(40, 40, 40)
    pdf.rect(20, 20, 120, 60, style="F")  # a drawing, no text at all (like a scan)
    pdf.add_page()
    pdf.ellipse(30, 30, 50, 50, style="D")
    path = folder / "scan.pdf"
    pdf.output(str(path))
    return path


def binary_junk(folder: Path) -> Path:
    rng = random.Random(7)
    path = folder / "junk.txt"
    path.write_bytes(bytes(rng.randrange(256) for _ in range(4096)) + b"\x00\x00")
    return path


def cp1252_letter(folder: Path) -> Path:
    path = folder / "windows.txt"
    text = _letter_text().replace("Decision rationale:", "Decision rationale: The patient’s café-au-lait spots aside,", 1)
    path.write_bytes(text.encode("cp1252"))
    return path


def oversized_2mb(folder: Path) -> Path:
    path = folder / "huge.txt"
    text = _letter_text()
    path.write_text(text * (2 * 2**20 // len(text) + 1), encoding="utf-8")
    return path


def utf16_letter(folder: Path) -> Path:
    path = folder / "utf16.txt"
    path.write_bytes(_letter_text().encode("utf-16"))  # with its byte-order mark, as Notepad saves it
    return path


def cp1252_undefined_bytes(folder: Path) -> Path:
    """Windows-1252 text holding 0x81, 0x8D and 0x90, the bytes Python's cp1252 codec rejects."""
    path = folder / "windows-c1.txt"
    text = _letter_text().encode("cp1252")
    path.write_bytes(text.replace(b"Decision rationale:", b"Decision rationale: \x81\x8d\x90 \x93quoted\x94", 1))
    return path


def shared_stream_pdf(pages: int, lines: int = 100) -> Callable[[Path], Path]:
    """A PDF of a few KB whose `pages` pages all draw one content stream of `lines` lines of
    150 characters: every page extracts to the same ~15,000 characters."""
    import zlib

    def build(folder: Path) -> Path:
        line = ("The request for Lyrica 75mg #60 is medically necessary. " * 3)[:150]
        stream = zlib.compress(
            b"BT /F1 5 Tf 20 820 Td 7 TL " + b" ".join(f"({line}) '".encode() for _ in range(lines)) + b" ET"
        )
        kids = " ".join(f"{5 + n} 0 R" for n in range(pages))
        objects = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Count {pages} /Kids [{kids}] >>".encode(),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
            *(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
              b" /Resources << /Font << /F1 3 0 R >> >> >>" for _ in range(pages)),
        ]
        path = folder / f"shared-stream-{pages}.pdf"
        path.write_bytes(assemble_pdf(objects))
        return path

    return build


def other_kind(folder: Path) -> Path:
    path = folder / "appeal.txt"
    shutil.copy(synthetic_letter(OTHER_KIND), path)
    return path


@dataclass(frozen=True)
class Case:
    build: Callable[[Path], Path]
    keywords: tuple[str, ...] = ()  # a failure's reason must contain all of these (case-insensitive)
    letter_format: str | None = None  # a success's format

    @property
    def fails(self) -> bool:
        return bool(self.keywords)


CASES = {
    "empty": Case(empty_file, ("empty",)),
    "not-a-pdf": Case(text_named_pdf, ("not a pdf",)),
    "truncated-pdf": Case(truncated_pdf, ("truncated",)),
    "password-pdf": Case(password_pdf, ("password",)),
    "image-only-pdf": Case(image_only_pdf, ("no text layer",)),
    "binary-junk": Case(binary_junk, ("binary",)),
    "over-max-size": Case(oversized_2mb, ("MB", "2.0", "1 MB")),
    "empty-password-pdf": Case(empty_password_pdf, letter_format="ca_dwc_imr"),
    "cp1252-text": Case(cp1252_letter, letter_format="ca_dwc_imr"),
    "other-kind": Case(other_kind, letter_format="unknown"),
    "utf16-bom-text": Case(utf16_letter, letter_format="ca_dwc_imr"),
    "cp1252-undefined-bytes": Case(cp1252_undefined_bytes, letter_format="ca_dwc_imr"),
    # limits on extracted text, not bytes: a few KB that expand to 1.5 M and 15 M characters
    "pdf-expanding-past-the-text-limit": Case(shared_stream_pdf(100), ("characters", "1,000,000", "IMR_MAX_TEXT_CHARS")),
    "pdf-with-too-many-pages": Case(shared_stream_pdf(1000), ("1,000 pages", "300", "IMR_MAX_PAGES")),
}
BAD = [k for k, c in CASES.items() if c.fails]
READABLE = [k for k, c in CASES.items() if not c.fails]
MAX_MB = 1  # the batch tests use a 1 MB limit so the 2 MB file is refused without writing 50 MB


@pytest.fixture
def library(tmp_path: Path):
    lib = Library(make_settings(tmp_path / "data", max_file_mb=MAX_MB))
    yield lib
    lib.close()


@pytest.mark.parametrize("name", CASES, ids=str)
def test_each_input_fails_with_one_clear_reason_or_is_read(name: str, library: Library, tmp_path: Path) -> None:
    case = CASES[name]
    folder = tmp_path / "in"
    folder.mkdir()
    path = case.build(folder)
    report = library.ingest([path], embed=False)
    if case.fails:
        assert report.ingested == report.unchanged == []
        assert len(report.failed) == 1
        failed_path, reason = report.failed[0]
        assert failed_path == str(path)
        assert "\n" not in reason and reason.strip() == reason and len(reason) < 200
        for word in case.keywords:
            assert word.lower() in reason.lower(), reason
        # read_document raises the same typed error naming the file.
        with pytest.raises(UnreadableDocument) as info:
            read_document(path, limits=ReadLimits(max_bytes=MAX_MB * 2**20))
        assert info.value.path == str(path) and info.value.reason == reason
        assert str(path) in str(info.value)
        assert library.stats()["failures"] == [{"path": str(path), "reason": reason}]
        assert library.stats()["documents"] == 0
    else:
        assert report.failed == []
        assert report.ingested == [str(path)]
        (doc,) = library.catalog.documents()
        assert doc.letter_format == case.letter_format
        assert library.catalog.chunks_for_doc(doc.doc_id)


def test_cp1252_text_keeps_its_accents_and_quotes(tmp_path: Path) -> None:
    doc = read_document(cp1252_letter(tmp_path))
    assert "The patient’s café-au-lait spots aside," in doc.text
    assert doc.letter_format == "ca_dwc_imr"


def test_empty_password_pdf_reads_like_the_text(tmp_path: Path) -> None:
    doc = read_document(empty_password_pdf(tmp_path))
    plain = read_document(synthetic_letter(GOOD_PDF_SOURCE))
    assert doc.pages >= 1
    assert " ".join(doc.text.split()) == " ".join(plain.text.split())


def test_real_empty_password_aes_pdfs_are_read() -> None:
    pypdf = pytest.importorskip("pypdf")
    encrypted = [p for p in dev_pdfs() if pypdf.PdfReader(p).is_encrypted]
    if not encrypted:
        pytest.skip("no encrypted PDF in the real dev corpus here")
    for path in encrypted:
        doc = read_document(path)
        assert doc.letter_format == "ca_dwc_imr" and "Case Number" in doc.text


def test_sparse_50_mb_file_is_refused_by_size_with_default_settings(tmp_path: Path) -> None:
    path = tmp_path / "enormous.pdf"
    with path.open("wb") as f:
        f.write(b"%PDF-1.4\n")
        f.truncate(50 * 2**20)
    with Library(make_settings(tmp_path / "data")) as lib:
        report = lib.ingest([path], embed=False)
    (failed_path, reason), = report.failed
    assert failed_path == str(path)
    assert "50.0 MB" in reason and "20 MB" in reason


def test_missing_file_and_unsupported_type(tmp_path: Path) -> None:
    with pytest.raises(UnreadableDocument, match="not found"):
        read_document(tmp_path / "nope.txt")
    other = tmp_path / "letter.docx"
    other.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(UnreadableDocument, match="unsupported"):
        read_document(other)


# -- a batch: all bad files plus good letters -------------------------------------------------
@pytest.fixture
def mixed_folder(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    folder = tmp_path / "mixed"
    folder.mkdir()
    built = {name: case.build(folder) for name, case in CASES.items()}
    shutil.copy(synthetic_letter(GOOD_TEXT_LETTER), folder / "good.txt")
    write_pdf(_letter_text("tx_iro_overturned.txt"), folder / "good.pdf")
    built["good-text"] = folder / "good.txt"
    built["good-pdf"] = folder / "good.pdf"
    return folder, built


def test_batch_ingests_the_good_letters_and_reports_each_bad_file(mixed_folder, tmp_path: Path) -> None:
    folder, built = mixed_folder
    expected_ok = {str(built[n]) for n in [*READABLE, "good-text", "good-pdf"]}
    expected_bad = {str(built[n]) for n in BAD}
    with Library(make_settings(tmp_path / "data", max_file_mb=MAX_MB)) as lib:
        first = lib.ingest([folder])
        assert set(first.ingested) == expected_ok
        assert {p for p, _ in first.failed} == expected_bad
        assert len(first.failed) == len(expected_bad)
        stats = lib.stats()
        assert stats["documents"] == len(expected_ok)
        assert stats["formats"] == {"ca_dwc_imr": 5, "tx_iro": 1, "unknown": 1}
        # every chunk has a vector but boilerplate with nothing of its own, which BM25 alone holds (docs/embedders.md)
        assert lib.dense.count() == stats["chunks_embedded"] == stats["chunks"] - count_skipped(lib.catalog.db)
        assert lib.search("Lyrica", k=1)[0].source in expected_ok

        second = lib.ingest([folder])
        assert set(second.unchanged) == expected_ok
        assert second.ingested == second.replaced == []
        assert sorted(second.failed) == sorted(first.failed)
        again = lib.stats()
        assert (again["documents"], again["chunks"], again["paths"]) == (stats["documents"], stats["chunks"], stats["paths"])
        assert len(again["failures"]) == len(expected_bad)
        assert lib.dense.count() == again["chunks_embedded"] == stats["chunks_embedded"]


def test_cli_ingest_exits_1_and_prints_one_line_per_failure(
    mixed_folder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, built = mixed_folder
    monkeypatch.chdir(tmp_path)  # no stray .env file is read
    for key in [k for k in os.environ if k.startswith("IMR_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("IMR_MAX_FILE_MB", str(MAX_MB))
    data_dir = tmp_path / "cli-data"

    def run() -> tuple[int, list[str], str]:
        code = cli.main(["--data-dir", str(data_dir), "ingest", str(folder), "--no-embed"])
        out, err = capsys.readouterr()
        failures = [line for line in err.splitlines() if line.startswith("FAILED ")]
        return code, failures, out

    code, failures, out = run()
    assert code == 1
    assert len(failures) == len(BAD)
    for name in BAD:
        mentions = [line for line in failures if str(built[name]) in line]
        assert len(mentions) == 1, (name, failures)
        for word in CASES[name].keywords:
            assert word.lower() in mentions[0].lower()
    n_ok = len(READABLE) + 2
    assert f"ingested {n_ok}, replaced 0, unchanged 0, failed {len(BAD)}" in out

    code, failures_again, out = run()
    assert code == 1 and sorted(failures_again) == sorted(failures)
    assert f"ingested 0, replaced 0, unchanged {n_ok}, failed {len(BAD)}" in out
    with Library(make_settings(data_dir)) as lib:
        stats = lib.stats()
    assert stats["documents"] == n_ok and len(stats["failures"]) == len(BAD)


def test_expanding_pdf_is_refused_page_by_page_in_flat_memory(tmp_path: Path) -> None:
    """156 KB, 1,000 pages sharing one content stream: 15 million characters. With the page limit
    lifted, the text limit still stops it after the pages that cross it (before: the whole text
    was extracted, normalised and chunked, 640 MB of memory and 17 s)."""
    import subprocess
    import sys

    path = shared_stream_pdf(1000)(tmp_path)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from imr_rag.ingest.documents import ReadLimits, read_document\n"
        "from imr_rag.errors import UnreadableDocument\n"
        "try:\n"
        "    read_document(Path(sys.argv[1]), limits=ReadLimits(max_pages=100_000))\n"
        "    print('read')\n"
        "except UnreadableDocument as exc:\n"
        "    print(exc.reason)\n"
        # VmHWM, not ru_maxrss: the latter keeps the forking parent's peak across exec
        "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) // 1024)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}  # this checkout's imr_rag, whatever the cwd
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                            timeout=60, check=True, env=env)
    reason, peak_mb = result.stdout.splitlines()
    assert "IMR_MAX_TEXT_CHARS" in reason and "by page 66" in reason, result.stdout
    assert int(peak_mb) < 200, f"peak memory {peak_mb} MB"
