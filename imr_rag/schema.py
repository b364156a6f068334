"""The data model: every record the tool produces or stores, and nothing else.

No I/O lives here. Every field carries a description because the LLM extractor uses these
models as its response specification (instructor turns descriptions into the prompt).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

SCHEMA_VERSION = "1"


class LetterFormat(str, Enum):
    """The kind of letter, which decides how it is split and parsed."""

    ca_dwc_imr = "ca_dwc_imr"
    tx_iro = "tx_iro"
    unknown = "unknown"


class Determination(str, Enum):
    """Outcome of the independent review for one disputed item."""

    upheld = "upheld"
    overturned = "overturned"
    partially_overturned = "partially_overturned"


class Alignment(str, Enum):
    """How a quote was found in the document text."""

    exact = "exact"
    whitespace = "whitespace"
    fuzzy = "fuzzy"


class Category(str, Enum):
    """Coarse kind of the disputed service."""

    medication = "medication"
    imaging = "imaging"
    surgery = "surgery"
    therapy = "therapy"
    injection = "injection"
    dme = "DME"
    other = "other"


class Section(BaseModel):
    """A named region of a document's normalised text."""

    name: str = Field(description="Section name, e.g. 'header', 'clinical_case_summary', 'item'.")
    start: int = Field(description="Start offset (inclusive) in the normalised text.")
    end: int = Field(description="End offset (exclusive) in the normalised text.")
    item_index: int | None = Field(
        default=None, description="0-based index of the disputed item this section belongs to."
    )


class Chunk(BaseModel):
    """A retrievable passage of one document, with its exact place in the normalised text."""

    chunk_id: str = Field(description="Stable id: doc id plus the chunk's ordinal.")
    doc_id: str = Field(description="Content-hash id of the document.")
    text: str = Field(description="The passage, exactly text[start:end] of the document.")
    section: str = Field(description="Section the passage comes from.")
    item_index: int | None = Field(default=None, description="Disputed item index, if any.")
    start: int = Field(description="Start offset in the normalised document text.")
    end: int = Field(description="End offset in the normalised document text.")


@dataclass(frozen=True)
class Document:
    """A letter as read: what the file held, the normalised text and the map between them.

    `source_text` is what the file contained (for a PDF, the extracted text, pages separated by
    form feeds); `text` is the normalised text that chunks, spans and quotes refer to; `offsets`
    and `ends` map each character of `text` to the source run it came from: `offsets[i]` is where
    text[i] starts in the source (one extra entry, len(source), closes the map) and `ends[i]` the
    source index just after it.
    """

    doc_id: str
    path: str
    file_hash: str
    source_text: str
    text: str
    offsets: np.ndarray
    ends: np.ndarray
    pages: int
    letter_format: str

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Map [start, end) of `text` to the covering span of `source_text`."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span {start}:{end} outside text of length {len(self.text)}")
        if start == end:
            return int(self.offsets[start]), int(self.offsets[start])
        return int(self.offsets[start]), int(self.ends[end - 1])


@dataclass(frozen=True)
class ChunkRow:
    """A chunk as the indexes need it: the chunk plus its document's metadata."""

    chunk: Chunk
    case_number: str | None
    letter_format: str
    source: str
    text_hash: str


class Hit(BaseModel):
    """A search result: a chunk with where it came from and how well it matched."""

    chunk_id: str = Field(description="Id of the matching chunk.")
    doc_id: str = Field(description="Content-hash id of the document.")
    case_number: str | None = Field(default=None, description="Case number of the letter, if known.")
    letter_format: str = Field(description="Letter format: ca_dwc_imr, tx_iro, unknown or a plugin's name.")
    source: str = Field(description="Path of the source file.")
    section: str = Field(description="Section the passage comes from.")
    item_index: int | None = Field(default=None, description="Disputed item index, if any.")
    start: int = Field(description="Start offset in the normalised document text.")
    end: int = Field(description="End offset in the normalised document text.")
    text: str = Field(description="The passage text.")
    score: float = Field(description="Fused relevance score; higher is better.")


