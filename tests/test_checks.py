"""Self-checks on extracted records: structured review flags, the validators, and where flags show."""

from __future__ import annotations

from imr_rag.schema import Decision, ReviewFlag, SourceRef


def _decision(**fields) -> Decision:
    return Decision(letter_format="ca_dwc_imr", source=SourceRef(path="x.txt", doc_id="d"), **fields)


def test_needs_review_follows_the_flags_and_old_text_flags_still_load() -> None:
    assert not _decision().needs_review
    flagged = _decision(review_flags=[ReviewFlag(check="date_order", reason="injury after decision", start=3, end=9)])
    assert flagged.needs_review and flagged.model_dump()["needs_review"] is True
    again = Decision.model_validate_json(flagged.model_dump_json())
    assert again == flagged
    old = Decision.model_validate({**_decision().model_dump(exclude={"needs_review"}), "review_flags": ["item 1 (MRI): not found by the LLM"]})
    assert old.review_flags == [ReviewFlag(check="legacy", reason="item 1 (MRI): not found by the LLM")]
    assert str(ReviewFlag(check="service_name", reason="too long", item_index=0)) == "service_name: item 1: too long"


# -- the validators, on records of real letters made wrong one way at a time -----------------------
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from imr_rag.extract import checks  # noqa: E402
from imr_rag.ingest.documents import read_document  # noqa: E402
from imr_rag.extract.service import checked, rules_decision  # noqa: E402
from imr_rag.formats import ca_dwc_checks, tx_iro_checks  # noqa: E402
from imr_rag.schema import Determination, Evidence  # noqa: E402

LETTERS = Path(__file__).resolve().parents[1] / "evals" / "fixtures" / "synthetic" / "letters"
TODAY = date(2026, 1, 1)


def _parsed(name: str):
    doc = read_document(LETTERS / name)
    return doc, rules_decision(doc)


def _names(flags) -> set[str]:
    return {f.check for f in flags}


@pytest.mark.parametrize("name", sorted(p.name for p in LETTERS.iterdir() if p.name != "appeal_letter_generic.txt"))
def test_no_check_fires_on_a_correct_synthetic_record(name: str) -> None:
    doc, decision = _parsed(name)
    assert checked(doc, decision).review_flags == []


def _item(decision, n=0, **update):
    items = list(decision.items)
    items[n] = items[n].model_copy(update=update)
    return decision.model_copy(update={"items": items})


def test_determination_backed_fires_when_the_outcome_span_says_otherwise() -> None:
    doc, decision = _parsed("dwc_cm99_0000001.txt")
    letter = checks.Letter(doc.text, TODAY)
    assert checks.determination_backed(decision, letter) == []
    first = decision.items[0]
    other = Determination.upheld if first.determination != Determination.upheld else Determination.overturned
    [flag] = checks.determination_backed(_item(decision, determination=other), letter)
    assert flag.check == "determination_backed" and flag.item_index == 0
    assert (flag.start, flag.end) == (first.evidence.determination.start, first.evidence.determination.end)
    no_span = _item(decision, evidence=first.evidence.model_copy(update={"determination": None}))
    assert "no outcome span" in checks.determination_backed(no_span, letter)[0].reason
    rationale = first.evidence.rationale
    wrong_span = _item(decision, evidence=first.evidence.model_copy(update={"determination": Evidence(
        quote=rationale.quote[:20], start=rationale.start, end=rationale.start + 20, alignment="exact")}))
    assert "states no outcome" in checks.determination_backed(wrong_span, letter)[0].reason


