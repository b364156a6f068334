"""Questions about the decisions catalog: selecting, matching and counting disputed items.

`CatalogQuery` is the typed tool an LLM fills in for counting and comparison questions; the
offline engine builds the same object from the question's words. Selection itself is pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from imr_rag.schema import AnswerFilters, Category, Determination
from imr_rag.textutil import content_words, idf_weights, overlap_score, words

MATCH_THRESHOLD = 0.45


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


class CatalogQuery(BaseModel):
    """A query over the extracted decisions: which items to count, and how to group them."""

    service_terms: list[str] = Field(
        default_factory=list,
        description="Words that must all appear in the disputed service, e.g. ['baclofen', 'pump'].",
    )
    category: Category | None = Field(default=None, description="Only services of this category.")
    determination: Determination | None = Field(default=None, description="Only items with this outcome.")
    case_number: str | None = Field(default=None, description="Only this letter.")
    partly_authorized: bool = Field(
        default=False,
        description="Only items where the claims administrator had already authorised part of the request.",
    )
    count_letters: bool = Field(default=False, description="Count letters rather than disputed items.")
    group_by: Literal["none", "specialty", "category", "determination"] = Field(
        default="none", description="Group the counted items by reviewer specialty, category or outcome."
    )


def outcome_in(question: str) -> Determination | None:
    """The single outcome a question asks about, if it names exactly one."""
    q = question.lower()
    found = set()
    if re.search(r"partial(ly)?\s+overturn", q):
        found.add(Determination.partially_overturned)
        q = re.sub(r"partial(ly)?\s+overturn\w*", " ", q)
    if re.search(r"\boverturn", q):
        found.add(Determination.overturned)
    if re.search(r"\buph(e|o)ld|\bdenied\b|\bdenial", q):
        found.add(Determination.upheld)
    return found.pop() if len(found) == 1 else None


def is_count_question(question: str) -> bool:
    return bool(re.search(r"\bhow\s+many\b|\bnumber\s+of\b|\bcount\b|\bhow\s+often\b", question, re.I))


def group_in(question: str) -> str:
    q = question.lower()
    if "specialt" in q:
        return "specialty"
    if re.search(r"\bcategor|\bkinds?\s+of\s+(service|treatment)", q):
        return "category"
    return "none"


# Words that name what is counted rather than which service: "how many disputed items ...".
COUNTED_WORDS = frozenset("disputed item items reviewed service services treatment treatments".split())
PARTLY_AUTHORIZED = re.compile(r"\b(part|portion|partially)\b.*\bauthori[sz]ed|\bauthori[sz]ed\b.*\b(part|portion)\b", re.I)
COUNT_LETTERS = re.compile(r"how\s+many\s+(letters|cases|decisions)\b|in\s+how\s+many\s+(letters|cases)", re.I)
GROUPING_WORDS = frozenset(
    "specialty specialties category categories kind kinds type types service services treatment treatments "
    "reviewer reviewers by per each".split()
)
CATEGORY_WORDS = {
    **{c.value.lower(): c for c in Category},
    **{c.value.lower() + "s": c for c in Category},
    "surgeries": Category.surgery, "medications": Category.medication, "drugs": Category.medication,
    "therapies": Category.therapy, "equipment": Category.dme,
}


def query_from_question(question: str, case_number: str | None = None) -> CatalogQuery:
    """The offline reading of a counting or grouping question (about `case_number`, if given).

    A question whose only subject word is a category ("how many imaging requests ...") counts
    that category; otherwise every subject word must appear in the service.
    """
    group_by = group_in(question)
    partly = bool(PARTLY_AUTHORIZED.search(question))
    case_word = case_number.lower() if case_number else None
    terms = [w for w in content_words(question) if w != case_word and w not in COUNTED_WORDS]
    if partly:
        terms = []
    if group_by != "none":
        terms = [t for t in terms if t not in GROUPING_WORDS]
    category = CATEGORY_WORDS.get(terms[0]) if len(terms) == 1 else None
    return CatalogQuery(
        service_terms=[] if category else terms,
        category=category,
        determination=outcome_in(question),
        case_number=case_number,
        partly_authorized=partly,
        count_letters=bool(COUNT_LETTERS.search(question)),
        group_by=group_by,
    )


def passes(item: ItemRef, filters: AnswerFilters) -> bool:
    if filters.case_number and (item.case_number or "").upper() != filters.case_number.upper():
        return False
    if filters.letter_format and item.letter_format != filters.letter_format:
        return False
    if filters.determination and item.determination != Determination(filters.determination).value:
        return False
    if filters.date_from and (item.decision_date is None or item.decision_date < filters.date_from):
        return False
    if filters.date_to and (item.decision_date is None or item.decision_date > filters.date_to):
        return False
    return True


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def select(items: list[ItemRef], query: CatalogQuery) -> list[ItemRef]:
    """Items satisfying every part of the query (service terms matched word by word, plural-blind)."""
    terms = {_stem(t.lower()) for t in query.service_terms if t.strip()}
    chosen = []
    for item in items:
        service = {_stem(w) for w in words(item.service)}
        if not terms <= service:
            continue
        if query.category and item.category != query.category.value:
            continue
        if query.determination and item.determination != query.determination.value:
            continue
        if query.case_number and (item.case_number or "").upper() != query.case_number.upper():
            continue
        if query.partly_authorized and not item.partly_authorized:
            continue
        chosen.append(item)
    return chosen


def best_matches(items: list[ItemRef], question: str) -> list[tuple[ItemRef, float]]:
    """Items whose service the question names, best first (near ties kept: the same service in
    several letters is several answers). Among equal scores, a service the question quotes word
    for word ("X-rays lumbar spine", not "X-rays of the lumbar spine") comes first."""
    q_words = {_stem(w) for w in content_words(question)}
    if not q_words:
        return []
    service_words = [{_stem(w) for w in content_words(i.service)} for i in items]
    idf = idf_weights(service_words)
    scored = []
    for item, s_words in zip(items, service_words):
        if not s_words:
            continue
        score = overlap_score(q_words, s_words, idf, default_idf=max(idf.values(), default=1.0))
        if score >= MATCH_THRESHOLD:
            scored.append((item, score))
    if not scored:
        return []
    top = max(s for _, s in scored)
    asked = " ".join(words(question))
    quoted = lambda item: " ".join(words(item.service)) in asked  # noqa: E731
    return sorted(
        ((i, s) for i, s in scored if s >= top - 0.05), key=lambda p: (-round(p[1], 9), not quoted(p[0]))
    )
