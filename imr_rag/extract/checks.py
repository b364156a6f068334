"""Self-checks on an extracted record: small named validators that say what does not add up.

Every record of every backend is checked against its letter before it is stored. A validator is
a function `(decision, letter) -> list[ReviewFlag]`; each flag names the check, says why in words
and points at the item and the span of the letter to read. A record with any flag is stored with
`needs_review` (see `Decision.needs_review`).

The checks here hold for any letter format. A format plugin adds its own (e.g. counting the
outcome statements its layout has) as a `validators` sequence on the plugin, each
`(decision, text) -> list[ReviewFlag]`; `run_checks` takes them as `extra`. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from imr_rag.formats.spans import OUTCOME_WORD, outcome_words
from imr_rag.schema import Decision, DisputedItem, Evidence, ReviewFlag


@dataclass(frozen=True)
class Letter:
    """What a validator may look at besides the record: the letter's text and today's date."""

    text: str
    today: date


Check = Callable[[Decision, Letter], list[ReviewFlag]]
FormatCheck = Callable[[Decision, str], list[ReviewFlag]]
"""A format plugin's validator: the record and the letter's text (plugins import only the data model)."""


def run_checks(
    decision: Decision, text: str, *, today: date | None = None, extra: Iterable[FormatCheck] = ()
) -> list[ReviewFlag]:
    """Every generic check, then the format's own, on one record; the flags they raise."""
    letter = Letter(text=text, today=today or date.today())
    flags: list[ReviewFlag] = []
    for check in GENERIC_CHECKS:
        flags.extend(check(decision, letter))
    for format_check in extra:
        flags.extend(format_check(decision, text))
    return flags


def with_checks(
    decision: Decision, text: str, *, today: date | None = None, extra: Iterable[FormatCheck] = ()
) -> Decision:
    """The record with the flags of its checks added (flags it already carries are kept; a flag
    is not added twice, so checking a checked record changes nothing)."""
    found: list[ReviewFlag] = []
    for f in run_checks(decision, text, today=today, extra=extra):
        if f not in decision.review_flags and f not in found:
            found.append(f)
    if not found:
        return decision
    return decision.model_copy(update={"review_flags": [*decision.review_flags, *found]})


def flag(check: str, reason: str, item_index: int | None = None, span: tuple[int, int] | None = None) -> ReviewFlag:
    start, end = span if span else (None, None)
    return ReviewFlag(check=check, reason=reason, item_index=item_index, start=start, end=end)


def span_of(evidence: Evidence | None) -> tuple[int, int] | None:
    return (evidence.start, evidence.end) if evidence is not None else None


# -- determination backed by the letter ---------------------------------------------------------
def determination_backed(decision: Decision, letter: Letter) -> list[ReviewFlag]:
    """Every item's determination points at a span of the letter whose words state that outcome."""
    flags = []
    for n, item in enumerate(decision.items):
        ev = item.evidence.determination
        if ev is None:
            flags.append(flag("determination_backed", f"no outcome span for '{item.determination.value}'", n))
            continue
        if not 0 <= ev.start < ev.end <= len(letter.text):
            flags.append(flag("determination_backed", "the outcome span lies outside the letter", n))
            continue
        stated = outcome_words(letter.text[ev.start : ev.end])
        if not stated:
            flags.append(flag(
                "determination_backed", f"the outcome span states no outcome, the record says '{item.determination.value}'",
                n, span_of(ev),
            ))
        elif item.determination not in stated or len(stated) > 1:
            words = ", ".join(sorted(d.value for d in stated))
            flags.append(flag(
                "determination_backed", f"the outcome span says {words}, the record says '{item.determination.value}'",
                n, span_of(ev),
            ))
    return flags