def test_service_name_fires_on_sentence_machinery_and_length() -> None:
    doc, decision = _parsed("dwc_cm99_0000001.txt")
    letter = checks.Letter(doc.text, TODAY)
    assert checks.service_name(decision, letter) == []
    issue_9 = ("Purchase of a bath/shower chair was the original request. The Claims Administrator authorized a"
               " bath/shower chair for 1 month, leaving the original request IMR eligible. The original request,"
               " purchase of a bath/shower chair is")
    [flag] = checks.service_name(_item(decision, service=issue_9), letter)
    assert "was the original request" in flag.reason and "leaving" in flag.reason and "trailing 'is'" in flag.reason
    assert flag.item_index == 0 and flag.start is not None
    assert checks.service_name(_item(decision, service="word " * 45), letter)[0].reason.startswith("the service name is 45")
    assert checks.service_name(_item(decision, service=""), letter)[0].reason == "the service name is empty"
    # A relative clause with "is" inside a real service name is not machinery.
    fine = "Home aide 6 hours per day to assist with safety in the home when wife is working"
    assert checks.service_name(_item(decision, service=fine), letter) == []


def test_partial_request_fires_when_the_construction_is_in_the_heading_but_not_in_the_record() -> None:
    doc, decision = _parsed("dwc_cm99_0000007.txt")
    letter = checks.Letter(doc.text, TODAY)
    n = next(k for k, i in enumerate(decision.items) if i.original_request)
    assert checks.partial_request(decision, letter) == []
    [flag] = checks.partial_request(_item(decision, n, original_request=None, authorized_portion=None), letter)
    assert flag.check == "partial_request" and flag.item_index == n
    assert "partial authorisation" in flag.reason and letter.text[flag.start : flag.end].strip()
    [half] = checks.partial_request(_item(decision, n, authorized_portion=None), letter)
    assert "but no authorised portion" in half.reason


def test_date_order_fires_on_dates_out_of_order_in_the_future_or_not_dates() -> None:
    doc, decision = _parsed("dwc_cm99_0000001.txt")
    letter = checks.Letter(doc.text, TODAY)
    assert checks.date_order(decision, letter) == []
    swapped = decision.model_copy(update={"date_of_injury": decision.decision_date, "decision_date": decision.date_of_injury})
    reasons = [f.reason for f in checks.date_order(swapped, letter)]
    assert any("injury date" in r and "is after" in r for r in reasons)
    flags = checks.date_order(decision, checks.Letter(doc.text, date(2000, 1, 1)))
    assert flags and all("in the future" in f.reason for f in flags)
    located = [f for f in flags if f.start is not None]
    assert located  # the date is found in the letter as it is written there
    assert checks.date_order(decision.model_copy(update={"decision_date": "2021-02-30"}), letter)[0].reason.endswith("is not a date")


def test_service_name_also_holds_for_the_original_request_and_authorised_portion() -> None:
    doc, decision = _parsed("dwc_cm99_0000001.txt")
    letter = checks.Letter(doc.text, TODAY)
    prose = ("Given the above, the request for X-rays of the right hip is not medically necessary. Acupuncture 18"
             " sessions")
    [flag] = checks.service_name(_item(decision, original_request=prose, authorized_portion="Acupuncture 6 sessions"), letter)
    assert flag.reason.startswith("the original request contains a reviewer's conclusion, a sentence break")
    concluded = "The trial is therefore appropriate and medically necessary. Oxycodone 10mg #90"
    assert "reviewer's conclusion" in checks.service_name(_item(decision, service=concluded), letter)[0].reason


def test_stated_fields_fires_when_a_labelled_value_is_missing_from_the_record() -> None:
    doc, decision = _parsed("dwc_cm99_0000001.txt")
    letter = checks.Letter(doc.text, TODAY)
    assert checks.stated_fields(decision, letter) == []
    blank = decision.model_copy(update={"date_of_injury": None, "reviewer": decision.reviewer.model_copy(update={"specialty": None})})
    flags = checks.stated_fields(blank, letter)
    assert [f.reason.split(" (")[0] for f in flags] == ["the letter states a date of injury", "the letter states a reviewer specialty"]
    assert letter.text[flags[0].start : flags[0].end].startswith("Date of Injury")
    # A typeset ligature in the label ("Certiﬁcation") is still the label.
    ligatured = checks.Letter(doc.text.replace("Certification(s)", "Certi\ufb01cation(s)"), TODAY)
    assert [f.check for f in checks.stated_fields(blank.model_copy(update={"date_of_injury": decision.date_of_injury}), ligatured)] == ["stated_fields"]


