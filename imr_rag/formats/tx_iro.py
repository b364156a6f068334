"""Texas Independent Review Organization letters ("NOTICE OF INDEPENDENT REVIEW DECISION").

Layout: labelled paragraphs (DATE NOTICE SENT, IRO CASE #, DESCRIPTION OF THE SERVICE OR SERVICES
IN DISPUTE, reviewer qualifications, REVIEW OUTCOME with checkboxes, information provided,
clinical history, analysis, screening criteria checkboxes). Each service in dispute (a numbered or
bulleted list, or services separated by semicolons) is one disputed item; one review outcome
covers them all, except a partial overturn, which the prose splits service by service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imr_rag.errors import ExtractionFailed
from imr_rag.formats.classify import categorize
from imr_rag.formats.dates import DATE_PATTERN, to_iso
from imr_rag.formats.tx_iro_checks import VALIDATORS
from imr_rag.formats.headings import heading_pattern, line_spans, sections_from_headings
from imr_rag.formats.spans import evidence_at, labelled_value, necessity_of, one_line, outcome_of, patient_from
from imr_rag.schema import (
    Decision,
    Determination,
    DisputedItem,
    Document,
    Guideline,
    ItemEvidence,
    LetterFormat,
    Reviewer,
    Section,
    SourceRef,
)
from imr_rag.textutil import content_words, fold_look_alikes, normalize_case_number

name = "tx_iro"

TITLE = heading_pattern("NOTICE OF INDEPENDENT REVIEW DECISION")
HEADINGS = [
    ("services_in_dispute", heading_pattern("DESCRIPTION OF THE SERVICE OR SERVICES IN DISPUTE")),
    ("reviewer_qualifications", heading_pattern("A DESCRIPTION OF THE QUALIFICATIONS")),
    ("review_outcome", heading_pattern("REVIEW OUTCOME")),
    ("information_provided", heading_pattern("INFORMATION PROVIDED TO THE IRO")),
    ("clinical_history", heading_pattern("PATIENT CLINICAL HISTORY")),
    ("analysis", heading_pattern("ANALYSIS AND EXPLANATION OF THE DECISION")),
    ("screening_criteria", heading_pattern("A DESCRIPTION AND THE SOURCE OF THE SCREENING CRITERIA")),
]
# Sections that speak about the (single) disputed item.
ITEM_SECTIONS = {"services_in_dispute", "review_outcome", "analysis"}


def detect(text: str) -> float:
    head = text[:20000]
    score = 0.0
    if TITLE.search(head):
        score += 0.5
    if re.search(r"IRO\s+CASE\s*#", head, re.IGNORECASE):
        score += 0.3
    if re.search(r"REVIEW\s+OUTCOME", head, re.IGNORECASE) and re.search(r"\[\s*[Xx]?\s*\]", head):
        score += 0.3
    return min(score, 1.0)


def sections(text: str) -> list[Section]:
    parts = sections_from_headings(text, HEADINGS)
    return [
        s.model_copy(update={"item_index": 0}) if s.name in ITEM_SECTIONS else s for s in parts
    ]


CASE_NUMBER = re.compile(r"IRO\s+CASE\s*#\s*:?[ \t]*([A-Za-z0-9][A-Za-z0-9-]{3,})")


def case_number(text: str) -> str | None:
    match = CASE_NUMBER.search(fold_look_alikes(text[:5000]))
    return normalize_case_number(match.group(1)) if match else None


# -- the rules parser ------------------------------------------------------------------------
# Checkboxes come rendered many ways: "[ X ] Upheld", "X Upheld", "☒ Upheld", "Upheld [X]",
# "Upheld ✔", or the mark on a line of its own before or after the label.
MARK = r"(?:\[\s*[Xx✓✔☒■✗]\s*\]|\(\s*[Xx✓✔☒■✗]\s*\)|[☒✓✔■✗]|[Xx])"
EMPTY = r"(?:\[\s*\]|\(\s*\)|☐|□)"
MARK_BEFORE = re.compile(rf"^(?P<box>{MARK})\s+(?P<label>\S.*)$")
MARK_AFTER = re.compile(rf"^(?P<label>.*?\S)\s+(?P<box>{MARK})$")
EMPTY_BEFORE = re.compile(rf"^(?P<box>{EMPTY})\s*(?P<label>\S.*)$")
EMPTY_AFTER = re.compile(rf"^(?P<label>.*?\S)\s*(?P<box>{EMPTY})$")
MARK_ONLY = re.compile(rf"^{MARK}$")
EMPTY_ONLY = re.compile(rf"^{EMPTY}$")
OUTCOME_LABEL = re.compile(r"^(?P<outcome>Partially\s+Overturned|Overturned|Upheld)\b\s*(?:\([^)\n]*\))?\s*$", re.I)
# The outcome in words, strongest statement first.
PROSE_OUTCOMES = [
    re.compile(r"should\s+be[ \t]*:?[ \t]*\n?[ \t]*(?P<outcome>partially\s+overturned|overturned|upheld)\b", re.I),
    re.compile(r"\bpartial(?:ly)?\s+overturn(?:ed)?\b", re.I),
    re.compile(
        r"\b(?:prior|previous)\s+(?:adverse\s+)?(?:determinations?|denials?)(?:/[\w ]+?)?\s+"
        r"(?:is|are|was|were|should\s+be)\s+(?P<outcome>upheld|overturned)\b", re.I),
    re.compile(r"\bis\s+(?P<neg>not\s+)?(?:recommended\s+as\s+|considered\s+)?medically\s+necessary\b", re.I),
]


@dataclass(frozen=True)
class Option:
    """One line of a checkbox list: its label and whether it is marked (None: no box at all)."""

    label: str
    start: int  # of the label line (or of its mark line, when the mark has a line of its own)
    end: int
    checked: bool | None
    run: bool = False  # one of several boxes sharing a line


# Boxes run together on one line ("Upheld (Agree) ☐ Overturned (Disagree) ☒ ..."): PDF text of
# boxes laid out side by side, or a re-flowed list.
BOX_TOKEN = re.compile(
    r"\[\s*[Xx✓✔☒■✗]?\s*\]|\(\s*[Xx✓✔☒■✗]?\s*\)|[☒✓✔■✗☐□]"
    r"|(?:^|(?<=\)\s)|(?<=\n))[Xx](?=[ \t]*$|[ \t]+[A-Z])",  # a bare X: by a label, never "3 x week"
    re.M,
)
RUN_LABEL = re.compile(r"(?:Partially\s+Overturned|Overturned|Upheld)\b(?:\s*\([^)\n]*\))?", re.I)


def _run_options(text: str, a: int, b: int) -> list[Option]:
    """The options of a line holding several boxes or outcome labels; [] for an ordinary line.

    A box goes with the label after it when the line opens with a box, else with the label
    before it. Outcome labels are options of their own even where their box was left blank.
    """
    line = text[a:b]
    boxes = list(BOX_TOKEN.finditer(line))
    labels = list(RUN_LABEL.finditer(line))
    lead = len(line) - len(line.lstrip())
    inner = [m for m in boxes if m.start() > lead and m.end() < len(line.rstrip())]
    if len(boxes) < 2 and len(labels) < 2 and not inner:
        return []
    opens_with_box = bool(boxes) and boxes[0].start() == lead
    checked = lambda m: not re.search(r"[☐□]|^[\[(]\s*[\])]$", m.group(0))  # noqa: E731
    if len(labels) >= 2:
        spans = [(m.start(), m.end()) for m in labels]
    else:  # free-text labels (screening criteria): the text between boxes
        cuts = [0, *[x for m in boxes for x in (m.start(), m.end())], len(line)]
        pieces = [(cuts[k], cuts[k + 1]) for k in range(0, len(cuts), 2)]
        spans = [(p, q) for p, q in pieces if line[p:q].strip()]
    found = []
    for k, (p, q) in enumerate(spans):
        if opens_with_box:
            lo, hi = (spans[k - 1][1] if k else 0), p
        else:
            lo, hi = q, (spans[k + 1][0] if k + 1 < len(spans) else len(line))
        box = next((m for m in boxes if lo <= m.start() and m.end() <= hi), None)
        found.append(Option(line[p:q].strip(), a + p, a + q, checked(box) if box else False, run=True))
    return found


def options(text: str, start: int, end: int) -> list[Option]:
    """The checkbox lines of text[start:end], in any rendering, with their marks."""
    lines = [(a, b, text[a:b].strip()) for a, b in line_spans(text, start, end)]
    found: list[Option] = []
    label_lines: list[int] = []  # line index of each option that is not part of a run
    k = 0
    while k < len(lines):
        a, b, line = lines[k]
        k += 1
        if not line or _box_only(line):
            continue
        if _run_options(text, a, b):
            # A run may wrap: its continuation lines (no label of their own) belong to it.
            while k < len(lines) and lines[k][2] and not RUN_LABEL.match(lines[k][2]):
                b = lines[k][1]
                k += 1
            found += _run_options(text, a, b)
            continue
        label_lines.append(k - 1)
        for pattern, checked in ((EMPTY_BEFORE, False), (EMPTY_AFTER, False), (MARK_BEFORE, True), (MARK_AFTER, True)):
            if m := pattern.match(line):
                found.append(Option(m.group("label"), a, b, checked))
                break
        else:
            found.append(Option(line, a, b, None))
    plain = [n for n, o in enumerate(found) if not o.run]
    if all(found[n].checked is not None for n in plain):
        return found
    # Marks on lines of their own sit all before or all after their labels. A box line with a
    # label on one side only says which; when every box line sits between two labels (the empty
    # boxes left blank), the marks cannot be told apart and the boxes are not read.
    is_label = set(label_lines)
    before = after = 0
    for k, (_, _, line) in enumerate(lines):
        if _box_only(line):
            prev_label, next_label = k - 1 in is_label, k + 1 in is_label
            before += next_label and not prev_label
            after += prev_label and not next_label
    if before == after:
        return found
    step = -1 if before > after else 1
    for pos, (n, k) in enumerate(zip(plain, label_lines)):
        if found[n].checked is not None:
            continue
        j = k + step
        if 0 <= j < len(lines) and _box_only(lines[j][2]):
            a, b = min(lines[j][0], lines[k][0]), max(lines[j][1], lines[k][1])
            label = found[n].label
            # A mark after a wrapped label follows its last line: the label starts lines earlier.
            first = pos
            while step == 1 and first > 0 and label_lines[first - 1] == label_lines[first] - 1 \
                    and found[plain[first - 1]].checked is None:
                first -= 1
            if first < pos:
                a = found[plain[first]].start
                label = " ".join(found[plain[m]].label for m in range(first, pos + 1))
            found[n] = Option(label, a, b, bool(MARK_ONLY.match(lines[j][2])))
    return found


def _box_only(line: str) -> bool:
    return bool(MARK_ONLY.match(line) or EMPTY_ONLY.match(line))


def review_outcome(text: str, section: Section | None, analysis: Section | None) -> tuple[str, int, int] | None:
    """(outcome words, start, end of the span that states it): the one marked outcome box, else
    the outcome prose of the review-outcome section, else of the analysis."""
    if section is not None:
        outcomes = [(o, OUTCOME_LABEL.match(o.label)) for o in options(text, section.start, section.end)]
        marked = [(o, m) for o, m in outcomes if m and o.checked]
        if len(marked) == 1:
            option, m = marked[0]
            return m.group("outcome"), option.start, option.end
    for region in (section, analysis):
        if region is None:
            continue
        labels = [(o.start, o.end) for o in options(text, region.start, region.end) if OUTCOME_LABEL.match(o.label)]
        for pattern in PROSE_OUTCOMES:
            said = (m for m in pattern.finditer(text, region.start, region.end)
                    if not any(a < m.end() and m.start() < b for a, b in labels))  # not a box's own label
            if m := next(said, None):
                if "outcome" in m.groupdict() and m.group("outcome"):
                    words = m.group("outcome")
                elif "neg" in m.groupdict():
                    words = "upheld" if m.group("neg") else "overturned"
                else:
                    words = "partially overturned"
                return words, m.start(), m.end()
    return None


# Screening criteria that name a guideline family; "medical judgement" is not a guideline.
CRITERIA_FAMILIES = [
    (re.compile(r"\bODG\b|OFFICIAL\s+DISABILITY", re.I), "ODG"),
    (re.compile(r"\bACOEM\b", re.I), "ACOEM"),
    (re.compile(r"MEDICAL\s+JUDGE?MENT", re.I), None),
]


def _body(text: str, section: Section | None) -> tuple[int, int]:
    """The section's content after its 'HEADING ...:' label."""
    if section is None:
        return 0, 0
    colon = text.find(":", section.start, section.end)
    return (colon + 1 if colon != -1 else section.start), section.end


