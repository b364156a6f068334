"""Texas Independent Review Organization letters ("NOTICE OF INDEPENDENT REVIEW DECISION").

Layout: labelled paragraphs (DATE NOTICE SENT, IRO CASE #, DESCRIPTION OF THE SERVICE OR SERVICES
IN DISPUTE, reviewer qualifications, REVIEW OUTCOME with checkboxes, information provided,
clinical history, analysis, screening criteria checkboxes). One outcome covers the services in
dispute, so the whole letter is one disputed item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imr_rag.errors import ExtractionFailed
from imr_rag.formats.classify import categorize
from imr_rag.formats.dates import DATE_PATTERN, to_iso
from imr_rag.formats.tx_iro_checks import VALIDATORS
from imr_rag.formats.headings import heading_pattern, line_spans, sections_from_headings
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
# Checkboxes come rendered many ways: "[ X ] Upheld", "X Upheld", "☒ Upheld", "Upheld [X]",
# "Upheld ✔", or the mark on a line of its own before or after the label.
MARK = r"(?:\[\s*[Xx✓✔☒■✗]\s*\]|\(\s*[Xx✓✔☒■✗]\s*\)|[☒✓✔■✗]|[Xx])"
EMPTY = r"(?:\[\s*\]|\(\s*\)|☐|□)"
MARK_BEFORE = re.compile(rf"^(?P<box>{MARK})\s+(?P<label>\S.*)$")
MARK_AFTER = re.compile(rf"^(?P<label>.*?\S)\s+(?P<box>{MARK})$")
EMPTY_BEFORE = re.compile(rf"^(?P<box>{EMPTY})\s*(?P<label>\S.*)$")
EMPTY_AFTER = re.compile(rf"^(?P<label>.*?\S)\s*(?P<box>{EMPTY})$")
MARK_ONLY = re.compile(rf"^{MARK}$")
EMPTY_ONLY = re.compile(rf"^{EMPTY}$")
OUTCOME_LABEL = re.compile(r"^(?P<outcome>Partially\s+Overturned|Overturned|Upheld)\b\s*(?:\([^)\n]*\))?\s*$", re.I)
# The outcome in words, strongest statement first.
PROSE_OUTCOMES = [
    re.compile(r"should\s+be[ \t]*:?[ \t]*\n?[ \t]*(?P<outcome>partially\s+overturned|overturned|upheld)\b", re.I),
    re.compile(r"\bpartial(?:ly)?\s+overturn(?:ed)?\b", re.I),
    re.compile(
        r"\b(?:prior|previous)\s+(?:adverse\s+)?(?:determinations?|denials?)(?:/[\w ]+?)?\s+"
        r"(?:is|are|was|were|should\s+be)\s+(?P<outcome>upheld|overturned)\b", re.I),
    re.compile(r"\bis\s+(?P<neg>not\s+)?(?:recommended\s+as\s+|considered\s+)?medically\s+necessary\b", re.I),
]


@dataclass(frozen=True)
class Option:
    """One line of a checkbox list: its label and whether it is marked (None: no box at all)."""

    label: str
    start: int  # of the label line (or of its mark line, when the mark has a line of its own)
    end: int
    checked: bool | None


def options(text: str, start: int, end: int) -> list[Option]:
    """The checkbox lines of text[start:end], in any rendering, with their marks."""
    lines = [(a, b, text[a:b].strip()) for a, b in line_spans(text, start, end)]
    found: list[Option] = []
    bare: list[int] = []  # indexes (into lines) of labels with no box on their own line
    for k, (a, b, line) in enumerate(lines):
        if not line or MARK_ONLY.match(line) or EMPTY_ONLY.match(line):
            continue
        for pattern, checked in ((EMPTY_BEFORE, False), (EMPTY_AFTER, False), (MARK_BEFORE, True), (MARK_AFTER, True)):
            if m := pattern.match(line):
                found.append(Option(m.group("label"), a, b, checked))
                break
        else:
            found.append(Option(line, a, b, None))
            bare.append(len(found) - 1)
    if not bare:
        return found
    # Marks on lines of their own sit all before or all after their labels.
    # Marks on lines of their own sit all before or all after their labels. A box line with a
    # label on one side only says which; when every box line sits between two labels (the empty
    # boxes left blank), the marks cannot be told apart and the boxes are not read.
    label_lines = [k for k, (_, _, line) in enumerate(lines) if line and not _box_only(line)]
    is_label = {k: True for k in label_lines}
    before = after = 0
    for k, (_, _, line) in enumerate(lines):
        if _box_only(line):
            prev_label, next_label = is_label.get(k - 1, False), is_label.get(k + 1, False)
            before += next_label and not prev_label
            after += prev_label and not next_label
    if before == after:
        return found
    step = -1 if before > after else 1
    for n, k in zip(range(len(found)), label_lines):
        if found[n].checked is not None:
            continue
        j = k + step
        if 0 <= j < len(lines) and _box_only(lines[j][2]):
            a, b = min(lines[j][0], lines[k][0]), max(lines[j][1], lines[k][1])
            found[n] = Option(found[n].label, a, b, bool(MARK_ONLY.match(lines[j][2])))
    return found


def _box_only(line: str) -> bool:
    return bool(MARK_ONLY.match(line) or EMPTY_ONLY.match(line))


def review_outcome(text: str, section: Section | None, analysis: Section | None) -> tuple[str, int, int] | None:
    """(outcome words, start, end of the span that states it): the one marked outcome box, else
    the outcome prose of the review-outcome section, else of the analysis."""
    if section is not None:
        outcomes = [(o, OUTCOME_LABEL.match(o.label)) for o in options(text, section.start, section.end)]
        marked = [(o, m) for o, m in outcomes if m and o.checked]
        if len(marked) == 1:
            option, m = marked[0]
            return m.group("outcome"), option.start, option.end
    for region in (section, analysis):
        if region is None:
            continue
        labels = [(o.start, o.end) for o in options(text, region.start, region.end) if OUTCOME_LABEL.match(o.label)]
        for pattern in PROSE_OUTCOMES:
            said = (m for m in pattern.finditer(text, region.start, region.end)
                    if not any(a < m.end() and m.start() < b for a, b in labels))  # not a box's own label
            if m := next(said, None):
                if "outcome" in m.groupdict() and m.group("outcome"):
                    words = m.group("outcome")
                elif "neg" in m.groupdict():
                    words = "upheld" if m.group("neg") else "overturned"
                else:
                    words = "partially overturned"
                return words, m.start(), m.end()
    return None


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
    outcome = review_outcome(text, parts.get("review_outcome"), parts.get("analysis"))
    if service_ev is None or outcome is None:
        missing = "services in dispute" if service_ev is None else "a review outcome (no box marked, none stated)"
        raise ExtractionFailed(document.path, f"Texas IRO letter without {missing}")
    words, outcome_start, outcome_end = outcome
    determination = outcome_of(words)
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
                    determination=evidence_at(text, outcome_start, outcome_end),
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
    for option in options(text, section.start, section.end):
        if not option.checked:
            continue
        criterion = one_line(option.label)
        family = next((fam for pattern, fam in CRITERIA_FAMILIES if pattern.search(criterion)), "other")
        if family:
            found.append(Guideline(source=family, citation=criterion, cited_by="reviewer"))
    return found


validators = VALIDATORS
"""Self-checks of this format's records, `(decision, text) -> list[ReviewFlag]`, run on every
backend's record besides the generic ones of imr_rag.checks."""
