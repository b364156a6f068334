"""California DWC Independent Medical Review letters (MAXIMUS Federal Services).

Layout: a header block (Case Number, dates, priority), "HOW THE IMR FINAL DETERMINATION WAS
MADE" (with the reviewer's credentials), "CLINICAL CASE SUMMARY", then "IMR ISSUES, DECISIONS AND
RATIONALES" with one block per disputed item: a heading line "<service>: Upheld|Overturned",
"Claims Administrator guideline:", "MAXIMUS guideline:" and "Decision rationale:".
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imr_rag.formats.headings import heading_pattern, line_spans, sections_from_headings
from imr_rag.schema import Section

if TYPE_CHECKING:
    from imr_rag.documents import Document
    from imr_rag.schema import Decision

name = "ca_dwc_imr"

HOW_MADE = heading_pattern("HOW THE IMR FINAL DETERMINATION WAS MADE")
CASE_SUMMARY = heading_pattern("CLINICAL CASE SUMMARY")
ISSUES = re.compile(r"IMR\s+ISSUES,?\s+DECISIONS,?\s+AND\s+RATIONALES?", re.IGNORECASE)

# "<service>: Upheld" ends a line; PDF text sometimes puts the outcome alone on the next line.
OUTCOME = re.compile(
    r"(?P<head>[^\n]*\S)[ \t]*:[ \t]*(?:\n[ \t]*)?"
    r"(?P<outcome>partially\s+overturned|overturned|upheld)[ \t]*\.?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
INTRO = re.compile(r"set\s+forth\s+below\s*:", re.IGNORECASE)
# Lines that belong to an item's body, never to the next item's heading.
BODY_LINE = re.compile(
    r"^\s*(claims\s+administrator\s+guideline|maximus\s+guideline|decision\s+rationale)\s*:",
    re.IGNORECASE,
)
# A colon does not end a heading's earlier line ("..., DOS:\n11/11/2016: Upheld"), except the
# line that introduces the items ("... set forth below:").
SENTENCE_END = re.compile(r"([.?!][\"'”’)\]]*|set\s+forth\s+below\s*:)\s*$", re.IGNORECASE)
PARTIAL_TAIL = re.compile(r"IMR\s+eligible\s+portion", re.IGNORECASE)
PARTIAL_HEAD = re.compile(r"was\s+the\s+original\s+request", re.IGNORECASE)
MAX_HEADING_LINES = 10


@dataclass(frozen=True)
class ItemBlock:
    """Where one disputed item sits: its heading (possibly several lines) and its whole block."""

    heading_start: int
    outcome_line_end: int
    outcome: str
    outcome_start: int
    block_end: int


def detect(text: str) -> float:
    head = text[:20000]
    score = 0.0
    if re.search(r"MAXIMUS\s+Federal\s+Services", head, re.IGNORECASE):
        score += 0.4
    if HOW_MADE.search(head):
        score += 0.3
    if ISSUES.search(text):
        score += 0.3
    if re.search(r"Case\s+Number:\s*CM\d{2}-\d{5,}", head, re.IGNORECASE):
        score += 0.2
    return min(score, 1.0)


def item_blocks(text: str, start: int, end: int) -> list[ItemBlock]:
    """Find the disputed items in text[start:end] (the decisions part of the letter)."""
    lines = line_spans(text, start, end)
    line_starts = [a for a, _ in lines]
    blocks: list[ItemBlock] = []
    floor = 0
    for match in OUTCOME.finditer(text, start, end):
        i = bisect_right(line_starts, match.start()) - 1
        first = _heading_first_line(text, lines, i, floor)
        heading_start = lines[first][0]
        # The first heading may share its line with "... set forth below:".
        if intro := INTRO.search(text, heading_start, match.start("outcome")):
            heading_start = intro.end()
        heading_start += len(text[heading_start:match.start()]) - len(text[heading_start:match.start()].lstrip())
        if blocks:
            blocks[-1] = _with_end(blocks[-1], heading_start)
        blocks.append(
            ItemBlock(
                heading_start=heading_start,
                outcome_line_end=match.end(),
                outcome=re.sub(r"\s+", " ", match.group("outcome").lower()),
                outcome_start=match.start("outcome"),
                block_end=end,
            )
        )
        floor = bisect_right(line_starts, match.end() - 1)
    return blocks


def _with_end(block: ItemBlock, end: int) -> ItemBlock:
    return ItemBlock(block.heading_start, block.outcome_line_end, block.outcome, block.outcome_start, end)


def _heading_first_line(text: str, lines: list[tuple[int, int]], i: int, floor: int) -> int:
    """Walk back from the outcome line over the heading's wrapped lines.

    A heading starts after a line that ends a sentence (the previous rationale, or "set forth
    below:"), a blank line, or an item body line. The partial-authorisation pattern ("X was the
    original request. Y was authorized ... The remaining IMR eligible portion ..., Z is: Upheld")
    contains full stops, so when the block so far names the eligible portion, the walk goes on
    until it has taken in the "was the original request" sentence.
    """
    first = i
    partial = bool(PARTIAL_TAIL.search(_joined(text, lines, i, i)))
    seen_original = bool(PARTIAL_HEAD.search(_joined(text, lines, i, i)))
    if INTRO.search(_joined(text, lines, i, i)):
        return i
    while first - 1 >= floor and i - first < MAX_HEADING_LINES:
        a, b = lines[first - 1]
        line = text[a:b]
        if not line.strip() or BODY_LINE.match(line) or ISSUES.search(line):
            break
        if SENTENCE_END.search(line) and not (partial and not seen_original):
            break
        first -= 1
        block = _joined(text, lines, first, i)
        partial = partial or bool(PARTIAL_TAIL.search(block))
        seen_original = seen_original or bool(PARTIAL_HEAD.search(block))
    return first


def _joined(text: str, lines: list[tuple[int, int]], first: int, last: int) -> str:
    return " ".join(text[a:b] for a, b in lines[first : last + 1])


def sections(text: str) -> list[Section]:
    parts = sections_from_headings(
        text,
        [("how_determination_made", HOW_MADE), ("clinical_case_summary", CASE_SUMMARY), ("decisions", ISSUES)],
    )
    decisions = next((s for s in parts if s.name == "decisions"), None)
    if decisions is None:
        return parts
    blocks = item_blocks(text, decisions.start, decisions.end)
    if not blocks:
        return parts
    out = [s for s in parts if s.name != "decisions"]
    if text[decisions.start : blocks[0].heading_start].strip():
        out.append(Section(name="decisions", start=decisions.start, end=blocks[0].heading_start))
    out.extend(
        Section(name="item", start=b.heading_start, end=b.block_end, item_index=k)
        for k, b in enumerate(blocks)
    )
    return out


def parse(document: Document) -> Decision:
    from imr_rag.extract.rules_ca import parse_ca_letter

    return parse_ca_letter(document)


CASE_NUMBER = re.compile(r"Case\s+Number:\s*([A-Z]{2,3}\d{2}-\d{5,8})", re.IGNORECASE)


def case_number(text: str) -> str | None:
    match = CASE_NUMBER.search(text[:5000])
    return match.group(1).upper() if match else None
