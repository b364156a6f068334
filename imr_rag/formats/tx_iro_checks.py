"""Self-checks of Texas IRO records against the letter's review outcome (the plugin's validators).

The REVIEW OUTCOME part has one box per outcome (Upheld, Overturned, Partially Overturned),
rendered many ways: "[X] Upheld", "X Upheld", "☒ Upheld", "Upheld [X]", the mark on a line of its
own before or after the label. Exactly one is marked, or no box is and the prose states the
outcome. Pure; depends on the data model only.
"""

from __future__ import annotations

import re

from imr_rag.formats.spans import outcome_words
from imr_rag.schema import Decision, Determination, ReviewFlag

REVIEW_OUTCOME = re.compile(r"\bREVIEW\s+OUTCOME\s*:|^[ \t]*REVIEW\s+OUTCOME\b", re.I | re.M)
NEXT_HEADING = re.compile(
    r"(?:INFORMATION\s+PROVIDED|PATIENT\s+CLINICAL\s+HISTORY|ANALYSIS\s+AND\s+EXPLANATION)", re.M
)
LABEL = re.compile(r"(?P<label>partially[\s-]+overturned|overturned|upheld)(?:[ \t]*\([^)\n]*\))?", re.I)
MARK = "Xx\u2612\u2713\u2714\u25a0"
BOX = rf"[\[(]?[ \t]*[{MARK}\u2610]?[ \t]*[\])]?"
MARKED_BOX = re.compile(rf"^[ \t]*(?:[\[(][ \t]*[{MARK}][ \t]*[\])]|[{MARK}])[ \t]*$")
ANY_BOX = re.compile(rf"^[ \t]*{BOX}[ \t]*$")
BOX_ONLY_LINE = re.compile(rf"^[ \t]*(?:[\[(][ \t]*[{MARK}]?[ \t]*[\])]|[{MARK}\u2610])[ \t]*$")
PROSE_OUTCOME = re.compile(
    r"should\s+be\s*:?\s*(?P<label>partially[\s-]+overturned|overturned|upheld)\b", re.I
)


def outcome_region(text: str) -> tuple[int, int] | None:
    m = REVIEW_OUTCOME.search(text)
    if m is None:
        return None
    end = NEXT_HEADING.search(text, m.end())
    return m.start(), end.start() if end else min(len(text), m.start() + 3000)


def marked_outcomes(text: str, start: int, end: int) -> list[tuple[Determination, int, int]]:
    """Outcome labels whose box is marked, in any rendering, with the label's span."""
    lines = [(m.start(), m.end()) for m in re.finditer(r"^[^\n]*", text[:end], re.M) if m.start() >= start]
    per_line = [len(list(LABEL.finditer(text, a, b))) for a, b in lines]
    if any(n > 1 for n in per_line):
        return _marked_in_run(text, start, end)
    labels = []  # (line index, match) of lines holding an outcome label and only box furniture
    for i, (a, b) in enumerate(lines):
        line = text[a:b]
        m = LABEL.search(line)
        if m and ANY_BOX.match(line[: m.start()]) and ANY_BOX.match(line[m.end():]):
            labels.append((i, m))
    if not labels:
        return []
    found = []
    first = labels[0][0]
    boxes_before = first > 0 and BOX_ONLY_LINE.match(text[slice(*lines[first - 1])]) is not None
    for i, m in labels:
        a, b = lines[i]
        line = text[a:b]
        marked = bool(MARKED_BOX.match(line[: m.start()]) or MARKED_BOX.match(line[m.end():]))
        if not marked:
            j = i - 1 if boxes_before else i + 1
            if 0 <= j < len(lines):
                marked = MARKED_BOX.match(text[slice(*lines[j])]) is not None
        if marked:
            found.append((_determination(m.group("label")), a + m.start(), a + m.end()))
    return found


RUN_TOKEN = re.compile(
    r"(?P<label>partially[\s-]+overturned|overturned|upheld)(?:\s*\([^)]{0,80}\))?"
    rf"|(?P<box>[\[(][ \t]*(?P<mark>[{MARK}])?[ \t]*[\])]|(?<!\S)(?P<bare>[{MARK}\u2610])(?!\S))",
    re.I,
)


def _marked_in_run(text: str, start: int, end: int) -> list[tuple[Determination, int, int]]:
    """Boxes and labels run together on shared lines: a box goes with the label after it when the
    run opens with a box, else with the label before it."""
    tokens = []
    for m in RUN_TOKEN.finditer(text, start, end):
        if tokens and text[tokens[-1].end() : m.start()].strip():
            if sum(1 for t in tokens if t.group("label")) > 1:
                break
            tokens = []
        tokens.append(m)
    if sum(1 for t in tokens if t.group("label")) < 2:
        return []
    before = tokens[0].group("box") is not None
    found = []
    for k, t in enumerate(tokens):
        if not t.group("label"):
            continue
        near = tokens[k - 1] if before and k > 0 else (tokens[k + 1] if not before and k + 1 < len(tokens) else None)
        if near is not None and not near.group("label") and _is_mark(near):
            found.append((_determination(t.group("label")), t.start(), t.end()))
    return found


def _is_mark(token: re.Match[str]) -> bool:
    return bool(token.group("mark") or (token.group("bare") and token.group("bare") != "\u2610"))


def _determination(label: str) -> Determination:
    return Determination(re.sub(r"[\s-]+", "_", label.lower()))


def outcome_marked(decision: Decision, text: str) -> list[ReviewFlag]:
    """Exactly one outcome marked, or the prose states one; the items agree with it."""
    region = outcome_region(text)
    if region is None:
        return [flag("outcome_marked", "the letter has no REVIEW OUTCOME part")]
    marked = marked_outcomes(text, *region)
    if len(marked) > 1:
        return [flag("outcome_marked", f"{len(marked)} review outcomes are marked", span=(marked[0][1], marked[-1][2]))]
    if marked:
        outcome, a, b = marked[0]
    else:
        prose = PROSE_OUTCOME.search(text, *region)
        stated = {Determination(re.sub(r"[\s-]+", "_", prose.group("label").lower()))} if prose else outcome_words(
            text[slice(*region)]
        )
        if len(stated) != 1:
            return [flag("outcome_marked", "no review outcome is marked and the prose states none", span=region)]
        outcome, (a, b) = stated.pop(), ((prose.start(), prose.end()) if prose else region)
    return [
        flag("outcome_marked", f"the letter's outcome is '{outcome.value}', the item '{item.determination.value}'", n, (a, b))
        for n, item in enumerate(decision.items)
        if not _agrees(item.determination, outcome)
    ]


def _agrees(item: Determination, letter: Determination) -> bool:
    """A partially overturned letter may uphold some services and overturn others."""
    return item == letter or letter == Determination.partially_overturned




def flag(check: str, reason: str, item_index: int | None = None, span: tuple[int, int] | None = None) -> ReviewFlag:
    start, end = span if span else (None, None)
    return ReviewFlag(check=check, reason=reason, item_index=item_index, start=start, end=end)

VALIDATORS = (outcome_marked,)
