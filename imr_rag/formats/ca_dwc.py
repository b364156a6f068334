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

from imr_rag.formats.classify import categorize, guideline_family
from imr_rag.formats.dates import DATE_PATTERN, to_iso
from imr_rag.formats.ca_dwc_checks import VALIDATORS
from imr_rag.formats.headings import heading_pattern, line_spans, sections_from_headings
from imr_rag.formats.spans import evidence_at, labelled_value, necessity_of, one_line, outcome_of, patient_from
from imr_rag.schema import (
    Decision,
    DisputedItem,
    Document,
    Guideline,
    ItemEvidence,
    LetterFormat,
    Reviewer,
    Section,
    SourceRef,
)
from imr_rag.textutil import fold_look_alikes, normalize_case_number

name = "ca_dwc_imr"

HOW_MADE = heading_pattern("HOW THE IMR FINAL DETERMINATION WAS MADE")
CASE_SUMMARY = heading_pattern("CLINICAL CASE SUMMARY")
ISSUES = re.compile(r"IMR\s+ISSUES,?\s+DECISIONS,?\s+AND\s+RATIONALES?", re.IGNORECASE)
# The heading that opens the decisions part stands on a line of its own; the same words quoted
# inside the summary ("... quoting its IMR ISSUES, DECISIONS AND RATIONALES section") do not.
ISSUES_LINE = re.compile(
    r"^[ \t]*IMR\s+ISSUES,?\s+DECISIONS,?\s+AND\s+RATIONALES?[ \t]*:?[ \t]*$", re.IGNORECASE | re.MULTILINE
)

