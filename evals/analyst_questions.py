"""Analyst questions generated from the gold records, each with a checker computed from gold.

The `questions` eval suite asks the answer engine what an analyst asks of a library of decision
letters, and checks each answer against the gold records of the fixture letters in that library:

| kind | example | a correct answer's first sentence |
| --- | --- | --- |
| outcome | Was the request for Zofran in case CM16-0246487 upheld or overturned? | the outcome |
| count_date | How many disputed items were overturned in letters decided in January 2017? | the number |
| count_letters | How many letters were decided in Q1 2017? | the number |
| share | What share of the requests for acupuncture were overturned? | "x of n" (and the % if given) |
| group_share | What share of items were overturned by month? | one line per group: "x of n" |
| group_count | How many disputed items were there per category? | one line per group: the count |
| compare | Compare the overturn rates of MRI and physical therapy. | "x of n" for each side |
| case_date | What was the date of injury in case CM16-0246487? | the date |
| case_specialty | What is the specialty of the physician reviewer in case CM...? | the specialty |
| case_guidelines | Which guidelines did the reviewer cite in case CM...? | every family, no other |
| case_items | How many items were disputed in case CM...? | the number |
| case_patient | How old was the injured worker in case CM...? / male or female? | the age / the sex |
| why | Why was the MRI in case CM... denied? | cites the item's own section beyond its heading |
| paraphrase | the same questions with brand/generic or abbreviated service names | as for its base kind |
| no_answer | hyperbaric oxygen therapy; case CM18-0000001; a year with no letters | says so, cites nothing |

Checkers are strict but fair: the number, date, outcome or specialty is read from the answer's
FIRST sentence (citation marks, case numbers and dates are not numbers), so an answer that merely
contains the right number among others is wrong; a no-answer must cite nothing and say it cannot
answer (or answer 0 for an empty date range).

Each kind has several dev templates (below) and a separate HELD-OUT template list
(`evals/analyst_heldout.py`) that the engine must not be tuned on; every question records which
split it came from and the report gives accuracy for both.

    python -m evals.analyst_questions [--fixtures DIR ...] [--kind KIND] [--show N]

prints the questions (and their expected answers) for the default fixture sets.
"""

from __future__ import annotations

import calendar
import random
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from evals.metrics import answer_body

from evals.analyst_heldout import HELDOUT_TEMPLATES
from evals.metrics import CITATION_MARK, IDENTIFIER, NUMBER_WORDS, parse_determination

# -- dev templates ---------------------------------------------------------------------------
DEV_TEMPLATES: dict[str, list[str]] = {
    "outcome": [
        "Was the request for {service} in case {case} upheld or overturned?",
        "In case {case}, what was the outcome for {service}?",
        "What did the reviewer decide on {service} in {case}?",
        "{case}: was {service} upheld or overturned?",
    ],
    "count_date": [
        "How many disputed items were {outcome} in letters decided {when}?",
        "How many requests were {outcome} {when}?",
        "Number of {outcome} items {when}?",
        "Count the items that were {outcome} {when}.",
    ],
    "count_letters": [
        "How many letters were decided {when}?",
        "How many decisions were issued {when}?",
        "How many cases were decided {when}?",
    ],
    "share": [
        "What share of the requests for {service} were overturned?",
        "What percentage of {service} requests were overturned?",
        "How often was {service} overturned?",
        "What fraction of the {service} requests were overturned?",
    ],
    "group_share": [
        "What share of items were overturned by {by}?",
        "Break down the overturn rate by {by}.",
        "Overturned share of disputed items per {by}?",
    ],
    "group_count": [
        "How many disputed items were there per {by}?",
        "Count the disputed items by {by}.",
        "Number of items by {by}?",
    ],
    "compare": [
        "Compare the overturn rates of {a} and {b}.",
        "{A} vs {b}: what share of each was overturned?",
        "Which was overturned more often, {a} or {b}?",
    ],
    "case_date": [
        "What was the {field} in case {case}?",
        "What is the {field} of {case}?",
        "{case}: {field}?",
    ],
    "case_specialty": [
        "What is the specialty of the physician reviewer in case {case}?",
        "Which specialty reviewed {case}?",
        "What board certification does the reviewer in case {case} hold?",
    ],
    "case_guidelines": [
        "Which guidelines did the reviewer cite in case {case}?",
        "What guidelines were used in {case}?",
    ],
    "case_items": [
        "How many items were disputed in case {case}?",
        "How many services were under review in {case}?",
        "Number of disputed items in case {case}?",
    ],
    "case_patient": [
        "What was the {attribute} of the injured worker in case {case}?",
        "What is the patient's {attribute} in {case}?",
        "{case}: patient {attribute}?",
    ],
    "why": [
        "Why was the {service} in case {case} {verb}?",
        "What was the reviewer's rationale for {service} in {case}?",
        "Why did the reviewer {verb_base} the {service} in case {case}?",
    ],
    "paraphrase": [
        "In case {case}, was the {synonym} upheld or overturned?",
        "Was the {synonym} request in {case} upheld or overturned?",
        "What share of the requests for {synonym} were overturned?",
        "How often were {synonym} requests overturned?",
    ],
    "no_answer": [
        "Was the request for {service} upheld or overturned?",
        "How many requests for {service} were overturned?",
        "What share of {service} requests were overturned?",
        "What is the decision date of case {case}?",
        "What is the specialty of the reviewer in case {case}?",
        "How many items were overturned {when}?",
        "How many letters were decided {when}?",
    ],
}
KINDS = tuple(DEV_TEMPLATES)
PER_KIND = (22, 8)  # at most this many dev and held-out questions per kind (sampled, seeded)
SEED = 20161201

