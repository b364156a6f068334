"""Held-out question bank: wordings written independently of the dev bank and of the tool.

    python -m evals.questionbank.heldout_generate            # writes heldout.jsonl from the gold
    python -m evals.questionbank.heldout_generate --check    # recompute + verify refs / absences

Every expectation is computed here from the gold records (evals/questionbank/gold.py), never from
the tool. Counting rules are those of README.md (letters = gold records with >= 1 item; items =
disputed items; "overturned" strict, the Texas partial overturn accepted either way; TODAY =
2017-06-30; open "since/after" periods also accept the reading clamped at TODAY).

Each question may carry "refs" (cases, families, absent-service regexes, ambiguity predicates)
that --check re-verifies against the gold and the letter texts.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from evals.questionbank import gold as g

HERE = Path(__file__).resolve().parent
OUT = HERE / "heldout.jsonl"
TODAY = g.TODAY
T = TODAY.isoformat()

NOTE = ("letters = gold records with >=1 item; items = disputed items; overturned strict, Texas "
        "partial accepted either way; TODAY=2017-06-30")

# extra service families (regex on lower-cased gold service), used alongside gold.FAMILIES
XFAM = {
    "x-ray": r"x-ray",
    "shoulder": r"shoulder",
    "knee": r"knee",
    "lumbar": r"lumb",
    "hospital bed": r"hospital bed",
    "semi-electric bed": r"hospital bed, semi-electric",
    "oxycodone": r"oxycodone",
    "baclofen": r"baclofen",
    "wheelchair": r"wheelchair",
    "bankart": r"bankart",
    "transportation": r"transportation",
    "cold therapy": r"cold therapy",
    "sling": r"sling",
    "brace": r"orthosis|brace",
    "ncv/emg": r"\bemg\b|\bncv\b|\bncs\b",
    "lidoderm": r"lidoderm",
    "percocet": r"percocet",
    "cymbalta": r"cymbalta",
    "naproxen": r"naproxen",
    "omeprazole": r"omeprazole|prilosec",
    "topical": r"cream|gel|lotion|patch|ointment",
}

Q: list[dict] = []


# ---------------------------------------------------------------- helpers

def rx_items(rx: str, pool=None):
    p = re.compile(rx)
    return [it for it in (g.items() if pool is None else pool) if p.search(it.s)]


def fam(name: str, pool=None, alt=False):
    if name in g.FAMILIES:
        return g.fam_items(name, alt=alt, pool=pool)
    return rx_items(XFAM[name], pool)


def fam_variants(name: str, pool=None):
    """The item lists of both readings of a family (same list twice when it has no alternative)."""
    return [fam(name, pool), fam(name, pool, alt=True)]


def L_of(items):
    seen, out = set(), []
    for it in items:
        if id(it.letter) not in seen:
            seen.add(id(it.letter))
            out.append(it.letter)
    return out


def items_of(ls):
    return [it for L in ls for it in L.items]


def period(start=None, end=None, field="decision_date", ls=None):
    return [L for L in (g.letters() if ls is None else ls) if g.in_period(L, start, end, field)]


def open_period(start, field="decision_date"):
    """(unclamped, clamped at TODAY) readings of 'since start'."""
    return period(start, None, field), period(start, T, field)


def cased(ls):
    return sorted({L.case_number for L in ls if L.case_number})


def uncased(ls):
    return sorted(L.source_file for L in ls if not L.case_number)


def dev():
    return [L for L in g.letters() if L.dev]


def specs(L):
    return g.specialties(L)


def add(intent, question, expected, refs=None, notes=NOTE):
    Q.append({"id": f"ho{len(Q) + 1:04d}", "intent": intent, "question": question, "expected": expected,
              "notes": notes, "refs": refs or {}})


def num(vals, share=False, tol=None, unit=None):
    if not isinstance(vals, (list, tuple, set)):
        vals = [vals]
    vals = sorted({round(float(v), 4) for v in vals})
    e = {"type": "number", "value": vals[0]}
    if len(vals) > 1:
        e["accept_values"] = vals
    if share:
        e["share"] = True
        e["tolerance"] = 0.011
    if tol is not None:
        e["tolerance"] = tol
    if unit:
        e["unit"] = unit
    return e


def cnt_outcome(pools, outcome):
    vals = set()
    for p in pools:
        vals.update(g.count_outcome(p, outcome))
    return sorted(vals)


def rate_outcome(pools, outcome):
    vals = set()
    for p in pools:
        vals.update(g.rate_outcome(p, outcome))
    return sorted(vals)


def cases_e(ls_variants):
    if not isinstance(ls_variants[0], list) and ls_variants and hasattr(ls_variants[0], "items"):
        ls_variants = [ls_variants]
    sets = []
    for ls in ls_variants:
        s = cased(ls)
        if s not in sets:
            sets.append(s)
    e = {"type": "cases", "value": sets[0]}
    if len(sets) > 1:
        e["accept_sets"] = sets[1:]
    un = sorted({f for ls in ls_variants for f in uncased(ls)})
    if un:
        e["uncased"] = un
    return e


def cases_of(ls):
    return cases_e([ls])


def text(accept, all_=False, counts=None):
    e = {"type": "text", "accept": list(accept)}
    if all_:
        e["all"] = True
    if counts is not None:
        e["counts"] = sorted(set(counts))
    return e


def outcome_e(it):
    return {"type": "text", "value": it.determination, "accept": [it.determination]}


def date_e(d):
    return {"type": "date", "value": d}


def bool_e(v, outcome_true=None):
    e = {"type": "bool", "value": bool(v)}
    if outcome_true:
        e["outcome_true"] = outcome_true
    return e


def rank_e(counter, top, ordered=True, accept=None, ascending=False):
    if ascending:
        rows = sorted(counter.items(), key=lambda kv: (kv[1], kv[0].lower()))
        rows = [[k, v] for k, v in rows]
    else:
        rows = g.ranking(counter)
    e = {"type": "ranking", "value": rows, "top": top, "ordered": ordered}
    if accept:
        e["accept"] = accept
    return e


def none_e():
    return {"type": "none_found"}


def passage_e(case, contains):
    return {"type": "passage", "case": case, "contains": contains}


def clarify_e():
    return {"type": "clarify"}


def one(ls):
    assert len(ls) == 1, [L.label for L in ls]
    return ls[0]


def item_in(case, rx):
    L = g.by_case(case)
    hits = [it for it in L.items if re.search(rx, it.s)]
    assert len(hits) == 1, (case, rx, [h.service for h in hits])
    return hits[0]


def d(s):
    return date.fromisoformat(s)


def mean(xs):
    return round(sum(xs) / len(xs), 3)


def gaps(a, b, ls=None):
    return [g.days_between(L.dates[a], L.dates[b]) for L in (g.letters() if ls is None else ls)
            if L.dates.get(a) and L.dates.get(b)]


def unique_max(ls, key):
    vals = [(key(L), L) for L in ls if key(L) is not None]
    best = max(v for v, _ in vals)
    w = [L for v, L in vals if v == best]
    assert len(w) == 1, [L.label for L in w]
    return w[0], best


def unique_min(ls, key):
    vals = [(key(L), L) for L in ls if key(L) is not None]
    best = min(v for v, _ in vals)
    w = [L for v, L in vals if v == best]
    assert len(w) == 1, [L.label for L in w]
    return w[0], best


MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december"]


def month_accept(key):
    y, m = key.split("-")
    name = MONTH_NAMES[int(m) - 1]
    return [f"{name} {y}", f"{name[:3]} {y}", key, f"{int(m)}/{y}", f"{name}, {y}"]


# ---------------------------------------------------------------- the questions

def build():
    Q.clear()
    I = g.items()
    LS = g.letters()
    DEV = dev()

    # ------------------------------------------------ count_outcome_service
    co = "count_outcome_service"
    for q, f, o in [
        ("how many mri requests ended up overturned", "MRI", "overturned"),
        ("# of PT denials that IMR upheld", "physical therapy", "upheld"),
        ("acupunture - how many upheld", "acupuncture", "upheld"),
        ("xrays: how many got approved at imr", "x-ray", "overturned"),
        ("count of epidural injections the reviewer reversed", "epidural steroid injection", "overturned"),
        ("norco upheld count", "Norco", "upheld"),
        ("how many tramadol denials stood", "tramadol", "upheld"),
        ("lidocaine/lidoderm patches overturned, how many", "lidocaine", "overturned"),
        ("how many times did IMR overturn a tens unit denial", "TENS unit", "overturned"),
        ("chiro requests upheld - number", "chiropractic", "upheld"),
        ("n of emg studies upheld", "EMG", "upheld"),
        ("hospital beds overturned?? how many", "hospital bed", "overturned"),
        ("how many shoulder MRIs were flipped in the worker's favor", "shoulder MRI", "overturned"),
        ("lumbar mri upheld tally", "lumbar MRI", "upheld"),
        ("number of FCEs denied again on review", "functional capacity evaluation", "upheld"),
        ("flexeril/cyclobenzeprine, how many kept denied", "cyclobenzaprine", "upheld"),
        ("how many physcial therapy requests did the IMR reviewers approve", "physical therapy", "overturned"),
        ("total cervical mri overturns", "cervical MRI", "overturned"),
    ]:
        add(co, q, num(cnt_outcome(fam_variants(f), o)), {"families": [f]})

    # ------------------------------------------------ count_outcome_category
    cc = "count_outcome_category"
    for q, cat, o in [
        ("how many meds got overturned", "medication", "overturned"),
        ("imaging studies upheld - count", "imaging", "upheld"),
        ("surgeries approved on IMR: how many", "surgery", "overturned"),
        ("durable medical equipment reversals #", "DME", "overturned"),
        ("how many injection requests were upheld", "injection", "upheld"),
        ("therapy requests overturned, total", "therapy", "overturned"),
        ("total number of denied drug requests that stayed denied", "medication", "upheld"),
        ("how many dme items did they uphold", "DME", "upheld"),
        ("surgical requests upheld how many", "surgery", "upheld"),
        ("overturned imaging count pls", "imaging", "overturned"),
        ("how many injections did imr overturn", "injection", "overturned"),
        ("pharmacy / medication denials upheld vs total? just the upheld number", "medication", "upheld"),
        ("therapy items upheld count", "therapy", "upheld"),
        ("number of equipment requests (DME) in the library", "DME", None),
    ]:
        pool = [it for it in I if it.category == cat]
        vals = [len(pool)] if o is None else g.count_outcome(pool, o)
        add(cc, q, num(vals), {"category": cat})

    # ------------------------------------------------ count_outcome_period
    cp = "count_outcome_period"
    for q, s, e_, o, fld in [
        ("overturned requests in feb 2017", "2017-02-01", "2017-02-28", "overturned", "decision_date"),
        ("how many items were upheld in january 2017", "2017-01-01", "2017-01-31", "upheld", "decision_date"),
        ("upheld treatments decided between 1/15/17 and 2/5/17", "2017-01-15", "2017-02-05", "upheld", "decision_date"),
        ("overturns in 2023", "2023-01-01", "2023-12-31", "overturned", "decision_date"),
        ("how many requests were overturned during 2022", "2022-01-01", "2022-12-31", "overturned", "decision_date"),
        ("upheld count for decisions dated feb 1-14 2017", "2017-02-01", "2017-02-14", "upheld", "decision_date"),
        ("how many denials were upheld in decisions before 2020", None, "2019-12-31", "upheld", "decision_date"),
        ("for workers injured in 2022 how many items got overturned", "2022-01-01", "2022-12-31", "overturned", "date_of_injury"),
        ("items upheld where UR denied in dec 2016", "2016-12-01", "2016-12-31", "upheld", "ur_denial_date"),
        ("reversals in Q1 2017", "2017-01-01", "2017-03-31", "overturned", "decision_date"),
        ("overturned items decided 2/6/2017 through 2/12/2017", "2017-02-06", "2017-02-12", "overturned", "decision_date"),
        ("how many requests were upheld in 2024", "2024-01-01", "2024-12-31", "upheld", "decision_date"),
        ("upheld items for apps received in jan '17", "2017-01-01", "2017-01-31", "upheld", "application_received"),
        ("overturned count, cases assigned dec 2016", "2016-12-01", "2016-12-31", "overturned", "date_assigned"),
        ("how many items were overturned in the second half of 2023", "2023-07-01", "2023-12-31", "overturned", "decision_date"),
        ("upheld in march 2017?? count", "2017-03-01", "2017-03-31", "upheld", "decision_date"),
    ]:
        pool = items_of(period(s, e_, fld))
        add(cp, q, num(g.count_outcome(pool, o)))
    a, b = open_period("2017-02-01")
    add(cp, "how many items were overturned for letters decided after jan 31 2017",
        num(g.count_outcome(items_of(a), "overturned") + g.count_outcome(items_of(b), "overturned")))
    a, b = open_period("2022-01-01")
    add(cp, "upheld requests since jan 1 2022",
        num(g.count_outcome(items_of(a), "upheld") + g.count_outcome(items_of(b), "upheld")))

    # ------------------------------------------------ rate_service
    rs = "rate_service"
    for q, f, o in [
        ("what % of MRI requests get overturned", "MRI", "overturned"),
        ("overturn rate for physical therapy", "physical therapy", "overturned"),
        ("uphold rate on x-rays", "x-ray", "upheld"),
        ("pct of tens units approved", "TENS unit", "overturned"),
        ("norco - share upheld", "Norco", "upheld"),
        ("acupuncture: what fraction was overturned", "acupuncture", "overturned"),
        ("how often does IMR reverse hospital bed denials (percent)", "hospital bed", "overturned"),
        ("chiropractic overturn %", "chiropractic", "overturned"),
        ("rate at which lidocaine products are upheld", "lidocaine", "upheld"),
        ("epidurals - percent overturned", "epidural steroid injection", "overturned"),
        ("shoulder mri overturn rate", "shoulder MRI", "overturned"),
        ("tramadol uphold percentage", "tramadol", "upheld"),
        ("what share of emg requests survive the IMR (get overturned)", "EMG", "overturned"),
        ("what percentage of PT requests were upheld", "physical therapy", "upheld"),
        ("lumbar MRI approval rate", "lumbar MRI", "overturned"),
        ("cyclobenzaprine: % overturned", "cyclobenzaprine", "overturned"),
    ]:
        add(rs, q, num(rate_outcome(fam_variants(f), o), share=True), {"families": [f]})

    # ------------------------------------------------ rate_segment
    rg = "rate_segment"
    segs = [
        ("overall overturn rate", I, "overturned"),
        ("overturn rate for meds", [i for i in I if i.category == "medication"], "overturned"),
        ("what % of imaging requests were upheld", [i for i in I if i.category == "imaging"], "upheld"),
        ("surgery overturn rate", [i for i in I if i.category == "surgery"], "overturned"),
        ("DME - fraction overturned", [i for i in I if i.category == "DME"], "overturned"),
        ("how often were therapy requests overturned, as a %", [i for i in I if i.category == "therapy"], "overturned"),
        ("what percent of requests in the 2017 letters were overturned", items_of(DEV), "overturned"),
        ("overturn rate for decisions issued after 2020", items_of(period("2021-01-01", None)), "overturned"),
        ("texas IRO overturn rate", items_of([L for L in LS if L.letter_format == "tx_iro"]), "overturned"),
        ("expedited reviews: share of items overturned", items_of([L for L in LS if L.priority == "Expedited"]), "overturned"),
        ("overturn rate for female claimants", items_of([L for L in LS if L.sex == "female"]), "overturned"),
        ("male workers uphold rate", items_of([L for L in LS if L.sex == "male"]), "upheld"),
        ("overturn rate when an orthopedic surgeon reviewed", items_of([L for L in LS if "Orthopedic Surgery" in specs(L)]), "overturned"),
        ("overturn rate for claimants over 50", items_of([L for L in LS if L.age and L.age > 50]), "overturned"),
        ("what % of ODG-based items were overturned", [i for i in I if "ODG" in i.guidelines], "overturned"),
        ("uphold rate, injections", [i for i in I if i.category == "injection"], "upheld"),
        ("overturn rate in CA DWC letters", items_of([L for L in LS if L.letter_format == "ca_dwc_imr"]), "overturned"),
    ]
    for q, pool, o in segs:
        add(rg, q, num(g.rate_outcome(pool, o), share=True))
    some = [L for L in LS if any(i.overturned_loose for i in L.items)]
    some_s = [L for L in LS if any(i.overturned for i in L.items)]
    add(rg, "what share of letters had at least one item overturned",
        num([len(some) / len(LS), len(some_s) / len(LS)], share=True))

    # ------------------------------------------------ count_letters
    cl = "count_letters"
    for q, ls in [
        ("how many IMR decisions do we have", LS),
        ("# letters decided in jan 2017", period("2017-01-01", "2017-01-31")),
        ("how many cases from feb '17", period("2017-02-01", "2017-02-28")),
        ("count of determinations issued in 2023", period("2023-01-01", "2023-12-31")),
        ("number of cases with a UR denial in nov 2016", period("2016-11-01", "2016-11-30", "ur_denial_date")),
        ("how many texas iro letters", [L for L in LS if L.letter_format == "tx_iro"]),
        ("how many california dwc imr letters are loaded", [L for L in LS if L.letter_format == "ca_dwc_imr"]),
        ("how many claimants got hurt in october 2016", period("2016-10-01", "2016-10-31", "date_of_injury")),
        ("cases assigned to a reviewer in jan 2017 - how many", period("2017-01-01", "2017-01-31", "date_assigned")),
        ("applications received dec 2016 count", period("2016-12-01", "2016-12-31", "application_received")),
        ("how many decisions between 2/1/2017 and 2/15/2017", period("2017-02-01", "2017-02-15")),
        ("how many cases were decided before 2018", period(None, "2017-12-31")),
        ("how many letters dont show a decision date at all", [L for L in LS if not L.decision]),
        ("decisions in 2022 and 2023 combined", period("2022-01-01", "2023-12-31")),
        ("how many letters decided in 2021", period("2021-01-01", "2021-12-31")),
        ("how many cases had their IMR app received in 2023", period("2023-01-01", "2023-12-31", "application_received")),
        ("total decision letters with only 1 disputed item", [L for L in LS if len(L.items) == 1]),
    ]:
        add(cl, q, num(len(ls), unit="letters"))

    # ------------------------------------------------ cases_quantifier
    cq = "cases_quantifier"
    mixed = [L for L in LS if any(i.overturned_loose for i in L.items) and any(i.upheld for i in L.items)]
    for q, ls in [
        ("which cases had more than 5 disputed items", [L for L in LS if len(L.items) > 5]),
        ("cases with at least 2 overturned items", [L for L in LS if sum(i.overturned for i in L.items) >= 2]),
        ("letters where some items were overturned and some upheld", mixed),
        ("cases with 3+ meds in dispute", [L for L in LS if sum(i.category == "medication" for i in L.items) >= 3]),
        ("which cases had two or more MRIs", [L for L in LS if len(fam("MRI", L.items)) >= 2]),
        ("cases that had both PT and an MRI at issue", [L for L in LS if fam("MRI", L.items) and fam("physical therapy", L.items)]),
        ("letters where nothing was approved and exactly 2 items were disputed",
         [L for L in LS if len(L.items) == 2 and all(i.upheld for i in L.items)]),
        ("cases with exactly four requests", [L for L in LS if len(L.items) == 4]),
        ("which cases had no upheld items", [L for L in LS if not any(i.upheld for i in L.items)]),
        ("cases with at least one imaging and at least one medication item",
         [L for L in LS if any(i.category == "imaging" for i in L.items) and any(i.category == "medication" for i in L.items)]),
        ("show me cases with 3 or more overturned requests", [L for L in LS if sum(i.overturned for i in L.items) >= 3]),
        ("cases where more than half the items were overturned",
         [L for L in LS if sum(i.overturned for i in L.items) * 2 > len(L.items)]),
        ("cases w/ between 2 and 3 disputed items", [L for L in LS if 2 <= len(L.items) <= 3]),
    ]:
        add(cq, q, cases_of(ls))
    all_over = [L for L in LS if all(i.overturned for i in L.items)]
    all_over_l = [L for L in LS if all(i.overturned_loose for i in L.items)]
    add(cq, "cases where every request was overturned", cases_e([all_over, all_over_l]))
    only_up = [L for L in LS if all(i.upheld for i in L.items)]
    add(cq, "2017 cases where every single item was upheld", cases_of([L for L in only_up if L.dev]))

    # ------------------------------------------------ cases_service
    cs = "cases_service"
    for q, f in [
        ("which cases involve an mri", "MRI"),
        ("list cases w/ norco", "Norco"),
        ("cases that dealt with acupunture", "acupuncture"),
        ("which claims had a tens unti request", "TENS unit"),
        ("epidural cases?", "epidural steroid injection"),
        ("who asked for a hospital bed - case numbers", "hospital bed"),
        ("which files involve x rays", "x-ray"),
        ("cases that include home health aide services", "home health aide"),
        ("which letters disputed chiropractic care", "chiropractic"),
        ("cases w/ lidocaine patches or lidoderm", "lidocaine"),
        ("emg / ncv cases", "ncv/emg"),
        ("pantoprazole (protonix) cases", "Pantoprazole"),
        ("cyclobenzaprine cases", "cyclobenzaprine"),
        ("arthroscopy cases", "arthroscopy"),
        ("which cases had an FCE", "functional capacity evaluation"),
        ("any tramadol cases - list", "tramadol"),
        ("shoulder cases", "shoulder"),
        ("cases involving a wheelchair", "wheelchair"),
    ]:
        add(cs, q, cases_e([L_of(p) for p in fam_variants(f)]), {"families": [f]})
    add(cs, "which cases had a surgery request", cases_of(L_of([i for i in I if i.category == "surgery"])))
    add(cs, "cases with an injection in dispute", cases_of(L_of([i for i in I if i.category == "injection"])))

    # ------------------------------------------------ cases_period
    cpp = "cases_period"
    for q, ls in [
        ("which cases were decided in feb 2017", period("2017-02-01", "2017-02-28")),
        ("cases decided between jan 10 and jan 20 2017", period("2017-01-10", "2017-01-20")),
        ("list the cases decided in 2023", period("2023-01-01", "2023-12-31")),
        ("cases with injuries in nov 2016", period("2016-11-01", "2016-11-30", "date_of_injury")),
        ("cases where UR denied in jan 2017", period("2017-01-01", "2017-01-31", "ur_denial_date")),
        ("decided in the last week of jan 2017", period("2017-01-25", "2017-01-31")),
        ("cases decided in 2024", period("2024-01-01", "2024-12-31")),
        ("what was decided on 2/10/2017", period("2017-02-10", "2017-02-10")),
        ("apps received in the first week of jan 2017", period("2017-01-01", "2017-01-07", "application_received")),
        ("which decisions came out in q4 2022", period("2022-10-01", "2022-12-31")),
        ("cases with a DOI in dec 2016", period("2016-12-01", "2016-12-31", "date_of_injury")),
        ("cases decided on or before january 18, 2017", period(None, "2017-01-18")),
        ("cases assigned in feb 2017", period("2017-02-01", "2017-02-28", "date_assigned")),
        ("which cases were decided 2017-02-14", period("2017-02-14", "2017-02-14")),
    ]:
        add(cpp, q, cases_of(ls))
    a, b = open_period("2017-01-20", "date_assigned")
    add(cpp, "which cases were assigned after 1/19/2017", cases_e([a, b]))
    a, b = open_period("2017-02-15")
    add(cpp, "cases decided from feb 15 2017 onward", cases_e([a, b]))

    # ------------------------------------------------ case_date_field
    cd = "case_date_field"
    for q, case, fld in [
        ("when was CM17-0009840 decided", "CM17-0009840", "decision_date"),
        ("DOI on cm16-0240900", "CM16-0240900", "date_of_injury"),
        ("ur denial date for CM17-0005344", "CM17-0005344", "ur_denial_date"),
        ("date assigned cm17-0015790", "CM17-0015790", "date_assigned"),
        ("app received date, CM16-0247802", "CM16-0247802", "application_received"),
        ("decision dt 2024-99011", "2024-99011", "decision_date"),
        ("when did the worker in CM99-0000009 get hurt", "CM99-0000009", "date_of_injury"),
        ("CM99-0000002 - when was the IMR application received", "CM99-0000002", "application_received"),
        ("cm17-0021126 assigned to the reviewer on what date", "CM17-0021126", "date_assigned"),
        ("on what date did UR deny the request in CM16-0249735", "CM16-0249735", "ur_denial_date"),
        ("decision date of CM99-0000007", "CM99-0000007", "decision_date"),
        ("injury date for CM17-0009883", "CM17-0009883", "date_of_injury"),
        ("when did maximus get the application in CM17-0009996", "CM17-0009996", "application_received"),
        ("CM16-0243394 date of the final determination", "CM16-0243394", "decision_date"),
        ("when was the 2024-99010 IRO decision", "2024-99010", "decision_date"),
        ("cm16-0232543 doi", "CM16-0232543", "date_of_injury"),
        ("what day was CM99-0000004 assigned", "CM99-0000004", "date_assigned"),
        ("UR non-cert date cm99-0000005", "CM99-0000005", "ur_denial_date"),
    ]:
        L = g.by_case(case)
        assert L.dates[fld], (case, fld)
        add(cd, q, date_e(L.dates[fld]), {"cases": [case]})
    for q, f, fld in [
        ("bankart repair case - decided when", "bankart", "decision_date"),
        ("what date was the wheelchair case decided", "wheelchair", "decision_date"),
        ("carpal tunnel release IRO decision date", "carpal tunnel release", "decision_date"),
        ("the transportation to appointments case: date of injury?", "transportation", "date_of_injury"),
        ("when was the functional restoration program eval decided", "functional restoration program", "decision_date"),
        ("baclofen case ur denial date", "baclofen", "ur_denial_date"),
    ]:
        L = one(L_of(fam(f)))
        add(cd, q, date_e(L.dates[fld]), {"families": [f], "unique_family": f})

    # ------------------------------------------------ case_clarify
    ck = "case_clarify"
    for q, pred in [
        ("when was the MRI one decided", lambda L: bool(fam("MRI", L.items))),
        ("what happened with the norco", lambda L: bool(fam("Norco", L.items))),
        ("shoulder mri - upheld?", lambda L: bool(fam("shoulder MRI", L.items))),
        ("how old was the patient in the tramadol case", lambda L: bool(fam("tramadol", L.items))),
        ("who reviewed the hospital bed case", lambda L: bool(fam("hospital bed", L.items))),
        ("DOI for the lidoderm claimant", lambda L: bool(fam("lidoderm", L.items))),
        ("the 28 y/o - what got denied", lambda L: L.age == 28),
        ("what did they decide on the knee", lambda L: bool(fam("knee", L.items))),
        ("the family practice reviewer's case, decision date", lambda L: "Family Practice" in specs(L)),
        ("what was decided in the home aide case", lambda L: bool(fam("home health aide", L.items))),
        ("ur denial date for the acupuncture claim", lambda L: bool(fam("acupuncture", L.items))),
        ("the pt case — how many sessions were asked for", lambda L: bool(fam("physical therapy", L.items))),
        ("the texas one, was it overturned", lambda L: L.letter_format == "tx_iro"),
        ("what was the outcome for the female worker", lambda L: L.sex == "female"),
        ("epidural case - reviewer specialty", lambda L: bool(fam("epidural steroid injection", L.items))),
        ("the one from feb 10 2017 - what was requested", lambda L: L.decision == "2017-02-10"),
    ]:
        n = len([L for L in LS if pred(L)])
        assert n >= 2, q
        add(ck, q, clarify_e(), {"ambiguous_n": n})
    for q in ["and the other one?", "what about the second case", "same question for that one",
              "and when was it decided"]:
        add(ck, q, clarify_e(), {"ambiguous_n": len(LS)})

    # ------------------------------------------------ case_outcome_service
    cos = "case_outcome_service"
    for q, case, rx in [
        ("was the TENS in CM17-0006634 approved", "CM17-0006634", r"\btens\b"),
        ("CM99-0000001 tens unit outcome", "CM99-0000001", r"\btens\b"),
        ("what happened to the lyrica in cm99-0000001", "CM99-0000001", r"lyrica"),
        ("CM16-0246487 percocet decision", "CM16-0246487", r"percocet"),
        ("did IMR approve the shoulder mri in CM17-0009840", "CM17-0009840", r"shoulder"),
        ("cm99-0000006 aquatic therapy result", "CM99-0000006", r"aquatic"),
        ("outcome on the urine drug screen, CM99-0000006", "CM99-0000006", r"urine drug"),
        ("CM99-0000004 gabapentin: upheld or overturned", "CM99-0000004", r"gabapentin"),
        ("2024-99011 cervical mri - what did the IRO decide", "2024-99011", r"mri"),
        ("CM16-0247802 spine surgery eval result", "CM16-0247802", r"spine surgery"),
        ("cbt in CM99-0000007?", "CM99-0000007", r"cognitive"),
        ("CM99-0000007 norco - determination", "CM99-0000007", r"norco"),
        ("medial branch blocks CM99-0000009 outcome", "CM99-0000009", r"medial branch"),
        ("was the LSO brace in CM99-0000009 approved or denied", "CM99-0000009", r"orthosis"),
        ("CM16-0248698 acupuncture — final call", "CM16-0248698", r"acupuncture"),
        ("oxycodone in CM99-0000002, upheld?", "CM99-0000002", r"oxycodone"),
        ("CM99-0000005 FRP evaluation result", "CM99-0000005", r"functional restoration"),
        ("the cold therapy in CM16-0246487 — approved?", "CM16-0246487", r"cold therapy"),
        ("CM17-0008519 lumbar mri decision", "CM17-0008519", r"mri"),
        ("what did IMR do with the hip MRI in CM16-0248655", "CM16-0248655", r"hip"),
        ("CM99-0000008 wheelchair rental outcome", "CM99-0000008", r"wheelchair"),
    ]:
        it = item_in(case, rx)
        add(cos, q, outcome_e(it), {"cases": [case]})

    # ------------------------------------------------ case_item_count
    ci = "case_item_count"
    for q, case, pred in [
        ("how many items in CM16-0248698", "CM16-0248698", None),
        ("# of disputed services cm99-0000006", "CM99-0000006", None),
        ("how many treatments were at issue in CM17-0005344", "CM17-0005344", None),
        ("count of requests, CM16-0247274", "CM16-0247274", None),
        ("how many things did they rule on in CM16-0232543", "CM16-0232543", None),
        ("how many meds were disputed in CM16-0248698", "CM16-0248698", lambda i: i.category == "medication"),
        ("number of overturned items in CM99-0000006", "CM99-0000006", lambda i: i.overturned),
        ("how many items upheld in CM16-0246487", "CM16-0246487", lambda i: i.upheld),
        ("imaging requests in cm16-0248698 - how many", "CM16-0248698", lambda i: i.category == "imaging"),
        ("CM17-0006634 number of items", "CM17-0006634", None),
        ("CM99-0000008 how many requests", "CM99-0000008", None),
        ("how many issues in 2024-99010", "2024-99010", None),
        ("how many separate decisions were in CM16-0247802", "CM16-0247802", None),
        ("how many MRIs were requested in CM16-0248698", "CM16-0248698", lambda i: bool(fam("MRI", [i]))),
        ("CM99-0000002: number of items overturned", "CM99-0000002", lambda i: i.overturned),
        ("how many x-rays in CM16-0232543", "CM16-0232543", lambda i: bool(fam("x-ray", [i]))),
        ("how many disputed items did CM17-0015790 have", "CM17-0015790", None),
        ("cm17-0008633 item count", "CM17-0008633", None),
    ]:
        L = g.by_case(case)
        n = len(L.items) if pred is None else sum(1 for i in L.items if pred(i))
        add(ci, q, num(n), {"cases": [case]})

    # ------------------------------------------------ case_reviewer
    cr = "case_reviewer"
    for q, case in [
        ("what specialty was the reviewer on CM17-0009840", "CM17-0009840"),
        ("reviewer specialty cm16-0246487", "CM16-0246487"),
        ("what kind of doctor reviewed CM17-0009883", "CM17-0009883"),
        ("2024-99011 reviewer's specialty", "2024-99011"),
        ("who (specialty) did the review on CM16-0239607", "CM16-0239607"),
        ("board cert of the expert reviewer, CM99-0000009", "CM99-0000009"),
        ("CM16-0249735 reviewer background", "CM16-0249735"),
        ("what was the reviewing physician's specialty for CM99-0000004", "CM99-0000004"),
    ]:
        L = g.by_case(case)
        add(cr, q, text(specs(L)), {"cases": [case]})
    for q, case in [
        ("which states is the reviewer in CM16-0232543 licensed in", "CM16-0232543"),
        ("licensure for the reviewer of CM99-0000009", "CM99-0000009"),
        ("CM16-0246487 reviewer's state licenses", "CM16-0246487"),
        ("where is the CM16-0240900 reviewer licensed", "CM16-0240900"),
    ]:
        L = g.by_case(case)
        add(cr, q, text(L.licensure, all_=True), {"cases": [case]})
    for q, case, pred in [
        ("was the reviewer in CM17-0008519 a pain mgmt doc", "CM17-0008519", lambda L: "Pain Management" in specs(L)),
        ("is the CM17-0010728 reviewer licensed in california", "CM17-0010728", lambda L: "California" in L.licensure),
        ("was the reviewer in CM16-0240900 licensed in CA", "CM16-0240900", lambda L: "California" in L.licensure),
        ("did an orthopedic surgeon review CM16-0247274", "CM16-0247274", lambda L: "Orthopedic Surgery" in specs(L)),
        ("was CM17-0009887 reviewed by an internist", "CM17-0009887", lambda L: "Internal Medicine" in specs(L)),
        ("CM16-0243394 - reviewer licensed in more than one state?", "CM16-0243394", lambda L: len(L.licensure) > 1),
    ]:
        L = g.by_case(case)
        add(cr, q, bool_e(pred(L)), {"cases": [case]})
    for q, case in [("how many states is the CM16-0246487 reviewer licensed in", "CM16-0246487"),
                    ("number of licensure states, reviewer of CM16-0245295", "CM16-0245295")]:
        add(cr, q, num(len(g.by_case(case).licensure)), {"cases": [case]})

    # ------------------------------------------------ case_patient
    cpt = "case_patient"
    for q, case in [
        ("how old was the IW in CM16-0232543", "CM16-0232543"),
        ("age of claimant cm17-0009996", "CM17-0009996"),
        ("CM99-0000008 patient age", "CM99-0000008"),
        ("how old is the injured worker in 2024-99010", "2024-99010"),
        ("pt age CM17-0009883", "CM17-0009883"),
        ("age, CM16-0248698 applicant", "CM16-0248698"),
        ("what age was the employee in CM99-0000005", "CM99-0000005"),
        ("CM17-0021126 how old", "CM17-0021126"),
        ("how old was the claimant in cm16-0247802", "CM16-0247802"),
        ("age of the worker - CM99-0000001", "CM99-0000001"),
    ]:
        L = g.by_case(case)
        assert L.age is not None
        add(cpt, q, num(L.age), {"cases": [case]})
    for q, case in [
        ("gender of the patient in CM16-0237163", "CM16-0237163"),
        ("sex of claimant, CM17-0009887", "CM17-0009887"),
        ("CM99-0000007 - male or female IW", "CM99-0000007"),
        ("is the worker in CM16-0248655 a man or a woman", "CM16-0248655"),
    ]:
        L = g.by_case(case)
        assert L.sex == "female"
        add(cpt, q, text(["female", "woman"]), {"cases": [case]})
    for q, case, want in [
        ("was the patient in CM16-0239607 a woman", "CM16-0239607", "female"),
        ("is the claimant in CM17-0009840 male", "CM17-0009840", "male"),
        ("CM99-0000006 - female claimant?", "CM99-0000006", "female"),
        ("was the injured worker in CM16-0240900 female", "CM16-0240900", "female"),
        ("male IW in CM17-0015790?", "CM17-0015790", "male"),
    ]:
        L = g.by_case(case)
        add(cpt, q, bool_e(L.sex == want), {"cases": [case]})
    for q, case, thr in [("was the CM16-0245295 worker under 30", "CM16-0245295", 30),
                         ("is the patient in CM17-0003591 younger than 50", "CM17-0003591", 50)]:
        L = g.by_case(case)
        add(cpt, q, bool_e(L.age < thr), {"cases": [case]})
    L = one(L_of(fam("semi-electric bed")))
    add(cpt, "how old was the IW in the semi-electric hospital bed case", num(L.age), {"unique_family": "semi-electric bed"})

    # ------------------------------------------------ priority
    pr = "priority"
    exp = [L for L in LS if L.priority == "Expedited"]
    std = [L for L in LS if L.priority == "Standard"]
    add(pr, "how many expedited reviews", num(len(exp), unit="letters"))
    add(pr, "which cases were expedited", cases_of(exp))
    add(pr, "priority of CM17-0009996", text([g.by_case("CM17-0009996").priority]), {"cases": ["CM17-0009996"]})
    add(pr, "were any of the 2017 decisions expedited", bool_e(any(L.priority == "Expedited" for L in DEV)))
    add(pr, "how many standard priority letters", num(len(std), unit="letters"))
    add(pr, "was CM99-0000008 an expedited review", bool_e(g.by_case("CM99-0000008").priority == "Expedited"), {"cases": ["CM99-0000008"]})
    add(pr, "urgent/expedited cases - list em", cases_of(exp))
    add(pr, "CM16-0246487 standard or expedited", text([g.by_case("CM16-0246487").priority]), {"cases": ["CM16-0246487"]})
    E = one(exp)
    add(pr, "when was the expedited one decided", date_e(E.decision))
    add(pr, "the expedited case: days from application received to decision",
        num(g.days_between(E.dates["application_received"], E.decision), tol=0.6))
    add(pr, "what share of letters were expedited",
        num([len(exp) / len(LS), len(exp) / len([L for L in LS if L.priority])], share=True))
    add(pr, "how many items were in expedited reviews", num(len(items_of(exp))))
    add(pr, "expedited reviews overturned items count", num(g.count_outcome(items_of(exp), "overturned")))
    add(pr, "is CM99-0000001 expedited", bool_e(g.by_case("CM99-0000001").priority == "Expedited"), {"cases": ["CM99-0000001"]})
    add(pr, "any expedited review where the hospital bed was overturned",
        bool_e(any(i.overturned for i in fam("hospital bed", items_of(exp)))))

    # ------------------------------------------------ duration_avg
    da = "duration_avg"
    for q, a_, b_, ls in [
        ("avg days from UR denial to IMR decision", "ur_denial_date", "decision_date", None),
        ("mean time between application received and decision (days)", "application_received", "decision_date", None),
        ("average turnaround from assignment to decision", "date_assigned", "decision_date", None),
        ("on average how many days between injury and the IMR decision", "date_of_injury", "decision_date", None),
        ("avg days DOI -> UR denial", "date_of_injury", "ur_denial_date", None),
        ("mean days from application to assignment", "application_received", "date_assigned", None),
        ("avg lag between ur denial and the imr application", "ur_denial_date", "application_received", None),
        ("for the 2017 letters avg days assigned to decided", "date_assigned", "decision_date", DEV),
        ("average days ur denial to decision for cases with something overturned", "ur_denial_date", "decision_date",
         [L for L in LS if any(i.overturned for i in L.items)]),
        ("avg assignment-to-decision time for MRI cases", "date_assigned", "decision_date", L_of(fam("MRI"))),
        ("how long on average from injury to ur denial for female claimants", "date_of_injury", "ur_denial_date",
         [L for L in LS if L.sex == "female"]),
        ("avg days from app receipt to decision in 2023 decisions", "application_received", "decision_date",
         period("2023-01-01", "2023-12-31")),
    ]:
        add(da, q, num(mean(gaps(a_, b_, ls)), tol=0.6))
    add(da, "median days from application to decision",
        num(statistics.median(gaps("application_received", "decision_date")), tol=0.6))
    add(da, "typical (median) time ur denial -> decision, days",
        num(statistics.median(gaps("ur_denial_date", "decision_date")), tol=0.6))

    # ------------------------------------------------ duration_case
    dc = "duration_case"
    for q, case, a_, b_ in [
        ("how many days between DOI and decision in CM16-0232543", "CM16-0232543", "date_of_injury", "decision_date"),
        ("days from UR denial to decision, cm17-0009840", "CM17-0009840", "ur_denial_date", "decision_date"),
        ("how long did CM99-0000002 take from application to decision", "CM99-0000002", "application_received", "decision_date"),
        ("days from injury to IMR decision in CM99-0000009", "CM99-0000009", "date_of_injury", "decision_date"),
        ("time from assignment to decision cm17-0021126", "CM17-0021126", "date_assigned", "decision_date"),
        ("how many days after the injury was UR's denial in CM17-0009996", "CM17-0009996", "date_of_injury", "ur_denial_date"),
        ("days between app received and assignment, CM16-0248655", "CM16-0248655", "application_received", "date_assigned"),
        ("how long did the worker in CM16-0247274 wait from ur denial to imr application", "CM16-0247274", "ur_denial_date", "application_received"),
        ("CM99-0000006 - number of days assigned->decided", "CM99-0000006", "date_assigned", "decision_date"),
        ("elapsed days injury to UR denial CM17-0005344", "CM17-0005344", "date_of_injury", "ur_denial_date"),
        ("days between the DOI and the application in CM99-0000004", "CM99-0000004", "date_of_injury", "application_received"),
        ("from UR denial to final IMR, how many days for CM16-0248698", "CM16-0248698", "ur_denial_date", "decision_date"),
        ("how many days did maximus take on CM17-0003591 (received to decided)", "CM17-0003591", "application_received", "decision_date"),
        ("turnaround in days for CM99-0000001 from assignment", "CM99-0000001", "date_assigned", "decision_date"),
    ]:
        L = g.by_case(case)
        add(dc, q, num(g.days_between(L.dates[a_], L.dates[b_]), tol=0.6), {"cases": [case]})
    wk = [L for L in DEV if g.days_between(L.dates["ur_denial_date"], L.decision) % 7 == 0]
    L = wk[0]
    add(dc, f"how many weeks from ur denial to decision in {L.case_number}",
        num(g.days_between(L.dates["ur_denial_date"], L.decision) / 7, tol=0.15), {"cases": [L.case_number]})

    # ------------------------------------------------ extremes
    ex = "extremes"
    W, _ = unique_max(LS, lambda L: len(L.items))
    add(ex, "which case had the most disputed items", text([W.case_number]), {"cases": [W.case_number]})
    W, _ = unique_max(LS, lambda L: L.age)
    add(ex, "oldest claimant - which case", text([W.case_number]), {"cases": [W.case_number]})
    W, _ = unique_min(LS, lambda L: L.age)
    add(ex, "youngest IW, case #", text([W.case_number]), {"cases": [W.case_number]})
    W, _ = unique_min(LS, lambda L: L.decision)
    add(ex, "earliest decision in the library - which case", text([W.case_number]), {"cases": [W.case_number]})
    W, _ = unique_max(DEV, lambda L: L.decision)
    add(ex, "most recent of the 2017 decisions", text([W.case_number]), {"cases": [W.case_number]})
    W, _ = unique_max(LS, lambda L: g.days_between(L.dates["date_of_injury"], L.decision) if L.dates["date_of_injury"] and L.decision else None)
    add(ex, "longest gap between injury and imr decision", text([W.case_number]))
    W, _ = unique_min(LS, lambda L: g.days_between(L.dates["ur_denial_date"], L.decision) if L.dates["ur_denial_date"] and L.decision else None)
    add(ex, "fastest from ur denial to decision", text([W.case_number]))
    span = {L.case_number: g.days_between(L.dates["application_received"], L.decision) for L in DEV}
    tied = sorted(c for c, v in span.items() if v == max(span.values()))  # a tie: naming either is right
    add(ex, "which 2017 case took the longest from application to decision", text(tied))
    W, _ = unique_max(LS, lambda L: sum(i.overturned for i in L.items))
    add(ex, "case with the most overturned items", text([W.case_number]))
    W, _ = unique_min(LS, lambda L: L.dates["date_of_injury"])
    add(ex, "whose injury is the oldest (earliest DOI)", text([W.case_number]))
    W, _ = unique_max(LS, lambda L: sum(i.category == "medication" for i in L.items))
    add(ex, "which case had the most meds in dispute", text([W.case_number]))
    _, v = unique_max(LS, lambda L: L.age)
    add(ex, "how old was the oldest patient", num(v))
    W, v = unique_min([L for L in LS if L.sex == "female"], lambda L: L.age)
    add(ex, "youngest female claimant's age", num(v))
    _, v = unique_max(LS, lambda L: len(L.items))
    add(ex, "max number of items in one letter", num(v))
    ml = max(len(L.licensure) for L in LS)
    # ties expected for licensure: ask only the number
    add(ex, "most states any single reviewer was licensed in", num(ml))
    v = max(g.days_between(L.dates["date_assigned"], L.decision) for L in DEV)  # a number: ties do not matter
    add(ex, "longest assignment to decision stretch among 2017 letters, in days", num(v, tol=0.6))

    # ------------------------------------------------ rank_services
    rk = "rank_services"
    acc = {lab: list(g.FAMILIES[lab][2]) for lab in g.FAMILIES}
    acc["lidocaine"] = list(g.FAMILIES["lidocaine"][2])
    acc["pantoprazole"] = ["pantoprazole", "protonix"]
    allc = Counter(g.rank_label(i) for i in I)
    add(rk, "top 3 most disputed services", rank_e(allc, 3, accept=acc))
    add(rk, "most common treatment requested", rank_e(allc, 1, accept=acc))
    add(rk, "top four services by # of requests", rank_e(allc, 4, accept=acc))
    add(rk, "which imaging service got overturned most often",
        rank_e(Counter(g.rank_label(i) for i in I if i.overturned and i.category == "imaging"), 1, accept=acc))
    add(rk, "rank the most frequently upheld services in the 2017 letters, top 3",
        rank_e(Counter(g.rank_label(i) for i in items_of(DEV) if i.upheld), 3, accept=acc))
    add(rk, "most requested medication", rank_e(Counter(g.rank_label(i) for i in I if i.category == "medication"), 1, accept=acc))
    add(rk, "what imaging gets disputed most, top 2", rank_e(Counter(g.rank_label(i) for i in I if i.category == "imaging"), 2, accept=acc))
    add(rk, "most common therapy request", rank_e(Counter(g.rank_label(i) for i in I if i.category == "therapy"), 1, accept=acc))
    add(rk, "in the 2017 letters which 2 services came up most", rank_e(Counter(g.rank_label(i) for i in items_of(DEV)), 2, accept=acc))
    add(rk, "leaderboard of disputed services (top 3) for the feb 2017 decisions",
        rank_e(Counter(g.rank_label(i) for i in items_of(period("2017-02-01", "2017-02-28"))), 3, accept=acc))
    add(rk, "which service is the most upheld one", rank_e(Counter(g.rank_label(i) for i in I if i.upheld), 1, accept=acc))
    add(rk, "what's disputed most often in letters reviewed by occ med",
        rank_e(Counter(g.rank_label(i) for i in items_of([L for L in LS if "Occupational Medicine" in specs(L)])), 1, accept=acc))
    # number of letters (not items) per service family
    lc = Counter()
    for L in LS:
        for lab in {g.rank_label(i) for i in L.items}:
            lc[lab] += 1
    add(rk, "which service shows up in the most cases (count cases not items)", rank_e(lc, 1, accept=acc))

    # ------------------------------------------------ rank_month
    rm = "rank_month"
    for q, fld, pool_fn in [
        ("which month had the most decisions", "decision_date", None),
        ("busiest month for imr applications received", "application_received", None),
        ("month with the most UR denials", "ur_denial_date", None),
        ("in which month did most injuries happen", "date_of_injury", None),
        ("month with most assignments to reviewers", "date_assigned", None),
        ("which month had the most overturned items", "decision_date", lambda L: sum(i.overturned for i in L.items)),
        ("which month had the most disputed items decided", "decision_date", lambda L: len(L.items)),
        ("month with the most upheld requests", "decision_date", lambda L: sum(i.upheld for i in L.items)),
    ]:
        c = Counter()
        for L in LS:
            if L.dates.get(fld):
                c[g.month_key(L.dates[fld])] += 1 if pool_fn is None else pool_fn(L)
        top = c.most_common()
        assert top[0][1] > top[1][1], (q, top[:3])
        add(rm, q, text(month_accept(top[0][0]), counts=[top[0][1]]))
    # quietest of the 2017 months
    c = Counter(g.month_key(L.decision) for L in DEV)
    lo = min(c.items(), key=lambda kv: kv[1])
    assert sorted(c.values()).count(lo[1]) == 1
    add(rm, "of the 2017 months, which was slower for decisions", text(month_accept(lo[0]), counts=[lo[1]]))

    # ------------------------------------------------ rank_specialty
    rsp = "rank_specialty"
    sc = Counter(p for L in LS for p in specs(L))
    whole = Counter(L.specialty.replace("&", "and").replace("Orthopaedic", "Orthopedic") for L in LS if L.specialty)
    topv = max(sc.values())
    wins = [k for k, v in sc.items() if v == topv]
    wv = max(whole.values())
    wwins = [k for k, v in whole.items() if v == wv]
    add(rsp, "what specialty shows up most among reviewers", text(wins + wwins, counts=[topv, wv]))
    add(rsp, "top 3 reviewer specialties by number of letters", rank_e(sc, 3))
    oc = Counter()
    for L in LS:
        for p in specs(L):
            oc[p] += sum(i.overturned for i in L.items)
    add(rsp, "which specialty overturned the most items", rank_e(oc, 1))
    dc_ = Counter(p for L in DEV for p in specs(L))
    add(rsp, "most common reviewer specialty in the 2017 letters", rank_e(dc_, 1))
    mc = Counter()
    for L in LS:
        for p in specs(L):
            mc[p] += sum(i.category == "medication" for i in L.items)
    add(rsp, "which specialty handled the most medication requests", rank_e(mc, 1))
    ic = Counter()
    for L in LS:
        for p in specs(L):
            ic[p] += len(L.items)
    add(rsp, "specialties ranked by number of disputed items, top 2", rank_e(ic, 2))
    add(rsp, "how many letters did family practice reviewers do vs orthopedic surgery",
        rank_e({"Family Practice": sc["Family Practice"], "Orthopedic Surgery": sc["Orthopedic Surgery"]}, 2, ordered=False))
    add(rsp, "rank specialties by letters reviewed (top 5)", rank_e(sc, 5))

    # ------------------------------------------------ rank_category
    rc = "rank_category"
    cat_acc = {"medication": ["medication", "drug", "pharm"], "imaging": ["imaging"], "therapy": ["therapy"],
               "other": ["other"], "DME": ["dme", "durable"], "surgery": ["surg"], "injection": ["inject"]}
    catc = Counter(i.category for i in I)
    add(rc, "rank categories by number of disputed items", rank_e(catc, 3, accept=cat_acc))
    add(rc, "which category was overturned most often", rank_e(Counter(i.category for i in I if i.overturned), 1, accept=cat_acc))
    rates = {k: round(sum(i.overturned for i in I if i.category == k) / v, 4) for k, v in catc.items()}
    add(rc, "category with the highest overturn rate", rank_e(rates, 1, accept=cat_acc))
    add(rc, "category w/ most upheld items", rank_e(Counter(i.category for i in I if i.upheld), 1, accept=cat_acc))
    add(rc, "least disputed categories, from the bottom (2)", rank_e(catc, 2, accept=cat_acc, ascending=True))
    add(rc, "what kind of request is disputed most in the 2017 letters",
        rank_e(Counter(i.category for i in items_of(DEV)), 1, accept=cat_acc))
    add(rc, "top 2 categories in letters decided after 2020",
        rank_e(Counter(i.category for i in items_of(period("2021-01-01", None))), 2, accept=cat_acc))
    urates = {k: round(sum(i.upheld for i in I if i.category == k) / v, 4) for k, v in catc.items()}
    add(rc, "category with the highest uphold rate", rank_e(urates, 1, accept=cat_acc))

    # ------------------------------------------------ compare
    cm = "compare"
    fam_acc = lambda *labs: {lab: g.FAMILIES[lab][2] if lab in g.FAMILIES else [lab] for lab in labs}
    add(cm, "2017 letters only: mri vs pt, how many of each were overturned",
        rank_e({"MRI": sum(i.overturned for i in fam("MRI", items_of(DEV))),
                "physical therapy": sum(i.overturned for i in fam("physical therapy", items_of(DEV)))},
               2, ordered=False, accept=fam_acc("MRI", "physical therapy")))
    add(cm, "norco vs tramadol, number of requests",
        rank_e({"Norco": len(fam("Norco")), "tramadol": len(fam("tramadol"))}, 2, ordered=False, accept=fam_acc("Norco", "tramadol")))
    add(cm, "overturn rate meds versus imaging",
        rank_e({"medication": g.rate_outcome([i for i in I if i.category == "medication"], "overturned")[0],
                "imaging": g.rate_outcome([i for i in I if i.category == "imaging"], "overturned")[0]}, 2, ordered=False, accept=cat_acc))
    add(cm, "2017 vs 2023 number of decisions",
        rank_e({"2017": len(period("2017-01-01", "2017-12-31")), "2023": len(period("2023-01-01", "2023-12-31"))}, 2, ordered=False))
    add(cm, "men vs women, number of cases",
        rank_e({"male": len([L for L in LS if L.sex == "male"]), "female": len([L for L in LS if L.sex == "female"])}, 2,
               ordered=False, accept={"male": ["men", "male"], "female": ["women", "female"]}))
    add(cm, "acupuncture vs tens: requests each",
        rank_e({"acupuncture": len(fam("acupuncture")), "TENS unit": len(fam("TENS unit"))}, 2, ordered=False,
               accept=fam_acc("acupuncture", "TENS unit")))
    add(cm, "MTUS vs ODG - how many items cite each",
        rank_e({"MTUS": sum("MTUS" in i.guidelines for i in I), "ODG": sum("ODG" in i.guidelines for i in I)}, 2, ordered=False))
    dI = items_of(DEV)
    add(cm, "in the 2017 letters upheld vs overturned count",
        rank_e({"upheld": sum(i.upheld for i in dI), "overturned": sum(i.overturned for i in dI)}, 2, ordered=False))
    add(cm, "jan vs feb 2017 decisions",
        rank_e({"January": len(period("2017-01-01", "2017-01-31")), "February": len(period("2017-02-01", "2017-02-28"))}, 2,
               ordered=False, accept={"January": ["jan"], "February": ["feb"]}))
    add(cm, "x-rays versus mris, total requests",
        rank_e({"X-ray": len(fam("x-ray")), "MRI": len(fam("MRI"))}, 2, ordered=False, accept=fam_acc("X-ray", "MRI")))
    add(cm, "imaging vs medication: overturned counts",
        rank_e({"imaging": sum(i.overturned for i in I if i.category == "imaging"),
                "medication": sum(i.overturned for i in I if i.category == "medication")}, 2, ordered=False, accept=cat_acc))
    add(cm, "surgery vs injection overturn rates",
        rank_e({"surgery": g.rate_outcome([i for i in I if i.category == "surgery"], "overturned")[0],
                "injection": g.rate_outcome([i for i in I if i.category == "injection"], "overturned")[0]}, 2, ordered=False,
               accept=cat_acc))
    add(cm, "lidocaine vs cyclobenzaprine request counts",
        rank_e({"lidocaine": len(fam("lidocaine")), "cyclobenzaprine": len(fam("cyclobenzaprine"))}, 2, ordered=False,
               accept=fam_acc("lidocaine", "cyclobenzaprine")))
    add(cm, "emg compared with nerve conduction studies, how many requests each",
        rank_e({"EMG": len(fam("EMG")), "nerve conduction study": len(fam("nerve conduction study"))}, 2, ordered=False,
               accept=fam_acc("EMG", "nerve conduction study")))

    # ------------------------------------------------ guideline
    gl = "guideline"
    add(gl, "how many items cited ODG", num(sum("ODG" in i.guidelines for i in I)))
    for q, case, rx in [
        ("what guideline was used for the hospital bed in CM17-0009996", "CM17-0009996", r"hospital bed"),
        ("guideline behind the shoulder mri decision in CM17-0009840", "CM17-0009840", r"shoulder"),
        ("CM16-0232543 pelvis xray - which guideline", "CM16-0232543", r"pelvis"),
        ("what did the reviewer rely on for the wheelchair in CM99-0000008", "CM99-0000008", r"wheelchair"),
        ("medial branch block CM99-0000009: mtus or odg?", "CM99-0000009", r"medial branch"),
    ]:
        it = item_in(case, rx)
        add(gl, q, text(it.guidelines, all_=True), {"cases": [case]})
    add(gl, "count of requests decided under ACOEM", num(sum("ACOEM" in i.guidelines for i in I)))
    add(gl, "how many items cited MTUS only (no other guideline)", num(sum(i.guidelines == ["MTUS"] for i in I)))
    add(gl, "any ACOEM-based decisions overturned", bool_e(any(i.overturned for i in I if "ACOEM" in i.guidelines)))
    add(gl, "which cases relied on ACOEM", cases_of(L_of([i for i in I if "ACOEM" in i.guidelines])))
    add(gl, "was ODG cited anywhere in CM16-0232543", bool_e(any("ODG" in i.guidelines for i in g.by_case("CM16-0232543").items)),
        {"cases": ["CM16-0232543"]})
    add(gl, "what guidelines were applied in CM16-0246487",
        text(sorted({s for i in g.by_case("CM16-0246487").items for s in i.guidelines}), all_=True), {"cases": ["CM16-0246487"]})
    add(gl, "number of items with no guideline cited", num(sum(not i.guidelines for i in I)))
    add(gl, "cases that cited both MTUS and ODG",
        cases_of([L for L in LS if any("MTUS" in i.guidelines for i in L.items) and any("ODG" in i.guidelines for i in L.items)]))
    add(gl, "how many overturned items relied on MTUS",
        num(sorted({sum(i.overturned for i in I if "MTUS" in i.guidelines), sum(i.overturned_loose for i in I if "MTUS" in i.guidelines)})))
    add(gl, "most cited guideline", rank_e(Counter(s for i in I for s in i.guidelines), 1))
    add(gl, "how many letters cite ODG at least once", num(len([L for L in LS if any("ODG" in i.guidelines for i in L.items)]), unit="letters"))
    add(gl, "odg overturn count", num(g.count_outcome([i for i in I if "ODG" in i.guidelines], "overturned")))

    # ------------------------------------------------ demographics
    dm = "demographics"
    ages = [L.age for L in LS if L.age is not None]
    add(dm, "average claimant age", num(mean(ages), tol=0.6))
    add(dm, "how many female claimants", num(len([L for L in LS if L.sex == "female"]), unit="letters"))
    add(dm, "# of men", num(len([L for L in LS if L.sex == "male"]), unit="letters"))
    add(dm, "patients over 50 - how many", num(len([a for a in ages if a > 50])))
    add(dm, "median age of the injured workers", num(statistics.median(ages), tol=0.6))
    add(dm, "how many claimants in their 20s", num(len([a for a in ages if 20 <= a <= 29])))
    add(dm, "avg age of the women", num(mean([L.age for L in LS if L.sex == "female" and L.age is not None]), tol=0.6))
    add(dm, "age range of the IWs", text([str(min(ages)), str(max(ages))], all_=True))
    known = [L for L in LS if L.sex]
    fem = [L for L in LS if L.sex == "female"]
    add(dm, "what share of claimants are female", num([len(fem) / len(LS), len(fem) / len(known)], share=True))
    add(dm, "age of the oldest male claimant", num(max(L.age for L in LS if L.sex == "male" and L.age)))
    add(dm, "how many patients are 60 or older", num(len([a for a in ages if a >= 60])))
    add(dm, "were most claimants male", bool_e(len([L for L in LS if L.sex == "male"]) > len(known) / 2))
    add(dm, "avg age of claimants in the 2017 letters", num(mean([L.age for L in DEV if L.age is not None]), tol=0.6))
    add(dm, "how many workers under 35", num(len([a for a in ages if a < 35])))
    add(dm, "mean age, cases with an overturned item", num(mean([L.age for L in LS if L.age and any(i.overturned for i in L.items)]), tol=0.6))

    # ------------------------------------------------ reviewer_agg
    ra = "reviewer_agg"
    lic = lambda st: [L for L in LS if st in L.licensure]
    add(ra, "how many reviewers were licensed in Texas", num(len(lic("Texas")), unit="letters"))
    add(ra, "how many cases did family practice docs review", num(len([L for L in LS if "Family Practice" in specs(L)]), unit="letters"))
    add(ra, "letters reviewed by someone w/ a CA license - count", num(len(lic("California")), unit="letters"))
    add(ra, "which cases were reviewed by an orthopedic surgeon", cases_of([L for L in LS if "Orthopedic Surgery" in specs(L)]))
    pmr = [L for L in LS if "Physical Medicine and Rehabilitation" in specs(L)]
    add(ra, "overturns by PM&R reviewers, count", num(g.count_outcome(items_of(pmr), "overturned")))
    add(ra, "how many reviewers held licenses in more than two states", num(len([L for L in LS if len(L.licensure) > 2]), unit="letters"))
    add(ra, "cases reviewed by internal medicine", cases_of([L for L in LS if "Internal Medicine" in specs(L)]))
    add(ra, "how many letters had a pain management reviewer", num(len([L for L in LS if "Pain Management" in specs(L)]), unit="letters"))
    add(ra, "occ med reviewers - how many cases", num(len([L for L in LS if "Occupational Medicine" in specs(L)]), unit="letters"))
    add(ra, "number of reviewers licensed in new york", num(len(lic("New York")), unit="letters"))
    add(ra, "cases with a reviewer licensed in florida", cases_of(lic("Florida")))
    add(ra, "anesthesiologist reviewers: overturn rate",
        num(g.rate_outcome(items_of([L for L in LS if "Anesthesiology" in specs(L)]), "overturned"), share=True))
    add(ra, "how many cases were reviewed by a reviewer NOT licensed in california",
        num(len([L for L in LS if "California" not in L.licensure]), unit="letters"))
    add(ra, "did any emergency medicine reviewer overturn something",
        bool_e(any(i.overturned for L in LS if "Emergency Medicine" in specs(L) for i in L.items)))

    # ------------------------------------------------ passage
    pa = "passage"
    for q, case, rx, words in [
        ("show me the rationale for the hospital bed denial in CM17-0009996", "CM17-0009996", r"hospital bed", ["bed"]),
        ("quote why the shoulder MRI was overturned in CM17-0009840", "CM17-0009840", r"shoulder", ["shoulder", "mri"]),
        ("what did the reviewer say about acupuncture in CM16-0248698", "CM16-0248698", r"acupuncture", ["acupuncture"]),
        ("why was the TENS unit denied in CM17-0006634", "CM17-0006634", r"\btens\b", ["tens"]),
        ("reviewer's reasoning on norco, CM17-0015790", "CM17-0015790", r"norco", ["norco", "opioid"]),
        ("why did they approve the lumbar MRI in CM17-0008519", "CM17-0008519", r"mri", ["mri", "magnetic"]),
        ("explain the transportation decision in CM17-0009883", "CM17-0009883", r"transportation", ["transport"]),
        ("basis for upholding the home aide in CM16-0249735", "CM16-0249735", r"home aide", ["home", "aide"]),
        ("pull the wheelchair language from CM99-0000008", "CM99-0000008", r"wheelchair", ["wheelchair"]),
        ("CM99-0000002 spinal cord stim trial rationale", "CM99-0000002", r"stimulator trial, perc", ["stimulator"]),
        ("why was tramadol upheld in CM17-0021126", "CM17-0021126", r"tramadol", ["tramadol"]),
        ("cite the part of CM16-0246487 about the sling", "CM16-0246487", r"sling", ["sling"]),
        ("what did the IRO say about the carpal tunnel release - 2024-99010", "2024-99010", r"carpal", ["carpal"]),
        ("the rationale behind the lyrica approval CM99-0000001", "CM99-0000001", r"lyrica", ["lyrica", "pregabalin"]),
        ("why was baclofen denied? CM17-0015790", "CM17-0015790", r"baclofen", ["baclofen"]),
        ("reasoning that supported overturning the cbt in cm99-0000007", "CM99-0000007", r"cognitive", ["cognitive", "cbt", "behavioral"]),
        ("what evidence did the reviewer cite on the pantoprazole in CM16-0249170", "CM16-0249170", r"pantoprazole", ["pantoprazole", "proton"]),
        ("text of the decision on the right hip MRI, CM16-0248655", "CM16-0248655", r"hip", ["hip", "mri"]),
        ("why was the cervical mri denied in CM16-0239607", "CM16-0239607", r"mri", ["mri", "cervical"]),
        ("what did the reviewer write about the cyclobenzaprine in CM16-0237163", "CM16-0237163", r"cyclobenzaprine", ["cyclobenzaprine", "muscle relax"]),
    ]:
        item_in(case, rx)
        add(pa, q, passage_e(case, words), {"cases": [case]})

    # ------------------------------------------------ yesno
    yn = "yesno"
    for q, v in [
        ("any hospital beds approved", any(i.overturned for i in fam("hospital bed"))),
        ("were any x-rays overturned", any(i.overturned for i in fam("x-ray"))),
        ("did any epidural get approved", any(i.overturned for i in fam("epidural steroid injection"))),
        ("has IMR ever overturned a TENS denial", any(i.overturned for i in fam("TENS unit"))),
        ("any overturned meds in the 2017 letters", any(i.overturned for i in items_of(DEV) if i.category == "medication")),
        ("did any letter involve a wheelchair", bool(fam("wheelchair"))),
        ("were all the acupuncture requests upheld", all(i.upheld for i in fam("acupuncture"))),
        ("is there a case where every item was overturned", bool(all_over)),
        ("were there any decisions in march 2017", bool(period("2017-03-01", "2017-03-31"))),
        ("any surgery overturned", any(i.overturned for i in I if i.category == "surgery")),
        ("was any norco ever approved", any(i.overturned for i in fam("Norco"))),
        ("any PT overturned in 2017", any(i.overturned for i in fam("physical therapy", items_of(DEV)))),
        ("did any reviewer overturn a knee mri", any(i.overturned for i in rx_items(r"(\bmri\b).*knee"))),
        ("any claimants under 25", any(L.age < 25 for L in LS if L.age)),
        ("did every 2017 letter cite MTUS somewhere", all(any("MTUS" in i.guidelines for i in L.items) for L in DEV)),
        ("any decisions issued on a weekend", any(d(L.decision).weekday() >= 5 for L in LS if L.decision)),
        ("were all the 2017 decisions issued within 60 days of the application",
         all(g.days_between(L.dates["application_received"], L.decision) <= 60 for L in DEV)),
        ("any lidocaine overturned", any(i.overturned for i in fam("lidocaine"))),
        ("did any female claimant have an item overturned", any(i.overturned for L in LS if L.sex == "female" for i in L.items)),
        ("is there any urine drug screen in the set", bool(fam("urine drug screen"))),
    ]:
        add(yn, q, bool_e(v))

    # ------------------------------------------------ none_found (absent services)
    nf = "none_found"
    for q, rx in [
        ("how many botox injections were overturned", r"botox|botulinum"),
        ("cases involving ketamine", r"ketamine"),
        ("massage therapy requests?", r"massage"),
        ("any biofeedback", r"biofeedback|bio-feedback"),
        ("prp injection outcomes", r"\bprp\b|platelet[- ]rich"),
        ("stem cell tx cases", r"stem[- ]cell"),
        ("h-wave unit denials", r"h-wave|h wave|hwave"),
        ("bone scan requests, how many", r"bone scan"),
        ("custom orthotics - any upheld", r"orthotic"),
        ("gym membership requests", r"\bgym\b"),
        ("synvisc / hyaluronic acid injections", r"synvisc|hyaluron"),
        ("radiofrequency ablation outcomes", r"radiofrequency|rhizotomy|radio-frequency"),
        ("discogram cases", r"discogra"),
        ("sleep study requests", r"sleep stud|polysomno"),
        ("hearing aids", r"hearing aid"),
        ("ambien denials", r"ambien|zolpidem"),
        ("any suboxone in there", r"suboxone|buprenorph"),
        ("fentanyl patch cases", r"fentanyl|duragesic"),
        ("morphine requests overturned", r"morphine|ms contin"),
        ("soma (carisoprodol) - how many upheld", r"\bsoma\b|carisoprodol"),
        ("xanax cases", r"xanax|alprazolam"),
        ("toradol shots", r"toradol|ketorolac"),
        ("nucynta decisions", r"nucynta|tapentadol"),
        ("shockwave therapy for the shoulder", r"shock ?wave|\beswt\b"),
        ("hip replacement requests", r"hip replacement|hip arthroplast|total hip"),
        ("kyphoplasty or vertebroplasty", r"kyphoplast|vertebroplast"),
        ("interferential unit - approved anywhere?", r"interferential"),
        ("pet scans", r"\bpet scan|positron"),
        ("medical marijuana requests", r"marijuana|cannabi"),
        ("valium cases", r"valium|diazepam"),
    ]:
        add(nf, q, none_e(), {"absent": [rx]})

    # ------------------------------------------------ exclusion
    xc = "exclusion"
    add(xc, "how many items were overturned, not counting medications",
        num(g.count_outcome([i for i in I if i.category != "medication"], "overturned")))
    add(xc, "cases without any MRI", cases_of([L for L in LS if not fam("MRI", L.items)]))
    add(xc, "non-imaging requests upheld count", num(g.count_outcome([i for i in I if i.category != "imaging"], "upheld")))
    add(xc, "how many letters excluding the texas ones", num(len([L for L in LS if L.letter_format != "tx_iro"]), unit="letters"))
    add(xc, "overturn rate leaving out the 2017 letters", num(g.rate_outcome(items_of([L for L in LS if not L.dev]), "overturned"), share=True))
    add(xc, "which 2017 cases had no medication in dispute", cases_of([L for L in DEV if not any(i.category == "medication" for i in L.items)]))
    add(xc, "how many requests other than PT were upheld in 2017",
        num(cnt_outcome([[i for i in items_of(DEV) if i not in p] for p in fam_variants("physical therapy", items_of(DEV))], "upheld")))
    add(xc, "count letters not reviewed by occupational medicine",
        num(len([L for L in LS if "Occupational Medicine" not in specs(L)]), unit="letters"))
    add(xc, "how many male claimants over 50", num(len([L for L in LS if L.sex == "male" and L.age and L.age > 50])))
    add(xc, "items overturned outside of CM99-0000006",
        num(g.count_outcome([i for i in I if i.letter.case_number != "CM99-0000006"], "overturned")), {"cases": ["CM99-0000006"]})
    add(xc, "all cases except the ones decided in feb 2017",
        cases_of([L for L in LS if not g.in_period(L, "2017-02-01", "2017-02-28")]))
    add(xc, "how many requests weren't upheld", num([sum(not i.upheld for i in I), sum(i.overturned for i in I)]))
    add(xc, "how many imaging requests other than MRIs", num(len([i for i in I if i.category == "imaging" and not fam("MRI", [i])])))
    add(xc, "meds upheld, excluding norco", num(g.count_outcome([i for i in I if i.category == "medication" and not fam("Norco", [i])], "upheld")))
    add(xc, "non-2017 cases where nothing at all was overturned",
        cases_of([L for L in LS if not L.dev and not any(i.overturned_loose for i in L.items)]))
    add(xc, "how many letters didn't involve any imaging", num(len([L for L in LS if not any(i.category == "imaging" for i in L.items)]), unit="letters"))
    add(xc, "apart from MTUS, which guidelines show up",
        text(sorted({s for i in I for s in i.guidelines if s not in ("MTUS", "other")}), all_=True))

    # ------------------------------------------------ relative_dates
    rd = "relative_dates"
    y0 = date(TODAY.year, 1, 1).isoformat()
    ly = (date(TODAY.year - 1, 1, 1).isoformat(), date(TODAY.year - 1, 12, 31).isoformat())
    add(rd, "how many decisions this year", num(len(period(y0, T)), unit="letters"))
    add(rd, "decisions last year", num(len(period(*ly)), unit="letters"))
    add(rd, "how many decided in the past 6 months", num(len(period((TODAY - timedelta(days=182)).isoformat(), T)), unit="letters"))
    add(rd, "anything decided in the last 30 days? how many", num(len(period((TODAY - timedelta(days=30)).isoformat(), T)), unit="letters"))
    add(rd, "how many letters were decided this month", num(len(period(TODAY.replace(day=1).isoformat(), T)), unit="letters"))
    add(rd, "cases from earlier this year", cases_of(period(y0, T)))
    add(rd, "how many workers were hurt last year", num(len(period(*ly, field="date_of_injury")), unit="letters"))
    add(rd, "injuries this year - how many", num(len(period(y0, T, "date_of_injury")), unit="letters"))
    add(rd, "how many UR denials happened last yr", num(len(period(*ly, field="ur_denial_date")), unit="letters"))
    a, b = open_period(y0, "application_received")
    add(rd, "applications received since the start of the year", num([len(a), len(b)], unit="letters"))
    add(rd, "how many decisions in the last 2 years", num(len(period(date(2015, 6, 30).isoformat(), T)), unit="letters"))
    add(rd, "overturned items in the last six months",
        num(g.count_outcome(items_of(period((TODAY - timedelta(days=182)).isoformat(), T)), "overturned")))
    add(rd, "how many cases were assigned in the first quarter of this year",
        num(len(period(y0, f"{TODAY.year}-03-31", "date_assigned")), unit="letters"))
    add(rd, "letters decided more than 3 months ago", num(len(period(None, (TODAY - timedelta(days=92)).isoformat())), unit="letters"))
    add(rd, "how many injuries in the last 9 months",
        num(len(period((TODAY - timedelta(days=273)).isoformat(), T, "date_of_injury")), unit="letters"))
    add(rd, "which case had an injury this year", cases_of(period(y0, T, "date_of_injury")))
    add(rd, "ur denials last december - count", num(len(period(f"{TODAY.year - 1}-12-01", f"{TODAY.year - 1}-12-31", "ur_denial_date")), unit="letters"))
    return Q


# ---------------------------------------------------------------- check

def check(rows: list[dict]) -> list[str]:
    errs = []
    fresh = build()
    if [json.dumps(r, sort_keys=True) for r in rows] != [json.dumps(r, sort_keys=True) for r in fresh]:
        errs.append("heldout.jsonl differs from a fresh computation (rerun without --check)")
    known = {c.upper() for c in g.case_numbers()}
    services = " | ".join(i.s for i in g.items())
    texts = g.letter_texts()
    if len(texts) < 38:
        errs.append(f"only {len(texts)} letter texts found (PDFs missing?) - absence checks incomplete")
    ids = set()
    for r in fresh:
        if r["id"] in ids:
            errs.append(f"duplicate id {r['id']}")
        ids.add(r["id"])
        e, refs = r["expected"], r.get("refs") or {}
        for c in g.CASE_RE.findall(r["question"]):
            if c.upper() not in known:
                errs.append(f"{r['id']}: unknown case {c}")
        for c in refs.get("cases", []):
            if c.upper() not in known:
                errs.append(f"{r['id']}: unknown case ref {c}")
        if e["type"] == "cases":
            for c in e["value"] + [x for s in e.get("accept_sets", []) for x in s]:
                if c.upper() not in known:
                    errs.append(f"{r['id']}: expected case {c} not in gold")
        if e["type"] == "passage" and e["case"].upper() not in known:
            errs.append(f"{r['id']}: passage case {e['case']} not in gold")
        for f in refs.get("families", []):
            if not fam(f):
                errs.append(f"{r['id']}: family {f} matches no gold item")
        if refs.get("unique_family") and len(L_of(fam(refs["unique_family"]))) != 1:
            errs.append(f"{r['id']}: family {refs['unique_family']} is not in exactly one letter")
        for rx in refs.get("absent", []):
            if re.search(rx, services):
                errs.append(f"{r['id']}: absent service /{rx}/ matches a gold service")
            hit = [k for k, t in texts.items() if re.search(rx, t)]
            if hit:
                errs.append(f"{r['id']}: absent service /{rx}/ occurs in {hit}")
        if e["type"] == "clarify" and refs.get("ambiguous_n", 0) < 2:
            errs.append(f"{r['id']}: clarify question is not ambiguous")
        if e["type"] not in ("number", "date", "text", "cases", "ranking", "bool", "none_found", "passage", "clarify"):
            errs.append(f"{r['id']}: unsupported type {e['type']}")
        if e["type"] == "text" and not e.get("accept"):
            errs.append(f"{r['id']}: empty accept list")
    return errs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    if args.check:
        if not OUT.exists():
            print(f"no {OUT}")
            return 1
        rows = [json.loads(line) for line in OUT.read_text(encoding="utf-8").splitlines() if line.strip()]
        errs = check(rows)
        for e in errs:
            print("ERROR", e)
        c = Counter(r["intent"] for r in rows)
        t = Counter(r["expected"]["type"] for r in rows)
        print(f"{len(rows)} questions, {len(c)} intents, {len(errs)} errors")
        print("types:", dict(sorted(t.items())))
        return 1 if errs else 0
    rows = build()
    with OUT.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    c = Counter(r["intent"] for r in rows)
    print(f"wrote {len(rows)} questions ({len(c)} intents) to {OUT}")
    print(", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
