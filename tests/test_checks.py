"""Self-checks on extracted records: structured review flags, the validators, and where flags show."""

from __future__ import annotations

from imr_rag.schema import Decision, ReviewFlag, SourceRef


def _decision(**fields) -> Decision:
    return Decision(letter_format="ca_dwc_imr", source=SourceRef(path="x.txt", doc_id="d"), **fields)


def test_needs_review_follows_the_flags_and_old_text_flags_still_load() -> None:
    assert not _decision().needs_review
    flagged = _decision(review_flags=[ReviewFlag(check="date_order", reason="injury after decision", start=3, end=9)])
    assert flagged.needs_review and flagged.model_dump()["needs_review"] is True
    again = Decision.model_validate_json(flagged.model_dump_json())
    assert again == flagged
    old = Decision.model_validate({**_decision().model_dump(exclude={"needs_review"}), "review_flags": ["item 1 (MRI): not found by the LLM"]})
    assert old.review_flags == [ReviewFlag(check="legacy", reason="item 1 (MRI): not found by the LLM")]
    assert str(ReviewFlag(check="service_name", reason="too long", item_index=0)) == "service_name: item 1: too long"
