"""Pure readers of a DMHC IMR finding's prose: the outcome statement, the treatments requested,
the reviewers' number and split, and their specialties. Offsets are into the document text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from imr_rag.formats.spans import one_line, outcome_words
from imr_rag.schema import Determination, Section

# "the Health Plan's denial should be overturned", "the Health Plan’s denial is upheld", "the
# Plan's denial of the requested services should be reversed".
DENIAL_OUTCOME = re.compile(
    r"\b(?:Health\s+Plan|Plan)(?:['’‘`]s|s['’])?\s+denial(?:\s+of\s+[^.]{1,200}?)?\s+"
    r"(?:should\s+be|is|was|must\s+be|shall\s+be|will\s+be)\s+"
    r"(?P<word>partially\s+overturned|overturned|reversed|upheld|affirmed|sustained)\b",
    re.IGNORECASE,
)
# "the requested X is (not) medically necessary", "... was not and is not medically necessary".
NECESSITY = re.compile(
    r"\b(?:is|are|was|were)\s+(?P<neg>not\s+)?(?:and\s+(?:is|are)\s+(?:not\s+)?)?"
    r"(?:considered\s+|deemed\s+)?medically\s+necessary\b",
    re.IGNORECASE,
)
# The experimental/investigational standard: "is (not) likely to be more beneficial ...".
BENEFICIAL = re.compile(
    r"\b(?:is|are|was|were)\s+(?P<neg>not\s+)?likely\s+to\s+be\s+more\s+beneficial\b", re.IGNORECASE
)
WORDS = {"overturned": Determination.overturned, "reversed": Determination.overturned,
         "upheld": Determination.upheld, "affirmed": Determination.upheld, "sustained": Determination.upheld}
# A sentence ends at a full stop followed by a space, a capital or a quote (published findings
# often run sentences together: "...this patient.Final Result: The reviewer ..."), never "3.5".
SENTENCE_END = re.compile(r"[.!?](?=\s|[A-Z“\"]|$)")
SENTENCE_START = re.compile(r"(?:[.!?:](?=\s|[A-Z“\"])|\n)\s*")


@dataclass(frozen=True)
class OutcomeStatement:
    """The sentence of the findings that states the outcome, and the outcome it states."""

    determination: Determination
    start: int
    end: int


def outcome_statement(text: str, body: int, final_result: Section | None) -> OutcomeStatement | None:
    """The outcome in whichever wording the findings use: the Health Plan's denial upheld or
    overturned (the final result's statement first), else the last "is (not) medically necessary",
    else the last "is (not) likely to be more beneficial"."""
    regions = []
    if final_result:
        label = re.compile(r"Final\s+Result\s*:\s*", re.IGNORECASE).match(text, final_result.start)
        regions.append((label.end() if label else final_result.start, final_result.end))
    regions.append((body, len(text)))
    for start, end in regions:
        found = list(DENIAL_OUTCOME.finditer(text, start, end))
        if found:
            m = found[-1]
            word = one_line(m.group("word")).lower()
            outcome = Determination.partially_overturned if word.startswith("partial") else WORDS[word]
            return _plainly_stated(text, _sentence_of(text, m, outcome, start, end), start)
    for pattern in (NECESSITY, BENEFICIAL):
        for start, end in regions:
            found = list(pattern.finditer(text, start, end))
            if found:
                m = found[-1]
                outcome = Determination.upheld if m.group("neg") else Determination.overturned
                return _plainly_stated(text, _sentence_of(text, m, outcome, start, end), start)
    return None


def _plainly_stated(text: str, statement: OutcomeStatement, region_start: int) -> OutcomeStatement:
    """A sentence in words the outcome checks do not read ("... denial should be reversed", "is
    likely to be more beneficial") is widened to the final result's earlier sentences when they
    state the same outcome plainly ("... is medically necessary ... Therefore, ... reversed.")."""
    if outcome_words(text[statement.start : statement.end]) == {statement.determination}:
        return statement
    wider = OutcomeStatement(statement.determination, region_start, statement.end)
    while wider.start < statement.start and text[wider.start].isspace():
        wider = OutcomeStatement(statement.determination, wider.start + 1, statement.end)
    return wider if outcome_words(text[wider.start : wider.end]) == {statement.determination} else statement


def _sentence_of(text: str, m: re.Match[str], outcome: Determination, lo: int, hi: int) -> OutcomeStatement:
    start = lo
    for b in SENTENCE_START.finditer(text, lo, m.start()):
        start = b.end()
    stop = SENTENCE_END.search(text, m.end(), hi)
    end = stop.end() if stop else hi
    return OutcomeStatement(outcome, start, end)


# -- the treatments requested -----------------------------------------------------------------
REQUEST = re.compile(
    r"\brequested\s+(?:(?:prior\s+)?authorization\s+(?:and|&)\s+coverage|coverage\s+(?:and|&)\s+authorization"
    r"|authorization|coverage|reimbursement|payment)\s+(?:of|for)\s+",
    re.IGNORECASE,
)
# Older rows: "An enrollee has requested Wegovy for treatment of her obesity."
BARE_REQUEST = re.compile(r"\b(?:has|have)\s+requested\s+(?!that\b)", re.IGNORECASE)
CONCLUSION = re.compile(
    r"\bthe\s+requested\s+(?P<svc>[^.]{2,200}?)\s+(?:is|are|was|were)\s+(?:not\s+)?(?:likely\s+to\s+be\s+more\s+beneficial"
    r"|(?:and\s+(?:is|are)\s+(?:not\s+)?)?medically\s+necessary)",
    re.IGNORECASE,
)
TAIL = re.compile(
    r"\s*(?:,\s*)?\b(?:for|in)\s+(?:the\s+)?(?:treatment|management|evaluation|care|diagnosis)\s+of\b.*$"
    r"|\s+for\s+(?:his|her|their|the\s+patient['’]s|the\s+enrollee['’]s)\s+.*$",
    re.IGNORECASE | re.DOTALL,
)
HEAD = re.compile(r"^(?:(?:the\s+)?use\s+of\s+|treatment\s+with\s+|the\s+requested\s+|requested\s+)*(?:an?\s+|the\s+)?",
                  re.IGNORECASE)
# A brand name in quotes after the service: "a continuous glucose monitor (CGM), the “Dexcom G7,”".
APPOSITIVE = re.compile(r",\s*(?:the\s+)?[“\"][^”\"]*[”\"],?\s*$")
GENERIC_HEAD = re.compile(r"^(?:medication|drug|service|services|procedure|device|equipment|treatment)\s*,\s*", re.IGNORECASE)
# A conjunction joins two treatments only between two phrases of two words or more, not inside a
# "with ..." complement ("arthroscopy with a partial meniscectomy and chondroplasty") nor in
# "with and without contrast".
AND = re.compile(r"\s*,?\s+(?:and|&)\s+(?![^()]*\))")
PREPOSITION_END = re.compile(r"\b(?:with|without|of|for|to|in|on|at|by|from)$", re.IGNORECASE)


def request_phrases(text: str, body: int) -> list[tuple[str, int, int]]:
    """Candidate phrases naming what was requested, best first: the request sentence of the case
    summary, the bare "has requested X", the conclusion's "the requested X is ...", with offsets."""
    found = []
    for pattern in (REQUEST, BARE_REQUEST):
        if m := pattern.search(text, body):
            stop = SENTENCE_END.search(text, m.end())
            end = stop.start() if stop else len(text)
            found.append((text[m.end() : end], m.end(), end))
    for m in CONCLUSION.finditer(text, body):
        found.append((m.group("svc"), m.start("svc"), m.end("svc")))
    return found


def split_services(text: str, start: int, end: int) -> list[tuple[str, int, int]]:
    """One (service, start, end) per treatment in text[start:end]: the phrase trimmed of articles
    and of "for the treatment of ..."; two when a conjunction joins two treatments."""
    start, end = _trim(text, start, end)
    if start >= end:
        return []
    phrase = text[start:end]
    alternatives = [p for p in re.split(r"\s+and/or\s+", phrase)]
    if len(alternatives) == 2 and _bare(alternatives[0]) == _bare(alternatives[1]):
        # "Ozempic purchased and/or requested Ozempic": one treatment, paid for and asked for.
        s, e = _trim(text, start + phrase.find(alternatives[1]), end)
        s, e = _trim_words(text, s, e)
        return [(one_line(text[s:e]), s, e)]
    joins = list(AND.finditer(phrase))
    if len(joins) == 1:
        left, right = phrase[: joins[0].start()], phrase[joins[0].end() :]
        if (len(left.split()) >= 2 and len(right.split()) >= 2 and not re.search(r"\bwith\b", left, re.IGNORECASE)
                and not PREPOSITION_END.search(left) and "," not in left):
            a = _trim(text, start, start + joins[0].start())
            b = _trim(text, start + joins[0].end(), end)
            return [(one_line(text[s:e]), s, e) for s, e in (a, b) if e > s]
    return [(one_line(phrase), start, end)]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    phrase = text[start:end]
    if tail := TAIL.search(phrase):
        phrase = phrase[: tail.start()]
    head = HEAD.match(phrase)
    skip = head.end() if head else 0
    if generic := GENERIC_HEAD.match(phrase, skip):
        skip = generic.end()
    if appositive := APPOSITIVE.search(phrase, skip):
        phrase = phrase[: appositive.start()]
    kept = phrase[skip:].rstrip(" ,;:")
    lead = len(kept) - len(kept.lstrip())
    return start + skip + lead, start + skip + len(kept)


def _trim_words(text: str, start: int, end: int) -> tuple[int, int]:
    phrase = text[start:end]
    m = re.search(r"\s+(?:purchased|requested)$", phrase, re.IGNORECASE)
    return start, start + (m.start() if m else len(phrase))


def _bare(phrase: str) -> str:
    return " ".join(w for w in phrase.lower().split() if w not in {"purchased", "requested", "the", "a", "an"})


# -- the reviewers -----------------------------------------------------------------------------
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "single": 1}
_N = r"(?:one|two|three|four|five|\d)"
SPLIT = re.compile(rf"\b(?P<k>{_N})\s+(?:\(\d\)\s+)?of\s+(?:the\s+)?(?P<n>{_N})\s+(?:\(\d\)\s+)?(?:independent\s+)?"
                   r"(?:physician\s+|medical\s+)?(?:reviewers|experts)\b", re.IGNORECASE)
ALL = re.compile(rf"\ball\s+(?:of\s+the\s+)?(?P<n>{_N})\s+(?:independent\s+)?(?:physician\s+)?reviewers\b", re.IGNORECASE)
PANEL = re.compile(rf"\b(?P<n>{_N})\s+(?:independent\s+)?(?:physician\s+|medical\s+)?(?:reviewers|experts)\b", re.IGNORECASE)
NUMBERED = re.compile(r"\bReviewer\s*#?\s*(?P<k>[1-5])\b", re.IGNORECASE)
UNANIMOUS = re.compile(r"\bunanimous(?:ly)?\b|\ball\s+(?:of\s+the\s+)?reviewers\b", re.IGNORECASE)
SINGLE = re.compile(r"\b(?:the|a|one)\s+(?:physician\s+|independent\s+|medical\s+)?reviewer\b(?!s)", re.IGNORECASE)


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word.lower()]


