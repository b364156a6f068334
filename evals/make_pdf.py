"""Turn a plain-text letter into a real PDF, for tests that need PDF input.

Used at test time on the synthetic .txt letters in evals/fixtures/synthetic/letters/:

    from evals.make_pdf import write_pdf
    write_pdf(path.read_text(encoding="utf-8"), tmp_path / "letter.pdf")
    write_pdf(text, tmp_path / "locked.pdf", password="secret")

Layout: A4, core font Helvetica 10pt, one input line per output line (long lines are
wrapped), blank lines kept, a form feed (\\f) starts a new page. Core fonts are latin-1 only,
so common typographic characters are mapped to ASCII and anything else becomes '?'.
Tested with fpdf2 2.8.9 (needs >= 2.7.6 for multi_cell(text=...)); encryption uses fpdf2's own RC4
handler, so no extra crypto package is needed.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import EncryptionMethod

_FONT = "Helvetica"
_SIZE = 10
_LINE_H = 4.6  # mm, about 1.3 x 10pt

_ASCII = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2022": "*", "\u2026": "...", "\u00a0": " ",
    "\ufeff": "", "\ufffe": "", "\u200b": "", "\t": "    ",
})


def _latin1(line: str) -> str:
    return line.translate(_ASCII).encode("latin-1", "replace").decode("latin-1")


def write_pdf(text: str, path: Path, *, password: str | None = None) -> None:
    """Write ``text`` as an A4 PDF at ``path``; encrypt with ``password`` as user password if given."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(left=15, top=15, right=15)
    pdf.set_font(_FONT, size=_SIZE)
    if password is not None:
        pdf.set_encryption(owner_password=password, user_password=password,
                           encryption_method=EncryptionMethod.RC4)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for page in text.split("\f"):
        if page.strip("\n ") == "" and pdf.page > 0:
            continue  # a trailing form feed, as PDF extractors leave at the end
        pdf.add_page()
        for line in page.split("\n"):
            pdf.multi_cell(w=0, h=_LINE_H, text=_latin1(line.rstrip()) or " ",
                           new_x="LMARGIN", new_y="NEXT")
    if pdf.page == 0:
        pdf.add_page()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))


def assemble_pdf(objects: list[bytes]) -> bytes:
    """A PDF file of numbered objects (object 1 is the catalog): header, the objects, the
    cross-reference table and the trailer. For PDFs drawn by hand (a shared content stream, or a
    benchmark's thousands of letters, where fpdf2 is too slow)."""
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def nested_xobject_pdf(levels: int, fanout: int, *, words: int = 30) -> bytes:
    """The "memory bomb" of the reliability issue: a one-page PDF of a few KB whose page draws form
    XObject 1 `fanout` times, which draws XObject 2 `fanout` times, ... `levels` deep; the last
    one shows a line of `words` words. The text layer holds fanout**levels copies of that line
    (5 levels x 20: 3.2 million lines), which pdfium expands when the page's text is loaded."""
    import zlib

    line = " ".join(["junk"] * words)
    leaf = zlib.compress(f"BT /F1 4 Tf 10 10 Td ({line}) Tj ET".encode())
    first_form = 5  # objects: catalog, pages, page, font, then the forms from level 1 to `levels`
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R"
        b" /Resources << /XObject << /X 5 0 R >> >> >>" % (first_form + levels),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]

    def draws(count: int) -> bytes:
        return zlib.compress(b" ".join([b"q /X Do Q"] * count))

    for level in range(1, levels + 1):
        if level == levels:
            body, resources = leaf, b"/Font << /F1 4 0 R >>"
        else:
            body, resources = draws(fanout), b"/XObject << /X %d 0 R >>" % (first_form + level)
        objects.append(
            b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << %s >>"
            b" /Length %d /Filter /FlateDecode >>\nstream\n" % (resources, len(body)) + body + b"\nendstream"
        )
    page_stream = draws(fanout)
    objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(page_stream) + page_stream + b"\nendstream")
    return assemble_pdf(objects)