def parse(document: Document) -> Decision:
    """The rules parser: one Decision from the letter's text, every quote at its exact offsets.

    One item per service in dispute. When the outcome is a partial overturn of several services,
    each service's outcome is taken from the prose that says whether it is medically necessary.
    """
    text = document.text
    parts = {s.name: s for s in sections(text)}
    header_end = parts["services_in_dispute"].start if "services_in_dispute" in parts else min(len(text), 2000)
    notice = labelled_value(text, "DATE NOTICE SENT TO ALL PARTIES", DATE_PATTERN, end=header_end)
    services = services_in_dispute(text, *_body(text, parts.get("services_in_dispute")))
    outcome = review_outcome(text, parts.get("review_outcome"), parts.get("analysis"))
    if not services or outcome is None:
        missing = "services in dispute" if not services else "a review outcome (no box marked, none stated)"
        raise ExtractionFailed(document.path, f"Texas IRO letter without {missing}")
    words, outcome_start, outcome_end = outcome
    determination = outcome_of(words)
    per_service = [(determination, evidence_at(text, outcome_start, outcome_end))] * len(services)
    if determination is Determination.partially_overturned and len(services) > 1:
        per_service = [
            said or (determination, evidence_at(text, outcome_start, outcome_end))
            for said in _said_of_each(text, [one_line(ev.quote) for ev in services],
                                      [parts.get("review_outcome"), parts.get("analysis")])
        ]
    an_start, an_end = _body(text, parts.get("analysis"))
    rationale_ev = evidence_at(text, an_start, an_end)
    history = parts.get("clinical_history")
    guidelines = _criteria(text, parts.get("screening_criteria"))
    return Decision(
        case_number=case_number(text),
        letter_format=LetterFormat.tx_iro.value,
        decision_date=to_iso(notice) if notice else None,
        reviewer=_reviewer(text, parts.get("reviewer_qualifications")),
        patient=patient_from(text[history.start : history.end] if history else ""),
        items=[
            DisputedItem(
                service=one_line(service_ev.quote),
                category=categorize(one_line(service_ev.quote)),
                determination=item_determination,
                medically_necessary=necessity_of(item_determination),
                guidelines=guidelines,
                rationale=one_line(rationale_ev.quote) if rationale_ev else None,
                evidence=ItemEvidence(service=service_ev, determination=said_ev, rationale=rationale_ev),
            )
            for service_ev, (item_determination, said_ev) in zip(services, per_service)
        ],
        source=SourceRef(path=document.path, doc_id=document.doc_id),
    )


