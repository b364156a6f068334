"""The rules backend against hand-checked gold: seeds, synthetic letters and the 25 real dev PDFs."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import dev_pdfs, gold_for, seed_files, synthetic_letters

from imr_rag.ingest.documents import read_document
from imr_rag.schema import Document
from imr_rag.errors import ExtractionFailed
from imr_rag.extract.service import rules_decision
from imr_rag.schema import Decision

HEADER_FIELDS = (
    "case_number", "letter_format", "decision_date", "date_of_injury", "date_assigned",
    "ur_denial_date", "application_received", "priority",
)
ITEM_FIELDS = ("service", "original_request", "authorized_portion", "category", "medically_necessary")


def gold_letters() -> list[Path]:
    letters = [p for p in synthetic_letters() if gold_for(p)["letter_format"] != "unknown"]
    return letters + seed_files() + dev_pdfs()


def compare(decision: Decision, gold: dict) -> list[str]:
    """Every difference between an extracted record and its gold, as readable lines."""
    diffs = [f"{f}: {getattr(decision, f)!r} != {gold[f]!r}" for f in HEADER_FIELDS if getattr(decision, f) != gold[f]]
    if decision.reviewer.specialty != gold["reviewer"]["specialty"]:
        diffs.append(f"specialty: {decision.reviewer.specialty!r} != {gold['reviewer']['specialty']!r}")
    if decision.reviewer.licensure != gold["reviewer"]["licensure"]:
        diffs.append(f"licensure: {decision.reviewer.licensure} != {gold['reviewer']['licensure']}")
    if decision.patient.model_dump() != gold["patient"]:
        diffs.append(f"patient: {decision.patient.model_dump()} != {gold['patient']}")
    if len(decision.items) != len(gold["items"]):
        return [*diffs, f"items: {len(decision.items)} != {len(gold['items'])}"]
    for n, (item, want) in enumerate(zip(decision.items, gold["items"]), 1):
        got = item.model_dump(mode="json")
        diffs += [f"item {n} {f}: {got[f]!r} != {want[f]!r}" for f in ITEM_FIELDS if got[f] != want[f]]
        if item.determination.value != want["determination"]:
            diffs.append(f"item {n} determination: {item.determination.value} != {want['determination']}")
        sources = sorted({g.source for g in item.guidelines if g.cited_by == "reviewer"})
        if sources != sorted({g["source"] for g in want["guidelines"]}):
            diffs.append(f"item {n} guidelines: {sources} != {want['guidelines']}")
    return diffs


@pytest.fixture(scope="module")
def parsed() -> dict[str, tuple[Document, Decision]]:
    out = {}
    for path in gold_letters():
        doc = read_document(path)
        out[path.name] = (doc, rules_decision(doc))
    return out


@pytest.mark.parametrize("path", gold_letters(), ids=lambda p: p.name)
def test_rules_match_gold(parsed, path: Path) -> None:
    _, decision = parsed[path.name]
    assert compare(decision, gold_for(path)) == []


@pytest.mark.parametrize("path", gold_letters(), ids=lambda p: p.name)
def test_every_evidence_span_slices_to_its_quote(parsed, path: Path) -> None:
    doc, decision = parsed[path.name]
    spans = [ev for item in decision.items for ev in (item.evidence.service, item.evidence.determination,
                                                      item.evidence.rationale)]
    assert spans and all(ev is not None for ev in spans)
    for ev in spans:
        assert doc.text[ev.start : ev.end] == ev.quote
        assert ev.alignment.value == "exact"


def test_dev_corpus_covers_the_hard_cases(parsed) -> None:
    """The dev letters include 1 to 21 items and the partial-authorisation pattern."""
    if not dev_pdfs():
        pytest.skip("real dev corpus not available")
    counts = [len(d.items) for name, (_, d) in parsed.items() if name.endswith(".pdf")]
    assert min(counts) == 1 and max(counts) == 21
    partial = [i for _, (_, d) in parsed.items() for i in d.items if i.authorized_portion]
    assert len(partial) >= 4


def test_partial_authorisation_fields() -> None:
    letter = next(p for p in synthetic_letters() if p.name == "dwc_cm99_0000007.txt")
    decision = rules_decision(read_document(letter))
    partial = [i for i in decision.items if i.original_request]
    assert partial and all(i.authorized_portion for i in partial)
    gold = [i for i in gold_for(letter)["items"] if i["original_request"]]
    assert [(i.original_request, i.authorized_portion, i.service) for i in partial] == [
        (g["original_request"], g["authorized_portion"], g["service"]) for g in gold
    ]


def test_unknown_letter_is_refused_with_a_reason() -> None:
    letter = next(p for p in synthetic_letters() if gold_for(p)["letter_format"] == "unknown")
    with pytest.raises(ExtractionFailed, match="no rules parser"):
        rules_decision(read_document(letter))


def test_letter_without_items_is_an_error(tmp_path: Path) -> None:
    letter = tmp_path / "no-items.txt"
    letter.write_text(
        "HOW THE IMR FINAL DETERMINATION WAS MADE\nMAXIMUS Federal Services sent the file.\n"
        "CLINICAL CASE SUMMARY\nA summary.\nIMR ISSUES, DECISIONS AND RATIONALES\nNothing listed.\n"
    )
    with pytest.raises(ExtractionFailed, match="no disputed items"):
        rules_decision(read_document(letter))
