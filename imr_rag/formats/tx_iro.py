"""Texas Independent Review Organization letters ("NOTICE OF INDEPENDENT REVIEW DECISION").

Layout: labelled paragraphs (DATE NOTICE SENT, IRO CASE #, DESCRIPTION OF THE SERVICE OR SERVICES
IN DISPUTE, reviewer qualifications, REVIEW OUTCOME with checkboxes, information provided,
clinical history, analysis, screening criteria checkboxes). One outcome covers the services in
dispute, so the whole letter is one disputed item.
"""

from __future__ import annotations

import re

from imr_rag.errors import ExtractionFailed
from imr_rag.formats.classify import categorize
from imr_rag.formats.dates import DATE_PATTERN, to_iso
from imr_rag.formats.tx_iro_checks import VALIDATORS
from imr_rag.formats.headings import heading_pattern, sections_from_headings
from imr_rag.formats.spans import evidence_at, labelled_value, necessity_of, one_line, outcome_of, patient_from
from imr_rag.schema import (
    Decision,
    DisputedItem,
    Document,
    Guideline,
    ItemEvidence,
    LetterFormat,
    Reviewer,
    Section,
    SourceRef,
)

name = "tx_iro"

TITLE = heading_pattern("NOTICE OF INDEPENDENT REVIEW DECISION")
HEADINGS = [
    ("services_in_dispute", heading_pattern("DESCRIPTION OF THE SERVICE OR SERVICES IN DISPUTE")),
    ("reviewer_qualifications", heading_pattern("A DESCRIPTION OF THE QUALIFICATIONS")),
    ("review_outcome", heading_pattern("REVIEW OUTCOME")),
    ("information_provided", heading_pattern("INFORMATION PROVIDED TO THE IRO")),
    ("clinical_history", heading_pattern("PATIENT CLINICAL HISTORY")),
    ("analysis", heading_pattern("ANALYSIS AND EXPLANATION OF THE DECISION")),
    ("screening_criteria", heading_pattern("A DESCRIPTION AND THE SOURCE OF THE SCREENING CRITERIA")),
]
# Sections that speak about the (single) disputed item.
ITEM_SECTIONS = {"services_in_dispute", "review_outcome", "analysis"}


def detect(text: str) -> float:
    head = text[:20000]
    score = 0.0
    if TITLE.search(head):
        score += 0.5
    if re.search(r"IRO\s+CASE\s*#", head, re.IGNORECASE):
        score += 0.3
    if re.search(r"REVIEW\s+OUTCOME", head, re.IGNORECASE) and re.search(r"\[\s*[Xx]?\s*\]", head):
        score += 0.3
    return min(score, 1.0)


def sections(text: str) -> list[Section]:
    parts = sections_from_headings(text, HEADINGS)
    return [
        s.model_copy(update={"item_index": 0}) if s.name in ITEM_SECTIONS else s for s in parts
    ]


CASE_NUMBER = re.compile(r"IRO\s+CASE\s*#\s*:?[ \t]*([A-Za-z0-9][A-Za-z0-9-]{3,})")


def case_number(text: str) -> str | None:
    match = CASE_NUMBER.search(text[:5000])
    return match.group(1) if match else None


# -- the rules parser ------------------------------------------------------------------------
CHECKED_OUTCOME = re.compile(
    r"\[\s*[Xx]\s*\]\s*(?P<outcome>Partially\s+Overturned|Overturned|Upheld)[^\n]*", re.IGNORECASE
)
CHECKED_CRITERION = re.compile(r"\[\s*[Xx]\s*\]\s*(?P<criterion>[^\n]+(?:\n(?!\s*\[)[^\n]+)?)")
# Screening criteria that name a guideline family; "medical judgement" is not a guideline.
CRITERIA_FAMILIES = [
    (re.compile(r"\bODG\b|OFFICIAL\s+DISABILITY", re.I), "ODG"),
    (re.compile(r"\bACOEM\b", re.I), "ACOEM"),
    (re.compile(r"MEDICAL\s+JUDGE?MENT", re.I), None),
]


def _body(text: str, section: Section | None) -> tuple[int, int]:
    """The section's content after its 'HEADING ...:' label."""
    if section is None:
        return 0, 0
    colon = text.find(":", section.start, section.end)
    return (colon + 1 if colon != -1 else section.start), section.end


def parse(document: Document) -> Decision:
    """The rules parser: one Decision from the letter's text, every quote at its exact offsets."""
    text = document.text
    parts = {s.name: s for s in sections(text)}
    header_end = parts["services_in_dispute"].start if "services_in_dispute" in parts else min(len(text), 2000)
    notice = labelled_value(text, "DATE NOTICE SENT TO ALL PARTIES", DATE_PATTERN, end=header_end)
    svc_start, svc_end = _body(text, parts.get("services_in_dispute"))
    service_ev = evidence_at(text, svc_start, svc_end)
    outcome = CHECKED_OUTCOME.search(text, *_span(parts.get("review_outcome"), len(text)))
    if service_ev is None or outcome is None:
        missing = "services in dispute" if service_ev is None else "a checked review outcome"
        raise ExtractionFailed(document.path, f"Texas IRO letter without {missing}")
    determination = outcome_of(outcome.group("outcome"))
    an_start, an_end = _body(text, parts.get("analysis"))
    rationale_ev = evidence_at(text, an_start, an_end)
    service = one_line(service_ev.quote)
    history = parts.get("clinical_history")
    return Decision(
        case_number=case_number(text),
        letter_format=LetterFormat.tx_iro.value,
        decision_date=to_iso(notice) if notice else None,
        reviewer=_reviewer(text, parts.get("reviewer_qualifications")),
        patient=patient_from(text[history.start : history.end] if history else ""),
        items=[
            DisputedItem(
                service=service,
                category=categorize(service),
                determination=determination,
                medically_necessary=necessity_of(determination),
                guidelines=_criteria(text, parts.get("screening_criteria")),
                rationale=one_line(rationale_ev.quote) if rationale_ev else None,
                evidence=ItemEvidence(
                    service=service_ev,
                    determination=evidence_at(text, outcome.start(), outcome.end()),
                    rationale=rationale_ev,
                ),
            )
        ],
        source=SourceRef(path=document.path, doc_id=document.doc_id),
    )


def _span(section: Section | None, default_end: int) -> tuple[int, int]:
    return (section.start, section.end) if section else (0, default_end)


def _reviewer(text: str, section: Section | None) -> Reviewer:
    start, end = _body(text, section)
    qualifications = one_line(text[start:end]) if end > start else None
    specialty = None
    if qualifications and (m := re.search(r"Board\s+Certified\s+(?:in\s+)?(.+?)(?:[.;,]|$)", qualifications, re.I)):
        specialty = m.group(1).strip()
    return Reviewer(specialty=specialty, licensure=[], qualifications=qualifications)


def _criteria(text: str, section: Section | None) -> list[Guideline]:
    if section is None:
        return []
    found: list[Guideline] = []
    for match in CHECKED_CRITERION.finditer(text, section.start, section.end):
        criterion = one_line(match.group("criterion"))
        family = next((fam for pattern, fam in CRITERIA_FAMILIES if pattern.search(criterion)), "other")
        if family:
            found.append(Guideline(source=family, citation=criterion, cited_by="reviewer"))
    return found


validators = VALIDATORS
"""Self-checks of this format's records, `(decision, text) -> list[ReviewFlag]`, run on every
backend's record besides the generic ones of imr_rag.checks."""
