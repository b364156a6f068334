"""Rules parser for California DWC IMR letters (MAXIMUS), built on the format's sections."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from imr_rag.extract.classify import categorize, guideline_family
from imr_rag.extract.dates import DATE_PATTERN, to_iso
from imr_rag.extract.spans import evidence_at, labelled_value, necessity_of, one_line, outcome_of, patient_from
from imr_rag.formats.ca_dwc import ISSUES, ItemBlock, case_number, item_blocks, sections
from imr_rag.schema import (
    Decision,
    DisputedItem,
    Guideline,
    ItemEvidence,
    LetterFormat,
    Reviewer,
    SourceRef,
)

if TYPE_CHECKING:
    from imr_rag.documents import Document

PARTIAL = re.compile(
    r"^(?P<original>.+?)\s+was\s+the\s+original\s+request\.\s*(?P<authorized>.+?)\s+was\s+authorized"
    r"\s+by\s+the\s+Claims\s+Administrator\.\s*The\s+remaining\s+IMR\s+eligible\s+portion\s+of\s+the"
    r"\s+original\s+request,?\s*(?P<remaining>.+?)(?:\s+(?:is|are))?$",
    re.IGNORECASE | re.DOTALL,
)
CA_GUIDELINE = re.compile(r"Claims\s+Administrator\s+guideline\s*:", re.IGNORECASE)
MAXIMUS_GUIDELINE = re.compile(r"MAXIMUS\s+guideline\s*:", re.IGNORECASE)
RATIONALE = re.compile(r"Decision\s+rationale\s*:", re.IGNORECASE)
BASED_ON = re.compile(r"Decision\s+based\s+on\s+", re.IGNORECASE)
# "Non-MTUS Citation ODG ... and Other Medical Treatment Guidelines ACOEM ..." cites two sources.
ANOTHER_SOURCE = re.compile(r"\s+and\s+(?=Other\s+Medical\s+Treatment\s+Guidelines)", re.IGNORECASE)
PAGES = re.compile(r"(?:Page\(s\)|Section\(s\))\s*:\s*(.+?)\s*\.?$", re.IGNORECASE | re.DOTALL)


def parse_ca_letter(document: Document) -> Decision:
    text = document.text
    parts = {s.name: s for s in sections(text) if s.name != "item"}
    header_end = parts["how_determination_made"].start if "how_determination_made" in parts else min(len(text), 2000)
    summary = parts.get("clinical_case_summary")
    decisions_start = ISSUES.search(text).start() if ISSUES.search(text) else len(text)
    return Decision(
        case_number=case_number(text),
        letter_format=LetterFormat.ca_dwc_imr.value,
        **_header_dates(text, header_end),
        priority=labelled_value(text, "Priority", r"[A-Za-z]+", end=header_end),
        reviewer=_reviewer(text, summary.start if summary else decisions_start),
        patient=patient_from(text[summary.start : summary.end] if summary else ""),
        items=[_item(text, block) for block in item_blocks(text, decisions_start, len(text))],
        source=SourceRef(path=document.path, doc_id=document.doc_id),
    )


def _header_dates(text: str, end: int) -> dict[str, str | None]:
    labels = {
        "date_assigned": "Date Assigned",
        "date_of_injury": "Date of Injury",
        "decision_date": "Decision Date",
        "ur_denial_date": "UR Denial Date",
        "application_received": "Application Received",
    }
    return {
        field: to_iso(value) if (value := labelled_value(text, label, DATE_PATTERN, end=end)) else None
        for field, label in labels.items()
    }


# A credentials value may wrap onto following lines, up to a blank line, heading or next label.
WRAPPED_VALUE = r"[^\n]+(?:\n(?!\s*\n|\s*(?:CLINICAL\s+CASE|State\(s\)|Certification\(s\)))[^\n]+)*"


def _reviewer(text: str, end: int) -> Reviewer:
    """Credentials: the 'Certification(s)/Specialty' lines, or the older 'Board Certified in' prose."""
    specialty = labelled_value(text, "Certification(s)/Specialty", WRAPPED_VALUE, end=end)
    states = labelled_value(text, "State(s) of Licensure", WRAPPED_VALUE, end=end)
    licensure = [s.strip() for s in re.split(r"[,;]| and ", states)] if states else []
    if specialty is None and (m := re.search(r"Board\s+Certified\s+in\s+(.+?)(?:,|\.|\s+and\s+is|\s+has\b)", text[:end], re.I)):
        specialty = one_line(m.group(1))
    if not licensure and (m := re.search(r"licensed\s+to\s+practice\s+in\s+([A-Z][A-Za-z ]+?)[.,]", text[:end])):
        licensure = [one_line(m.group(1))]
    qualifications = re.search(r"(The\s+(?:physician|expert)\s+reviewer\s+is\s+Board.+?\.)\s", text[:end], re.I | re.S)
    return Reviewer(
        specialty=one_line(specialty) if specialty else None,
        licensure=[s for s in licensure if s],
        qualifications=one_line(qualifications.group(1)) if qualifications else None,
    )


def _item(text: str, block: ItemBlock) -> DisputedItem:
    heading_end = block.outcome_start
    colon = text.rfind(":", block.heading_start, heading_end)
    heading = one_line(text[block.heading_start : colon])
    service, original, authorized = heading, None, None
    if partial := PARTIAL.match(heading):
        service = one_line(partial.group("remaining"))
        original = one_line(partial.group("original"))
        authorized = one_line(partial.group("authorized"))
    service_start = text.find(service.split(" ")[0], block.heading_start, colon) if partial else block.heading_start
    body_start = block.outcome_line_end
    ca = CA_GUIDELINE.search(text, body_start, block.block_end)
    mx = MAXIMUS_GUIDELINE.search(text, body_start, block.block_end)
    rationale = RATIONALE.search(text, body_start, block.block_end)
    determination = outcome_of(block.outcome)
    guidelines: list[Guideline] = []
    if ca:
        guidelines += _guidelines(text[ca.end() : mx.start() if mx else (rationale.start() if rationale else block.block_end)], "claims_administrator")
    if mx:
        guidelines += _guidelines(text[mx.end() : rationale.start() if rationale else block.block_end], "reviewer")
    rationale_ev = evidence_at(text, rationale.end(), block.block_end) if rationale else None
    return DisputedItem(
        service=service,
        original_request=original,
        authorized_portion=authorized,
        category=categorize(service),
        determination=determination,
        medically_necessary=necessity_of(determination),
        guidelines=guidelines,
        rationale=one_line(rationale_ev.quote) if rationale_ev else None,
        evidence=ItemEvidence(
            service=_service_evidence(text, service, service_start, colon),
            determination=evidence_at(text, block.heading_start, block.outcome_line_end),
            rationale=rationale_ev,
        ),
    )


def _service_evidence(text: str, service: str, start: int, colon: int):
    """Span of the service words in the heading (they may wrap over lines)."""
    words = service.split(" ")
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
    match = pattern.search(text, max(start, 0), colon)
    return evidence_at(text, match.start(), match.end()) if match else None


def _guidelines(block: str, cited_by: str) -> list[Guideline]:
    """One Guideline per 'Decision based on ...' clause; none when no evidence was cited."""
    clauses = [
        one_line(part)
        for clause in BASED_ON.split(block)[1:]
        for part in ANOTHER_SOURCE.split(clause)
        if part.strip()
    ]
    found: list[Guideline] = []
    for clause in clauses:
        pages = PAGES.search(clause)
        found.append(
            Guideline(
                source=guideline_family(clause),
                citation=clause.rstrip(". "),
                pages=one_line(pages.group(1)).rstrip(".") if pages else None,
                cited_by=cited_by,
            )
        )
    return found