# -- service vocabulary of the generator (independent of the engine's) ------------------------
# concept: (how questions name it, pattern matching a gold service, paraphrases: other names)
CONCEPTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "mri": ("MRI", r"\bMRI\b|magnetic resonance imaging", ("magnetic resonance imaging",)),
    "pt": ("physical therapy", r"\bphysical therapy\b", ("PT",)),
    "acupuncture": ("acupuncture", r"\bacupuncture\b", ()),
    "xray": ("X-rays", r"\bx-?rays?\b", ("radiographs",)),
    "emg": ("EMG", r"\bEMG\b|electromyogra", ("electromyography",)),
    "ncv": ("nerve conduction studies", r"\bNCV\b|\bNCS\b|nerve conduction", ("NCV",)),
    "norco": ("Norco", r"\bnorco\b|hydrocodone", ("hydrocodone",)),
    "cyclobenzaprine": ("cyclobenzaprine", r"cyclobenzaprine|flexeril", ("Flexeril",)),
    "lidocaine": ("lidocaine", r"lidocaine|lidoderm", ()),  # Lidoderm is a lidocaine patch
    "lidocaine_patch": ("lidocaine patch", r"lidoderm|lidocaine\b[^,.;]{0,30}?\bpatch", ("Lidoderm",)),
    "tramadol": ("tramadol", r"tramadol|ultram", ("Ultram",)),
    "omeprazole": ("omeprazole", r"omeprazole|prilosec", ("Prilosec",)),
    "gabapentin": ("gabapentin", r"gabapentin|neurontin", ("Neurontin",)),
    "pregabalin": ("Lyrica", r"lyrica|pregabalin", ("pregabalin",)),
    "diclofenac": ("diclofenac", r"diclofenac|voltaren", ("Voltaren",)),
    "tens": ("TENS unit", r"\bTENS\b", ("transcutaneous electrical nerve stimulation unit",)),
    "esi": ("epidural steroid injection", r"epidural steroid injection", ("ESI",)),
    "fce": ("functional capacity evaluation", r"functional capacity evaluation|\bFCE\b", ("FCE",)),
    "hospital_bed": ("hospital bed", r"hospital bed", ()),
    "baclofen": ("baclofen", r"baclofen|lioresal", ("Lioresal",)),
    "pantoprazole": ("pantoprazole", r"pantoprazole|protonix", ("Protonix",)),
    "cold_therapy": ("cold therapy", r"cold therapy", ("cryotherapy",)),
}
ABSENT_SERVICES = (  # no fixture letter mentions these (checked against the letters when given)
    "hyperbaric oxygen therapy", "stem cell injection", "gastric bypass surgery", "dental implants",
    "hearing aids", "platelet-rich plasma injection", "kyphoplasty", "ketamine infusion",
    "cochlear implant", "bone growth stimulator", "Botox injection", "vestibular rehabilitation",
)
ABSENT_CASES = ("CM18-0000001", "CM15-0123456", "CM17-9999999", "CM16-0000042", "CM19-0314159")
OUTCOME_PHRASE = {"overturned": "overturned", "upheld": "upheld"}
FAMILIES = {"MTUS": r"\bMTUS\b|medical treatment utilization schedule|\bCA MTUS\b",
            "ODG": r"\bODG\b|official disability guidelines", "ACOEM": r"\bACOEM\b|american college of occupational"}
DATE_FIELDS = {  # gold field -> how a question names it
    "decision_date": "decision date", "date_of_injury": "date of injury", "ur_denial_date": "UR denial date",
    "date_assigned": "date assigned",
}
BY_LABEL = {"month": "month", "year": "year", "category": "category", "specialty": "reviewer specialty",
            "guideline": "guideline family", "determination": "outcome"}


# -- gold ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GoldItem:
    index: int
    service: str
    determination: str
    category: str
    families: tuple[str, ...]


@dataclass(frozen=True)
class GoldLetter:
    set_name: str
    source_file: str
    case: str | None
    record: dict
    items: tuple[GoldItem, ...]

    @property
    def decided(self) -> date | None:
        value = self.record.get("decision_date")
        return date.fromisoformat(value) if value else None

    @property
    def specialty(self) -> str | None:
        return (self.record.get("reviewer") or {}).get("specialty")


