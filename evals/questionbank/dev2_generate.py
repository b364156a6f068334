"""Second dev question bank (dev2): new analyst wordings, expectations computed from the gold.

    python -m evals.questionbank.dev2_generate            # writes dev2.jsonl
    python -m evals.questionbank.dev2_generate --check    # recompute, verify, print counts

Written blind (2026-12-07, by a helper session): only README.md, gold.py, grade.py, engine.py,
run.py, the gold JSON fixtures, the letters and imr_rag/schema.py were read; not the tool's question
parsing, nor generate.py / heldout_generate.py / dev.jsonl / heldout.jsonl / any questions.jsonl.
Every wording here is new. Expected answers come from `gold.py`'s records only (no imr_rag import).

Conventions (as README.md, and repeated in each question's notes):
- letters/cases/decisions = the 37 gold records with at least one item; items/requests = the 118
  disputed items.
- overturned = determination overturned; the one Texas partial overturn is accepted either way.
  "denied", "non-certified", "sustained", "knocked back" = upheld (the UR denial stands);
  "approved", "flipped", "reversed", "okayed", "green-lit", "certified" = overturned.
- service families are gold.FAMILIES regexes (their alternative readings accepted) unless a
  question's notes give its own predicate (drug classes, patches, ...).
- periods are on the decision date unless another date field is named; TODAY = 2017-06-30;
  open "since" periods also accept the reading clamped at TODAY.
- specialties split at commas, '&' = 'and', Orthopaedic = Orthopedic.
- durations: day differences of gold dates, mean over letters having both dates, +-0.6 day.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections import Counter
from datetime import date
from pathlib import Path

from evals.questionbank import gold as g

HERE = Path(__file__).resolve().parent
OUT = HERE / "dev2.jsonl"

LS = g.letters()
IS = g.items()

BASE_NOTE = ("letters = 37 gold records with items; items = 118 disputed items; overturned strict, "
             "the Texas partial overturn accepted either way; TODAY=2017-06-30")

Q: list[dict] = []
NONE_STEMS: dict[str, list[str]] = {}  # question id -> stems that must occur in no letter text


# ------------------------------------------------------------------ expectation builders

def _vals(vals) -> list:
    out = []
    for v in vals:
        if isinstance(v, float):
            v = round(v, 4)
        if v not in out:
            out.append(v)
    return out


def E_num(vals, tol: float = 0, unit: str | None = None) -> dict:
    vals = _vals(vals if isinstance(vals, (list, tuple)) else [vals])
    e = {"type": "number", "value": vals[0]}
    if len(vals) > 1:
        e["accept_values"] = vals
    if tol:
        e["tolerance"] = tol
    if unit:
        e["unit"] = unit
    return e


def E_share(vals) -> dict:
    vals = _vals(vals if isinstance(vals, (list, tuple)) else [vals])
    e = {"type": "number", "value": vals[0], "share": True, "tolerance": 0.011}
    if len(vals) > 1:
        e["accept_values"] = vals
    return e


def E_dur(vals) -> dict:
    return E_num(vals, tol=0.6, unit="days")


def cased(ls) -> list[str]:
    return sorted({L.case_number for L in ls if L.case_number})


def E_cases(ls, *alts) -> dict:
    e = {"type": "cases", "value": cased(ls)}
    unc = sorted({L.source_file for L in ls if not L.case_number})
    if unc:
        e["uncased"] = unc
    sets = []
    for a in alts:
        s = cased(a)
        if s != e["value"] and s not in sets:
            sets.append(s)
    if sets:
        e["accept_sets"] = sets
    return e


def E_text(accept, all_: bool = False, counts=None, value=None) -> dict:
    e = {"type": "text", "value": value if value is not None else accept[0], "accept": list(accept)}
    if all_:
        e["all"] = True
    if counts:
        e["counts"] = sorted(set(counts))
    return e


def E_outcome(det: str) -> dict:
    return {"type": "text", "value": det, "accept": [det]}


def E_date(d: str) -> dict:
    assert d, "no date"
    return {"type": "date", "value": d}


def E_bool(v: bool, outcome_true: str | None = None) -> dict:
    e = {"type": "bool", "value": bool(v)}
    if outcome_true:
        e["outcome_true"] = outcome_true
    return e


def E_rank(counter: dict, top: int, accept: dict | None = None, ordered: bool = True) -> dict:
    rows = g.ranking(counter)
    rows = [[k, round(v, 4) if isinstance(v, float) else v] for k, v in rows]
    e = {"type": "ranking", "value": rows if not ordered else rows[: max(top, _tie_end(rows, top))],
         "top": top, "ordered": ordered}
    if accept:
        e["accept"] = {k: v for k, v in accept.items() if any(r[0] == k for r in e["value"])}
    return e


def _tie_end(rows, top):
    """Keep rows tied with the last asked position so the grader's tie groups are complete."""
    if top >= len(rows):
        return len(rows)
    v = rows[top - 1][1]
    n = top
    while n < len(rows) and rows[n][1] == v:
        n += 1
    return n


def E_none(service: str) -> dict:
    return {"type": "none_found", "service": service}


def E_passage(case: str, contains) -> dict:
    return {"type": "passage", "case": case, "contains": list(contains)}


def E_clarify() -> dict:
    return {"type": "clarify"}


def add(intent: str, question: str, expected: dict, notes: str = "", none_stems=None) -> None:
    qid = f"d2-{intent}-{sum(1 for q in Q if q['intent'] == intent) + 1:02d}"
    Q.append({"id": qid, "intent": intent, "question": question, "expected": expected,
              "notes": (notes + "; " if notes else "") + BASE_NOTE})
    if none_stems is not None:
        NONE_STEMS[qid] = none_stems


# ------------------------------------------------------------------ gold helpers

def L_(case: str) -> g.Letter:
    return g.by_case(case)


def by_file(name: str) -> g.Letter:
    return next(L for L in g.all_letters() if L.source_file == name)


def item(case_or_letter, rx: str) -> g.Item:
    L = case_or_letter if isinstance(case_or_letter, g.Letter) else L_(case_or_letter)
    hits = [it for it in L.items if re.search(rx, it.s)]
    assert len(hits) == 1, (L.label, rx, [h.service for h in hits])
    return hits[0]


def pred(rx: str, pool=None) -> list[g.Item]:
    r = re.compile(rx)
    return [it for it in (IS if pool is None else pool) if r.search(it.s)]


def fam(family: str, pool=None) -> list[list[g.Item]]:
    """The family's items, under its main and (if any) alternative reading."""
    out = [g.fam_items(family, False, pool)]
    if g.FAMILIES[family][1]:
        out.append(g.fam_items(family, True, pool))
    return out


def counts(pools: list[list[g.Item]], outcome: str | None) -> list[int]:
    vals = []
    for p in pools:
        vals += [len(p)] if outcome is None else g.count_outcome(p, outcome)
    return sorted(set(vals), key=lambda v: (vals.index(v)))


def rates(pools: list[list[g.Item]], outcome: str) -> list[float]:
    vals = []
    for p in pools:
        vals += g.rate_outcome(p, outcome)
    return vals


def letters_of(its) -> list[g.Letter]:
    seen = []
    for it in its:
        if it.letter not in seen:
            seen.append(it.letter)
    return seen


def period(start, end, field="decision_date", pool=None):
    return [L for L in (LS if pool is None else pool) if g.in_period(L, start, end, field)]


def items_in(ls) -> list[g.Item]:
    return [it for L in ls for it in L.items]


def dur(ls, a, b) -> list[int]:
    return [g.days_between(L.dates[a], L.dates[b]) for L in ls if L.dates[a] and L.dates[b]]


def mean(xs):
    return round(statistics.mean(xs), 2)


def date_forms(d: str) -> list[str]:
    dt = date.fromisoformat(d)
    m = dt.strftime("%B").lower()
    return [d, f"{m} {dt.day}, {dt.year}", f"{dt.month}/{dt.day}/{dt.year}", f"{dt.month:02d}/{dt.day:02d}/{dt.year}",
            f"{m[:3]} {dt.day}, {dt.year}"]


def has_over(L, loose=False):
    return any(it.overturned_loose if loose else it.overturned for it in L.items)


def all_upheld(L, loose=False):
    return all(it.upheld or (loose and it.determination == "partially_overturned") for it in L.items)


def fam_accept(family: str) -> list[str]:
    return g.FAMILIES[family][2]


RANK_ACCEPT = {lab: (fam_accept(lab) if lab in g.FAMILIES else []) for lab, _ in g.RANK_FAMILIES}
RANK_ACCEPT["pantoprazole"] = ["pantoprazole", "protonix"]
# post-run fix (2026-12-07): "x ray" (space) is a plain spelling of X-ray the gold family aliases lack
X_RAY_EXTRA = ["x ray", "x rays"]
RANK_ACCEPT["X-ray"] = RANK_ACCEPT["X-ray"] + X_RAY_EXTRA

SPEC_ALIASES = {"Physical Medicine and Rehabilitation": ["physical medicine", "pm&r", "pmr", "pm and r"],
                "Orthopedic Surgery": ["orthopedic", "orthopaedic"]}

DEV = [L for L in LS if L.dev]
SYN = [L for L in LS if not L.dev]
CA = [L for L in LS if L.letter_format == "ca_dwc_imr"]
TX = [L for L in LS if L.letter_format == "tx_iro"]
TODAY = g.TODAY.isoformat()


# ================================================================== intents

def count_outcome_service():
    n = "count of items; " 
    add("count_outcome_service", "# of PT requests overturned at IMR", E_num(counts(fam("physical therapy"), "overturned")),
        n + g.family_predicate_note("physical therapy"))
    add("count_outcome_service", "how many mri's got upheld", E_num(counts(fam("MRI"), "upheld")), n + g.family_predicate_note("MRI"))
    add("count_outcome_service", "how many times was acupunture denied on review",
        E_num(counts(fam("acupuncture"), "upheld")), n + "denied = upheld; " + g.family_predicate_note("acupuncture"))
    add("count_outcome_service", "count of tens unit approvals", E_num(counts(fam("TENS unit"), "overturned")),
        n + "approval = overturned; " + g.family_predicate_note("TENS unit"))
    add("count_outcome_service", "how many chiro requests did the reviewers sustain",
        E_num(counts(fam("chiropractic"), "upheld")), n + "sustain = uphold; " + g.family_predicate_note("chiropractic"))
    add("count_outcome_service", "number of ESI requests that got flipped", E_num(counts(fam("epidural steroid injection"), "overturned")),
        n + "flipped = overturned; " + g.family_predicate_note("epidural steroid injection"))
    add("count_outcome_service", "how many x-ray requests were green-lit by the IMR doc",
        E_num(counts(fam("X-ray"), "overturned")), n + "green-lit = overturned; " + g.family_predicate_note("X-ray"))
    add("count_outcome_service", "cervical mri overturned count", E_num(counts(fam("cervical MRI"), "overturned")),
        n + g.family_predicate_note("cervical MRI"))
    add("count_outcome_service", "how many shoulder MRIs were reversed", E_num(counts(fam("shoulder MRI"), "overturned")),
        n + g.family_predicate_note("shoulder MRI"))
    add("count_outcome_service", "norco - how many times was the denial upheld", E_num(counts(fam("Norco"), "upheld")),
        n + g.family_predicate_note("Norco"))
    add("count_outcome_service", "how many cyclobenzeprine requests were knocked back",
        E_num(counts(fam("cyclobenzaprine"), "upheld")), n + "knocked back = upheld; " + g.family_predicate_note("cyclobenzaprine"))
    add("count_outcome_service", "how many FCE requests stayed denied", E_num(counts(fam("functional capacity evaluation"), "upheld")),
        n + g.family_predicate_note("functional capacity evaluation"))
    add("count_outcome_service", "how many requests for a home health aide were non-certified on review",
        E_num(counts(fam("home health aide"), "upheld")), n + "non-certified = upheld; " + g.family_predicate_note("home health aide"))
    add("count_outcome_service", "arthroscopy reqs reversed - how many", E_num(counts(fam("arthroscopy"), "overturned")),
        n + g.family_predicate_note("arthroscopy"))
    add("count_outcome_service", "how many emg studies did IMR uphold the denial for", E_num(counts(fam("EMG"), "upheld")),
        n + g.family_predicate_note("EMG"))
    add("count_outcome_service", "tramadol scripts okayed on IMR, how many", E_num(counts(fam("tramadol"), "overturned")),
        n + "okayed = overturned; " + g.family_predicate_note("tramadol"))
    add("count_outcome_service", "hospitl bed requests - how many got overturned",
        E_num(counts(fam("hospital bed"), "overturned")), n + g.family_predicate_note("hospital bed"))
    lumb = fam("lumbar MRI")
    add("count_outcome_service", "lumbar mri: how many upheld vs the total.. actually just the upheld number",
        E_num(counts(lumb, "upheld")), n + g.family_predicate_note("lumbar MRI"))


