"""California DMHC Independent Medical Review determinations: one row of the published CSV.

The Department of Managed Health Care publishes every IMR as a CSV row (see
imr_rag.formats.dmhc_csv): structured columns plus a `Findings` text. A row becomes one document,
`render_row(row)`: a header of labelled lines (one per structured column), a blank line, then the
findings as published. The findings carry labelled parts whose order varies ("Nature of Statutory
Criteria/Case Summary:", "Findings:", "Final Result:", "Credentials/Qualifications:"); a part may
be missing, and the credentials sometimes come without their label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from imr_rag.formats.ca_dmhc_imr_checks import VALIDATORS, column_outcome
from imr_rag.formats.ca_dmhc_imr_text import (
    outcome_statement,
    request_phrases,
    reviewer_split,
    specialties,
    split_services,
)
from imr_rag.formats.classify import categorize
from imr_rag.formats.spans import evidence_at, necessity_of, one_line
from imr_rag.schema import (
    Category,
    Decision,
    DisputedItem,
    Document,
    ItemEvidence,
    Patient,
    Reviewer,
    Section,
    SourceRef,
)
from imr_rag.textutil import normalize_case_number

name = "ca_dmhc_imr"

TITLE = "DMHC Independent Medical Review"
COLUMNS = (
    "ReferenceID", "ReportYear", "DiagnosisCategory", "DiagnosisSubCategory", "TreatmentCategory",
    "TreatmentSubCategory", "Determination", "Type", "AgeRange", "PatientGender", "IMRType",
    "DaysToReview", "DaysToAdopt", "Findings",
)
# Category and subcategory get a line each: published values hold slashes themselves
# ("Orth/Musculoskeletal", "GU/ Kidney Disorder"), so "Category / Subcategory" could not be split back.
HEADER_LABELS = (
    ("ReferenceID", "Reference ID"),
    ("ReportYear", "Report Year"),
    ("DiagnosisCategory", "Diagnosis Category"),
    ("DiagnosisSubCategory", "Diagnosis Subcategory"),
    ("TreatmentCategory", "Treatment Category"),
    ("TreatmentSubCategory", "Treatment Subcategory"),
    ("Determination", "Determination"),
    ("Type", "Type"),
    ("AgeRange", "Age Range"),
    ("PatientGender", "Gender"),
    ("IMRType", "IMR Type"),
    ("DaysToReview", "Days to Review"),
    ("DaysToAdopt", "Days to Adopt"),
)


def render_row(row: Mapping[str, str]) -> str:
    """The document text of one CSV row: the labelled header, a blank line, the findings."""
    lines = [TITLE, *(f"{label}: {one_line(row.get(column) or '')}" for column, label in HEADER_LABELS)]
    return "\n".join(lines) + "\n\n" + (row.get("Findings") or "").strip()


def header_values(text: str) -> dict[str, str]:
    """The structured columns back from a rendered header (a blank value is '')."""
    head = text[: body_start(text)]
    values = {}
    for column, label in HEADER_LABELS:
        m = re.search(rf"^{re.escape(label)}:[ \t]*(.*?)[ \t]*$", head, re.MULTILINE)
        values[column] = m.group(1) if m else ""
    return values


def body_start(text: str) -> int:
    """Where the findings start: after the header's blank line (or its last label line)."""
    if not text.startswith(TITLE):
        return 0
    blank = text.find("\n\n")
    if blank >= 0:
        return blank + 2
    last = None
    for last in re.finditer(r"^Days\s+to\s+Adopt:[^\n]*\n?", text, re.MULTILINE):
        pass
    return last.end() if last else 0


def detect(text: str) -> float:
    head = text[:3000]
    score = 0.0
    if head.startswith(TITLE):
        score += 0.6
    if re.search(r"^Reference ID:", head, re.MULTILINE):
        score += 0.2
    if re.search(r"^IMR Type:", head, re.MULTILINE):
        score += 0.1
    if re.search(r"Final\s+Result\s*:|Health\s+Plan", text):
        score += 0.1
    return min(score, 1.0)