def gold_letters(sets: Iterable[tuple[str, dict[str, dict]]]) -> list[GoldLetter]:
    """(set name, {letter file: gold record}) pairs -> letters, in a stable order."""
    letters = []
    for set_name, records in sets:
        for source_file, record in sorted(records.items()):
            items = tuple(
                GoldItem(n, i["service"], i["determination"], i.get("category") or "other",
                         tuple(sorted({g["source"] for g in i.get("guidelines") or []
                                       if (g.get("cited_by") or "reviewer") == "reviewer"})))
                for n, i in enumerate(record.get("items") or [])
            )
            letters.append(GoldLetter(set_name, source_file, record.get("case_number"), record, items))
    return letters


# -- questions -------------------------------------------------------------------------------
@dataclass
class AnalystQuestion:
    """A question, where it came from, and what a correct answer says (`expect`, JSON-able)."""

    id: str
    kind: str
    split: str  # "dev" or "heldout"
    template: str
    question: str
    expect: dict
    letters: list[str] = field(default_factory=list)  # gold letters the answer rests on (file names)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Fact:
    """One thing to ask: template fields and the expected answer."""

    kind: str
    fields: dict[str, str]
    expect: dict
    letters: list[str]
    optional: frozenset[str] = frozenset()  # fields a template may leave out

    def fits(self, template: str) -> bool:
        names = _placeholders(template)
        return set(self.fields) - self.optional <= names <= set(self.fields)


def _placeholders(template: str) -> frozenset[str]:
    return frozenset(f.lower() for _, f, _, _ in string.Formatter().parse(template) if f)


def _render(template: str, fields: dict[str, str]) -> str:
    values = dict(fields)
    values.update({k[:1].upper() + k[1:]: v[:1].upper() + v[1:] for k, v in fields.items()})
    return template.format(**values)