def test_page_furniture_fires_when_a_running_header_is_inside_a_service() -> None:
    doc, decision = _parsed("dwc_cm99_0000001.txt")
    header = f"Independent Medical Review {decision.case_number}"
    text = "\n".join([doc.text, header, "Page 1 of 2", "", header, "Page 2 of 2"])
    letter = checks.Letter(text, TODAY)
    assert checks.page_furniture(decision, letter) == []
    [flag] = checks.page_furniture(_item(decision, service=f"{header} {decision.items[0].service}"), letter)
    assert flag.check == "page_furniture" and decision.case_number in flag.reason
    guideline = decision.items[0].guidelines[0]
    split = guideline.model_copy(update={"citation": f"{guideline.citation} Page 1 of 2 {header}"})
    [flag] = checks.page_furniture(_item(decision, guidelines=[split]), letter)
    assert flag.reason.startswith("the guideline citation holds page furniture")


def test_ca_item_count_counts_outcome_lines_that_open_an_item_body() -> None:
    doc, decision = _parsed("dwc_cm99_0000001.txt")
    statements, orphans = ca_dwc_checks.outcome_statements(doc.text)
    assert len(statements) == len(decision.items) and orphans == 0
    assert ca_dwc_checks.item_count(decision, doc.text) == []
    fewer = decision.model_copy(update={"items": decision.items[:-1]})
    [flag] = ca_dwc_checks.item_count(fewer, doc.text)
    assert f"{len(decision.items) - 1} items, the letter {len(decision.items)} outcome statements" in flag.reason
    # An outcome-looking line quoted inside a rationale opens no item body.
    at = decision.items[0].evidence.rationale.start
    quoted = doc.text[:at] + "Tramadol ER 150mg #30: Overturned\n" + doc.text[at:]
    assert ca_dwc_checks.item_count(decision, quoted) == []
    first = decision.items[0]
    other = Determination.upheld if first.determination != Determination.upheld else Determination.overturned
    assert "outcome line 1 says" in ca_dwc_checks.item_count(_item(decision, determination=other), doc.text)[0].reason


def test_ca_service_start_fires_when_the_heading_began_on_the_line_before() -> None:
    doc, decision = _parsed("dwc_cm99_0000001.txt")
    assert ca_dwc_checks.service_start(decision, doc.text) == []
    first = decision.items[0]
    start = first.evidence.service.start
    # The intro line runs on into the heading: "... set forth below: Lyrica 75mg" / "#60: Overturned".
    cut = doc.text.index(" ", start) + 1
    text = doc.text[:start] + doc.text[start:cut].rstrip() + "\n" + doc.text[cut:]
    cut_item = first.model_copy(update={
        "service": first.service.split(" ", 1)[1],
        "evidence": first.evidence.model_copy(update={"service": Evidence(
            quote=text[cut + 1 : first.evidence.service.end + 1], start=cut + 1, end=first.evidence.service.end + 1,
            alignment="exact")}),
    })
    [flag] = ca_dwc_checks.service_start(decision.model_copy(update={"items": [cut_item, *decision.items[1:]]}), text)
    assert flag.check == "service_start" and flag.item_index == 0 and "starts inside its heading" in flag.reason