def reviewer_split(text: str, start: int, end: int) -> tuple[int | None, int | None]:
    """(how many reviewers, how many found for the outcome) as the findings state them: "Two of
    the three reviewers found ..." is (3, 2); "All three reviewers ..." (3, 3); one reviewer (1, 1)."""
    region = text[start:end]
    if m := SPLIT.search(region):
        return _number(m.group("n")), _number(m.group("k"))
    if m := ALL.search(region):
        return _number(m.group("n")), _number(m.group("n"))
    panel = [_number(m.group("n")) for m in PANEL.finditer(region)]
    numbered = [int(m.group("k")) for m in NUMBERED.finditer(region)]
    count = max(panel + numbered, default=0)
    if count > 1:
        return count, count if UNANIMOUS.search(region) else None
    if SINGLE.search(region):
        return 1, 1
    return None, None


# "board certified in X with subspecialty certification in Y and is actively practicing".
_HYPHEN = r"(?:[\s\-\u2010\u2011]|&#8209;|&#8208;)*"
BOARD = re.compile(
    rf"\bboard{_HYPHEN}certified\s+(?:in\s+)?(?P<board>[^.;]+?)"
    r"(?:\s+with\s+(?:a\s+)?(?:sub-?specialty|added|special)\s+(?:certification|qualifications?)\s+in\s+(?P<sub>[^.;]+?))?"
    r"(?=,?\s*(?:and|&)\s*(?:is|has|was)\b|\s+who\b|,\s+(?:is|has)\b|[.;]|$)",
    re.IGNORECASE,
)
SPECIALIZING = re.compile(r"\bspeciali[sz](?:es|ing)\s+in\s+(?P<board>[^.;,]+)", re.IGNORECASE)


def specialties(credentials: str) -> str | None:
    """The reviewers' board certifications and subspecialties, as written, comma-joined, each once."""
    found: list[str] = []
    for m in BOARD.finditer(credentials):
        for value in (m.group("board"), m.group("sub")):
            value = one_line(value or "").strip(" ,")
            if value and value.lower() not in (f.lower() for f in found):
                found.append(value)
    if not found:
        found = [one_line(m.group("board")) for m in SPECIALIZING.finditer(credentials)]
    return ", ".join(found) or None
