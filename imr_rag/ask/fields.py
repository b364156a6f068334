"""The one table of what a question can ask about: every field of a letter or of a disputed item,
the words that name it, how the catalog holds it (SQL) and how an answer says it.

Shared by the reader (nouns), the compiler (SQL), the answer text (label) and the evals.
SQL expressions use the aliases `i` (items: one row per disputed item, carrying its letter's
decision_date, case_number, letter_format, reviewer_specialty) and `d` (decisions: one row per
letter, its full record as JSON in `d.record`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["item", "letter"]
Kind = Literal["date", "number", "text", "category", "outcome", "list"]


@dataclass(frozen=True)
class FieldDef:
    """One askable field."""

    key: str
    level: Level
    kind: Kind
    sql: str
    label: str
    nouns: tuple[str, ...]
    """Words and phrases that name the field in a question (lower case; multi-word phrases allowed)."""


def _json(path: str) -> str:
    return f"json_extract(d.record, '$.{path}')"


FIELDS: dict[str, FieldDef] = {f.key: f for f in (
    # -- dates of a letter ----------------------------------------------------------------------
    FieldDef("decision_date", "letter", "date", "d.decision_date", "decision date",
             ("decision date", "date of decision", "decided", "decision", "determination date", "imr decision",
              "final determination", "ruled", "ruling")),
    FieldDef("date_of_injury", "letter", "date", _json("date_of_injury"), "date of injury",
             ("date of injury", "injury date", "doi", "injury", "injured", "hurt", "accident", "got hurt")),
    FieldDef("ur_denial_date", "letter", "date", _json("ur_denial_date"), "UR denial date",
             ("ur denial date", "ur denial", "utilization review denial date", "utilization review denial", "utilization review", "ur", "denial date", "denied by ur",
              "ur decision", "ur denied", "turned down", "non-certified", "noncertified", "non-certification")),
    FieldDef("date_assigned", "letter", "date", _json("date_assigned"), "date assigned",
             ("date assigned", "assigned", "assignment", "assigned to a reviewer")),
    FieldDef("application_received", "letter", "date", _json("application_received"),
             "date the IMR application was received",
             ("application received", "application", "received", "filed", "imr application", "request received")),
    # -- other facts of a letter ----------------------------------------------------------------
    FieldDef("case_number", "letter", "text", "d.case_number", "case number", ("case number", "case no", "case #")),
    FieldDef("letter_format", "letter", "text", "d.letter_format", "letter format",
             ("format", "kind of letter", "jurisdiction")),
    FieldDef("priority", "letter", "text", _json("priority"), "priority",
             ("priority", "expedited", "standard", "urgent", "rush")),
    FieldDef("reviewer_specialty", "letter", "text", "d.reviewer_specialty", "reviewer's specialty",
             ("specialty", "speciality", "specialist", "board certified", "board certification", "certification",
              "reviewer", "reviewed by", "expert reviewer", "physician reviewer", "kind of reviewer", "type of reviewer",
              "kind of doctor", "type of doctor", "kind of physician")),
    FieldDef("reviewer_licensure", "letter", "list", _json("reviewer.licensure"), "reviewer's states of licensure",
             ("licensure", "licensed", "license", "licence", "state of licensure", "states")),
    FieldDef("patient_age", "letter", "number", _json("patient.age"), "patient's age",
             ("age", "aged", "years old", "year old", "how old", "old", "older", "younger")),
    FieldDef("patient_sex", "letter", "text", _json("patient.sex"), "patient's sex",
             ("sex", "gender", "male", "female", "man", "woman", "men", "women")),
    FieldDef("diagnoses", "letter", "list", _json("diagnoses"), "diagnoses",
             ("diagnosis", "diagnoses", "dx", "diagnosed", "condition")),
    FieldDef("item_count", "letter", "number", "(SELECT COUNT(*) FROM items n WHERE n.doc_id = d.doc_id)",
             "number of disputed items",
             ("item count", "items per letter", "requests per letter", "items per case", "requests per case")),
    # -- fields of a published determination (a DMHC table row: no letter, a report year) ------------
    FieldDef("report_year", "letter", "number", "d.report_year", "report year",
             ("report year", "reporting year", "year reported")),
    FieldDef("review_type", "letter", "text", "d.review_type", "review type",
             ("review type", "type of review", "kind of review", "review types")),
    FieldDef("diagnosis_category", "letter", "text", "d.diagnosis_category", "diagnosis category",
             ("diagnosis category", "diagnosis categories", "diagnostic category", "diagnostic categories",
              "condition category", "category of diagnosis")),
    FieldDef("diagnosis_subcategory", "letter", "text", "d.diagnosis_subcategory", "diagnosis subcategory",
             ("diagnosis subcategory", "diagnosis subcategories", "diagnostic subcategory")),
    FieldDef("treatment_subcategory", "letter", "text", "d.treatment_subcategory", "treatment subcategory",
             ("treatment subcategory", "treatment subcategories")),
    FieldDef("treatment_category", "letter", "text", "d.treatment_category", "treatment category",
             ("treatment category", "treatment categories", "category of treatment")),
    FieldDef("age_range", "letter", "text", "d.age_range", "age range",
             ("age range", "age ranges", "age group", "age groups", "age bracket", "age band")),
    # -- a disputed item ------------------------------------------------------------------------
    FieldDef("service", "item", "text", "i.service", "service",
             ("service", "treatment", "request", "item", "procedure", "medication", "drug")),
    FieldDef("service_family", "item", "text", "service_family(i.service)", "service",
             ()),  # for grouping only: see ask/families.py (no noun: the reader groups services by it)
    FieldDef("category", "item", "category", "i.category", "category", ("category", "type of service", "kind")),
    FieldDef("determination", "item", "outcome", "i.determination", "outcome",
             ("outcome", "determination", "result", "decision on", "upheld", "overturned", "approved", "denied")),
    FieldDef("guideline", "item", "list", "i.guideline_sources", "guidelines cited by the reviewer",
             ("guideline", "guidelines", "cited", "citing", "criteria", "mtus", "odg", "acoem")),
    FieldDef("authorized_portion", "item", "text", "i.authorized_portion", "portion already authorised",
             ("authorized portion", "partly authorized", "partially certified", "modified", "modification",
              "modifications", "modified request", "partially approved by ur")),
)}

DATE_FIELDS = tuple(k for k, f in FIELDS.items() if f.kind == "date")
NUMBER_FIELDS = tuple(k for k, f in FIELDS.items() if f.kind == "number")

DatePart = Literal["month", "quarter", "year"]
DATE_PARTS: dict[str, str] = {
    "month": "substr({x}, 1, 7)",
    "quarter": "substr({x}, 1, 4) || '-Q' || ((CAST(substr({x}, 6, 2) AS INTEGER) + 2) / 3)",
    "year": "substr({x}, 1, 4)",
}
"""SQL of a part of an ISO date expression `{x}`."""


def days_between(start: str, end: str) -> str:
    """SQL of the days from date field `start` to date field `end` of one letter."""
    return f"(julianday({FIELDS[end].sql}) - julianday({FIELDS[start].sql}))"


def letter_field_indexes() -> str:
    """DDL of one partial expression index per letter field kept only in the record JSON: a
    question on it reads the index, not every record (at 20,000 letters, the patients' ages in
    15 ms instead of 250-400 ms; SQLite uses such an index as a covering index). For the catalog
    to create when it opens (`Catalog.__init__`); the compiler works without them, slower."""
    return "\n".join(
        f"CREATE INDEX IF NOT EXISTS decisions_field_{k} ON decisions({f.sql.replace('d.record', 'record')}, doc_id)"
        " WHERE superseded_by IS NULL;"
        for k, f in FIELDS.items() if f.level == "letter" and f.sql.startswith("json_extract(d.record")
    )
