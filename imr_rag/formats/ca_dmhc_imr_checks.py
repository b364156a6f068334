"""Self-checks of DMHC IMR records (the plugin's validators), each `(decision, text) -> flags`.

The row's header states the publisher's Determination column; the items' outcomes are read from
the findings text. The two are independent statements of the same outcome, so a disagreement
means the record, the findings or the column needs a person's look. Pure; data model only.
"""

from __future__ import annotations

import re

from imr_rag.schema import Decision, Determination, ReviewFlag

DETERMINATION_LINE = re.compile(r"^Determination:[ \t]*(?P<value>[^\n]*?)[ \t]*$", re.MULTILINE)


def column_outcome(value: str) -> str | None:
    """The Determination column as an outcome: 'Overturned Decision of Health Plan' is 'overturned',
    'Upheld Decision of Health Plan' 'upheld'; another value is kept as published."""
    lowered = value.strip().lower()
    if not lowered:
        return None
    if "overturn" in lowered or "revers" in lowered:
        return Determination.overturned.value
    if "upheld" in lowered or "uphold" in lowered:
        return Determination.upheld.value
    return value.strip()


def determination_column(decision: Decision, text: str) -> list[ReviewFlag]:
    """Every item's outcome agrees with the row's Determination column (a partial overturn is an
    overturn there: the column has only the two values)."""
    m = DETERMINATION_LINE.search(text[:3000])
    published = column_outcome(m.group("value")) if m else None
    if published not in (Determination.upheld.value, Determination.overturned.value):
        return []
    flags = []
    for n, item in enumerate(decision.items):
        said = Determination.overturned.value if item.determination == Determination.partially_overturned else item.determination.value
        if said != published:
            ev = item.evidence.determination
            flags.append(flag(
                "determination_column",
                f"the findings say '{item.determination.value}', the Determination column '{m.group('value')}'",
                n, (ev.start, ev.end) if ev else (m.start("value"), m.end("value")),
            ))
    return flags


def outcome_read(decision: Decision, text: str) -> list[ReviewFlag]:
    """A row decides at least one treatment: a record without items read no outcome in the findings."""
    if decision.items:
        return []
    return [flag("outcome_read", "no outcome statement was read in the findings, so the record has no items")]


def reviewer_split(decision: Decision, text: str) -> list[ReviewFlag]:
    """The reviewers for the outcome are a majority of the reviewers."""
    count, votes = decision.reviewer_count, decision.reviewers_for_outcome
    if count is None or votes is None:
        return []
    if not 0 < votes <= count or votes * 2 <= count:
        return [flag("reviewer_split", f"{votes} of {count} reviewers is not a majority for the outcome")]
    return []


def flag(check: str, reason: str, item_index: int | None = None, span: tuple[int, int] | None = None) -> ReviewFlag:
    start, end = span if span else (None, None)
    return ReviewFlag(check=check, reason=reason, item_index=item_index, start=start, end=end)


VALIDATORS = (determination_column, outcome_read, reviewer_split)