def _matches(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None


def short_name(service: str) -> str:
    """A service as an analyst names it: without doses, quantities and frequencies."""
    name = re.sub(r"\(.*?\)", " ", service)
    name = re.split(r"\s+(?:#|\d|x\s*\d|one\b|two\b|three\b|times\b|qty\b|for\s+\d|,)", name, maxsplit=1,
                    flags=re.IGNORECASE)[0]
    name = re.sub(r"^(?:associated surgical service|retrospective(?: request for)?|post-op)\s*:?\s*", "", name,
                  flags=re.IGNORECASE)
    name = " ".join(name.replace(":", " ").split()).strip(" ,.;-")
    return name if len(name) >= 3 else service


def _when_phrases(start: date, end: date, rng: random.Random) -> list[tuple[str, date, date]]:
    """Ways of naming date ranges around [start, end]: (phrase, first day, last day)."""
    out = []
    months = sorted({(y, m) for y in range(start.year, end.year + 1) for m in range(1, 13)
                     if date(y, m, 1) <= end and date(y, m, calendar.monthrange(y, m)[1]) >= start})
    for y, m in months:
        last = date(y, m, calendar.monthrange(y, m)[1])
        name = calendar.month_name[m]
        for phrase in (f"in {name} {y}", f"in {calendar.month_abbr[m]} {y}", f"during {name} {y}",
                       f"in {y}-{m:02d}"):
            out.append((phrase, date(y, m, 1), last))
    for y in range(start.year, end.year + 1):
        out.append((f"in {y}", date(y, 1, 1), date(y, 12, 31)))
        out.append((f"during {y}", date(y, 1, 1), date(y, 12, 31)))
        for q in range(1, 5):
            first, last = date(y, 3 * q - 2, 1), date(y, 3 * q, calendar.monthrange(y, 3 * q)[1])
            if first <= end and last >= start:
                ordinal = ("first", "second", "third", "fourth")[q - 1]
                out.append((f"in Q{q} {y}", first, last))
                out.append((f"in the {ordinal} quarter of {y}", first, last))
    span = (end - start).days
    for _ in range(6):
        a = start.toordinal() + rng.randint(0, max(span, 1))
        b = min(a + rng.randint(5, 40), end.toordinal() + 10)
        lo, hi = date.fromordinal(a), date.fromordinal(b)
        out.append((f"between {lo.isoformat()} and {hi.isoformat()}", lo, hi))
        out.append((f"between {_long(lo)} and {_long(hi)}", lo, hi))
        out.append((f"from {lo.month}/{lo.day}/{lo.year} to {hi.month}/{hi.day}/{hi.year}", lo, hi))
        out.append((f"after {_long(lo)}", date.fromordinal(a + 1), date.max))
        out.append((f"before {lo.isoformat()}", date.min, date.fromordinal(a - 1)))
    return out


def _long(d: date) -> str:
    return f"{calendar.month_name[d.month]} {d.day}, {d.year}"


def _share(hits: int, total: int) -> dict:
    return {"type": "share", "hits": hits, "total": total}


def _services(letters: list[GoldLetter], pattern: str) -> list[tuple[GoldLetter, GoldItem]]:
    return [(l, i) for l in letters for i in l.items if _matches(pattern, i.service)]


def _facts(letters: list[GoldLetter], rng: random.Random, texts: dict[str, str] | None) -> dict[str, list[_Fact]]:
    facts: dict[str, list[_Fact]] = {k: [] for k in KINDS}
    cased = [l for l in letters if l.case]
    case_counts = Counter(l.case for l in cased)
    cased = [l for l in cased if case_counts[l.case] == 1]  # a case with two versions is asked elsewhere

    # outcome / why: a named service in a case (short name unless it is ambiguous within the case)
    for letter in cased:
        shorts = Counter(short_name(i.service).lower() for i in letter.items)
        for item in letter.items:
            name = short_name(item.service)
            same = [i for i in letter.items if short_name(i.service).lower() == name.lower()]
            if shorts[name.lower()] > 1 and len({i.determination for i in same}) > 1:
                name = item.service
            fields = {"service": name, "case": letter.case}
            facts["outcome"].append(_Fact("outcome", fields, {"type": "outcome", "value": item.determination},
                                          [letter.source_file]))
            if item.determination in ("upheld", "overturned"):
                verb = "denied" if item.determination == "upheld" else "overturned"
                base = "uphold" if item.determination == "upheld" else "overturn"
                facts["why"].append(_Fact("why", {**fields, "verb": verb, "verb_base": base},
                                          {"type": "why", "source_file": letter.source_file, "item": item.index,
                                           "heading_service": item.service, "outcome": item.determination},
                                          [letter.source_file], frozenset({"verb", "verb_base"})))

    # counts within date ranges
    dated = [l for l in letters if l.decided]
    if dated:
        first, last = min(l.decided for l in dated), max(l.decided for l in dated)
        by_year: dict[int, list[GoldLetter]] = {}
        for l in dated:
            by_year.setdefault(l.decided.year, []).append(l)
        phrases = []
        for year_letters in by_year.values():
            lo, hi = min(l.decided for l in year_letters), max(l.decided for l in year_letters)
            phrases += _when_phrases(lo, hi, rng)
        seen = set()
        for phrase, lo, hi in phrases:
            inside = [l for l in dated if lo <= l.decided <= hi]
            if not inside or phrase in seen:
                continue
            seen.add(phrase)
            files = [l.source_file for l in inside]
            facts["count_letters"].append(_Fact("count_letters", {"when": phrase},
                                                {"type": "number", "value": len(inside)}, files))
            for outcome in ("overturned", "upheld"):
                n = sum(i.determination == outcome for l in inside for i in l.items)
                if n:
                    facts["count_date"].append(_Fact("count_date", {"when": phrase, "outcome": outcome},
                                                     {"type": "number", "value": n}, files))
        years_with = {l.decided.year for l in dated}
        empty = [y for y in range(first.year - 4, last.year + 3) if y not in years_with]
        for y in empty[:4]:
            facts["no_answer"].append(_Fact("no_answer", {"when": f"in {y}"}, {"type": "none"}, []))
        for y in empty[:2]:
            facts["no_answer"].append(_Fact("no_answer", {"when": f"in March {y}"},
                                            {"type": "none"}, []))

    # shares, comparisons and synonym paraphrases over the service concepts
    present = {}
    for key, (display, pattern, synonyms) in CONCEPTS.items():
        hits = _services(letters, pattern)
        if not hits:
            continue
        present[key] = hits
        files = sorted({l.source_file for l, _ in hits})
        over = sum(i.determination == "overturned" for _, i in hits)
        facts["share"].append(_Fact("share", {"service": display}, _share(over, len(hits)), files))
        for synonym in synonyms:
            facts["paraphrase"].append(_Fact("paraphrase", {"synonym": synonym}, _share(over, len(hits)), files))
            for letter, item in hits:
                if _matches(rf"\b{re.escape(synonym)}\b", item.service):
                    continue  # the letter itself uses this name: not a paraphrase
                if letter.case and case_counts[letter.case] == 1 and sum(
                        _matches(pattern, i.service) for i in letter.items) == 1:
                    facts["paraphrase"].append(_Fact(
                        "paraphrase", {"synonym": synonym, "case": letter.case},
                        {"type": "outcome", "value": item.determination}, [letter.source_file]))
    keys = sorted(present, key=lambda k: -len(present[k]))
    for n, a in enumerate(keys):
        for b in keys[n + 1:]:
            shared = {id(i) for _, i in present[a]} & {id(i) for _, i in present[b]}
            if shared:  # an item in both groups makes the sides overlap; not a clean comparison
                continue
            sides = []
            for key in (a, b):
                hits = present[key]
                sides.append({"label": CONCEPTS[key][0], "pattern": CONCEPTS[key][1],
                              "hits": sum(i.determination == "overturned" for _, i in hits), "total": len(hits)})
            files = sorted({l.source_file for key in (a, b) for l, _ in present[key]})
            facts["compare"].append(_Fact("compare", {"a": sides[0]["label"], "b": sides[1]["label"]},
                                          {"type": "compare", "sides": sides}, files))

    # group-bys
    for by in BY_LABEL:
        groups = _groups(letters, by)
        if len(groups) < 2:
            continue
        files = sorted({l.source_file for l in letters if l.items})
        if by != "determination":
            facts["group_share"].append(_Fact("group_share", {"by": BY_LABEL[by]}, {
                "type": "groups", "by": by, "share": True,
                "groups": [{"label": k, "hits": v[0], "total": v[1]} for k, v in sorted(groups.items())]}, files))
        facts["group_count"].append(_Fact("group_count", {"by": BY_LABEL[by]}, {
            "type": "groups", "by": by, "share": False,
            "groups": [{"label": k, "total": v[1]} for k, v in sorted(groups.items())]}, files))

    # case fields
    for letter in cased:
        r, files = letter.record, [letter.source_file]
        for key, name in DATE_FIELDS.items():
            if r.get(key):
                facts["case_date"].append(_Fact("case_date", {"field": name, "case": letter.case},
                                                {"type": "date", "value": r[key]}, files))
        if letter.specialty:
            facts["case_specialty"].append(_Fact("case_specialty", {"case": letter.case},
                                                 {"type": "text", "value": letter.specialty}, files))
        families = sorted({f for i in letter.items for f in i.families if f in FAMILIES})
        if families:
            facts["case_guidelines"].append(_Fact("case_guidelines", {"case": letter.case},
                                                  {"type": "families", "value": families}, files))
        if letter.items:
            facts["case_items"].append(_Fact("case_items", {"case": letter.case},
                                             {"type": "number", "value": len(letter.items)}, files))
        patient = r.get("patient") or {}
        if patient.get("age"):
            facts["case_patient"].append(_Fact("case_patient", {"attribute": "age", "case": letter.case},
                                               {"type": "number", "value": patient["age"]}, files))
        if patient.get("sex"):
            facts["case_patient"].append(_Fact("case_patient", {"attribute": "sex", "case": letter.case},
                                               {"type": "sex", "value": patient["sex"]}, files))

    # no answer: services no letter mentions, case numbers no letter has
    corpus = " ".join((texts or {}).values()).lower()
    services = " ".join(i.service for l in letters for i in l.items).lower()
    for service in ABSENT_SERVICES:
        if service.lower() not in corpus and service.lower() not in services:
            facts["no_answer"].append(_Fact("no_answer", {"service": service}, {"type": "none"}, []))
    known = {l.case for l in letters if l.case}
    for case in ABSENT_CASES:
        if case not in known:
            facts["no_answer"].append(_Fact("no_answer", {"case": case}, {"type": "none"}, []))
    return facts


def _month(d: date) -> str:
    return f"{d.year}-{d.month:02d}"


def _groups(letters: list[GoldLetter], by: str) -> dict[str, tuple[int, int]]:
    """group label -> (overturned items, all items)."""
    out: dict[str, list[int]] = {}
    for letter in letters:
        for item in letter.items:
            if by == "month":
                keys = [_month(letter.decided)] if letter.decided else []
            elif by == "year":
                keys = [str(letter.decided.year)] if letter.decided else []
            elif by == "category":
                keys = [item.category]
            elif by == "specialty":
                keys = [letter.specialty] if letter.specialty else []
            elif by == "guideline":
                keys = [f for f in item.families if f in FAMILIES]
            else:
                keys = [item.determination]
            for key in keys:
                counts = out.setdefault(key, [0, 0])
                counts[0] += item.determination == "overturned"
                counts[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def generate(letters: list[GoldLetter], texts: dict[str, str] | None = None, seed: int = SEED,
             per_kind: tuple[int, int] = PER_KIND) -> list[AnalystQuestion]:
    """The question set: per kind, up to per_kind[0] dev and per_kind[1] held-out questions.

    texts (letter file -> text), when given, confirm that no letter mentions a no-answer service.
    Facts are shuffled with the seed; each fact is rendered with the next template whose
    placeholders it fills, dev facts first, then held-out facts from the remaining ones.
    """
    rng = random.Random(seed)
    out: list[AnalystQuestion] = []
    for kind, facts in _facts(letters, rng, texts).items():
        facts = list(facts)
        random.Random(f"{seed}-{kind}").shuffle(facts)
        n_dev, n_held = per_kind
        dev_facts, held_facts = facts[:n_dev], facts[n_dev:n_dev + n_held]
        if len(facts) < n_dev + n_held:  # few facts: ask some of them twice, once per split
            held_facts = facts[-n_held:] if len(facts) > n_held else list(facts)
        for split, chosen, templates in (("dev", dev_facts, DEV_TEMPLATES[kind]),
                                         ("heldout", held_facts, HELDOUT_TEMPLATES[kind])):
            turn = Counter()
            for n, fact in enumerate(chosen):
                fits = [t for t in templates if fact.fits(t)]
                if not fits:
                    continue
                shape = frozenset(fact.fields) - fact.optional
                template = fits[turn[shape] % len(fits)]
                turn[shape] += 1
                out.append(AnalystQuestion(
                    id=f"{kind}-{split}-{n + 1:02d}", kind=kind, split=split, template=template,
                    question=_render(template, fact.fields), expect=fact.expect, letters=fact.letters))
    return out


# -- checking answers --------------------------------------------------------------------------
REFUSAL = re.compile(
    r"\bno\s+(?:letter|letters|case|cases|decision|decisions|item|items|disputed|extracted|request|requests|"
    r"record|records)\b|\bnot\s+(?:found|mentioned|understood|in\s+the\s+library)|\bdoes\s+not\s+mention|"
    r"\bcannot\b|\bcan't\b|\bcould\s+not\b|\bcouldn't\b|\bdid\s+not\s+understand|\bnothing\b|"
    r"\bunknown\s+case|\bno\s+such\b|\bnone\s+of\s+the\b|\bnot\s+able\b|\bunable\b",
    re.IGNORECASE,
)
ABBREVIATIONS = re.compile(r"(?:\b(?:Dr|Mr|Mrs|Ms|No|vs|St|Jr|Sr|approx|e\.g|i\.e|[A-Z])\.)$")
MONTHS = {m.lower(): n for n, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.lower(): n for n, m in enumerate(calendar.month_abbr) if m})
MONTH_NAME = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
DATE_PATTERNS = [
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), lambda m: (m[1], m[2], m[3])),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), lambda m: (m[3], m[1], m[2])),
    (re.compile(rf"\b({MONTH_NAME})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I),
     lambda m: (m[3], MONTHS[m[1].lower().rstrip(".")], m[2])),
    (re.compile(rf"\b(\d{{1,2}})\s+({MONTH_NAME})\s+(\d{{4}})\b", re.I),
     lambda m: (m[3], MONTHS[m[2].lower().rstrip(".")], m[1])),
]
MONTH_YEAR = re.compile(rf"\b{MONTH_NAME}\s+\d{{4}}\b|\b\d{{4}}-\d{{2}}\b|\bQ[1-4]\s+\d{{4}}\b", re.I)
YEAR = re.compile(r"(?<![\d.])(?:19|20)\d{2}(?![\d.%])")
NUMBER = re.compile(
    r"(?<![\w#/.\-])(\d+)(?![\w/%\-]|\.\d)|\b(" + "|".join([*NUMBER_WORDS, "no"]) + r")\b", re.IGNORECASE
)
SHARE = re.compile(r"(?<![\w/.])(\d+)\s+(?:of|out\s+of)\s+(?:the\s+|all\s+)?(\d+)\b", re.IGNORECASE)
PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
SEX = re.compile(r"\b(male|female|man|woman)\b", re.IGNORECASE)
LEADING_COUNT = re.compile(r"(?<![\w/.-])(\d+)\s+(?:(?:disputed\s+)?(?:items?|requests?)\s+)?$")
MORE = re.compile(r"\band\s+\d+\s+more\b", re.IGNORECASE)