# "1. X 2. Y", "(1) X", "a) X", bullets, or "X; Y": several services in dispute.
LIST_MARK = re.compile(r"(?:^|(?<=\s))(?:\(?(?:\d{1,2}|[a-h])[.)]|[•\u2022*-])[ \t]+", re.M)
NECESSITY = re.compile(
    r"\b(?:is|are)\s+(?P<neg>not\s+)?(?:recommended\s+as\s+|considered\s+|appropriate\s+and\s+)?"
    r"medically\s+necessary\b|\b(?:is|are)\s+(?P<neg2>not\s+)?(?:recommended|supported|warranted|indicated)\b",
    re.I,
)
CLAUSE_END = re.compile(r"[;.](?=\s|$)|,\s+(?=(?:and|but|however|while|whereas)\b)", re.I)


def services_in_dispute(text: str, start: int, end: int) -> list:
    """Evidence spans of the services in dispute: list items, or semicolon-separated, else one."""
    whole = evidence_at(text, start, end)
    if whole is None:
        return []
    marks = [m for m in LIST_MARK.finditer(text, whole.start, whole.end)]
    numbered = [m for m in marks if re.match(r"\(?(\d{1,2}|[a-h])", m.group(0).strip())]
    cuts: list[tuple[int, int]] = []
    if len(marks) >= 2 and (not numbered or len(numbered) == len(marks)):
        bounds = [m.end() for m in marks] + [whole.end]
        cuts = [(bounds[k], marks[k + 1].start() if k + 1 < len(marks) else whole.end) for k in range(len(marks))]
        if text[whole.start : marks[0].start()].strip():  # text before the first mark: not a list
            cuts = []
    elif text.count(";", whole.start, whole.end) >= 1:
        pos = whole.start
        for m in re.finditer(";", text[: whole.end]):
            if m.start() < whole.start:
                continue
            cuts.append((pos, m.start()))
            pos = m.end()
        cuts.append((pos, whole.end))
    found = []
    for a, b in cuts:
        while b > a and text[b - 1] in " \t\n.;,":
            b -= 1
        ev = evidence_at(text, a, b)
        if ev is not None and re.sub(r"(?i)^and\s+", "", ev.quote).strip():
            found.append(ev)
    return found if len(found) >= 2 else [whole]


