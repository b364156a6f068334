"""A third blind question bank (dev3) for the dev library: new wordings, expectations from gold.py only.

    python -m evals.questionbank.dev3_generate            # writes dev3.jsonl from the gold
    python -m evals.questionbank.dev3_generate --check    # recompute + verify (needs IMR_SHARED_DIR for the PDFs)

Written blind on 2026-12-07: only the question bank README, gold.py, grade.py, engine.py, run.py,
the gold JSON files, the letters (synthetic files and the 25 dev PDFs' text) and imr_rag/schema.py
were read; never the tool's question parsing, the other banks or their generators.

Counting rules are gold.py's (README "Counting rules"); every row's `notes` states the one used.
Extra rules of this bank:
- outcome words: upheld = upheld / denied / affirmed / not certified / sustained / lost / refused /
  the denial stood; overturned = overturned / reversed / approved / won / granted / certified /
  in the worker's favour. The Texas partial overturn is accepted either way (gold.count_outcome).
- service families are gold.FAMILIES (both readings where an alternative exists) or a regex of
  this file (named in the notes); drug classes are predicates of DRUG_CLASSES below.
- "before X" / "between X and Y" are inclusive on dates; a half-open reading is accepted where it
  changes a figure. "last N months" runs back from TODAY = 2017-06-30 (day-exact and whole-month
  readings both accepted where they differ).
- shares are fractions (tolerance 0.011); averages of day gaps +-0.6 day; ages +-0.6.

Wordings whose reading was judged arguable (every defensible reading is accepted):
- "denied" / "refused" / "lost" read as upheld at IMR (not "denied by UR", which every item was).
- PT with or without "physical therapy evaluation"; chiropractic with or without "spinal
  manipulation"; opioids with or without tramadol / Synapryn (a compounded tramadol); NSAIDs oral
  only or with topical NSAIDs (Voltaren, diclofenac, ketoprofen, Ketophene); muscle relaxants with
  or without the cyclobenzaprine cream and Tabradol; topicals with or without Ketophene.
- "overturn rate for female patients" and other segment rates: item share and letter share.
- "how many standard priority decisions": letters stating Standard (32) or all but the expedited one (36).
- "share of decisions expedited": over all 37 letters or over the 33 stating a priority.
- "how many days did the IMR take in case X": from application received or from assignment.
- "typical" gap: mean or median.
- "last quarter" (TODAY in Q2 2017): Q1 2017 or the last three months.
- "not counting 2017": the undated knee letter counted or not.
- "over 60": > 60 or >= 60; "between 40 and 50": inclusive or exclusive.
- "how many distinct specialties": split parts or whole specialty strings.
- "pain management reviewers": with or without "Pain Medicine".
- "cases citing both MTUS and ODG": on one item or anywhere in the letter.
- "UR denials in the last year": last 12 months or calendar 2016.
- "past six months" of assignments: from 2016-12-30 or from 2017-01-01.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from evals.questionbank import gold as G

HERE = Path(__file__).resolve().parent
OUT = HERE / "dev3.jsonl"
TODAY = G.TODAY

ROWS: list[dict] = []

N_ITEMS = "items/requests/treatments/services = disputed items (118)"
N_LETTERS = "letters/cases/decisions/files = gold records with >=1 item (37)"
N_OVT = "overturned = determination overturned, the Texas partial overturn accepted either way"
N_UPH = "upheld (denied/affirmed/sustained/not certified) = determination upheld, the Texas partial accepted either way"
N_DEC = "period on the decision date"


def q(intent: str, question: str, expected: dict, notes: str) -> None:
    ROWS.append({"intent": intent, "question": question, "expected": expected, "notes": notes})


# ---------------------------------------------------------------- pools

def L_all() -> list[G.Letter]:
    return G.letters()


def I_all() -> list[G.Item]:
    return G.items()


def rx_items(pattern: str, pool: list[G.Item] | None = None) -> list[G.Item]:
    r = re.compile(pattern)
    return [i for i in (I_all() if pool is None else pool) if r.search(i.s)]


def fam_pools(family: str, pool: list[G.Item] | None = None) -> list[list[G.Item]]:
    out = [G.fam_items(family, pool=pool)]
    if G.FAMILIES[family][1]:
        out.append(G.fam_items(family, alt=True, pool=pool))
    return out


def letters_of(items: list[G.Item]) -> list[G.Letter]:
    seen, out = set(), []
    for i in items:
        if id(i.letter) not in seen:
            seen.add(id(i.letter))
            out.append(i.letter)
    return out


def items_of(ls: list[G.Letter]) -> list[G.Item]:
    return [i for L in ls for i in L.items]


def lp(start: str | None, end: str | None, field: str = "decision_date", pool: list[G.Letter] | None = None) -> list[G.Letter]:
    return [L for L in (L_all() if pool is None else pool) if G.in_period(L, start, end, field)]


def ip(start: str | None, end: str | None, field: str = "decision_date") -> list[G.Item]:
    return items_of(lp(start, end, field))


def by(case: str) -> G.Letter:
    return G.by_case(case)


def stem(name: str) -> G.Letter:
    return next(L for L in G.all_letters() if L.stem == name)


def gap(L: G.Letter, a: str, b: str) -> int | None:
    if L.dates.get(a) and L.dates.get(b):
        return G.days_between(L.dates[a], L.dates[b])
    return None


def mean_gap(ls: list[G.Letter], a: str, b: str) -> float:
    vals = [g for g in (gap(L, a, b) for L in ls) if g is not None]
    return round(sum(vals) / len(vals), 2)


def median_gap(ls: list[G.Letter], a: str, b: str) -> float:
    vals = [g for g in (gap(L, a, b) for L in ls) if g is not None]
    return float(statistics.median(vals))


def tx(L: G.Letter) -> bool:
    return L.letter_format == "tx_iro"


def dwc(L: G.Letter) -> bool:
    return L.letter_format == "ca_dwc_imr"


# ---------------------------------------------------------------- expectations

def _uniq(vals):
    out = []
    for v in vals:
        if isinstance(v, float):
            v = round(v, 4)
        if v not in out:
            out.append(v)
    return out


def num(*vals, share: bool = False, unit: str | None = None, tol: float | None = None) -> dict:
    vs = []
    for v in vals:
        vs.extend(v if isinstance(v, (list, tuple, set)) else [v])
    vs = _uniq(vs)
    e = {"type": "number", "value": vs[0]}
    if len(vs) > 1:
        e["accept_values"] = vs
    if share:
        e["share"] = True
        e["tolerance"] = 0.011 if tol is None else tol
    elif tol is not None:
        e["tolerance"] = tol
    if unit:
        e["unit"] = unit
    return e


def cnt_outcome(pools: list[list[G.Item]], outcome: str) -> list[int]:
    vals: list[int] = []
    for p in pools:
        for v in G.count_outcome(p, outcome):
            if v not in vals:
                vals.append(v)
    return vals


def rate(pools: list[list[G.Item]], outcome: str) -> list[float]:
    vals: list[float] = []
    for p in pools:
        for v in G.rate_outcome(p, outcome):
            if v not in vals:
                vals.append(v)
    return vals


def letter_rate(ls: list[G.Letter], outcome: str) -> list[float]:
    """Share of letters with at least one item of the outcome (both partial readings)."""
    if not ls:
        return []
    if outcome == "overturned":
        a = sum(any(i.overturned for i in L.items) for L in ls)
        b = sum(any(i.overturned_loose for i in L.items) for L in ls)
    else:
        a = sum(any(i.upheld for i in L.items) for L in ls)
        b = sum(any(i.upheld or i.determination == "partially_overturned" for i in L.items) for L in ls)
    return _uniq([a / len(ls), b / len(ls)])


def cases(ls: list[G.Letter], *alts: list[G.Letter]) -> dict:
    def split(xs):
        return sorted({L.case_number for L in xs if L.case_number}), sorted({L.label for L in xs if not L.case_number})

    val, unc = split(ls)
    e = {"type": "cases", "value": val}
    acc = []
    for a in alts:
        v, u = split(a)
        unc = sorted(set(unc) | set(u))
        if v != val and v not in acc:
            acc.append(v)
    if acc:
        e["accept_sets"] = acc
    if unc:
        e["uncased"] = unc
    return e


def text(accept: list[str], all_: bool = False, counts: list[int] | None = None) -> dict:
    e = {"type": "text", "accept": accept}
    if all_:
        e["all"] = True
    if counts:
        e["counts"] = counts
    return e


def outcome(det: str) -> dict:
    return {"type": "text", "value": det, "accept": [det]}


def dt(iso: str) -> dict:
    assert iso, "date expectation without a date"
    return {"type": "date", "value": iso}


def yes(v: bool, outcome_true: str | None = None) -> dict:
    e = {"type": "bool", "value": v}
    if outcome_true:
        e["outcome_true"] = outcome_true
    return e


def passage(case: str, contains: list[str]) -> dict:
    return {"type": "passage", "case": case, "contains": contains}


def none_found(absent: list[str] | None = None, fact: dict | None = None) -> dict:
    e = {"type": "none_found"}
    if absent:
        e["absent"] = absent
    if fact:
        e["fact"] = fact
    return e


CLARIFY = {"type": "clarify"}

# aliases for ranking / comparison labels
SERVICE_ALIASES = {label: acc for label, (_, _, acc) in G.FAMILIES.items()}
SERVICE_ALIASES["pantoprazole"] = ["pantoprazole", "protonix"]
SERVICE_ALIASES["X-ray"] = ["x-ray", "xray", "x ray", "radiograph"]
CAT_ALIASES = {
    "medication": ["medication", "drug", "pharmacy", "medicine"],
    "imaging": ["imaging", "diagnostic imaging", "radiology"],
    "therapy": ["therapy", "therapies"],
    "surgery": ["surgery", "surgical", "procedure"],
    "injection": ["injection"],
    "DME": ["dme", "durable medical equipment", "equipment"],
    "other": ["other"],
}
MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december"]


def month_aliases(key: str) -> list[str]:
    y, m = key.split("-")
    name = MONTH_NAMES[int(m) - 1]
    return [f"{name} {y}", f"{name[:3]} {y}", f"{name[:3]}. {y}", key, f"{m}/{y}", f"{int(m)}/{y}"]


def rank(counter: dict, top: int, aliases: dict | None = None, ordered: bool = True, rows: list | None = None) -> dict:
    rows = rows if rows is not None else G.ranking(counter)
    rows = [[k, round(v, 4) if isinstance(v, float) else v] for k, v in rows]
    e = {"type": "ranking", "value": rows, "top": top}
    acc = {k: v for k, v in (aliases or {}).items() if any(r[0] == k for r in rows)}
    if acc:
        e["accept"] = acc
    if not ordered:
        e["ordered"] = False
    return e


def month_rank(counter: dict, top: int) -> dict:
    rows = G.ranking(counter)
    return rank(counter, top, {k: month_aliases(k) for k, _ in rows}, rows=rows)


def month_winner(counter: dict) -> dict:
    rows = G.ranking(counter)
    best = rows[0][1]
    winners = [k for k, v in rows if v == best]
    return text([a for k in winners for a in month_aliases(k)], counts=[best] if isinstance(best, int) else None)


def rank_note(what: str) -> str:
    return f"ranking of {what}; services labelled by the first gold.RANK_FAMILIES match; equal values form a tie group"


def decided_month_counter(ls: list[G.Letter], field: str = "decision_date") -> Counter:
    return Counter(G.month_key(L.dates[field]) for L in ls if L.dates.get(field))


def fam_note(*families: str) -> str:
    return "; ".join(G.family_predicate_note(f) for f in families)


# ================================================================ builders

def build_count_outcome_service() -> None:
    I = "count_outcome_service"

    def fam(question, family, oc):
        pools = fam_pools(family)
        q(I, question, num(cnt_outcome(pools, oc)),
          f"{N_ITEMS}; {fam_note(family)}; {N_OVT if oc == 'overturned' else N_UPH}")

    def rxq(question, pattern, oc, label):
        q(I, question, num(cnt_outcome([rx_items(pattern)], oc)),
          f"{N_ITEMS}; {label}: items whose service matches /{pattern}/; {N_OVT if oc == 'overturned' else N_UPH}")

    fam("overturn count mri", "MRI", "overturned")
    fam("How many PT requests got denied at IMR", "physical therapy", "upheld")
    fam("x-rays upheld how many", "X-ray", "upheld")
    fam("number of acupunture requests affirmed", "acupuncture", "upheld")
    fam("how many ESIs were sustained by the reviewer", "epidural steroid injection", "upheld")
    fam("tens units approved - count", "TENS unit", "overturned")
    fam("how many norco requests did the reviewers refuse", "Norco", "upheld")
    fam("lidoderm/lidocaine patches reversed, how many", "lidocaine", "overturned")
    fam("Hospital bed requests granted by IMR - number please", "hospital bed", "overturned")
    fam("how many shoulder MRI's were won", "shoulder MRI", "overturned")
    fam("lumber MRI: how many were upheld", "lumbar MRI", "upheld")
    fam("count of EMG studys not certified", "EMG", "upheld")
    fam("home health aide (HHA) requests, number sustained", "home health aide", "upheld")
    fam("how many arthroscopies did the injured worker win", "arthroscopy", "overturned")
    fam("chiro manipulation - how many upheld", "chiropractic", "upheld")
    fam("could you tell me how many cyclobenzaprine requests ended up being overturned", "cyclobenzaprine", "overturned")
    rxq("how many ibuprofen requests were upheld", r"ibuprofen", "upheld", "ibuprofen (mentioned in letters, never disputed)")
    rxq("ct scan disputes overturned count", r"\bct\b|computed tomography", "overturned", "CT (mentioned, never disputed)")


def build_count_outcome_category() -> None:
    I = "count_outcome_category"

    def cat(question, cats, oc, pool=None, extra=""):
        cats = [cats] if isinstance(cats, str) else cats
        p = [i for i in (I_all() if pool is None else pool) if i.category in cats]
        q(I, question, num(cnt_outcome([p], oc)),
          f"{N_ITEMS}; gold category in {cats}; {N_OVT if oc == 'overturned' else N_UPH}{extra}")

    cat("how many medication items were overturned", "medication", "overturned")
    cat("imaging upheld count", "imaging", "upheld")
    cat("surgical requests approved, how many", "surgery", "overturned")
    cat("how many therapy reqs got reversed", "therapy", "overturned")
    cat("Injections: number denied", "injection", "upheld")
    cat("DME overturned", "DME", "overturned")
    cat("durable medical equipment - how many upheld", "DME", "upheld")
    cat("how many drug requests were upheld on reveiw", "medication", "upheld")
    cat("number of surgeries where the reviewer sustained the denial", "surgery", "upheld")
    cat("imaging studies reversed (count)", "imaging", "overturned")
    cat("Therapy items upheld total", "therapy", "upheld")
    cat("how many injection requests were certified", "injection", "overturned")
    cat("meds overturned in the 2023 letters", "medication", "overturned", ip("2023-01-01", "2023-12-31"), "; decided in 2023")
    cat("equipment requests granted in 2022 decisions", "DME", "overturned", ip("2022-01-01", "2022-12-31"), "; decided in 2022")
    cat("how many pharmacy requests were overturned in jan 2017", "medication", "overturned", ip("2017-01-01", "2017-01-31"),
        "; decided January 2017")


def build_count_outcome_period() -> None:
    I = "count_outcome_period"

    def per(question, start, end, oc, alt=None, extra=""):
        pools = [ip(start, end)] + ([ip(*alt)] if alt else [])
        q(I, question, num(cnt_outcome(pools, oc)),
          f"{N_ITEMS}; {N_DEC} {start}..{end}{extra}; {N_OVT if oc == 'overturned' else N_UPH}")

    per("how many items were overturned in january 2017", "2017-01-01", "2017-01-31", "overturned")
    per("upheld requests feb 2017", "2017-02-01", "2017-02-28", "upheld")
    per("Q1 '17 overturns", "2017-01-01", "2017-03-31", "overturned")
    per("number of treatments approved in H1 2017", "2017-01-01", "2017-06-30", "overturned")
    per("how many services were denied between 1/15/2017 and 2/10/2017", "2017-01-15", "2017-02-10", "upheld",
        alt=("2017-01-16", "2017-02-09"), extra=" (inclusive; exclusive ends also accepted)")
    per("overturned items decided in 2023", "2023-01-01", "2023-12-31", "overturned")
    per("how many requests were reversed before 2020", None, "2019-12-31", "overturned")
    per("denials upheld after 2020", "2021-01-01", None, "upheld", alt=("2021-01-01", TODAY.isoformat()),
        extra=" (open period; reading clamped at TODAY also accepted)")
    per("how many items were overturned in march 2017", "2017-03-01", "2017-03-31", "overturned", extra=" (no letter)")
    per("overturned reqs december 2016", "2016-12-01", "2016-12-31", "overturned", extra=" (no letter)")
    per("in 2022 how many of the disputed services went in the worker's favour", "2022-01-01", "2022-12-31", "overturned")
    per("affirmed denials in the second half of 2023", "2023-07-01", "2023-12-31", "upheld")
    per("how many upheld between feb 1 and feb 15, 2017", "2017-02-01", "2017-02-15", "upheld")
    per("2024 overturned count", "2024-01-01", "2024-12-31", "overturned")
    per("Could you give me the number of requests that lost at IMR during the 4th quarter of 2022", "2022-10-01",
        "2022-12-31", "upheld")


def build_rate_service() -> None:
    I = "rate_service"

    def r(question, family, oc):
        q(I, question, num(rate(fam_pools(family), oc), share=True),
          f"share of {family} items; {fam_note(family)}; {N_OVT if oc == 'overturned' else N_UPH}")

    r("what % of MRIs got overturned", "MRI", "overturned")
    r("uphold rate for physcial therapy", "physical therapy", "upheld")
    r("x-ray approval percentage", "X-ray", "overturned")
    r("share of ESI requests that were reversed", "epidural steroid injection", "overturned")
    r("tens overturn rate", "TENS unit", "overturned")
    r("could you tell me roughly what fraction of the lumbar MRI disputes were upheld", "lumbar MRI", "upheld")
    r("hospital bed success rate at IMR", "hospital bed", "overturned")
    r("percentage of chiropractic requests denied", "chiropractic", "upheld")
    r("Arthroscopy overturn %", "arthroscopy", "overturned")
    r("lidocaine patches - rate of approval", "lidocaine", "overturned")
    r("MRI of the shoulder: what portion was overturned", "shoulder MRI", "overturned")
    r("overturn rate for acupuncture", "acupuncture", "overturned")
    r("what share of cervicle MRIs did the worker win", "cervical MRI", "overturned")
    r("norco uphold rate pls", "Norco", "upheld")


def build_rate_segment() -> None:
    I = "rate_segment"

    def seg(question, ls, oc, desc):
        vals = rate([items_of(ls)], oc) + letter_rate(ls, oc)
        q(I, question, num(vals, share=True),
          f"share of items of {desc} ({len(ls)} letters, {len(items_of(ls))} items); letter share (letters with such an "
          f"item) also accepted; {N_OVT if oc == 'overturned' else N_UPH}")

    seg("overturn rate female patients", [L for L in L_all() if L.sex == "female"], "overturned", "letters with a female patient")
    seg("uphold % for male claimants", [L for L in L_all() if L.sex == "male"], "upheld", "letters with a male patient")
    q(I, "Would you be able to work out what percent of the items in the 2017 letters were overturned", num(rate([ip("2017-01-01", "2017-12-31")], "overturned"), share=True),
      f"share of items decided in 2017; {N_OVT}")
    seg("overturn rate, texas IRO decisions", [L for L in L_all() if tx(L)], "overturned", "Texas IRO letters")
    q(I, "share of requests upheld in the 2022-2024 decisions", num(rate([ip("2022-01-01", "2024-12-31")], "upheld"), share=True),
      f"share of items decided 2022-2024; {N_UPH}")
    seg("overturn rate for patients over 50", [L for L in L_all() if L.age and L.age > 50], "overturned", "letters with age > 50")
    seg("overturn rate when an orthopedic surgeon reviewed", [L for L in L_all() if "Orthopedic Surgery" in G.specialties(L)],
        "overturned", "letters reviewed by Orthopedic Surgery (Orthopaedic = Orthopedic)")
    seg("percentage overturned among expedited reviews", [L for L in L_all() if L.priority == "Expedited"], "overturned",
        "Expedited letters")
    seg("Family practice reviewers - what share of items did they uphold",
        [L for L in L_all() if "Family Practice" in G.specialties(L)], "upheld", "letters reviewed by Family Practice")
    q(I, "overturn rate among letters decided in feb 2017 (by item)", num(rate([ip("2017-02-01", "2017-02-28")], "overturned"), share=True),
      f"share of items decided February 2017; {N_OVT}")
    seg("approval rate for workers under 40", [L for L in L_all() if L.age and L.age < 40], "overturned", "letters with age < 40")
    q(I, "what % of medication requests in 2017 letters were overturned",
      num(rate([[i for i in ip("2017-01-01", "2017-12-31") if i.category == "medication"]], "overturned"), share=True),
      f"share of medication items decided in 2017; {N_OVT}")
    seg("uphold rate for anesthesiology reviewers", [L for L in L_all() if "Anesthesiology" in G.specialties(L)], "upheld",
        "letters reviewed by Anesthesiology")


def build_count_letters() -> None:
    I = "count_letters"

    def c(question, ls, note):
        q(I, question, num(len(ls), unit="letters"), f"{N_LETTERS}; {note}")

    c("how many review decisions are loaded", L_all(), "all decision letters")
    c("count of decisions from 2017", lp("2017-01-01", "2017-12-31"), f"{N_DEC} 2017")
    c("number of DWC letters", [L for L in L_all() if dwc(L)], "letter_format ca_dwc_imr")
    c("how many files were decided in feb '17", lp("2017-02-01", "2017-02-28"), f"{N_DEC} February 2017")
    c("How many determinations involve an MRI", letters_of(G.fam_items("MRI")), fam_note("MRI"))
    c("cases decided in the first half of jan 2017", lp("2017-01-01", "2017-01-15"), f"{N_DEC} 2017-01-01..15")
    c("how many letters have the DOI in Oct. 2016", lp("2016-10-01", "2016-10-31", "date_of_injury"), "date of injury October 2016")
    c("how many reviews were assigned in december 2016", lp("2016-12-01", "2016-12-31", "date_assigned"), "date assigned December 2016")
    c("letters where UR denied in January 2017", lp("2017-01-01", "2017-01-31", "ur_denial_date"), "UR denial date January 2017")
    c("how many IMR applications were received in Jan 2017", lp("2017-01-01", "2017-01-31", "application_received"),
      "application received January 2017")
    c("decisions issued 2021 through 2023", lp("2021-01-01", "2023-12-31"), f"{N_DEC} 2021-2023")
    c("how many decisions contain a surgery request", letters_of([i for i in I_all() if i.category == "surgery"]),
      "letters with a surgery-category item")
    c("how many decisions were made in 2016", lp("2016-01-01", "2016-12-31"), f"{N_DEC} 2016 (none)")
    c("Roughly how many review files involve physical therapy", letters_of(G.fam_items("physical therapy")),
      fam_note("physical therapy") + " (the alternative gives the same letters)")


def build_cases_quantifier() -> None:
    I = "cases_quantifier"
    Ls = L_all()

    def ov(i, loose=False):
        return i.overturned_loose if loose else i.overturned

    def cq(question, pred, note):
        strict = [L for L in Ls if pred(L, False)]
        loose = [L for L in Ls if pred(L, True)]
        q(I, question, cases(strict, loose), f"{N_LETTERS}; {note}; {N_OVT}")

    cq("which cases had every item overturned", lambda L, lo: all(ov(i, lo) for i in L.items), "all items overturned")
    cq("Cases With At Least One Overturned Item", lambda L, lo: any(ov(i, lo) for i in L.items), ">=1 item overturned")
    cq("list the letters where nothing at all was overturned", lambda L, lo: not any(ov(i, lo) for i in L.items),
       "no item overturned")
    cq("cases with a mix - some requests upheld, some overturned",
       lambda L, lo: any(ov(i, lo) for i in L.items) and any(i.upheld for i in L.items), ">=1 overturned and >=1 upheld")
    cq("files with 2 or more items overturned", lambda L, lo: sum(ov(i, lo) for i in L.items) >= 2, ">=2 items overturned")
    cq("cases where every medication request was upheld",
       lambda L, lo: any(i.category == "medication" for i in L.items)
       and all(i.upheld for i in L.items if i.category == "medication"),
       "letters with >=1 medication item, all medication items upheld")
    cq("which decisions upheld all of the imaging",
       lambda L, lo: any(i.category == "imaging" for i in L.items)
       and all(i.upheld for i in L.items if i.category == "imaging"),
       "letters with >=1 imaging item, all imaging items upheld")
    cq("cases with 3+ disputed items where none were approved",
       lambda L, lo: len(L.items) >= 3 and not any(ov(i, lo) for i in L.items), ">=3 items and none overturned")
    cq("which files had exactly one item overturned", lambda L, lo: sum(ov(i, lo) for i in L.items) == 1, "exactly 1 overturned")
    cq("letters where more than half the requests were overturned",
       lambda L, lo: sum(ov(i, lo) for i in L.items) > len(L.items) / 2, "overturned items > half the items")
    cq("cases where not a single item was upheld", lambda L, lo: not any(i.upheld for i in L.items) and (lo or True),
       "no item upheld (the partial letter is uncased)")
    cq("which 2017 decisions had at least one approval",
       lambda L, lo: G.in_period(L, "2017-01-01", "2017-12-31") and any(ov(i, lo) for i in L.items),
       f"{N_DEC} 2017, >=1 item overturned")
    cq("any cases where all the meds were approved",
       lambda L, lo: any(i.category == "medication" for i in L.items)
       and all(ov(i, lo) for i in L.items if i.category == "medication"),
       "letters with >=1 medication item, all medication items overturned")


def build_threshold() -> None:
    I = "threshold"
    Ls = L_all()
    q(I, "how many patients are older than 55", num(sum(1 for L in Ls if L.age and L.age > 55), unit="letters"),
      f"{N_LETTERS}; stated age > 55")
    q(I, "cases where the worker is under 30", cases([L for L in Ls if L.age and L.age < 30]), "stated age < 30")
    q(I, "letters with more than 5 disputed items", num(sum(1 for L in Ls if len(L.items) > 5), unit="letters"),
      f"{N_LETTERS}; > 5 items")
    a = [L for L in Ls if (gap(L, "ur_denial_date", "decision_date") or 0) > 60]
    b = [L for L in Ls if (gap(L, "ur_denial_date", "decision_date") or 0) >= 60]
    q(I, "which cases were decided more than 60 days after the UR denial", cases(a, b),
      "decision - UR denial > 60 days (>= 60 also accepted)")
    a = sum(1 for L in Ls if (g := gap(L, "date_assigned", "decision_date")) is not None and g < 30)
    b = sum(1 for L in Ls if (g := gap(L, "date_assigned", "decision_date")) is not None and g <= 30)
    q(I, "how many letters took under 30 days from assignment to decision", num(a, b, unit="letters"),
      f"{N_LETTERS}; decision - assigned < 30 days (<= 30 also accepted)")
    q(I, "which cases had 3 or more items in dispute", cases([L for L in Ls if len(L.items) >= 3]), ">= 3 items")
    q(I, "claimants aged 60+ how many", num(sum(1 for L in Ls if L.age and L.age >= 60), unit="letters"), "age >= 60")

    def two_years(L):
        d, i = L.dates["decision_date"], L.dates["date_of_injury"]
        if not (d and i):
            return False
        di = date.fromisoformat(i)
        return date.fromisoformat(d) > di.replace(year=di.year + 2)

    q(I, "cases where the injury was more than 2 years before the decision", cases([L for L in Ls if two_years(L)]),
      "decision date later than date of injury + 2 years")
    a = sum(1 for L in Ls if (g := gap(L, "application_received", "decision_date")) is not None and g <= 40)
    b = sum(1 for L in Ls if (g := gap(L, "application_received", "decision_date")) is not None and g < 40)
    q(I, "how many decisions came within 40 days of the application being received", num(a, b, unit="letters"),
      "decision - application received <= 40 days (< 40 also accepted)")
    q(I, "number of decisions with fewer than 2 items", num(sum(1 for L in Ls if len(L.items) < 2), unit="letters"),
      f"{N_LETTERS}; exactly 1 item")
    a = sum(1 for L in Ls if L.age and 40 <= L.age <= 50)
    b = sum(1 for L in Ls if L.age and 40 < L.age < 50)
    q(I, "patients between 40 and 50 yrs old - how many", num(a, b, unit="letters"), "40 <= age <= 50 (exclusive also accepted)")
    a = [L for L in Ls if (gap(L, "ur_denial_date", "application_received") or 0) > 21]
    q(I, "cases where it took over 3 weeks from the UR denial to the IMR application", cases(a),
      "application received - UR denial > 21 days")
    q(I, "Which patients were younger than 35 (case #s)", cases([L for L in Ls if L.age and L.age < 35]), "age < 35")
    q(I, "how many letters had at least 10 items", num(sum(1 for L in Ls if len(L.items) >= 10), unit="letters"), ">= 10 items")


def build_cases_service() -> None:
    I = "cases_service"

    def cs(question, families, extra_alt=None):
        fams = [families] if isinstance(families, str) else families
        strict = letters_of([i for f in fams for i in G.fam_items(f)])
        alts = [letters_of([i for f in fams for i in G.fam_items(f, alt=True)])]
        q(I, question, cases(strict, *alts), f"letters with an item of {fams}; {fam_note(*fams)}")

    cs("which cases involve acupuncture", "acupuncture")
    cs("list the files with a TENS unit dispute", "TENS unit")
    cs("cases w/ NCV/EMG", ["EMG", "nerve conduction study"])
    cs("which letters dispute norco", "Norco")
    cs("case numbers for hospital bed requests", "hospital bed")
    cs("what cases had a functional capacity eval (FCE)", "functional capacity evaluation")
    cs("show me every case with an epidural steroid injection", "epidural steroid injection")
    cs("HHA cases", "home health aide")
    cs("cases where pantoprazole / protonix was requested", "Pantoprazole")
    cs("which decisions involve a lumbar MRI", "lumbar MRI")
    q(I, "cases disputing x rays of the knee", cases(letters_of(rx_items(r"x-ray.*knee"))), "items matching /x-ray.*knee/")
    cs("which claims involved a spinal cord stimulator", "spinal cord stimulator")
    cs("cases involving cognitive behavioural therapy (CBT)", "cognitive behavioral therapy")
    cs("which cases had tramdol requests", "tramadol")
    q(I, "which cases disputed a knee brace", cases(letters_of(rx_items(r"knee brace"))),
      "items matching /knee brace/ (none)")
    cs("Chiropractic cases please", "chiropractic")


def build_cases_period() -> None:
    I = "cases_period"

    def cp(question, start, end, field="decision_date", alt=None, extra=""):
        ls = lp(start, end, field)
        alts = [lp(*alt, field)] if alt else []
        q(I, question, cases(ls, *alts), f"{N_LETTERS}; {field} {start}..{end}{extra}")

    cp("list cases decided in 1/2017", "2017-01-01", "2017-01-31")
    cp("which cases were decided between 2/10/2017 and 2/16/2017", "2017-02-10", "2017-02-16",
       alt=("2017-02-11", "2017-02-15"), extra=" inclusive (exclusive also accepted)")
    cp("cases with a DOI in November 2016", "2016-11-01", "2016-11-30", "date_of_injury")
    cp("case numbers assigned in december 2016", "2016-12-01", "2016-12-31", "date_assigned")
    cp("cases where UR denied in January 2017", "2017-01-01", "2017-01-31", "ur_denial_date")
    cp("which cases got their IMR application in 12/2016", "2016-12-01", "2016-12-31", "application_received")
    cp("cases decided in 2023", "2023-01-01", "2023-12-31")
    cp("which cases were decided in march 2017", "2017-03-01", "2017-03-31", extra=" (none)")
    cp("cases with an accident date between 2020 and 2023", "2020-01-01", "2023-12-31", "date_of_injury")
    cp("which cases were decided in Q4 2022", "2022-10-01", "2022-12-31")
    cp("decisions from the week of jan 30 2017", "2017-01-30", "2017-02-05", alt=("2017-01-29", "2017-02-04"),
       extra=" (Mon-Sun; Sun-Sat also accepted)")
    cp("cases where the injury happened before 10/15/2016", None, "2016-10-14", "date_of_injury")
    cp("Which files were assigned to a reviewer in Feb 2017", "2017-02-01", "2017-02-28", "date_assigned")
    cp("cases decided on or after feb 14 2017 but before march", "2017-02-14", "2017-02-28")


def build_case_date_field() -> None:
    I = "case_date_field"
    rows = [
        ("DOI CM17-0009840", "CM17-0009840", "date_of_injury"),
        ("when was the worker in CM16-0248655 hurt", "CM16-0248655", "date_of_injury"),
        ("UR denial date for cm17-0015790", "CM17-0015790", "ur_denial_date"),
        ("when did UR deny CM99-0000007", "CM99-0000007", "ur_denial_date"),
        ("date assigned on CM16-0246487", "CM16-0246487", "date_assigned"),
        ("application received date CM17-0021126", "CM17-0021126", "application_received"),
        ("decision date of CM16-0237163", "CM16-0237163", "decision_date"),
        ("when was CM99-0000002 decided", "CM99-0000002", "decision_date"),
        ("accident date for case CM99-0000009", "CM99-0000009", "date_of_injury"),
        ("when did the IMR application come in for CM16-0243394", "CM16-0243394", "application_received"),
        ("CM17-0005344 date of injury pls", "CM17-0005344", "date_of_injury"),
        ("what day was 2024-99010 decided", "2024-99010", "decision_date"),
        ("on what date was CM17-0003591 assigned to the reviewer", "CM17-0003591", "date_assigned"),
        ("the injury date in the cm99-0000005 file", "CM99-0000005", "date_of_injury"),
        ("when was the utilization review denial in CM16-0249735", "CM16-0249735", "ur_denial_date"),
        ("Date the IMR decision was issued for CM17-0008633", "CM17-0008633", "decision_date"),
    ]
    for question, case, field in rows:
        q(I, question, dt(by(case).dates[field]), f"gold {field} of {case}")


def build_case_clarify() -> None:
    I = "case_clarify"
    dated = [
        "date for CM17-0008633",
        "what's the date on cm16-0240900",
        "CM99-0000006 date pls",
        "give me the date of CM17-0009887",
        "what date does CM16-0249170 have",
        "cm17-0010728 when",
        "date please - CM16-0245295",
        "i need the date on file CM99-0000004",
        "what is the relevant date in CM17-0006634",
        "pull the date from CM16-0232543",
        "could you look up the date for case CM17-0021126 for me",
        "Date, CM99-0000001",
    ]
    for question in dated:
        q(I, question, CLARIFY, "a date for a case with no field named (decision, injury, UR denial, assigned, received): ask back")
    for question in [
        "what about the other one",
        "and for knees",
        "same thing but for last month",
        "what did the reviewer decide on it",
        "how does that compare with hers",
        "ok and the second case",
        "show me his date of injury",
        "what was the outcome for that request",
    ]:
        q(I, question, CLARIFY, "refers to something not in the question (no earlier turn): ask back")


def build_case_outcome_service() -> None:
    I = "case_outcome_service"
    rows = [
        ("outcome of the shoulder MRI in CM17-0009840", "CM17-0009840", r"mri"),
        ("what happened to the TENS unit in CM99-0000001", "CM99-0000001", r"tens"),
        ("result for norco in CM17-0015790", "CM17-0015790", r"norco"),
        ("CM16-0246487 percocet decision", "CM16-0246487", r"percocet"),
        ("what did IMR do with the sling in CM16-0246487", "CM16-0246487", r"sling"),
        ("lumbar MRI CM17-0008519 outcome", "CM17-0008519", r"mri"),
        ("how did the acupuncture request in CM16-0248698 come out", "CM16-0248698", r"acupuncture"),
        ("cm99-0000006 urine drug screen - upheld or overturned", "CM99-0000006", r"urine drug"),
        ("determination on the hospital bed for CM17-0009996", "CM17-0009996", r"hospital bed"),
        ("hospital bed in CM99-0000008 result", "CM99-0000008", r"hospital bed"),
        ("what was decided about the spine surgery evaluation in CM16-0247802", "CM16-0247802", r"spine surgery"),
        ("the wheelchair rental in cm99-0000008, what was the verdict", "CM99-0000008", r"wheelchair"),
        ("the MRI in 2024-99011 - what did the IRO decide", "2024-99011", r"mri"),
        ("tell me the outcome for the carpal tunnel release in 2024-99010", "2024-99010", r"carpal"),
        ("Cymbalta CM99-0000007 determination", "CM99-0000007", r"cymbalta"),
        ("was the gabapentin in CM99-0000004 upheld or reversed", "CM99-0000004", r"gabapentin"),
    ]
    for question, case, pat in rows:
        hits = [i for i in by(case).items if re.search(pat, i.s)]
        assert len(hits) == 1, (case, pat)
        q(I, question, outcome(hits[0].determination), f"gold determination of '{hits[0].service}' in {case}")


def build_case_item_count() -> None:
    I = "case_item_count"
    for question, case in [
        ("how many items in CM16-0248698", "CM16-0248698"),
        ("number of disputed services CM99-0000006", "CM99-0000006"),
        ("how many requests did CM17-0006634 have", "CM17-0006634"),
        ("how many treatments were at issue in cm16-0232543", "CM16-0232543"),
        ("cm17-0009840 # of items", "CM17-0009840"),
        ("how many things were disputed in CM16-0247274", "CM16-0247274"),
        ("how many services were reviewed for 2024-99011", "2024-99011"),
        ("CM17-0005344 - how many disputed treatments", "CM17-0005344"),
        ("total disputed items, CM99-0000008", "CM99-0000008"),
    ]:
        q(I, question, num(len(by(case).items)), f"number of gold items of {case}")
    L = by("CM16-0246487")
    q(I, "how many of the requests in CM16-0246487 were overturned", num(sum(i.overturned for i in L.items)),
      "overturned items of CM16-0246487")
    L = by("CM99-0000006")
    q(I, "count of upheld items in CM99-0000006", num(sum(i.upheld for i in L.items)), "upheld items of CM99-0000006")
    L = by("CM16-0248698")
    q(I, "how many meds were in dispute in CM16-0248698", num(sum(i.category == "medication" for i in L.items)),
      "medication-category items of CM16-0248698")
    L = by("CM17-0006634")
    q(I, "In CM17-0006634 how many imaging studies were requested", num(sum(i.category == "imaging" for i in L.items)),
      "imaging-category items of CM17-0006634")


def _spec_text(case: str) -> dict:
    parts = G.specialties(by(case))
    return text(parts, all_=len(parts) > 1)


def build_case_reviewer() -> None:
    I = "case_reviewer"
    for question, case in [
        ("specialty of the reviewer in CM17-0009840", "CM17-0009840"),
        ("what kind of doctor reviewed CM16-0246487", "CM16-0246487"),
        ("reviewer board certification cm17-0003591", "CM17-0003591"),
        ("reviewer specialty 2024-99011", "2024-99011"),
        ("who reviewed CM17-0009883 - their specialty", "CM17-0009883"),
        ("what's the reviewer's specialty for CM99-0000008", "CM99-0000008"),
        ("the expert reviewer on cm16-0249170, specialty", "CM16-0249170"),
        ("which specialty did the IMR physician have in CM16-0248655", "CM16-0248655"),
    ]:
        q(I, question, _spec_text(case), f"gold reviewer specialty of {case}, split at commas (all parts required)")
    for question, case in [
        ("which states is the CM16-0240900 reviewer licensed in", "CM16-0240900"),
        ("licensure for the reviewer on CM99-0000002", "CM99-0000002"),
        ("reviewer's license state(s) CM17-0009883", "CM17-0009883"),
        ("where is the reviewer of cm17-0015790 licensed", "CM17-0015790"),
        ("State of licensure, CM16-0246487 expert reviewer", "CM16-0246487"),
    ]:
        q(I, question, text(by(case).licensure, all_=len(by(case).licensure) > 1), f"gold licensure of {case} (all states)")


def build_case_patient() -> None:
    I = "case_patient"
    for question, case in [
        ("age of the patient in CM17-0009883", "CM17-0009883"),
        ("how old was the claimant in cm99-0000008", "CM99-0000008"),
        ("patient age CM16-0246487", "CM16-0246487"),
        ("how old is the worker in 2024-99010", "2024-99010"),
        ("the applicant in cm99-0000004 - age", "CM99-0000004"),
        ("age of IW in CM17-0005344", "CM17-0005344"),
        ("claimant's age for CM16-0240900", "CM16-0240900"),
        ("how old was the injured employee in CM99-0000005", "CM99-0000005"),
    ]:
        q(I, question, num(by(case).age, tol=0.5), f"gold patient age of {case}")
    for question, case in [
        ("sex of the injured worker CM16-0248655", "CM16-0248655"),
        ("is the patient in CM17-0021126 male or female", "CM17-0021126"),
        ("gender, CM99-0000009", "CM99-0000009"),
        ("male or female - CM16-0237163", "CM16-0237163"),
        ("what's the worker's gender in CM17-0010728", "CM17-0010728"),
        ("Patient sex for case 2024-99011", "2024-99011"),
    ]:
        q(I, question, text([by(case).sex]), f"gold patient sex of {case}")


def build_priority() -> None:
    I = "priority"
    Ls = L_all()
    exp = [L for L in Ls if L.priority == "Expedited"]
    std = [L for L in Ls if L.priority == "Standard"]
    q(I, "how many expedited reviews are there", num(len(exp), unit="letters"), f"{N_LETTERS}; priority Expedited")
    q(I, "which case was expedited", cases(exp), "priority Expedited")
    q(I, "priority of CM16-0239607", text([by("CM16-0239607").priority]), "gold priority")
    q(I, "how many standard priority decisions", num(len(std), len(Ls) - len(exp), unit="letters"),
      f"{N_LETTERS}; priority Standard (32; all but the expedited one, 36, also accepted)")
    q(I, "CM99-0000008 priority level", text([by("CM99-0000008").priority]), "gold priority")
    q(I, "expedited IMRs in 2017", num(len([L for L in exp if G.in_period(L, "2017-01-01", "2017-12-31")]), unit="letters"),
      "Expedited letters decided in 2017")
    q(I, "how many items in expedited reviews were overturned", num(cnt_outcome([items_of(exp)], "overturned")),
      f"items of Expedited letters; {N_OVT}")
    q(I, "list the expedited files", cases(exp), "priority Expedited")
    q(I, "was cm17-0009996 an expedited or a standard review", text([by("CM17-0009996").priority]), "gold priority")
    stated = [L for L in Ls if L.priority]
    q(I, "what share of decisions were expedited", num(len(exp) / len(Ls), len(exp) / len(stated), share=True),
      "Expedited letters over all 37 letters (over the 33 stating a priority also accepted)")
    q(I, "priority for 2024-99011", none_found(fact={"case": "2024-99011", "field": "priority"}),
      "the Texas IRO letter states no priority: nothing to report")
    q(I, "upheld items in standard-priority letters", num(cnt_outcome([items_of(std)], "upheld")),
      f"items of letters with priority Standard; {N_UPH}")
    q(I, "expedited cases that had at least one request overturned", cases([L for L in exp if any(i.overturned for i in L.items)]),
      "Expedited letters with >=1 overturned item")


def build_duration_avg() -> None:
    I = "duration_avg"
    Ls = L_all()

    def d(question, a, b, ls=None, note="all letters", median=False):
        ls = Ls if ls is None else ls
        vals = [mean_gap(ls, a, b)] + ([median_gap(ls, a, b)] if median else [])
        q(I, question, num(vals, tol=0.6),
          f"mean of ({b} - {a}) in days over {note} having both dates{' (median also accepted)' if median else ''}")

    d("average days from UR denial to decision", "ur_denial_date", "decision_date")
    d("mean time from application received to decision", "application_received", "decision_date")
    d("avg turnaround, assignment -> decison", "date_assigned", "decision_date")
    d("average gap between injury and decision (days)", "date_of_injury", "decision_date")
    d("mean days from injury to UR denial", "date_of_injury", "ur_denial_date")
    d("avg days from UR denial until the IMR application was received", "ur_denial_date", "application_received")
    d("for 2017 letters, average days from assignment to decision", "date_assigned", "decision_date",
      lp("2017-01-01", "2017-12-31"), "letters decided in 2017")
    d("how long on average from application received to assignment", "application_received", "date_assigned")
    d("average days application -> decision for cases with an overturn", "application_received", "decision_date",
      [L for L in Ls if any(i.overturned for i in L.items)], "letters with >=1 overturned item")
    d("avg time between DOI and IMR application, in days", "date_of_injury", "application_received")
    d("average number of days from UR denial to decision in the 2022-2023 letters", "ur_denial_date", "decision_date",
      lp("2022-01-01", "2023-12-31"), "letters decided 2022-2023")
    d("in jan 2017 decisions, avg days from assignment to decision", "date_assigned", "decision_date",
      lp("2017-01-01", "2017-01-31"), "letters decided January 2017")
    d("typical number of days from assignment to decision", "date_assigned", "decision_date", median=True)
    d("On average how many days does it take from the UR denial to the reviewer being assigned", "ur_denial_date",
      "date_assigned")


def build_duration_case() -> None:
    I = "duration_case"

    def d(question, case, a, b, alt=None):
        L = by(case)
        vals = [gap(L, a, b)] + ([gap(L, *alt)] if alt else [])
        q(I, question, num(vals), f"{b} - {a} of {case} in days" + (f" ({alt[1]} - {alt[0]} also accepted)" if alt else ""))

    d("how many days from UR denial to decision in CM17-0009840", "CM17-0009840", "ur_denial_date", "decision_date")
    d("days between injury and decision CM99-0000009", "CM99-0000009", "date_of_injury", "decision_date")
    d("how long did CM16-0248655 take from assignment to decision", "CM16-0248655", "date_assigned", "decision_date")
    d("application to decision, CM17-0021126, in days", "CM17-0021126", "application_received", "decision_date")
    d("how long after the injury was the UR denial in CM16-0246487", "CM16-0246487", "date_of_injury", "ur_denial_date")
    d("days from application received to assignment for cm99-0000008", "CM99-0000008", "application_received", "date_assigned")
    d("how many days did the IMR take in CM99-0000001", "CM99-0000001", "application_received", "decision_date",
      alt=("date_assigned", "decision_date"))
    d("time from DOI to application CM17-0005344 (days)", "CM17-0005344", "date_of_injury", "application_received")
    d("CM16-0232543 UR denial -> IMR decision, how many days", "CM16-0232543", "ur_denial_date", "decision_date")
    d("how long between the utilization review and the final determination for cm99-0000007", "CM99-0000007",
      "ur_denial_date", "decision_date")
    d("number of days from the accident to the decision in CM17-0009996", "CM17-0009996", "date_of_injury", "decision_date")
    d("how many days did CM99-0000005 sit between assignment and decision", "CM99-0000005", "date_assigned", "decision_date")
    d("days elapsed between UR denial and application receipt, CM17-0009883", "CM17-0009883", "ur_denial_date",
      "application_received")


def build_extremes() -> None:
    I = "extremes"
    Ls = L_all()

    def arg(key, ls=None, best=max):
        ls = [L for L in (Ls if ls is None else ls) if key(L) is not None]
        v = best(key(L) for L in ls)
        return [L for L in ls if key(L) == v], v

    dec = lambda L: L.dates["decision_date"]  # noqa: E731
    w, v = arg(dec, best=min)
    q(I, "earliest decision date in the library", dt(v), "min decision date")
    q(I, "which case was decided first", cases(w), "letter with the min decision date")
    w, v = arg(dec)
    q(I, "latest decision date on file", dt(v), "max decision date")
    w, v = arg(dec, lp("2017-01-01", "2017-12-31"))
    q(I, "most recent 2017 decision - which case", cases(w), "max decision date among 2017 letters")
    w, v = arg(lambda L: L.age)
    q(I, "oldest patient", cases(w), f"letter with max stated age ({v})")
    w, v = arg(lambda L: L.age, best=min)
    q(I, "youngest claimant's age", num(v, tol=0.5), "min stated age")
    q(I, "who is the youngest injured worker (case #)", cases(w), f"letter with min stated age ({v})")
    w, v = arg(lambda L: L.age, lp("2017-01-01", "2017-12-31"))
    q(I, "age of the oldest worker in the 2017 letters", num(v, tol=0.5), "max stated age among 2017 letters")
    w, v = arg(lambda L: len(L.items))
    q(I, "which case had the most disputed items", cases(w), f"max item count ({v})")
    q(I, "highest number of items in a single letter", num(v), "max item count")
    w, v = arg(lambda L: gap(L, "date_of_injury", "decision_date"))
    q(I, "longest time between injury and decision - which case", cases(w), f"max decision - date of injury ({v} days)")
    w, v = arg(lambda L: gap(L, "ur_denial_date", "decision_date"))
    q(I, "longest wait from UR denial to decision, case number", cases(w), f"max decision - UR denial ({v} days)")
    w, v = arg(lambda L: gap(L, "date_assigned", "decision_date"), best=min)
    q(I, "shortest assignment-to-decision turnaround, which case", cases(w), f"min decision - assigned ({v} days)")
    w, v = arg(lambda L: L.dates["date_of_injury"], best=min)
    q(I, "earliest date of injury", dt(v), "min date of injury")
    w, v = arg(lambda L: L.dates["date_of_injury"])
    q(I, "most recent DOI in the files", dt(v), "max date of injury")
    w, v = arg(lambda L: L.dates["ur_denial_date"], best=min)
    q(I, "first UR denial date in the set", dt(v), "min UR denial date")
    w, v = arg(lambda L: sum(i.overturned for i in L.items))
    w2, v2 = arg(lambda L: sum(i.overturned_loose for i in L.items))
    q(I, "which letter had the most overturned items", cases(w, w2), f"max overturned items ({v})")
    w, v = arg(lambda L: sum(i.upheld for i in L.items), lp("2017-01-01", "2017-12-31"))
    q(I, "which 2017 case had the most items upheld", cases(w), f"max upheld items among 2017 letters ({v})")
    w, v = arg(lambda L: L.dates["application_received"])
    q(I, "the most recent IMR application received - when", dt(v), "max application received")
    w, v = arg(lambda L: L.dates["date_assigned"], [L for L in Ls if (L.case_number or "").upper().startswith("CM17")], best=min)
    q(I, "earliest assignment date among the CM17 cases", dt(v), "min date assigned among case numbers CM17-*")
    w, v = arg(lambda L: L.age, [L for L in Ls if L.sex == "female"])
    q(I, "the oldest female patient - case", cases(w), f"max age among female patients ({v})")


def _svc_counter(items) -> Counter:
    return Counter(G.rank_label(i) for i in items)


def build_rank_services() -> None:
    I = "rank_services"
    A = SERVICE_ALIASES
    y17 = ip("2017-01-01", "2017-12-31")
    q(I, "top 3 disputed services", rank(_svc_counter(I_all()), 3, A), rank_note("all items"))
    q(I, "what services are disputed most often", rank(_svc_counter(I_all()), 2, A), rank_note("all items") + "; top 2 checked")
    q(I, "most commonly upheld service", rank(_svc_counter([i for i in I_all() if i.upheld]), 1, A), rank_note("upheld items"))
    dw = [i for i in I_all() if dwc(i.letter)]
    q(I, "which service was overturned most often in the DWC letters", rank(_svc_counter([i for i in dw if i.overturned]), 1, A),
      rank_note("overturned items of ca_dwc_imr letters"))
    q(I, "rank services by number of disputes in 2017 letters, top 3", rank(_svc_counter(y17), 3, A),
      rank_note("items decided in 2017"))
    q(I, "top five requested treatments", rank(_svc_counter(I_all()), 5, A), rank_note("all items"))
    q(I, "most frequently denied service in 2017", rank(_svc_counter([i for i in y17 if i.upheld]), 1, A),
      rank_note("upheld items decided in 2017"))
    q(I, "imaging services ranked by count", rank(_svc_counter([i for i in I_all() if i.category == "imaging"]), 2, A),
      rank_note("imaging-category items") + "; top 2")
    q(I, "which medications come up most, top 3", rank(_svc_counter([i for i in I_all() if i.category == "medication"]), 3, A),
      rank_note("medication-category items"))
    q(I, "what was overturned most in 2017", rank(_svc_counter([i for i in y17 if i.overturned]), 1, A),
      rank_note("overturned items decided in 2017"))
    recent = ip("2022-01-01", "2024-12-31")
    q(I, "most disputed service among the 2022-2024 decisions", rank(_svc_counter(recent), 1, A),
      rank_note("items decided 2022-2024"))
    lc = Counter()
    for L in L_all():
        for lab in {G.rank_label(i) for i in L.items}:
            lc[lab] += 1
    q(I, "top 3 services by number of letters they appear in", rank(lc, 3, A),
      "ranking of service labels by letters having >=1 such item (labels as gold.RANK_FAMILIES); ties grouped")
    q(I, "most appealed therapy type", rank(_svc_counter([i for i in I_all() if i.category == "therapy"]), 1, A),
      rank_note("therapy-category items"))
    rates = {}
    for pools in (fam_pools("physical therapy", dw),):
        for p in pools:  # PT wins on both readings of PT (with / without the PT evaluation)
            pt = round(sum(i.overturned for i in p) / len(p), 4)
            others = {lab: sum(i.overturned for i in dw if G.rank_label(i) == lab) / n
                      for lab, n in _svc_counter(dw).items() if n >= 3 and lab != "physical therapy"}
            assert pt > max(others.values()), (pt, others)
            rates[str(len(p))] = pt
    q(I, "in the california letters which service with at least 3 requests has the highest overturn rate",
      text(["physical therapy"]), f"overturn share per service label among ca_dwc_imr items with >=3 items: PT {rates}, "
                                  "MRI 0.2, others 0 (winner only)")
    jan = ip("2017-01-01", "2017-01-31")
    q(I, "most frequently disputed service in jan 2017", rank(_svc_counter(jan), 1, A), rank_note("items decided January 2017"))
    feb = ip("2017-02-01", "2017-02-28")
    q(I, "most disputed in feb 2017", rank(_svc_counter(feb), 1, A), rank_note("items decided February 2017"))
    o50 = items_of([L for L in L_all() if L.age and L.age > 50])
    q(I, "for claimants over 50, what gets disputed most", rank(_svc_counter(o50), 1, A), rank_note("items of patients over 50"))
    male = items_of([L for L in L_all() if L.sex == "male"])
    q(I, "most disputed services for male workers top 2", rank(_svc_counter(male), 2, A), rank_note("items of male patients"))
    q(I, "which service had the most requests overall", rank(_svc_counter(I_all()), 1, A), rank_note("all items"))
    q(I, "rank the injections by how often they were disputed",
      rank(_svc_counter([i for i in I_all() if i.category == "injection"]), 1, A), rank_note("injection-category items"))


def build_rank_month() -> None:
    I = "rank_month"
    Ls = L_all()
    decm = decided_month_counter(Ls)
    q(I, "Which Month had the most decisions", month_winner(decm), "letters by decision month; winner and its letter count")
    q(I, "busiest month for IMR decisions", month_winner(decm), "letters by decision month; winner and count")
    q(I, "rank months by number of decisions, top 2", month_rank(decm, 2), "letters by decision month")
    doi = decided_month_counter(Ls, "date_of_injury")
    q(I, "what month had the most injuries", month_winner(doi), "letters by date-of-injury month; winner and count")
    ur = decided_month_counter(Ls, "ur_denial_date")
    q(I, "month with the most UR denials", month_winner(ur), "letters by UR-denial month; winner and count")
    asg = decided_month_counter(Ls, "date_assigned")
    q(I, "in which month were the most cases assigned", month_winner(asg), "letters by assigned month; winner and count")
    app = decided_month_counter(Ls, "application_received")
    q(I, "applications received - busiest month", month_winner(app), "letters by application-received month; winner and count")
    itm = Counter(G.month_key(i.letter.decision) for i in I_all() if i.letter.decision)
    q(I, "month with the most disputed items decided", month_winner(itm), "items by decision month; winner and item count")
    ovi = Counter(G.month_key(i.letter.decision) for i in I_all() if i.letter.decision and i.overturned)
    q(I, "month with the most overturned items", month_winner(ovi), "overturned items by decision month; winner and count")
    ovl = Counter(G.month_key(L.decision) for L in Ls if L.decision and any(i.overturned for i in L.items))
    q(I, "which month had the most decisions with an overturn", month_winner(ovl),
      "letters with >=1 overturned item by decision month; winner and letter count")
    up17 = Counter(G.month_key(i.letter.decision) for i in ip("2017-01-01", "2017-12-31") if i.upheld)
    q(I, "in 2017 which month had more upheld items", month_winner(up17), "upheld items of 2017 by decision month")
    q(I, "top 3 months for date of injury", month_rank(doi, 3), "letters by date-of-injury month")
    q(I, "rank the months by UR denial count", month_rank(ur, 3), "letters by UR-denial month; top 3")
    mri = Counter(G.month_key(i.letter.decision) for i in G.fam_items("MRI") if i.letter.decision)
    q(I, "which month saw the most MRI disputes decided", month_winner(mri), fam_note("MRI") + "; items by decision month")
    y17 = ip("2017-01-01", "2017-12-31")
    rates = {}
    for m in ("2017-01", "2017-02"):
        p = [i for i in y17 if G.month_key(i.letter.decision) == m]
        rates[m] = sum(i.overturned for i in p) / len(p)
    best = max(rates, key=rates.get)
    q(I, "which month of 2017 had the highest overturn rate", text(month_aliases(best)),
      f"overturn share of items per 2017 decision month (months with letters): {best}")
    q(I, "top 2 months by overturned items", month_rank(ovi, 2), "overturned items by decision month")
    q(I, "IMR applications peaked in which month", month_winner(app), "letters by application-received month")
    med = Counter(G.month_key(i.letter.decision) for i in I_all() if i.letter.decision and i.category == "medication")
    q(I, "which month had the most medication disputes decided", month_winner(med), "medication items by decision month")
    q(I, "Rank months by how many files were assigned - top 2", month_rank(asg, 2), "letters by assigned month")
    pt = Counter(G.month_key(i.letter.decision) for i in G.fam_items("physical therapy") if i.letter.decision)
    pta = Counter(G.month_key(i.letter.decision) for i in G.fam_items("physical therapy", alt=True) if i.letter.decision)
    e, ea = month_winner(pt), month_winner(pta)
    e["accept"] += [a for a in ea["accept"] if a not in e["accept"]]
    e["counts"] = sorted(set(e["counts"]) | set(ea["counts"]))
    q(I, "month with the most PT requests decided", e,
      fam_note("physical therapy") + "; items by decision month; winners of both readings accepted")


def _spec_counter(ls, weight=lambda L: 1) -> Counter:
    c = Counter()
    for L in ls:
        for p in G.specialties(L):
            c[p] += weight(L)
    return c


def _whole_counter(ls, weight=lambda L: 1) -> Counter:
    c = Counter()
    for L in ls:
        if L.specialty:
            c[L.specialty.replace("&", "and").replace("Orthopaedic", "Orthopedic")] += weight(L)
    return c


def _spec_winner(ls, weight=lambda L: 1, with_count=True, alt_weight=None) -> tuple[dict, str]:
    """Text expectation: every top part (split reading) and every top whole string, with their counts."""
    parts, whole = _spec_counter(ls, weight), _whole_counter(ls, weight)
    counters = [parts, whole]
    if alt_weight:
        counters += [_spec_counter(ls, alt_weight), _whole_counter(ls, alt_weight)]
    acc, counts = [], []
    for c in counters:
        c = {k: v for k, v in c.items() if v > 0}
        if not c:
            continue
        best = max(c.values())
        for k, v in c.items():
            if v == best and k not in acc:
                acc.append(k)
        if best not in counts:
            counts.append(best)
    note = f"split parts {parts.most_common(3)}; whole strings {whole.most_common(2)}; every top label accepted"
    return text(acc, counts=counts if with_count else None), note


def build_rank_specialty() -> None:
    I = "rank_specialty"
    Ls = L_all()

    def w(question, ls, weight=lambda L: 1, what="letters", with_count=True, alt_weight=None):
        e, note = _spec_winner(ls, weight, with_count, alt_weight)
        q(I, question, e, f"reviewer specialty counted by {what}; {note}")

    w("which specialty reviewed the most cases", Ls)
    w("top specialty by number of items reviewed", Ls, lambda L: len(L.items), "items")
    w("which specialty overturned the most items", Ls, lambda L: sum(i.overturned for i in L.items), "overturned items")
    w("which specialty upheld the most requests", Ls, lambda L: sum(i.upheld for i in L.items), "upheld items")
    w("which reviewer specialty shows up most in 2017 letters", lp("2017-01-01", "2017-12-31"))
    w("most common specialty on the MRI disputes", Ls, lambda L: sum(1 for i in G.fam_items("MRI", pool=L.items)),
      "MRI items (" + fam_note("MRI") + ")")
    w("which board certification appears most often", Ls)
    w("most frequent reviewer specialty for female patients", [L for L in Ls if L.sex == "female"])
    w("which specialty reviews the most surgery requests", Ls, lambda L: sum(i.category == "surgery" for i in L.items),
      "surgery-category items")
    w("specialty with the most upheld denials in feb 2017", lp("2017-02-01", "2017-02-28"),
      lambda L: sum(i.upheld for i in L.items), "upheld items decided February 2017")
    w("which specialty reviewed the most texas cases", [L for L in Ls if tx(L)])
    w("top specialty by number of cases in january 2017", lp("2017-01-01", "2017-01-31"))
    w("which specialty sees the most PT disputes", Ls, lambda L: len(G.fam_items("physical therapy", pool=L.items)),
      "PT items (" + fam_note("physical therapy") + ")",
      alt_weight=lambda L: len(G.fam_items("physical therapy", alt=True, pool=L.items)))
    w("which specialty handled the most medication requests", Ls, lambda L: sum(i.category == "medication" for i in L.items),
      "medication-category items")
    w("among the 2022-2024 decisions, which reviewer specialty comes up most", lp("2022-01-01", "2024-12-31"))
    w("Which kind of reviewer handled the most imaging requests", Ls, lambda L: sum(i.category == "imaging" for i in L.items),
      "imaging-category items")
    parts = _spec_counter(Ls, lambda L: sum(i.overturned for i in L.items))
    q(I, "rank specialties by overturned items, top 2", rank(parts, 2),
      "split specialty parts, weight = overturned items of the letter")
    parts = _spec_counter(Ls, lambda L: len(L.items))
    q(I, "rank reviewer specialties by number of items, top 3", rank(parts, 3), "split specialty parts, weight = items")
    rates = {}
    for p, n in _spec_counter(Ls, lambda L: len(L.items)).items():
        if n >= 10:
            ov = _spec_counter(Ls, lambda L: sum(i.overturned for i in L.items))[p]
            rates[p] = round(ov / n, 4)
    best = max(rates.values())
    q(I, "specialty with the highest overturn rate (10+ items reviewed)", text([k for k, v in rates.items() if v == best]),
      f"overturn share of items per split specialty part with >=10 items: {sorted(rates.items(), key=lambda kv: -kv[1])[:3]}")
    w("most common reviewer specialty for the men", [L for L in Ls if L.sex == "male"])


def build_rank_category() -> None:
    I = "rank_category"
    A = CAT_ALIASES
    Is = I_all()
    dw = [i for i in Is if dwc(i.letter)]
    y17 = ip("2017-01-01", "2017-12-31")
    cats = lambda p: Counter(i.category for i in p)  # noqa: E731

    def rate_by(p, oc):
        out = {}
        for c, n in cats(p).items():
            out[c] = round(sum((i.overturned if oc == "overturned" else i.upheld) for i in p if i.category == c) / n, 4)
        return out

    q(I, "which category has the most disputed items", rank(cats(Is), 1, A), "items by gold category")
    q(I, "rank categories by number of items", rank(cats(Is), 3, A), "items by gold category; top 3")
    q(I, "which category was overturned most in the california letters",
      rank(cats([i for i in dw if i.overturned]), 1, A), "overturned ca_dwc_imr items by category (ties grouped)")
    q(I, "category with the highest uphold rate", rank(rate_by(Is, "upheld"), 1, A), "upheld share of items per category")
    q(I, "highest overturn rate by service category", rank(rate_by(Is, "overturned"), 1, A),
      "overturned share of items per category (ties grouped)")
    q(I, "which type of service is most often upheld", rank(cats([i for i in Is if i.upheld]), 1, A), "upheld items by category")
    y23 = ip("2023-01-01", "2023-12-31")
    q(I, "rank categories by overturn count in 2023 letters", rank(cats([i for i in y23 if i.overturned]), 2, A),
      "overturned items decided 2023 by category; top 2")
    q(I, "which category dominated 2017 disputes", rank(cats(y17), 1, A), "items decided 2017 by category")
    asc = sorted(cats(Is).items(), key=lambda kv: (kv[1], kv[0].lower()))
    q(I, "least disputed category", rank(dict(asc), 1, A, rows=[[k, v] for k, v in asc]),
      "items by category, fewest first (ties grouped)")
    q(I, "top 2 categories by upheld items in 2017", rank(cats([i for i in y17 if i.upheld]), 2, A),
      "upheld items decided 2017 by category")
    q(I, "which category had the most overturns in 2017", rank(cats([i for i in y17 if i.overturned]), 1, A),
      "overturned items decided 2017 by category (ties grouped)")
    fem = items_of([L for L in L_all() if L.sex == "female"])
    q(I, "for female claimants, which category of request is most common", rank(cats(fem), 1, A), "items of female patients by category")
    q(I, "Category ranking by number of letters, top 2",
      rank(Counter(c for L in L_all() for c in {i.category for i in L.items}), 2, A), "letters having >=1 item of the category")
    q(I, "which category appears most in the texas decisions", rank(cats([i for i in Is if tx(i.letter)]), 1, A),
      "Texas IRO items by category (ties grouped)")
    q(I, "category breakdown of disputes in the 2022-2024 files, top 3", rank(cats(ip("2022-01-01", "2024-12-31")), 3, A),
      "items decided 2022-2024 by category")
    q(I, "which category did workers win most often in 2022-2024 (count)",
      rank(cats([i for i in ip("2022-01-01", "2024-12-31") if i.overturned]), 1, A),
      "overturned items decided 2022-2024 by category (the Texas partial is in therapy; strict count)")
    q(I, "most common category among the upheld items of male patients",
      rank(cats([i for i in items_of([L for L in L_all() if L.sex == "male"]) if i.upheld]), 1, A), "upheld items of male patients")
    q(I, "second most disputed category", rank(cats(Is), 2, A), "items by category; positions 1-2 checked")
    q(I, "which category had the most items in feb 2017", rank(cats(ip("2017-02-01", "2017-02-28")), 1, A),
      "items decided Feb 2017 by category")
    q(I, "in the 2017 files which category had the lowest overturn rate",
      rank(dict(sorted(rate_by(y17, "overturned").items(), key=lambda kv: kv[1])), 1, A,
           rows=sorted([[k, v] for k, v in rate_by(y17, "overturned").items()], key=lambda r: (r[1], r[0]))),
      "overturned share per category of 2017 items, lowest first (ties grouped)")


def build_compare() -> None:
    I = "compare"
    A = {**SERVICE_ALIASES, **CAT_ALIASES}

    def cmp(question, rows, note, aliases=None):
        q(I, question, rank(dict(rows), len(rows), aliases or A, ordered=False, rows=[[k, v] for k, v in rows]), note)

    def r(f):
        return round(G.count_outcome(G.fam_items(f), "overturned")[0] / len(G.fam_items(f)), 4)

    cmp("mri vs x-ray overturn rates", [("MRI", r("MRI")), ("X-ray", r("X-ray"))], "overturn share per family; " + fam_note("MRI", "X-ray"))
    cmp("lumbar MRI vs cervical MRI - how many of each",
        [("lumbar MRI", len(G.fam_items("lumbar MRI"))), ("cervical MRI", len(G.fam_items("cervical MRI")))],
        "item counts; " + fam_note("lumbar MRI", "cervical MRI"),
        {"lumbar MRI": ["lumbar"], "cervical MRI": ["cervical"]})
    jan, feb = lp("2017-01-01", "2017-01-31"), lp("2017-02-01", "2017-02-28")
    cmp("jan 2017 vs feb 2017 decisions", [("2017-01", len(jan)), ("2017-02", len(feb))], "letters per decision month",
        {"2017-01": month_aliases("2017-01"), "2017-02": month_aliases("2017-02")})
    Ls = L_all()
    cmp("male vs female claimants, number of letters", [("male", sum(L.sex == "male" for L in Ls)),
                                                        ("female", sum(L.sex == "female" for L in Ls))],
        "letters per stated sex", {"male": ["male", "men"], "female": ["female", "women"]})
    cmp("texas vs california letter counts", [("Texas", sum(tx(L) for L in Ls)), ("California", sum(dwc(L) for L in Ls))],
        "letters per format (tx_iro vs ca_dwc_imr)", {"Texas": ["texas", "tx", "iro"], "California": ["california", "ca", "dwc"]})
    y22, y23 = ip("2022-01-01", "2022-12-31"), ip("2023-01-01", "2023-12-31")
    cmp("overturned items 2022 vs 2023", [("2022", sum(i.overturned for i in y22)), ("2023", sum(i.overturned for i in y23))],
        "overturned items per decision year", {"2022": ["2022"], "2023": ["2023"]})
    cmp("norco vs tramadol, number of requests", [("Norco", len(G.fam_items("Norco"))), ("tramadol", len(G.fam_items("tramadol")))],
        "item counts; " + fam_note("Norco", "tramadol"))
    Is = I_all()

    def crate(c, oc="upheld"):
        p = [i for i in Is if i.category == c]
        return round(sum(i.upheld if oc == "upheld" else i.overturned for i in p) / len(p), 4)

    cmp("medication vs imaging uphold rates", [("medication", crate("medication")), ("imaging", crate("imaging"))],
        "upheld share of items per category")
    cmp("shoulder mri overturn rate compared with lumbar mri", [("shoulder MRI", r("shoulder MRI")), ("lumbar MRI", r("lumbar MRI"))],
        "overturn share; " + fam_note("shoulder MRI", "lumbar MRI"), {"shoulder MRI": ["shoulder"], "lumbar MRI": ["lumbar"]})

    def mage(sex):
        a = [L.age for L in Ls if L.sex == sex and L.age]
        return round(sum(a) / len(a), 2)

    cmp("average age women vs men", [("female", mage("female")), ("male", mage("male"))], "mean stated age per sex (letters)",
        {"male": ["male", "men"], "female": ["female", "women"]})
    cmp("ODG vs ACOEM - how many items cite each", [("ODG", sum("ODG" in i.guidelines for i in Is)),
                                                      ("ACOEM", sum("ACOEM" in i.guidelines for i in Is))],
        "items whose gold guidelines include the source", {"ODG": ["odg", "official disability"], "ACOEM": ["acoem"]})
    cmp("surgery vs injection overturn counts", [("surgery", sum(i.overturned for i in Is if i.category == "surgery")),
                                                   ("injection", sum(i.overturned for i in Is if i.category == "injection"))],
        "overturned items per category")
    cmp("family practice vs emergency medicine, how many letters each reviewed",
        [("Family Practice", sum("Family Practice" in G.specialties(L) for L in Ls)),
         ("Emergency Medicine", sum("Emergency Medicine" in G.specialties(L) for L in Ls))],
        "letters per specialty (split parts and whole strings agree)", {"Family Practice": ["family"], "Emergency Medicine": ["emergency"]})
    cmp("avg days UR denial to decision: 2017 letters vs 2023 letters",
        [("2017", mean_gap(lp("2017-01-01", "2017-12-31"), "ur_denial_date", "decision_date")),
         ("2023", mean_gap(lp("2023-01-01", "2023-12-31"), "ur_denial_date", "decision_date"))],
        "mean days per decision year", {"2017": ["2017"], "2023": ["2023"]})
    cmp("EMG vs NCV count", [("EMG", len(G.fam_items("EMG"))), ("nerve conduction study", len(G.fam_items("nerve conduction study")))],
        "item counts; " + fam_note("EMG", "nerve conduction study"))


def build_guideline() -> None:
    I = "guideline"
    Is, Ls = I_all(), L_all()
    has = lambda i, g: g in i.guidelines  # noqa: E731
    q(I, "how many items cite ODG", num(sum(has(i, "ODG") for i in Is)), f"{N_ITEMS}; gold guidelines include ODG")
    q(I, "which cases relied on ACOEM", cases(letters_of([i for i in Is if has(i, "ACOEM")])), "letters with an item citing ACOEM")
    c = Counter(g for i in Is for g in i.guidelines)
    q(I, "most cited guideline", text([c.most_common(1)[0][0]]), f"guideline sources over items: {c.most_common()}")
    q(I, "how many letters cite MTUS", num(len(letters_of([i for i in Is if has(i, "MTUS")])), unit="letters"),
      f"{N_LETTERS}; letters with an item citing MTUS")
    q(I, "guidelines used for the shoulder MRI in CM17-0009840", text(by("CM17-0009840").items[0].guidelines, all_=True),
      "gold guidelines of the item")
    ov = [i for i in Is if i.overturned]
    q(I, "share of overturned items that cited ODG", num(sum(has(i, "ODG") for i in ov) / len(ov), share=True),
      "overturned items (strict) citing ODG over overturned items")
    q(I, "any items citing something other than MTUS, ODG or ACOEM - which cases",
      cases(letters_of([i for i in Is if has(i, "other")])), "letters with an item citing source 'other'")
    q(I, "did CM16-0248655 cite ACOEM", yes("ACOEM" in by("CM16-0248655").items[0].guidelines), "gold guidelines")
    q(I, "what guidelines did the reviewer use for the hip MRI in CM16-0248655", text(by("CM16-0248655").items[0].guidelines, all_=True),
      "gold guidelines of the item")
    q(I, "how many disputed items had no guideline cited at all", num(sum(not i.guidelines for i in Is)), "items with no gold guideline")
    y17 = ip("2017-01-01", "2017-12-31")
    q(I, "ODG citations in the 2017 letters, counting items", num(sum(has(i, "ODG") for i in y17)), "2017 items citing ODG")
    both_item = [i.letter for i in Is if has(i, "MTUS") and has(i, "ODG")]
    both_letter = [L for L in Ls if any(has(i, "MTUS") for i in L.items) and any(has(i, "ODG") for i in L.items)]
    q(I, "which cases cited both MTUS and ODG", cases(both_letter, both_item),
      "letters citing MTUS and ODG anywhere (on one item also accepted)")
    odg = [i for i in Is if has(i, "ODG")]
    q(I, "overturn rate for items citing ODG", num(rate([odg], "overturned"), share=True), f"share of ODG-citing items; {N_OVT}")
    q(I, "how many items relied only on MTUS", num(sum(i.guidelines == ["MTUS"] for i in Is)), "items whose only guideline is MTUS")
    q(I, "which guideline was cited for the carpal tunnel release in 2024-99010", text(by("2024-99010").items[0].guidelines, all_=True),
      "gold guidelines of the item")
    q(I, "ACOEM count (items)", num(sum(has(i, "ACOEM") for i in Is)), "items citing ACOEM")
    q(I, "rank guidelines by how often they're cited", rank(c, 3, {"ODG": ["odg", "official disability"], "MTUS": ["mtus"], "ACOEM": ["acoem"]}),
      "guideline sources counted over items")
    q(I, "how many texas decisions cited ODG", num(len([L for L in Ls if tx(L) and any(has(i, "ODG") for i in L.items)]), unit="letters"),
      "Texas letters with an item citing ODG")
    q(I, "list the cases where ODG was cited for an MRI", cases(letters_of([i for i in G.fam_items("MRI") if has(i, "ODG")])),
      "letters with an MRI item citing ODG; " + fam_note("MRI"))
    q(I, "what guideline backs the TENS denial in CM17-0006634",
      text(next(i for i in by("CM17-0006634").items if "tens" in i.s).guidelines, all_=True), "gold guidelines of the item")
    q(I, "Were any of the upheld x-rays decided under ODG", yes(any(has(i, "ODG") for i in G.fam_items("X-ray") if i.upheld)),
      "upheld X-ray items citing ODG exist")


def build_demographics() -> None:
    I = "demographics"
    Ls = L_all()
    ages = [L.age for L in Ls if L.age]
    q(I, "average patient age", num(round(sum(ages) / len(ages), 2), tol=0.6), "mean stated age over letters stating one")
    q(I, "how many female claimants", num(sum(L.sex == "female" for L in Ls), unit="letters"), "letters with sex female")
    q(I, "number of male injured workers", num(sum(L.sex == "male" for L in Ls), unit="letters"), "letters with sex male")
    with_sex = [L for L in Ls if L.sex]
    nf = sum(L.sex == "female" for L in Ls)
    q(I, "share of cases w/ a female patient", num(nf / len(Ls), nf / len(with_sex), share=True),
      "female letters over all letters (over letters stating a sex also accepted)")
    q(I, "age range of the claimants", text([str(min(ages)), str(max(ages))], all_=True), "min and max stated age")
    q(I, "median claimant age", num(float(statistics.median(ages)), tol=0.6), "median stated age")
    fa = [L.age for L in Ls if L.sex == "female" and L.age]
    q(I, "mean age of female patients", num(round(sum(fa) / len(fa), 2), tol=0.6), "mean stated age, female")
    q(I, "how many patients in their 40s", num(sum(1 for a in ages if 40 <= a <= 49), unit="letters"), "40 <= age <= 49")
    a17 = [L.age for L in lp("2017-01-01", "2017-12-31") if L.age]
    q(I, "average age of workers in 2017 letters", num(round(sum(a17) / len(a17), 2), tol=0.6), "mean stated age, decided 2017")
    q(I, "how many patients over 60", num(sum(a > 60 for a in ages), sum(a >= 60 for a in ages), unit="letters"),
      "age > 60 (>= 60 also accepted)")
    q(I, "youngest female patient's age", num(min(fa), tol=0.5), "min stated age, female")
    oa = [L.age for L in Ls if L.age and any(i.overturned for i in L.items)]
    q(I, "avg age of patients whose requests got overturned", num(round(sum(oa) / len(oa), 2), tol=0.6),
      "mean stated age of letters with >=1 overturned item")
    q(I, "how many letters don't state the patient's sex", num(sum(not L.sex for L in Ls), unit="letters"), "letters with no sex")
    q(I, "Gender split - how many men", num(sum(L.sex == "male" for L in Ls), unit="letters"), "letters with sex male")


def build_reviewer_agg() -> None:
    I = "reviewer_agg"
    Ls = L_all()
    sp = lambda name: [L for L in Ls if name in G.specialties(L)]  # noqa: E731
    q(I, "how many letters were reviewed by family practice", num(len(sp("Family Practice")), unit="letters"), "split specialty part")
    q(I, "how many reviewers licensed in Texas", num(sum("Texas" in L.licensure for L in Ls), unit="letters"),
      "letters whose reviewer licensure includes Texas")
    st = Counter(s for L in Ls for s in L.licensure)
    q(I, "which state are reviewers most often licensed in", text([st.most_common(1)[0][0]], counts=[st.most_common(1)[0][1]]),
      "licensure states counted over letters")
    parts = {p for L in Ls for p in G.specialties(L)}
    whole = {L.specialty.replace("&", "and").replace("Orthopaedic", "Orthopedic") for L in Ls if L.specialty}
    q(I, "how many distinct specialties are there among the reviewers", num(len(parts), len(whole)),
      "distinct split specialty parts (distinct whole strings also accepted)")
    q(I, "number of cases reviewed by a pain management specialist",
      num(len(sp("Pain Management")), len([L for L in Ls if {"Pain Management", "Pain Medicine"} & set(G.specialties(L))]), unit="letters"),
      "letters with part Pain Management (with Pain Medicine also accepted)")
    q(I, "cases reviewed by orthopedic surgeons", cases(sp("Orthopedic Surgery")), "part Orthopedic Surgery (Orthopaedic = Orthopedic)")
    q(I, "how many reviewers were licensed in more than one state", num(sum(len(L.licensure) > 1 for L in Ls), unit="letters"),
      "letters whose reviewer lists >1 licensure state")
    q(I, "anesthesiology reviews count", num(len(sp("Anesthesiology")), unit="letters"), "split specialty part")
    q(I, "how many decisions came from occupational medicine reviewers", num(len(sp("Occupational Medicine")), unit="letters"),
      "split specialty part")
    q(I, "which cases had a reviewer licensed in florida", cases([L for L in Ls if "Florida" in L.licensure]), "licensure includes Florida")
    q(I, "how many reviewers hold a California license", num(sum("California" in L.licensure for L in Ls), unit="letters"),
      "letters whose licensure includes California")
    q(I, "how many letters were reviewed by internal medicine", num(len(sp("Internal Medicine")), unit="letters"), "split specialty part")
    q(I, "PM&R reviewers - how many cases", num(len(sp("Physical Medicine and Rehabilitation")), unit="letters"),
      "split part Physical Medicine and Rehabilitation")
    q(I, "how many reviewers licensed in New York", num(sum("New York" in L.licensure for L in Ls), unit="letters"),
      "letters whose licensure includes New York")


def build_passage() -> None:
    I = "passage"
    for question, case, words in [
        ("show me where the reviewer explains the shoulder MRI approval in CM17-0009840", "CM17-0009840", ["shoulder"]),
        ("quote the rationale for the hospital bed in CM17-0009996", "CM17-0009996", ["hospital bed"]),
        ("find the passage about how the injury happened in CM16-0246487", "CM16-0246487", ["altercation"]),
        ("where does CM16-0248655 talk about the hip MRI", "CM16-0248655", ["hip"]),
        ("what did the reviewer say about the FCE in CM17-0006634", "CM17-0006634", ["functional capacity"]),
        ("pull the text on transportation in CM17-0009883", "CM17-0009883", ["transportation"]),
        ("rationale for the TENS trial in CM99-0000001", "CM99-0000001", ["tens"]),
        ("excerpt explaining the medial branch blocks, CM99-0000009", "CM99-0000009", ["medial branch"]),
        ("what the letter says about the urine drug screen in CM99-0000006", "CM99-0000006", ["urine drug"]),
        ("show the reasoning for denying Norco in CM17-0015790", "CM17-0015790", ["norco"]),
        ("reviewer's explanation for the spinal cord stimulator trial CM99-0000002", "CM99-0000002", ["stimulator"]),
        ("how was the fall from the scaffold described in cm99-0000008", "CM99-0000008", ["scaffold"]),
        ("the part of CM17-0021126 about tramadol", "CM17-0021126", ["tramadol"]),
        ("explanation for the carpal tunnel release denial in 2024-99010", "2024-99010", ["carpal tunnel"]),
        ("Can you quote what the reviewer wrote about the home aide hours in CM16-0249735", "CM16-0249735", ["aide"]),
    ]:
        q(I, question, passage(case, words), f"a citation from {case} containing {words}")


def build_yesno() -> None:
    I = "yesno"
    Is = I_all()
    q(I, "did any TENS unit get approved", yes(any(i.overturned for i in G.fam_items("TENS unit"))), fam_note("TENS unit"))
    q(I, "was anything overturned in january 2017", yes(any(i.overturned for i in ip("2017-01-01", "2017-01-31"))),
      "items decided Jan 2017")
    q(I, "any expedited reviews in 2017", yes(any(L.priority == "Expedited" for L in lp("2017-01-01", "2017-12-31"))),
      "Expedited letters decided 2017")
    q(I, "were all the x-rays upheld", yes(all(i.upheld for i in G.fam_items("X-ray"))), fam_note("X-ray"))
    q(I, "is there a texas letter that was upheld", yes(any(i.upheld for i in Is if tx(i.letter))), "Texas items upheld")
    q(I, "did CM17-0009840's MRI get overturned", yes(by("CM17-0009840").items[0].overturned, "overturned"), "gold determination")
    q(I, "was the acupuncture in CM16-0248698 approved",
      yes(any(i.overturned for i in G.fam_items("acupuncture", pool=by("CM16-0248698").items)), "overturned"), "gold determination")
    q(I, "any chiropractic request overturned", yes(any(i.overturned for i in G.fam_items("chiropractic"))), fam_note("chiropractic"))
    q(I, "did any decisions come out in march 2017", yes(bool(lp("2017-03-01", "2017-03-31"))), "letters decided March 2017")
    q(I, "was the spinal cord stimulator trial approved", yes(all(i.overturned for i in G.fam_items("spinal cord stimulator"))),
      fam_note("spinal cord stimulator"))
    q(I, "were any lidocaine patches approved", yes(any(i.overturned for i in G.fam_items("lidocaine"))), fam_note("lidocaine"))
    q(I, "is the cm16-0249735 patient male", yes(by("CM16-0249735").sex == "male"), "gold sex")
    q(I, "any case with more than 20 disputed items", yes(any(len(L.items) > 20 for L in L_all())), "> 20 items")
    q(I, "did the reviewer in CM17-0010728 uphold the MRI denial", yes(by("CM17-0010728").items[0].upheld, "upheld"), "gold determination")
    q(I, "Has any hospital bed ever been granted", yes(any(i.overturned for i in G.fam_items("hospital bed"))), fam_note("hospital bed"))


def build_none_found() -> None:
    I = "none_found"
    for question, absent in [
        ("how many botox injections were overturned", ["botox", "botulinum"]),
        ("cases with kyphoplasty", ["kyphoplasty", "vertebroplasty"]),
        ("hyperbaric oxygen requests", ["hyperbaric"]),
        ("gym membership denials - how many", ["gym membership", "gym"]),
        ("PRP injection outcomes", ["prp", "platelet-rich", "platelet rich"]),
        ("stem cell therapy cases", ["stem cell", "stem-cell"]),
        ("any bone growth stimulator disputes", ["bone growth", "bone stimulator", "bone-growth", "osteogenic"]),
        ("ketamine infusion decisions", ["ketamine"]),
        ("medical marijuana requests upheld", ["marijuana", "cannabis", "cannabidiol"]),
        ("H-wave unit overturn rate", ["h-wave", "h wave", "hwave"]),
        ("interferential stim unit cases", ["interferential"]),
        ("how many biofeedback sessions were denied", ["biofeedback"]),
        ("shockwave therapy (ESWT) outcomes", ["shockwave", "shock wave", "eswt"]),
        ("radiofrequency ablation / rhizotomy requests", ["radiofrequency", "rhizotomy", "ablation"]),
        ("suboxone or buprenorphine disputes", ["suboxone", "buprenorphine"]),
        ("fentanyl patch requests - how many", ["fentanyl", "duragesic"]),
        ("ambien / zolpidem cases", ["ambien", "zolpidem"]),
        ("which letters dispute a discogram", ["discogram", "discography"]),
        ("sleep study requests overturned", ["sleep study", "polysomnogra"]),
        ("carisoprodol (soma) requests", ["carisoprodol", "soma "]),
        ("massage therapy - number of cases", ["massage"]),
    ]:
        q(I, question, none_found(absent=absent), f"no letter's text contains any of {absent}: nothing matches")
    for question, case, field in [
        ("age of the patient in CM16-0249170", "CM16-0249170", "age"),
        ("date of injury on 2024-99011", "2024-99011", "date_of_injury"),
        ("sex of the claimant in CM99-0000004", "CM99-0000004", "sex"),
    ]:
        q(I, question, none_found(fact={"case": case, "field": field}), f"{case}'s letter does not state its {field}")


def build_exclusion() -> None:
    I = "exclusion"
    Is, Ls = I_all(), L_all()
    mri = set(map(id, G.fam_items("MRI")))
    q(I, "how many items other than MRIs were overturned", num(cnt_outcome([[i for i in Is if id(i) not in mri]], "overturned")),
      f"items not in {fam_note('MRI')}; {N_OVT}")
    q(I, "letters except the texas ones", num(sum(not tx(L) for L in Ls), unit="letters"), "letters not tx_iro")
    q(I, "excluding medicaitons, how many items were upheld", num(cnt_outcome([[i for i in Is if i.category != "medication"]], "upheld")),
      f"non-medication items; {N_UPH}")
    q(I, "not counting 2017, how many decisions are there",
      num(sum(not G.in_period(L, "2017-01-01", "2017-12-31") and L.decision is not None for L in Ls),
          sum(not G.in_period(L, "2017-01-01", "2017-12-31") for L in Ls), unit="letters"),
      "letters not decided in 2017 (the undated knee letter counted or not)")
    nopt = [i for i in Is if not re.search(r"physical therapy", i.s)]
    q(I, "leaving out PT, top 2 disputed services", rank(_svc_counter(nopt), 2, SERVICE_ALIASES), rank_note("items other than PT"))
    noimg = [i for i in Is if i.category != "imaging"]
    q(I, "overturn rate for everything except imaging", num(rate([noimg], "overturned"), share=True), f"non-imaging items; {N_OVT}")
    q(I, "which cases had an overturned item other than an MRI",
      cases([L for L in Ls if any(i.overturned and id(i) not in mri for i in L.items)],
            [L for L in Ls if any(i.overturned_loose and id(i) not in mri for i in L.items)]),
      "letters with an overturned non-MRI item")
    opi = set(map(id, drug_class("opioid")))
    opi_t = set(map(id, drug_class("opioid", "tramadol")))
    opi_s = set(map(id, drug_class("opioid", "tramadol", "synapryn")))
    meds = [i for i in Is if i.category == "medication"]
    q(I, "how many medications other than opioids were disputed",
      num([sum(id(i) not in s for i in meds) for s in (opi_t, opi, opi_s)]),
      "medication items not opioid (" + DRUG_NOTES["opioid"] + ")")
    big = by("CM16-0248698")
    q(I, "upheld items not counting the 21-item case CM16-0248698",
      num(cnt_outcome([[i for i in Is if i.letter is not big]], "upheld")), f"items of other letters; {N_UPH}")
    q(I, "cases decided in feb 2017 other than those with MRIs",
      cases([L for L in lp("2017-02-01", "2017-02-28") if not G.fam_items("MRI", pool=L.items)]),
      "letters decided Feb 2017 without an MRI item")
    q(I, "all decisions except those reviewed by family practice - count",
      num(sum("Family Practice" not in G.specialties(L) for L in Ls), unit="letters"), "letters without part Family Practice")
    xr = set(map(id, G.fam_items("X-ray")))
    q(I, "how many imaging items, not counting x-rays and MRIs",
      num(sum(i.category == "imaging" and id(i) not in mri and id(i) not in xr for i in Is)), "imaging items not MRI/X-ray")
    sh = by("CM16-0246487")
    q(I, "overturned requests in 2017 excluding the shoulder surgery case CM16-0246487",
      num(cnt_outcome([[i for i in ip("2017-01-01", "2017-12-31") if i.letter is not sh]], "overturned")),
      f"2017 items of other letters; {N_OVT}")
    q(I, "how many female patients, leaving out the texas letters", num(sum(L.sex == "female" and not tx(L) for L in Ls), unit="letters"),
      "female letters not tx_iro")
    c = Counter(i.category for i in Is if i.overturned and i.category != "therapy")
    best = max(c.values())
    q(I, "except for therapy, which category had the most overturns", text([k for k, v in c.items() if v == best], counts=[best]),
      "overturned items by category, therapy left out; every top category accepted")
    y22 = [i for i in ip("2022-01-01", "2022-12-31") if i.letter.priority != "Expedited"]
    q(I, "not counting the expedited case, how many overturned items are there in 2022 letters",
      num(cnt_outcome([y22], "overturned")), "2022 items of non-Expedited letters")
    ages = [L.age for L in Ls if L.age and not tx(L)]
    q(I, "average age excluding texas", num(round(sum(ages) / len(ages), 2), tol=0.6), "mean stated age of non-tx letters")
    arth = set(map(id, G.fam_items("arthroscopy")))
    q(I, "cases with surgery requests other than arthroscopy",
      cases([L for L in Ls if any(i.category == "surgery" and id(i) not in arth for i in L.items)]),
      "letters with a surgery item not matching /arthroscop/")
    q(I, "without the MRI requests, how many imaging items were overturned",
      num(sum(i.category == "imaging" and i.overturned and id(i) not in mri for i in Is)), "imaging items not MRI, overturned")
    q(I, "Besides physical therapy, how many therapy-category requests were denied",
      num(cnt_outcome([[i for i in Is if i.category == "therapy" and not re.search("physical therapy", i.s)]], "upheld")),
      f"therapy items not matching /physical therapy/; {N_UPH}")
    q(I, "how many decsions excluding the 2017 ones had something overturend",
      num(sum(any(i.overturned for i in L.items) and not G.in_period(L, "2017-01-01", "2017-12-31") for L in Ls),
          sum(any(i.overturned_loose for i in L.items) and not G.in_period(L, "2017-01-01", "2017-12-31") for L in Ls), unit="letters"),
      "letters not decided in 2017 with >=1 overturned item")


def build_relative_dates() -> None:
    I = "relative_dates"
    T = TODAY.isoformat()

    def back(months=0, days=0):
        if days:
            return (TODAY - timedelta(days=days)).isoformat()
        y, m = TODAY.year, TODAY.month - months
        while m <= 0:
            m += 12
            y -= 1
        return date(y, m, TODAY.day).isoformat()

    def whole(months):  # first day of the month `months-1` before this month
        y, m = TODAY.year, TODAY.month - months + 1
        while m <= 0:
            m += 12
            y -= 1
        return date(y, m, 1).isoformat()

    def n(ls):
        return len(ls)

    q(I, "decisions in the last 6 months", num(n(lp(back(6), T)), n(lp(whole(6), T)), unit="letters"),
      f"letters decided {back(6)}..{T} (whole months from {whole(6)} also accepted); TODAY={T}")
    q(I, "how many letters in the last 3 months", num(n(lp(back(3), T)), n(lp(whole(3), T)), unit="letters"),
      f"letters decided {back(3)}..{T}")
    q(I, "overturned items this year", num(cnt_outcome([ip("2017-01-01", T)], "overturned")), f"items decided 2017; {N_OVT}")
    q(I, "how many decisions last year", num(n(lp("2016-01-01", "2016-12-31")), unit="letters"), "letters decided 2016")
    q(I, "injuries in the last 12 months", num(n(lp(back(12), T, "date_of_injury")), unit="letters"),
      f"date of injury {back(12)}..{T}")
    q(I, "cases decided this month", num(n(lp("2017-06-01", T)), unit="letters"), "letters decided June 2017")
    q(I, "past 90 days decisions", num(n(lp(back(days=90), T)), unit="letters"), f"letters decided {back(days=90)}..{T}")
    q(I, "letters decided so far in 2017", num(n(lp("2017-01-01", T)), unit="letters"), "letters decided 2017 up to TODAY")
    q(I, "UR denials in the last year", num(n(lp(back(12), T, "ur_denial_date")), n(lp("2016-01-01", "2016-12-31", "ur_denial_date")),
                                            unit="letters"),
      f"UR denial {back(12)}..{T} (calendar 2016 also accepted)")
    q(I, "how many cases were assigned in the past six months",
      num(n(lp(back(6), T, "date_assigned")), n(lp(whole(6), T, "date_assigned")), unit="letters"),
      f"assigned {back(6)}..{T} (from {whole(6)} also accepted)")
    q(I, "last quarter decisions", num(n(lp("2017-01-01", "2017-03-31")), n(lp(back(3), T)), unit="letters"),
      "letters decided in Q1 2017 (previous quarter; the last three months also accepted)")
    q(I, "which cases were decided in the last 5 months", cases(lp(back(5), T), lp(whole(5), T)),
      f"letters decided {back(5)}..{T} (from {whole(5)} also accepted)")
    q(I, "requests upheld in the past 6 months", num(cnt_outcome([ip(back(6), T)], "upheld")), f"items decided {back(6)}..{T}; {N_UPH}")
    q(I, "how many workers were injured in the last 6 months", num(n(lp(back(6), T, "date_of_injury")), unit="letters"),
      f"date of injury {back(6)}..{T}")
    q(I, "applications received in the last 7 months", num(n(lp(back(7), T, "application_received")),
                                                           n(lp(whole(7), T, "application_received")), unit="letters"),
      f"application received {back(7)}..{T} (from {whole(7)} also accepted)")
    q(I, "how many determinations since the start of 2017", num(n(lp("2017-01-01", None)), n(lp("2017-01-01", T)), unit="letters"),
      "letters decided from 2017-01-01 (open period; the reading clamped at TODAY also accepted)")
    q(I, "Could you count the decisions issued since Christmas for me", num(n(lp("2016-12-25", None)), n(lp("2016-12-25", T)),
                                                                         unit="letters"),
      "letters decided from 2016-12-25 (open period; the reading clamped at TODAY also accepted)")
    q(I, "anything overturned in the last 30 days", yes(any(i.overturned_loose for i in ip(back(days=30), T))),
      f"items decided {back(days=30)}..{T}")


def build_modified_request() -> None:
    I = "modified_request"
    mod = [i for i in I_all() if i.original_request]
    q(I, "how many requests did UR modify (partial certification)", num(len(mod)),
      "items with an original request and an authorized portion in the gold")
    q(I, "which cases involve a UR modification", cases(letters_of(mod)), "letters with a modified item")
    q(I, "original request for acupuncture in CM16-0248698", text(["18 sessions"]), "gold original_request")
    q(I, "what did the claims administrator authorize for the wheelchair in CM99-0000008", text(["1 month"]), "gold authorized_portion")
    q(I, "how many modified requests were overturned at IMR", num(cnt_outcome([mod], "overturned")), f"modified items; {N_OVT}")
    q(I, "of the partially certified items, how many were upheld", num(cnt_outcome([mod], "upheld")), f"modified items; {N_UPH}")
    q(I, "how much PT was originally requested in CM17-0006634", text(["12 sessions", "six weeks", "6 weeks"]),
      "gold original_request: two times a week for six weeks (12 sessions)")
    q(I, "authorized portion of the home aide in CM16-0249735", text(["6 hours"]), "gold authorized_portion")
    q(I, "what was originally asked for with Norco in CM99-0000007", text(["#120", "120"]), "gold original_request Norco 10/325mg #120")
    q(I, "cbt sessions authorized by UR in CM99-0000007", text(["4 sessions", "four sessions"]), "gold authorized_portion")
    q(I, "CM17-0008633 PT - original vs authorized", text(["3 weeks", "2 weeks"], all_=True), "gold original_request / authorized_portion")
    q(I, "how many of the modified requests were therapy items", num(sum(i.category == "therapy" for i in mod)),
      "modified items of category therapy")
    q(I, "remaining disputed portion of the home health aide in CM99-0000008", text(["4 hours"]), "gold service (IMR-eligible portion)")
    q(I, "List the cases where UR cut the request down and IMR then overturned the rest",
      cases(letters_of([i for i in mod if i.overturned])), "letters with a modified item overturned")


DRUG_CLASSES = {
    # class -> {variant: regex on the lower-cased service}; the base variant is "base"
    "opioid": {"base": r"norco|percocet|oxycodone|hydrocodone", "tramadol": r"tramadol", "synapryn": r"synapryn"},
    "ppi": {"base": r"pantoprazole|prilosec|omeprazole|protonix"},
    "nsaid": {"base": r"naproxen|celecoxib", "topical": r"voltaren|diclofenac|ketoprofen", "ketophene": r"ketophene"},
    "muscle relaxant": {"base": r"norflex|orphenadrine|cyclobenzaprine(?!.*cream)|baclofen",
                        "cream": r"cyclobenzaprine.*cream", "tabradol": r"tabradol"},
    "topical": {"base": r"voltaren|lidoderm|lidocaine|diclofenac|ketoprofen|cream|terocin|gel|ointment|lotion",
                "ketophene": r"ketophene"},
    "antidepressant": {"base": r"bupropion|venlafaxine|cymbalta|duloxetine"},
    "anticonvulsant": {"base": r"lyrica|pregabalin|gabapentin", "fanatrex": r"fanatrex"},
}
DRUG_NOTES = {k: "; ".join(f"{v}: /{rx}/" for v, rx in d.items()) for k, d in DRUG_CLASSES.items()}


def drug_class(cls: str, *variants: str) -> list[G.Item]:
    d = DRUG_CLASSES[cls]
    pats = [d["base"]] + [d[v] for v in variants]
    return [i for i in I_all() if i.category == "medication" and any(re.search(p, i.s) for p in pats)]


NESTED = {"opioid", "nsaid"}  # variants only make sense cumulatively (Synapryn only with tramadol, Ketophene with topicals)


def class_readings(cls: str) -> list[list[G.Item]]:
    """Base reading, then base + each optional variant (cumulative for NESTED classes), then base + all variants."""
    vs = [v for v in DRUG_CLASSES[cls] if v != "base"]
    if cls in NESTED:
        return [drug_class(cls, *vs[:k]) for k in range(len(vs) + 1)]
    out = [drug_class(cls)] + [drug_class(cls, v) for v in vs]
    if len(vs) > 1:
        out.append(drug_class(cls, *vs))
    return out


def build_drug_class() -> None:
    I = "drug_class"
    opi = class_readings("opioid")
    # tramadol is an opioid: the reading with tramadol goes first
    opi = [opi[1]] + [p for k, p in enumerate(opi) if k != 1]
    note = lambda c: (f"medication items of class {c} ({DRUG_NOTES[c]}; the optional variants accepted"  # noqa: E731
                      f"{' cumulatively' if c in NESTED else ' in any combination'})")
    q(I, "how many opioid requests were disputed", num([len(p) for p in opi]), note("opioid"))
    q(I, "opioid overturn rate", num(rate(opi, "overturned"), share=True), note("opioid") + f"; {N_OVT}")
    ppi = class_readings("ppi")
    q(I, "which cases had a PPI request", cases(letters_of(ppi[0])), note("ppi"))
    nsaid = class_readings("nsaid")
    q(I, "how many NSAID items were there", num([len(p) for p in nsaid]), note("nsaid"))
    mr = class_readings("muscle relaxant")
    q(I, "muscle relaxants upheld - count", num(cnt_outcome(mr, "upheld")), note("muscle relaxant") + f"; {N_UPH}")
    top = class_readings("topical")
    q(I, "topical analgesics disputed - which cases", cases(*[letters_of(p) for p in top]), note("topical"))
    ad = class_readings("antidepressant")
    q(I, "antidepressants overturned count", num(cnt_outcome(ad, "overturned")), note("antidepressant"))
    ac = class_readings("anticonvulsant")
    q(I, "how many anticonvulsant / neuropathic pain meds were approved", num(cnt_outcome(ac, "overturned")), note("anticonvulsant"))
    y17 = set(map(id, ip("2017-01-01", "2017-12-31")))
    q(I, "which 2017 cases had muscle relaxers requested",
      cases(*[letters_of([i for i in p if id(i) in y17]) for p in mr]), note("muscle relaxant") + "; decided 2017")
    q(I, "share of NSAID requests overturned", num(rate(nsaid, "overturned"), share=True), note("nsaid"))
    y23 = set(map(id, ip("2023-01-01", "2023-12-31")))
    q(I, "opioids in the 2023 decisions - how many", num([sum(id(i) in y23 for i in p) for p in opi]), note("opioid") + "; decided 2023")
    q(I, "how many PPI requests were upheld", num(cnt_outcome(ppi, "upheld")), note("ppi"))
    q(I, "Were any opioid pain meds overturned", yes(any(i.overturned for p in opi for i in p)), note("opioid"))
    q(I, "number of letters with an opioid in dispute", num([len(letters_of(p)) for p in opi], unit="letters"), note("opioid"))
    q(I, "what % of muscle relaxant requests were denied", num(rate(mr, "upheld"), share=True), note("muscle relaxant"))


def build_jurisdiction() -> None:
    I = "jurisdiction"
    Ls, Is = L_all(), I_all()
    T = [L for L in Ls if tx(L)]
    C = [L for L in Ls if dwc(L)]
    q(I, "how many texas IRO decisions", num(len(T), unit="letters"), "letters of format tx_iro")
    q(I, "number of california DWC letters", num(len(C), unit="letters"), "letters of format ca_dwc_imr")
    q(I, "list the texas case numbers", cases(T), "tx_iro letters (the partial one has no case number)")
    q(I, "overturn rate in texas", num(rate([items_of(T)], "overturned"), share=True), f"tx_iro items; {N_OVT}")
    q(I, "overturn rate DWC letters", num(rate([items_of(C)], "overturned"), share=True), f"ca_dwc_imr items; {N_OVT}")
    q(I, "how many items upheld in the CA workers comp letters", num(cnt_outcome([items_of(C)], "upheld")), f"ca_dwc_imr items; {N_UPH}")
    q(I, "what state is CM17-0009840 from", text(["California"]), "ca_dwc_imr = California DWC")
    q(I, "which jurisdiction is case 2024-99010", text(["Texas"]), "tx_iro = Texas")
    q(I, "texas letters decided in 2024", num(len(lp("2024-01-01", "2024-12-31", pool=T)), unit="letters"), "tx_iro decided 2024")
    q(I, "how many DWC IMR letters were decided in 2017", num(len(lp("2017-01-01", "2017-12-31", pool=C)), unit="letters"),
      "ca_dwc_imr decided 2017")
    q(I, "any texas cases overturned in full", yes(any(all(i.overturned for i in L.items) for L in T)), "tx_iro letters all items overturned")
    ages = [L.age for L in T if L.age]
    q(I, "average patient age in the texas decisions", num(round(sum(ages) / len(ages), 2), tol=0.6), "mean stated age, tx_iro")
    q(I, "how many Maximus / DWC decisions had at least one item overturned",
      num(sum(any(i.overturned for i in L.items) for L in C), unit="letters"), "ca_dwc_imr letters with >=1 overturned item")
    q(I, "Texas IRO cases - which guideline did they cite most", text(
        [Counter(g for i in items_of(T) for g in i.guidelines).most_common(1)[0][0]]), "guideline sources over tx_iro items")


# ================================================================ main

BUILDERS = [
    build_count_outcome_service, build_count_outcome_category, build_count_outcome_period, build_rate_service,
    build_rate_segment, build_count_letters, build_cases_quantifier, build_threshold, build_cases_service,
    build_cases_period, build_case_date_field, build_case_clarify, build_case_outcome_service, build_case_item_count,
    build_case_reviewer, build_case_patient, build_priority, build_duration_avg, build_duration_case, build_extremes,
    build_rank_services, build_rank_month, build_rank_specialty, build_rank_category, build_compare, build_guideline,
    build_demographics, build_reviewer_agg, build_passage, build_yesno, build_none_found, build_exclusion,
    build_relative_dates, build_modified_request, build_drug_class, build_jurisdiction,
]


def build() -> list[dict]:
    ROWS.clear()
    for b in BUILDERS:
        b()
    n = Counter()
    out = []
    for r in ROWS:
        n[r["intent"]] += 1
        out.append({"id": f"d3-{r['intent']}-{n[r['intent']]:02d}", **r})
    return out


def _cases_in(e: dict) -> set[str]:
    out = set()
    if e["type"] == "cases":
        out |= set(e["value"])
        for s in e.get("accept_sets", []):
            out |= set(s)
    if e["type"] == "passage":
        out.add(e["case"])
    if e.get("fact"):
        out.add(e["fact"]["case"])
    return out


def check(rows: list[dict]) -> list[str]:
    errs: list[str] = []
    if not OUT.exists():
        return [f"{OUT} missing: run without --check first"]
    stored = [json.loads(x) for x in OUT.read_text(encoding="utf-8").splitlines() if x.strip()]
    if stored != rows:
        errs.append("dev3.jsonl differs from the recomputed bank (regenerate)")
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        errs.append("duplicate ids")
    qs = [r["question"].lower() for r in rows]
    for x, k in Counter(qs).items():
        if k > 1:
            errs.append(f"question asked {k} times: {x!r}")
    known = {c.upper() for c in G.case_numbers()}
    texts = G.letter_texts()
    if len([k for k in texts if k.endswith(".pdf")]) != 25:
        errs.append("the 25 dev PDFs were not read: set IMR_SHARED_DIR (e.g. /work/shared)")
    by_case_text = {}
    for L in G.all_letters():
        if L.case_number and L.source_file in texts:
            by_case_text[L.case_number.upper()] = texts[L.source_file]
    for r in rows:
        e, rid = r["expected"], r["id"]
        for c in _cases_in(e) | {c.upper() for c in G.CASE_RE.findall(r["question"])}:
            if c.upper() not in known:
                errs.append(f"{rid}: unknown case {c}")
        if "?" in r["question"]:
            errs.append(f"{rid}: question mark")
        t = e["type"]
        if t == "number":
            if e.get("accept_values") and e["value"] not in e["accept_values"]:
                errs.append(f"{rid}: value not among accept_values")
            if e.get("share") and not all(0 <= v <= 1 for v in e.get("accept_values") or [e["value"]]):
                errs.append(f"{rid}: share outside 0..1")
        if t == "ranking" and len(e["value"]) < e["top"]:
            errs.append(f"{rid}: ranking shorter than top")
        if t == "text" and not e.get("accept"):
            errs.append(f"{rid}: text without accept")
        if t == "none_found":
            for s in e.get("absent", []):
                hits = [k for k, v in texts.items() if s in v]
                if hits:
                    errs.append(f"{rid}: none_found stem {s!r} occurs in {hits[:3]}")
            if e.get("fact"):
                L = G.by_case(e["fact"]["case"])
                f = e["fact"]["field"]
                val = {"age": L.age, "sex": L.sex, "priority": L.priority}.get(f, L.dates.get(f))
                if val is not None:
                    errs.append(f"{rid}: fact {f} of {L.case_number} is stated ({val})")
            if not e.get("absent") and not e.get("fact"):
                errs.append(f"{rid}: none_found without absent stems or fact")
        if t == "passage":
            body = by_case_text.get(e["case"].upper())
            if body is None:
                errs.append(f"{rid}: no text for {e['case']}")
            else:
                for w in e.get("contains", []):
                    if w.lower() not in body:
                        errs.append(f"{rid}: {w!r} not in {e['case']}'s letter")
    return errs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="write or check the dev3 question bank")
    ap.add_argument("--check", action="store_true", help="recompute and verify dev3.jsonl")
    args = ap.parse_args(argv)
    rows = build()
    if args.check:
        errs = check(rows)
        for e in errs:
            print("FAIL", e)
        c = Counter(r["intent"] for r in rows)
        t = Counter(r["expected"]["type"] for r in rows)
        print(f"{len(rows)} questions, {len(c)} intents; types {dict(sorted(t.items()))}")
        print("check:", "FAILED" if errs else "ok")
        return 1 if errs else 0
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} questions to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