def case_number(text: str) -> str | None:
    m = re.search(r"^Reference ID:[ \t]*(\S+)", text[:3000], re.MULTILINE)
    return normalize_case_number(m.group(1)) if m else None


# -- sections --------------------------------------------------------------------------------
# A label opens the findings or follows the end of a sentence or another label ("...patient.Final
# Result:"); "Findings:" is capitalised, so "imaging findings:" inside prose is not one.
_AFTER_BREAK = r"(?:(?<=^)|(?<=[.:;!?”\"’)\n])\s*|(?<=\s))"
LABELS = (
    ("case_summary", re.compile(
        r"(?:Nature\s+of\s+Statutory\s+Criteria\s*/\s*)?Case\s+Summary\s*:", re.IGNORECASE)),
    ("findings", re.compile(_AFTER_BREAK + r"Findings\s*:")),
    ("final_result", re.compile(r"Final\s+Result\s*:", re.IGNORECASE)),
    ("credentials", re.compile(r"Credentials\s*/\s*Qualifications\s*:|Reviewer\s+Qualifications\s*:", re.IGNORECASE)),
)
# Credentials without their label: the first sentence describing a reviewer's certification.
CREDENTIALS_SENTENCE = re.compile(
    r"(?:The\s+(?:physician\s+)?reviewers?|Reviewer\s*#?\s*\d|Each\s+(?:of\s+the\s+)?reviewers?)"
    r"\s+(?:is|are|was)\s+(?:a\s+(?:physician\s+)?(?:who\s+is\s+)?)?board[\s\-\u2011]*(?:&#8209;)?certified",
    re.IGNORECASE,
)


def sections(text: str) -> list[Section]:
    """header, then the findings' labelled parts in the order they come; unlabelled leading text
    is the case summary (or the findings, when the case summary has its label)."""
    last_text, last = _last_sections[0]  # one read of the pair: other threads may replace it
    if text is last_text:  # ingest splits a row for its chunks, then parse splits it again
        return list(last)
    found = _sections(text)
    _last_sections[0] = (text, found)
    return list(found)


_last_sections: list[tuple[str | None, list[Section]]] = [(None, [])]


def _sections(text: str) -> list[Section]:
    body = body_start(text)
    cuts: dict[str, int] = {}
    for part, pattern in LABELS:
        if m := pattern.search(text, body):
            cuts[part] = m.start()
    if "credentials" not in cuts:
        after = max(cuts.values(), default=body)
        if m := CREDENTIALS_SENTENCE.search(text, after):
            cuts["credentials"] = m.start()
    ordered = sorted((at, part) for part, at in cuts.items())
    out = [Section(name="header", start=0, end=body)] if body else []
    first = ordered[0][0] if ordered else len(text)
    if text[body:first].strip():
        lead = next((p for p in ("case_summary", "findings") if p not in cuts), "body")
        out.append(Section(name=lead, start=body, end=first))
    ends = [at for at, _ in ordered[1:]] + [len(text)]
    out += [Section(name=part, start=at, end=end) for (at, part), end in zip(ordered, ends) if text[at:end].strip()]
    return out


# -- the rules parser ------------------------------------------------------------------------
REVIEW_TYPES = (("experimental", "experimental_investigational"), ("investigational", "experimental_investigational"),
                ("urgent", "urgent_care"), ("necessity", "medical_necessity"))
# The publisher's treatment categories that say what kind of service it is; others are read
# from the service's own words (imr_rag.formats.classify).
TREATMENT_KINDS = ((re.compile(r"pharmacy", re.IGNORECASE), Category.medication),
                   (re.compile(r"imag", re.IGNORECASE), Category.imaging),
                   (re.compile(r"\bDME\b", re.IGNORECASE), Category.dme),
                   (re.compile(r"\bproc\b|surg", re.IGNORECASE), Category.surgery),
                   (re.compile(r"mental\s+health", re.IGNORECASE), Category.therapy))


