"""What executing a plan gives back: the computed value and the rows it rests on.

`execute.run_plan` returns a `Result`; `answer` writes it out with citations to the rows'
evidence spans. Plain data, no behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    """One counted item or letter, with where the letter states what was counted."""

    doc_id: str
    case_number: str | None
    source: str
    decision_date: str | None
    item_index: int | None = None
    service: str | None = None
    determination: str | None = None
    value: str | float | int | None = None
    """The field value this row contributed (an age, a date, a duration in days), when one did."""
    span: tuple[int, int] | None = None
    """Start and end, in the letter's normalised text, of the passage that states it (an item's
    outcome line; for letter facts, where the fact is printed, when known)."""
    needs_review: bool = False


@dataclass(frozen=True)
class Group:
    """One group of a ranking or one segment of a comparison."""

    label: str
    value: float | int | str | None
    """The measure of the group (a date for earliest/latest)."""
    n: int
    """Rows in the group (the denominator of a share)."""
    rows: list[Row] = field(default_factory=list)


@dataclass
class Result:
    """The value of a plan and its evidence.

    value: int (count), float in 0..1 (share), float (avg/median), a number or ISO date
    (min/max/earliest/latest), None when nothing qualified; for rank and compare see `groups`;
    for a fact, the field's value (a list field as a Python list; an item field: one per item).
    rows: the rows counted (all of them up to the executor's limit; `total` says how many in all).
    tied: for rank, the labels tied at the last kept place (all kept)."""

    value: float | int | str | list | None
    total: int
    rows: list[Row] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    denominator: int | None = None
    tied: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