def count_outcome_category():
    def c(cat, outcome):
        return counts([[i for i in IS if i.category == cat]], outcome)
    n = "count of items with gold category {}"
    add("count_outcome_category", "how many med requests were overturned", E_num(c("medication", "overturned")), n.format("medication"))
    add("count_outcome_category", "imaging denials upheld - #", E_num(c("imaging", "upheld")), n.format("imaging"))
    add("count_outcome_category", "how many surgeries got approved at imr", E_num(c("surgery", "overturned")), n.format("surgery"))
    add("count_outcome_category", "how many DME items were reversed", E_num(c("DME", "overturned")), n.format("DME"))
    add("count_outcome_category", "therapy requests upheld count", E_num(c("therapy", "upheld")),
        n.format("therapy") + "; the partial overturn read as upheld also accepted")
    add("count_outcome_category", "how many injections did the reviewers overturn", E_num(c("injection", "overturned")), n.format("injection"))
    add("count_outcome_category", "how many durable medical equipment requests were sustained", E_num(c("DME", "upheld")),
        n.format("DME") + "; sustained = upheld")
    add("count_outcome_category", "# of drug requests flipped in the workers favor", E_num(c("medication", "overturned")),
        n.format("medication") + "; flipped = overturned")
    add("count_outcome_category", "how many imaging studies were okayed", E_num(c("imaging", "overturned")), n.format("imaging"))
    add("count_outcome_category", "how many surgical requests did IMR uphold", E_num(c("surgery", "upheld")), n.format("surgery"))
    add("count_outcome_category", "i'm putting together a summary for a client, could you let me know how many therapy items were overturned in total", E_num(c("therapy", "overturned")), n.format("therapy"))
    add("count_outcome_category", "total number of medication items in dispute across all letters", E_num(c("medication", None)),
        n.format("medication") + "; all outcomes")
    add("count_outcome_category", "how many injection requests stayed non-certified", E_num(c("injection", "upheld")), n.format("injection"))
    add("count_outcome_category", "pharmacy / medication denials upheld, how many", E_num(c("medication", "upheld")), n.format("medication"))
    add("count_outcome_category", "how many imaging items were disputed in total", E_num(c("imaging", None)), n.format("imaging"))
    add("count_outcome_category", "how many equipment (dme) requests were in dispute altogether", E_num(c("DME", None)), n.format("DME"))


def count_outcome_period():
    def c(s, e, outcome):
        return counts([items_in(period(s, e))], outcome)
    n = "count of items whose letter's decision date is in {}..{}"
    rows = [
        ("how many items were overturned in feb 2017", "2017-02-01", "2017-02-28", "overturned"),
        ("how many requests were upheld in january 2017", "2017-01-01", "2017-01-31", "upheld"),
        ("overturned requests during 2023 - how many", "2023-01-01", "2023-12-31", "overturned"),
        ("# of upheld items decided in 2022", "2022-01-01", "2022-12-31", "upheld"),
        ("how many treatments were approved between march 2022 and march 2023", "2022-03-01", "2023-03-31", "overturned"),
        ("q1 2017 reversals, how many items", "2017-01-01", "2017-03-31", "overturned"),
        ("upheld count for decisions dated 2024", "2024-01-01", "2024-12-31", "upheld"),
        ("how many items were overturned in 2024", "2024-01-01", "2024-12-31", "overturned"),
        ("how many items got denied at IMR in 2016", "2016-01-01", "2016-12-31", "upheld"),
        ("count the upheld requests decided before 2020", None, "2019-12-31", "upheld"),
        ("how many overturned items were decided after 2020", "2021-01-01", None, "overturned"),
        ("how many denials were upheld between 1/15/2017 and 2/10/2017", "2017-01-15", "2017-02-10", "upheld"),
        ("in the second half of 2022 how many requests were overturned", "2022-07-01", "2022-12-31", "overturned"),
        ("number of overturned items with a decision date in 2021", "2021-01-01", "2021-12-31", "overturned"),
        ("how many requests were decided (any outcome) in feb '17", "2017-02-01", "2017-02-28", None),
        ("items overturned from 2/1/17 thru 2/15/17", "2017-02-01", "2017-02-15", "overturned"),
        ("how many upheld items in the 2023 decisions", "2023-01-01", "2023-12-31", "upheld"),
    ]
    for q, s, e, o in rows:
        add("count_outcome_period", q, E_num(c(s, e, o)), n.format(s, e) + (f"; outcome {o}" if o else "; all items"))


def rate_service():
    n = "share of the family's items (fraction); "
    rows = [
        ("what pct of mri requests got overturned", "MRI", "overturned"),
        ("overturn rate for PT", "physical therapy", "overturned"),
        ("approval rate for tens units", "TENS unit", "overturned"),
        ("what share of hospital bed requests were upheld", "hospital bed", "upheld"),
        ("uphold rate on x-rays", "X-ray", "upheld"),
        ("percentage of norco requests that stayed denied", "Norco", "upheld"),
        ("lidoderm/lidocaine overturn pct", "lidocaine", "overturned"),
        ("pct of shoulder mri reqs reversed", "shoulder MRI", "overturned"),
        ("what percent of arthroscopy requests got approved", "arthroscopy", "overturned"),
        ("how often is chiropractic overturned (percent)", "chiropractic", "overturned"),
        ("lumbar MRI overturn rate", "lumbar MRI", "overturned"),
        ("what's the success rate for workers appealing a denied ESI", "epidural steroid injection", "overturned"),
        ("% of cervical mri denials upheld", "cervical MRI", "upheld"),
        ("share of physical therapy requests where the UR denial was upheld", "physical therapy", "upheld"),
        ("overturn rate for acupucture", "acupuncture", "overturned"),
        ("how often does IMR uphold cyclobenzaprine denials, as a %", "cyclobenzaprine", "upheld"),
    ]
    for q, f, o in rows:
        add("rate_service", q, E_share(rates(fam(f), o)), n + f"outcome {o}; " + g.family_predicate_note(f))


def rate_segment():
    def cat(c):
        return [i for i in IS if i.category == c]
    n = "share of items (fraction); "
    add("rate_segment", "overturn rate for meds", E_share(rates([cat("medication")], "overturned")), n + "category medication")
    add("rate_segment", "what pct of imaging was overturned", E_share(rates([cat("imaging")], "overturned")), n + "category imaging")
    add("rate_segment", "overall overturn rate across the whole library, all items", E_share(rates([IS], "overturned")), n + "all items")
    add("rate_segment", "and for 2017 decisions only, what's the overturn rate", E_share(rates([items_in(period("2017-01-01", "2017-12-31"))], "overturned")),
        n + "items of letters decided in 2017")
    add("rate_segment", "what pct of the texas IRO items were overturned", E_share(rates([items_in(TX)], "overturned")),
        n + "items of tx_iro letters")
    add("rate_segment", "overturn rate for expedited reviews",
        E_share(rates([items_in([L for L in LS if L.priority == "Expedited"])], "overturned")), n + "items of Expedited letters")
    add("rate_segment", "overturn pct for female patients",
        E_share(rates([items_in([L for L in LS if L.sex == "female"])], "overturned")), n + "items of letters with a female patient")
    add("rate_segment", "uphold rate for male claimants",
        E_share(rates([items_in([L for L in LS if L.sex == "male"])], "upheld")), n + "items of letters with a male patient")
    add("rate_segment", "what percentage of surgical requests were approved", E_share(rates([cat("surgery")], "overturned")), n + "category surgery")
    add("rate_segment", "what share of letters had at least one item overturned",
        E_share(sorted({round(sum(has_over(L) for L in LS) / len(LS), 4), round(sum(has_over(L, True) for L in LS) / len(LS), 4)})),
        "share of the 37 letters with >=1 overturned item (partial counted either way)")
    add("rate_segment", "what pct of DME was overturned", E_share(rates([cat("DME")], "overturned")), n + "category DME")
    add("rate_segment", "overturn rate for requests reviewed by orthopedic surgeons",
        E_share(rates([items_in([L for L in LS if "Orthopedic Surgery" in g.specialties(L)])], "overturned")),
        n + "items of letters whose reviewer specialty has Orthopedic Surgery")
    add("rate_segment", "in the 2022-2024 decisions, what % of requests were overturned",
        E_share(rates([items_in(period("2022-01-01", "2024-12-31"))], "overturned")), n + "items decided 2022-2024")
    add("rate_segment", "injection overturn rate", E_share(rates([cat("injection")], "overturned")), n + "category injection")
    add("rate_segment", "what fraction of the jan 2017 requests were upheld",
        E_share(rates([items_in(period("2017-01-01", "2017-01-31"))], "upheld")), n + "items decided January 2017")
    add("rate_segment", "overturn rate on the california dwc letters (items)",
        E_share(rates([items_in(CA)], "overturned")), n + "items of ca_dwc_imr letters")


def count_letters():
    u = "letters"
    n = "count of letters; "
    add("count_letters", "how many IMR letters are in the library altogether", E_num(len(LS), unit=u), n + "all decision letters")
    add("count_letters", "how many decisions do we have from 2017", E_num(len(period("2017-01-01", "2017-12-31")), unit=u),
        n + "decision date in 2017")
    add("count_letters", "# of cases that involved an MRI request", E_num(len(letters_of(g.fam_items("MRI"))), unit=u),
        n + "letters with >=1 MRI item")
    add("count_letters", "how many letters had a PT request in dispute",
        E_num([len(letters_of(p)) for p in fam("physical therapy")], unit=u), n + "letters with >=1 PT item")
    add("count_letters", "how many decisions were issued in feb 2017", E_num(len(period("2017-02-01", "2017-02-28")), unit=u),
        n + "decision date in Feb 2017")
    add("count_letters", "how many expedited imr decisions are there",
        E_num(sum(L.priority == "Expedited" for L in LS), unit=u), n + "priority Expedited")
    add("count_letters", "how many case files involve a female injured worker", E_num(sum(L.sex == "female" for L in LS), unit=u),
        n + "patient sex female")
    add("count_letters", "number of letters with at least one medication in dispute",
        E_num(len(letters_of([i for i in IS if i.category == "medication"])), unit=u), n + "letters with a medication item")
    add("count_letters", "how many letters have a decision date in 2023", E_num(len(period("2023-01-01", "2023-12-31")), unit=u),
        n + "decision date in 2023")
    add("count_letters", "how many cases were decided in jan '17", E_num(len(period("2017-01-01", "2017-01-31")), unit=u),
        n + "decision date in Jan 2017")
    add("count_letters", "how many cases had a surgery request", E_num(len(letters_of([i for i in IS if i.category == "surgery"])), unit=u),
        n + "letters with a surgery-category item")
    add("count_letters", "norco letters, how many", E_num(len(letters_of(g.fam_items("Norco"))), unit=u),
        n + g.family_predicate_note("Norco"))
    add("count_letters", "how many decisions are missing a case number", E_num(sum(not L.case_number for L in LS), unit=u),
        n + "letters without a case number (knee double-spaced letter, Texas partial)")
    add("count_letters", "how many imr cases had an injury date in oct 2016",
        E_num(len(period("2016-10-01", "2016-10-31", "date_of_injury")), unit=u), n + "date of injury in Oct 2016")
    add("count_letters", "how many letters were reviewed by a family practice doc",
        E_num(sum("Family Practice" in g.specialties(L) for L in LS), unit=u), n + "specialty part Family Practice")
    add("count_letters", "how many letters had an X-ray dispute", E_num(len(letters_of(g.fam_items("X-ray"))), unit=u),
        n + g.family_predicate_note("X-ray"))
    add("count_letters", "number of determinations involving a lidocaine product",
        E_num([len(letters_of(g.fam_items("lidocaine"))), len(letters_of(pred(r"lidocaine|lidoderm|terocin")))], unit=u),
        n + "letters with a lidocaine/lidoderm item; the Terocin letter (Terocin contains lidocaine) also accepted")


def cases_quantifier():
    n = "case numbers of letters; "
    add("cases_quantifier", "which cases had every single item overturned",
        E_cases([L for L in LS if all(i.overturned for i in L.items)], [L for L in LS if all(i.overturned_loose for i in L.items)]),
        n + "all items overturned (partial accepted either way)")
    add("cases_quantifier", "cases where at least one request was overturned",
        E_cases([L for L in LS if has_over(L)], [L for L in LS if has_over(L, True)]), n + ">=1 overturned item")
    add("cases_quantifier", "list the letters with mixed outcomes (some upheld, some overturned)",
        E_cases([L for L in LS if has_over(L) and any(i.upheld for i in L.items)]), n + ">=1 overturned and >=1 upheld")
    add("cases_quantifier", "which cases had more than 5 disputed items", E_cases([L for L in LS if len(L.items) > 5]), n + "items > 5")
    add("cases_quantifier", "cases w/ exactly 2 items in dispute", E_cases([L for L in LS if len(L.items) == 2]), n + "items == 2")
    add("cases_quantifier", "letters where all requests were upheld and there were at least 3 items",
        E_cases([L for L in LS if all_upheld(L) and len(L.items) >= 3]), n + "all upheld and items >= 3")
    add("cases_quantifier", "which letters had 3 or more items overturned",
        E_cases([L for L in LS if sum(i.overturned for i in L.items) >= 3]), n + "overturned items >= 3")
    add("cases_quantifier", "which decisions overturned exactly one item", E_cases([L for L in LS if sum(i.overturned for i in L.items) == 1],
        [L for L in LS if sum(i.overturned_loose for i in L.items) == 1]), n + "overturned items == 1")
    add("cases_quantifier", "cases where more than half the requests were approved",
        E_cases([L for L in LS if sum(i.overturned for i in L.items) > len(L.items) / 2],
                [L for L in LS if sum(i.overturned_loose for i in L.items) > len(L.items) / 2]), n + "overturned > half of items")
    add("cases_quantifier", "which 2017 cases had any overturn at all",
        E_cases([L for L in period("2017-01-01", "2017-12-31") if has_over(L)]), n + "decided 2017, >=1 overturned")
    add("cases_quantifier", "letters with at least 2 upheld items and at least 1 overturned",
        E_cases([L for L in LS if sum(i.upheld for i in L.items) >= 2 and has_over(L)]), n + "upheld >= 2 and overturned >= 1")
    add("cases_quantifier", "cases in which none of the medications were approved but at least one med was disputed",
        E_cases([L for L in LS if any(i.category == "medication" for i in L.items)
                 and not any(i.category == "medication" and i.overturned_loose for i in L.items)]),
        n + "has a medication item and no medication item overturned")
    add("cases_quantifier", "which letters had both imaging and medication items",
        E_cases([L for L in LS if {"imaging", "medication"} <= {i.category for i in L.items}]), n + "categories include imaging and medication")
    add("cases_quantifier", "which decisions had every item upheld and were decided in feb 2017",
        E_cases([L for L in period("2017-02-01", "2017-02-28") if all_upheld(L)]), n + "decided Feb 2017, all upheld")
    add("cases_quantifier", "any case where ALL the therapy requests were approved - list them",
        E_cases([L for L in LS if any(i.category == "therapy" for i in L.items) and all(i.overturned for i in L.items if i.category == "therapy")],
                [L for L in LS if any(i.category == "therapy" for i in L.items) and all(i.overturned_loose for i in L.items if i.category == "therapy")]),
        n + "has a therapy-category item and every therapy item overturned")