def clean(text: str) -> str:
    return " ".join(CITATION_MARK.sub(" ", text).split())


def first_sentence(text: str) -> str:
    """The answer's first sentence: its first non-empty line after the reading line ("Read as:
    ...", how the question was read, not the answer), up to the first full stop that ends a
    sentence (not an abbreviation, a decimal point or a dose)."""
    lines = [ln for ln in CITATION_MARK.sub(" ", answer_body(text)).splitlines() if ln.strip()]
    line = lines[0] if lines else ""
    line = " ".join(line.split())
    for m in re.finditer(r"[.!?](?=\s+[\"'(A-Z0-9]|\s*$)", line):
        if not ABBREVIATIONS.search(line[: m.end()]):
            return line[: m.end()]
    return line


def parse_dates(text: str) -> list[str]:
    """ISO dates written in the text, in order of position."""
    found = []
    for pattern, parts in DATE_PATTERNS:
        for m in pattern.finditer(text):
            try:
                y, mo, d = parts(m)
                found.append((m.start(), date(int(y), int(mo), int(d)).isoformat()))
            except (ValueError, KeyError):
                continue
    return [d for _, d in sorted(found)]


def strip_identifiers(text: str) -> str:
    """Text without case numbers, dates, months and years (none of them is a count)."""
    for pattern, _ in DATE_PATTERNS:
        text = pattern.sub(" ", text)
    text = IDENTIFIER.sub(" ", text)
    text = MONTH_YEAR.sub(" ", text)
    return YEAR.sub(" ", text)