TX_BOXES = """REVIEW OUTCOME: Upon independent review, the reviewer finds that the previous adverse
determination/adverse determinations should be:

{boxes}

Provide a description of the review outcome.

INFORMATION PROVIDED TO THE IRO FOR REVIEW:
"""
RENDERINGS = {
    "brackets": "[ ] Upheld (Agree)\n[ X ] Overturned (Disagree)\n[ ] Partially Overturned (Agree in part/Disagree in part)",
    "bare": "  Upheld (Agree)\nX Overturned (Disagree)\n  Partially Overturned (Agree in part/Disagree in part)",
    "glyph": "\u2610 Upheld (Agree)\n\u2612 Overturned (Disagree)\n\u2610 Partially Overturned",
    "after": "Upheld (Agree) [ ]\nOverturned (Disagree) [\u2714]\nPartially Overturned [ ]",
    "own line before": "[ ]\nUpheld (Agree)\n[x]\nOverturned (Disagree)\n[ ]\nPartially Overturned",
    "own line after": "Upheld (Agree)\n\nOverturned (Disagree)\n\u2713\nPartially Overturned",
    "run together": "( ) Upheld (Agree) (\u25a0) Overturned (Disagree) ( ) Partially Overturned (Agree in\npart/Disagree in part)",
}


@pytest.mark.parametrize("rendering", sorted(RENDERINGS))
def test_tx_outcome_marked_reads_every_checkbox_rendering(rendering: str) -> None:
    doc, decision = _parsed("tx_iro_overturned.txt")
    text = TX_BOXES.format(boxes=RENDERINGS[rendering])
    assert [d for d, _, _ in tx_iro_checks.marked_outcomes(text, 0, len(text))] == [Determination.overturned]
    assert tx_iro_checks.outcome_marked(decision, text) == []
    [flag] = tx_iro_checks.outcome_marked(_item(decision, determination=Determination.upheld), text)
    assert "'overturned', the item 'upheld'" in flag.reason


def test_tx_outcome_marked_fires_on_two_marks_or_none_without_prose() -> None:
    doc, decision = _parsed("tx_iro_overturned.txt")
    two = TX_BOXES.format(boxes="[X] Upheld (Agree)\n[X] Overturned (Disagree)\n[ ] Partially Overturned")
    assert "2 review outcomes are marked" in tx_iro_checks.outcome_marked(decision, two)[0].reason
    none = TX_BOXES.format(boxes="[ ] Upheld (Agree)\n[ ] Overturned (Disagree)\n[ ] Partially Overturned")
    assert "prose states none" in tx_iro_checks.outcome_marked(decision, none)[0].reason
    prose = none.replace("Provide a description of the review outcome.",
                         "It is the opinion of the reviewer that the request is medically necessary.")
    assert tx_iro_checks.outcome_marked(decision, prose) == []
    stated = TX_BOXES.format(boxes="").replace("should be:", "should be overturned.")
    assert tx_iro_checks.outcome_marked(decision, stated) == []


# -- flags end to end: catalog, stats, review, exports -------------------------------------------
import csv  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402

import pyarrow.parquet as pq  # noqa: E402

from imr_rag.catalog import Catalog  # noqa: E402
from helpers import flagged_letter_text  # noqa: E402

from imr_rag.faces.cli import main  # noqa: E402


def _cli(capsys, data_dir: Path, *args: str) -> tuple[int, str]:
    code = main(["--data-dir", str(data_dir), *args])
    return code, capsys.readouterr().out


@pytest.fixture()
def flagged_library(tmp_path: Path, capsys) -> Path:
    """Two synthetic letters: one correct, one that fails two checks (helpers.flagged_letter_text)."""
    folder = tmp_path / "letters"
    folder.mkdir()
    shutil.copy(LETTERS / "dwc_cm99_0000001.txt", folder / "good.txt")
    (folder / "odd.txt").write_text(flagged_letter_text(), encoding="utf-8")
    data = tmp_path / "data"
    assert _cli(capsys, data, "ingest", str(folder), "--no-embed")[0] == 0
    code, out = _cli(capsys, data, "extract", "--backend", "rules")
    assert code == 0 and "1 flagged for review" in out
    return data