def threshold():
    n = "threshold; "
    add("threshold", "which cases have a claimant older than 58", E_cases([L for L in LS if L.age and L.age > 58]), n + "age > 58")
    add("threshold", "how many patients were under 35", E_num(sum(1 for L in LS if L.age and L.age < 35), unit="letters"), n + "age < 35, letters")
    add("threshold", "cases that took over 45 days from application received to decision",
        E_cases([L for L in LS if dur([L], "application_received", "decision_date") and dur([L], "application_received", "decision_date")[0] > 45]),
        n + "application_received -> decision_date > 45 days")
    add("threshold", "how many letters had 4+ disputed items", E_num(sum(len(L.items) >= 4 for L in LS), unit="letters"), n + "items >= 4")
    add("threshold", "which IMRs were decided more than 60 days after the UR denial",
        E_cases([L for L in LS if dur([L], "ur_denial_date", "decision_date") and dur([L], "ur_denial_date", "decision_date")[0] > 60]),
        n + "ur_denial -> decision > 60 days")
    add("threshold", "how many cases were assigned and decided within 3 weeks",
        E_num(sum(1 for L in LS if dur([L], "date_assigned", "decision_date") and dur([L], "date_assigned", "decision_date")[0] <= 21), unit="letters"),
        n + "date_assigned -> decision <= 21 days")
    add("threshold", "cases where the worker was injured more than a year before the decision",
        E_cases([L for L in LS if dur([L], "date_of_injury", "decision_date") and dur([L], "date_of_injury", "decision_date")[0] > 365]),
        n + "date_of_injury -> decision > 365 days")
    add("threshold", "how many claimants were 50 or older", E_num(sum(1 for L in LS if L.age and L.age >= 50), unit="letters"), n + "age >= 50")
    add("threshold", "which cases had the application filed less than a week after the UR denial",
        E_cases([L for L in LS if dur([L], "ur_denial_date", "application_received") and dur([L], "ur_denial_date", "application_received")[0] < 7]),
        n + "ur_denial -> application_received < 7 days")
    add("threshold", "letters with 10 or more items", E_cases([L for L in LS if len(L.items) >= 10]), n + "items >= 10")
    add("threshold", "how many decisions came out within 30 days of the application being received",
        E_num([sum(1 for L in LS if dur([L], "application_received", "decision_date") and dur([L], "application_received", "decision_date")[0] <= 30),
               sum(1 for L in LS if dur([L], "application_received", "decision_date") and dur([L], "application_received", "decision_date")[0] < 30)],
              unit="letters"),
        n + "application_received -> decision <= 30 days (< 30 also accepted: two letters took exactly 30)")
    add("threshold", "pts aged 40 to 49 - which cases", E_cases([L for L in LS if L.age and 40 <= L.age <= 49]), n + "40 <= age <= 49")
    add("threshold", "cases where the ur denial came more than 10 weeks after the doi",
        E_cases([L for L in LS if dur([L], "date_of_injury", "ur_denial_date") and dur([L], "date_of_injury", "ur_denial_date")[0] > 70]),
        n + "date_of_injury -> ur_denial > 70 days")
    add("threshold", "how many letters took 35 days or longer from the assignment date to the decision",
        E_num(sum(1 for L in LS if dur([L], "date_assigned", "decision_date") and dur([L], "date_assigned", "decision_date")[0] >= 35), unit="letters"),
        n + "date_assigned -> decision >= 35 days")


def cases_service():
    n = "case numbers of letters; "
    rows = [
        ("which cases had an mri reqeust", g.fam_items("MRI"), None, "MRI"),
        ("list the cases where a tens unti was disputed", g.fam_items("TENS unit"), None, "TENS unit"),
        ("cases w/ norco", g.fam_items("Norco"), None, "Norco"),
        ("which letters involved accupuncture", g.fam_items("acupuncture"), None, "acupuncture"),
        ("which case had the hospital bed request", g.fam_items("hospital bed"), None, "hospital bed"),
        ("show me the cases where PT was overturned", [i for i in g.fam_items("physical therapy") if i.overturned],
         [i for i in g.fam_items("physical therapy") if i.overturned_loose], "physical therapy"),
        ("which cases had lidoderm or lidocaine upheld", [i for i in g.fam_items("lidocaine") if i.upheld], None, "lidocaine"),
        ("cases involving flexeril / cyclobenzaprine", g.fam_items("cyclobenzaprine"), None, "cyclobenzaprine"),
        ("which cases included a chiro request", g.fam_items("chiropractic"), g.fam_items("chiropractic", True), "chiropractic"),
        ("which case numbers had an emg", g.fam_items("EMG"), None, "EMG"),
        ("cases with an epidural steroid injection in dispute", g.fam_items("epidural steroid injection"), None, "epidural steroid injection"),
        ("which letters had x rays", g.fam_items("X-ray"), None, "X-ray"),
        ("what cases had an FCE request", g.fam_items("functional capacity evaluation"), None, "functional capacity evaluation"),
        ("which cases had tramdol", g.fam_items("tramadol"), None, "tramadol"),
        ("cases where an MRI got overturned", [i for i in g.fam_items("MRI") if i.overturned], None, "MRI"),
        ("which case files have a pantoprazole / protonix request", g.fam_items("Pantoprazole"), None, "Pantoprazole"),
        ("which cases had a nerve conduction study (ncv/ncs)", g.fam_items("nerve conduction study"), None, "nerve conduction study"),
        ("home health aide cases", g.fam_items("home health aide"), None, "home health aide"),
    ]
    for q, its, alt, f in rows:
        add("cases_service", q, E_cases(letters_of(its), *( [letters_of(alt)] if alt is not None else [])),
            n + g.family_predicate_note(f))


def cases_period():
    n = "case numbers of letters; "
    rows = [
        ("i'd like to see which cases were decided in 2023, if you could list them", "2023-01-01", "2023-12-31", "decision_date"),
        ("list letters decided between 1/15/17 and 1/31/17", "2017-01-15", "2017-01-31", "decision_date"),
        ("cases decided in 2022", "2022-01-01", "2022-12-31", "decision_date"),
        ("which cases had the injury happen in nov 2016", "2016-11-01", "2016-11-30", "date_of_injury"),
        ("cases where UR denied in january 2017", "2017-01-01", "2017-01-31", "ur_denial_date"),
        ("which cases were assigned to a reviewer in feb 2017", "2017-02-01", "2017-02-28", "date_assigned"),
        ("cases with the IMR application received in dec 2016", "2016-12-01", "2016-12-31", "application_received"),
        ("which letters were decided in the 2nd week of feb 2017", "2017-02-06", "2017-02-12", "decision_date"),
        ("decisions from 2024, case numbers pls", "2024-01-01", "2024-12-31", "decision_date"),
        ("which cases have a DOI in december 2016", "2016-12-01", "2016-12-31", "date_of_injury"),
        ("which cases were decided on or after feb 20 2017 but before 2018", "2017-02-20", "2017-12-31", "decision_date"),
        ("cases where the UR denial date falls in nov 2016", "2016-11-01", "2016-11-30", "ur_denial_date"),
        ("which decisions came out between 2021 and 2022 (inclusive)", "2021-01-01", "2022-12-31", "decision_date"),
        ("cases with an injury date before 2016", None, "2015-12-31", "date_of_injury"),
        ("applications received in the second half of 2022 - which cases", "2022-07-01", "2022-12-31", "application_received"),
        ("which cases were decided on jan 31 2017", "2017-01-31", "2017-01-31", "decision_date"),
    ]
    for q, s, e, f in rows:
        alts = [period("2017-02-08", "2017-02-14")] if "2nd week" in q else []
        add("cases_period", q, E_cases(period(s, e, f), *alts), n + f"{f} in {s}..{e}" + ("; Feb 8-14 also accepted" if alts else ""))


def case_date_field():
    n = "the letter's {}"
    rows = [
        ("DOI for CM17-0009840", "CM17-0009840", "date_of_injury"),
        ("when was CM16-0248698 decided", "CM16-0248698", "decision_date"),
        ("ur denial date cm17-0005344", "CM17-0005344", "ur_denial_date"),
        ("when did maximus receive the IMR application in CM16-0239607", "CM16-0239607", "application_received"),
        ("date assigned on CM99-0000008", "CM99-0000008", "date_assigned"),
        ("when was the injury in cm99-0000009", "CM99-0000009", "date_of_injury"),
        ("what's the decision date for 2024-99011", "2024-99011", "decision_date"),
        ("CM16-0246487 date of injury", "CM16-0246487", "date_of_injury"),
        ("on what date did UR non-certify the request in CM17-0021126", "CM17-0021126", "ur_denial_date"),
        ("application received date, CM99-0000005", "CM99-0000005", "application_received"),
        ("when did the reviewer get assigned CM17-0015790", "CM17-0015790", "date_assigned"),
        ("final determination date CM16-0232543", "CM16-0232543", "decision_date"),
        ("dt of injury for case CM17-0006634", "CM17-0006634", "date_of_injury"),
        ("what date was the UR denial in CM99-0000002", "CM99-0000002", "ur_denial_date"),
        ("when did the texas IRO decide 2024-99010", "2024-99010", "decision_date"),
        ("CM16-0249735: when was the app for IMR received", "CM16-0249735", "application_received"),
        ("when was CM17-0009996 assigned", "CM17-0009996", "date_assigned"),
        ("date the IMR decision issued for CM99-0000007", "CM99-0000007", "decision_date"),
        ("what's the date of injury on CM16-0248655", "CM16-0248655", "date_of_injury"),
        ("when did utilization review deny cm17-0010728", "CM17-0010728", "ur_denial_date"),
    ]
    for q, c, f in rows:
        add("case_date_field", q, E_date(L_(c).dates[f]), n.format(f))
    L = by_file("tx_iro_partial.txt")
    add("case_date_field", "when was the texas partial-overturn ankle PT letter sent",
        E_date(L.decision), "the Texas partial letter (no case number): decision date = date notice sent")


def case_clarify():
    n = "no date field named and the letter has five dates: a careful analyst asks which one"
    for q in ["what date for CM17-0010728", "when was CM16-0243394", "date on cm99-0000002", "CM17-0015790 date",
              "give me the date for case CM16-0247274", "what's the date in CM99-0000006",
              "cm17-0003591 - date", "the date of CM16-0249170 please", "date for CM17-0008633",
              "which date is on CM99-0000001", "CM16-0240900 when", "need the date on CM17-0009887",
              "pull the date for cm16-0245295", "date of CM99-0000004"]:
        add("case_clarify", q, E_clarify(), n)


def case_outcome_service():
    rows = [
        ("outcome of the tens unit in CM99-0000001", "CM99-0000001", r"tens"),
        ("what happened to the norco in CM17-0015790", "CM17-0015790", r"norco"),
        ("CM16-0246487 bankart repair result", "CM16-0246487", r"bankart"),
        ("ruling on the left L5-S1 ESI in CM16-0247274", "CM16-0247274", r"left l5-s1 epidural"),
        ("determination on the lidocaine ointment, CM17-0006634", "CM17-0006634", r"lidocaine ointment"),
        ("CM99-0000007 cbt - upheld or overturned", "CM99-0000007", r"cognitive"),
        ("how did the wheelchair rental come out in CM99-0000008", "CM99-0000008", r"wheelchair"),
        ("what did IMR decide on the spine surgery eval in CM16-0247802", "CM16-0247802", r"spine surgery evaluation"),
        ("result for the urine drug screen cm99-0000006", "CM99-0000006", r"urine drug"),
        ("was the percocet in CM16-0246487 upheld or flipped", "CM16-0246487", r"percocet"),
        ("outcome for the MRI of the lumbosacral spine in CM17-0008519", "CM17-0008519", r"mri"),
        ("CM99-0000009 medial branch blocks - decision", "CM99-0000009", r"medial branch"),
        ("what was decided about the lso brace in CM99-0000009", "CM99-0000009", r"lso"),
        ("CM99-0000002 scs trial outcome", "CM99-0000002", r"spinal cord stimulator trial, percutaneous"),
        ("the gabapentin in cm99-0000004, what was the determination", "CM99-0000004", r"gabapentin"),
        ("could you please check what the IMR reviewer decided on the cymbalta request in CM99-0000007", "CM99-0000007", r"cymbalta"),
        ("decision on the aquatic therapy in CM99-0000006", "CM99-0000006", r"aquatic"),
        ("CM16-0248698 acupuncture outcome", "CM16-0248698", r"acupuncture"),
        ("the cervical ESI in CM99-0000004 - approved or not", "CM99-0000004", r"epidural"),
    ]
    for q, c, rx in rows:
        it = item(c, rx)
        add("case_outcome_service", q, E_outcome(it.determination), f"determination of item '{it.service}'")
    it = by_file("tx_iro_partial.txt").items[0]
    add("case_outcome_service", "what was the texas IRO's call on the ankle post-op PT", E_outcome(it.determination),
        "the Texas partial letter; partially overturned (overturned also accepted by the grader)")


