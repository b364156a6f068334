"""Pure: combine a rules record and an LLM record into one, flagging disagreements.

Rules are trusted for what they parse from fixed layout (items, determinations, dates, spans);
the LLM fills what rules leave empty (category, diagnoses, patient, reviewer details). Where both
state a determination or a date and they differ, the record keeps the rules value and carries a
flag for human review instead of silently picking one.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from imr_rag.schema import Category, Decision, DisputedItem, ReviewFlag

DATE_FIELDS = ("decision_date", "date_of_injury", "date_assigned", "ur_denial_date", "application_received")
MATCH_THRESHOLD = 0.6


def service_similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a.lower(), b.lower()).ratio()


def match_items(left: list[str], right: list[str], threshold: float = MATCH_THRESHOLD) -> dict[int, int]:
    """One-to-one pairs (left index -> right index) by service similarity, best pairs first."""
    scored = sorted(
        ((service_similarity(a, b), i, j) for i, a in enumerate(left) for j, b in enumerate(right)),
        reverse=True,
    )
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for score, i, j in scored:
        if score < threshold:
            break
        if i not in pairs and j not in used:
            pairs[i] = j
            used.add(j)
    return pairs


def merge_decisions(rules: Decision, llm: Decision) -> Decision:
    flags = list(rules.review_flags)
    update: dict = {}
    for field in DATE_FIELDS + ("case_number",):
        r, m = getattr(rules, field), getattr(llm, field)
        if r is None and m is not None:
            update[field] = m
        elif r is not None and m is not None and r != m:
            flags.append(ReviewFlag(check="disagreement", reason=f"{field}: rules={r} llm={m}"))
    if not rules.diagnoses:
        update["diagnoses"] = llm.diagnoses
    update["patient"] = rules.patient.model_copy(
        update={k: v for k, v in llm.patient.model_dump().items() if getattr(rules.patient, k) is None}
    )
    update["reviewer"] = rules.reviewer.model_copy(
        update={
            k: v
            for k, v in llm.reviewer.model_dump().items()
            if not getattr(rules.reviewer, k) and v
        }
    )
    pairs = match_items([i.service for i in rules.items], [i.service for i in llm.items])
    items: list[DisputedItem] = []
    for n, item in enumerate(rules.items):
        other = llm.items[pairs[n]] if n in pairs else None
        if other is None:
            flags.append(_item_flag(item, n, "not found by the LLM"))
            items.append(item)
            continue
        if other.determination != item.determination:
            flags.append(_item_flag(
                item, n, f"determination rules={item.determination.value} llm={other.determination.value}"
            ))
        items.append(item.model_copy(update=_fill_item(item, other)))
    matched = set(pairs.values())
    flags.extend(
        ReviewFlag(
            check="disagreement", reason=f"LLM found an item the rules did not: {extra.service}",
            **_span(extra.evidence.service or extra.evidence.determination),
        )
        for j, extra in enumerate(llm.items)
        if j not in matched
    )
    update["items"] = items
    update["review_flags"] = flags
    return rules.model_copy(update=update)


def _span(evidence) -> dict:
    return {"start": evidence.start, "end": evidence.end} if evidence is not None else {}


def _item_flag(item: DisputedItem, n: int, what: str) -> ReviewFlag:
    return ReviewFlag(
        check="disagreement", reason=f"{item.service}: {what}", item_index=n,
        **_span(item.evidence.determination or item.evidence.service),
    )


def _fill_item(item: DisputedItem, other: DisputedItem) -> dict:
    fill: dict = {}
    if other.category != Category.other:
        fill["category"] = other.category
    if not item.guidelines and other.guidelines:
        fill["guidelines"] = other.guidelines
    for field in ("original_request", "authorized_portion", "rationale"):
        if getattr(item, field) is None and getattr(other, field) is not None:
            fill[field] = getattr(other, field)
    return fill
