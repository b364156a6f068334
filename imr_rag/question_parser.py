"""The offline reader of analyst questions: words in, a `CatalogQuery` plan out, plus every
phrase it could not place.

Each recogniser consumes the words it understood (a case number, a date or date range, an
outcome, a group-by, a guideline family, a reviewer specialty, a letter format, what to return);
what is left names the service. A leftover phrase that looks like a constraint (a date-like
word, a number, a named thing after "from"/"at"/"by") is reported as not understood, so the
answer can say so instead of answering a different question.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from imr_rag.catalog_query import CatalogQuery
from imr_rag.schema import Category, Determination
from imr_rag.textutil import plural_blind, fold_look_alikes, strip_invisible

MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
MONTH = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
YEAR = r"(?:19|20)\d\d"
ORDINAL_QUARTER = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": 4}
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "nine": 9, "twelve": 12}

# One date expression; each alternative is a named group the reader turns into a (start, end) span.
DATE = re.compile(
    rf"(?P<iso>\b{YEAR}-\d\d-\d\d\b)"
    rf"|(?P<us>\b\d{{1,2}}/\d{{1,2}}/{YEAR}\b)"
    rf"|(?P<mdy>\b{MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{YEAR}\b)"
    rf"|(?P<dmy>\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH},?\s+{YEAR}\b)"
    rf"|(?P<my>\b{MONTH},?\s+(?:of\s+)?{YEAR}\b)"
    rf"|(?P<ym>\b{YEAR}-\d\d\b)"
    rf"|(?P<mslash>\b\d{{1,2}}/{YEAR}\b)"
    rf"|(?P<q>\bq([1-4])\s*(?:of\s+|,\s*)?({YEAR})\b)"
    rf"|(?P<yq>\b({YEAR})\s*-?\s*q([1-4])\b)"
    rf"|(?P<oq>\b(first|1st|second|2nd|third|3rd|fourth|4th|last)\s+quarter\s+(?:of\s+)?({YEAR})\b)"
    rf"|(?P<rel>\b(?:the\s+)?(?:last|past|previous|latest|most\s+recent)\s+(?:(\d+|two|three|four|five|six|nine|twelve)\s+)?"
    rf"(month|quarter|year)s?\b)"
    rf"|(?P<this>\bthis\s+(month|quarter|year)\b)"
    rf"|(?P<year>\b{YEAR}\b)"
    rf"|(?P<mon>\b{MONTH}(?!\w))",
    re.I,
)
# What may stand before a date and what it does to the span.
BEFORE = re.compile(r"\b(?:before|prior\s+to|earlier\s+than|until|up\s+to)\s*$", re.I)
AFTER = re.compile(r"\b(?:after|later\s+than)\s*$", re.I)
SINCE = re.compile(r"\b(?:since|from|starting|on\s+or\s+after|beginning)\s*$", re.I)
BETWEEN = re.compile(r"\bbetween\s*$", re.I)
RANGE_JOIN = re.compile(r"^\s*(?:and|to|through|thru|until|-|–)\s*$", re.I)
INJURY_DATE = re.compile(r"\b(injur\w*|hurt|accident)\b[^.?]{0,20}$", re.I)

CASE_NUMBER_LIKE = re.compile(r"\b(?:[A-Z]{2}\d{2}-\d{5,8}|\d{4}-\d{4,6})\b", re.I)

OUTCOMES = [
    (re.compile(r"\bpartial(?:ly)?\s+overturn\w*|\bpartial\s+overturns?\b|\bpartly\s+overturn\w*", re.I),
     Determination.partially_overturned),
    (re.compile(r"\boverturn\w*|\breversed\b|\bapprov(?:ed|e|es|al|ing)\b|\bgrant(?:ed|s)?\b|\bcertified\b|(?<!not\s)\bmedically\s+necessary\b", re.I),
     Determination.overturned),
    (re.compile(r"\buph(?:e|o)ld\w*|\bdenied\b|\bdenials?\b|\bden(?:y|ies|ying)\b|\bnot\s+medically\s+necessary\b|\bnon-?certified\b|\brejected\b", re.I),
     Determination.upheld),
]
PARTLY_AUTHORIZED = re.compile(
    r"\b(?:part|portion|partially|partly)\b[^?]*?\bauthori[sz]ed(?:\s+by\s+the\s+claims\s+administrator)?"
    r"|\bauthori[sz]ed\b[^?]*?\b(?:part|portion)\b(?:\s+of\s+the\s+(?:original\s+)?request)?"
    r"|\bpartial(?:ly)?\s+authori[sz]\w+",
    re.I,
)
# The counted unit is the letter when the noun the count cue governs is letters/cases/decisions
# ("total number of decision letters", "overall count of IMR cases"), not items.
_NOT_ITEM = r"(?:(?!(?:items?|requests?|services?|treatments?|medications?|of)\b)\w+\s+)"
COUNT_LETTERS = re.compile(
    rf"\b(?:how\s+many|number\s+of|count\s+of|total|tally\s+of)\s+{_NOT_ITEM}{{0,3}}(?:letters|cases|decisions|claims)\b"
    r"|\bin\s+how\s+many\s+(?:letters|cases)\b",
    re.I,
)
SHARE = re.compile(
    r"\bwhat\s+(?:share|percent(?:age)?|proportion|fraction|portion|part|ratio)\b|\bhow\s+often\b|\b(?:share|percent(?:age)?|proportion|fraction)\s+of\b"
    r"|\b(?:overturn|uphold|approval|denial|success|win)\s+rates?\b|\brate\s+of\b|\bwhat\s+rate\b|\bhow\s+likely\b|\blikelihood\b|\bwhat\s+%",
    re.I,
)
COUNT = re.compile(r"\bhow\s+many\b|\bnumber\s+of\b|\bcount\b|\btotal\b|\btally\b", re.I)
LIST = re.compile(r"^\s*(?:which|list|show|name|give|what)\b(?:\s+(?:me|all|the))*\s*(?:\w+\s+){0,3}?(?:requests|items|services|letters|cases|treatments|medications|decisions)\b|^\s*list\b", re.I)
COMPARE = re.compile(
    r"\s+(?:vs\.?|versus|compared?s?\s+(?:to|with)|against|(?:more|less)\s+(?:often|frequently|likely)\s+than)\s+", re.I
)
COMPARE_WHICH = re.compile(
    r"\bwhich\b.*?\b(?:more|less|most|least)\s+(?:often|frequently|likely)\b[,:]?\s*(?P<a>.+?)\s+or\s+(?P<b>.+)", re.I
)
COMPARE_WORD = re.compile(r"\bcompar(?:e|ed|ing|ison)\b|\bdifference\s+between\b|\bdiffer(?:s|ed|ence|ences)?\b", re.I)
# The two sides of a comparison named by a cue elsewhere ("how do X and Y differ").
COMPARE_JOINED = re.compile(r"(?P<a>.+?)\s+(?:and|or|&|vs\.?)\s+(?P<b>.+)", re.I)
COMPARE_BETWEEN = re.compile(r"\b(?:compare|between|difference\s+between)\s+(?:the\s+)?(?P<a>.+?)\s+(?:and|with|to)\s+(?P<b>.+)", re.I)
GROUP = [
    (re.compile(r"\b(?:by|per|each|every|for\s+each|across|broken\s+down\s+by|split\s+by|grouped\s+by)\s+(?:the\s+)?(?:decision\s+)?months?\b|\bmonthly\b|\bmonth\s+by\s+month\b|\bwhich\s+months?\b", re.I), "month"),
    (re.compile(r"\b(?:by|per|each|every|for\s+each|across|broken\s+down\s+by|split\s+by|grouped\s+by)\s+(?:the\s+)?quarters?\b|\bquarterly\b|\bwhich\s+quarters?\b", re.I), "quarter"),
    (re.compile(r"\b(?:by|per|each|every|for\s+each|across|broken\s+down\s+by|split\s+by|grouped\s+by)\s+(?:the\s+)?years?\b|\byearly\b|\bannual(?:ly)?\b|\byear\s+by\s+year\b|\bwhich\s+years?\b", re.I), "year"),
    (re.compile(r"\b(?:by|per|each|every|for\s+each|across|broken\s+down\s+by|split\s+by|grouped\s+by)\s+(?:the\s+)?(?:reviewer(?:'s)?\s+)?(?:specialt(?:y|ies)|board\s+certifications?)\b|\bwhich\s+(?:reviewer\s+)?specialt(?:y|ies)\b|\bwhat\s+(?:reviewer\s+)?specialt(?:y|ies)\s+(?!of\b|was\b|is\b|did\b)", re.I), "specialty"),
    (re.compile(r"\b(?:by|per|each|every|for\s+each|across|broken\s+down\s+by|split\s+by|grouped\s+by)\s+(?:the\s+)?(?:service\s+)?(?:categor(?:y|ies)|kinds?\s+of\s+(?:service|treatment)s?|types?\s+of\s+(?:service|treatment)s?)\b|\bwhich\s+(?:service\s+)?categor(?:y|ies)\b|\bwhich\s+kinds?\s+of\s+(?:service|treatment)s?\b", re.I), "category"),
    (re.compile(r"\b(?:by|per|each|every|for\s+each|across|broken\s+down\s+by|split\s+by|grouped\s+by)\s+(?:the\s+)?guidelines?(?:\s+famil(?:y|ies))?\b|\bwhich\s+guidelines?(?:\s+famil(?:y|ies))?\s+(?:is|are|was|were)\s+(?:cited|used|relied\s+on)\s+(?:the\s+)?most\b", re.I), "guideline"),
    (re.compile(r"\b(?:by|per|each|every|for\s+each|broken\s+down\s+by|split\s+by|grouped\s+by)\s+(?:the\s+)?(?:outcome|determination|decision|result)s?\b", re.I), "determination"),
]
GUIDELINES = [
    (re.compile(r"\b(?:the\s+)?(?:ca(?:lifornia)?\s+)?mtus\b(?:\s+(?:chronic\s+pain\s+)?guidelines?)?|\bchronic\s+pain\s+medical\s+treatment\s+guidelines?\b", re.I), "MTUS"),
    (re.compile(r"\b(?:the\s+)?odg\b(?:\s+guidelines?)?|\bofficial\s+disability\s+guidelines?(?:\s+\(odg\))?", re.I), "ODG"),
    (re.compile(r"\b(?:the\s+)?acoem\b(?:\s+guidelines?)?", re.I), "ACOEM"),
]
GUIDELINE_VERB = re.compile(r"\b(?:citing|cited|cite|cites|based\s+on|under|using|relying\s+on|relied\s+on|with)\s*$", re.I)
FORMATS = [
    (re.compile(r"\b(?:texas|tx)\b(?:\s+(?:iro|independent\s+review\s+organi[sz]ation))?|\biro\b|\bindependent\s+review\s+organi[sz]ation\b", re.I), "tx_iro"),
    (re.compile(r"\b(?:california|ca|dwc)\b(?:\s+(?:dwc|imr))?|\bmaximus\b", re.I), "ca_dwc_imr"),
]
# A reviewer named by role rather than by specialty.
ROLE_SPECIALTY = {
    "surgeon": "surgery", "psychiatrist": "psychiatry", "psychologist": "psychology", "neurologist": "neurology",
    "anesthesiologist": "anesthesiology", "internist": "internal medicine", "physiatrist": "physical medicine",
    "orthopedist": "orthopedic", "rheumatologist": "rheumatology", "neurosurgeon": "neurological surgery",
    "chiropractor": "chiropractic", "podiatrist": "podiatry", "dentist": "dentistry",
}
SPECIALTY_CUE = re.compile(
    r"\b(?:reviewed|decided|reviewers?|review|physicians?|doctors?|specialists?|specialty|certified|surgeons?)\b", re.I
)
FIELDS = [
    ("rationale", re.compile(r"^\s*why\b|\bwhat\s+(?:was|is)\s+the\s+(?:reason|rationale)|\b(?:reason|rationale|reasoning)\s+(?:for|behind)\b|\bexplain\b|\bon\s+what\s+grounds\b", re.I)),
    ("reviewer_licensure", re.compile(r"\blicen[cs]\w*|\blicensed\b", re.I)),
    ("reviewer_specialty", re.compile(r"\bspecialt(?:y|ies)\b|\bboard[- ]certif\w*|\b(?:what|which)\s+(?:field|area|discipline|branch)(?:\s+of\s+(?:medicine|practice|expertise))?\b(?=.*\b(?:reviewer|physician|doctor|certified|expert|practi[cs]\w*)\b)|\bwhat\s+(?:kind|type)\s+of\s+(?:doctor|physician)|\bwho\s+reviewed\b|\bcertification", re.I)),
    ("patient_age", re.compile(r"\bhow\s+old\b|\bage\b|\baged\b", re.I)),
    ("patient_sex", re.compile(r"\bsex\b|\bgender\b|\bmale\s+or\s+female\b|\bman\s+or\s+(?:a\s+)?woman\b", re.I)),
    ("date_of_injury", re.compile(r"\b(?:date\s+of\s+(?:the\s+)?injury|injury\s+date|date\s+of\s+injury|doi)\b|\bwhen\s+was\s+(?:the\s+)?(?:injured\s+)?(?:patient|worker|applicant|employee)\s+(?:hurt|injured)|\bwhen\s+did\s+the\s+injury", re.I)),
    ("ur_denial_date", re.compile(r"\bur\s+denial|\butilization\s+review\s+(?:denial|decision)|\bdenial\s+date\b", re.I)),
    ("date_assigned", re.compile(r"\bdate\s+assigned\b|\bassigned\b", re.I)),
    ("application_received", re.compile(r"\bapplication\s+(?:was\s+)?received\b|\breceived\b", re.I)),
    ("decision_date", re.compile(r"\bdecision\s+date\b|\bdate\s+of\s+(?:the\s+)?decision\b|\bwhen\s+(?:was|were|is)\b.*\b(?:decided|issued|made|signed|dated|sent)\b|\bwhat\s+date\b|\bwhen\s+was\s+(?:it|the\s+(?:letter|decision|case))\b|\bdated\b", re.I)),
    ("guidelines", re.compile(r"\bguidelines?\b|\bcriteria\b|\bcited?\b|\bcitations?\b", re.I)),
    ("diagnoses", re.compile(r"\bdiagnos[ie]s\b|\bdiagnosed\b|\bconditions?\b", re.I)),
]
CATEGORY_WORDS = {
    "medication": Category.medication, "medicine": Category.medication, "drug": Category.medication,
    "prescription": Category.medication, "pharmacy": Category.medication,
    "imaging": Category.imaging, "surgery": Category.surgery, "surgical": Category.surgery,
    "operation": Category.surgery, "procedure": Category.surgery, "therapy": Category.therapy,
    "injection": Category.injection, "dme": Category.dme, "equipment": Category.dme, "other": Category.other,
    "surgerie": Category.surgery, "therapie": Category.therapy, "medical equipment": Category.dme,
    "durable medical equipment": Category.dme,
}
# Words that say what is asked or counted, never which service.
FILLER = frozenset(
    """a an and are as at be been but by can could did do does for from had has have how i if in into is it its me
    of on or please that the their them then there these they this those to was were what when where which who whom
    will with would about any all each every many much number count counted total overall altogether whole there
    letter letters case cases decision decisions decided review reviews reviewed reviewer reviewers independent imr
    medical request requests requested requesting item items disputed dispute service services treatment treatments
    share percent percentage proportion fraction rate rates ratio portion part how often outcome outcomes determination
    determinations result results issued made library corpus collection our we us you my list show give name tell
    find get out so far one ones type types kind kinds category categories both either compare compared versus vs
    against between than more most less least higher lower likely likelihood got get ended end up wind overall
    record records data set dataset database catalog catalogue there's what's whats happened happen status was final
    finally ever also some cases' claims claim patient patients physician physicians doctor doctors worker workers
    applicant applicants employee employees injured person people cite cites cited citing based reviewer's covered
    patient's letter's remaining remainder during among dated used use break down breakdown tally split grouped
    decide decides deciding determine determined determining rule ruled conclude concluded say said expert experts""".split()
)
TIME_WORDS = frozenset(
    """yesterday today tomorrow weekend weekends recently lately spring summer autumn winter season fiscal semester
    decade decades century holiday holidays ago""".split()
)
# A time span the reader does not handle ("last week", "this decade", "past 10 days").
TIME_PHRASE = re.compile(
    r"\b(?:last|past|previous|this|next|recent)\s+(?:\d+\s+|few\s+|couple\s+of\s+)?(?:weeks?|days?|decades?|semesters?|seasons?)\b"
    r"|\b(?:in|during)\s+the\s+(?:fall|spring|summer|winter)\b",
    re.I,
)
NAMED_AFTER = re.compile(r"\b(?:from|at|by|in|near|with)\s+(?:dr\.?\s+|doctor\s+)?(?P<name>[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+)*)")


@dataclass
class QuestionContext:
    """What the parser needs to know about the library: its newest decision date (for "last
    month"), the reviewer specialties it has, and the case number the question names, if known."""

    newest: dt.date | None = None
    specialties: list[str] = field(default_factory=list)
    case_number: str | None = None
    mentions: Callable[[str], bool] | None = None  # does any letter use this word?


@dataclass
class ParsedQuestion:
    """The plan, how its dates were read, and what could not be placed."""

    plan: CatalogQuery
    service: str = ""
    service_as_asked: str = ""
    not_understood: list[str] = field(default_factory=list)
    leftover: list[str] = field(default_factory=list)
    date_reading: str | None = None
    kind_explicit: bool = False  # the question said what to return (count, share, ...)


# Phrases that say the items were disputed, never which service ("under review", "at issue").
DISPUTED_PHRASE = re.compile(r"\b(?:under|in|up\s+for)\s+(?:review|dispute|question)\b|\bat\s+issue\b|\bin\s+question\b", re.I)


class _Text:
    """The question with the parts already understood blanked out."""

    def __init__(self, text: str):
        self.original = text
        self.rest = text

    def take(self, start: int, end: int) -> None:
        self.rest = self.rest[:start] + " " * (end - start) + self.rest[end:]

    def take_all(self, pattern: re.Pattern) -> list[re.Match]:
        found = list(pattern.finditer(self.rest))
        for m in found:
            self.take(m.start(), m.end())
        return found


def _month_span(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _quarter_span(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 3 * quarter - 2, 1), _month_span(year, 3 * quarter)[1]


def _shift_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _date_span(m: re.Match, ctx: QuestionContext) -> tuple[dt.date, dt.date, str] | None:
    """(first day, last day, how it was read) of one date expression; None when it cannot be
    placed (e.g. "last month" in an empty library, or 31/02/2016)."""
    text = m.group(0)
    kind = m.lastgroup
    try:
        if kind == "iso":
            d = dt.date.fromisoformat(text)
            return d, d, d.isoformat()
        if kind == "us":
            month, day, year = (int(x) for x in text.split("/"))
            d = dt.date(year, month, day)
            return d, d, d.isoformat()
        if kind in ("mdy", "dmy"):
            year = int(re.search(YEAR, text).group(0))
            month = MONTHS[re.search(MONTH, text, re.I).group(0).lower().rstrip(".")]
            day = int(re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b(?!\d)", text.replace(str(year), "")).group(1))
            d = dt.date(year, month, day)
            return d, d, d.isoformat()
        if kind == "my":
            year = int(re.search(YEAR, text).group(0))
            month = MONTHS[re.search(MONTH, text, re.I).group(0).lower().rstrip(".")]
            return (*_month_span(year, month), f"{calendar.month_name[month]} {year}")
        if kind == "ym":
            year, month = (int(x) for x in text.split("-"))
            return (*_month_span(year, month), f"{calendar.month_name[month]} {year}")
        if kind == "mslash":
            month, year = (int(x) for x in text.split("/"))
            return (*_month_span(year, month), f"{calendar.month_name[month]} {year}")
        if kind in ("q", "yq", "oq"):
            if kind == "q":
                quarter, year = int(text.strip()[1]), int(re.search(YEAR, text).group(0))
            elif kind == "yq":
                year, quarter = int(re.search(YEAR, text).group(0)), int(text[-1])
            else:
                year = int(re.search(YEAR, text).group(0))
                quarter = ORDINAL_QUARTER[text.split()[0].lower()]
            return (*_quarter_span(year, quarter), f"Q{quarter} {year}")
        if kind == "year":
            year = int(text)
            return dt.date(year, 1, 1), dt.date(year, 12, 31), str(year)
        if kind in ("rel", "this"):
            if ctx.newest is None:
                return None
            unit = re.search(r"(month|quarter|year)", text, re.I).group(1).lower()
            count_word = re.search(r"\b(\d+|two|three|four|five|six|nine|twelve)\b", text, re.I)
            count = 1 if count_word is None else int(NUMBER_WORDS.get(count_word.group(1).lower(), count_word.group(1)))
            newest = ctx.newest
            if unit == "month":
                start = _shift_months(newest.replace(day=1), -(count - 1))
                end = _month_span(newest.year, newest.month)[1]
            elif unit == "quarter":
                q = (newest.month - 1) // 3 + 1
                start = _shift_months(_quarter_span(newest.year, q)[0], -3 * (count - 1))
                end = _quarter_span(newest.year, q)[1]
            else:
                start, end = dt.date(newest.year - count + 1, 1, 1), dt.date(newest.year, 12, 31)
            label = f"{text.strip()} (relative to the newest letter, decided {newest.isoformat()}: {start.isoformat()} to {end.isoformat()})"
            return start, end, label
        if kind == "mon":
            if ctx.newest is None:
                return None
            month = MONTHS[text.lower().rstrip(".")]
            year = ctx.newest.year if month <= ctx.newest.month else ctx.newest.year - 1
            return (*_month_span(year, month), f"{calendar.month_name[month]} {year} (the latest {calendar.month_name[month]} in the library)")
    except (ValueError, KeyError, AttributeError):
        return None
    return None


def _read_dates(t: _Text, ctx: QuestionContext, out: ParsedQuestion) -> tuple[dt.date | None, dt.date | None]:
    """Decision-date bounds from every date expression, with before/after/between/since."""
    found = []
    for m in DATE.finditer(t.rest):
        if m.lastgroup == "mon" and re.match(r"\s*(?:may|mar|march)\b", m.group(0), re.I):
            # "may" is mostly a verb; "march" only counts before a year (handled by "my")
            if m.group(0).strip().lower().startswith("may") or not re.search(r"\b(?:in|during|of|for)\s*$", t.rest[:m.start()]):
                continue
        found.append(m)
    if not found:
        return None, None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    labels: list[str] = []
    i = 0
    while i < len(found):
        m = found[i]
        span = _date_span(m, ctx)
        before_text = t.rest[: m.start()]
        if re.search(r"\bDOS\s*:?\s*$", before_text, re.I):  # a date of service is part of the service's name
            i += 1
            continue
        if INJURY_DATE.search(before_text):
            out.not_understood.append(f"{m.group(0).strip()} (dates of injury cannot be filtered on; only decision dates)")
            t.take(m.start(), m.end())
            i += 1
            continue
        if span is None:
            out.not_understood.append(m.group(0).strip())
            t.take(m.start(), m.end())
            i += 1
            continue
        start, end, label = span
        joined = found[i + 1] if i + 1 < len(found) and RANGE_JOIN.match(t.rest[m.end(): found[i + 1].start()]) else None
        between = BETWEEN.search(before_text)
        since = SINCE.search(before_text)
        if joined is not None and (between or since or True):
            other = _date_span(joined, ctx)
            if other is None:
                out.not_understood.append(joined.group(0).strip())
                other = (end, end, label)
            lo, hi = start, other[1]
            date_from, date_to = _tighten(date_from, date_to, lo, hi)
            labels.append(f"between {label} and {other[2]}")
            cut = (between or since).start() if (between or since) else m.start()
            t.take(cut, joined.end())
            i += 2
            continue
        if BEFORE.search(before_text):
            date_from, date_to = _tighten(date_from, date_to, None, start - dt.timedelta(days=1))
            labels.append(f"before {label}")
            t.take(BEFORE.search(before_text).start(), m.end())
        elif AFTER.search(before_text):
            date_from, date_to = _tighten(date_from, date_to, end + dt.timedelta(days=1), None)
            labels.append(f"after {label}")
            t.take(AFTER.search(before_text).start(), m.end())
        elif since:
            date_from, date_to = _tighten(date_from, date_to, start, None)
            labels.append(f"since {label}")
            t.take(since.start(), m.end())
        else:
            date_from, date_to = _tighten(date_from, date_to, start, end)
            labels.append(f"in {label}")
            t.take(m.start(), m.end())
        i += 1
    out.date_reading = "; ".join(labels) or None
    return date_from, date_to


def _tighten(lo: dt.date | None, hi: dt.date | None, new_lo: dt.date | None, new_hi: dt.date | None):
    if new_lo is not None:
        lo = new_lo if lo is None else max(lo, new_lo)
    if new_hi is not None:
        hi = new_hi if hi is None else min(hi, new_hi)
    return lo, hi


def _read_specialty(t: _Text, ctx: QuestionContext) -> str | None:
    """A reviewer specialty the question names (only when it speaks of reviewers or doctors)."""
    if not ctx.specialties or not SPECIALTY_CUE.search(t.original):
        return None
    lowered = t.rest.lower().replace("orthopaedic", "orthopedic")
    for role, name in ROLE_SPECIALTY.items():
        lowered = re.sub(rf"\b{role}s?\b", name, lowered)
    best = None
    for specialty in ctx.specialties:
        name = specialty.lower().replace("orthopaedic", "orthopedic")
        words = [plural_blind(w) for w in re.findall(r"[a-z]+", name) if w not in ("and", "of")]
        if not words:
            continue
        pattern = r"\b" + r"\W+(?:and\s+|&\s+)?".join(re.escape(w) + r"\w{0,3}" for w in words) + r"\b"
        m = re.search(pattern, lowered)
        if m is None and len(words) > 1 and words[-1] in ("medicine", "surgery"):  # "orthopedic reviewers"
            m = re.search(r"\b" + r"\W+".join(re.escape(w) + r"\w{0,3}" for w in words[:-1]) + r"\b", lowered)
        if m and (best is None or len(specialty) > len(best[0])):
            best = (specialty, m)
    if best is None:
        return None
    specialty, m = best
    # blank the same characters in the question (the substitutions above keep no offsets, so find again)
    first = re.escape(re.findall(r"[a-z]+", m.group(0))[0][:5])
    again = re.search(rf"\b{first}\w*(?:\W+\w+){{0,{len(m.group(0).split()) - 1}}}", t.rest, re.I)
    if again:
        t.take(again.start(), again.end())
    return specialty


def parse_question(question: str, ctx: QuestionContext | None = None) -> ParsedQuestion:
    """The plan for a question, with everything that could not be placed."""
    ctx = ctx or QuestionContext()
    t = _Text(fold_look_alikes(strip_invisible(question)))  # a case number read however it was typed
    out = ParsedQuestion(plan=CatalogQuery())
    values: dict = {}

    if ctx.case_number:
        values["case_number"] = ctx.case_number
        t.take_all(re.compile(rf"\b(?:(?:under|within)\s+)?(?:(?:the\s+)?case\s+(?:number\s+|no\.?\s+|#\s*)?)?{re.escape(ctx.case_number)}\b", re.I))
    for m in t.take_all(re.compile(r"\b(?:case\s+(?:number\s+|no\.?\s+|#\s*)?)?" + CASE_NUMBER_LIKE.pattern, re.I)):
        out.not_understood.append(f"case {m.group(0).split()[-1]} (no letter in the library has this case number)")

    # Fields of one case come before dates ("date of injury") and outcomes ("UR denial").
    field_name = None
    for name, pattern in FIELDS:
        if pattern.search(t.rest):
            field_name = name
            break
    asks_group = any(p.search(t.rest) for p, _ in GROUP)
    about_one_case = ctx.case_number is not None and not asks_group and not COUNT.search(t.rest)
    if field_name == "rationale" or (field_name and about_one_case):
        values["returns"] = "field"
        values["field"] = field_name
        out.kind_explicit = True
        if field_name in ("reviewer_specialty", "reviewer_licensure"):
            t.take_all(dict(FIELDS)[field_name])
            t.take_all(re.compile(r"\b(?:board[- ])?certified\b|\b(?:is|was)\s+(?:the\s+)?(?:\w+\s+)?reviewer\s+in\b|\bpractic\w*(?:\s+in)?\b|\bmedicine\b", re.I))
    else:
        field_name = None

    t.take_all(DISPUTED_PHRASE)
    if PARTLY_AUTHORIZED.search(t.rest):
        values["partly_authorized"] = True
        t.take_all(PARTLY_AUTHORIZED)
    if field_name not in ("date_of_injury", "ur_denial_date", "date_assigned", "application_received", "decision_date"):
        date_from, date_to = _read_dates(t, ctx, out)
        values.update(date_from=date_from, date_to=date_to)

    group = None
    for pattern, key in GROUP:
        if pattern.search(t.rest):
            group = key
            t.take_all(pattern)
            break
    for pattern, family in GUIDELINES:
        found = t.take_all(pattern)
        if found and field_name != "guidelines":
            values["guideline_family"] = family
            before = GUIDELINE_VERB.search(t.rest[: found[0].start()])
            if before:
                t.take(before.start(), found[0].start())
    for pattern, fmt in FORMATS:
        if t.take_all(pattern):
            values["letter_format"] = fmt
    specialty = None if field_name == "reviewer_specialty" else _read_specialty(t, ctx)
    if specialty:
        values["reviewer_specialty"] = specialty

    wants_share = bool(SHARE.search(t.rest))  # before the outcome words go ("overturn rate")
    wants_compare = bool(COMPARE.search(t.rest) or COMPARE_WORD.search(t.rest) or COMPARE_WHICH.search(t.rest))
    outcomes = []
    for pattern, outcome in OUTCOMES:
        if t.take_all(pattern):
            outcomes.append(outcome)
    if len(outcomes) == 1:
        values["determination"] = outcomes[0]

    if field_name is None:
        if wants_compare or (wants_share and COMPARE_BETWEEN.search(t.rest)):
            values["returns"] = "compare"
        elif group:
            values["returns"], values["group_by"] = "group", group
        elif wants_share:
            values["returns"] = "share"
        elif COUNT.search(t.rest):
            values["returns"] = "count"
        elif LIST.search(t.rest):
            values["returns"] = "list"
        else:
            values["returns"] = "decision"
        out.kind_explicit = values["returns"] != "decision"
    if COUNT_LETTERS.search(t.rest):
        values["count_letters"] = True
    for pattern in (SHARE, COUNT, COUNT_LETTERS):
        t.take_all(pattern)
    if field_name:
        t.take_all(dict(FIELDS)[field_name])

    if values.get("returns") == "compare":
        pair = _compare_pair(t.rest)
        if pair is None:
            values["returns"] = "share" if wants_share else "count"
        else:
            values["compare"] = [" ".join(_service_words(p)) for p in pair]
            t.rest = ""
    _read_leftover(t, out, values, ctx)
    try:
        out.plan = CatalogQuery(**values)
    except ValidationError as exc:  # e.g. "between 2017 and 2016"
        out.not_understood.append(exc.errors()[0]["msg"])
        out.plan = CatalogQuery(**{k: v for k, v in values.items() if k not in ("date_from", "date_to", "compare")}
                                | ({"returns": "share"} if values.get("returns") == "compare" else {}))
    return out


def _compare_pair(rest: str) -> tuple[str, str] | None:
    split = COMPARE.split(rest, maxsplit=1)
    which = COMPARE_WHICH.search(rest)
    if which:
        a, b = which.group("a"), which.group("b")
    elif len(split) == 2:
        a, b = split
    else:
        m = COMPARE_BETWEEN.search(rest) or COMPARE_JOINED.search(COMPARE_WORD.sub(" ", rest))
        if m is None:
            return None
        a, b = m.group("a"), m.group("b")
    a_words, b_words = _service_words(a), _service_words(b)
    if not a_words or not b_words:
        return None
    # "acupuncture vs chiropractic requests" -> shared tail words stay with both sides
    return " ".join(a_words), " ".join(b_words)


def _service_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9][a-z0-9#%./+-]*[a-z0-9%]|[a-z0-9]", text.lower()) if w not in FILLER]


def _read_leftover(t: _Text, out: ParsedQuestion, values: dict, ctx: QuestionContext) -> None:
    """What is left names the service; date-like words and named things no letter uses (a
    clinic, a doctor's name) are not understood."""
    for m in NAMED_AFTER.finditer(t.rest):
        name = m.group("name")
        if name.lower() in FILLER or any(c.isdigit() for c in name) or (ctx.mentions and ctx.mentions(name)):
            continue
        if m.group(0).split()[0].lower() in ("with", "in") and not re.match(r"dr\.?|doctor", m.group(0).split()[1], re.I):
            continue
        out.not_understood.append(m.group(0).strip())
        t.take(m.start(), m.end())
    for m in t.take_all(TIME_PHRASE):
        out.not_understood.append(f"{m.group(0).strip()} (a time I cannot place)")
    words = _service_words(t.rest)
    spans = [m.span() for m in re.finditer(r"[A-Za-z0-9][\w#%./+'-]*", t.rest) if m.group(0).lower().strip(".'") not in FILLER]
    time_like = [w for w in words if w in TIME_WORDS]
    if time_like:
        out.not_understood.append(" ".join(time_like) + " (a time I cannot place)")
        words = [w for w in words if w not in TIME_WORDS]
    phrase = " ".join(words)
    if values.get("returns") != "decision" and phrase in CATEGORY_WORDS and not values.get("category"):
        values["category"] = CATEGORY_WORDS[phrase]
        phrase = ""
    elif values.get("returns") != "decision" and words and plural_blind(words[-1]) in CATEGORY_WORDS and len(words) == 2 \
            and words[0] in ("all", "any"):
        values["category"] = CATEGORY_WORDS[plural_blind(words[-1])]
        phrase = ""
    if phrase and " ".join(plural_blind(w) for w in words) in CATEGORY_WORDS and values.get("returns") != "decision":
        values["category"] = CATEGORY_WORDS[" ".join(plural_blind(w) for w in words)]
        phrase = ""
    out.service = phrase
    out.leftover = words
    if phrase and spans:  # as the question wrote it, for "no letter mentions ..."
        out.service_as_asked = t.original[spans[0][0]:spans[-1][1]].strip(" ?.,")
    if phrase:
        values["service_terms"] = [phrase]