def case_item_count():
    rows = [
        ("how many items in CM16-0248698", "CM16-0248698", None),
        ("# of disputed services CM99-0000006", "CM99-0000006", None),
        ("how many requests were overturned in CM99-0000006", "CM99-0000006", "overturned"),
        ("how many things got upheld in CM16-0246487", "CM16-0246487", "upheld"),
        ("number of treatments in dispute in CM17-0006634", "CM17-0006634", None),
        ("CM16-0247274 - how many items", "CM16-0247274", None),
        ("how many of the CM16-0246487 requests were approved", "CM16-0246487", "overturned"),
        ("count of disputed items for cm16-0232543", "CM16-0232543", None),
        ("how many issues did the reviewer decide in CM17-0005344", "CM17-0005344", None),
        ("how many meds were at issue in CM16-0248698", "CM16-0248698", "medication"),
        ("how many services were overturned in CM99-0000002", "CM99-0000002", "overturned"),
        ("how many denials were upheld in CM99-0000001", "CM99-0000001", "upheld"),
        ("CM16-0247802 number of requests", "CM16-0247802", None),
        ("how many imaging studies were disputed in CM16-0248698", "CM16-0248698", "imaging"),
        ("how many disputed items did CM17-0009887 have", "CM17-0009887", None),
        ("how many items were upheld in cm99-0000008", "CM99-0000008", "upheld"),
        ("how many overturned in CM17-0021126", "CM17-0021126", "overturned"),
    ]
    for q, c, what in rows:
        L = L_(c)
        if what is None:
            v = len(L.items)
        elif what in ("overturned", "upheld"):
            v = g.count_outcome(L.items, what)
        else:
            v = [sum(i.category == what for i in L.items)]
            if what == "imaging":  # EMG/NCV are electrodiagnostic: not counting them is also defensible
                v.append(sum(i.category == what and not re.search(r"\bemg\b|\bncv\b|\bncs\b", i.s) for i in L.items))
        add("case_item_count", q, E_num(v), f"items of {c}" + (f" ({what})" if what else ""))


def case_reviewer():
    def spec_accept(L):
        parts = g.specialties(L)
        return parts
    rows = [
        ("reviewer specialty on CM17-0009840", "CM17-0009840", "spec"),
        ("what kind of doctor reviewed CM16-0239607", "CM16-0239607", "spec"),
        ("where is the reviewer for CM16-0248655 licensed", "CM16-0248655", "lic"),
        ("states of licensure for the CM16-0246487 reviewer", "CM16-0246487", "lic"),
        ("board cert of the reviewer in CM99-0000009", "CM99-0000009", "spec"),
        ("who reviewed cm17-0009883 - what specialty", "CM17-0009883", "spec"),
        ("reviewer's license state(s) CM16-0237163", "CM16-0237163", "lic"),
        ("what's the expert reviewer's certification in CM16-0247802", "CM16-0247802", "spec"),
        ("CM99-0000008 reviewer specialty", "CM99-0000008", "spec"),
        ("could you tell me in which states the reviewer on CM17-0015790 holds a license", "CM17-0015790", "lic"),
        ("specialty of the physician reviewer for 2024-99011", "2024-99011", "spec"),
        ("what field does the reviewer in CM17-0010728 practice", "CM17-0010728", "spec"),
        ("CM99-0000009 reviewer licensure", "CM99-0000009", "lic"),
        ("was the CM16-0246487 reviewer an ortho, what specialty", "CM16-0246487", "spec"),
        ("reviewer board certification for the texas carpal tunnel case 2024-99010", "2024-99010", "spec"),
        ("CM16-0232543 - reviewer licensed where", "CM16-0232543", "lic"),
        ("what specialty reviewed CM17-0003591", "CM17-0003591", "spec"),
    ]
    for q, c, what in rows:
        L = L_(c)
        if what == "spec":
            parts = spec_accept(L)
            acc = []
            for p in parts:
                acc += [p] + SPEC_ALIASES.get(p, [])
            add("case_reviewer", q, E_text(acc, value=L.specialty), f"reviewer specialty '{L.specialty}': any of its parts")
        else:
            add("case_reviewer", q, E_text(L.licensure, all_=True), "every state of licensure: " + ", ".join(L.licensure))


def case_patient():
    rows = [
        ("age of pt in CM16-0232543", "CM16-0232543", "age"),
        ("gender of the injured worker CM17-0021126", "CM17-0021126", "sex"),
        ("how old was the claimant in CM99-0000008", "CM99-0000008", "age"),
        ("CM17-0009883 patient age", "CM17-0009883", "age"),
        ("is the IW in CM16-0248655 male or female", "CM16-0248655", "sex"),
        ("age of the applicant, cm99-0000001", "CM99-0000001", "age"),
        ("how old is the worker in CM17-0003591", "CM17-0003591", "age"),
        ("what sex is the patient in CM16-0237163", "CM16-0237163", "sex"),
        ("patient's age for CM16-0246487", "CM16-0246487", "age"),
        ("CM99-0000007 pt gender", "CM99-0000007", "sex"),
        ("how old was the injured employee in 2024-99010", "2024-99010", "age"),
        ("cm17-0015790 claimant age pls", "CM17-0015790", "age"),
        ("sex of the injured worker in CM99-0000006", "CM99-0000006", "sex"),
        ("age at review, CM16-0249735", "CM16-0249735", "age"),
        ("CM17-0009996 female or male pt", "CM17-0009996", "sex"),
    ]
    for q, c, what in rows:
        L = L_(c)
        if what == "age":
            add("case_patient", q, E_num(L.age), f"patient age stated in {c}")
        else:
            acc = ["female", "woman"] if L.sex == "female" else ["male"]
            add("case_patient", q, E_text(acc, value=L.sex),
                f"patient sex {L.sex} (grader substring: 'male' also occurs in 'female')")
    add("case_patient", "patient sex for CM99-0000004", E_none("patient sex"),
        "the letter does not state the patient's sex: 'not stated' is right")
    add("case_patient", "how old is the pt in CM16-0249170", E_none("patient age"),
        "the letter does not state the patient's age: 'not stated' is right")


def priority():
    exp = [L for L in LS if L.priority == "Expedited"]
    std = [L for L in LS if L.priority == "Standard"]
    add("priority", "was CM99-0000008 expedited", E_bool(L_("CM99-0000008").priority == "Expedited"), "priority field")
    add("priority", "priority of CM17-0005344", E_text(["standard"], value="Standard"), "priority field")
    add("priority", "how many expedited IMRs", E_num(len(exp), unit="letters"), "letters with priority Expedited")
    add("priority", "which cases were expedited", E_cases(exp), "letters with priority Expedited")
    add("priority", "how many reviews were standard priority", E_num([len(std), len(LS) - len(exp)], unit="letters"),
        "priority Standard (33); the reading 'every non-expedited letter' (36) also accepted")
    add("priority", "is CM16-0239607 an expedited review", E_bool(False), "priority Standard")
    add("priority", "was the wheelchair / hospital bed case handled as urgent", E_bool(True),
        "CM99-0000008 has both and is Expedited")
    add("priority", "any expedited reviews in 2017", E_bool(any(L.priority == "Expedited" for L in period("2017-01-01", "2017-12-31"))),
        "Expedited letters decided in 2017")
    add("priority", "overturn rate on expedited cases vs standard - just the expedited one",
        E_share(rates([items_in(exp)], "overturned")), "share of items overturned in Expedited letters")
    add("priority", "how many items were decided under expedited review", E_num(len(items_in(exp))), "items of Expedited letters")
    add("priority", "priority level for CM99-0000001", E_text(["standard"], value="Standard"), "priority field")
    add("priority", "how many standard-priority letters had an overturn",
        E_num(sorted({sum(has_over(L) for L in std), sum(has_over(L, True) for L in std)}), unit="letters"),
        "Standard letters with >=1 overturned item")
    add("priority", "what was the priority on CM17-0009887", E_text(["standard"], value="Standard"), "priority field")
    add("priority", "the expedited one - what was the patient's age", E_num([L.age for L in exp]), "the only Expedited letter")
    add("priority", "expedited case number", E_cases(exp), "letters with priority Expedited")


def duration_avg():
    n = "mean days {}->{} over letters with both dates"
    rows = [
        ("avg days from UR denial to IMR decision", LS, "ur_denial_date", "decision_date"),
        ("on average how long does it take from the worker's IMR application being received to the final decision letter", LS, "application_received", "decision_date"),
        ("mean time from assignment to decision, in days", LS, "date_assigned", "decision_date"),
        ("how long on average between injury and the IMR decision", LS, "date_of_injury", "decision_date"),
        ("avg lag from DOI to the UR denial", LS, "date_of_injury", "ur_denial_date"),
        ("on average how many days after the UR denial do workers file for IMR", LS, "ur_denial_date", "application_received"),
        ("avg days between maximus receiving the application and assigning it", LS, "application_received", "date_assigned"),
        ("average days from application to decision for the 2017 letters", period("2017-01-01", "2017-12-31"), "application_received", "decision_date"),
        ("in cases with at least one overturn, avg days from UR denial to decision", [L for L in LS if has_over(L)], "ur_denial_date", "decision_date"),
        ("avg assignment-to-decision time for the synthetic 2021-2023 decisions",
         period("2021-01-01", "2023-12-31"), "date_assigned", "decision_date"),
        ("mean days from the ur denial to the decision for feb 2017 decisions", period("2017-02-01", "2017-02-28"), "ur_denial_date", "decision_date"),
        ("average time from application received to decision for cases with a female claimant",
         [L for L in LS if L.sex == "female"], "application_received", "decision_date"),
        ("for cases where everything was upheld, avg days from application to decision",
         [L for L in LS if all_upheld(L)], "application_received", "decision_date"),
        ("avg # of days between date of injury and UR denial in jan 2017 decisions",
         period("2017-01-01", "2017-01-31"), "date_of_injury", "ur_denial_date"),
    ]
    for q, ls, a, b in rows:
        add("duration_avg", q, E_dur(mean(dur(ls, a, b))), n.format(a, b))
    d = dur(LS, "application_received", "decision_date")
    add("duration_avg", "median days from application receipt to decision", E_dur(statistics.median(d)),
        "median days application_received->decision_date over letters with both dates")
    d = dur(LS, "ur_denial_date", "decision_date")
    add("duration_avg", "median UR-denial-to-IMR-decision time", E_dur(statistics.median(d)),
        "median days ur_denial_date->decision_date")


def duration_case():
    rows = [
        ("days between UR denial and IMR decision for CM17-0009840", "CM17-0009840", "ur_denial_date", "decision_date"),
        ("how long from injury to decision in CM16-0232543", "CM16-0232543", "date_of_injury", "decision_date"),
        ("turnaround from application receipt to final determination cm99-0000001", "CM99-0000001", "application_received", "decision_date"),
        ("how many days after assignment was CM16-0248698 decided", "CM16-0248698", "date_assigned", "decision_date"),
        ("CM17-0021126: days from DOI to UR denial", "CM17-0021126", "date_of_injury", "ur_denial_date"),
        ("how long did the worker wait after the UR denial to apply for IMR in CM16-0240900", "CM16-0240900", "ur_denial_date", "application_received"),
        ("how long did maximus take to assign CM17-0005344 after receiving it", "CM17-0005344", "application_received", "date_assigned"),
        ("days from ur denial to decision, CM99-0000008", "CM99-0000008", "ur_denial_date", "decision_date"),
        ("how long was CM99-0000009 pending from application to decision", "CM99-0000009", "application_received", "decision_date"),
        ("elapsed days injury->imr decision for CM99-0000002", "CM99-0000002", "date_of_injury", "decision_date"),
        ("CM16-0246487 - # of days from assignment to determination", "CM16-0246487", "date_assigned", "decision_date"),
        ("how many days between the UR non-cert and the IMR decision in CM17-0009883", "CM17-0009883", "ur_denial_date", "decision_date"),
        ("time from application received to date assigned in CM99-0000006 (days)", "CM99-0000006", "application_received", "date_assigned"),
        ("how long from doi to decision on cm17-0010728", "CM17-0010728", "date_of_injury", "decision_date"),
        ("days from UR denial until the IMR app came in, CM17-0009887", "CM17-0009887", "ur_denial_date", "application_received"),
        ("how quickly was CM16-0249170 decided after the application was received", "CM16-0249170", "application_received", "decision_date"),
    ]
    for q, c, a, b in rows:
        L = L_(c)
        add("duration_case", q, E_dur(g.days_between(L.dates[a], L.dates[b])), f"days {a}->{b} of {c}")


def extremes():
    def ext(key, ls, hi=True):
        vals = [(key(L), L) for L in ls if key(L) is not None]
        best = max(v for v, _ in vals) if hi else min(v for v, _ in vals)
        return best, [L for v, L in vals if v == best]

    v, ls = ext(lambda L: len(L.items), LS)
    add("extremes", "which case had the most disputed items", E_text(cased(ls)), f"letter with most items ({v})")
    v, ls = ext(lambda L: L.age, LS, hi=False)
    add("extremes", "which case had the youngest pt", E_text(cased(ls)), f"youngest patient ({v})")
    add("extremes", "how old was the youngest claimant", E_num(v), "minimum age")
    v, ls = ext(lambda L: L.age, LS)
    add("extremes", "oldest injured worker in the library - how old", E_num(v), "maximum age")
    add("extremes", "which case had the oldest patient", E_text(cased(ls)), f"oldest patient ({v})")
    v, ls = ext(lambda L: L.decision, LS, hi=False)
    add("extremes", "earliest decision date in the set", E_date(v), "minimum decision date")
    v, ls = ext(lambda L: L.decision, LS)
    add("extremes", "most recent IMR decision - what date", E_date(v), "maximum decision date (the Texas partial letter)")
    v, ls = ext(lambda L: L.dates["date_of_injury"], LS, hi=False)
    add("extremes", "whats the oldest date of injury on file", E_date(v), "minimum date of injury")
    v, ls = ext(lambda L: L.dates["date_of_injury"], LS)
    add("extremes", "most recent DOI", E_date(v), "maximum date of injury")
    k = lambda L: (dur([L], "ur_denial_date", "decision_date") or [None])[0]  # noqa: E731
    v, ls = ext(k, LS)
    add("extremes", "which case had the longest wait between UR denial and the IMR decision", E_text(cased(ls)),
        f"max days ur_denial->decision ({v})")
    add("extremes", "longest ur-denial-to-decision gap, in days", E_dur(v), "max days ur_denial->decision")
    k = lambda L: (dur([L], "application_received", "decision_date") or [None])[0]  # noqa: E731
    v, ls = ext(k, LS, hi=False)
    add("extremes", "fastest turnaround from application to decision - which case", E_text(cased(ls)),
        f"min days application_received->decision ({v})")
    add("extremes", "shortest application-to-decision time in days", E_dur(v), "min days application_received->decision")
    v, ls = ext(lambda L: sum(i.overturned for i in L.items), LS)
    add("extremes", "which letter had the most overturned items", E_text(cased(ls)), f"max overturned items ({v})")
    k = lambda L: (dur([L], "date_of_injury", "decision_date") or [None])[0]  # noqa: E731
    v, ls = ext(k, LS)
    add("extremes", "which case was decided the longest after the injury", E_text(cased(ls)), f"max days injury->decision ({v})")
    v, ls = ext(lambda L: len(L.licensure) or None, LS)
    add("extremes", "max number of states any single reviewer is licensed in", E_num(v), "max licensure states per letter")