# -- service name ----------------------------------------------------------------------------------
MAX_SERVICE_WORDS = 40
MAX_SERVICE_CHARS = 250
# Pieces of sentences that never belong in the name of a service: the original-request
# construction's verbs and nouns, an outcome, a copula before the outcome's colon.
SENTENCE_MACHINERY = [
    (re.compile(r"\bwas\s+the\s+original\s+request\b", re.I), "was the original request"),
    (re.compile(r"\boriginal\s+request\b", re.I), "original request"),
    (re.compile(r"\bleaving\b", re.I), "leaving"),
    (re.compile(r"\bIMR[\s-]+eligible\b", re.I), "IMR eligible"),
    (re.compile(r"\b(?:was|were)\s+(?:authori[sz]ed|certified|approved|modified|requested|denied)\b", re.I),
     "a passive verb (was authorized/requested ...)"),
    (re.compile(r"\bClaims\s+Administrator\b", re.I), "Claims Administrator"),
    (re.compile(r"\b(?:is|are)\s*:?\s*$", re.I), "a trailing 'is'"),
    (re.compile(r"\b(?:is|are)\s*:", re.I), "'is:'"),
    (OUTCOME_WORD, "an outcome word"),
    (re.compile(r"\bmedically\s+necessary\b|\btherefore\b|\bis\s+not\s+(?:recommended|supported)\b", re.I),
     "a reviewer's conclusion"),
    (re.compile(r"(?:\b[a-z]{2,}|[0-9)%\"”’])\.\s+[A-Z]"), "a sentence break"),
]


def service_name(decision: Decision, letter: Letter) -> list[ReviewFlag]:
    """A service (and an original request or authorised portion) is a noun phrase of plausible
    length, without sentence machinery."""
    flags = []
    for n, item in enumerate(decision.items):
        span = span_of(item.evidence.service) or span_of(item.evidence.determination)
        if not item.service.strip():
            flags.append(flag("service_name", "the service name is empty", n, span))
        for label, value in (("service name", item.service), ("original request", item.original_request),
                             ("authorised portion", item.authorized_portion)):
            if problem := _not_a_noun_phrase(value.strip() if value else ""):
                flags.append(flag("service_name", f"the {label} {problem}: '{_short(value.strip())}'", n, span))
    return flags


def _not_a_noun_phrase(value: str) -> str | None:
    if not value:
        return None
    words = len(value.split())
    if words > MAX_SERVICE_WORDS or len(value) > MAX_SERVICE_CHARS:
        return f"is {words} words long"
    machinery = [label for pattern, label in SENTENCE_MACHINERY if pattern.search(value)]
    return f"contains {', '.join(machinery)}" if machinery else None


def _short(value: str, limit: int = 90) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


# -- original request / authorised portion ------------------------------------------------------
# The construction "X was the original request. Y was authorized ... The remaining portion, Z is",
# in any wording: an original request named, or the claims administrator authorising part of it.
PARTIAL_CONSTRUCTION = re.compile(
    r"\boriginal\s+request\b"
    r"|\b(?:was|were)\s+requested\b"
    r"|\bIMR[\s-]+eligible\b|\beligible\s+for\s+IMR\b"
    r"|\b(?:authori[sz]ed|certified|approved|modified)\b[^.:\n]{0,40}\bby\s+the\s+Claims\s+Administrator\b"
    r"|\bClaims\s+Administrator\s+(?:has\s+)?(?:authori[sz]ed|certified|approved|modified)\b",
    re.IGNORECASE,
)


def partial_request(decision: Decision, letter: Letter) -> list[ReviewFlag]:
    """Original request and authorised portion come together, and when the item's heading uses
    the partial-authorisation construction the record has both."""
    flags = []
    for n, item in enumerate(decision.items):
        has = (item.original_request is not None, item.authorized_portion is not None)
        span = _heading_span(item, letter)
        if has[0] != has[1]:
            present, missing = ("original request", "authorised portion") if has[0] else ("authorised portion", "original request")
            flags.append(flag("partial_request", f"the record has an {present} but no {missing}", n, span))
            continue
        if not has[0] and span is not None:
            heading = letter.text[span[0] : span[1]]
            if m := PARTIAL_CONSTRUCTION.search(heading):
                flags.append(flag(
                    "partial_request",
                    f"the letter states a partial authorisation ('{m.group(0)}') but the record has no original"
                    " request or authorised portion",
                    n, (span[0] + m.start(), span[0] + m.end()),
                ))
    return flags


