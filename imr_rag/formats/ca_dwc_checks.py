"""Self-checks of California DWC IMR records against the letter's layout (the plugin's validators).

The decisions part of a letter is a run of items, each an outcome line ("<service>: Upheld")
followed by its body (guideline and rationale labels). Reading that structure afresh, apart from
the parser, gives the number of items the letter decides and the outcome of each; a record that
disagrees is flagged. Pure; depends on the data model only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imr_rag.schema import Decision, Determination, ReviewFlag

DECISIONS_HEADING = re.compile(r"IMR\s+ISSUES,?\s+DECISIONS,?\s+AND\s+RATIONALES?", re.I | re.M)
LABELS = r"(?:claims\s+administrator\s+guideline|maximus\s+guideline|decision\s+rationale)[ \t]*:"
# "<heading>: Upheld" ending its line, or run together with the body's first label when the
# letter's lines were re-flowed ("...: Upheld Claims Administrator guideline: ...").
OUTCOME_LINE = re.compile(
    r":[ \t]*(?:\n[ \t]*)?(?P<outcome>partially\s+overturned|overturned|upheld)[ \t]*\.?[ \t]*"
    rf"(?:$|(?={LABELS}))",
    re.I | re.M,
)
# A body label opens a line, or directly follows the outcome it belongs to.
BODY_LABEL = re.compile(rf"(?:^|(?<=upheld)|(?<=overturned))[ \t]*{LABELS}", re.I | re.M)


@dataclass(frozen=True)
class OutcomeStatement:
    start: int
    end: int
    determination: Determination


def outcome_statements(text: str) -> tuple[list[OutcomeStatement], int]:
    """The outcome lines that open an item body, and how many bodies have no outcome line.

    An outcome-looking line inside a rationale (a quoted earlier decision) opens no body, so it is
    not an outcome statement; a letter without body labels counts every outcome line.
    """
    heading = DECISIONS_HEADING.search(text)
    if heading is None:
        return [], 0
    region = heading.end()
    outcomes = list(OUTCOME_LINE.finditer(text, region))
    labels = [m.start() for m in BODY_LABEL.finditer(text, region)]
    if not labels:
        return [_statement(text, m) for m in outcomes], 0
    statements = []
    for k, m in enumerate(outcomes):
        upto = outcomes[k + 1].start() if k + 1 < len(outcomes) else len(text)
        if any(m.end() <= at < upto for at in labels):
            statements.append(_statement(text, m))
    first = statements[0].start if statements else len(text)
    orphan_bodies = 1 if any(at < first for at in labels) else 0
    return statements, orphan_bodies


def _statement(text: str, m: re.Match[str]) -> OutcomeStatement:
    line_start = text.rfind("\n", 0, m.start()) + 1
    words = re.sub(r"\s+", "_", m.group("outcome").lower())
    return OutcomeStatement(start=line_start, end=m.end(), determination=Determination(words))


def item_count(decision: Decision, text: str) -> list[ReviewFlag]:
    """As many items as outcome statements, each with the outcome its statement gives."""
    statements, orphans = outcome_statements(text)
    flags = []
    if orphans:
        heading = DECISIONS_HEADING.search(text)
        flags.append(flag(
            "item_count", "an item body (guideline/rationale) comes before any outcome line",
            span=(heading.start(), heading.end()) if heading else None,
        ))
    if len(statements) != len(decision.items):
        where = (statements[0].start, statements[-1].end) if statements else None
        flags.append(flag(
            "item_count",
            f"the record has {len(decision.items)} items, the letter {len(statements)} outcome statements",
            span=where,
        ))
        return flags
    for n, (item, statement) in enumerate(zip(decision.items, statements)):
        if item.determination != statement.determination:
            flags.append(flag(
                "item_count",
                f"outcome line {n + 1} says '{statement.determination.value}', the record '{item.determination.value}'",
                n, (statement.start, statement.end),
            ))
    return flags




# What may stand just before a heading: the end of a sentence or label (the previous rationale,
# "set forth below:"), a closing quote or bracket after one.
HEADING_OPENER = ".:;!?\"'”’)]"
OUTCOME_END = re.compile(r"(?:upheld|overturned)$", re.I)  # a line that looked like an outcome


def service_start(decision: Decision, text: str) -> list[ReviewFlag]:
    """A service named by a whole heading starts where the heading starts: just after the end of
    a sentence or label, not inside a line the heading continues ("... set forth below: MRI of the
    right" + "knee: Upheld" read as "knee")."""
    flags = []
    for n, item in enumerate(decision.items):
        ev = item.evidence.service
        if ev is None or item.original_request is not None or not 0 < ev.start <= len(text):
            continue
        before = text[: ev.start].rstrip()
        if before and before[-1] not in HEADING_OPENER and not OUTCOME_END.search(before[-30:]):
            line_start = before.rfind("\n", 0, len(before)) + 1
            flags.append(flag(
                "service_start",
                f"the service '{item.service[:60]}' starts inside its heading, after '{before[line_start:][-50:]}'",
                n, (line_start, ev.end),
            ))
    return flags


def flag(check: str, reason: str, item_index: int | None = None, span: tuple[int, int] | None = None) -> ReviewFlag:
    start, end = span if span else (None, None)
    return ReviewFlag(check=check, reason=reason, item_index=item_index, start=start, end=end)

VALIDATORS = (item_count, service_start)