def rank_services():
    def rk(pool, key=None):
        return Counter(g.rank_label(i) for i in pool if key is None or key(i))
    ca_pool = items_in(CA)
    add("rank_services", "top 3 most disputed services", E_rank(rk(IS), 3, RANK_ACCEPT), "items per service family (gold.RANK_FAMILIES)")
    add("rank_services", "most common requested service", E_rank(rk(IS), 1, RANK_ACCEPT), "items per service family")
    add("rank_services", "rank the services by # of requests, top 5", E_rank(rk(IS), 5, RANK_ACCEPT), "items per service family")
    add("rank_services", "which services got upheld most often in the california letters - top 2",
        E_rank(rk(ca_pool, lambda i: i.upheld), 2, RANK_ACCEPT), "upheld items per family, ca_dwc_imr letters")
    add("rank_services", "what treatment was overturned the most in CA cases",
        E_rank(rk(ca_pool, lambda i: i.overturned), 1, RANK_ACCEPT), "overturned items per family, ca_dwc_imr letters")
    add("rank_services", "top 3 services in the 2017 letters", E_rank(rk(items_in(period("2017-01-01", "2017-12-31"))), 3, RANK_ACCEPT),
        "items per family, letters decided 2017")
    add("rank_services", "most frequently denied service in 2017 (upheld)",
        E_rank(rk(items_in(period("2017-01-01", "2017-12-31")), lambda i: i.upheld), 1, RANK_ACCEPT), "upheld items per family, 2017")
    add("rank_services", "which imaging service is disputed most", E_rank(rk(IS, lambda i: i.category == "imaging"), 1, RANK_ACCEPT),
        "imaging-category items per family")
    add("rank_services", "top 2 imaging types by number of requests", E_rank(rk(IS, lambda i: i.category == "imaging"), 2, RANK_ACCEPT),
        "imaging-category items per family")
    add("rank_services", "what's the most disputed therapy", E_text(["physical therapy"]),
        "therapy services per family: physical therapy (10 therapy-category items, 11 with the PT evaluation); no count checked")
    add("rank_services", "which service shows up in the most letters",
        E_rank(Counter(lab for L in LS for lab in {g.rank_label(i) for i in L.items}), 1, RANK_ACCEPT),
        "letters per service family")
    add("rank_services", "top 3 services by number of cases they appear in",
        E_rank(Counter(lab for L in LS for lab in {g.rank_label(i) for i in L.items}), 3, RANK_ACCEPT),
        "letters per service family")
    add("rank_services", "in feb 2017 which service was requested most", E_rank(rk(items_in(period("2017-02-01", "2017-02-28"))), 1, RANK_ACCEPT),
        "items per family, Feb 2017")
    add("rank_services", "most common service among overturned items in 2017",
        E_rank(rk(items_in(period("2017-01-01", "2017-12-31")), lambda i: i.overturned), 1, RANK_ACCEPT), "overturned items per family, 2017")
    add("rank_services", "top 2 services in january 2017 decisions", E_rank(rk(items_in(period("2017-01-01", "2017-01-31"))), 2, RANK_ACCEPT),
        "items per family, Jan 2017")


MONTH_ACCEPT = {}


def _month_label(m: str) -> str:
    dt = date.fromisoformat(m + "-01")
    lab = dt.strftime("%B %Y")
    MONTH_ACCEPT[lab] = [m, dt.strftime("%b %Y").lower(), dt.strftime("%B %Y").lower(), f"{dt.month}/{dt.year}"]
    return lab


def rank_month():
    cl = Counter(_month_label(g.month_key(L.decision)) for L in LS if L.decision)
    ci = Counter(_month_label(g.month_key(i.letter.decision)) for i in IS if i.letter.decision)
    co = Counter(_month_label(g.month_key(i.letter.decision)) for i in IS if i.letter.decision and i.overturned)
    cu = Counter(_month_label(g.month_key(i.letter.decision)) for i in IS if i.letter.decision and i.upheld)

    def top1(c):
        rows = g.ranking(c)
        return [r for r in rows if r[1] == rows[0][1]]

    def acc(rows):
        out = []
        for lab, _ in rows:
            out += [lab.lower(), lab.split()[0].lower()[:3] + " " + lab.split()[1]] + MONTH_ACCEPT[lab][:1]
        return out
    for q, c, what in [("which month had the most IMR decisions", cl, "letters"),
                       ("busiest month by number of letters", cl, "letters"),
                       ("what month saw the most disputed items decided", ci, "items"),
                       ("month with the most upheld requests", cu, "upheld items"),
                       ("in which month were the most requests overturned", co, "overturned items")]:
        rows = top1(c)
        add("rank_month", q, E_text(acc(rows), counts=[v for _, v in rows], value=rows[0][0]),
            f"month of decision date with most {what} (count checked)")
    for q, c, top, what in [("rank months by # of decisions, top 2", cl, 2, "letters"),
                            ("top 2 months by items decided", ci, 2, "items"),
                            ("months ranked by overturned requests - top 1", co, 1, "overturned items"),
                            ("top 2 months for upheld denials", cu, 2, "upheld items")]:
        add("rank_month", q, E_rank(c, top, MONTH_ACCEPT), f"months by {what}")
    c17 = Counter(_month_label(g.month_key(L.decision)) for L in period("2017-01-01", "2017-12-31"))
    add("rank_month", "in 2017, which month had more decisions, jan or feb", E_text(acc(top1(c17)), counts=[top1(c17)[0][1]],
        value=top1(c17)[0][0]), "2017 months by letters")
    cd = Counter(_month_label(g.month_key(L.dates["date_of_injury"])) for L in LS if L.dates["date_of_injury"])
    add("rank_month", "which month had the most injuries (by DOI)", E_text(acc(top1(cd)), counts=[top1(cd)[0][1]], value=top1(cd)[0][0]),
        "month of date of injury with most letters")
    cu2 = Counter(_month_label(g.month_key(L.dates["ur_denial_date"])) for L in LS if L.dates["ur_denial_date"])
    add("rank_month", "month with the most UR denials", E_text(acc(top1(cu2)), counts=[top1(cu2)[0][1]], value=top1(cu2)[0][0]),
        "month of UR denial date with most letters")


def _spec_counter(ls, weight=None):
    c = Counter()
    for L in ls:
        for p in set(g.specialties(L)):
            c[p] += 1 if weight is None else weight(L)
    return c


def rank_specialty():
    spec_acc = {k: v for k, v in SPEC_ALIASES.items()}

    def acc_rows(rows):
        out = []
        for lab, _ in rows:
            out += [lab] + SPEC_ALIASES.get(lab, [])
        return out

    def top1(c):
        rows = g.ranking(c)
        return [r for r in rows if r[1] == rows[0][1]]

    whole = Counter(L.specialty for L in LS if L.specialty)
    c = _spec_counter(LS)
    rows = top1(c)
    wrows = top1(whole)
    add("rank_specialty", "which specialty reviewed the most cases", E_text(acc_rows(rows) + [r[0] for r in wrows],
        counts=[r[1] for r in rows + wrows], value=rows[0][0]),
        "letters per specialty part (3-way tie at 9); whole string 'Preventive Medicine, Occupational Medicine' (7) also accepted")
    add("rank_specialty", "most common reviewer specialty", E_text(acc_rows(rows) + [r[0] for r in wrows],
        counts=[r[1] for r in rows + wrows], value=rows[0][0]), "as above")
    co = _spec_counter(LS, lambda L: sum(i.overturned for i in L.items))
    rows = top1(co)
    add("rank_specialty", "which specialty overturned the most items", E_text(acc_rows(rows), counts=[r[1] for r in rows], value=rows[0][0]),
        "overturned items per specialty part")
    add("rank_specialty", "top 3 reviewer specialties by letters", E_rank(c, 3, spec_acc), "letters per specialty part")
    c17 = _spec_counter(period("2017-01-01", "2017-12-31"))
    add("rank_specialty", "in the 2017 letters which specialty reviewed most", E_text(acc_rows(top1(c17)),
        counts=[r[1] for r in top1(c17)], value=top1(c17)[0][0]), "letters per specialty part, 2017")
    ci = _spec_counter(LS, lambda L: len(L.items))
    add("rank_specialty", "which specialty decided the most disputed items", E_text(acc_rows(top1(ci)),
        counts=[r[1] for r in top1(ci)], value=top1(ci)[0][0]), "items per specialty part")
    add("rank_specialty", "rank specialties by items reviewed, top 2", E_rank(ci, 2, spec_acc), "items per specialty part")
    cu = _spec_counter(LS, lambda L: sum(i.upheld for i in L.items))
    add("rank_specialty", "which reviewer specialty upheld the most denials", E_text(acc_rows(top1(cu)),
        counts=[r[1] for r in top1(cu)], value=top1(cu)[0][0]), "upheld items per specialty part")
    add("rank_specialty", "among the 2021-2024 decisions, most frequent reviewer specialty",
        E_text(acc_rows(top1(_spec_counter(period("2021-01-01", "2024-12-31")))),
               counts=[r[1] for r in top1(_spec_counter(period("2021-01-01", "2024-12-31")))],
               value=top1(_spec_counter(period("2021-01-01", "2024-12-31")))[0][0]), "letters per specialty part, decided 2021-2024")
    cl = _spec_counter([L for L in LS if has_over(L)])
    add("rank_specialty", "specialty with the most cases that had an overturn", E_text(acc_rows(top1(cl)),
        counts=[r[1] for r in top1(cl)], value=top1(cl)[0][0]), "letters with >=1 overturned item per specialty part")
    add("rank_specialty", "top 5 specialties by # of letters", E_rank(c, 5, spec_acc), "letters per specialty part")
    cf = _spec_counter([L for L in LS if L.sex == "female"])
    add("rank_specialty", "for female claimants, which specialty reviewed most often", E_text(acc_rows(top1(cf)),
        counts=[r[1] for r in top1(cf)], value=top1(cf)[0][0]), "letters with a female patient per specialty part")


def rank_category():
    CAT_ACC = {"DME": ["dme", "durable medical equipment", "equipment"], "medication": ["medication", "drug", "pharmacy"],
               "imaging": ["imaging", "diagnostic"], "therapy": ["therapy"], "surgery": ["surgery", "surgical"],
               "injection": ["injection"], "other": ["other"]}
    ci = Counter(i.category for i in IS)
    co = Counter(i.category for i in IS if i.overturned)
    cu = Counter(i.category for i in IS if i.upheld)
    cr = {c: round(co[c] / ci[c], 4) for c in ci}
    add("rank_category", "which category of treatment is disputed most", E_rank(ci, 1, CAT_ACC), "items per gold category")
    add("rank_category", "rank the categories by number of items, top 3", E_rank(ci, 3, CAT_ACC), "items per gold category")
    add("rank_category", "which category had the most overturns", E_rank(co, 1, CAT_ACC), "overturned items per category")
    add("rank_category", "top 2 categories by upheld denials", E_rank(cu, 2, CAT_ACC), "upheld items per category")
    add("rank_category", "category with the highest overturn rate", E_rank(cr, 1, CAT_ACC), "overturned/items per category")
    add("rank_category", "category with the lowest overturn rate",
        {"type": "ranking", "value": [[k, v] for k, v in sorted(cr.items(), key=lambda kv: kv[1])][:1], "top": 1, "ordered": True,
         "accept": {min(cr, key=cr.get): CAT_ACC[min(cr, key=cr.get)]}}, "overturned/items per category, ascending")
    ci17 = Counter(i.category for i in items_in(period("2017-01-01", "2017-12-31")))
    add("rank_category", "in 2017 which category had the most requests", E_rank(ci17, 1, CAT_ACC), "items per category, 2017")
    add("rank_category", "top 3 categories in 2017 decisions", E_rank(ci17, 3, CAT_ACC), "items per category, 2017")
    add("rank_category", "what kind of service was disputed most in the synthetic-era (2021+) letters",
        E_rank(Counter(i.category for i in items_in(period("2021-01-01", None))), 1, CAT_ACC), "items per category, decided 2021 on")
    cl = Counter(c for L in LS for c in {i.category for i in L.items})
    add("rank_category", "which category appears in the most letters", E_rank(cl, 1, CAT_ACC), "letters per category")
    co17 = Counter(i.category for i in items_in(period("2017-01-01", "2017-12-31")) if i.overturned)
    add("rank_category", "among 2017 overturns, which category leads", E_rank(co17, 1, CAT_ACC), "overturned items per category, 2017")
    add("rank_category", "rank all the categories by overturned count - top 2", E_rank(co, 2, CAT_ACC), "overturned items per category")


