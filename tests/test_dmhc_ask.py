"""Questions on published DMHC determinations: the rows' own fields are filters and group keys,
years are report years (months do not apply, and the answer says so), and a row's outcome cites
its findings. Real ingest of the written fixture rows, real catalog, the offline engine."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from helpers import make_settings
from imr_rag.ask.engine import Asker
from imr_rag.library import Library

ROWS_CSV = Path(__file__).resolve().parents[1] / "evals" / "fixtures" / "dmhc" / "rows.csv"


def rows() -> list[dict]:
    with ROWS_CSV.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):
    settings = make_settings(tmp_path_factory.mktemp("dmhc-ask") / "data")
    lib = Library(settings)
    lib.ingest([ROWS_CSV], embed=False, extract="rules")
    yield Asker(lib, settings)
    lib.close()


def overturned(row: dict) -> bool:
    return row["Determination"].lower().startswith("overturned")


def test_a_category_and_a_year_count_the_published_rows(engine: Asker) -> None:
    want = [r for r in rows() if r["DiagnosisCategory"] == "Mental Disorder" and overturned(r)
            and int(r["ReportYear"]) >= 2020]
    answer = engine.answer("how many mental disorder cases were overturned since 2020")
    assert answer.status == "answered" and answer.value == len(want) > 0
    assert "diagnosis category Mental Disorder" in answer.reading and "since 2020" in answer.reading
    assert all(r["ReferenceID"] in answer.text for r in want)


def test_review_type_words_and_report_years(engine: Asker) -> None:
    want = [r for r in rows() if r["Type"].startswith("Experimental") and overturned(r) and r["ReportYear"] == "2024"]
    answer = engine.answer("how many experimental/investigational cases were overturned in 2024")
    assert answer.status == "answered" and answer.value == len(want)


def test_by_year_groups_report_years_and_by_month_says_it_does_not_apply(engine: Asker) -> None:
    by_year = engine.answer("number of dmhc cases by year")
    assert by_year.status == "answered"
    assert {g["label"]: g["value"] for g in by_year.value} == dict(Counter(r["ReportYear"] for r in rows()))
    by_month = engine.answer("number of dmhc cases by month")
    assert "report year but no decision date" in by_month.text and "does not apply" in by_month.text


def test_the_outcome_of_a_row_cites_its_findings(engine: Asker) -> None:
    row = next(r for r in rows() if overturned(r))
    answer = engine.answer(f"was case {row['ReferenceID']} upheld or overturned?")
    assert answer.status == "answered" and "overturned" in answer.text.splitlines()[1]
    assert answer.citations and all(c.case_number == row["ReferenceID"] for c in answer.citations)


def test_grouping_by_diagnosis_category(engine: Asker) -> None:
    answer = engine.answer("how many cases per diagnosis category")
    assert answer.status == "answered" and answer.plan["group_by"]["field"] == "diagnosis_category"
    assert {g["label"]: g["value"] for g in answer.value} == dict(Counter(r["DiagnosisCategory"] for r in rows()))
