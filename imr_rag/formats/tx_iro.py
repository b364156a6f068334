"""Texas Independent Review Organization letters ("NOTICE OF INDEPENDENT REVIEW DECISION").

Layout: labelled paragraphs (DATE NOTICE SENT, IRO CASE #, DESCRIPTION OF THE SERVICE OR SERVICES
IN DISPUTE, reviewer qualifications, REVIEW OUTCOME with checkboxes, information provided,
clinical history, analysis, screening criteria checkboxes). One outcome covers the services in
dispute, so the whole letter is one disputed item.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from imr_rag.formats.headings import heading_pattern, sections_from_headings
from imr_rag.schema import Section

if TYPE_CHECKING:
    from imr_rag.documents import Document
    from imr_rag.schema import Decision

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


def parse(document: Document) -> Decision:
    from imr_rag.extract.rules_tx import parse_tx_letter

    return parse_tx_letter(document)


CASE_NUMBER = re.compile(r"IRO\s+CASE\s*#\s*:?[ \t]*([A-Za-z0-9][A-Za-z0-9-]{3,})")


def case_number(text: str) -> str | None:
    match = CASE_NUMBER.search(text[:5000])
    return match.group(1) if match else None