def compare():
    def cmp(rows, accept=None):
        e = {"type": "ranking", "value": [[k, round(v, 4) if isinstance(v, float) else v] for k, v in rows], "top": len(rows),
             "ordered": False}
        if accept:
            e["accept"] = {k: accept[k] for k, _ in rows if k in accept}
        return e

    def fr(p, o):
        return g.rate_outcome(p, o)[0]

    def fc(p, o):
        return g.count_outcome(p, o)[0]
    FA = {f: fam_accept(f) + (X_RAY_EXTRA if f == "X-ray" else []) for f in g.FAMILIES}
    mri, xr = g.fam_items("MRI"), g.fam_items("X-ray")
    add("compare", "mri vs x-ray overturn rates", cmp([("MRI", fr(mri, "overturned")), ("X-ray", fr(xr, "overturned"))], FA),
        "share overturned per family")
    cat = lambda c: [i for i in IS if i.category == c]  # noqa: E731
    CA_ = {"medication": ["medication", "med", "drug"], "imaging": ["imaging"], "surgery": ["surg"], "DME": ["dme", "equipment"],
           "therapy": ["therapy"], "injection": ["injection"]}
    add("compare", "meds vs imaging - # upheld", cmp([("medication", fc(cat("medication"), "upheld")), ("imaging", fc(cat("imaging"), "upheld"))], CA_),
        "upheld items per category")
    y17, y23 = items_in(period("2017-01-01", "2017-12-31")), items_in(period("2023-01-01", "2023-12-31"))
    YA = {"2017": ["2017"], "2023": ["2023"]}
    add("compare", "2017 vs 2023 overturned counts", cmp([("2017", fc(y17, "overturned")), ("2023", fc(y23, "overturned"))], YA),
        "overturned items by decision year")
    SA = {"male": ["male", "men"], "female": ["female", "women"]}
    fem = items_in([L for L in LS if L.sex == "female"])
    mal = items_in([L for L in LS if L.sex == "male"])
    add("compare", "male vs female overturn rate", cmp([("male", fr(mal, "overturned")), ("female", fr(fem, "overturned"))], SA),
        "share of items overturned by patient sex (grader: 'male' is inside 'female')")
    JA = {"Texas": ["texas", "tx"], "California": ["california", "ca", "dwc"]}
    add("compare", "texas vs california - how many letters each", cmp([("Texas", len(TX)), ("California", len(CA))], JA),
        "letters per letter format")
    add("compare", "tens unit vs hospital bed: overturned count each",
        cmp([("TENS unit", fc(g.fam_items("TENS unit"), "overturned")), ("hospital bed", fc(g.fam_items("hospital bed"), "overturned"))], FA),
        "overturned items per family")
    add("compare", "surgery vs injection overturn rate",
        cmp([("surgery", fr(cat("surgery"), "overturned")), ("injection", fr(cat("injection"), "overturned"))], CA_),
        "share overturned per category")
    jan, feb = period("2017-01-01", "2017-01-31"), period("2017-02-01", "2017-02-28")
    MA = {"January": ["jan"], "February": ["feb"]}
    add("compare", "jan vs feb 2017: number of decisions", cmp([("January", len(jan)), ("February", len(feb))], MA), "letters per month, 2017")
    add("compare", "compare # of items disputed in jan 2017 and feb 2017", cmp([("January", len(items_in(jan))), ("February", len(items_in(feb)))], MA),
        "items per month, 2017")
    add("compare", "norco vs tramadol - how many requests of each",
        cmp([("Norco", len(g.fam_items("Norco"))), ("tramadol", len(g.fam_items("tramadol")))], FA), "items per family")
    add("compare", "how do DME and medication compare on overturn rate",
        cmp([("DME", fr(cat("DME"), "overturned")), ("medication", fr(cat("medication"), "overturned"))], CA_), "share overturned per category")
    pt17 = g.fam_items("physical therapy", pool=y17)
    add("compare", "in 2017 letters, PT vs MRI: count of requests",
        cmp([("physical therapy", len(pt17)), ("MRI", len(g.fam_items("MRI", pool=y17)))], FA), "items per family, 2017 letters")
    add("compare", "lumbar vs cervical mri requests, count each",
        cmp([("lumbar MRI", len(g.fam_items("lumbar MRI"))), ("cervical MRI", len(g.fam_items("cervical MRI")))],
            {"lumbar MRI": ["lumbar"], "cervical MRI": ["cervical"]}), "items per family")
    add("compare", "emg vs ncs - # upheld",
        cmp([("EMG", fc(g.fam_items("EMG"), "upheld")), ("nerve conduction study", fc(g.fam_items("nerve conduction study"), "upheld"))], FA),
        "upheld items per family")
    ex = [L for L in LS if L.priority == "Expedited"]
    st = [L for L in LS if L.priority == "Standard"]
    add("compare", "standard vs expedited overturn rates",
        cmp([("Standard", fr(items_in(st), "overturned")), ("Expedited", fr(items_in(ex), "overturned"))],
            {"Standard": ["standard"], "Expedited": ["expedited"]}), "share overturned per priority (letters with a priority)")
    add("compare", "avg age men vs women claimants",
        cmp([("male", mean([L.age for L in LS if L.age and L.sex == "male"])),
             ("female", mean([L.age for L in LS if L.age and L.sex == "female"]))], SA),
        "mean stated age per patient sex (grader: values +-0.5)")


def guideline():
    def gi(src, pool=None):
        return [i for i in (IS if pool is None else pool) if src in i.guidelines]
    add("guideline", "how many items cited ODG", E_num(len(gi("ODG"))), "items whose gold guidelines include ODG")
    gc = Counter(s for i in IS for s in i.guidelines)
    assert gc.most_common(1)[0][0] == "MTUS" and Counter(s for L in LS for s in {x for i in L.items for x in i.guidelines}).most_common(1)[0][0] == "MTUS"
    add("guideline", "which guideline gets cited the most, mtus odg or acoem", E_text(["MTUS"]),
        "MTUS leads counted by items and by letters (no count checked)")
    add("guideline", "how many letters relied on ACOEM", E_num(len(letters_of(gi("ACOEM"))), unit="letters"), "letters with an ACOEM item")
    add("guideline", "which cases cite acoem", E_cases(letters_of(gi("ACOEM"))), "letters with an ACOEM item")
    it = item("CM16-0248655", "mri")
    add("guideline", "what guidelines were used for the hip MRI in CM16-0248655", E_text(it.guidelines, all_=True),
        "guideline sources of the item")
    add("guideline", "did the reviewer use ODG in CM17-0009840", E_bool("ODG" in item("CM17-0009840", "mri").guidelines),
        "guideline sources of the only item")
    add("guideline", "# of requests decided under MTUS", E_num(len(gi("MTUS"))), "items whose guidelines include MTUS")
    add("guideline", "how many items cited both mtus and odg", E_num(sum({"MTUS", "ODG"} <= set(i.guidelines) for i in IS)),
        "items with both MTUS and ODG")
    add("guideline", "which letters cited ODG for an overturned item",
        E_cases(letters_of([i for i in gi("ODG") if i.overturned]), letters_of([i for i in gi("ODG") if i.overturned_loose])),
        "letters with an overturned item citing ODG")
    add("guideline", "how many items had no guideline cited at all", E_num(sum(not i.guidelines for i in IS)), "items with no guideline")
    add("guideline", "guideline relied on for the hospital bed in CM17-0009996", E_text(["ODG", "official disability"]),
        "item cites ODG (plus other: Medicare)")
    add("guideline", "what guideline did the texas IRO use for the carpal tunnel release", E_text(["ODG", "official disability"]),
        "2024-99010 item cites ODG")
    add("guideline", "how many overturned items cited ODG",
        E_num(g.count_outcome(gi("ODG"), "overturned")), "overturned items citing ODG (partial accepted either way)")
    add("guideline", "what pct of items cite the odg", E_share(round(len(gi("ODG")) / len(IS), 4)), "share of items citing ODG")
    add("guideline", "in CM16-0246487 which guidelines did the reviewer rely on for the shoulder surgery",
        E_text(item("CM16-0246487", "bankart").guidelines, all_=True), "guideline sources of the arthroscopy item")
    add("guideline", "did any 2017 decision cite acoem", E_bool(bool(letters_of(gi("ACOEM", items_in(period("2017-01-01", "2017-12-31")))))),
        "2017 letters with an ACOEM item")
    add("guideline", "which guideline for the lumbar mri w/ contrast in CM16-0240900", E_text(item("CM16-0240900", "mri").guidelines, all_=True),
        "guideline sources of the item")


def demographics():
    ages = [L.age for L in LS if L.age]
    add("demographics", "avg age of injured workers", E_num(mean(ages), tol=0.6), "mean of stated ages (36 letters)")
    add("demographics", "how many female claimants", E_num(sum(L.sex == "female" for L in LS), unit="letters"), "letters with a female patient")
    add("demographics", "how many male pts", E_num(sum(L.sex == "male" for L in LS), unit="letters"), "letters with a male patient")
    add("demographics", "median claimant age", E_num(statistics.median(ages), tol=0.6), "median stated age")
    add("demographics", "how many pts over 50", E_num(sum(a > 50 for a in ages), unit="letters"), "age > 50")
    add("demographics", "how many patients in their 40s", E_num(sum(40 <= a <= 49 for a in ages), unit="letters"), "40 <= age <= 49")
    nf = sum(L.sex == "female" for L in LS)
    add("demographics", "what pct of the claimants are women", E_share([nf / len(LS), nf / sum(L.sex is not None for L in LS)]),
        "female letters / all 37 letters; over the letters stating a sex also accepted")
    fa = [L.age for L in LS if L.age and L.sex == "female"]
    add("demographics", "average age of the female claimants", E_num(mean(fa), tol=0.6), "mean age of female patients")
    ma = [L.age for L in LS if L.age and L.sex == "male"]
    add("demographics", "avg age for male injured workers", E_num(mean(ma), tol=0.6), "mean age of male patients")
    oa = [L.age for L in LS if L.age and has_over(L)]
    add("demographics", "average age of pts who got at least one item overturned",
        E_num([mean(oa), mean([L.age for L in LS if L.age and has_over(L, True)])], tol=0.6), "mean age of letters with >=1 overturn")
    add("demographics", "how many claimants were under 30", E_num(sum(a < 30 for a in ages), unit="letters"), "age < 30")
    a17 = [L.age for L in period("2017-01-01", "2017-12-31") if L.age]
    add("demographics", "avg claimant age in the 2017 decisions", E_num(mean(a17), tol=0.6), "mean age, letters decided 2017")
    add("demographics", "age range of the injured workers - youngest", E_num(min(ages)), "minimum age")
    add("demographics", "how many letters don't state the patient's sex", E_num(sum(L.sex is None for L in LS), unit="letters"),
        "letters without a stated sex")
    add("demographics", "overturn count for female pts", E_num(g.count_outcome(items_in([L for L in LS if L.sex == "female"]), "overturned")),
        "overturned items in letters with a female patient")
    add("demographics", "which cases involve claimants 60 or older", E_cases([L for L in LS if L.age and L.age >= 60]), "age >= 60")


def reviewer_agg():
    add("reviewer_agg", "how many reviewers were licensed in californa", E_num(sum("California" in L.licensure for L in LS), unit="letters"),
        "letters whose reviewer licensure includes California")
    add("reviewer_agg", "how many letters reviewed by an orthopedic surgeon",
        E_num(sum("Orthopedic Surgery" in g.specialties(L) for L in LS), unit="letters"), "specialty part Orthopedic Surgery")
    lic = Counter(s for L in LS for s in L.licensure)
    add("reviewer_agg", "which state shows up most in reviewer licensure", E_rank(lic, 1, {"California": ["california", "ca"]}),
        "letters per licensure state")
    parts = {p for L in LS for p in g.specialties(L)}
    wholes = {L.specialty for L in LS if L.specialty}
    add("reviewer_agg", "how many different reviewer specialties are there", E_num([len(parts), len(wholes)]),
        f"distinct specialty parts ({len(parts)}); distinct whole specialty strings ({len(wholes)}) also accepted")
    add("reviewer_agg", "cases reviewed by family practice docs", E_cases([L for L in LS if "Family Practice" in g.specialties(L)]),
        "specialty part Family Practice")
    add("reviewer_agg", "how many reviewers held a texas license", E_num(sum("Texas" in L.licensure for L in LS), unit="letters"),
        "letters whose licensure includes Texas")
    add("reviewer_agg", "which cases had a reviewer licensed in florida", E_cases([L for L in LS if "Florida" in L.licensure]),
        "licensure includes Florida")
    add("reviewer_agg", "how many letters were reviewed by an anesthesiologist",
        E_num(sum("Anesthesiology" in g.specialties(L) for L in LS), unit="letters"), "specialty part Anesthesiology")
    add("reviewer_agg", "overturn rate for pm&r reviewers",
        E_share(rates([items_in([L for L in LS if "Physical Medicine and Rehabilitation" in g.specialties(L)])], "overturned")),
        "items of letters with specialty part Physical Medicine and Rehabilitation")
    add("reviewer_agg", "how many reviewers are licensed in more than one state", E_num(sum(len(L.licensure) > 1 for L in LS), unit="letters"),
        "letters with >1 licensure state")
    add("reviewer_agg", "how many items did occupational medicine reviewers uphold",
        E_num(g.count_outcome(items_in([L for L in LS if "Occupational Medicine" in g.specialties(L)]), "upheld")),
        "upheld items of letters with specialty part Occupational Medicine")
    add("reviewer_agg", "which cases were reviewed by pain management specialists",
        E_cases([L for L in LS if "Pain Management" in g.specialties(L)]), "specialty part Pain Management (not 'Pain Medicine')")
    add("reviewer_agg", "how many letters had a reviewer licensed only in california",
        E_num(sum(L.licensure == ["California"] for L in LS), unit="letters"), "licensure exactly [California]")
    add("reviewer_agg", "did any internal medicine reviewer overturn anything",
        E_bool(any(has_over(L, True) for L in LS if "Internal Medicine" in g.specialties(L))), "letters with specialty part Internal Medicine")
    add("reviewer_agg", "how many letters list no state of licensure", E_num(sum(not L.licensure for L in LS), unit="letters"),
        "letters with empty licensure (the Texas letters)")
    add("reviewer_agg", "number of cases reviewed by a sports medicine doc",
        E_num(sum("Sports Medicine" in g.specialties(L) for L in LS), unit="letters"), "specialty part Sports Medicine")


