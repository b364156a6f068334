"""The record an LLM fills for one letter or table row, and its conversion to a Decision.

The model answers an LLM-facing record (`LLMDecision`, or `LLMRowDecision` for a row of the DMHC
IMR determinations table) whose items carry verbatim quotes instead of spans. Validators check
every quote against the document (`align_quote`); accepted quotes become Evidence spans. Field
descriptions come from the data model (`imr_rag.schema`), so the prompt and the model agree.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo

from imr_rag.errors import ExtractionFailed
from imr_rag.extract.align import align_quote
from imr_rag.schema import (
    Category,
    Decision,
    Determination,
    DisputedItem,
    Document,
    Evidence,
    Guideline,
    ItemEvidence,
    Patient,
    Reviewer,
    SourceRef,
)

# -- the record the model fills ---------------------------------------------------------------


def _described(model: type[BaseModel], name: str) -> str | None:
    """Reuse the schema's field description so the prompt and the data model cannot drift."""
    return model.model_fields[name].description


def _quote_in_letter(value: str, info: ValidationInfo) -> str:
    text = (info.context or {}).get("text")
    if text is None:
        return value
    if align_quote(text, value) is None:
        raise ValueError(
            f"quote not found in the letter: {value!r}. Copy the passage verbatim from the letter."
        )
    return value


# A string the letter must contain (checked against validation context {"text": letter text}).
VerbatimQuote = Annotated[str, AfterValidator(_quote_in_letter)]


class LLMDisputedItem(BaseModel):
    """One disputed service, its outcome, and verbatim quotes that ground them."""

    service: str = Field(description=_described(DisputedItem, "service"))
    original_request: str | None = Field(
        default=None, description=_described(DisputedItem, "original_request")
    )
    authorized_portion: str | None = Field(
        default=None, description=_described(DisputedItem, "authorized_portion")
    )
    category: Category = Field(default=Category.other, description=_described(DisputedItem, "category"))
    determination: Determination = Field(description=_described(DisputedItem, "determination"))
    medically_necessary: bool | None = Field(
        default=None, description=_described(DisputedItem, "medically_necessary")
    )
    guidelines: list[Guideline] = Field(
        default_factory=list, description=_described(DisputedItem, "guidelines")
    )
    service_quote: VerbatimQuote = Field(
        description="Verbatim passage of the letter naming the service."
    )
    determination_quote: VerbatimQuote = Field(
        description="Verbatim passage of the letter stating the outcome for this item."
    )
    rationale_quote: VerbatimQuote | None = Field(
        default=None,
        description="Verbatim sentence(s) of the reviewer's rationale for this item, or null.",
    )


class LLMDecision(BaseModel):
    """The decision letter as a record: every Decision field the letter states, items quoted."""

    case_number: str | None = Field(default=None, description=_described(Decision, "case_number"))
    decision_date: str | None = Field(default=None, description=_described(Decision, "decision_date"))
    date_of_injury: str | None = Field(default=None, description=_described(Decision, "date_of_injury"))
    date_assigned: str | None = Field(default=None, description=_described(Decision, "date_assigned"))
    ur_denial_date: str | None = Field(default=None, description=_described(Decision, "ur_denial_date"))
    application_received: str | None = Field(
        default=None, description=_described(Decision, "application_received")
    )
    priority: str | None = Field(default=None, description=_described(Decision, "priority"))
    reviewer: Reviewer = Field(default_factory=Reviewer, description=_described(Decision, "reviewer"))
    patient: Patient = Field(default_factory=Patient, description=_described(Decision, "patient"))
    diagnoses: list[str] = Field(default_factory=list, description=_described(Decision, "diagnoses"))
    items: list[LLMDisputedItem] = Field(
        default_factory=list, description="Every disputed item, in the order the letter lists them."
    )


class LLMRowDecision(LLMDecision):
    """One row of the California DMHC IMR determinations table as a record: the letter fields
    the row states, its published columns and what its findings say (items quoted from them)."""

    report_year: int | None = Field(default=None, description=_described(Decision, "report_year"))
    review_type: Literal["medical_necessity", "experimental_investigational", "urgent_care"] | None = Field(
        default=None, description=_described(Decision, "review_type"))
    diagnosis_category: str | None = Field(default=None, description=_described(Decision, "diagnosis_category"))
    diagnosis_subcategory: str | None = Field(default=None, description=_described(Decision, "diagnosis_subcategory"))
    treatment_category: str | None = Field(default=None, description=_described(Decision, "treatment_category"))
    treatment_subcategory: str | None = Field(default=None, description=_described(Decision, "treatment_subcategory"))
    age_range: str | None = Field(default=None, description=_described(Decision, "age_range"))
    days_to_review: int | None = Field(default=None, description=_described(Decision, "days_to_review"))
    days_to_adopt: int | None = Field(default=None, description=_described(Decision, "days_to_adopt"))
    reviewer_count: int | None = Field(default=None, ge=1, description=_described(Decision, "reviewer_count"))
    reviewers_for_outcome: int | None = Field(default=None, ge=1, description=_described(Decision, "reviewers_for_outcome"))
    published_determination: Literal["upheld", "overturned"] | None = Field(
        default=None, description=_described(Decision, "published_determination"))


ROW_FORMATS = ("ca_dmhc_imr",)
"""Formats whose documents are table rows, extracted into `LLMRowDecision`."""


def response_model_for(letter_format: str) -> type[LLMDecision]:
    """The record the model fills for a document of this format."""
    return LLMRowDecision if letter_format in ROW_FORMATS else LLMDecision


def prompt_for(letter_format: str) -> str:
    """The prompt template that asks for that record (prompts/NAME.md)."""
    return "extract_dmhc_row" if letter_format in ROW_FORMATS else "extract_decision"


# -- from the model's answer to the schema record ---------------------------------------------


def to_decision(answer: LLMDecision, document: Document) -> Decision:
    """Turn a validated answer into a Decision whose evidence spans slice `document.text`."""
    items: list[DisputedItem] = []
    cursor = 0
    for item in answer.items:
        converted = _to_item(item, document, cursor)
        items.append(converted)
        cursor = max(ev.end for ev in _spans(converted.evidence))
    letter_fields = answer.model_dump(exclude={"items", "reviewer", "patient"})
    return Decision(
        **letter_fields,
        reviewer=answer.reviewer,
        patient=answer.patient,
        letter_format=document.letter_format,
        items=items,
        source=SourceRef(path=document.path, doc_id=document.doc_id),
    )


def _to_item(item: LLMDisputedItem, document: Document, cursor: int) -> DisputedItem:
    """Align the quotes; items are listed in order, so each is looked for after the previous."""
    determination = _align(document, item.determination_quote, cursor)
    service = _align(document, item.service_quote, determination.start)
    rationale = (
        _align(document, item.rationale_quote, determination.end) if item.rationale_quote else None
    )
    fields = item.model_dump(exclude={"service_quote", "determination_quote", "rationale_quote"})
    return DisputedItem(
        **fields,
        rationale=rationale.quote if rationale else None,
        evidence=ItemEvidence(service=service, determination=determination, rationale=rationale),
    )


def _align(document: Document, quote: str, hint: int) -> Evidence:
    evidence = align_quote(document.text, quote, hint=hint)
    if evidence is None:  # validators passed, so only a context-less validation gets here
        raise ExtractionFailed(document.path, f"quote not found in the letter: {quote!r}")
    return evidence


def _spans(evidence: ItemEvidence) -> list[Evidence]:
    return [ev for ev in (evidence.service, evidence.determination, evidence.rationale) if ev]