def parse_number(text: str) -> int | None:
    """The first stand-alone number of the text ('no'/'none' is 0), identifiers skipped."""
    m = NUMBER.search(strip_identifiers(text))
    if m is None:
        return None
    if m.group(1):
        return int(m.group(1))
    word = m.group(2).lower()
    return 0 if word == "no" else NUMBER_WORDS[word]


def parse_share(text: str) -> tuple[int, int, float | None] | None:
    """The first 'x of n' of the text, with the first percentage after it (if any)."""
    m = SHARE.search(strip_identifiers(text))
    if m is None:
        return None
    rest = strip_identifiers(text)[m.end():]
    p = PERCENT.search(rest)
    return int(m[1]), int(m[2]), float(p[1]) if p else None


def _share_ok(found: tuple[int, int, float | None] | None, hits: int, total: int) -> bool:
    if found is None or found[:2] != (hits, total):
        return False
    return found[2] is None or abs(found[2] - 100 * hits / total) <= 0.6


def norm_label(text: str) -> str:
    t = text.lower().replace("&", " and ").replace("orthopaedic", "orthopedic")
    return " ".join(re.sub(r"[^\w\s,/-]", " ", t).split())


def _label_variants(label: str, by: str) -> list[str]:
    if by == "month":
        y, m = label.split("-")
        return [label, f"{calendar.month_name[int(m)]} {y}", f"{calendar.month_abbr[int(m)]} {y}", f"{int(m)}/{y}"]
    if by == "determination":
        return sorted({label, label.replace("_", " ")})
    if by == "category":
        return [label, label + "s"] if label != "therapy" else [label, "therapies"]
    return [label]