def passage():
    rows = [
        ("show me where the reviewer explains why the hospital bed in CM17-0009996 was denied", "CM17-0009996", ["bed"]),
        ("quote the rationale for the TENS unit in CM99-0000001", "CM99-0000001", ["tens"]),
        ("what did the reviewer say about acupuncture in CM17-0006634", "CM17-0006634", ["acupuncture"]),
        ("pull the decision rationale for the MRI in CM17-0009840", "CM17-0009840", ["mri", "magnetic resonance"]),
        ("why was the bankart repair approved in CM16-0246487 - cite the letter", "CM16-0246487", ["bankart", "arthroscop"]),
        ("reasoning behind upholding the norco denial in CM17-0015790", "CM17-0015790", ["norco"]),
        ("find the passage on the transportation request in CM17-0009883", "CM17-0009883", ["transportation"]),
        ("what was the clinical summary in CM16-0239607", "CM16-0239607", ["cervical", "neck"]),
        ("why did IMR deny the home aide hours in CM16-0249735", "CM16-0249735", ["aide", "home"]),
        ("show the text explaining the FCE denial, CM16-0248698", "CM16-0248698", ["functional capacity", "fce"]),
        ("why was the urine drug screen approved in cm99-0000006", "CM99-0000006", ["urine", "drug screen"]),
        ("give me the reviewer's words on the spinal cord stimulator trial in CM99-0000002", "CM99-0000002", ["stimulator"]),
        ("rationale for the medial branch blocks CM99-0000009", "CM99-0000009", ["medial branch"]),
        ("what does the letter say about the tramadol in CM17-0021126", "CM17-0021126", ["tramadol"]),
        ("excerpt about the pepcid in CM16-0232543", "CM16-0232543", ["pepcid", "famotidine"]),
        ("why did the reviewer uphold the baclofen (CM17-0015790)", "CM17-0015790", ["baclofen"]),
        ("quote where the texas IRO explains the cervical MRI decision 2024-99011", "2024-99011", ["mri"]),
        ("what was the reviewer's reasoning on the wheelchair in CM99-0000008", "CM99-0000008", ["wheelchair"]),
        ("show the part about the chiropractor re-exam in CM17-0005344", "CM17-0005344", ["chiropract", "re-exam"]),
    ]
    for q, c, words in rows:
        add("passage", q, E_passage(c, words), f"a citation from {c} (and one of {words})")


def yesno():
    add("yesno", "was the shoulder MRI in CM17-0009840 approved", E_bool(item("CM17-0009840", "mri").overturned, "overturned"),
        "item determination overturned")
    add("yesno", "did any ESI get overturned", E_bool(any(i.overturned for i in g.fam_items("epidural steroid injection"))),
        g.family_predicate_note("epidural steroid injection"))
    add("yesno", "were all the x-rays upheld", E_bool(all(i.upheld for i in g.fam_items("X-ray"))), g.family_predicate_note("X-ray"))
    add("yesno", "is there any case with an expedited review", E_bool(any(L.priority == "Expedited" for L in LS)), "priority Expedited")
    add("yesno", "did CM16-0237163 get overturned", E_bool(has_over(L_("CM16-0237163")), "overturned"), "single item upheld")
    add("yesno", "any decisions from 2019", E_bool(bool(period("2019-01-01", "2019-12-31"))), "letters decided 2019")
    add("yesno", "was tramadol ever approved", E_bool(any(i.overturned for i in g.fam_items("tramadol"))), g.family_predicate_note("tramadol"))
    add("yesno", "did the lyrica get overturned in CM99-0000001", E_bool(item("CM99-0000001", "lyrica").overturned, "overturned"),
        "item determination")
    add("yesno", "were any hosptial beds approved", E_bool(any(i.overturned for i in g.fam_items("hospital bed"))), "hospital bed family")
    add("yesno", "was the percocet denial upheld in CM16-0246487", E_bool(item("CM16-0246487", "percocet").upheld, "upheld"),
        "item determination upheld")
    add("yesno", "did every MRI request get denied", E_bool(all(i.upheld for i in g.fam_items("MRI"))), g.family_predicate_note("MRI"))
    add("yesno", "is there a letter reviewed by a neurologist", E_bool(any("Neurology" in g.specialties(L) for L in LS)), "specialty part Neurology")
    add("yesno", "did the reviewer in CM16-0243394 uphold the lidoderm patch", E_bool(item("CM16-0243394", "lidoderm").upheld, "upheld"),
        "item determination upheld")
    add("yesno", "any chiropractic requests approved", E_bool(any(i.overturned for i in g.fam_items("chiropractic"))),
        g.family_predicate_note("chiropractic"))
    add("yesno", "was the carpal tunnel release in 2024-99010 overturned", E_bool(item("2024-99010", "carpal").overturned, "overturned"),
        "item determination upheld")
    add("yesno", "did any 2017 case have every item overturned", E_bool(any(all(i.overturned for i in L.items) for L in period("2017-01-01", "2017-12-31"))),
        "2017 letters with all items overturned")
    add("yesno", "were there any acupuncture approvals", E_bool(any(i.overturned for i in g.fam_items("acupuncture"))), "acupuncture family")
    add("yesno", "did CM99-0000008's wheelchair get okayed", E_bool(item("CM99-0000008", "wheelchair").overturned, "overturned"),
        "item determination overturned")


def none_found():
    rows = [
        ("how many botox requests were overturned", "botox", ["botox", "botulinum"]),
        ("any kyphoplasty cases", "kyphoplasty", ["kyphoplast", "vertebroplast"]),
        ("how many ketamine infusion requests", "ketamine infusion", ["ketamin"]),
        ("hyperbaric oxygen therapy - outcomes", "hyperbaric oxygen", ["hyperbar"]),
        ("which cases had a bone growth stimulator", "bone growth stimulator", ["bone growth", "bone stim", "osteogen"]),
        ("overturn rate for massage therapy", "massage therapy", ["massag"]),
        ("biofeedback requests upheld count", "biofeedback", ["biofeed"]),
        ("gym membership requests - how many approved", "gym membership", ["gym", "health club"]),
        ("suboxone cases", "suboxone", ["suboxon", "buprenorph", "subutex"]),
        ("how many methadone scripts were reviewed", "methadone", ["methadon"]),
        ("medical marijuana requests", "medical marijuana", ["marijuan", "cannab", "dronabinol"]),
        ("were any xanax requests approved", "xanax", ["xanax", "alprazol"]),
        ("soma (carisoprodol) requests overturned", "carisoprodol", ["carisoprod", "soma "]),
        ("radiofrequency ablation cases", "radiofrequency ablation", ["radiofreq", "ablation", "rhizotom"]),
        ("how many h-wave units were disputed", "H-wave unit", ["h-wave", "h wave", "hwave"]),
        ("microdisectomy approvals", "microdiscectomy", ["discectom", "disectom"]),
        ("si joint injection outcomes", "sacroiliac joint injection", ["sacroil", "si joint"]),
        ("how many trazadone requests got upheld", "trazodone", ["trazod", "desyrel"]),
        ("nucynta requests - how many overturned", "nucynta", ["nucynt", "tapentad"]),
        ("any toradol shots in dispute", "toradol injection", ["toradol", "ketorol"]),
    ]
    for q, svc, stems in rows:
        add("none_found", q, E_none(svc), f"no letter names {svc} (checked: stems {stems} occur in no letter text)", none_stems=stems)


def exclusion():
    mri = g.fam_items("MRI")
    non_mri = [i for i in IS if i not in mri]
    add("exclusion", "how many items were overturned excluding MRIs", E_num(g.count_outcome(non_mri, "overturned")),
        "overturned items not in the MRI family")
    pt_letters = [letters_of(p) for p in fam("physical therapy")]
    add("exclusion", "which cases had no physcial therapy request at all", E_cases([L for L in LS if L not in pt_letters[0]],
        [L for L in LS if L not in pt_letters[1]]), "letters without a PT item")
    add("exclusion", "overturned requests other than meds - how many",
        E_num(g.count_outcome([i for i in IS if i.category != "medication"], "overturned")), "overturned items, category not medication")
    big = max(LS, key=lambda L: len(L.items))
    add("exclusion", f"how many upheld items not counting the {big.case_number} mega-letter",
        E_num(g.count_outcome([i for i in IS if i.letter is not big], "upheld")), f"upheld items outside {big.case_number}")
    add("exclusion", "which 2017 cases didn't involve any imaging",
        E_cases([L for L in period("2017-01-01", "2017-12-31") if not any(i.category == "imaging" for i in L.items)]),
        "2017 letters with no imaging item")
    add("exclusion", "# of letters excluding the texas ones", E_num(len(LS) - len(TX), unit="letters"),
        "letters not tx_iro")
    add("exclusion", "non-medication items overturned in 2017",
        E_num(g.count_outcome([i for i in items_in(period("2017-01-01", "2017-12-31")) if i.category != "medication"], "overturned")),
        "2017 overturned items, category not medication")
    add("exclusion", "overturn rate if you leave out the imaging requests",
        E_share(rates([[i for i in IS if i.category != "imaging"]], "overturned")), "share overturned of non-imaging items")
    add("exclusion", "cases with no medication in dispute", E_cases([L for L in LS if not any(i.category == "medication" for i in L.items)]),
        "letters with no medication item")
    add("exclusion", "how many requests were upheld apart from the x-rays",
        E_num(g.count_outcome([i for i in IS if i not in g.fam_items("X-ray")], "upheld")), "upheld items not X-ray")
    add("exclusion", "which cases had an overturn but not on an MRI",
        E_cases([L for L in LS if any(i.overturned and i not in mri for i in L.items)],
                [L for L in LS if any(i.overturned_loose and i not in mri for i in L.items)]),
        "letters with an overturned non-MRI item")
    add("exclusion", "letters decided in 2017 other than the ones reviewed by preventive medicine",
        E_cases([L for L in period("2017-01-01", "2017-12-31") if "Preventive Medicine" not in g.specialties(L)]),
        "2017 letters whose specialty lacks Preventive Medicine")
    add("exclusion", "count of items disputed, minus medications and imaging",
        E_num(sum(i.category not in ("medication", "imaging") for i in IS)), "items not medication/imaging")
    add("exclusion", "how many non-california letters", E_num(sum(L.letter_format != "ca_dwc_imr" for L in LS), unit="letters"),
        "letters not ca_dwc_imr")
    add("exclusion", "which cases with female claimants had nothing overturned",
        E_cases([L for L in LS if L.sex == "female" and all_upheld(L)]), "female-patient letters, all items upheld")
    add("exclusion", "excluding 2017, how many items were overturned",
        E_num(g.count_outcome([i for i in IS if not (i.letter.decision or "").startswith("2017")], "overturned")
              + g.count_outcome([i for i in IS if i.letter.decision and not i.letter.decision.startswith("2017")], "overturned")),
        "overturned items not decided in 2017, with or without the undated knee letter")


def relative_dates():
    u = "letters"
    rel = "TODAY=2017-06-30; "
    add("relative_dates", "how many decisions last year", E_num(len(period("2016-01-01", "2016-12-31")), unit=u), rel + "last year = 2016")
    add("relative_dates", "how many IMR letters this year", E_num(len(period("2017-01-01", "2017-12-31")), unit=u), rel + "this year = 2017")
    add("relative_dates", "# of decisions in the past 6 months", E_num(len(period("2016-12-30", TODAY)), unit=u), rel + "2016-12-30..TODAY")
    add("relative_dates", "how many cases decided in q2", E_num(len(period("2017-04-01", "2017-06-30")), unit=u), rel + "Q2 2017")
    add("relative_dates", "decisions since spring 2017 - how many",
        E_num([len(period("2017-03-20", TODAY)), len(period("2017-03-20", None)), len(period("2017-03-01", None))], unit=u),
        rel + "open period from spring 2017: clamped at TODAY (0) or open (the later synthetic letters)")
    add("relative_dates", "how many workers were injured last year", E_num(len(period("2016-01-01", "2016-12-31", "date_of_injury")), unit=u),
        rel + "date of injury in 2016")
    add("relative_dates", "items overturned this year", E_num(g.count_outcome(items_in(period("2017-01-01", "2017-12-31")), "overturned")),
        rel + "items decided 2017")
    add("relative_dates", "how many letters came out last quarter", E_num(len(period("2017-01-01", "2017-03-31")), unit=u), rel + "Q1 2017")
    add("relative_dates", "decisions in the last 30 days", E_num(len(period("2017-05-31", TODAY)), unit=u), rel + "2017-05-31..TODAY")
    add("relative_dates", "ytd number of IMR decisions", E_num(len(period("2017-01-01", TODAY)), unit=u), rel + "2017-01-01..TODAY")
    add("relative_dates", "how many decisions last month", E_num(len(period("2017-05-01", "2017-05-31")), unit=u), rel + "May 2017")
    add("relative_dates", "how many claimants got hurt in the last 12 months",
        E_num(len(period("2016-06-30", TODAY, "date_of_injury")), unit=u), rel + "date of injury 2016-06-30..TODAY")
    add("relative_dates", "which cases had an injury this year", E_cases(period("2017-01-01", "2017-12-31", "date_of_injury")),
        rel + "date of injury in 2017")
    add("relative_dates", "ur denials issued last year - how many cases", E_num(len(period("2016-01-01", "2016-12-31", "ur_denial_date")), unit=u),
        rel + "UR denial date in 2016")
    add("relative_dates", "how many IMR applications were received this year",
        E_num(len(period("2017-01-01", "2017-12-31", "application_received")), unit=u), rel + "application received in 2017")
    add("relative_dates", "decisions from two years ago", E_num(len(period("2015-01-01", "2015-12-31")), unit=u), rel + "2015")
    add("relative_dates", "how many requests were upheld since the start of the year",
        E_num(g.count_outcome(items_in(period("2017-01-01", TODAY)), "upheld") + g.count_outcome(items_in(period("2017-01-01", None)), "upheld")),
        rel + "upheld items decided 2017-01-01..TODAY (open reading also accepted)")
    add("relative_dates", "overturn rate over the past 12 months", E_share(rates([items_in(period("2016-06-30", TODAY))], "overturned")),
        rel + "items decided 2016-06-30..TODAY")