def parse(document: Document) -> Decision:
    """One Decision from a rendered row: the columns from the header, the rest from the findings."""
    text = document.text
    columns = header_values(text)
    parts = {s.name: s for s in sections(text)}
    body = body_start(text)
    review_type = _review_type(columns["Type"])
    statement = outcome_statement(text, body, parts.get("final_result"))
    credentials = parts.get("credentials")
    count, for_outcome = reviewer_split(text, body, credentials.start if credentials else len(text))
    specialty = specialties(text[credentials.start : credentials.end] if credentials else text[body:])
    reasoning = _reasoning(text, parts)
    items = []
    for service, start, end in _services(text, body, columns["TreatmentSubCategory"]):
        determination = statement.determination if statement else None
        if determination is None:
            continue
        items.append(DisputedItem(
            service=service,
            category=_category(service, columns["TreatmentCategory"], columns["TreatmentSubCategory"]),
            determination=determination,
            medically_necessary=None if review_type == "experimental_investigational" else necessity_of(determination),
            rationale=one_line(reasoning.quote) if reasoning else None,
            evidence=ItemEvidence(
                service=evidence_at(text, start, end) if end > start else None,
                determination=evidence_at(text, statement.start, statement.end),
                rationale=reasoning,
            ),
        ))
    return Decision(
        case_number=case_number(text),
        letter_format=name,
        priority=columns["IMRType"] or None,
        reviewer=Reviewer(
            specialty=specialty,
            qualifications=one_line(text[credentials.start : credentials.end]) if credentials else None,
        ),
        patient=Patient(sex=_sex(columns["PatientGender"])),
        items=items,
        source=SourceRef(path=document.path, doc_id=document.doc_id),
        report_year=_int(columns["ReportYear"]),
        review_type=review_type,
        diagnosis_category=columns["DiagnosisCategory"] or None,
        diagnosis_subcategory=columns["DiagnosisSubCategory"] or None,
        treatment_category=columns["TreatmentCategory"] or None,
        treatment_subcategory=columns["TreatmentSubCategory"] or None,
        age_range=columns["AgeRange"] or None,
        days_to_review=_int(columns["DaysToReview"]),
        days_to_adopt=_int(columns["DaysToAdopt"]),
        reviewer_count=count,
        reviewers_for_outcome=for_outcome,
        published_determination=column_outcome(columns["Determination"]),
    )


def _services(text: str, body: int, subcategory: str) -> list[tuple[str, int, int]]:
    """(service, start, end) for each treatment the findings name; the subcategory when none is named."""
    for phrase, start, end in request_phrases(text, body):
        found = split_services(text, start, end)
        if found:
            return found
    return [(subcategory, 0, 0)] if subcategory else []


def _reasoning(text: str, parts: dict[str, Section]):
    """The reviewers' reasoning: the case summary and findings parts, without their labels."""
    spans = [parts[p] for p in ("case_summary", "findings") if p in parts]
    if not spans:
        return None
    start, end = min(s.start for s in spans), max(s.end for s in spans)
    if (m := LABELS[0][1].match(text, start)) or (m := re.compile(r"Findings\s*:").match(text, start)):
        start = m.end()
    return evidence_at(text, start, end)


def _category(service: str, treatment_category: str, subcategory: str) -> Category:
    for pattern, category in TREATMENT_KINDS:
        if pattern.search(treatment_category):
            return category
    return categorize(f"{service} {subcategory}")


def _review_type(value: str) -> str | None:
    lowered = value.lower()
    for word, kind in REVIEW_TYPES:
        if word in lowered:
            return kind
    return re.sub(r"\W+", "_", lowered).strip("_") or None


def _sex(value: str) -> str | None:
    lowered = value.strip().lower()
    return lowered if lowered in {"male", "female"} else None


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() else None


keeps_records_without_items = True
"""A row is a published decision even when the rules read no outcome in its findings: its record
(year, categories, the Determination column) is kept, flagged `outcome_read` for review, instead
of being dropped as an extraction failure."""

validators = VALIDATORS
"""Self-checks of this format's records, `(decision, text) -> list[ReviewFlag]`: the findings'
outcome against the publisher's Determination column, and the reviewers' split."""