class SearchFilters(BaseModel):
    """Metadata equality filters for search; None means no constraint."""

    case_number: str | None = Field(default=None, description="Only this case number.")
    letter_format: str | None = Field(default=None, description="Only this letter format.")
    section: str | None = Field(default=None, description="Only this section name.")
    doc_id: str | None = Field(default=None, description="Only this document.")


class Evidence(BaseModel):
    """A verbatim quote of the document text with its exact character span."""

    quote: str = Field(description="Verbatim text copied from the letter.")
    start: int = Field(description="Start offset of the quote in the normalised document text.")
    end: int = Field(description="End offset (exclusive) of the quote in the normalised text.")
    alignment: Alignment = Field(description="How the quote was matched to the text.")


class ItemEvidence(BaseModel):
    """Grounding for one disputed item: where the letter states each claim."""

    service: Evidence | None = Field(default=None, description="Where the service is named.")
    determination: Evidence | None = Field(
        default=None, description="Where the outcome for this item is stated."
    )
    rationale: Evidence | None = Field(default=None, description="The reviewer's rationale text.")


class Guideline(BaseModel):
    """One guideline the reviewer (or the claims administrator) relied on."""

    source: str = Field(description="Guideline family: MTUS, ODG, ACOEM or other.")
    citation: str = Field(description="The citation text as written in the letter.")
    pages: str | None = Field(default=None, description="Pages or sections cited, if given.")
    cited_by: str = Field(
        default="reviewer",
        description="Who cited it: 'reviewer' (MAXIMUS / IRO) or 'claims_administrator'.",
    )


class DisputedItem(BaseModel):
    """One disputed service and the reviewer's decision on it."""

    service: str = Field(description="The disputed service or portion, as the letter names it.")
    original_request: str | None = Field(
        default=None, description="The original request when only part of it was disputed."
    )
    authorized_portion: str | None = Field(
        default=None, description="The portion the claims administrator already authorised."
    )
    category: Category = Field(default=Category.other, description="Kind of service.")
    determination: Determination = Field(description="upheld, overturned or partially_overturned.")
    medically_necessary: bool | None = Field(
        default=None, description="Whether the reviewer concluded the service is medically necessary."
    )
    guidelines: list[Guideline] = Field(default_factory=list, description="Guidelines cited.")
    rationale: str | None = Field(default=None, description="The reviewer's rationale text.")
    evidence: ItemEvidence = Field(
        default_factory=ItemEvidence, description="Verbatim quotes with spans for the claims above."
    )


class Reviewer(BaseModel):
    """The independent reviewer, as described in the letter."""

    specialty: str | None = Field(default=None, description="Board certification / specialty.")
    licensure: list[str] = Field(default_factory=list, description="States of licensure.")
    qualifications: str | None = Field(default=None, description="Qualifications text.")


class Patient(BaseModel):
    """Demographics stated in the letter (no names are extracted)."""

    age: int | None = Field(default=None, description="Age in years, if stated.")
    sex: str | None = Field(default=None, description="'male' or 'female', if stated.")


class SourceRef(BaseModel):
    """Where a record came from."""

    path: str = Field(description="Path of the source file.")
    doc_id: str = Field(description="Content-hash id of the document.")


class ReviewFlag(BaseModel):
    """Why a record needs a person's look: a self-check that failed, or backends that disagree."""

    check: str = Field(
        description="What raised it: a self-check's name (e.g. 'item_count'), 'disagreement' or 'llm_only'."
    )
    reason: str = Field(description="What does not add up, in words.")
    item_index: int | None = Field(default=None, description="0-based index of the item concerned, if one.")
    start: int | None = Field(default=None, description="Start offset of the letter span to read, if known.")
    end: int | None = Field(default=None, description="End offset (exclusive) of that span, if known.")

    def __str__(self) -> str:
        where = f"item {self.item_index + 1}: " if self.item_index is not None else ""
        return f"{self.check}: {where}{self.reason}"