# "<service>: Upheld" ends a line; PDF text sometimes puts the outcome alone on the next line.
OUTCOME = re.compile(
    r"(?P<head>[^\n]*\S)[ \t]*:[ \t]*(?:\n[ \t]*)?"
    r"(?P<outcome>partially\s+overturned|overturned|upheld)[ \t]*\.?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# The same, tried only at line starts: unanchored, the engine tried every position of every line
# and backtracked over the rest of the line from each (60% of the ingest's CPU at a year's scale).
OUTCOME_AT_LINE_START = re.compile(r"(?<![^\n])" + OUTCOME.pattern, OUTCOME.flags)
INTRO = re.compile(r"set\s+forth\s+below\s*:", re.IGNORECASE)
# Lines that belong to an item's body, never to the next item's heading. An outcome line is an
# item only when its body follows: an outcome-looking line inside a rationale is not one.
BODY_LINE = re.compile(
    r"^\s*(claims\s+administrator\s+guideline|maximus\s+guideline|decision\s+rationale)\s*:",
    re.IGNORECASE,
)
BODY_FOLLOWS = re.compile(
    r"[ \t]*\n(?:[ \t]*\n)*[ \t]*(?:claims\s+administrator\s+guideline|maximus\s+guideline|decision\s+rationale)\s*:",
    re.IGNORECASE,
)
# A colon does not end a heading's earlier line ("..., DOS:\n11/11/2016: Upheld"), except the
# line that introduces the items ("... set forth below:").
SENTENCE_END = re.compile(r"([.?!][\"'”’)\]]*|set\s+forth\s+below\s*:)\s*$", re.IGNORECASE)
MAX_HEADING_LINES = 10

# The original-request construction, in any wording: sentences naming the original request and
# what the Claims Administrator authorised, then the service sentence that refers back to them
# ("The remaining IMR eligible portion of the original request, Z is: Upheld").
SENTENCE_BREAK = re.compile(r"(?<=[.?!])[\"'”’)\]]*\s+(?=[A-Z0-9(\"'“‘])")
ORIGINAL_START = re.compile(
    r"\bwas\s+the\s+original\s+request\b|\boriginal\s+request\s+(?:was|for)\b"
    r"|\b(?:was|were)\s+(?:originally\s+)?requested\b|\boriginally\s+requested\b",
    re.IGNORECASE,
)
REFERS_BACK = re.compile(
    r"\b(?:remaining|remainder|rest|portion|eligible|original(?:ly)?\s+request(?:ed)?)\b", re.IGNORECASE
)
AUTHORISED = re.compile(r"\b(?:authori[sz]ed|certified|approved|modified)\b", re.IGNORECASE)
CLAUSE_BREAK = re.compile(r",\s*(?:of\s+which|which|and|but|leaving|while)\s+", re.IGNORECASE)


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
    for match in _outcomes(text, start, end):
        if not BODY_FOLLOWS.match(text, match.end(), end):
            continue
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


def _outcomes(text: str, start: int, end: int):
    """The OUTCOME matches in text[start:end], as `OUTCOME.finditer` finds them.

    A match is confined to one line (and the next, for an outcome on a line of its own), and the
    leftmost one of a line starts at the line's start; so only line starts need trying, except on
    a first line that `start` cuts (the decisions heading runs on into the first item's line).
    """
    pos = start
    if 0 < start < end and text[start - 1] != "\n":
        first_end = text.find("\n", start, end)
        if first_end < 0:
            yield from OUTCOME.finditer(text, start, end)
            return
        second_end = text.find("\n", first_end + 1, end)
        match = OUTCOME.search(text, start, end if second_end < 0 else second_end)
        if match and match.start() < first_end:
            yield match
            pos = match.end()
    yield from OUTCOME_AT_LINE_START.finditer(text, pos, end)


def _with_end(block: ItemBlock, end: int) -> ItemBlock:
    return ItemBlock(block.heading_start, block.outcome_line_end, block.outcome, block.outcome_start, end)


def _heading_first_line(text: str, lines: list[tuple[int, int]], i: int, floor: int) -> int:
    """Walk back from the outcome line over the heading's wrapped lines.

    A heading starts after a line that ends a sentence (the previous rationale, or "set forth
    below:"), a blank line, or an item body line. The original-request construction ("X was the
    original request. Y was authorized ... The remaining IMR eligible portion ..., Z is: Upheld",
    in any wording) contains full stops: when the service sentence refers back to the request,
    the walk goes on over sentence ends until it has taken in the sentence that states the
    original request; if no such sentence comes, the heading is the service sentence alone.
    """
    if INTRO.search(_joined(text, lines, i, i)):
        return i
    first, shortest = i, None
    while first - 1 >= floor and i - first < MAX_HEADING_LINES:
        a, b = lines[first - 1]
        line = text[a:b]
        if not line.strip() or BODY_LINE.match(line) or ISSUES.search(line) or INTRO.search(line):
            break
        if OUTCOME.search(line):  # an outcome-looking line that is not an item ends what precedes
            break
        if SENTENCE_END.search(line):
            shortest = first if shortest is None else shortest
            sentences = _sentences(_joined(text, lines, first, i))
            if not REFERS_BACK.search(sentences[-1]) or any(ORIGINAL_START.search(x) for x in sentences[:-1]):
                break
        first -= 1
    sentences = _sentences(_joined(text, lines, first, i))
    if shortest is not None and not any(ORIGINAL_START.search(x) for x in sentences[:-1]):
        return shortest
    return first


def _sentences(block: str) -> list[str]:
    return [x for x in SENTENCE_BREAK.split(block.strip()) if x.strip()] or [block]


def _joined(text: str, lines: list[tuple[int, int]], first: int, last: int) -> str:
    return " ".join(text[a:b] for a, b in lines[first : last + 1])


def decisions_heading(text: str) -> re.Match[str] | None:
    """The heading that opens the decisions part: on a line of its own, else its first mention."""
    return ISSUES_LINE.search(text) or ISSUES.search(text)


def sections(text: str) -> list[Section]:
    issues = ISSUES_LINE if ISSUES_LINE.search(text) else ISSUES
    parts = sections_from_headings(
        text,
        [("how_determination_made", HOW_MADE), ("clinical_case_summary", CASE_SUMMARY), ("decisions", issues)],
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


CASE_NUMBER = re.compile(r"Case\s+Number:\s*([A-Z]{2,3}\d{2}-\d{5,8})", re.IGNORECASE)


def case_number(text: str) -> str | None:
    match = CASE_NUMBER.search(fold_look_alikes(text[:5000]))
    return normalize_case_number(match.group(1)) if match else None


# -- the rules parser ------------------------------------------------------------------------
CA_GUIDELINE = re.compile(r"Claims\s+Administrator\s+guideline\s*:", re.IGNORECASE)
MAXIMUS_GUIDELINE = re.compile(r"MAXIMUS\s+guideline\s*:", re.IGNORECASE)
RATIONALE = re.compile(r"Decision\s+rationale\s*:", re.IGNORECASE)
BASED_ON = re.compile(r"Decision\s+based\s+on\s+", re.IGNORECASE)
# "Non-MTUS Citation ODG ... and Other Medical Treatment Guidelines ACOEM ..." cites two sources.
ANOTHER_SOURCE = re.compile(r"\s+and\s+(?=Other\s+Medical\s+Treatment\s+Guidelines)", re.IGNORECASE)
PAGES = re.compile(r"(?:Page\(s\)|Section\(s\))\s*:\s*(.+?)\s*\.?$", re.IGNORECASE | re.DOTALL)


def parse(document: Document) -> Decision:
    """The rules parser: one Decision from the letter's text, every quote at its exact offsets."""
    text = document.text
    parts = {s.name: s for s in sections(text) if s.name != "item"}
    header_end = parts["how_determination_made"].start if "how_determination_made" in parts else min(len(text), 2000)
    summary = parts.get("clinical_case_summary")
    heading = decisions_heading(text)
    decisions_start = heading.start() if heading else len(text)
    return Decision(
        case_number=case_number(text),
        letter_format=LetterFormat.ca_dwc_imr.value,
        **_header_dates(text, header_end),
        priority=labelled_value(text, "Priority", r"[A-Za-z]+", end=header_end),
        reviewer=_reviewer(text, summary.start if summary else decisions_start),
        patient=patient_from(text[summary.start : summary.end] if summary else ""),
        items=[_item(text, block) for block in item_blocks(text, decisions_start, len(text))],
        source=SourceRef(path=document.path, doc_id=document.doc_id),
    )


def _header_dates(text: str, end: int) -> dict[str, str | None]:
    labels = {
        "date_assigned": "Date Assigned",
        "date_of_injury": "Date of Injury",
        "decision_date": "Decision Date",
        "ur_denial_date": "UR Denial Date",
        "application_received": "Application Received",
    }
    return {
        field: to_iso(value) if (value := labelled_value(text, label, DATE_PATTERN, end=end)) else None
        for field, label in labels.items()
    }


# A credentials value may wrap onto following lines, up to a blank line, heading or next label.
WRAPPED_VALUE = r"[^\n]+(?:\n(?!\s*\n|\s*(?:CLINICAL\s+CASE|State\(s\)|Certification\(s\)))[^\n]+)*"


def _reviewer(text: str, end: int) -> Reviewer:
    """Credentials: the 'Certification(s)/Specialty' lines, or the older 'Board Certified in' prose."""
    specialty = labelled_value(text, "Certification(s)/Specialty", WRAPPED_VALUE, end=end)
    states = labelled_value(text, "State(s) of Licensure", WRAPPED_VALUE, end=end)
    licensure = [s.strip() for s in re.split(r"[,;]| and ", states)] if states else []
    if specialty is None and (m := re.search(r"Board\s+Certified\s+in\s+(.+?)(?:,|\.|\s+and\s+is|\s+has\b)", text[:end], re.I)):
        specialty = one_line(m.group(1))
    if not licensure and (m := re.search(r"licensed\s+to\s+practice\s+in\s+([A-Z][A-Za-z ]+?)[.,]", text[:end])):
        licensure = [one_line(m.group(1))]
    qualifications = re.search(r"(The\s+(?:physician|expert)\s+reviewer\s+is\s+Board.+?\.)\s", text[:end], re.I | re.S)
    return Reviewer(
        specialty=one_line(specialty) if specialty else None,
        licensure=[s for s in licensure if s],
        qualifications=one_line(qualifications.group(1)) if qualifications else None,
    )


def _item(text: str, block: ItemBlock) -> DisputedItem:
    heading_end = block.outcome_start
    colon = text.rfind(":", block.heading_start, heading_end)
    service, original, authorized = split_heading(one_line(text[block.heading_start : colon]))
    service_start = block.heading_start
    body_start = block.outcome_line_end
    ca = CA_GUIDELINE.search(text, body_start, block.block_end)
    mx = MAXIMUS_GUIDELINE.search(text, body_start, block.block_end)
    rationale = RATIONALE.search(text, body_start, block.block_end)
    determination = outcome_of(block.outcome)
    guidelines: list[Guideline] = []
    if ca:
        guidelines += _guidelines(text[ca.end() : mx.start() if mx else (rationale.start() if rationale else block.block_end)], "claims_administrator")
    if mx:
        guidelines += _guidelines(text[mx.end() : rationale.start() if rationale else block.block_end], "reviewer")
    rationale_ev = evidence_at(text, rationale.end(), block.block_end) if rationale else None
    return DisputedItem(
        service=service,
        original_request=original,
        authorized_portion=authorized,
        category=categorize(service),
        determination=determination,
        medically_necessary=necessity_of(determination),
        guidelines=guidelines,
        rationale=one_line(rationale_ev.quote) if rationale_ev else None,
        evidence=ItemEvidence(
            service=_service_evidence(text, service, service_start, colon),
            determination=evidence_at(text, block.heading_start, block.outcome_line_end),
            rationale=rationale_ev,
        ),
    )


def split_heading(heading: str) -> tuple[str, str | None, str | None]:
    """(service, original request, authorised portion) of an item heading, by its sentences.

    A plain heading is the service. In the original-request construction, whatever its wording,
    the last sentence is the service sentence, referring back to the request ("The remaining IMR
    eligible portion of the original request, Z is"; "The original request, Z is"): the service
    is what follows that introductory phrase. An earlier sentence states the original request
    ("X was the original request"; "The original request was for X"; "X was requested"), and a
    sentence or clause what was authorised ("Y was authorized by ..."; "The Claims Administrator
    authorized Y, leaving ...").
    """
    sentences = _sentences(heading)
    last = re.sub(r",?\s+(?:is|are)$", "", sentences[-1].strip()).rstrip(" ,")
    earlier = sentences[:-1]
    intro = re.match(r"^(?P<intro>[^,]*),\s*(?P<rest>.+)$", last)
    construction = any(ORIGINAL_START.search(x) for x in earlier)
    if intro and REFERS_BACK.search(intro.group("intro")) and (construction or len(intro.group("intro").split()) <= 12):
        service = intro.group("rest").rstrip(" ,")
    elif construction:
        service = last
    else:
        return one_line(" ".join(sentences)).removesuffix(" is").removesuffix(" are"), None, None
    original = authorized = None
    for sentence in earlier:
        for clause in CLAUSE_BREAK.split(sentence.rstrip(". ")):
            original = original or _original_of(clause)
            if authorized is None and AUTHORISED.search(clause):
                authorized = _authorised_of(clause)
    return one_line(service), original and one_line(original), authorized and one_line(authorized)


def _original_of(clause: str) -> str | None:
    for pattern in (
        r"^(?P<x>.+?)\s+was\s+the\s+original\s+request\b",
        r"\boriginal\s+request\s+(?:was\s+)?(?:for\s+)?(?P<x>.+)$",
        r"^(?P<x>.+?)\s+(?:was|were)\s+(?:originally\s+)?requested\b",
        r"\boriginally\s+requested\s*:?\s*(?P<x>.+)$",
    ):
        if m := re.search(pattern, clause, re.IGNORECASE):
            return m.group("x").strip(" ,.")
    return None


def _authorised_of(clause: str) -> str | None:
    verb = r"(?:authori[sz]ed|certified|approved|modified)"
    for pattern in (
        rf"^(?P<y>.+?)\s+(?:was|were)\s+(?:\w+\s+and\s+)?{verb}\b",
        rf"\b{verb}\s+(?P<y>.+?)(?:\s+of\s+the\s+original\s+request\b.*)?$",
    ):
        if m := re.search(pattern, clause, re.IGNORECASE):
            return m.group("y").strip(" ,.")
    return None


def _service_evidence(text: str, service: str, start: int, colon: int):
    """Span of the service words in the heading (they may wrap over lines)."""
    words = service.split(" ")
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
    match = pattern.search(text, max(start, 0), colon)
    return evidence_at(text, match.start(), match.end()) if match else None


def _guidelines(block: str, cited_by: str) -> list[Guideline]:
    """One Guideline per 'Decision based on ...' clause; none when no evidence was cited."""
    clauses = [
        one_line(part)
        for clause in BASED_ON.split(block)[1:]
        for part in ANOTHER_SOURCE.split(clause)
        if part.strip()
    ]
    found: list[Guideline] = []
    for clause in clauses:
        pages = PAGES.search(clause)
        found.append(
            Guideline(
                source=guideline_family(clause),
                citation=clause.rstrip(". "),
                pages=one_line(pages.group(1)).rstrip(".") if pages else None,
                cited_by=cited_by,
            )
        )
    return found


validators = VALIDATORS
"""Self-checks of this format's records, `(decision, text) -> list[ReviewFlag]`, run on every
backend's record besides the generic ones of imr_rag.extract.checks."""