def _label_marks(text: str, variants: dict[str, list[str]]) -> list[tuple[int, int, str]]:
    """(start, end, group) of every group label the text names, longest label first where they overlap."""
    found = []
    for key, names in variants.items():
        for name in names:
            n = norm_label(name)
            for m in re.finditer(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text):
                found.append((m.start(), m.end(), key))
    marks: list[tuple[int, int, str]] = []
    for mark in sorted(found, key=lambda f: (f[0], -(f[1] - f[0]))):
        if not marks or mark[0] >= marks[-1][1]:
            marks.append(mark)
    return marks


@dataclass
class Verdict:
    correct: bool
    reason: str
    cited: bool


def check(question: AnalystQuestion | dict, answer_text: str, citations: Sequence[Any],
          regions: dict[tuple[str, int], list[tuple[str, int, int, int, int]]] | None = None) -> Verdict:
    """Is the answer right? regions: (letter file, item index) -> [(doc id, section start, end,
    heading start, heading end)] of the sections that hold the item's rationale, for `why`."""
    expect = question["expect"] if isinstance(question, dict) else question.expect
    kind = expect["type"]
    first = first_sentence(answer_text)
    cited = bool(citations)
    refused = bool(REFUSAL.search(first)) and not cited

    def verdict(ok: bool, reason: str) -> Verdict:
        return Verdict(ok, "ok" if ok else reason, cited)

    if kind == "none":
        if cited:
            return verdict(False, "cites a letter for a question no letter answers")
        if REFUSAL.search(clean(answer_text)):
            return verdict(True, "")
        if parse_number(first) == 0:  # "0 requests / none were found" is true of an empty selection
            return verdict(True, "")
        return verdict(False, "does not say it cannot answer")
    if refused:
        return verdict(False, "refused a question the letters answer")
    if kind == "outcome":
        got = parse_determination(first)
        return verdict(got == expect["value"], f"first sentence says {got}, gold {expect['value']}")
    if kind == "number":
        got = parse_number(first)
        return verdict(got == expect["value"], f"first number {got}, gold {expect['value']}")
    if kind == "share":
        got = parse_share(first)
        return verdict(_share_ok(got, expect["hits"], expect["total"]),
                       f"first share {got}, gold {expect['hits']} of {expect['total']}")
    if kind == "date":
        dates = parse_dates(first)
        got = dates[0] if dates else None
        return verdict(got == expect["value"], f"first date {got}, gold {expect['value']}")
    if kind == "text":
        ok = norm_label(expect["value"]) in norm_label(first)
        return verdict(ok, f"first sentence does not name {expect['value']!r}")
    if kind == "sex":
        m = SEX.search(first)
        got = {"man": "male", "woman": "female"}.get(m[1].lower(), m[1].lower()) if m else None
        return verdict(got == expect["value"], f"first sentence says {got}, gold {expect['value']}")
    if kind == "families":
        got = sorted(f for f, p in FAMILIES.items() if re.search(p, first, re.IGNORECASE))
        return verdict(got == expect["value"], f"first sentence names {got}, gold {expect['value']}")
    if kind == "groups":
        return _check_groups(expect, answer_text, cited)
    if kind == "compare":
        return _check_compare(expect, answer_text, cited)
    if kind == "why":
        return _check_why(expect, first, citations, regions or {}, cited)
    raise ValueError(f"unknown expectation type {kind!r}")


