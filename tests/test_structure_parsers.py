"""Rules parsers read letters by their structure: California items by their outcome lines and the
body that follows, the original-request construction in any wording, Texas outcomes from any
checkbox rendering or, failing that, from the prose. Letters are the synthetic ones, rewritten here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import EVALS
from imr_rag.errors import ExtractionFailed
from imr_rag.formats import ca_dwc, tx_iro
from imr_rag.schema import Document
from imr_rag.ingest.textmap import normalise

LETTERS = EVALS / "fixtures" / "synthetic" / "letters"


def document(source: str, name: str = "letter.txt") -> Document:
    m = normalise(source)
    return Document(doc_id="test", path=name, file_hash="0", source_text=source, text=m.text,
                    offsets=m.offsets, ends=m.ends, pages=1, letter_format="")


def letter(name: str) -> str:
    return (LETTERS / name).read_text(encoding="utf-8")


# -- California: the original-request construction -----------------------------------------------
@pytest.mark.parametrize(("heading", "expected"), [
    ("Acupuncture 18 sessions was the original request. Acupuncture 6 sessions was authorized by the Claims "
     "Administrator. The remaining IMR eligible portion of the original request, Acupuncture 12 sessions is",
     ("Acupuncture 12 sessions", "Acupuncture 18 sessions", "Acupuncture 6 sessions")),
    # The wording a user met (issue 9): the service sentence refers back with "The original request,".
    ("Purchase of a bath/shower chair was the original request. The Claims Administrator authorized a "
     "bath/shower chair for 1 month, leaving the original request IMR eligible. The original request, "
     "purchase of a bath/shower chair is",
     ("purchase of a bath/shower chair", "Purchase of a bath/shower chair", "a bath/shower chair for 1 month")),
    ("The original request was for Norco 10/325mg #120. The Claims Administrator certified Norco 10/325mg #60. "
     "The IMR eligible portion, Norco 10/325mg #60, is",
     ("Norco 10/325mg #60", "Norco 10/325mg #120", "Norco 10/325mg #60")),
    ("Physical therapy 12 sessions was requested. Physical therapy 6 sessions was approved by the Claims "
     "Administrator. The remaining portion of the request, Physical therapy 6 sessions is",
     ("Physical therapy 6 sessions", "Physical therapy 12 sessions", "Physical therapy 6 sessions")),
    ("The Claims Administrator authorized Acupuncture 6 sessions of the original request for Acupuncture 18 "
     "sessions. The portion remaining eligible for IMR, Acupuncture 12 sessions, is",
     ("Acupuncture 12 sessions", "Acupuncture 18 sessions", "Acupuncture 6 sessions")),
    # Plain headings, commas and all, are the service.
    ("Pantoprazole 40mg, one by mouth, twice a day #60 with one refill",
     ("Pantoprazole 40mg, one by mouth, twice a day #60 with one refill", None, None)),
    ("Retrospective request for Terocin lotion 120ml, apply three times daily, DOS: 09/14/2021",
     ("Retrospective request for Terocin lotion 120ml, apply three times daily, DOS: 09/14/2021", None, None)),
])
def test_heading_split_by_sentence_structure(heading: str, expected: tuple) -> None:
    assert ca_dwc.split_heading(heading) == expected


CM7_PARTIAL = re.compile(r"Norco 10/325mg #120 was the original request\..*?is: Upheld", re.S)


def test_other_wording_of_the_construction_in_a_whole_letter() -> None:
    source = CM7_PARTIAL.sub(
        "Norco 10/325mg #120 was the original request. The Claims Administrator authorized Norco\n"
        "10/325mg #60, leaving the original request IMR eligible. The original request, Norco 10/325mg #60\n"
        "is: Upheld", letter("dwc_cm99_0000007.txt"))
    items = ca_dwc.parse(document(source)).items
    norco = next(i for i in items if i.service.startswith("Norco"))
    assert (norco.service, norco.original_request, norco.authorized_portion, norco.determination.value) == (
        "Norco 10/325mg #60", "Norco 10/325mg #120", "Norco 10/325mg #60", "upheld")
    assert [i.service for i in items][0] == "Cognitive behavioral therapy 6 sessions"
    doc = document(source)
    ev = norco.evidence.service
    assert doc.text[ev.start:ev.end] == ev.quote and one_line(ev.quote) == "Norco 10/325mg #60"


def one_line(s: str) -> str:
    return " ".join(s.split())


# -- California: outcome-looking lines that are not items (issue 13) -----------------------------
def test_outcome_lines_inside_a_rationale_and_a_quoted_heading_are_not_items() -> None:
    clean = ca_dwc.parse(document(letter("dwc_cm99_0000001.txt")))
    source = letter("dwc_cm99_0000001.txt")
    source = re.sub(r"(CLINICAL CASE SUMMARY[^\n]*\n)",
                    r"\1The file holds a prior letter quoting its IMR ISSUES, DECISIONS AND RATIONALES\nsection. ",
                    source, count=1)
    source = re.sub(r"(Decision rationale:[^\n]*\n)", r"\1Tramadol ER 150mg #30: Overturned\n", source, count=1)
    source = re.sub(r"(Decision rationale:[^\n]*\n)(?![\s\S]*Decision rationale:)",
                    r"\1IMR ISSUES, DECISIONS AND RATIONALES\nPreviously requested Omeprazole 20mg #60: Upheld\n", source)
    assert "Tramadol ER 150mg #30: Overturned" in source
    noisy = ca_dwc.parse(document(source))
    assert [(i.service, i.determination) for i in noisy.items] == [(i.service, i.determination) for i in clean.items]


# -- Texas: any checkbox rendering ---------------------------------------------------------------
TX_BOXES = re.compile(r"\[  \] Upheld \(Agree\) \n\[ X \] Overturned \(Disagree\) \n\[   \] Partially Overturned[^\n]*\n")
RENDERINGS = {
    "mark without brackets": "  Upheld (Agree)\n{m} Overturned (Disagree)\n  Partially Overturned (Agree in part/Disagree in part)\n",
    "ballot box": "☐ Upheld (Agree)\n{m} Overturned (Disagree)\n☐ Partially Overturned (Agree in part/Disagree in part)\n",
    "mark after the label": "Upheld (Agree) [ ]\nOverturned (Disagree) [{m}]\nPartially Overturned (Agree in part/Disagree in part) [ ]\n",
    "mark on its own line before": "[ ]\nUpheld (Agree)\n[{m}]\nOverturned (Disagree)\n[ ]\nPartially Overturned\n",
    "mark on its own line after": "Upheld (Agree)\n\nOverturned (Disagree)\n{m}\nPartially Overturned\n\n",
    "boxes side by side": "[ ] Upheld (Agree) [{m}] Overturned (Disagree) [ ] Partially Overturned\n",
    "side by side, wrapped": "Upheld (Agree) ☐ Overturned (Disagree) {m} Partially Overturned (Agree\nin part/Disagree in part) ☐\n",
}


@pytest.mark.parametrize("mark", ["X", "x", "☒", "✓", "✔", "■"])
@pytest.mark.parametrize("rendering", sorted(RENDERINGS))
def test_texas_outcome_from_any_checkbox_rendering(rendering: str, mark: str) -> None:
    source = letter("tx_iro_overturned.txt")
    assert TX_BOXES.search(source)
    source = TX_BOXES.sub(RENDERINGS[rendering].format(m=mark).replace("\\", "\\\\"), source)
    item = tx_iro.parse(document(source)).items[0]
    assert item.determination.value == "overturned"
    assert "overturned" in item.evidence.determination.quote.lower()


def test_texas_screening_criteria_in_another_rendering() -> None:
    source = re.sub(r"^\[ X \] (.*)$", r"\1 ✔", letter("tx_iro_overturned.txt"), flags=re.M)
    source = re.sub(r"^\[\s*\] (.*)$", r"\1 ☐", source, flags=re.M)
    item = tx_iro.parse(document(source)).items[0]
    assert item.determination.value == "overturned"
    assert sorted(g.source for g in item.guidelines) == ["ACOEM", "ODG"]


@pytest.mark.parametrize(("name", "replacement", "expected", "said"), [
    ("tx_iro_overturned.txt", "should be overturned.\n\n", "overturned", "should be overturned"),
    ("tx_iro_upheld.txt", "should be upheld.\n\n", "upheld", "should be upheld"),
    ("tx_iro_upheld.txt", "should be:\n\n", "upheld", "prior denials are upheld"),
    ("tx_iro_overturned.txt", "should be:\n\n", "overturned", "prior denials are overturned"),
    ("tx_iro_partial.txt", "should be:\n\n", "partially_overturned", "partial overturn"),
])
def test_texas_outcome_in_prose_only(name: str, replacement: str, expected: str, said: str) -> None:
    source = re.sub(r"should be: \n \n(?:\[[^\]]*\][^\n]*\n)+", replacement, letter(name))
    assert "[ X ] Upheld" not in source and "[ X ] Overturned" not in source
    item = tx_iro.parse(document(source)).items[0]
    assert item.determination.value == expected
    assert said in item.evidence.determination.quote


def test_texas_boxes_all_blank_read_from_prose_not_from_the_box_labels() -> None:
    source = letter("tx_iro_overturned.txt").replace("[ X ] Overturned", "[   ] Overturned")
    item = tx_iro.parse(document(source)).items[0]
    assert item.determination.value == "overturned"  # the "Partially Overturned" label is no statement


def test_texas_letter_stating_no_outcome_is_refused() -> None:
    source = re.sub(r"should be: \n \n(?:\[[^\]]*\][^\n]*\n)+", "should be:\n\n", letter("tx_iro_overturned.txt"))
    source = re.sub(r"(?i)medically necessary|overturned|upheld", "reviewed", source)
    with pytest.raises(ExtractionFailed, match="review outcome"):
        tx_iro.parse(document(source, Path("tx.txt").name))


# -- Texas: several services in dispute ----------------------------------------------------------
MULTI_SERVICES = (
    "DESCRIPTION OF THE SERVICE OR SERVICES IN DISPUTE:\n"
    "1. MRI of the lumbar spine without contrast\n"
    "2. Physical therapy 2 times a week for 6 weeks (12 sessions)\n"
    "3. Lumbar epidural steroid injection at L4-L5\n"
)
MULTI_PROSE = (
    "Provide a description of the review outcome that clearly states whether medical necessity\n"
    "exists for each health care service in dispute. It is the opinion of the reviewer that the\n"
    "request for MRI of the lumbar spine without contrast is medically necessary; however, the\n"
    "request for physical therapy 2 times a week for 6 weeks (12 sessions) is not medically necessary,\n"
    "and the lumbar epidural steroid injection at L4-L5 is not recommended as medically necessary.\n"
)


def multi_service_letter(boxes: str | None = None) -> str:
    source = letter("tx_iro_partial.txt")
    source = re.sub(r"DESCRIPTION OF THE SERVICE OR SERVICES IN DISPUTE:.*?\n \n", MULTI_SERVICES + " \n", source,
                    count=1, flags=re.S)
    source = re.sub(r"Provide a description of the review outcome.*?at this time \n", MULTI_PROSE, source,
                    count=1, flags=re.S)
    if boxes is not None:
        source = re.sub(r"should be: \n \n(?:\[[^\]]*\][^\n]*\n)+", boxes, source)
    return source


def test_several_texas_services_are_one_item_each_with_the_partial_split_from_the_prose() -> None:
    doc = document(multi_service_letter())
    items = tx_iro.parse(doc).items
    assert [(i.service, i.determination.value, i.medically_necessary) for i in items] == [
        ("MRI of the lumbar spine without contrast", "overturned", True),
        ("Physical therapy 2 times a week for 6 weeks (12 sessions)", "upheld", False),
        ("Lumbar epidural steroid injection at L4-L5", "upheld", False),
    ]
    for item in items:
        for ev in (item.evidence.service, item.evidence.determination):
            assert doc.text[ev.start:ev.end] == ev.quote
    assert "is medically necessary" in items[0].evidence.determination.quote
    assert "physical therapy" in items[1].evidence.determination.quote
    assert {g.source for g in items[0].guidelines} == {"ODG"}


def test_several_texas_services_share_a_whole_outcome() -> None:
    boxes = "should be:\n\nX Upheld (Agree)\n  Overturned (Disagree)\n  Partially Overturned\n\n"
    items = tx_iro.parse(document(multi_service_letter(boxes))).items
    assert [i.determination.value for i in items] == ["upheld"] * 3


def test_one_texas_service_with_a_partial_overturn_stays_one_item() -> None:
    items = tx_iro.parse(document(letter("tx_iro_partial.txt"))).items
    assert len(items) == 1 and items[0].determination.value == "partially_overturned"


def test_semicolon_separated_services() -> None:
    source = letter("tx_iro_upheld.txt")
    source = re.sub(r"(DESCRIPTION OF THE SERVICE OR SERVICES IN DISPUTE:).*?\n \n",
                    r"\1 Purchase of a cervical traction unit; purchase of a TENS unit\n \n", source, count=1, flags=re.S)
    items = tx_iro.parse(document(source)).items
    assert [i.service for i in items] == ["Purchase of a cervical traction unit", "purchase of a TENS unit"]
    assert all(i.determination.value == "upheld" for i in items)


def test_texas_criteria_wrapped_with_the_mark_on_a_line_after() -> None:
    source = letter("tx_iro_overturned.txt")
    source = re.sub(r"^\[ X \] (.*)$", r"\1", source, flags=re.M)  # marks now follow each label's last line
    source = source.replace("ACCORDANCE WITH \nACCEPTED MEDICAL STANDARDS", "ACCORDANCE WITH\nACCEPTED MEDICAL STANDARDS\n✔")
    source = source.replace("ODG-OFFICIAL DISABILITY GUIDELINES & TREATMENT GUIDELINES", "ODG-OFFICIAL DISABILITY GUIDELINES &\nTREATMENT GUIDELINES\n✔")
    source = re.sub(r"(ACOEM-AMERICA[^\n]*\n[^\n]*)", "\\1\n✔", source, count=1)
    source = re.sub(r"^\[\s*\] (.*)$", r"\1", source, flags=re.M)
    source = re.sub(r"should be: \n \n", "should be overturned.\n\n", source)
    item = tx_iro.parse(document(source)).items[0]
    assert sorted(g.source for g in item.guidelines) == ["ACOEM", "ODG"]