def modified_request():
    mod = [i for i in IS if i.original_request]
    add("modified_request", "how many items had been partly approved by UR before IMR (modified requests)", E_num(len(mod)),
        "items with an original_request/authorized_portion (UR modified)")
    add("modified_request", "which cases involved a modified / partially certified request", E_cases(letters_of(mod)),
        "letters with such an item")
    it = item("CM16-0248698", "acupuncture")
    add("modified_request", "what was originally requested for acupuncture in CM16-0248698", E_text(["18"], value=it.original_request),
        "original request: Acupuncture 18 sessions")
    add("modified_request", "how much acupuncture did UR already authorize in CM16-0248698", E_text(["6 sessions", "six sessions"],
        value=it.authorized_portion), "authorized portion: Acupuncture 6 sessions")
    it = item("CM16-0249735", "home aide")
    add("modified_request", "CM16-0249735 home aide - hours per day originally requested", E_text(["12 hours"], value=it.original_request),
        "original request 12 hours per day")
    it = item("CM99-0000007", "norco")
    add("modified_request", "in CM99-0000007 what quantity of norco did UR approve", E_text(["#60", "60"], value=it.authorized_portion),
        "authorized portion Norco 10/325mg #60")
    add("modified_request", "original norco quantity requested in cm99-0000007", E_text(["#120", "120"], value=it.original_request),
        "original request Norco 10/325mg #120")
    it = item("CM99-0000008", "wheelchair")
    add("modified_request", "how many months of wheelchair rental were originally asked for in CM99-0000008",
        E_text(["3 months", "three months", "3-month"], value=it.original_request), "original request: rental for 3 months")
    add("modified_request", "of the modified requests, how many did IMR overturn", E_num(g.count_outcome(mod, "overturned")),
        "overturned among items with an original request")
    add("modified_request", "modified requests upheld - how many", E_num(g.count_outcome(mod, "upheld")), "upheld among modified items")
    it = item("CM17-0006634", "physical therapy")
    add("modified_request", "in CM17-0006634, how many PT sessions were originally requested", E_text(["12"], value=it.original_request),
        "original request 12 sessions")
    it = item("CM17-0008633", "physical therapy")
    add("modified_request", "CM17-0008633 PT - what portion did the claims administrator authorize",
        E_text(["2 weeks", "two weeks"], value=it.authorized_portion), "authorized portion 3x/week for 2 weeks")
    it = item("CM99-0000007", "cognitive")
    add("modified_request", "cbt sessions authorized before imr in CM99-0000007", E_text(["4 sessions", "four sessions"],
        value=it.authorized_portion), "authorized portion CBT 4 sessions")
    add("modified_request", "how many letters had more than one modified item",
        E_num(sum(sum(bool(i.original_request) for i in L.items) > 1 for L in LS), unit="letters"), "letters with >1 modified item")


def drug_class():
    opioid_core = pred(r"norco|percocet|oxycodone")
    tram = pred(r"tramadol")
    synap = pred(r"synapryn")
    ppi = pred(r"prilosec|pantoprazole|omeprazole")
    nsaid = pred(r"voltaren|diclofenac|ketoprofen|celecoxib|naproxen")
    ketoph = pred(r"ketophene")
    mr = pred(r"norflex|orphenadrine|baclofen|^cyclobenzaprine [\d.]+mg|retrospective cyclobenzaprine")
    mr_cream = pred(r"cyclobenzaprine 5% in cream")
    tabr = pred(r"tabradol")
    topical = pred(r"\bgel\b|\bpatch|\bointment|\bcream\b|\blotion|diclofenac sodium 3%")
    on = ("opioids: Norco, Percocet, Oxycodone, Tramadol (Synapryn, a tramadol compound the letter treats as an opioid, also "
          "accepted; without tramadol also accepted)")
    add("drug_class", "hey - quick one for a policy memo: how many opioid requests were there across all the decisions", E_num([len(opioid_core + tram), len(opioid_core + tram + synap), len(opioid_core)]), on)
    add("drug_class", "how many opioid scripts got upheld",
        E_num([g.count_outcome(opioid_core + tram, "upheld")[0], g.count_outcome(opioid_core + tram + synap, "upheld")[0],
               g.count_outcome(opioid_core, "upheld")[0]]), on)
    add("drug_class", "were any opioids approved at IMR", E_bool(any(i.overturned for i in opioid_core + tram + synap)), on)
    add("drug_class", "which cases had an opioid in dispute", E_cases(letters_of(opioid_core + tram), letters_of(opioid_core + tram + synap),
        letters_of(opioid_core)), on)
    pn = "PPIs: Prilosec, Pantoprazole, Omeprazole (not Pepcid/Deprizine, H2 blockers)"
    add("drug_class", "how many PPI requests (prilosec, protonix etc)", E_num(len(ppi)), pn)
    add("drug_class", "ppi requests overturned - how many", E_num(g.count_outcome(ppi, "overturned")), pn)
    nn = "NSAIDs: Voltaren gel, diclofenac, ketoprofen cream, celecoxib, naproxen (Ketophene, a ketoprofen compound, also accepted)"
    add("drug_class", "how many nsaid requests were in dispute", E_num([len(nsaid), len(nsaid + ketoph)]), nn)
    add("drug_class", "nsaids: how many approved", E_num([g.count_outcome(nsaid, "overturned")[0]]), nn)
    mn = ("muscle relaxants: Norflex/orphenadrine, oral cyclobenzaprine, baclofen (cyclobenzaprine cream and Tabradol also accepted)")
    add("drug_class", "how many muscle relaxant requests", E_num([len(mr), len(mr + mr_cream), len(mr + tabr), len(mr + mr_cream + tabr)]), mn)
    add("drug_class", "muscle relaxers - any overturned", E_bool(any(i.overturned for i in mr + mr_cream + tabr)), mn)
    add("drug_class", "which cases had a muscle relaxant request", E_cases(letters_of(mr), letters_of(mr + mr_cream + tabr)), mn)
    tn = "topicals: gels, patches, ointments, creams, lotions (incl. diclofenac 3%)"
    add("drug_class", "how many topical analgesic requests (creams, patches, gels)", E_num([len(topical), len(topical) - 1]), tn +
        "; without the diclofenac 3% also accepted")
    add("drug_class", "topical med requests overturned", E_num(g.count_outcome(topical, "overturned")), tn)
    add("drug_class", "which letters included compounded meds of unknown quantity",
        E_cases(letters_of(pred(r"unknown quantity"))), "items named '(unknown quantity)'")
    add("drug_class", "total # of medication requests that were overturned", E_num(g.count_outcome([i for i in IS if i.category == "medication"], "overturned")),
        "category medication")


def jurisdiction():
    u = "letters"
    add("jurisdiction", "how many texas IRO decisions are in here", E_num(len(TX), unit=u), "letter_format tx_iro")
    add("jurisdiction", "# of california dwc imr letters", E_num(len(CA), unit=u), "letter_format ca_dwc_imr")
    add("jurisdiction", "which texas cases do we have", E_cases(TX), "tx_iro letters (one has no case number)")
    add("jurisdiction", "overturn rate in texas", E_share(rates([items_in(TX)], "overturned")), "items of tx_iro letters")
    add("jurisdiction", "how many california letters had at least one overturn", E_num(sum(has_over(L) for L in CA), unit=u),
        "ca_dwc_imr letters with >=1 overturned item")
    add("jurisdiction", "did any texas IRO overturn a denial", E_bool(any(has_over(L, True) for L in TX)), "tx_iro letters")
    add("jurisdiction", "how many items did the texas IROs uphold", E_num(g.count_outcome(items_in(TX), "upheld")), "upheld tx_iro items")
    add("jurisdiction", "ca dwc overturned items count", E_num(g.count_outcome(items_in(CA), "overturned")), "overturned ca_dwc_imr items")
    add("jurisdiction", "what share of the texas decisions upheld the denial", E_share(rates([items_in(TX)], "upheld")),
        "share upheld of tx_iro items (partial read as upheld also accepted)")
    add("jurisdiction", "is 2024-99011 a texas or california decision", E_text(["texas", "tx", "iro"], value="tx_iro"), "letter_format")
    add("jurisdiction", "what kind of letter is CM17-0009840, dwc or iro", E_text(["california", "dwc", "maximus"], value="ca_dwc_imr"), "letter_format")
    add("jurisdiction", "texas decisions in 2024 - how many", E_num(len([L for L in TX if g.in_period(L, "2024-01-01", "2024-12-31")]), unit=u),
        "tx_iro letters decided 2024")
    add("jurisdiction", "how many california decisions came out after 2020",
        E_num(len([L for L in CA if g.in_period(L, "2021-01-01", None)]), unit=u), "ca_dwc_imr letters decided 2021 on")
    add("jurisdiction", "avg patient age in the texas cases", E_num(mean([L.age for L in TX if L.age]), tol=0.6), "mean age, tx_iro letters")


INTENTS = [count_outcome_service, count_outcome_category, count_outcome_period, rate_service, rate_segment, count_letters,
           cases_quantifier, threshold, cases_service, cases_period, case_date_field, case_clarify, case_outcome_service,
           case_item_count, case_reviewer, case_patient, priority, duration_avg, duration_case, extremes, rank_services,
           rank_month, rank_specialty, rank_category, compare, guideline, demographics, reviewer_agg, passage, yesno,
           none_found, exclusion, relative_dates, modified_request, drug_class, jurisdiction]


def build() -> list[dict]:
    Q.clear()
    NONE_STEMS.clear()
    for f in INTENTS:
        f()
    return list(Q)


# ------------------------------------------------------------------ check

def check(qs: list[dict]) -> list[str]:
    errs = []
    known = g.case_numbers()
    ids = [q["id"] for q in qs]
    if len(set(ids)) != len(ids):
        errs.append("duplicate ids")
    texts = [q["question"].lower() for q in qs]
    for t, n in Counter(texts).items():
        if n > 1:
            errs.append(f"duplicate question: {t}")
    types = {"number", "cases", "text", "date", "ranking", "bool", "none_found", "passage", "clarify"}
    for q in qs:
        e = q["expected"]
        if e["type"] not in types:
            errs.append(f"{q['id']}: type {e['type']}")
        if "?" in q["question"]:
            errs.append(f"{q['id']}: question mark")
        for cn in g.CASE_RE.findall(q["question"]):
            if cn.upper() not in {k.upper() for k in known}:
                errs.append(f"{q['id']}: unknown case in question {cn}")
        sets = []
        if e["type"] == "cases":
            sets = [e["value"]] + e.get("accept_sets", [])
        if e["type"] == "passage":
            sets = [[e["case"]]]
        if e["type"] == "text" and any(g.CASE_RE.fullmatch(a) for a in e["accept"]):
            sets = [[a for a in e["accept"] if g.CASE_RE.fullmatch(a)]]
        for s in sets:
            for cn in s:
                if cn not in known:
                    errs.append(f"{q['id']}: expected case {cn} not in gold")
        if e["type"] == "number":
            for v in e.get("accept_values") or [e["value"]]:
                if not isinstance(v, (int, float)) or isinstance(v, bool):
                    errs.append(f"{q['id']}: non-numeric {v}")
            if e.get("share") and not all(0 <= v <= 1 for v in e.get("accept_values") or [e["value"]]):
                errs.append(f"{q['id']}: share outside 0..1")
        if e["type"] == "ranking" and len(e["value"]) < e["top"]:
            errs.append(f"{q['id']}: ranking shorter than top")
        if e["type"] == "text" and not e.get("accept"):
            errs.append(f"{q['id']}: text without accept")
    texts_by_file = g.letter_texts()
    if len(texts_by_file) < 38:
        errs.append(f"only {len(texts_by_file)} letter texts read (set IMR_SHARED_DIR)")
    blob = "\n".join(texts_by_file.values())
    blob_sp = re.sub(r"\s+", " ", blob)
    for qid, stems in NONE_STEMS.items():
        for s in stems:
            if s.lower() in blob or s.lower() in blob_sp:
                errs.append(f"{qid}: none_found stem '{s}' occurs in a letter")
    file_of = {L.case_number: L.source_file for L in g.all_letters() if L.case_number}
    for q in qs:
        e = q["expected"]
        if e["type"] == "passage":
            t = re.sub(r"\s+", " ", texts_by_file.get(file_of[e["case"]], ""))
            if not any(w.lower() in t for w in e.get("contains", [])):
                errs.append(f"{q['id']}: none of {e['contains']} in {e['case']}'s text")
    return errs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="recompute, verify, print counts (does not write)")
    args = ap.parse_args(argv)
    qs = build()
    if args.check:
        errs = check(qs)
        on_disk = [json.loads(x) for x in OUT.read_text().splitlines() if x.strip()] if OUT.exists() else []
        if on_disk and on_disk != json.loads(json.dumps(qs)):
            errs.append(f"{OUT.name} differs from the recomputed bank (rerun without --check)")
        print(f"{len(qs)} questions")
        print("intents:", dict(Counter(q["intent"] for q in qs)))
        print("types:", dict(Counter(q["expected"]["type"] for q in qs)))
        for e in errs:
            print("ERROR", e)
        return 1 if errs else 0
    with OUT.open("w", encoding="utf-8") as fh:
        for q in qs:
            fh.write(json.dumps(q, ensure_ascii=False) + "\n")
    print(f"wrote {len(qs)} questions to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