def review_reasons(flags: list[ReviewFlag]) -> str:
    """Flags as one line of text (the `review_reasons` column of the catalog and the exports)."""
    return "; ".join(str(f) for f in flags)


class Decision(BaseModel):
    """One IMR/IRO decision letter as a typed record."""

    model_config = ConfigDict(use_enum_values=False)

    case_number: str | None = Field(default=None, description="Case number, e.g. CM16-0232543.")
    letter_format: str = Field(description="Letter format: ca_dwc_imr, tx_iro, unknown or a plugin's name.")
    decision_date: str | None = Field(default=None, description="Decision date (ISO yyyy-mm-dd).")
    date_of_injury: str | None = Field(default=None, description="Date of injury (ISO).")
    date_assigned: str | None = Field(default=None, description="Date assigned (ISO).")
    ur_denial_date: str | None = Field(default=None, description="Utilization review denial date.")
    application_received: str | None = Field(default=None, description="Application received date.")
    priority: str | None = Field(default=None, description="Priority, e.g. Standard or Expedited.")
    reviewer: Reviewer = Field(default_factory=Reviewer, description="The reviewer.")
    patient: Patient = Field(default_factory=Patient, description="The patient.")
    diagnoses: list[str] = Field(default_factory=list, description="Diagnoses named in the letter.")
    items: list[DisputedItem] = Field(default_factory=list, description="Disputed items.")
    source: SourceRef = Field(description="Where the record came from.")
    review_flags: list[ReviewFlag] = Field(
        default_factory=list,
        description="Failed self-checks and backend disagreements that a person should review.",
    )
    # Fields of tabular sources (the California DMHC IMR determinations CSV); None for letters.
    report_year: int | None = Field(
        default=None, description="Year the decision was reported (DMHC ReportYear); such rows have no decision date."
    )
    review_type: str | None = Field(
        default=None,
        description="Kind of review: 'medical_necessity', 'experimental_investigational' or 'urgent_care'.",
    )
    diagnosis_category: str | None = Field(default=None, description="Diagnosis category as published, e.g. 'Mental Disorder'.")
    diagnosis_subcategory: str | None = Field(
        default=None, description="Diagnosis subcategory as published, e.g. 'Alcohol Use Disorder'."
    )
    treatment_category: str | None = Field(default=None, description="Treatment category as published, e.g. 'Pharmacy'.")
    treatment_subcategory: str | None = Field(
        default=None, description="Treatment subcategory as published, e.g. 'Weight Control'."
    )
    age_range: str | None = Field(default=None, description="Patient age range as published, e.g. '41 to 50' or '65+'.")
    days_to_review: int | None = Field(default=None, description="Days the review took, when published.")
    days_to_adopt: int | None = Field(default=None, description="Days until the decision was adopted, when published.")
    reviewer_count: int | None = Field(default=None, description="How many independent reviewers decided the case.")
    reviewers_for_outcome: int | None = Field(
        default=None, description="How many of those reviewers found for the outcome (2 in 'Two of the three reviewers ...')."
    )
    published_determination: str | None = Field(
        default=None,
        description="The outcome the publisher's Determination column states: 'upheld' or 'overturned' (the column's"
        " text as published when it is neither); the items' determinations are read from the findings text.",
    )

    @field_validator("review_flags", mode="before")
    @classmethod
    def _flags_from_text(cls, value: object) -> object:
        """Records stored before flags were structured hold plain strings."""
        if isinstance(value, list):
            return [{"check": "legacy", "reason": v} if isinstance(v, str) else v for v in value]
        return value

    @computed_field(description="True when any review flag is set.")  # type: ignore[prop-decorator]
    @property
    def needs_review(self) -> bool:
        return bool(self.review_flags)

    def item_flags(self, n: int) -> list[ReviewFlag]:
        """The flags that concern item n: those naming it and those about the whole letter."""
        return [f for f in self.review_flags if f.item_index in (None, n)]


