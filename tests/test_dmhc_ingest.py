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
from imr_rag.schema import Decision, Document, SearchFilters

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


# -- ingest ----------------------------------------------------------------------------------------
def test_each_row_is_one_document_extracted_and_a_re_ingest_changes_nothing(tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    export = write_csv(tmp_path / "dmhc.csv", [a_row("MN24-10001"), a_row("MN24-10002", OVERTURNED,
                       Determination="Overturned Decision of Health Plan", ReportYear="2021")])
    code, out, err = cli(capsys, data, "ingest", "--no-embed", "--extract", str(export), str(ROWS_CSV))
    assert (code, err) == (0, "")
    assert "ingested 16, replaced 0, unchanged 0, failed 0" in out and "16 decisions extracted" in out
    code, out, _ = cli(capsys, data, "ingest", "--no-embed", "--extract", str(export), str(ROWS_CSV))
    assert code == 0 and "ingested 0, replaced 0, unchanged 16, failed 0; 0 chunks added" in out
    with Catalog(data / "catalog.sqlite") as catalog:
        assert catalog.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 16
        row = catalog.db.execute(
            "SELECT d.report_year, d.published_determination, i.determination, doc.path, doc.row_of FROM decisions d"
            " JOIN items i ON i.doc_id = d.doc_id JOIN documents doc ON doc.doc_id = d.doc_id"
            " WHERE d.case_number = 'MN24-10002'").fetchone()
        assert tuple(row) == (2021, "overturned", "overturned", f"{export}#MN24-10002", str(export))
        assert catalog.case_conflicts() == [] and catalog.orphan_documents() == []
        assert catalog.stats()["table_rows"] == 16
    code, out, _ = cli(capsys, data, "stats")
    assert "documents: 16 (0 paths, 16 rows of DMHC tables)" in out
    code, out, _ = cli(capsys, data, "search", "endoscopic sleeve gastroplasty", "--mode", "lexical", "-k", "1")
    assert code == 0 and "MN99-90001" in out


def test_a_revised_row_supersedes_its_old_version_and_review_says_so(tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    first = write_csv(tmp_path / "dmhc-2024.csv", [a_row("MN24-10001"), a_row("MN24-10002"), a_row("MN24-10003")])
    assert cli(capsys, data, "ingest", "--no-embed", "--extract", str(first))[0] == 0
    # The next export: row 1 as it was, row 2 corrected by the publisher, row 3 gone, row 4 new.
    newer = write_csv(tmp_path / "dmhc-2025.csv", [
        a_row("MN24-10001"),
        a_row("MN24-10002", OVERTURNED, Determination="Overturned Decision of Health Plan"),
        a_row("MN25-10004")])
    code, out, _ = cli(capsys, data, "ingest", "--no-embed", "--extract", str(newer))
    assert code == 0 and "ingested 1, replaced 1, unchanged 1, failed 0" in out
    with Catalog(data / "catalog.sqlite") as catalog:
        counting = {r[0]: r[1] for r in catalog.db.execute(
            "SELECT d.case_number, i.determination FROM decisions d JOIN items i ON i.doc_id = d.doc_id"
            " WHERE d.superseded_by IS NULL")}
        assert counting == {"MN24-10001": "upheld", "MN24-10002": "overturned", "MN24-10003": "upheld",
                            "MN25-10004": "upheld"}  # the row missing from the newer export is kept
        versions = catalog.case_versions("MN24-10002")
        assert [(Path(v["path"]).name, v["counts"]) for v in versions] == [
            ("dmhc-2024.csv#MN24-10002", 0), ("dmhc-2025.csv#MN24-10002", 1)]
        assert catalog.case_conflicts() == []  # the publisher's correction is no conflict
        assert catalog.db.execute("SELECT COUNT(*) FROM items WHERE current = 1").fetchone()[0] == 4
    code, out, _ = cli(capsys, data, "review")
    assert code == 0
    assert f"MN24-10002: revised: revised in a later export: the row read from {first} is superseded by the row read" \
           f" from {newer}, which counts" in out
    assert "case_conflict" not in out and "MN24-10001" not in out
    code, out, _ = cli(capsys, data, "review", "--check", "case_conflict")
    assert "revised" not in out
    # Re-reading the older export changes nothing: its rows are stored versions already.
    code, out, _ = cli(capsys, data, "ingest", "--no-embed", "--extract", str(first))
    assert "ingested 0, replaced 0, unchanged 3" in out
    with Catalog(data / "catalog.sqlite") as catalog:
        assert catalog.db.execute(
            "SELECT i.determination FROM items i WHERE i.current = 1 AND i.case_number = 'MN24-10002'"
        ).fetchone()[0] == "overturned"


def test_a_revision_in_an_export_overwritten_in_place_keeps_both_versions(tmp_path: Path, capsys) -> None:
    data, export = tmp_path / "data", tmp_path / "dmhc.csv"
    write_csv(export, [a_row("MN24-10001")])
    assert cli(capsys, data, "ingest", "--no-embed", str(export))[0] == 0  # not extracted yet
    write_csv(export, [a_row("MN24-10001", OVERTURNED, Determination="Overturned Decision of Health Plan")])
    code, out, _ = cli(capsys, data, "ingest", "--no-embed", "--extract", str(export))
    assert "ingested 0, replaced 1, unchanged 0" in out
    code, out, _ = cli(capsys, data, "check")
    assert code == 0 and "no drift" in out
    with Catalog(data / "catalog.sqlite") as catalog:
        assert catalog.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 2
        assert [r.case_number for r in catalog.row_revisions()] == ["MN24-10001"]
        assert catalog.resolve_document("MN24-10001").text.count("Overturned Decision of Health Plan") == 1


def test_malformed_rows_are_one_failed_line_each_and_the_rest_are_ingested(tmp_path: Path, capsys) -> None:
    data, path = tmp_path / "data", tmp_path / "mixed.csv"
    body = io.StringIO()
    writer = csv.writer(body, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerow(a_row("MN24-10001"))  # lines 2-5: the findings hold line breaks
    body.write("MN24-10002,2024,Orth/Musculoskeletal,Back Pain\r\n")  # missing columns
    writer.writerow(a_row("MN24-10003", "  "))  # empty findings
    body.write('MN24-10004,2024,Orth,Back,Diag,MRI,Upheld,Medical Necessity,41 to 50,Male,Standard,,,"an open quote\r\n')
    writer.writerow(a_row("MN24-10005"))
    path.write_text(body.getvalue(), encoding="utf-8")
    code, out, err = cli(capsys, data, "ingest", "--no-embed", "--extract", str(path))
    assert code == 1
    failed = [line for line in err.splitlines() if line.startswith("FAILED")]
    assert failed == [
        f"FAILED {path} row 2: missing columns: " + ", ".join(HEADER[4:]) + " (line 6, MN24-10002)",
        f"FAILED {path} row 3: empty findings (line 7, MN24-10003)",
        f"FAILED {path} row 4: bad quoting: a quoted field opened on line 8 is not closed before the next row"
        " (line 8, MN24-10004)",
    ]
    assert "ingested 2, replaced 0, unchanged 0, failed 3" in out
    # Fixed in the file, the rows are read and their failures forgotten.
    write_csv(path, [a_row(f"MN24-1000{n}") for n in range(1, 6)])
    code, out, err = cli(capsys, data, "ingest", "--no-embed", str(path))
    assert (code, err) == (0, "") and "ingested 3, replaced 0, unchanged 2, failed 0" in out
    with Catalog(data / "catalog.sqlite") as catalog:
        assert catalog.stats()["failures"] == []


def test_a_csv_of_another_layout_is_refused_naming_the_file(tmp_path: Path, capsys) -> None:
    data, other = tmp_path / "data", tmp_path / "other.csv"
    other.write_text("case,outcome,date\nCM16-1,Upheld,2016-01-01\n", encoding="utf-8")
    code, out, err = cli(capsys, data, "ingest", "--no-embed", str(other))
    assert code == 1
    assert err.startswith(f"FAILED {other}: not the DMHC IMR layout: expected columns ReferenceID, ReportYear")
    assert "found case, outcome, date" in err and "ingested 0, replaced 0, unchanged 0, failed 1" in out


def test_utf8_with_bom_and_windows_1252_exports_ingest_alike(tmp_path: Path, capsys) -> None:
    findings = UPHELD.replace("his back pain", "his back pain (“lumbago”), café")
    paths = [write_csv(tmp_path / "bom.csv", [a_row("MN24-10001", findings)], bom=True),
             write_csv(tmp_path / "cp1252.csv", [a_row("MN24-10001", findings)], encoding="cp1252")]
    assert paths[1].read_bytes().count(b"\x93lumbago\x94") == 1
    for path in paths:
        data = tmp_path / f"data-{path.stem}"
        assert cli(capsys, data, "ingest", "--no-embed", "--extract", str(path))[0] == 0
        with Catalog(data / "catalog.sqlite") as catalog:
            doc = catalog.resolve_document("MN24-10001")
            assert doc.text.startswith("DMHC Independent Medical Review\nReference ID: MN24-10001\n")
            assert "(“lumbago”), café" in doc.text
            assert catalog.decision(doc.doc_id).items[0].service == "MRI of the lumbar spine"
    texts = {Catalog(tmp_path / f"data-{p.stem}" / "catalog.sqlite").resolve_document("MN24-10001").doc_id for p in paths}
    assert len(texts) == 1  # the same row in either encoding is the same document


def test_extracted_fields_reach_the_catalog_and_the_exports(tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    assert cli(capsys, data, "ingest", "--no-embed", "--extract", str(ROWS_CSV))[0] == 0
    with Catalog(data / "catalog.sqlite") as catalog:
        got = {r["case_number"]: dict(r) for r in catalog.db.execute(f"SELECT case_number, {', '.join(FIELDS)} FROM decisions")}
    gold = json.loads((ROOT / "evals/fixtures/dmhc/gold/MN99-90007.json").read_text(encoding="utf-8"))
    assert got["MN99-90007"] == {"case_number": "MN99-90007", "imr_type": gold["priority"],
                                 **{f: gold[f] for f in FIELDS if f != "imr_type"}}
    assert {g["review_type"] for g in got.values()} == {"medical_necessity", "experimental_investigational", "urgent_care"}
    for level in ("decision", "item"):
        target = tmp_path / f"{level}.csv"
        assert cli(capsys, data, "export", "--format", "csv", "--output", str(target), "--level", level)[0] == 0
        rows = list(csv.DictReader(target.open(encoding="utf-8")))
        row = next(r for r in rows if r["case_number"] == "MN99-90007")
        assert row["report_year"] == str(gold["report_year"]) and row["diagnosis_category"] == gold["diagnosis_category"]
        assert row["reviewers_for_outcome"] == str(gold["reviewers_for_outcome"])


def test_worker_processes_ingest_a_table_as_one_process_does(tmp_path: Path) -> None:
    from imr_rag.library import Library

    export = write_csv(tmp_path / "dmhc.csv", [a_row(f"MN24-{n:05d}") for n in range(150)] + [["bad"]])
    reports = []
    for workers in (1, 2):
        with Library(make_settings(tmp_path / f"data-{workers}")) as lib:
            report = lib.ingest([export, ROWS_CSV], embed=False, extract="rules", workers=workers)
            reports.append((len(report.ingested), report.extracted, report.failed, report.chunks_added))
            ids = {r[0] for r in lib.catalog.db.execute("SELECT doc_id FROM decisions")}
        reports.append(ids)
    assert reports[0] == reports[2] and reports[1] == reports[3]
    assert reports[0][:2] == (164, 164) and [name for name, _ in reports[0][2]] == [f"{export} row 151"]


def test_the_row_checks_show_in_review(tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    export = write_csv(tmp_path / "dmhc.csv", [
        a_row("MN24-10001", OVERTURNED),  # the findings overturn, the Determination column says upheld
        a_row("MN24-10002", "Findings: The physician reviewer reviewed the records."),  # no outcome stated
        a_row("MN24-10003")])
    code, out, _ = cli(capsys, data, "ingest", "--no-embed", "--extract", str(export))
    assert code == 0 and "3 decisions extracted" in out
    code, out, _ = cli(capsys, data, "review")
    assert "MN24-10001 item 1 (MRI of the lumbar spine): determination_column: the findings say 'overturned', the " \
           "Determination column 'Upheld Decision of Health Plan'" in out
    assert "Therefore, the Health Plan’s denial should be overturned." in out
    assert "MN24-10002: outcome_read: no outcome statement was read in the findings" in out
    assert "MN24-10003" not in out
    with Catalog(data / "catalog.sqlite") as catalog:  # the row without items still counts by its columns
        row = catalog.db.execute("SELECT published_determination, needs_review FROM decisions"
                                 " WHERE case_number = 'MN24-10002'").fetchone()
        assert tuple(row) == ("upheld", 1)


def test_extract_of_a_csv_extracts_its_rows(tmp_path: Path, capsys) -> None:
    data, output = tmp_path / "data", tmp_path / "out.jsonl"
    export = write_csv(tmp_path / "dmhc.csv", [a_row("MN24-10001"), a_row("MN24-10002", OVERTURNED), ["bad"]])
    code, _, err = cli(capsys, data, "extract", "--backend", "rules", str(export), "--output", str(output))
    assert code == 1 and f"FAILED {export} row 3" in err
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(Path(x["source"]).name, x["decision"] and x["decision"]["report_year"]) for x in lines] == [
        ("dmhc.csv row 3", None), ("dmhc.csv#MN24-10001", 2024), ("dmhc.csv#MN24-10002", 2024)]


# -- the LLM backend -------------------------------------------------------------------------------
def row_answer(**overrides) -> dict:
    """What a model reading MN99-90001 correctly answers: every quote copied from its findings."""
    answer = {
        "case_number": "MN99-90001", "priority": "Standard", "report_year": 2024, "review_type": "medical_necessity",
        "diagnosis_category": "Digestive System/ GI", "diagnosis_subcategory": "Obesity",
        "treatment_category": "Gen Surg Proc", "treatment_subcategory": "Bariatric Surgery", "age_range": "41 to 50",
        "days_to_review": 21, "days_to_adopt": 3, "reviewer_count": 1, "reviewers_for_outcome": 1,
        "published_determination": "overturned", "reviewer": {"specialty": "general surgery"},
        "patient": {"sex": "female"},
        "items": [{
            "service": "endoscopic sleeve gastroplasty (ESG)", "category": "surgery", "determination": "overturned",
            "medically_necessary": True, "service_quote": "endoscopic sleeve gastroplasty (ESG)",
            "determination_quote": "Therefore, the Health Plan’s denial should be overturned.",
            "rationale_quote": "The patient meets the criteria of the American Society for Metabolic and Bariatric Surgery.",
        }],
    }
    return answer | overrides


def test_the_llm_backend_extracts_the_row_fields_through_the_same_validation(tmp_path: Path) -> None:
    from llm_server import scripted_llm_server

    from imr_rag.extract.service import ExtractionService
    from imr_rag.library import Library

    with scripted_llm_server() as llm:
        settings = make_settings(tmp_path / "data", llm_base_url=llm.base_url, llm_model="test-model")
        with Library(settings) as lib:
            lib.ingest([ROWS_CSV], embed=False)
            doc = lib.catalog.resolve_document("MN99-90001")
            wrong_item = {**row_answer()["items"][0], "determination": "upheld", "medically_necessary": False,
                          "determination_quote": "Therefore, the Health Plan’s denial should be overturned."}
            llm.enqueue(
                row_answer(review_type="medical necessity"),  # not one of the three kinds: re-asked
                row_answer(items=[{**row_answer()["items"][0], "determination_quote": "The denial is overturned."}]),
                row_answer(items=[wrong_item]),  # valid, but says upheld where the findings overturn
            )
            service = ExtractionService(settings, lib.catalog, "llm")
            (result,) = list(service.run(iter([lib.catalog.load_document(doc.doc_id)]), 1))
            assert result.error is None and (result.llm_calls, result.llm_retries) == (3, 2)
            first, second, third = llm.requests
            assert first["tools"][0]["function"]["name"] == "LLMRowDecision"
            assert "DMHC" in first["messages"][0]["content"] and "Reference ID: MN99-90001" in first["messages"][1]["content"]
            assert "review_type" in second["messages"][-1]["content"]  # instructor's re-ask names the field
            assert "quote not found" in third["messages"][-1]["content"]
            decision = result.decision
            assert {f: getattr(decision, f) for f in FIELDS if f != "imr_type"} == \
                   {f: v for f, v in row_answer().items() if f in FIELDS}
            # the format's checks run on the LLM's record as on the rules parser's
            assert [f.check for f in decision.review_flags] == ["determination_backed", "determination_column"]
            row = lib.catalog.db.execute(f"SELECT backend, {', '.join(FIELDS)} FROM decisions WHERE doc_id = ?",
                                         (doc.doc_id,)).fetchone()
            assert row["backend"] == "llm" and row["report_year"] == 2024 and row["imr_type"] == "Standard"
            assert row["diagnosis_category"] == "Digestive System/ GI" and row["published_determination"] == "overturned"


# -- the eval --------------------------------------------------------------------------------------
def test_the_eval_scores_the_dmhc_rows_against_their_gold(tmp_path: Path) -> None:
    from evals.cases import FIXTURES_DIR, resolve_fixture_sets, shared_dir
    from evals.report import flatten_metrics
    from evals.runner import EvalOptions, run_eval

    assert resolve_fixture_sets(None, None)[0][0].name == "synthetic"  # letter-only callers get no table set
    assert [s.name for s in resolve_fixture_sets(None, None, tables=True)[0]] == ["synthetic", "dmhc"]
    sets, _ = resolve_fixture_sets([FIXTURES_DIR / "dmhc"], shared_dir(), tables=True)
    (dmhc,) = sets
    written = sum(1 for g in dmhc.gold.values() if g["source_csv"] == "rows.csv")
    assert written == 14 and dmhc.tables[0] == ROWS_CSV.resolve()
    report = run_eval(EvalOptions(sets=sets, suites=("extraction",)), make_settings(tmp_path / "data"))
    summary = report["extraction"]["rules"]["dmhc"]
    assert summary["letters"] == len(dmhc.letters) and summary["failed"] == 0
    assert {name: c["accuracy"] for name, c in summary["row_fields"].items()} == {name: 1.0 for name in summary["row_fields"]}
    assert summary["fields"]["determination"]["f1"] == 1.0 and summary["grounding_rate"] == 1.0
    assert flatten_metrics(report)["extraction/rules/dmhc/row_fields/review_type/accuracy"] == 1.0


# -- the app's Decisions tab -----------------------------------------------------------------------
def _decisions_handler(service):
    """The Decisions tab's refresh handler of the real app (app.py), built over `service`."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("imr_rag_web_app_test", ROOT / "app.py")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    demo = app.build_app(service)
    return app, next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "on_decisions")


def test_the_decisions_tab_shows_the_dmhc_columns_and_charts_only_with_dmhc_rows(tmp_path: Path) -> None:
    from imr_rag.faces.app_service import AppService
    from imr_rag.faces.tabular_view import outcomes_by

    letter = ROOT / "evals" / "fixtures" / "synthetic" / "letters" / "dwc_cm99_0000001.txt"
    with AppService(make_settings(tmp_path / "data"), seed=False) as service:
        service.library.ingest([letter], embed=False, extract="rules")
        app, on_decisions = _decisions_handler(service)
        no_filters = ("any", "any", "", "", "", False)
        out = on_decisions(*no_filters)
        table, row, by_diagnosis = out[2], out[9], out[10]
        assert list(table.value["headers"]) == app.HEADERS and row.visible is False
        assert by_diagnosis.value["data"] == []

        service.library.ingest([ROWS_CSV], embed=False, extract="rules")
        out = on_decisions(*no_filters)
        table, row, by_diagnosis, by_year = out[2], out[9], out[10], out[11]
        assert row.visible is True
        headers = list(table.value["headers"])
        assert headers[: len(app.HEADERS)] == app.HEADERS and headers[len(app.HEADERS):] == [
            "Year", "Review type", "Diagnosis category", "Treatment", "Published outcome"]
        shown = {r[0]: r for r in table.value["data"]}
        assert shown["MN99-90001"][len(app.HEADERS):] == [2024, "medical necessity", "Digestive System/ GI",
                                                           "Bariatric Surgery", "overturned"]
        assert shown["CM99-0000001"][len(app.HEADERS):] == ["", "", "", "", ""]  # a letter has none of them
        items = service.item_rows()
        assert sum(r[2] for r in by_diagnosis.value["data"]) == sum(e["items"] for e in outcomes_by(items, "diagnosis_category"))
        assert sum(r[2] for r in by_year.value["data"]) == sum(1 for r in items if r["report_year"]) > 14
        years = [r[0] for r in by_year.value["data"]]
        assert years == sorted(years)
        # A filter that leaves only letters hides them again.
        out = on_decisions("ca_dwc_imr", "any", "", "", "", False)
        assert out[9].visible is False and list(out[2].value["headers"]) == app.HEADERS


def test_outcomes_by_counts_dmhc_rows_per_label_and_outcome() -> None:
    from imr_rag.faces.tabular_view import has_table_rows, outcomes_by

    rows = [{"report_year": 2024, "review_type": "medical_necessity", "diagnosis_category": "Mental", "determination": d}
            for d in ("upheld", "overturned", "overturned")]
    rows += [{"report_year": 2021, "review_type": "urgent_care", "diagnosis_category": None, "determination": "upheld"},
             {"report_year": None, "review_type": None, "diagnosis_category": None, "determination": "upheld"}]
    assert has_table_rows(rows) and not has_table_rows(rows[-1:])
    assert outcomes_by(rows, "diagnosis_category") == [
        {"diagnosis_category": "Mental", "outcome": "upheld", "items": 1},
        {"diagnosis_category": "Mental", "outcome": "overturned", "items": 2},
        {"diagnosis_category": "not stated", "outcome": "upheld", "items": 1}]
    assert [e["report_year"] for e in outcomes_by(rows, "report_year")] == ["2021", "2024", "2024"]


# -- search leaves the publisher's corrected-away text out ------------------------------------------
def test_a_revised_row_s_old_version_is_not_searched_unless_asked(tmp_path: Path, capsys) -> None:
    from imr_rag.library import Library

    data = tmp_path / "data"
    old_findings = UPHELD.replace("has no red flag symptoms", "shows a zebra-striped rash on the forearm")
    new_findings = UPHELD.replace("has no red flag symptoms", "has progressive foot drop on the left")
    first = write_csv(tmp_path / "dmhc-2024.csv", [a_row("MN24-10001"), a_row("MN24-10002", old_findings)])
    newer = write_csv(tmp_path / "dmhc-2025.csv", [a_row("MN24-10001"), a_row("MN24-10002", new_findings)])
    assert cli(capsys, data, "ingest", "--extract", str(first))[0] == 0  # embedded: the dense side is searched
    code, out, _ = cli(capsys, data, "search", "zebra-striped rash", "--mode", "lexical", "-k", "3")
    assert code == 0 and "MN24-10002" in out  # before the revision, the row answers
    assert "replaced 1, unchanged 1" in cli(capsys, data, "ingest", "--extract", str(newer))[1]

    with Library(make_settings(data)) as lib:
        versions = {Path(v["path"]).name: v["doc_id"] for v in lib.catalog.case_versions("MN24-10002")}
        old, new = versions["dmhc-2024.csv#MN24-10002"], versions["dmhc-2025.csv#MN24-10002"]
        assert lib.catalog.superseded_rows() == {old}
        for mode in ("lexical", "dense", "hybrid"):
            hits = lib.search("zebra-striped rash on the forearm", k=10, mode=mode)
            assert old not in {h.doc_id for h in hits}, mode
            assert new in {h.doc_id for h in lib.search("progressive foot drop on the left", k=3, mode=mode)}, mode
            # Narrowed to the case (its number in the query): only the version that counts.
            assert {h.doc_id for h in lib.search("MN24-10002 rash", k=10, mode=mode)} == {new}, mode
            # Asked for, or named by its document, the old version is found.
            assert lib.search("zebra-striped rash", k=1, mode=mode, superseded=True)[0].doc_id == old, mode
            assert lib.search("zebra-striped rash", k=1, mode=mode, filters=SearchFilters(doc_id=old))[0].doc_id == old
        assert lib.search("zebra-striped rash", mode="lexical") == []

    code, out, _ = cli(capsys, data, "search", "zebra-striped rash", "--mode", "lexical")
    assert (code, out.strip()) == (0, "no passages found")
    code, out, _ = cli(capsys, data, "search", "zebra-striped rash", "--mode", "lexical", "--superseded")
    assert code == 0 and out.startswith("[1] MN24-10002 ") and "(superseded: revised in a later export)" in out
    assert "dmhc-2024.csv#MN24-10002" in out
    code, out, _ = cli(capsys, data, "review")
    assert "MN24-10002: revised: revised in a later export" in out  # the revision is still listed
    # A person choosing the old version makes it the one that counts, and the one searched.
    assert cli(capsys, data, "review", "--keep", "MN24-10002", "dmhc-2024.csv#MN24-10002")[0] == 0
    code, out, _ = cli(capsys, data, "search", "zebra-striped rash", "--mode", "lexical")
    assert "MN24-10002" in out and "superseded" not in out


def test_many_revised_rows_near_the_query_still_leave_k_current_passages(tmp_path: Path, capsys) -> None:
    """45 revised rows whose old versions alone hold the phrase searched for: k current passages
    come back in dense and hybrid search, none of an old version."""
    from imr_rag.library import Library

    data = tmp_path / "data"
    old_findings = UPHELD.replace("has no red flag symptoms", "shows a zebra-striped rash on the forearm")
    refs = [f"MN24-2{n:04d}" for n in range(45)]
    first = write_csv(tmp_path / "dmhc-2024.csv", [a_row(ref, old_findings) for ref in refs])
    newer = write_csv(tmp_path / "dmhc-2025.csv", [a_row(ref, OVERTURNED, Determination="Overturned Decision of Health Plan")
                                                  for ref in refs])
    assert cli(capsys, data, "ingest", str(first))[0] == 0
    assert cli(capsys, data, "ingest", str(newer))[0] == 0
    with Library(make_settings(data)) as lib:
        hidden, hidden_chunks = lib._superseded_rows()
        assert len(hidden) == 45 and hidden_chunks > 2 * 20  # more than the dense ranking reads first for k=5
        for mode in ("dense", "hybrid"):
            hits = lib.search("zebra-striped rash on the forearm", k=5, mode=mode)
            assert len(hits) == 5 and not {h.doc_id for h in hits} & hidden, mode
            assert lib.search("zebra-striped rash on the forearm", k=5, mode=mode, superseded=True)[0].doc_id in hidden


def test_ranking_without_hidden_documents_widens_past_them() -> None:
    from imr_rag.index.retrieval import ranking_without

    # 60 chunks of hidden documents h00..h59 ranked first, then current ones c00..c99.
    ranking = [(f"h{n:02d}:0000", 1.0) for n in range(60)] + [(f"c{n:02d}:0000", 0.5) for n in range(100)]
    asked: list[int] = []

    def rank(n: int):
        asked.append(n)
        return ranking[:n]

    hidden = frozenset(f"h{n:02d}" for n in range(60))
    assert ranking_without(rank, 20, hidden, 60) == ranking[60:80]
    assert asked == [40, 80]  # the first read held hidden chunks only: read again past all 60
    asked.clear()
    assert ranking_without(rank, 20, frozenset(), 0) == ranking[:20] and asked == [20]  # nothing hidden: as before
    few = frozenset({"h00", "h01"})
    assert [cid for cid, _ in ranking_without(rank, 20, few, 2)] == [cid for cid, _ in ranking[2:22]]
