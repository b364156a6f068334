"""The DMHC IMR determinations CSV: the streaming reader and the ca_dmhc_imr format plugin."""

from __future__ import annotations

import csv
import io
import json
import re
import tracemalloc
from pathlib import Path

import pytest

from imr_rag.extract.checks import with_checks
from imr_rag.errors import UnreadableDocument
from imr_rag.formats import ca_dmhc_imr as plugin
from imr_rag.formats import ca_dmhc_imr_checks, detect_format
from imr_rag.formats.dmhc_csv import RowRead, file_encoding, is_dmhc_header, read_rows
from imr_rag.formats.spans import one_line
from imr_rag.schema import Decision, Document
from imr_rag.ingest.textmap import normalise

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "evals" / "fixtures" / "dmhc"
ROWS_CSV = FIXTURES / "rows.csv"
REAL_CSV = ROOT.parent / "shared" / "corpus" / "dmhc-dev" / "dmhc-imr-sample.csv"
GOLD = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted((FIXTURES / "gold").glob("*.json"))}
HEADER = ",".join(plugin.COLUMNS)


def document(read: RowRead, path: Path) -> Document:
    """The document ingest makes of a row: its rendered text, normalised as any letter's."""
    mapped = normalise(read.text)
    return Document(
        doc_id=read.reference_id, path=str(path), file_hash="", source_text=read.text, text=mapped.text,
        offsets=mapped.offsets, ends=mapped.ends, pages=1, letter_format=detect_format(mapped.text),
    )


def extracted(read: RowRead, path: Path) -> tuple[Decision, str]:
    doc = document(read, path)
    return with_checks(plugin.parse(doc), doc.text, extra=plugin.validators), doc.text