class AnswerFilters(BaseModel):
    """Restrictions a user puts on a question (the app's filter widgets)."""

    case_number: str | None = Field(default=None, description="Only this case number.")
    letter_format: str | None = Field(default=None, description="Only this letter format.")
    determination: Determination | None = Field(default=None, description="Only items with this outcome.")
    date_from: str | None = Field(default=None, description="Decision date on or after (ISO).")
    date_to: str | None = Field(default=None, description="Decision date on or before (ISO).")

    def for_search(self) -> SearchFilters:
        """The part of these restrictions the search indexes apply."""
        return SearchFilters(case_number=self.case_number, letter_format=self.letter_format)


class Citation(BaseModel):
    """A numbered reference from an answer to an exact passage of a letter."""

    n: int = Field(description="Citation number, sequential in order of first use.")
    doc_id: str = Field(description="Document cited.")
    case_number: str | None = Field(default=None, description="Case number of the cited letter.")
    source: str = Field(description="Path of the cited letter.")
    section: str | None = Field(default=None, description="Section of the cited passage.")
    start: int = Field(description="Start offset of the quote in the normalised letter text.")
    end: int = Field(description="End offset of the quote in the normalised letter text.")
    quote: str = Field(description="The cited text, exactly text[start:end].")


class AnswerSentence(BaseModel):
    """One sentence of an answer and the citations it relies on."""

    text: str = Field(description="The sentence.")
    citations: list[int] = Field(default_factory=list, description="Citation numbers supporting it.")


class CountedItem(BaseModel):
    """One disputed item an answer counted (the full list behind a count or share)."""

    case_number: str | None = Field(default=None, description="Case number of the letter.")
    doc_id: str = Field(description="Document id of the letter.")
    item_index: int = Field(description="0-based index of the item in the letter.")
    service: str = Field(description="The disputed service.")
    determination: str = Field(description="upheld, overturned or partially_overturned.")
    decision_date: str | None = Field(default=None, description="Decision date of the letter (ISO).")
    source: str = Field(description="Path of the letter.")
    needs_review: bool = Field(default=False, description="A review flag names this item or its whole letter.")


class Answer(BaseModel):
    """An answer to a question, every sentence tied to cited passages."""

    question: str = Field(description="The question as asked.")
    text: str = Field(description="The full answer, with [n] citation markers.")
    sentences: list[AnswerSentence] = Field(default_factory=list, description="The answer by sentence.")
    citations: list[Citation] = Field(default_factory=list, description="Cited passages, by number.")
    mode: str = Field(description="'llm' or 'offline'.")
    kind: str = Field(
        description="How it was answered: 'decision', 'count', 'passages', 'llm' or 'none' (nothing found)."
    )
    notes: list[str] = Field(
        default_factory=list,
        description="What limited this answer (a store that was down, an LLM that could not be reached).",
    )
    plan: dict | None = Field(default=None, description="The query plan the question was read as, if any.")
    status: Literal["answered", "clarify", "refused"] = Field(
        default="answered",
        description="answered; clarify: the question was ambiguous and the answer asks back (which date? did you "
        "mean?); refused: it could not be read or asks what the library cannot say, and the answer says why.",
    )
    reading: str = Field(default="", description="How the question was read, in words (the answer's first line).")
    value: Any = Field(
        default=None,
        description="The answer's value when answered: a number (count; share as a fraction 0..1; average), an ISO "
        "date, a text, a list of case numbers, a list of {label, value} for rankings and comparisons, or a boolean.",
    )
    counted: list[CountedItem] = Field(
        default_factory=list,
        description="The items a count, share, group-by or comparison counted, by decision date: all of "
        "them unless the engine was given a lower limit (then the first ones; see counted_total).",
    )
    counted_total: int = Field(default=0, description="How many items were counted in all.")
