"""The typed query plan: what a question asks of the decisions catalog.

`CatalogQuery` is the one plan both readers fill: the LLM (as a tool, see `chat_llm`) and the
offline parser (`imr_rag.question_parser`). `imr_rag.catalog_sql` executes it in SQL. A plan
has filters (which items count), and what to return (a list, a count, a share, a group-by, a
comparison of two services, or one field of one case).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from imr_rag.schema import Category, Determination

Returns = Literal["list", "count", "share", "group", "compare", "field", "decision"]
GroupKey = Literal["none", "month", "quarter", "year", "category", "specialty", "guideline", "determination"]
CaseField = Literal[
    "decision_date", "date_of_injury", "date_assigned", "ur_denial_date", "application_received",
    "reviewer_specialty", "reviewer_licensure", "guidelines", "rationale", "patient_age", "patient_sex",
    "diagnoses", "item_count", "determination",
]
GuidelineFamily = Literal["MTUS", "ODG", "ACOEM", "other"]


class CatalogQuery(BaseModel):
    """A question about the extracted decisions, as a plan: filters, then what to return.

    Only current decisions count (a case's newest letter); every filter left empty is no
    constraint. Dates are ISO (yyyy-mm-dd) and inclusive.
    """

    model_config = ConfigDict(extra="forbid")

    returns: Returns = Field(
        default="count",
        description="list: the matching items; count: how many; share: how many of the matching items had "
        "`determination` (x of n and %); group: counts and shares per `group_by`; compare: the share for each of "
        "the two services in `compare`; field: one `field` of one case; decision: the outcome of a named item.",
    )
    case_number: str | None = Field(default=None, description="Only this letter, e.g. CM16-0232543.")
    service_terms: list[str] = Field(
        default_factory=list,
        description="Words or names the disputed service must contain, e.g. ['lumbar', 'MRI'] (synonyms such as "
        "'magnetic resonance imaging' or brand/generic drug names match too).",
    )
    category: Category | None = Field(default=None, description="Only services of this category.")
    determination: Determination | None = Field(
        default=None, description="Only items with this outcome (for 'share', 'group' and 'compare': the outcome whose share is wanted)."
    )
    date_from: dt.date | None = Field(default=None, description="Decision date on or after (ISO yyyy-mm-dd).")
    date_to: dt.date | None = Field(default=None, description="Decision date on or before (ISO yyyy-mm-dd).")
    reviewer_specialty: str | None = Field(
        default=None, description="Only letters whose reviewer has this specialty, e.g. 'Orthopedic Surgery'."
    )
    guideline_family: GuidelineFamily | None = Field(
        default=None, description="Only items where the reviewer cited this guideline family."
    )
    letter_format: str | None = Field(default=None, description="Only this letter format: ca_dwc_imr or tx_iro.")
    partly_authorized: bool = Field(
        default=False,
        description="Only items where the claims administrator had already authorised part of the request.",
    )
    count_letters: bool = Field(default=False, description="Count letters rather than disputed items.")
    group_by: GroupKey = Field(
        default="none", description="For 'group': group by decision month, quarter, year, category, reviewer "
        "specialty, guideline family or outcome."
    )
    compare: list[str] = Field(
        default_factory=list, description="For 'compare': the two services compared, e.g. ['acupuncture', 'chiropractic']."
    )
    field: CaseField | None = Field(default=None, description="For 'field': which fact of the case is asked for.")

    @model_validator(mode="after")
    def _complete(self) -> CatalogQuery:
        if self.group_by != "none" and self.returns == "count":
            self.returns = "group"  # a count broken down by something is a group-by
        if self.returns == "group" and self.group_by == "none":
            raise ValueError("returns 'group' needs group_by")
        if self.returns == "compare" and len(self.compare) != 2:
            raise ValueError("returns 'compare' needs exactly two services in compare")
        if self.returns == "field" and self.field is None:
            raise ValueError("returns 'field' needs field")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}")
        return self

    def describe(self) -> str:
        """The plan in words: how the question was read."""
        what = {
            "list": "list the items", "count": "count the letters" if self.count_letters else "count the items",
            "share": "the share of items", "group": f"items by {self.group_by}",
            "compare": "compare " + " and ".join(self.compare), "decision": "the outcome of the item",
            "field": f"the {str(self.field).replace('_', ' ')}",
        }[self.returns]
        parts = [what]
        if self.returns in ("share", "group", "compare") and self.determination:
            parts.append(f"{self.determination.value.replace('_', ' ')}")
        elif self.determination:
            parts.append(f"with outcome {self.determination.value.replace('_', ' ')}")
        if self.service_terms:
            parts.append("for " + " ".join(self.service_terms))
        if self.category:
            parts.append(f"in category {self.category.value}")
        if self.case_number:
            parts.append(f"in case {self.case_number}")
        if self.date_from or self.date_to:
            parts.append(f"decided {date_span(self.date_from, self.date_to)}")
        if self.reviewer_specialty:
            parts.append(f"reviewed by {self.reviewer_specialty}")
        if self.guideline_family:
            parts.append(f"citing {self.guideline_family}")
        if self.letter_format:
            parts.append(f"in {self.letter_format} letters")
        if self.partly_authorized:
            parts.append("partly authorised already")
        return ", ".join(parts)


def date_span(start: dt.date | None, end: dt.date | None) -> str:
    if start and end:
        return f"{start.isoformat()} to {end.isoformat()}" if start != end else f"on {start.isoformat()}"
    if start:
        return f"on or after {start.isoformat()}"
    return f"on or before {end.isoformat()}" if end else "at any date"


@dataclass(frozen=True)
class ItemRef:
    """A disputed item as the catalog lists it, with where its outcome is stated."""

    doc_id: str
    item_index: int
    service: str
    partly_authorized: bool
    category: str
    determination: str
    guideline_sources: tuple[str, ...]
    determination_start: int | None
    determination_end: int | None
    case_number: str | None
    letter_format: str
    decision_date: str | None
    reviewer_specialty: str | None
    source: str
    needs_review: bool = False