def _check_groups(expect: dict, answer_text: str, cited: bool) -> Verdict:
    """Every group is named with its numbers (after the label, "imaging: 3 of 12", or before it,
    "20 overturned, 16 upheld": the answer's first numbered label decides which), no group with
    wrong numbers; an answer that lists at least five groups and says "and N more" may stop there."""
    groups = {g["label"]: g for g in expect["groups"]}
    merged = Counter(norm_label(k) for k in groups)
    variants = {k: _label_variants(k, expect["by"]) for k in groups if merged[norm_label(k)] == 1}
    text = norm_label(clean(answer_text))
    marks = _label_marks(text, variants)

    def value(segment: str):
        return parse_share(segment) if expect["share"] else parse_number(segment)

    after = [text[e:(marks[n + 1][0] if n + 1 < len(marks) else len(text))] for n, (_, e, _) in enumerate(marks)]
    before = [LEADING_COUNT.search(text[(marks[n - 1][1] if n else 0):s]) for n, (s, _, _) in enumerate(marks)]
    # Counts may come first ("20 overturned, 16 upheld"); the first label decides for the answer.
    use_before = not expect["share"] and bool(marks) and before[0] is not None
    right, wrong = set(), set()
    for n, (_, _, key) in enumerate(marks):
        if use_before:
            got = int(before[n][1]) if before[n] else None
        else:
            got = value(after[n])
        g = groups[key]
        if got is None:
            continue
        ok = _share_ok(got, g["hits"], g["total"]) if expect["share"] else got == g["total"]
        (right if ok else wrong).add(key)
    missing = set(variants) - right
    capped = bool(MORE.search(answer_text)) and len(right) >= min(5, len(variants))
    if wrong:
        return Verdict(False, f"wrong numbers for {sorted(wrong)}", cited)
    if missing and not capped:
        return Verdict(False, f"groups missing: {sorted(missing)}", cited)
    return Verdict(True, "ok", cited)


def _check_compare(expect: dict, answer_text: str, cited: bool) -> Verdict:
    text = clean(answer_text)
    marks = []
    for n, side in enumerate(expect["sides"]):
        for m in re.finditer(rf"{side['pattern']}|{re.escape(side['label'])}", text, re.IGNORECASE):
            marks.append((m.start(), m.end(), n))
    marks.sort()
    for n, side in enumerate(expect["sides"]):
        own = [m for m in marks if m[2] == n]
        if not own:
            return Verdict(False, f"{side['label']} not named", cited)
        start = own[0][1]
        stop = next((m[0] for m in marks if m[0] >= start and m[2] != n), len(text))
        if not _share_ok(parse_share(text[start:stop]), side["hits"], side["total"]):
            return Verdict(False, f"{side['label']}: gold {side['hits']} of {side['total']}", cited)
    return Verdict(True, "ok", cited)


def _check_why(expect: dict, first: str, citations: Sequence[Any], regions: dict, cited: bool) -> Verdict:
    said = parse_determination(first)
    if said is not None and said != expect["outcome"]:
        return Verdict(False, f"first sentence says {said}, gold {expect['outcome']}", cited)
    found = regions.get((expect["source_file"], expect["item"]))
    if not found:
        return Verdict(False, "item section not found in the letter", cited)
    reasons = [c for c in citations for doc_id, start, end, h_start, h_end in found
               if c.doc_id == doc_id and start <= c.start and c.end <= end
               and not (c.start < h_end and h_start < c.end)]
    return Verdict(bool(reasons), "ok" if reasons else "no citation of the item's rationale", cited)


def summarize(rows: list[dict]) -> dict:
    """Accuracy per kind (dev, held-out, all), overall, and the share of wrong answers that cited."""
    def acc(sel: list[dict]) -> dict:
        wrong = [r for r in sel if not r["correct"]]
        return {"questions": len(sel), "correct": len(sel) - len(wrong),
                "accuracy": (len(sel) - len(wrong)) / len(sel) if sel else None,
                "wrong": len(wrong), "wrong_cited": sum(1 for r in wrong if r["cited"])}

    kinds = [k for k in KINDS if any(r["kind"] == k for r in rows)]
    per_kind = {k: {split: acc([r for r in rows if r["kind"] == k and (split == "all" or r["split"] == split)])
                    for split in ("dev", "heldout", "all")} for k in kinds}
    overall = {split: acc([r for r in rows if split == "all" or r["split"] == split])
               for split in ("dev", "heldout", "all")}
    wrong = overall["all"]["wrong"]
    return {
        "questions": len(rows),
        "kinds": len(kinds),
        "per_kind": per_kind,
        "overall": overall,
        "accuracy": overall["all"]["accuracy"],
        "wrong_cited_rate": overall["all"]["wrong_cited"] / wrong if wrong else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    import argparse
    from pathlib import Path

    from evals.cases import resolve_fixture_sets, shared_dir

    parser = argparse.ArgumentParser(description="print the analyst questions of the fixture sets")
    parser.add_argument("--fixtures", type=Path, action="append")
    parser.add_argument("--kind", choices=KINDS)
    parser.add_argument("--split", choices=("dev", "heldout"), default="dev",
                        help="which templates to print (default dev; the held-out ones are for the eval)")
    args = parser.parse_args(argv)
    sets, _ = resolve_fixture_sets(args.fixtures, shared_dir())
    questions = generate(gold_letters((s.name, s.gold) for s in sets))
    for q in questions:
        if (args.kind is None or q.kind == args.kind) and q.split == args.split:
            print(f"{q.id}\t{q.question}\t{q.expect}")
    print(f"{len(questions)} questions over {len({q.kind for q in questions})} kinds", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