def _said_of_each(text: str, services: list[str], regions: list[Section | None]) -> list:
    """Per service, (determination, evidence) from the clause of the prose that says whether it
    is medically necessary (the clause naming most of its words), or None when none does."""
    wanted = [set(content_words(s)) for s in services]
    said: list = [None] * len(services)
    for region in regions:
        if region is None:
            continue
        for start, end in _clauses(text, region.start, region.end):
            clause = text[start:end]
            necessity = NECESSITY.search(clause)
            if not necessity:
                continue
            words = set(content_words(clause))
            scores = [len(w & words) / len(w) if w else 0.0 for w in wanted]
            best = max(range(len(services)), key=lambda k: scores[k])
            if scores[best] < 0.6 or said[best] is not None:
                continue
            negative = necessity.group("neg") or necessity.group("neg2")
            outcome = Determination.upheld if negative else Determination.overturned
            said[best] = (outcome, evidence_at(text, start, end))
    return said


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences and their coordinated clauses ("...; however, ...", "..., and ...")."""
    spans, pos = [], start
    for m in CLAUSE_END.finditer(text, start, end):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, end))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _span(section: Section | None, default_end: int) -> tuple[int, int]:
    return (section.start, section.end) if section else (0, default_end)


def _reviewer(text: str, section: Section | None) -> Reviewer:
    start, end = _body(text, section)
    qualifications = one_line(text[start:end]) if end > start else None
    specialty = None
    if qualifications and (m := re.search(r"Board\s+Certified\s+(?:in\s+)?(.+?)(?:[.;,]|$)", qualifications, re.I)):
        specialty = m.group(1).strip()
    return Reviewer(specialty=specialty, licensure=[], qualifications=qualifications)


def _criteria(text: str, section: Section | None) -> list[Guideline]:
    if section is None:
        return []
    found: list[Guideline] = []
    for option in options(text, section.start, section.end):
        if not option.checked:
            continue
        criterion = one_line(option.label)
        family = next((fam for pattern, fam in CRITERIA_FAMILIES if pattern.search(criterion)), "other")
        if family:
            found.append(Guideline(source=family, citation=criterion, cited_by="reviewer"))
    return found


validators = VALIDATORS
"""Self-checks of this format's records, `(decision, text) -> list[ReviewFlag]`, run on every
backend's record besides the generic ones of imr_rag.extract.checks."""