def _heading_span(item: DisputedItem, letter: Letter) -> tuple[int, int] | None:
    """Where the item's heading sits: its service and outcome spans, from the earlier to the later."""
    spans = [s for s in (span_of(item.evidence.service), span_of(item.evidence.determination)) if s]
    spans = [s for s in spans if 0 <= s[0] < s[1] <= len(letter.text)]
    if not spans:
        return None
    return min(s[0] for s in spans), max(s[1] for s in spans)


# -- dates ---------------------------------------------------------------------------------------
DATE_ORDER = ("date_of_injury", "ur_denial_date", "date_assigned", "decision_date")
DATE_FIELDS = (*DATE_ORDER, "application_received")
LABELS = {
    "date_of_injury": "injury", "ur_denial_date": "UR denial", "date_assigned": "assigned",
    "decision_date": "decision", "application_received": "application received",
}


def date_order(decision: Decision, letter: Letter) -> list[ReviewFlag]:
    """Injury <= UR denial <= assigned <= decision; no date in the future; every date a real one."""
    flags = []
    known: list[tuple[str, date]] = []
    for field in DATE_FIELDS:
        value = getattr(decision, field)
        if value is None:
            continue
        try:
            when = date.fromisoformat(value)
        except ValueError:
            flags.append(flag("date_order", f"{LABELS[field]} date '{value}' is not a date", span=find_date(letter.text, value)))
            continue
        if when > letter.today:
            flags.append(flag(
                "date_order", f"{LABELS[field]} date {value} is in the future", span=find_date(letter.text, value),
            ))
        if field in DATE_ORDER:
            known.append((field, when))
    for (a, when_a), (b, when_b) in zip(known, known[1:]):
        if when_a > when_b:
            flags.append(flag(
                "date_order", f"{LABELS[a]} date {when_a} is after {LABELS[b]} date {when_b}",
                span=find_date(letter.text, when_a.isoformat()),
            ))
    return flags


MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def find_date(text: str, iso: str) -> tuple[int, int] | None:
    """Where the letter writes an ISO date (01/31/2017, 1/31/17, Jan/31/2017, January 31, 2017)."""
    try:
        when = date.fromisoformat(iso)
    except ValueError:
        return None
    month, day, year = when.month, when.day, when.year
    mon = MONTHS[month - 1]
    pattern = re.compile(
        rf"\b0?{month}[/-]0?{day}[/-](?:{year}|{year % 100:02d})\b"
        rf"|\b{mon}[a-z]*\.?[/ -]0?{day},?[/ -]{year}\b",
        re.IGNORECASE,
    )
    m = pattern.search(text)
    return (m.start(), m.end()) if m else None