def csv_text(rows: list[list[str]], header: str = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
    return header + "\r\n" + out.getvalue()


def a_row(ref: str = "MN24-10001", findings: str = "Final Result: The reviewer determined that the requested "
          "service is not medically necessary. Therefore, the Health Plan's denial should be upheld.", **columns) -> list[str]:
    values = {"ReferenceID": ref, "ReportYear": "2024", "DiagnosisCategory": "Orth/Musculoskeletal",
              "DiagnosisSubCategory": "Back Pain", "TreatmentCategory": "Diag Imag & Screen", "TreatmentSubCategory": "MRI",
              "Determination": "Upheld Decision of Health Plan", "Type": "Medical Necessity", "AgeRange": "41 to 50",
              "PatientGender": "Male", "IMRType": "Standard", "DaysToReview": "", "DaysToAdopt": "", "Findings": findings}
    values.update(columns)
    return [values[c] for c in plugin.COLUMNS]


# -- the reader ------------------------------------------------------------------------------------
def test_the_fixture_rows_read_with_their_row_and_line_numbers() -> None:
    reads = list(read_rows(ROWS_CSV))
    assert [r.failure for r in reads] == [None] * len(reads)
    assert sorted(r.reference_id for r in reads) == WRITTEN
    assert [r.row_number for r in reads] == list(range(1, len(reads) + 1))
    physical = re.split(r"\r\n|\r|\n", ROWS_CSV.read_text(encoding="utf-8"))
    for r in reads:  # each row starts on the physical line its number says
        assert physical[r.line_number - 1].startswith(r.reference_id)
    cgm = next(r for r in reads if r.reference_id == "MN99-90008")
    assert "\r\n" in cgm.row["Findings"] and "“Dexcom G7,”" in cgm.row["Findings"]
    assert cgm.text.startswith("DMHC Independent Medical Review\nReference ID: MN99-90008\nReport Year: 2025\n")


def test_utf8_with_bom_and_windows_1252_read_the_same(tmp_path: Path) -> None:
    rows = [a_row("MN24-10001", "The patient’s “findings”, with commas,\nand a line break. Café \u0081."),
            a_row("MN24-10002", 'He said "no" twice.')]
    text = csv_text(rows)
    plain, bom, cp = tmp_path / "plain.csv", tmp_path / "bom.csv", tmp_path / "cp1252.csv"
    plain.write_bytes(text.encode("utf-8"))
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    cp.write_bytes(text.replace("\u0081", "").encode("cp1252").replace(b"Caf\xe9 .", b"Caf\xe9 \x81."))
    assert file_encoding(plain)[0] == "utf-8-sig" and file_encoding(cp)[0] == "cp1252"
    for path in (plain, bom, cp):
        reads = list(read_rows(path))
        assert [r.failure for r in reads] == [None, None], path
        assert reads[0].row["Findings"] == "The patient’s “findings”, with commas,\nand a line break. Café \u0081."
        assert reads[1].row["Findings"] == 'He said "no" twice.'
        assert reads[0].row["ReferenceID"] == "MN24-10001"


def test_a_malformed_row_is_one_failure_and_the_rest_are_read(tmp_path: Path) -> None:
    good = csv_text([a_row("MN24-10001")]).split("\r\n", 1)[1]
    lines = [
        HEADER,
        good.strip(),
        'MN24-10002,2024,"Orth"/Musculo,Back Pain,Diag Imag & Screen,MRI,Upheld Decision of Health Plan,Medical Necessity,41 to 50,Male,Standard,,,text',
        csv_text([a_row("MN24-10003", "multi\nline, \"quoted\" findings")]).split("\r\n", 1)[1].strip(),
        "MN24-10004,2024,Orth/Musculoskeletal,Back Pain",
        csv_text([a_row("MN24-10005", "  ")]).split("\r\n", 1)[1].strip(),
        'MN24-10006,2024,Orth,Back,Diag,MRI,Upheld,Medical Necessity,41 to 50,Male,Standard,,,"an open quote',
        "that runs on",
        csv_text([a_row("MN24-10007")]).split("\r\n", 1)[1].strip(),
        "",
        csv_text([a_row("MN24-10008")]).split("\r\n", 1)[1].strip(),
    ]
    path = tmp_path / "mixed.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    reads = list(read_rows(path))
    got = [(r.row_number, r.line_number, r.reference_id, (r.failure or "ok").split(":")[0]) for r in reads]
    assert got == [
        (1, 2, "MN24-10001", "ok"),
        (2, 3, "MN24-10002", "bad quoting"),
        (3, 4, "MN24-10003", "ok"),
        (4, 6, "MN24-10004", "missing columns"),
        (5, 7, "MN24-10005", "empty findings"),
        (6, 8, "MN24-10006", "bad quoting"),
        (7, 10, "MN24-10007", "ok"),
        (8, 12, "MN24-10008", "ok"),
    ]
    assert reads[3].failure == "missing columns: " + ", ".join(plugin.COLUMNS[4:])
    assert "not closed before the next row" in reads[5].failure
    assert reads[2].row["Findings"] == 'multi\nline, "quoted" findings'


def test_another_layout_is_refused_with_the_columns_it_has(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("case,outcome,date\nCM16-1,Upheld,2016-01-01\n", encoding="utf-8")
    with pytest.raises(UnreadableDocument) as caught:
        list(read_rows(path))
    assert "not the DMHC IMR layout: expected columns ReferenceID, ReportYear" in caught.value.reason
    assert "found case, outcome, date" in caught.value.reason
    assert not is_dmhc_header("case,outcome,date")
    assert is_dmhc_header("\ufeff" + HEADER) and is_dmhc_header(list(plugin.COLUMNS))
    assert not is_dmhc_header(list(plugin.COLUMNS[:-1]))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableDocument, match="empty file"):
        list(read_rows(empty))


def test_fifty_thousand_rows_stream_in_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    findings = ("Nature of Statutory Criteria/Case Summary: The patient has requested authorization and coverage for "
                "an MRI, with “contrast”.\nFinal Result: The reviewer determined that the requested service is not "
                "medically necessary. Therefore, the Health Plan’s denial should be upheld. ") * 3
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(plugin.COLUMNS)
        for n in range(50_000):
            writer.writerow(a_row(f"MN24-{n:06d}", findings))
    size = path.stat().st_size
    tracemalloc.start()
    try:
        count = sum(1 for r in read_rows(path) if r.ok)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 50_000
    assert peak < 4 * 1024 * 1024 < size / 8  # a few rows at a time, never the file


# -- the plugin ------------------------------------------------------------------------------------
def mismatches(decision: Decision, text: str, gold: dict) -> list[str]:
    """Where a record differs from its gold: fields, items (service, category, outcome, span) and checks."""
    wrong = []
    fields = ["case_number", "letter_format", "priority", "report_year", "review_type", "diagnosis_category",
              "diagnosis_subcategory", "treatment_category", "treatment_subcategory", "age_range", "days_to_review",
              "days_to_adopt", "reviewer_count", "reviewers_for_outcome", "published_determination"]
    for field in fields:
        if getattr(decision, field) != gold[field]:
            wrong.append(f"{field}: {getattr(decision, field)!r} != {gold[field]!r}")
    if decision.reviewer.specialty != gold["reviewer"]["specialty"]:
        wrong.append(f"specialty: {decision.reviewer.specialty!r} != {gold['reviewer']['specialty']!r}")
    if decision.patient.sex != gold["patient"]["sex"]:
        wrong.append(f"sex: {decision.patient.sex!r} != {gold['patient']['sex']!r}")
    got = [(i.service, i.category.value, i.determination.value, i.medically_necessary) for i in decision.items]
    want = [(i["service"], i["category"], i["determination"], i["medically_necessary"]) for i in gold["items"]]
    if got != want:
        wrong.append(f"items: {got} != {want}")
    for item, gold_item in zip(decision.items, gold["items"]):
        ev = item.evidence.determination
        if ev is None or text[ev.start : ev.end] != ev.quote or one_line(ev.quote) != one_line(gold_item["determination_quote"]):
            wrong.append(f"determination span: {ev.quote if ev else None!r} != {gold_item['determination_quote']!r}")
        if item.evidence.service and text[item.evidence.service.start : item.evidence.service.end] != item.evidence.service.quote:
            wrong.append("service span does not point at its quote")
        if ev and ev.start < plugin.body_start(text):
            wrong.append("determination span outside the findings text")
    checks = sorted({f.check for f in decision.review_flags})
    if checks != sorted(gold["review_checks"]):
        wrong.append(f"checks: {checks} != {gold['review_checks']} ({[str(f) for f in decision.review_flags]})")
    return wrong


def _reads(path: Path) -> dict[str, RowRead]:
    return {r.reference_id: r for r in read_rows(path)}


WRITTEN = sorted(ref for ref, g in GOLD.items() if g["source_csv"] == "rows.csv")
REAL = sorted(ref for ref, g in GOLD.items() if g["source_csv"] == "dmhc-imr-sample.csv")


@pytest.mark.parametrize("ref", WRITTEN)
def test_written_rows_match_their_gold(ref: str) -> None:
    read = _reads(ROWS_CSV)[ref]
    decision, text = extracted(read, ROWS_CSV)
    assert mismatches(decision, text, GOLD[ref]) == []


@pytest.mark.skipif(not REAL_CSV.is_file(), reason="the shared DMHC sample is not present")
@pytest.mark.parametrize("ref", REAL)
def test_real_rows_match_their_gold(ref: str) -> None:
    read = _reads(REAL_CSV)[ref]
    decision, text = extracted(read, REAL_CSV)
    assert mismatches(decision, text, GOLD[ref]) == []


def test_the_fixture_set_covers_what_the_published_data_holds() -> None:
    written = [GOLD[ref] for ref in WRITTEN]
    assert len(written) >= 12
    assert {g["published_determination"] for g in written} == {"upheld", "overturned"}
    assert {g["review_type"] for g in written} == {"medical_necessity", "experimental_investigational", "urgent_care"}
    assert {g["priority"] for g in written} == {"Standard", "Expedited"}
    assert any(len(g["items"]) == 2 for g in written)
    assert any((g["reviewer_count"], g["reviewers_for_outcome"]) == (3, 2) for g in written)
    assert any(g["days_to_review"] is None for g in written) and any(g["days_to_adopt"] is not None for g in written)


def test_rendered_rows_are_detected_and_split_by_their_labels_in_any_order() -> None:
    read = _reads(ROWS_CSV)["MN99-90007"]
    doc = document(read, ROWS_CSV)
    assert doc.letter_format == "ca_dmhc_imr"
    assert plugin.case_number(doc.text) == "MN99-90007"
    names = [s.name for s in plugin.sections(doc.text)]
    assert names == ["header", "final_result", "case_summary", "findings", "credentials"]
    unlabelled = _reads(ROWS_CSV)["MN99-90009"]
    assert [s.name for s in plugin.sections(document(unlabelled, ROWS_CSV).text)] == ["header", "findings", "credentials"]
    assert detect_format("CLINICAL CASE SUMMARY\nThe Health Plan denied the request.") != "ca_dmhc_imr"


def test_a_finding_that_disagrees_with_the_determination_column_is_flagged(tmp_path: Path) -> None:
    path = tmp_path / "disagree.csv"
    overturned = ("Findings: The physician reviewer found that the requested MRI is medically necessary. Final Result: "
                  "The reviewer determined that the requested MRI is medically necessary. Therefore, the Health Plan's "
                  "denial should be overturned.")
    path.write_text(csv_text([a_row("MN24-20001", overturned, Determination="Upheld Decision of Health Plan"),
                              a_row("MN24-20002", overturned, Determination="Overturned Decision of Health Plan")]),
                    encoding="utf-8")
    (disagree, text), (agree, _) = (extracted(r, path) for r in read_rows(path))
    flags = [f for f in disagree.review_flags if f.check == "determination_column"]
    assert len(flags) == 1 and flags[0].item_index == 0
    assert "the findings say 'overturned'" in flags[0].reason and "Upheld Decision of Health Plan" in flags[0].reason
    assert text[flags[0].start : flags[0].end] == "Therefore, the Health Plan's denial should be overturned."
    assert disagree.published_determination == "upheld" and disagree.needs_review
    assert not [f for f in agree.review_flags if f.check == "determination_column"]


def test_findings_without_an_outcome_statement_are_flagged(tmp_path: Path) -> None:
    path = tmp_path / "silent.csv"
    path.write_text(csv_text([a_row("MN24-30001", "Findings: The physician reviewer reviewed the records.")]), encoding="utf-8")
    decision, _ = extracted(next(read_rows(path)), path)
    assert decision.items == [] and [f.check for f in decision.review_flags] == ["outcome_read"]


def test_a_split_that_is_no_majority_is_flagged() -> None:
    decision = Decision(letter_format="ca_dmhc_imr", source={"path": "x", "doc_id": "x"}, reviewer_count=3,
                        reviewers_for_outcome=1)
    assert [f.check for f in ca_dmhc_imr_checks.reviewer_split(decision, "")] == ["reviewer_split"]
