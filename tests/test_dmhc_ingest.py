"""DMHC IMR determinations CSV through the catalog, ingest, review and export, on real SQLite and
real files (CSVs written in tmp_path; the only real rows come from the existing fixtures)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from helpers import make_settings
from imr_rag.catalog import Catalog
from imr_rag.catalog.decisions import DECISION_FIELD_COLUMNS
from imr_rag.catalog.export import table, write_table
from imr_rag.extract.checks import with_checks
from imr_rag.faces.cli import main
from imr_rag.formats import ca_dmhc_imr as plugin
from imr_rag.formats.dmhc_csv import read_rows
from imr_rag.ingest.textmap import normalise
from imr_rag.schema import Decision, Document

ROOT = Path(__file__).resolve().parents[1]
ROWS_CSV = ROOT / "evals" / "fixtures" / "dmhc" / "rows.csv"
FIELDS = [column for column, _ in DECISION_FIELD_COLUMNS]
HEADER = list(plugin.COLUMNS)
UPHELD = ("Nature of Statutory Criteria/Case Summary: An enrollee has requested authorization and coverage for an MRI "
          "of the lumbar spine for treatment of his back pain.\nFindings: The physician reviewer found that the "
          "patient has no red flag symptoms.\nFinal Result: The reviewer determined that the requested MRI is not "
          "medically necessary. Therefore, the Health Plan’s denial should be upheld.\nCredentials/Qualifications: "
          "The reviewer is board certified in orthopedic surgery and is actively practicing.")
OVERTURNED = UPHELD.replace("is not medically necessary", "is medically necessary").replace("be upheld", "be overturned")


def a_row(ref: str, findings: str = UPHELD, **columns: str) -> list[str]:
    values = {"ReferenceID": ref, "ReportYear": "2024", "DiagnosisCategory": "Orth/Musculoskeletal",
              "DiagnosisSubCategory": "Back Pain", "TreatmentCategory": "Diag Imag & Screen", "TreatmentSubCategory": "MRI",
              "Determination": "Upheld Decision of Health Plan", "Type": "Medical Necessity", "AgeRange": "41 to 50",
              "PatientGender": "Male", "IMRType": "Standard", "DaysToReview": "12", "DaysToAdopt": "",
              "Findings": findings}
    values.update(columns)
    return [values[c] for c in HEADER]


def write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8", bom: bool = False) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode(encoding))
    return path


def row_decision(ref: str = "MN99-90001") -> Decision:
    read = next(r for r in read_rows(ROWS_CSV) if r.reference_id == ref)
    mapped = normalise(read.text)
    doc = Document(doc_id="d-" + ref, path=f"{ROWS_CSV}#{ref}", file_hash="x", source_text=read.text,
                   text=mapped.text, offsets=mapped.offsets, ends=mapped.ends, pages=1, letter_format=plugin.name)
    return with_checks(plugin.parse(doc), doc.text, extra=plugin.validators)


def cli(capsys, data: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data), "--quiet", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


# -- the catalog's columns -------------------------------------------------------------------------
def _store(catalog: Catalog, doc_id: str, decision: Decision) -> None:
    catalog.db.execute(
        "INSERT INTO documents (doc_id, file_hash, path, letter_format, case_number, pages, chars, text, source_text,"
        " offsets, ingested_at) VALUES (?, '', ?, ?, ?, 1, 0, '', x'', x'', 0)",
        (doc_id, decision.source.path, decision.letter_format, decision.case_number),
    )
    catalog.db.commit()
    catalog.save_decision(doc_id, "rules", decision)


def test_the_tabular_fields_are_columns_named_as_the_decision_fields(tmp_path: Path) -> None:
    assert set(FIELDS) - {"imr_type"} <= set(Decision.model_fields)
    decision = row_decision("MN99-90001")
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        _store(catalog, "d1", decision)
        row = dict(catalog.db.execute(f"SELECT {', '.join(FIELDS)} FROM decisions WHERE doc_id = 'd1'").fetchone())
        indexes = {r[0]: r[1] for r in catalog.db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'decisions'")}
    assert row == {**{f: getattr(decision, f, None) for f in FIELDS}, "imr_type": "Standard"}
    assert row["report_year"] == 2024 and row["diagnosis_category"] == "Digestive System/ GI"
    assert row["review_type"] == "medical_necessity" and row["published_determination"] == "overturned"
    for column in ("report_year", "diagnosis_category", "review_type"):
        assert any(f"decisions({column}" in (sql or "") for sql in indexes.values()), column


def test_an_older_catalog_gets_the_columns_filled_from_its_records(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    decision = row_decision("EI99-90002")
    with Catalog(path) as catalog:
        _store(catalog, "d1", decision)
    db = sqlite3.connect(path)  # the file as a version before the columns would have left it
    for name in ("decisions_report_year", "decisions_diagnosis_category", "decisions_review_type"):
        db.execute(f"DROP INDEX {name}")
    for column in FIELDS:
        db.execute(f"ALTER TABLE decisions DROP COLUMN {column}")
    db.commit()
    db.close()
    with Catalog(path) as catalog:
        row = catalog.db.execute(f"SELECT {', '.join(FIELDS)} FROM decisions").fetchone()
        assert dict(row)["review_type"] == "experimental_investigational"
        assert dict(row) == {**{f: getattr(decision, f, None) for f in FIELDS}, "imr_type": decision.priority}


def test_exports_carry_the_tabular_columns(tmp_path: Path) -> None:
    decision = row_decision("MN99-90001")
    for level in ("decision", "item"):
        rows = table([("d1", "rules", decision)], level)
        assert {f: rows[0][f] for f in FIELDS} == {**{f: getattr(decision, f, None) for f in FIELDS}, "imr_type": "Standard"}
        for fmt in ("csv", "jsonl", "parquet"):
            target = tmp_path / f"{level}.{fmt}"
            write_table(rows, fmt, target)
            if fmt == "csv":
                header = next(csv.reader(target.open(encoding="utf-8")))
            elif fmt == "jsonl":
                header = list(json.loads(target.read_text().splitlines()[0]))
            else:
                import pyarrow.parquet as pq

                header = pq.read_table(target).column_names
            assert set(FIELDS) <= set(header), (level, fmt)