def test_flags_show_in_stats_review_and_catalog_item_rows(flagged_library: Path, capsys) -> None:
    code, out = _cli(capsys, flagged_library, "stats", "--json")
    stats = json.loads(out)
    assert stats["decisions_flagged"] == 1
    # The date flag concerns the whole letter, so every item of the odd letter needs review.
    with Catalog(flagged_library / "catalog.sqlite") as catalog:
        rows = catalog.item_rows()
        odd = [r for r in rows if r["case_number"] == "CM99-0000002"]
        assert odd and all(r["needs_review"] == 1 for r in odd)
        assert all(r["needs_review"] == 0 and r["review_reasons"] == "" for r in rows if r["case_number"] == "CM99-0000001")
        assert stats["items_flagged"] == len(odd)
        service_row = next(r for r in odd if r["service"].endswith("was requested"))
        assert "service_name" in service_row["review_reasons"]
        assert "service_name" not in next(r for r in odd if r is not service_row)["review_reasons"]
    code, out = _cli(capsys, flagged_library, "stats")
    assert f"needs review: 1 decisions, {len(odd)} items" in out

    code, out = _cli(capsys, flagged_library, "review", "--json")
    listing = json.loads(out)
    checks_seen = {f["check"] for f in listing["flags"]}
    assert {"date_order", "service_name"} <= checks_seen
    assert listing["summary"]["letters"] == 1
    date_flag = next(f for f in listing["flags"] if f["check"] == "date_order")
    assert date_flag["case_number"] == "CM99-0000002" and date_flag["item_index"] is None
    assert date_flag["excerpt"] == "11/17/2023" and date_flag["end"] - date_flag["start"] == len("11/17/2023")
    service_flag = next(f for f in listing["flags"] if f["check"] == "service_name")
    assert service_flag["item_index"] is not None and "was requested" in service_flag["excerpt"]

    code, out = _cli(capsys, flagged_library, "review", "--check", "date_order")
    assert code == 0 and "CM99-0000002: date_order: injury date 2023-11-17 is after" in out
    assert '"11/17/2023"' in out and "1 flags on 1 letters" in out


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
@pytest.mark.parametrize("level", ["decision", "item"])
def test_exports_carry_needs_review_and_reasons(flagged_library: Path, tmp_path: Path, capsys, fmt: str, level: str) -> None:
    target = tmp_path / f"out.{fmt}"
    assert _cli(capsys, flagged_library, "export", "--format", fmt, "--output", str(target), "--level", level)[0] == 0
    if fmt == "csv":
        rows = list(csv.DictReader(target.open(encoding="utf-8")))
        flagged = [r for r in rows if r["needs_review"] == "True"]
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
        flagged = [r for r in rows if r["needs_review"] is True]
    else:
        rows = pq.read_table(target).to_pylist()
        flagged = [r for r in rows if r["needs_review"] is True]
    assert flagged and all(r["case_number"] == "CM99-0000002" for r in flagged)
    assert all("date_order" in r["review_reasons"] for r in flagged)
    assert all(not r["review_reasons"] for r in rows if r["case_number"] == "CM99-0000001")


def test_a_catalog_from_before_the_review_columns_gets_them_from_its_records(flagged_library: Path) -> None:
    path = flagged_library / "catalog.sqlite"
    with sqlite3.connect(path) as db:
        for trigger in ("item_groups_insert", "item_groups_delete", "item_groups_update"):  # newer than the columns
            db.execute(f"DROP TRIGGER {trigger}")
        db.execute("DROP TABLE item_groups")
        for table in ("decisions", "items"):
            db.execute(f"ALTER TABLE {table} DROP COLUMN needs_review")
            db.execute(f"ALTER TABLE {table} DROP COLUMN review_reasons")
    with Catalog(path) as catalog:
        assert catalog.stats()["decisions_flagged"] == 1
        assert {r["case_number"] for r in catalog.item_rows() if r["needs_review"]} == {"CM99-0000002"}
        assert catalog.item_group_drift() == []