# -- page furniture inside a field -------------------------------------------------------------
def furniture_lines(text: str, case_number: str | None) -> set[str]:
    """Running headers and footers: short lines that recur with a changing page number ("Page 2
    of 4", "- 2 -", "2/4") or with the letter's case number, and recurring lines right beside them."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    nonblank = [line for line in lines if line]
    counts: dict[str, int] = {}
    for line in nonblank:
        counts[line] = counts.get(line, 0) + 1
    shapes: dict[str, set[str]] = {}
    for line in counts:
        if len(line) <= 80 and (re.search(r"\bpage\b", line, re.I) or len(re.findall(r"[A-Za-z]", line)) <= 2):
            shapes.setdefault(re.sub(r"\b\d{1,3}\b", "#", line), set()).add(line)
    numbered = {line for shape, seen in shapes.items() if "#" in shape and len(seen) > 1 for line in seen}
    numbered |= {line for line, n in counts.items() if case_number and case_number in line and len(line) <= 80 and n > 1}
    beside = {
        other
        for k, line in enumerate(nonblank) if line in numbered
        for other in nonblank[max(0, k - 1) : k + 2]
        if other not in numbered and counts[other] > 1 and len(other) <= 80
    }
    return numbered | beside


def page_furniture(decision: Decision, letter: Letter) -> list[ReviewFlag]:
    """No service, request, specialty or guideline citation holds a page header or footer (a page
    break fell inside what was read)."""
    furniture = furniture_lines(letter.text, decision.case_number)
    fields: list[tuple[str, str | None, int | None, tuple[int, int] | None]] = [
        ("reviewer specialty", decision.reviewer.specialty, None, None)
    ]
    for n, item in enumerate(decision.items):
        span = span_of(item.evidence.service) or span_of(item.evidence.determination)
        fields += [("service", item.service, n, span), ("original request", item.original_request, n, span),
                   ("authorised portion", item.authorized_portion, n, span)]
        fields += [("guideline citation", g.citation, n, None) for g in item.guidelines]
    flags = []
    for label, value, n, span in fields:
        if not value:
            continue
        value = " ".join(value.split())
        found = None
        if decision.case_number and decision.case_number in value:
            found = decision.case_number
        if found is None:
            found = next((line for line in furniture if re.search(rf"(?<!\S){re.escape(line)}(?!\S)", value)), None)
        if found is not None:
            flags.append(flag("page_furniture", f"the {label} holds page furniture '{found}': '{_short(value)}'", n, span))
    return flags


# -- fields the letter states but the record lacks ---------------------------------------------
def _label(words: str) -> str:
    """A label pattern that also reads typeset ligatures ("Certiﬁcation") and wrapped lines."""
    pattern = r"\s+".join(re.escape(w) for w in words.split())
    for plain, ligature in (("fi", "\ufb01"), ("fl", "\ufb02"), ("ff", "\ufb00")):
        pattern = pattern.replace(plain, f"(?:{plain}|{ligature})")
    return pattern


DATE_VALUE = r"[ \t]*(?:\d{1,2}[/-]\d{1,2}[/-]\d{2,4}|[A-Za-z]{3,9}\.?[/ -]\d{1,2},?[/ -]\d{4})"
STATED = [
    ("date_of_injury", "date of injury", re.compile(_label("Date of Injury") + r"\s*:" + DATE_VALUE, re.I)),
    ("decision_date", "decision date", re.compile(_label("Decision Date") + r"\s*:" + DATE_VALUE, re.I)),
    ("date_assigned", "date assigned", re.compile(_label("Date Assigned") + r"\s*:" + DATE_VALUE, re.I)),
    ("ur_denial_date", "UR denial date", re.compile(_label("UR Denial Date") + r"\s*:" + DATE_VALUE, re.I)),
    ("reviewer.specialty", "reviewer specialty", re.compile(
        _label("Certification(s)/Specialty") + r"\s*:[ \t]*\w|" + _label("Board Certified") + r"\s+(?:in\s+)?[A-Z]", re.I)),
]


def stated_fields(decision: Decision, letter: Letter) -> list[ReviewFlag]:
    """A date or the reviewer's specialty the letter gives under its label is in the record."""
    flags = []
    for field, label, pattern in STATED:
        owner, _, name = field.rpartition(".")
        value = getattr(getattr(decision, owner) if owner else decision, name)
        if value:
            continue
        if m := pattern.search(letter.text):
            flags.append(flag(
                "stated_fields", f"the letter states a {label} ('{_short(' '.join(m.group(0).split()), 60)}'),"
                " the record has none", span=(m.start(), m.end()),
            ))
    return flags


GENERIC_CHECKS: tuple[Check, ...] = (
    determination_backed, service_name, partial_request, date_order, page_furniture, stated_fields,
)
