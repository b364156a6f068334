"""dev4: a fourth BLIND question bank over the dev library (written 2026-12-08).

    python -m evals.questionbank.dev4_generate            # writes dev4.jsonl from the gold records
    python -m evals.questionbank.dev4_generate --check    # recompute + verify (needs IMR_SHARED_DIR)

Written blind: only the top of README.md (conventions, counting rules, grading), gold.py,
grade.py, engine.py, run.py, schema.py, the gold JSON files and the letters themselves were read.
Every expected answer is computed here from `gold.py`'s records; nothing comes from the tool.

Wordings judged arguable (every defensible reading is accepted):
- "first half of February 2017": Feb 1-14 or Feb 1-15 (both accepted).
- open periods such as "after 2020", "since 2022", "after 2023": also the reading clamped at
  TODAY=2017-06-30 (which holds no letter).
- "last quarter"/"the last two quarters": previous calendar quarter(s) or the last 3/6 months.
- "last winter": Dec 2016-Feb 2017 or Dec 21 2016-Mar 20 2017.
- "in the last 7 months" for UR denials: from 2016-11-30 or from 2016-12-01.
- "imaging requests" in CM16-0248698: gold category imaging (includes EMG/NCV) or only X-ray/MRI.
- "spinal cord stimulator requests": the trial alone, or also the psychological evaluation
  "prior to spinal cord stimulator trial".
- "fully upheld" / "every item upheld": the Texas partial overturn counted as not upheld, or
  as upheld (both accepted); likewise "won/lost" counts (strict and loose, as gold.count_outcome).
- physical therapy with or without the "Physical therapy evaluation" item; chiropractic with or
  without "Spinal manipulation" (gold.FAMILIES alternatives).
- drug classes (membership predicates in DRUG_CLASSES, each with its alternatives): tramadol and
  the tramadol suspension Synapryn as opioids; Tabradol as a muscle relaxant; Ketophene as an
  NSAID; Fanatrex as an anticonvulsant; topical NSAIDs counted as NSAIDs.
- median age of an even-sized list: the mean of the two middle ages or either middle age.
- "the share of letters that are standard priority": over all letters or over letters stating
  a priority.
- "which case had the most items, ignoring medications": a tie, either case (or both) accepted.
- "five months ago": the calendar month January 2017.
- "pain management specialist": the specialty part Pain Management, or also Pain Medicine.
- "the week of Feb 13 2017": Feb 13-19 or the working days Feb 13-17 (same letters here).
- "average age of workers whose requests were all upheld": with or without the Texas partial letter.
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
OUT = HERE / "dev4.jsonl"
TODAY = g.TODAY.isoformat()

# ---------------------------------------------------------------- notes (counting rules)
N_LET = "letters/cases/decisions/files = gold records with at least one item (37; the generic appeal letter excluded)"
N_ITEM = "items/requests/treatments/services = disputed items (118)"
N_OVT = ("overturned = approved/reversed/certified/granted/won/overturned = determination overturned; the one Texas "
         "partially_overturned item accepted either way")
N_UPH = ("upheld = denied/sustained/affirmed/non-certified/refused/lost = determination upheld; the Texas "
         "partially_overturned item accepted either way")
N_DATE = "periods are on the decision date unless another field is named; TODAY=2017-06-30"
N_SHARE = "share as a fraction, tolerance 0.011"
N_DUR = "durations = day differences of gold dates, mean over letters having both dates, tolerance 0.6 day"
N_SPEC = "specialties split at commas, & = and, Orthopaedic = Orthopedic"
N_TX = "Texas IRO = letter_format tx_iro (3 letters); California DWC = letter_format ca_dwc_imr (34 letters)"
N_MOD = ("modified request = item with an authorized_portion (UR certified part of the original request; the "
         "item is the disputed remainder): 8 items in 6 letters")
N_CASES = "letters without a case number are listed under 'uncased' and not required"

# ---------------------------------------------------------------- drug classes (membership predicates)
# label -> (strict regex on the lower-cased service of medication items, [alternative regexes])
DRUG_CLASSES: dict[str, tuple[str, list[str]]] = {
    "opioid": (r"norco|hydrocodone|percocet|oxycodone|tramadol",
               [r"norco|hydrocodone|percocet|oxycodone|tramadol|synapryn", r"norco|hydrocodone|percocet|oxycodone"]),
    "NSAID": (r"voltaren|diclofenac|ketoprofen|celecoxib|naproxen",
              [r"voltaren|diclofenac|ketoprofen|celecoxib|naproxen|ketophene"]),
    "muscle relaxant": (r"norflex|orphenadrine|cyclobenzaprine|baclofen",
                        [r"norflex|orphenadrine|cyclobenzaprine|baclofen|tabradol"]),
    "PPI": (r"prilosec|omeprazole|pantoprazole", []),
    "topical": (r"\bgel\b|patch|cream|ointment|lotion|lidoderm|\d%", []),
    "anticonvulsant": (r"lyrica|pregabalin|gabapentin", [r"lyrica|pregabalin|gabapentin|fanatrex"]),
    "antidepressant": (r"bupropion|venlafaxine|cymbalta|duloxetine", []),
}


def drug_items(cls: str, alt: int | None = None) -> list[g.Item]:
    strict, alts = DRUG_CLASSES[cls]
    rx = re.compile(strict if alt is None else alts[alt])
    return [it for it in g.items() if it.category == "medication" and rx.search(it.s)]


def drug_readings(cls: str) -> list[list[g.Item]]:
    return [drug_items(cls)] + [drug_items(cls, i) for i in range(len(DRUG_CLASSES[cls][1]))]


def drug_note(cls: str) -> str:
    strict, alts = DRUG_CLASSES[cls]
    s = f"{cls}: medication items whose service matches /{strict}/"
    if alts:
        s += "; alternatives accepted: " + ", ".join(f"/{a}/" for a in alts)
    return s


# ---------------------------------------------------------------- helpers over gold records

def Ls() -> list[g.Letter]:
    return g.letters()


def Is() -> list[g.Item]:
    return g.items()


def rx_items(pattern: str, pool: list[g.Item] | None = None) -> list[g.Item]:
    r = re.compile(pattern)
    return [it for it in (Is() if pool is None else pool) if r.search(it.s)]


def fam(name: str, alt: bool = False, pool=None) -> list[g.Item]:
    return g.fam_items(name, alt, pool)


def fam_readings(name: str, pool=None) -> list[list[g.Item]]:
    out = [fam(name, False, pool)]
    if g.FAMILIES[name][1]:
        out.append(fam(name, True, pool))
    return out


def letters_of(items: list[g.Item]) -> list[g.Letter]:
    seen, out = set(), []
    for it in items:
        if id(it.letter) not in seen:
            seen.add(id(it.letter))
            out.append(it.letter)
    return out


def items_of(letters: list[g.Letter]) -> list[g.Item]:
    return [it for L in letters for it in L.items]


def period(start: str | None, end: str | None, field: str = "decision_date", pool=None) -> list[g.Letter]:
    return [L for L in (Ls() if pool is None else pool) if g.in_period(L, start, end, field)]


def year(y: int, field: str = "decision_date") -> list[g.Letter]:
    return period(f"{y}-01-01", f"{y}-12-31", field)


def month(y: int, m: int, field: str = "decision_date") -> list[g.Letter]:
    last = (date(y + (m == 12), m % 12 + 1, 1) - date.resolution).isoformat()
    return period(f"{y}-{m:02d}-01", last, field)


def cnt(pool: list[g.Item], outcome: str) -> list[int]:
    return g.count_outcome(pool, outcome)


def cnt_readings(pools: list[list[g.Item]], outcome: str) -> list[int]:
    return [v for p in pools for v in cnt(p, outcome)]


def rates_readings(pools: list[list[g.Item]], outcome: str) -> list[float]:
    return [v for p in pools for v in g.rate_outcome(p, outcome)]


def has_ovt(L: g.Letter, loose: bool = False) -> bool:
    return any(it.overturned_loose if loose else it.overturned for it in L.items)


def all_upheld(L: g.Letter, loose: bool = False) -> bool:
    return all(it.upheld or (loose and it.determination == "partially_overturned") for it in L.items)


def spec_has(L: g.Letter, part: str) -> bool:
    return part in g.specialties(L)


def dur(L: g.Letter, a: str, b: str) -> int | None:
    if L.dates.get(a) and L.dates.get(b):
        return g.days_between(L.dates[a], L.dates[b])
    return None


def mean_dur(letters: list[g.Letter], a: str, b: str) -> float:
    vals = [d for L in letters if (d := dur(L, a, b)) is not None]
    return round(sum(vals) / len(vals), 2)


def dev17() -> list[g.Letter]:
    return year(2017)


def tx() -> list[g.Letter]:
    return [L for L in Ls() if L.letter_format == "tx_iro"]


def ca() -> list[g.Letter]:
    return [L for L in Ls() if L.letter_format == "ca_dwc_imr"]


def modified() -> list[g.Item]:
    return [it for it in Is() if it.authorized_portion]


def C(case: str) -> g.Letter:
    return g.by_case(case)


def item_of(case: str, pattern: str) -> g.Item:
    hits = [it for it in C(case).items if re.search(pattern, it.s)]
    assert len(hits) == 1, (case, pattern, [h.service for h in hits])
    return hits[0]


def uniq_max(letters, key):
    vals = [(key(L), L) for L in letters if key(L) is not None]
    best = max(v for v, _ in vals)
    win = [L for v, L in vals if v == best]
    assert len(win) == 1, [L.label for L in win]
    return win[0], best


def uniq_min(letters, key):
    L, v = uniq_max(letters, lambda x: None if key(x) is None else -key(x))
    return L, -v


# ---------------------------------------------------------------- expectation builders

def E_num(vals, share: bool = False, tol: float | None = None, unit: str | None = None) -> dict:
    vals = list(vals) if isinstance(vals, (list, tuple)) else [vals]
    vals = [round(float(v), 4) if share or isinstance(v, float) else v for v in vals]
    uniq = []
    for v in vals:
        if v not in uniq:
            uniq.append(v)
    e = {"type": "number", "value": uniq[0]}
    if len(uniq) > 1:
        e["accept_values"] = uniq
    if share:
        e["share"] = True
        e["tolerance"] = 0.011
    elif tol is not None:
        e["tolerance"] = tol
    if unit:
        e["unit"] = unit
    return e


def _split(letters) -> tuple[list[str], list[str]]:
    cased = sorted({L.case_number for L in letters if L.case_number})
    uncased = sorted({L.source_file for L in letters if not L.case_number})
    return cased, uncased


def E_cases(letters, alts=()) -> dict:
    cased, uncased = _split(letters)
    e = {"type": "cases", "value": cased}
    sets = []
    for a in alts:
        s, _ = _split(a)
        if s != cased and s not in sets:
            sets.append(s)
    if sets:
        e["accept_sets"] = sets
    if uncased:
        e["uncased"] = uncased
    return e


def E_text(accept, all_: bool = False, counts=None) -> dict:
    e = {"type": "text", "value": accept[0], "accept": list(accept)}
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
    e = {"type": "ranking", "value": rows, "top": top, "ordered": ordered}
    if accept:
        e["accept"] = accept
    return e


def E_cmp(pairs: list[tuple[str, float]], accept: dict | None = None) -> dict:
    e = {"type": "ranking", "value": [[k, v] for k, v in pairs], "top": len(pairs), "ordered": False}
    if accept:
        e["accept"] = accept
    return e


def E_passage(case: str, contains: list[str]) -> dict:
    return {"type": "passage", "value": case, "case": case, "contains": contains}


def E_none(stems: list[str]) -> dict:
    return {"type": "none_found", "value": [], "absent": stems}


def E_notstated() -> dict:
    return {"type": "none_found", "value": None}


def E_clarify() -> dict:
    return {"type": "clarify", "value": None}


CAT_ACCEPT = {"DME": ["dme", "durable medical equipment", "equipment"], "medication": ["medication", "drug", "pharmac"],
              "imaging": ["imaging", "diagnostic"], "therapy": ["therapy", "therapies"], "surgery": ["surgery", "surgical"],
              "injection": ["injection"], "other": ["other"]}
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]


def month_label(key: str) -> str:
    y, m = key.split("-")
    return f"{MONTH_NAMES[int(m) - 1]} {y}"


def month_accept(key: str) -> list[str]:
    y, m = key.split("-")
    name = MONTH_NAMES[int(m) - 1]
    return [f"{name} {y}", f"{name[:3]} {y}", key, f"{int(m)}/{y}", f"{name[:3]}. {y}", f"{name}, {y}"]


def fam_accept(labels) -> dict:
    out = {}
    for lab in labels:
        if lab in g.FAMILIES:
            out[lab] = g.FAMILIES[lab][2]
        elif lab.lower() in {k.lower() for k in g.FAMILIES}:
            k = next(k for k in g.FAMILIES if k.lower() == lab.lower())
            out[lab] = g.FAMILIES[k][2]
    return out


# ---------------------------------------------------------------- the bank
ROWS: list[dict] = []
_N: Counter = Counter()


def add(intent: str, question: str, expected: dict, notes: str) -> None:
    _N[intent] += 1
    ROWS.append({"id": f"d4-{intent}-{_N[intent]:02d}", "intent": intent, "question": question,
                 "expected": expected, "notes": notes})


def build() -> list[dict]:
    ROWS.clear()
    _N.clear()
    fam_note = g.family_predicate_note

    # ============================================================ count_outcome_service
    I = "count_outcome_service"

    def cos(q, family, outcome, extra=""):
        word = N_OVT if outcome == "overturned" else N_UPH
        add(I, q, E_num(cnt_readings(fam_readings(family), outcome)), f"{N_ITEM}; {fam_note(family)}; {word}{extra}")

    cos("for a memo I'm drafting on imaging disputes, how many MRI requests ended up overturned at IMR across the whole library?", "MRI", "overturned")
    cos("Of all the physical therapy requests in the set, how many did the reviewers uphold?", "physical therapy", "upheld")
    cos("quick one for a client letter - how many times was acupunture denied at IMR", "acupuncture", "upheld")
    cos("setting up a table for the partners: number of TENS units approved on independent review?", "TENS unit", "overturned")
    cos("count of xray requests that got reversed", "X-ray", "overturned", "; expected 0")
    cos("chiro care - how many requests stayed non-certified after IMR", "chiropractic", "upheld")
    cos("Looking only at epidural steroid injections, on how many was the UR denial sustained?", "epidural steroid injection", "upheld")
    cos("hospital beds: how many were granted in the end", "hospital bed", "overturned")
    cos("I need the number of Norco requests that IMR upheld", "Norco", "upheld")
    cos("how many lidocaine or lidoderm requests did the injured workers win", "lidocaine", "overturned", "; expected 0")
    cos("In total, how many requests for a functional capacity evaluation were refused on review?", "functional capacity evaluation", "upheld")
    cos("shoulder MRIs — how many of those were overturned?", "shoulder MRI", "overturned")
    # spinal cord stimulator: the trial alone or also the psych evaluation "prior to spinal cord stimulator trial"
    scs = rx_items(r"spinal cord stimulator")
    scs_alt = rx_items(r"^spinal cord stimulator")
    add(I, "how many spinal cord stimulator requests were certified at IMR",
        E_num(sorted(set(cnt(scs, "overturned") + cnt(scs_alt, "overturned")))),
        f"{N_ITEM}; items whose service matches /spinal cord stimulator/ (2, incl. the psychological evaluation prior to "
        f"the trial) or only the trial itself (1): both accepted; {N_OVT}")
    cos("tramadol: how many times did the reviewer overturn the UR denial?", "tramadol", "overturned", "; expected 0")
    cos("how many cyclobenzeprine (flexeril) decisions went against the worker", "cyclobenzaprine", "upheld")

    # ============================================================ count_outcome_category
    I = "count_outcome_category"

    def coc(q, cat, outcome):
        pool = [it for it in Is() if it.category == cat]
        word = N_OVT if outcome == "overturned" else N_UPH
        add(I, q, E_num(cnt(pool, outcome)), f"{N_ITEM}; category = gold item category '{cat}'; {word}")

    coc("how many medication items were overturned in total", "medication", "overturned")
    coc("For a brief on durable medical equipment: of the DME requests, how many were reversed by IMR?", "DME", "overturned")
    coc("surgical requests upheld - how many?", "surgery", "upheld")
    coc("count the imaging studies where the denial was sustained", "imaging", "upheld")
    coc("how many injection requests did the claimant win", "injection", "overturned")
    coc("therapy items approved by the reviewer, how many", "therapy", "overturned")
    coc("Medications — how many were denied at IMR?", "medication", "upheld")
    coc("of the surgery requests, how many got certified?", "surgery", "overturned")
    coc("How many drug requests were affirmed as not medically necessary?", "medication", "upheld")
    coc("I'm tallying imaging for a health-policy paper; how many imaging items did IMR overturn overall", "imaging", "overturned")
    coc("number of DME items where the UR denial was upheld", "DME", "upheld")
    coc("how many therapy requests were lost at IMR?", "therapy", "upheld")

    # ============================================================ count_outcome_period
    I = "count_outcome_period"

    def cop(q, letters_list, outcome, what, pool_filter=None, extra=""):
        word = N_OVT if outcome == "overturned" else N_UPH
        vals = []
        for letters in letters_list:
            pool = items_of(letters)
            if pool_filter:
                pool = [it for it in pool if pool_filter(it)]
            vals += cnt(pool, outcome)
        add(I, q, E_num(vals), f"{N_ITEM}; {N_DATE}; {what}; {word}{extra}")

    cop("In January 2017, how many items were overturned?", [month(2017, 1)], "overturned", "decision date in 2017-01")
    cop("of the February 2017 decisions, how many requests were upheld", [month(2017, 2)], "upheld", "decision date in 2017-02")
    cop("how many requests were reversed between 2/1/17 and 2/15/17", [period("2017-02-01", "2017-02-15")], "overturned",
        "decision date 2017-02-01..2017-02-15 inclusive")
    cop("During 2023, how many disputed items were approved?", [year(2023)], "overturned", "decision date in 2023")
    cop("for decisions issued in 2022, how many items had the denial sustained", [year(2022)], "upheld", "decision date in 2022")
    cop("for the first half of Feb 2017, how many denials were upheld", [period("2017-02-01", "2017-02-14"), period("2017-02-01", "2017-02-15")],
        "upheld", "first half = Feb 1-14 or Feb 1-15 (both accepted)")
    cop("how many overturned items are there from 2024 decisions", [year(2024)], "overturned", "decision date in 2024")
    cop("Items decided before 2020 that were overturned: how many?", [period(None, "2019-12-31")], "overturned", "decision date before 2020-01-01")
    cop("after 2020, how many items were upheld?", [period("2021-01-01", None), period("2021-01-01", TODAY)], "upheld",
        "decision date 2021-01-01 onward; the reading clamped at TODAY (0) also accepted")
    cop("thinking about Q1 2017 only — how many requests were denied on review", [period("2017-01-01", "2017-03-31")], "upheld", "decision date 2017-01-01..2017-03-31")
    cop("How many items did IMR overturn in december 2016?", [month(2016, 12)], "overturned", "decision date in 2016-12 (none)", extra="; expected 0")
    cop("Feb. 2017 — total number of items overturned?", [month(2017, 2)], "overturned", "decision date in 2017-02")
    cop("how many were upheld in the month of march 2023", [month(2023, 3)], "upheld", "decision date in 2023-03")
    cop("between jan 25 and jan 31 2017, how many items were denied", [period("2017-01-25", "2017-01-31")], "upheld",
        "decision date 2017-01-25..2017-01-31 inclusive")

    # ============================================================ rate_service
    I = "rate_service"

    def rs(q, family, outcome):
        word = N_OVT if outcome == "overturned" else N_UPH
        add(I, q, E_num(rates_readings(fam_readings(family), outcome), share=True),
            f"{N_ITEM}; {fam_note(family)}; share = {outcome} items / family items; {word}; {N_SHARE}")

    rs("my supervisor wants the MRI number: what share of MRI requests were overturned?", "MRI", "overturned")
    rs("Overturn rate for physical therapy?", "physical therapy", "overturned")
    rs("of the chiropractic requests, what percent were upheld", "chiropractic", "upheld")
    rs("For a policy brief: what fraction of X-ray requests did IMR uphold?", "X-ray", "upheld")
    rs("TENS approval rate at IMR", "TENS unit", "overturned")
    rs("what % of the hospital bed requests got overturned", "hospital bed", "overturned")
    rs("shoulder MRIs: what percentage were reversed?", "shoulder MRI", "overturned")
    rs("when a lumbar MRI goes to IMR, what proportion get denied, based on these letters?", "lumbar MRI", "upheld")
    rs("how often does an arthroscopy request succeed at IMR (as a percentage)?", "arthroscopy", "overturned")
    rs("Norco: what share of requests were upheld?", "Norco", "upheld")
    rs("what share of acupuncture requests won", "acupuncture", "overturned")
    rs("percentage of epidural injections overturned", "epidural steroid injection", "overturned")
    rs("lidocaine/lidoderm — denial rate?", "lidocaine", "upheld")

    # ============================================================ rate_segment
    I = "rate_segment"

    def rseg(q, pool, outcome, what):
        word = N_OVT if outcome == "overturned" else N_UPH
        add(I, q, E_num(g.rate_outcome(pool, outcome), share=True), f"{N_ITEM}; {what}; {word}; {N_SHARE}")

    rseg("overall, what share of all disputed items were overturned?", Is(), "overturned", "all 118 items")
    rseg("What percentage of medication requests were overturned", [it for it in Is() if it.category == "medication"], "overturned", "category medication")
    rseg("share of DME requests that were reversed", [it for it in Is() if it.category == "DME"], "overturned", "category DME")
    rseg("for the expedited reviews, what share of items were approved", items_of([L for L in Ls() if L.priority == "Expedited"]), "overturned",
         "items of letters with priority Expedited")
    rseg("Among female claimants, what proportion of items were overturned?", items_of([L for L in Ls() if L.sex == "female"]), "overturned",
         "items of letters whose patient sex is female")
    rseg("among the 2017 decisions, what percentage of requests were upheld", items_of(dev17()), "upheld", "items of letters decided in 2017")
    rseg("reversal rate for items in letters reviewed by an orthopedic surgeon", items_of([L for L in Ls() if spec_has(L, "Orthopedic Surgery")]),
         "overturned", f"items of letters whose specialty includes Orthopedic Surgery; {N_SPEC}")
    rseg("surgery overturn rate?", [it for it in Is() if it.category == "surgery"], "overturned", "category surgery")
    rseg("among male workers, what share of the items were upheld", items_of([L for L in Ls() if L.sex == "male"]), "upheld",
         "items of letters whose patient sex is male")
    rseg("what percent of injection requests were overturned", [it for it in Is() if it.category == "injection"], "overturned", "category injection")
    rseg("In letters where the reviewer was Family Practice, what share of items were upheld?", items_of([L for L in Ls() if spec_has(L, "Family Practice")]),
         "upheld", f"items of letters whose specialty includes Family Practice; {N_SPEC}")
    lo = sum(has_ovt(L) for L in Ls()) / len(Ls())
    lo2 = sum(has_ovt(L, True) for L in Ls()) / len(Ls())
    add(I, "What share of the letters had at least one item overturned?", E_num([lo, lo2], share=True),
        f"{N_LET}; letters with >= 1 overturned item / 37; {N_OVT}; {N_SHARE}")

    # ============================================================ count_letters
    I = "count_letters"

    def cl(q, vals, what):
        add(I, q, E_num(vals, unit="letters"), f"{N_LET}; {what}")

    cl("how many decision letters do we have in the library altogether?", len(Ls()), "all decision letters")
    cl("How many IMR decisions were issued in 2017", len(dev17()), f"decision date in 2017; {N_DATE}")
    cl("for a memo I'm writing on diagnostic imaging, can you tell me how many cases include an MRI request?", len(letters_of(fam("MRI"))), f"letters with an item of {fam_note('MRI')}")
    cl("number of letters with at least one overturned item?", [sum(has_ovt(L) for L in Ls()), sum(has_ovt(L, True) for L in Ls())],
       f"letters with >= 1 overturned item; {N_OVT}")
    cl("For a research note: how many decisions were upheld in full, i.e. every single item denied?",
       [sum(all_upheld(L) for L in Ls()), sum(all_upheld(L, True) for L in Ls())], f"letters whose items are all upheld; {N_UPH}")
    cl("how many letters involved a female claimant", sum(L.sex == "female" for L in Ls()), "patient sex female")
    cl("of the decisions from feb 2017, how many are there", len(month(2017, 2)), f"decision date in 2017-02; {N_DATE}")
    cl("count of decisions with more than one disputed item", sum(len(L.items) > 1 for L in Ls()), "letters with >= 2 items")
    cl("In how many letters does acupuncture come up as a disputed service?", len(letters_of(fam("acupuncture"))),
       f"letters with an item of {fam_note('acupuncture')}")
    cl("in how many decisions was physical therapy one of the disputed items", sorted({len(letters_of(p)) for p in fam_readings("physical therapy")}),
       f"letters with an item of {fam_note('physical therapy')}")
    cl("were any letters decided by an internal medicine reviewer, and if so how many", sum(spec_has(L, "Internal Medicine") for L in Ls()),
       f"specialty includes Internal Medicine; {N_SPEC}")
    cl("of the decisions, how many had a medication overturned?", len(letters_of([it for it in Is() if it.category == "medication" and it.overturned])),
       f"letters with an overturned item of category medication; {N_OVT}")
    cl("how many letters in the library were decided in 2021", len(year(2021)), f"decision date in 2021; {N_DATE}")

    # ============================================================ cases_quantifier
    I = "cases_quantifier"
    add(I, "in which cases did the worker win on every request", E_cases([L for L in Ls() if all(i.overturned for i in L.items)],
        [[L for L in Ls() if all(i.overturned_loose for i in L.items)]]), f"{N_LET}; letters whose items are all overturned; {N_OVT}; {N_CASES}")
    add(I, "list the letters where at least one request was approved and at least one was denied",
        E_cases([L for L in Ls() if has_ovt(L) and any(i.upheld for i in L.items)]),
        f"{N_LET}; letters with >= 1 overturned and >= 1 upheld item; {N_OVT}; {N_CASES}")
    add(I, "Which decisions were a clean sweep for the carrier — nothing overturned at all?",
        E_cases([L for L in Ls() if all_upheld(L)], [[L for L in Ls() if all_upheld(L, True)]]),
        f"{N_LET}; letters whose items are all upheld (the Texas partial letter accepted either way); {N_CASES}")
    add(I, "show me cases where more than half the items were overturned",
        E_cases([L for L in Ls() if sum(i.overturned for i in L.items) * 2 > len(L.items)],
                [[L for L in Ls() if sum(i.overturned_loose for i in L.items) * 2 > len(L.items)]]),
        f"{N_LET}; overturned items > half of the letter's items; {N_OVT}; {N_CASES}")
    add(I, "of the 2023 decisions, which had at least one denial upheld?", E_cases([L for L in year(2023) if any(i.upheld for i in L.items)]),
        f"{N_LET}; decision date in 2023 and >= 1 upheld item; {N_CASES}")
    add(I, "which cases had exactly two items overturned", E_cases([L for L in Ls() if sum(i.overturned for i in L.items) == 2]),
        f"{N_LET}; letters with exactly 2 overturned items; {N_OVT}; {N_CASES}")
    meds = [L for L in Ls() if any(i.category == "medication" for i in L.items)]
    add(I, "Among letters with a medication request, which ones had none of the medications approved?",
        E_cases([L for L in meds if not any(i.overturned for i in L.items if i.category == "medication")]),
        f"{N_LET}; letters with >= 1 medication item and no overturned medication item; {N_CASES}")
    img = [L for L in Ls() if any(i.category == "imaging" for i in L.items)]
    add(I, "which cases had all of their imaging requests upheld?",
        E_cases([L for L in img if all(i.upheld for i in L.items if i.category == "imaging")]),
        f"{N_LET}; letters with >= 1 imaging item (gold category) and every imaging item upheld; {N_CASES}")
    both = [L for L in Ls() if fam("MRI", pool=L.items) and fam("physical therapy", pool=L.items)]
    add(I, "any case where both an MRI and physical therapy were requested? list them", E_cases(both),
        f"{N_LET}; letters with an MRI item and a physical therapy item ({fam_note('MRI')}; {fam_note('physical therapy')}); {N_CASES}")
    add(I, "which cases had more than one overturned item", E_cases([L for L in Ls() if sum(i.overturned for i in L.items) > 1]),
        f"{N_LET}; letters with >= 2 overturned items; {N_OVT}; {N_CASES}")
    add(I, "Letters in which every disputed item was a medication — which are they?",
        E_cases([L for L in Ls() if all(i.category == "medication" for i in L.items)]),
        f"{N_LET}; letters whose items are all of category medication; {N_CASES}")
    add(I, "were there any 2017 cases where every request was reversed? which ones",
        E_cases([L for L in dev17() if all(i.overturned for i in L.items)]),
        f"{N_LET}; decision date in 2017 and all items overturned; {N_OVT}; {N_CASES}")

    # ============================================================ cases_service
    I = "cases_service"

    def csv_(q, family, extra_pools=()):
        alts = [letters_of(p) for p in fam_readings(family)[1:]] + [letters_of(p) for p in extra_pools]
        add(I, q, E_cases(letters_of(fam(family)), alts), f"{N_LET}; letters with an item of {fam_note(family)}; {N_CASES}")

    csv_("our defense team is reviewing electrodiagnostics — which cases involve an EMG?", "EMG")
    csv_("list every case with a lidocaine or Lidoderm request", "lidocaine")
    csv_("Pull the case numbers for all the home health aide disputes.", "home health aide")
    csv_("which letters had a request for acupuncture", "acupuncture")
    csv_("hospital beds: which cases had one requested", "hospital bed")
    csv_("case numbers where a urine drug screen was disputed?", "urine drug screen")
    csv_("Which claims involved a cervical MRI", "cervical MRI")
    csv_("was a TENS unit part of any decision? give me the case numbers", "TENS unit")
    csv_("which cases had Norco at issue", "Norco")
    csv_("what cases have a functional capacity eval (FCE)", "functional capacity evaluation")
    csv_("for my spreadsheet, which cases involve x rays?", "X-ray")
    csv_("cases with an epidural (ESI)?", "epidural steroid injection")
    csv_("which cases involve chiropractic care", "chiropractic")
    csv_("which files involve carpal tunnel surgery", "carpal tunnel release")

    # ============================================================ cases_period
    I = "cases_period"

    def cp(q, letters, what, alts=()):
        add(I, q, E_cases(letters, alts), f"{N_LET}; {what}; {N_DATE}; {N_CASES}")

    cp("which cases were decided in the first week of February 2017", period("2017-02-01", "2017-02-07"), "decision date 2017-02-01..2017-02-07")
    cp("list decisions dated between 01/10/2017 and 01/20/2017", period("2017-01-10", "2017-01-20"), "decision date 2017-01-10..2017-01-20 inclusive")
    cp("Which cases had a date of injury in December 2016?", month(2016, 12, "date_of_injury"), "date of injury in 2016-12")
    cp("of everything in the library, which letters were decided in 2022", year(2022), "decision date in 2022")
    cp("which cases had a UR denial in January 2017 (UR date, not decision date)", month(2017, 1, "ur_denial_date"), "UR denial date in 2017-01")
    cp("which IMR applications were received before Christmas 2016?", period(None, "2016-12-24", "application_received"),
       "application received before 2016-12-25")
    cp("cases assigned to a reviewer on or after Jan 15, 2017", period("2017-01-15", None, "date_assigned"),
       "date assigned >= 2017-01-15 (open period; the reading clamped at TODAY is the same set here)",
       [period("2017-01-15", TODAY, "date_assigned")])
    cp("Which decisions came out the week of Feb 13 2017?", period("2017-02-13", "2017-02-19"), "decision date 2017-02-13..2017-02-19",
       [period("2017-02-13", "2017-02-17")])
    cp("which cases were decided after 2023", period("2024-01-01", None), "decision date 2024-01-01 onward; the reading clamped at TODAY (no letter) also accepted",
       [period("2024-01-01", TODAY)])
    cp("which letters had an injury date in 2017", year(2017, "date_of_injury"), "date of injury in 2017")
    cp("which cases were decided on valentine's day 2017", period("2017-02-14", "2017-02-14"), "decision date 2017-02-14")

    # ============================================================ case_date_field
    I = "case_date_field"

    def cdf(q, case, field):
        add(I, q, E_date(C(case).dates[field]), f"the {g.DATE_FIELDS[field]} of {case} (gold field {field})")

    cdf("when was CM16-0239607 decided?", "CM16-0239607", "decision_date")
    cdf("DOI for CM17-0009996", "CM17-0009996", "date_of_injury")
    cdf("what was the UR denial date in cm17-0021126", "CM17-0021126", "ur_denial_date")
    cdf("Date the IMR application was received for CM16-0246487?", "CM16-0246487", "application_received")
    cdf("when did CM17-0015790 get assigned to a reviewer", "CM17-0015790", "date_assigned")
    cdf("for case cm99-0000008, when did the injury happen?", "CM99-0000008", "date_of_injury")
    cdf("date of decision, CM99-0000005", "CM99-0000005", "decision_date")
    cdf("When did the IRO decision in 2024-99011 go out?", "2024-99011", "decision_date")
    cdf("what day did utilization review issue its denial in CM16-0248655", "CM16-0248655", "ur_denial_date")
    cdf("when was the injured worker in CM17-0008633 hurt", "CM17-0008633", "date_of_injury")
    cdf("CM16-0249170 assignment date?", "CM16-0249170", "date_assigned")
    cdf("In case CM17-0003591, when was the application for IMR received?", "CM17-0003591", "application_received")
    cdf("what date did IMR issue its final determination on CM17-0006634", "CM17-0006634", "decision_date")
    cdf("when did UR deny the request in CM99-0000009", "CM99-0000009", "ur_denial_date")
    cdf("the injury date for CM16-0237163 please", "CM16-0237163", "date_of_injury")
    cdf("When was the decision letter for 2024-99010 sent to the parties?", "2024-99010", "decision_date")
    cdf("CM17-0009840: decision date", "CM17-0009840", "decision_date")
    cdf("on what date was case CM16-0245295 assigned", "CM16-0245295", "date_assigned")
    add(I, "what was the date of injury in the Texas case 2024-99011?", E_notstated(),
        "gold date_of_injury of 2024-99011 is empty: the letter states no injury date; saying so (or an empty value) is right")

    # ============================================================ case_clarify
    I = "case_clarify"
    n_cl = "must be asked back: {}"
    add(I, "when was CM16-0243394", E_clarify(), n_cl.format("a date for a case with no field named (decision, injury, UR denial, assigned, received)"))
    add(I, "date for CM16-0248698?", E_clarify(), n_cl.format("a date for a case with no field named"))
    add(I, "and for the other one?", E_clarify(), n_cl.format("refers to something not in the question"))
    add(I, "what about the second case", E_clarify(), n_cl.format("refers to a previous answer not in the question"))
    add(I, "same question but for the knee one", E_clarify(), n_cl.format("refers to a previous question not given"))
    add(I, "was it overturned?", E_clarify(), n_cl.format("'it' has no referent"))
    add(I, "how many were there in that period", E_clarify(), n_cl.format("'that period' has no referent"))
    add(I, "what's the date on cm99-0000004", E_clarify(), n_cl.format("a date for a case with no field named"))
    add(I, "what did they decide for the MRI", E_clarify(), n_cl.format("16 MRI items in 14 letters; which one is not said"))
    add(I, "how long did it take", E_clarify(), n_cl.format("no case and no pair of dates"))
    add(I, "compare it with last year", E_clarify(), n_cl.format("'it' has no referent"))
    add(I, "who reviewed the shoulder case?", E_clarify(), n_cl.format("several letters concern a shoulder (CM16-0246487, CM17-0009840, "
                                                                        "CM17-0010728, CM99-0000006, CM16-0232543)"))
    add(I, "is that the same reviewer as before", E_clarify(), n_cl.format("no referent for 'that' or 'before'"))
    add(I, "CM17-0009887 - what's the date", E_clarify(), n_cl.format("a date for a case with no field named"))
    add(I, "what was the outcome for physical therapy in the february case?", E_clarify(),
        n_cl.format("several February 2017 letters have a physical therapy item"))

    # ============================================================ case_outcome_service
    I = "case_outcome_service"

    def cos2(q, case, pattern):
        it = item_of(case, pattern)
        add(I, q, E_outcome(it.determination), f"determination of item '{it.service}' of {case}: {it.determination}")

    cos2("in CM16-0246487, was the Percocet approved or denied?", "CM16-0246487", r"percocet")
    cos2("what happened to the sling in CM16-0246487", "CM16-0246487", r"sling")
    cos2("CM17-0008519 lumbar MRI — outcome?", "CM17-0008519", r"mri")
    cos2("what did IMR do with the lidocaine ointment in CM17-0006634", "CM17-0006634", r"lidocaine")
    cos2("2024-99011: how did the cervical MRI come out", "2024-99011", r"mri")
    cos2("Outcome of the urine drug screen in cm99-0000006?", "CM99-0000006", r"urine drug")
    cos2("what did the reviewer decide on the Zofran in CM16-0246487", "CM16-0246487", r"zofran")
    cos2("For the spine surgery evaluation in CM16-0247802, upheld or overturned?", "CM16-0247802", r"spine surgery")
    cos2("in cm99-0000009 how did the medial branch block request fare", "CM99-0000009", r"medial branch")
    cos2("What was the determination on the LSO brace in CM99-0000009?", "CM99-0000009", r"orthosis")
    cos2("CM17-0005344 — pulsed ultrasound: sustained or reversed?", "CM17-0005344", r"ultrasound")
    cos2("the wheelchair in CM99-0000008, what was the final call", "CM99-0000008", r"wheelchair")
    cos2("In CM99-0000002 what happened with the oxycodone? was it sustained or overturned", "CM99-0000002", r"oxycodone")
    cos2("celecoxib in CM16-0248698 - result at IMR", "CM16-0248698", r"celecoxib")
    cos2("what was the IMR outcome for the hot/cold therapy unit in CM99-0000006", "CM99-0000006", r"hot and cold")
    cos2("was the gabapentin in CM99-0000004 certified or not", "CM99-0000004", r"gabapentin")

    # ============================================================ case_item_count
    I = "case_item_count"

    def cic(q, case, pred=None, vals=None, what="all items"):
        L = C(case)
        v = vals if vals is not None else sum(1 for it in L.items if (pred is None or pred(it)))
        add(I, q, E_num(v), f"{N_ITEM}; items of {case}: {what}")

    cic("I'm summarizing CM16-0248698 for a file review; how many items were in dispute in that one", "CM16-0248698")
    cic("number of disputed services in CM99-0000006?", "CM99-0000006")
    cic("How many separate requests did CM16-0232543 cover?", "CM16-0232543")
    cic("how many of the items in CM16-0246487 were overturned", "CM16-0246487", lambda i: i.overturned, what="overturned")
    cic("in CM99-0000006, how many requests were upheld?", "CM99-0000006", lambda i: i.upheld, what="upheld")
    cic("how many treatments were at issue in CM17-0005344", "CM17-0005344")
    cic("How many meds were disputed in CM16-0247802?", "CM16-0247802", lambda i: i.category == "medication", what="category medication")
    L698 = C("CM16-0248698")
    cic("how many imaging requests were in CM16-0248698", "CM16-0248698",
        vals=[sum(i.category == "imaging" for i in L698.items), len(rx_items(r"x-ray|\bmri\b", L698.items))],
        what="gold category imaging (includes EMG/NCV) or only X-ray/MRI items (both accepted)")
    cic("how many requests in CM99-0000008 were approved", "CM99-0000008", lambda i: i.overturned, what="overturned")
    cic("items disputed in 2024-99010?", "2024-99010")
    cic("how many separate issues did the reviewer decide in cm17-0006634", "CM17-0006634")
    cic("how many medications were listed for review in CM16-0248698", "CM16-0248698", lambda i: i.category == "medication", what="category medication")

    # ============================================================ case_reviewer
    I = "case_reviewer"

    def crv(q, case, accept, all_=False, what="specialty"):
        L = C(case)
        src = L.specialty if what == "specialty" else ", ".join(L.licensure)
        add(I, q, E_text(accept, all_), f"reviewer {what} of {case}: {src}" + ("; every state must be named" if all_ else ""))

    crv("what specialty was the reviewer on CM17-0009840", "CM17-0009840", ["emergency medicine"])
    crv("who reviewed CM16-0246487 — what's their board certification?", "CM16-0246487", ["orthopedic surgery", "orthopaedic surgery", "orthopedic"])
    crv("Which states was the CM16-0232543 reviewer licensed in?", "CM16-0232543", ["texas", "ohio"], True, "licensure")
    crv("reviewer's specialty in CM99-0000002", "CM99-0000002", ["anesthesiology", "pain management"])
    crv("what kind of doctor decided CM17-0009883", "CM17-0009883", ["internal medicine", "rheumatology"])
    crv("reviewer licensure for CM16-0245295", "CM16-0245295", ["massachusetts", "new hampshire", "new york"], True, "licensure")
    crv("CM99-0000008 - reviewer's specialty?", "CM99-0000008", ["physical medicine", "brain injury"])
    crv("What's the reviewer's field for 2024-99011?", "2024-99011", ["neurology"])
    crv("where is the CM17-0021126 reviewer licensed", "CM17-0021126", ["california", "virginia"], True, "licensure")
    crv("specialty of the expert reviewer, CM16-0248655", "CM16-0248655", ["preventive medicine", "occupational medicine", "medical toxicology"])
    crv("what certification did the reviewer in cm99-0000009 hold", "CM99-0000009", ["anesthesiology"])
    crv("For CM17-0003591, what specialties are listed for the reviewer?", "CM17-0003591", ["anesthesiology", "pain management", "hospice"], True)
    crv("the reviewer in CM16-0247274: which states is he or she licensed in", "CM16-0247274", ["texas", "california", "new mexico"], True, "licensure")

    # ============================================================ case_patient
    I = "case_patient"

    def cpa(q, case, what):
        L = C(case)
        if what == "age":
            add(I, q, E_num(L.age), f"patient age of {case}: {L.age}")
        else:
            acc = ["female", "woman"] if L.sex == "female" else ["male", " man"]
            add(I, q, E_text(acc), f"patient sex of {case}: {L.sex}")

    cpa("how old was the injured worker in CM16-0248655", "CM16-0248655", "age")
    cpa("patient sex in CM17-0021126?", "CM17-0021126", "sex")
    cpa("age of the claimant, CM99-0000004", "CM99-0000004", "age")
    add(I, "is the injured worker in CM99-0000004 male or female", E_notstated(),
        "gold patient sex of CM99-0000004 is empty: the letter does not state it; saying so is right")
    add(I, "How old was the patient in CM16-0249170?", E_notstated(),
        "gold patient age of CM16-0249170 is empty: the letter does not state it; saying so is right")
    cpa("age of the IW in 2024-99010", "2024-99010", "age")
    cpa("gender of the applicant in CM17-0009883", "CM17-0009883", "sex")
    cpa("CM17-0015790: how old is the claimant?", "CM17-0015790", "age")
    cpa("what age was the worker in CM16-0243394 at the time of review", "CM16-0243394", "age")
    cpa("was the patient in cm99-0000007 a man or a woman?", "CM99-0000007", "sex")
    cpa("how old is the claimant in the Texas case 2024-99011", "2024-99011", "age")
    L7163 = C("CM16-0237163")
    add(I, "CM16-0237163 — patient's age and sex", E_text([str(L7163.age), L7163.sex], all_=True),
        f"patient of CM16-0237163: {L7163.age}, {L7163.sex}; both must be named")
    cpa("how old was the injured employee in CM17-0009996", "CM17-0009996", "age")

    # ============================================================ priority
    I = "priority"
    exp_ = [L for L in Ls() if L.priority == "Expedited"]
    std = [L for L in Ls() if L.priority == "Standard"]
    add(I, "how many expedited reviews are there", E_num(len(exp_), unit="letters"), f"{N_LET}; priority Expedited")
    add(I, "Which case was handled on an expedited basis?", E_cases(exp_), f"{N_LET}; priority Expedited")
    add(I, "what was the priority of CM16-0249735 - standard or expedited?", E_text([C("CM16-0249735").priority.lower()]), "gold priority of CM16-0249735")
    add(I, "how many standard-priority decisions were issued in 2017?", E_num(sum(L.priority == "Standard" for L in dev17()), unit="letters"),
        f"{N_LET}; priority Standard and decision date in 2017")
    add(I, "were any expedited reviews decided in 2017", E_bool(any(L.priority == "Expedited" for L in dev17())),
        "any letter with priority Expedited and decision date in 2017")
    add(I, "share of letters that were standard priority", E_num([len(std) / len(Ls()), len(std) / (len(std) + len(exp_))], share=True),
        f"{N_LET}; Standard letters / all letters, or / letters stating a priority (both accepted); {N_SHARE}")
    add(I, "in the expedited case, how many items were overturned?", E_num(cnt(items_of(exp_), "overturned")),
        f"{N_ITEM}; items of the Expedited letter; {N_OVT}")
    add(I, "priority level for CM99-0000008", E_text([C("CM99-0000008").priority.lower()]), "gold priority of CM99-0000008")
    add(I, "How many standard reviews overturned at least one item", E_num(sum(has_ovt(L) for L in std), unit="letters"),
        f"{N_LET}; priority Standard and >= 1 overturned item; {N_OVT}")

    # ============================================================ duration_avg
    I = "duration_avg"
    F = {"dec": "decision_date", "inj": "date_of_injury", "ur": "ur_denial_date", "asg": "date_assigned", "rcv": "application_received"}

    def da(q, letters, a, b, what="all letters"):
        add(I, q, E_num(mean_dur(letters, F[a], F[b]), tol=0.6),
            f"{N_DUR}; mean of ({g.DATE_FIELDS[F[b]]} - {g.DATE_FIELDS[F[a]]}) over {what}")

    da("On average, how many days pass from the UR denial to the IMR decision?", Ls(), "ur", "dec")
    da("average time between application received and decision, in days", Ls(), "rcv", "dec")
    da("avg days from assignment to decision", Ls(), "asg", "dec")
    da("what's the mean turnaround from receipt of the application to assignment of a reviewer", Ls(), "rcv", "asg")
    da("for the 2017 decisions, average days between injury and decision", dev17(), "inj", "dec", "letters decided in 2017")
    da("average lag from the date of injury to the UR denial?", Ls(), "inj", "ur")
    da("for the 2022 letters, average number of days from UR denial to the application being received", year(2022), "ur", "rcv",
       "letters decided in 2022")
    da("How long does IMR take on average from receipt of the application to the final determination, for cases decided in February 2017?",
       month(2017, 2), "rcv", "dec", "letters decided in 2017-02")
    da("For orthopedic surgery reviewers, what's the average number of days from assignment to decision?",
       [L for L in Ls() if spec_has(L, "Orthopedic Surgery")], "asg", "dec", f"letters whose specialty includes Orthopedic Surgery; {N_SPEC}")
    da("average days between DOI and UR denial across 2023 decisions", year(2023), "inj", "ur", "letters decided in 2023")
    da("for the January 2017 letters, mean days from UR denial to decision", month(2017, 1), "ur", "dec", "letters decided in 2017-01")

    # ============================================================ duration_case
    I = "duration_case"

    def dc(q, case, a, b, div=1):
        d = dur(C(case), F[a], F[b])
        add(I, q, E_num(round(d / div, 2), tol=0.6 if div == 1 else 0.15),
            f"{g.DATE_FIELDS[F[b]]} - {g.DATE_FIELDS[F[a]]} of {case} = {d} days" + (f" = {d / div:.2f} weeks" if div == 7 else ""))

    dc("how many days passed between the UR denial and the decision in CM16-0240900", "CM16-0240900", "ur", "dec")
    dc("in CM17-0009883, days from application received to decision?", "CM17-0009883", "rcv", "dec")
    dc("How long did CM99-0000008 take from assignment to decision?", "CM99-0000008", "asg", "dec")
    dc("number of days between injury and decision for CM16-0232543", "CM16-0232543", "inj", "dec")
    dc("time from UR denial to the IMR application for CM16-0249735, in days", "CM16-0249735", "ur", "rcv")
    dc("how many days after the injury did UR deny the request in CM17-0005344", "CM17-0005344", "inj", "ur")
    dc("CM17-0021126: days from assigned to decided", "CM17-0021126", "asg", "dec")
    dc("how long was CM99-0000009 pending from application received until decided (days)?", "CM99-0000009", "rcv", "dec")
    dc("how many weeks from UR denial to decision in CM17-0010728", "CM17-0010728", "ur", "dec", div=7)
    dc("days between application receipt and assignment, CM16-0248655", "CM16-0248655", "rcv", "asg")
    dc("For CM99-0000005, how many days elapsed between the UR denial and the final determination?", "CM99-0000005", "ur", "dec")

    # ============================================================ extremes
    I = "extremes"
    L_, _ = uniq_max(Ls(), lambda L: len(L.items))
    add(I, "across all the letters, which case had the most disputed items", E_cases([L_]), f"{N_LET}; letter with the most items ({len(L_.items)})")
    L_, v = uniq_max(Ls(), lambda L: L.age)
    add(I, "the oldest injured worker in the set — which case is that?", E_cases([L_]), f"{N_LET}; letter with the highest patient age ({v})")
    add(I, "youngest claimant's age?", E_num(min(L.age for L in Ls() if L.age is not None)), f"{N_LET}; minimum patient age")
    add(I, "earliest decision date in the library", E_date(min(L.decision for L in Ls() if L.decision)), f"{N_LET}; minimum decision date")
    add(I, "What's the most recent decision date we have?", E_date(max(L.decision for L in Ls() if L.decision)), f"{N_LET}; maximum decision date")
    vals = {L.label: dur(L, F["rcv"], F["dec"]) for L in dev17()}
    v = max(vals.values())
    win = [L for L in dev17() if vals[L.label] == v]
    add(I, "of the 2017 cases, which one took longest from application received to decision", E_cases(win, [[L] for L in win]),
        f"{N_LET}; decided in 2017; max (decision - application received) = {v} days; tie between "
        f"{', '.join(L.label for L in win)}: either or both accepted")
    L_, v = uniq_min(Ls(), lambda L: dur(L, F["ur"], F["dec"]))
    add(I, "shortest gap between UR denial and IMR decision — which case?", E_cases([L_]),
        f"{N_LET}; min (decision - UR denial) = {v} days over letters having both dates")
    add(I, "oldest injury date on file", E_date(min(L.dates["date_of_injury"] for L in Ls() if L.dates["date_of_injury"])),
        f"{N_LET}; minimum date of injury")
    L_, v = uniq_max(Ls(), lambda L: dur(L, F["inj"], F["dec"]))
    add(I, "which case had the longest wait from injury to decision?", E_cases([L_]), f"{N_LET}; max (decision - injury) = {v} days")
    add(I, "among the 2017 decisions, what is the most recent date of injury", E_date(max(L.dates["date_of_injury"] for L in dev17())),
        f"{N_LET}; decided in 2017; maximum date of injury")

    # ============================================================ rank_services
    I = "rank_services"
    RL = lambda pool: Counter(g.rank_label(it) for it in pool)

    def rks(q, pool, top, what):
        c = RL(pool)
        add(I, q, E_rank(c, top, fam_accept(c)), f"{N_ITEM}; {what}; each item labelled by the first family of gold.RANK_FAMILIES "
            f"(else its service); ties form one group")

    rks("for a presentation to adjusters — what are the three most commonly disputed services?", Is(), 3, "count of items per label")
    rks("Top 5 requested treatments, with counts", Is(), 5, "count of items per label")
    rks("which services get fully overturned most often? top 2 by count", [i for i in Is() if i.overturned], 2,
        f"count of overturned items per label; {N_OVT} (strict)")
    rks("in the 2017 letters, rank the services IMR upheld most — top 3", [i for i in items_of(dev17()) if i.upheld], 3,
        "count of upheld items of letters decided in 2017 per label")
    rks("in 2017 decisions what was the single most disputed service", items_of(dev17()), 1, "count of items of 2017 letters per label")
    rks("most frequently requested medication?", [i for i in Is() if i.category == "medication"], 1, "count of medication items per label")
    rks("top 3 imaging studies requested", [i for i in Is() if i.category == "imaging"], 3, "count of imaging items per label")
    rks("which therapy is requested most", [i for i in Is() if i.category == "therapy"], 1, "count of therapy items per label")
    rks("rank the drugs by how often they were denied, top 2", [i for i in Is() if i.category == "medication" and i.upheld], 2,
        "count of upheld medication items per label")
    c = Counter(g.rank_label(it) for L in Ls() for it in {g.rank_label(i): i for i in L.items}.values())
    add(I, "top 3 services by the number of letters they show up in", E_rank(c, 3, fam_accept(c)),
        f"{N_LET}; letters with >= 1 item of each label (gold.RANK_FAMILIES labels); ties form one group")

    # ============================================================ rank_month
    I = "rank_month"

    def rkm(q, counter, what, unit="letters"):
        rows = g.ranking(counter)
        assert len(rows) == 1 or rows[0][1] > rows[1][1], rows[:3]
        key, n = rows[0]
        add(I, q, E_text(month_accept(key), counts=[n]), f"{what}; winner {month_label(key)} with {n} {unit}")

    rkm("which month saw the most IMR decisions", Counter(g.month_key(L.decision) for L in Ls() if L.decision), f"{N_LET}; letters per decision month")
    rkm("In which month were the most items overturned?", Counter(g.month_key(i.letter.decision) for i in Is() if i.overturned and i.letter.decision),
        f"{N_ITEM}; overturned items per decision month; {N_OVT} (strict; the partial item is in another month)", "items")
    rkm("busiest month for UR denials", Counter(g.month_key(L.dates['ur_denial_date']) for L in Ls() if L.dates['ur_denial_date']),
        f"{N_LET}; letters per UR denial month")
    rkm("which month had the most injuries, going by DOI?", Counter(g.month_key(L.dates['date_of_injury']) for L in Ls() if L.dates['date_of_injury']),
        f"{N_LET}; letters per date-of-injury month")
    rkm("month with the most IMR applications received", Counter(g.month_key(L.dates['application_received']) for L in Ls() if L.dates['application_received']),
        f"{N_LET}; letters per application-received month")
    rkm("which month had the most disputed items decided", Counter(g.month_key(i.letter.decision) for i in Is() if i.letter.decision),
        f"{N_ITEM}; items per decision month", "items")
    rkm("What month were the most cases assigned to reviewers?", Counter(g.month_key(L.dates['date_assigned']) for L in Ls() if L.dates['date_assigned']),
        f"{N_LET}; letters per date-assigned month")
    c = Counter(month_label(g.month_key(L.decision)) for L in dev17())
    add(I, "rank the months of 2017 by number of decisions", E_rank(c, len(c), {k: month_accept(k2) for k in c for k2 in
        [g.month_key(L.decision) for L in dev17()] if month_label(k2) == k}),
        f"{N_LET}; letters per decision month within 2017")

    # ============================================================ rank_specialty
    I = "rank_specialty"

    def spec_counter(pairs) -> Counter:
        c = Counter()
        for L, w in pairs:
            for s in g.specialties(L):
                c[s] += w
        return c

    def rksp(q, counter, what, unit, whole=None):
        rows = g.ranking(counter)
        top = rows[0][1]
        winners = [k for k, v in rows if v == top]
        acc, counts = list(winners), [top]
        if whole:
            acc += [k for k, v in whole.items() if v == max(whole.values())]
            counts.append(max(whole.values()))
        add(I, q, E_text(acc, counts=counts), f"{N_SPEC}; {what}; top: {', '.join(winners)} with {top} {unit}"
            + (f"; whole specialty string also accepted ({max(whole.values())})" if whole else "") + ("; tie, any winner accepted" if len(winners) > 1 else ""))

    whole = Counter(L.specialty for L in Ls() if L.specialty)
    rksp("Which reviewer specialty handled the most cases?", spec_counter((L, 1) for L in Ls()), f"{N_LET}; letters per specialty part", "letters", whole)
    rksp("which specialty reviewed the most individual items", spec_counter((L, len(L.items)) for L in Ls()), f"{N_ITEM}; items per specialty part", "items")
    rksp("Which specialty overturned the most items?", spec_counter((L, sum(i.overturned for i in L.items)) for L in Ls()),
         f"{N_ITEM}; overturned items per specialty part; {N_OVT} (strict)", "items")
    rksp("in the 2017 letters, which specialty shows up most", spec_counter((L, 1) for L in dev17()), f"{N_LET}; 2017 letters per specialty part", "letters",
         Counter(L.specialty for L in dev17()))
    rksp("which specialty upheld the most denials", spec_counter((L, sum(i.upheld for i in L.items)) for L in Ls()),
         f"{N_ITEM}; upheld items per specialty part", "items")
    rksp("which specialty reviewed the most medication requests?", spec_counter((L, sum(i.category == "medication" for i in L.items)) for L in Ls()),
         f"{N_ITEM}; medication items per specialty part", "items")
    c = spec_counter((L, 1) for L in Ls())
    add(I, "top 3 reviewer specialties by number of letters", E_rank(c, 3), f"{N_LET}; {N_SPEC}; letters per specialty part; ties form one group")
    rksp("For letters decided in 2023, which reviewer specialty overturned the most items?",
         spec_counter((L, sum(i.overturned for i in L.items)) for L in year(2023)), f"{N_ITEM}; overturned items of 2023 letters per specialty part", "items")

    # ============================================================ rank_category
    I = "rank_category"

    def rkc(q, counter, top, what, reverse=False):
        if reverse:
            rows = sorted(counter.items(), key=lambda kv: (kv[1], kv[0]))
            assert rows[0][1] < rows[1][1]
            add(I, q, E_text(CAT_ACCEPT[rows[0][0]]), f"{what}; lowest: {rows[0][0]} ({rows[0][1]})")
            return
        add(I, q, E_rank(counter, top, {k: CAT_ACCEPT[k] for k in counter}), f"{what}; ties form one group")

    catc = Counter(i.category for i in Is())
    rkc("which category of treatment is disputed most", catc, 1, f"{N_ITEM}; items per gold category")
    rkc("rank categories by number of fully overturned items, top 2", Counter(i.category for i in Is() if i.overturned), 2,
        f"{N_ITEM}; overturned items per category; {N_OVT} (strict)")
    rate_c = {k: round(sum(i.overturned for i in Is() if i.category == k) / n, 4) for k, n in catc.items()}
    rkc("Which category has the highest overturn rate?", rate_c, 1, f"{N_ITEM}; overturned / items per category; {N_SHARE}")
    rkc("rank item categories by count, top three please", catc, 3, f"{N_ITEM}; items per gold category")
    rkc("what category of request was upheld most often in 2017", Counter(i.category for i in items_of(dev17()) if i.upheld), 1,
        f"{N_ITEM}; upheld items of 2017 letters per category")
    rkc("category with the lowest overturn rate?", rate_c, 1, f"{N_ITEM}; overturned / items per category", reverse=True)
    rkc("in the 2023 letters, what category had the most items", Counter(i.category for i in items_of(year(2023))), 1,
        f"{N_ITEM}; items of 2023 letters per category")
    rkc("For female claimants, which kind of request was most common?", Counter(i.category for L in Ls() if L.sex == "female" for i in L.items), 1,
        f"{N_ITEM}; items of letters with a female patient per category")

    # ============================================================ compare
    I = "compare"
    ovt = lambda pool: sum(i.overturned for i in pool)
    share = lambda pool: round(ovt(pool) / len(pool), 4)
    add(I, "MRI vs X-ray: how many of each were overturned?", E_cmp([("MRI", ovt(fam("MRI"))), ("X-ray", ovt(fam("X-ray")))], fam_accept(["MRI", "X-ray"])),
        f"{N_ITEM}; overturned items per family; {fam_note('MRI')}; {fam_note('X-ray')}")
    add(I, "compare men and women by number of letters", E_cmp([("male", sum(L.sex == "male" for L in Ls())), ("female", sum(L.sex == "female" for L in Ls()))],
        {"male": ["male", "men"], "female": ["female", "women"]}), f"{N_LET}; letters per patient sex")
    add(I, "January vs February 2017 — number of decisions each", E_cmp([("January 2017", len(month(2017, 1))), ("February 2017", len(month(2017, 2)))],
        {"January 2017": ["january", "jan"], "February 2017": ["february", "feb"]}), f"{N_LET}; letters per decision month")
    add(I, "2022 versus 2023: how many items were overturned in each year", E_cmp([("2022", ovt(items_of(year(2022)))), ("2023", ovt(items_of(year(2023))))]),
        f"{N_ITEM}; overturned items per decision year; {N_OVT}")
    med = [i for i in Is() if i.category == "medication"]
    imgi = [i for i in Is() if i.category == "imaging"]
    add(I, "medication vs imaging overturn rate", E_cmp([("medication", share(med)), ("imaging", share(imgi))], {"medication": CAT_ACCEPT["medication"],
        "imaging": CAT_ACCEPT["imaging"]}), f"{N_ITEM}; overturned / items per category; {N_SHARE}")
    add(I, "how do the upheld counts compare for Norco and tramadol", E_cmp([("Norco", sum(i.upheld for i in fam("Norco"))),
        ("tramadol", sum(i.upheld for i in fam("tramadol")))], fam_accept(["Norco", "tramadol"])), f"{N_ITEM}; upheld items per family")
    exp_items = items_of([L for L in Ls() if L.priority == "Expedited"])
    std_items = items_of([L for L in Ls() if L.priority == "Standard"])
    add(I, "overturn share, expedited vs standard reviews", E_cmp([("Expedited", share(exp_items)), ("Standard", share(std_items))]),
        f"{N_ITEM}; overturned / items per priority (letters without a priority excluded); {N_SHARE}")
    add(I, "compare Family Practice and Internal Medicine reviewers by how many cases each decided",
        E_cmp([("Family Practice", sum(spec_has(L, "Family Practice") for L in Ls())), ("Internal Medicine", sum(spec_has(L, "Internal Medicine") for L in Ls()))]),
        f"{N_LET}; {N_SPEC}; letters per specialty part")
    mi = items_of([L for L in ca() if L.sex == "male"])
    fi = items_of([L for L in ca() if L.sex == "female"])
    add(I, "in the California letters, male vs female claimants — share of items overturned", E_cmp([("male", share(mi)), ("female", share(fi))],
        {"male": ["male", "men"], "female": ["female", "women"]}), f"{N_ITEM}; {N_TX}; overturned / items per patient sex, California letters; {N_SHARE}")
    add(I, "ACOEM vs ODG: in how many items is each cited?", E_cmp([("ACOEM", sum("ACOEM" in i.guidelines for i in Is())),
        ("ODG", sum("ODG" in i.guidelines for i in Is()))], {"ODG": ["odg", "official disability"]}), f"{N_ITEM}; items whose guidelines include each source")
    add(I, "acupuncture vs TENS: how many requests of each", E_cmp([("acupuncture", len(fam("acupuncture"))), ("TENS unit", len(fam("TENS unit")))],
        fam_accept(["acupuncture", "TENS unit"])), f"{N_ITEM}; items per family")

    # ============================================================ guideline
    I = "guideline"
    gi = lambda src: [i for i in Is() if src in i.guidelines]
    add(I, "how many items cite ODG (the Official Disability Guidelines)", E_num(len(gi("ODG"))), f"{N_ITEM}; items whose reviewer guidelines include ODG")
    add(I, "Which cases cite ACOEM?", E_cases(letters_of(gi("ACOEM"))), f"{N_LET}; letters with an item citing ACOEM; {N_CASES}")
    add(I, "what guideline was cited for the hospital bed in CM17-0009996", E_text(["odg", "official disability"]),
        f"guidelines of the hospital bed item of CM17-0009996: {item_of('CM17-0009996', 'hospital bed').guidelines}")
    add(I, "how many items relied on MTUS alone, no other guideline?", E_num(sum(i.guidelines == ["MTUS"] for i in Is())),
        f"{N_ITEM}; items whose guideline sources are exactly {{MTUS}}")
    add(I, "in how many letters does the reviewer cite ODG", E_num(len(letters_of(gi("ODG"))), unit="letters"), f"{N_LET}; letters with an item citing ODG")
    add(I, "what guideline did the reviewer rely on for the MRI in CM16-0240900?", E_text(["acoem"]),
        f"guidelines of the MRI item of CM16-0240900: {item_of('CM16-0240900', 'mri').guidelines}")
    add(I, "which case has a disputed item with no guideline cited at all", E_cases(letters_of([i for i in Is() if not i.guidelines])),
        f"{N_LET}; letters with an item whose guideline list is empty")
    add(I, "share of items citing MTUS?", E_num(len(gi("MTUS")) / len(Is()), share=True), f"{N_ITEM}; items citing MTUS / 118; {N_SHARE}")
    add(I, "how many overturned items cited ODG", E_num(sorted({sum(i.overturned for i in gi('ODG')), sum(i.overturned_loose for i in gi('ODG'))})),
        f"{N_ITEM}; items citing ODG and overturned; {N_OVT}")
    add(I, "guidelines used for the pelvis x-ray in CM16-0232543", E_text(["odg", "official disability"]),
        f"guidelines of the pelvis X-ray item of CM16-0232543: {item_of('CM16-0232543', 'pelvis').guidelines}")
    add(I, "How many items were decided with both MTUS and ODG cited?", E_num(sum({"MTUS", "ODG"} <= set(i.guidelines) for i in Is())),
        f"{N_ITEM}; items citing both MTUS and ODG")
    add(I, "is ACOEM cited in any 2023 letter", E_bool(any("ACOEM" in i.guidelines for i in items_of(year(2023)))),
        "any item of a 2023 letter citing ACOEM")

    # ============================================================ demographics
    I = "demographics"
    ages = sorted(L.age for L in Ls() if L.age is not None)
    add(I, "average age of the injured workers across all the letters", E_num(round(statistics.mean(ages), 2), tol=0.6),
        f"{N_LET}; mean patient age over letters stating an age ({len(ages)}); tolerance 0.6")
    add(I, "how many claimants were women", E_num(sum(L.sex == "female" for L in Ls()), unit="letters"), f"{N_LET}; patient sex female")
    med_vals = [statistics.median(ages)]
    if len(ages) % 2 == 0:
        med_vals += [ages[len(ages) // 2 - 1], ages[len(ages) // 2]]
    add(I, "What is the median age of the claimants?", E_num(med_vals, tol=0.1),
        f"{N_LET}; median patient age over letters stating an age; for an even count either middle value also accepted")
    add(I, "how many male injured workers are there in the 2017 decisions", E_num(sum(L.sex == "male" for L in dev17()), unit="letters"),
        f"{N_LET}; decided in 2017 and patient sex male")
    add(I, "age range of the patients — youngest and oldest?", E_text([str(ages[0]), str(ages[-1])], all_=True),
        f"{N_LET}; min and max patient age ({ages[0]}, {ages[-1]}); both must be named")
    fa = [L.age for L in Ls() if L.sex == "female" and L.age is not None]
    add(I, "average age of female claimants", E_num(round(statistics.mean(fa), 2), tol=0.6), f"{N_LET}; mean age of letters with a female patient")
    nm = sum(L.sex == "male" for L in Ls())
    add(I, "what share of the letters involve a male worker", E_num([nm / len(Ls()), nm / sum(L.sex is not None for L in Ls())], share=True),
        f"{N_LET}; male letters / all letters, or / letters stating a sex (both accepted); {N_SHARE}")
    add(I, "how many letters don't state the patient's sex?", E_num(sum(L.sex is None for L in Ls()), unit="letters"), f"{N_LET}; gold patient sex empty")
    ua = [L.age for L in Ls() if all_upheld(L) and L.age is not None]
    ua2 = [L.age for L in Ls() if all_upheld(L, True) and L.age is not None]
    add(I, "For a study on outcomes by age: what's the average age of workers whose requests were all upheld?",
        E_num([round(statistics.mean(ua), 2), round(statistics.mean(ua2), 2)], tol=0.6),
        f"{N_LET}; mean age of letters whose items are all upheld (the Texas partial letter counted as not all-upheld, or as upheld: both accepted)")
    add(I, "how many claimants were in their 40s", E_num(sum(40 <= a <= 49 for a in ages), unit="letters"), f"{N_LET}; patient age 40..49")

    # ============================================================ reviewer_agg
    I = "reviewer_agg"
    lic = lambda st: [L for L in Ls() if st in L.licensure]
    add(I, "not the Texas IRO letters — I mean how many letters were reviewed by someone licensed in Texas?", E_num(len(lic("Texas")), unit="letters"),
        f"{N_LET}; reviewer licensure includes Texas (not the Texas IRO letter format)")
    sc = Counter(s for L in Ls() for s in L.licensure)
    top_state, top_n = g.ranking(sc)[0]
    add(I, "which state are reviewers most often licensed in?", E_text([top_state.lower()], counts=[top_n]), f"{N_LET}; letters per licensure state; top {top_state} ({top_n})")
    add(I, "how many reviewers were licensed in Florida", E_num(len(lic("Florida")), unit="letters"), f"{N_LET}; one reviewer per letter; licensure includes Florida")
    add(I, "how many cases were reviewed by a pain management specialist?",
        E_num([sum(spec_has(L, "Pain Management") for L in Ls()), sum(spec_has(L, "Pain Management") or spec_has(L, "Pain Medicine") for L in Ls())], unit="letters"),
        f"{N_LET}; {N_SPEC}; specialty includes Pain Management (also counting Pain Medicine accepted)")
    add(I, "how many letters had a reviewer licensed in more than one state", E_num(sum(len(L.licensure) > 1 for L in Ls()), unit="letters"),
        f"{N_LET}; more than one licensure state")
    add(I, "Which cases were reviewed by an anesthesiologist?", E_cases([L for L in Ls() if spec_has(L, "Anesthesiology")]),
        f"{N_LET}; {N_SPEC}; specialty includes Anesthesiology")
    add(I, "how many decisions were made by Family Practice reviewers", E_num(sum(spec_has(L, "Family Practice") for L in Ls()), unit="letters"),
        f"{N_LET}; {N_SPEC}; specialty includes Family Practice")
    add(I, "how many reviewers were licensed only in California?", E_num(sum(L.licensure == ["California"] for L in Ls()), unit="letters"),
        f"{N_LET}; licensure exactly California")
    add(I, "how many items did PM&R reviewers overturn", E_num(cnt(items_of([L for L in Ls() if spec_has(L, "Physical Medicine and Rehabilitation")]), "overturned")),
        f"{N_ITEM}; {N_SPEC}; items of letters whose specialty includes Physical Medicine and Rehabilitation; {N_OVT}")
    add(I, "how many letters were decided by a reviewer licensed in New York", E_num(len(lic("New York")), unit="letters"),
        f"{N_LET}; licensure includes New York")

    # ============================================================ passage
    I = "passage"

    def ps(q, case, contains):
        add(I, q, E_passage(case, contains), f"a citation from {case}; one of {contains} in the answer or its quotes")

    ps("why did IMR deny the hospital bed in CM17-0009996? show me the language", "CM17-0009996", ["hospital bed"])
    ps("What was the reviewer's reasoning on the Lyrica in CM99-0000001?", "CM99-0000001", ["lyrica", "pregabalin"])
    ps("pull the rationale for overturning the shoulder MRI in CM17-0009840", "CM17-0009840", ["mri", "magnetic resonance"])
    ps("what did the reviewer say about transportation in CM17-0009883", "CM17-0009883", ["transportation"])
    ps("Why was the home aide request cut back in CM16-0249735?", "CM16-0249735", ["home aide", "home health"])
    ps("quote me the reason the shoulder arthroscopy in CM16-0246487 was approved", "CM16-0246487", ["arthroscop", "bankart"])
    ps("reasoning for upholding the tramadol denial, CM17-0021126", "CM17-0021126", ["tramadol", "opioid"])
    ps("what was the rationale for the carpal tunnel release denial in 2024-99010", "2024-99010", ["carpal tunnel"])
    ps("Why was the spinal cord stimulator trial approved in CM99-0000002?", "CM99-0000002", ["stimulator"])
    ps("what reason did the reviewer give for the Norco in CM17-0015790", "CM17-0015790", ["norco", "opioid"])
    ps("explain the decision on the cold therapy in CM16-0246487, with the quote", "CM16-0246487", ["cold therapy"])
    ps("show me the passage on the FCE in CM17-0006634", "CM17-0006634", ["functional capacity"])
    ps("I'm preparing for a hearing — why was the CBT approved in CM99-0000007?", "CM99-0000007", ["cognitive behavioral"])
    ps("what did IMR say about the urine drug screen in CM99-0000006", "CM99-0000006", ["urine drug"])
    ps("give me the rationale for the cervical MRI in CM16-0239607", "CM16-0239607", ["mri", "magnetic resonance"])

    # ============================================================ yesno
    I = "yesno"

    def yn_case(q, case, pattern, asks):
        it = item_of(case, pattern)
        v = it.determination == asks or (asks == "overturned" and it.determination == "partially_overturned")
        add(I, q, E_bool(v, asks), f"item '{it.service}' of {case} is {it.determination}; the question asks whether it was {asks}")

    yn_case("did IMR overturn the TENS unit in CM17-0006634?", "CM17-0006634", r"tens", "overturned")
    yn_case("was the Cymbalta in CM99-0000007 approved", "CM99-0000007", r"cymbalta", "overturned")
    add(I, "did any 2017 decision overturn a medication request?", E_bool(any(i.overturned for i in items_of(dev17()) if i.category == "medication")),
        f"{N_DATE}; any medication item of a 2017 letter overturned")
    add(I, "Is there any letter where an MRI was overturned", E_bool(any(i.overturned for i in fam("MRI"))), f"{fam_note('MRI')}; any overturned")
    add(I, "were all the X-ray requests denied?", E_bool(all(i.upheld for i in fam("X-ray"))), f"{fam_note('X-ray')}; all upheld")
    add(I, "has IMR ever approved an epidural steroid injection in this library", E_bool(any(i.overturned_loose for i in fam("epidural steroid injection"))),
        f"{fam_note('epidural steroid injection')}; any overturned")
    yn_case("was the UR denial upheld for the shoulder decompression in CM99-0000006", "CM99-0000006", r"decompression", "upheld")
    add(I, "any expedited reviews in 2022?", E_bool(any(L.priority == "Expedited" for L in year(2022))), "any Expedited letter decided in 2022")
    add(I, "did the reviewer in CM16-0248655 cite ACOEM", E_bool(any("ACOEM" in i.guidelines for i in C("CM16-0248655").items)),
        "any item of CM16-0248655 citing ACOEM")
    add(I, "Is the CM17-0009887 reviewer licensed in Arizona?", E_bool("Arizona" in C("CM17-0009887").licensure), "licensure of CM17-0009887")
    add(I, "were any hospital beds approved", E_bool(any(i.overturned for i in fam("hospital bed"))), f"{fam_note('hospital bed')}; any overturned")
    add(I, "did the worker in CM16-0247274 win anything at all?", E_bool(has_ovt(C("CM16-0247274"))), "any overturned item of CM16-0247274")
    add(I, "was every item in CM16-0246487 upheld", E_bool(all_upheld(C("CM16-0246487"))), "all items of CM16-0246487 upheld")
    add(I, "Did any acupuncture request get through IMR?", E_bool(any(i.overturned_loose for i in fam("acupuncture"))), f"{fam_note('acupuncture')}; any overturned")

    # ============================================================ none_found
    I = "none_found"

    def nf(q, stems, what):
        add(I, q, E_none(stems), f"no letter mentions {what} (checked: {', '.join(stems)} absent from every letter's text)")

    nf("how many botox injections were overturned", ["botox", "botulinum"], "Botox / botulinum toxin")
    nf("For a memo on spine procedures: which cases involved kyphoplasty?", ["kyphoplasty", "vertebroplasty"], "kyphoplasty or vertebroplasty")
    nf("ketamine infusion requests — how many were approved?", ["ketamine"], "ketamine")
    nf("list the cases with a platelet rich plasma (PRP) injection", ["platelet rich", "platelet-rich", " prp"], "PRP")
    nf("how many hyperbaric oxygen requests did IMR uphold", ["hyperbaric"], "hyperbaric oxygen")
    nf("any biofeedback sessions in dispute? which cases", ["biofeedback"], "biofeedback")
    nf("Of the 2017 decisions, how many involved a bone scan?", ["bone scan", "scintigra"], "a bone scan")
    nf("what was the outcome of the discogram requests", ["discogram", "discography"], "discography")
    nf("radiofrequency ablation: overturn rate?", ["radiofrequency", "rhizotomy", "ablation"], "radiofrequency ablation")
    nf("how many suboxone / buprenorphine requests were denied", ["suboxone", "buprenorphine"], "buprenorphine")
    nf("which cases dealt with medical marijuana", ["marijuana", "cannabis", "cannabinoid"], "cannabis")
    nf("number of massage therapy requests that were reversed", ["massage"], "massage therapy")
    nf("did anyone request a gym membership? list the cases", ["gym", "fitness club", "health club"], "a gym membership")
    nf("how many hearing aid requests were there in 2017", ["hearing aid", "audiolog"], "hearing aids")
    nf("sleep study requests — how many upheld?", ["sleep study", "polysomnogra"], "a sleep study")
    nf("Which letters involve fentanyl patches?", ["fentanyl", "duragesic"], "fentanyl")
    nf("how many requests for Ambien (zolpidem) were overturned", ["ambien", "zolpidem"], "zolpidem")
    nf("Were any shockwave therapy (ESWT) requests approved? how many", ["shockwave", "shock wave", "eswt"], "shockwave therapy")

    # ============================================================ exclusion
    I = "exclusion"
    not_mri = [i for i in Is() if i not in fam("MRI")]
    add(I, "how many items were overturned, not counting the MRIs?", E_num(cnt(not_mri, "overturned")),
        f"{N_ITEM}; overturned items outside {fam_note('MRI')}; {N_OVT}")
    ther = [i for i in Is() if i.category == "therapy"]
    add(I, "other than physical therapy, how many therapy-category requests were there",
        E_num(sorted({len([i for i in ther if i not in p]) for p in fam_readings("physical therapy")})),
        f"{N_ITEM}; category therapy minus {fam_note('physical therapy')}")
    add(I, "list cases with an overturned item, excluding the 2017 decisions", E_cases([L for L in Ls() if has_ovt(L) and L not in dev17()],
        [[L for L in Ls() if has_ovt(L, True) and L not in dev17()]]), f"{N_LET}; >= 1 overturned item and decision date not in 2017 "
        f"(the undated letter included); {N_OVT}; {N_CASES}")
    add(I, "Excluding medications, how many items were upheld?", E_num(cnt([i for i in Is() if i.category != "medication"], "upheld")),
        f"{N_ITEM}; upheld items of categories other than medication; {N_UPH}")
    add(I, "setting aside Family Practice reviewers, how many letters are left", E_num(sum(not spec_has(L, "Family Practice") for L in Ls()), unit="letters"),
        f"{N_LET}; {N_SPEC}; letters whose specialty does not include Family Practice")
    add(I, "how many 2017 decisions were there other than the January ones", E_num(len([L for L in dev17() if L not in month(2017, 1)]), unit="letters"),
        f"{N_LET}; decided in 2017 but not in 2017-01")
    add(I, "which cases had an MRI denied, except lumbar MRIs?",
        E_cases(letters_of([i for i in fam("MRI") if i.upheld and i not in fam("lumbar MRI")])),
        f"{N_LET}; letters with an upheld MRI item that is not a lumbar MRI ({fam_note('lumbar MRI')}); {N_CASES}")
    rest = [L for L in Ls() if L.case_number != "CM16-0248698"]
    add(I, "apart from CM16-0248698, what's the largest number of items in a single letter?", E_num(max(len(L.items) for L in rest)),
        f"{N_ITEM}; max items per letter over letters other than CM16-0248698")
    add(I, "how many items were disputed in Feb 2017, leaving out CM16-0248698", E_num(len(items_of([L for L in month(2017, 2) if L.case_number != 'CM16-0248698']))),
        f"{N_ITEM}; items of 2017-02 letters other than CM16-0248698")
    notx = items_of([L for L in Ls() if L.letter_format != "tx_iro"])
    add(I, "what is the overturn rate of all items, not counting the Texas IRO decisions", E_num(g.rate_outcome(notx, "overturned"), share=True),
        f"{N_ITEM}; {N_TX}; overturned / items outside Texas IRO letters; {N_SHARE}")
    add(I, "count of upheld imaging items other than x-rays", E_num(cnt([i for i in Is() if i.category == "imaging" and i not in fam("X-ray")], "upheld")),
        f"{N_ITEM}; upheld items of category imaging outside {fam_note('X-ray')}")
    add(I, "except for the expedited one, how many items were overturned in 2022?",
        E_num(cnt(items_of([L for L in year(2022) if L.priority != "Expedited"]), "overturned")), f"{N_ITEM}; 2022 letters other than the Expedited one; {N_OVT}")
    surg = letters_of([i for i in Is() if i.category == "surgery"])
    add(I, "which letters with surgery requests were reviewed by someone other than an orthopedic surgeon",
        E_cases([L for L in surg if not spec_has(L, "Orthopedic Surgery")]), f"{N_LET}; {N_SPEC}; letters with a surgery item whose specialty lacks Orthopedic Surgery")
    nm_counts = {L.label: sum(i.category != "medication" for i in L.items) for L in Ls()}
    best = max(nm_counts.values())
    win = [L for L in Ls() if nm_counts[L.label] == best]
    e = E_cases(win, [[L] for L in win])
    add(I, "ignoring drugs, which case had the most items?", e,
        f"{N_ITEM}; non-medication items per letter; tie at {best} between {', '.join(L.label for L in win)}: either or both accepted")

    # ============================================================ relative_dates
    I = "relative_dates"
    N_REL = "TODAY = 2017-06-30 (IMR_TODAY)"

    def rel(q, vals, what, unit=None):
        add(I, q, E_num(vals, unit=unit), f"{N_REL}; {what}")

    rel("how many decisions came out this year?", [len(year(2017))], f"{N_LET}; decision date in 2017", "letters")
    rel("How many letters were decided last month", [len(month(2017, 5))], f"{N_LET}; decision date in 2017-05 (0)", "letters")
    rel("in the past six months, how many decisions were issued", [len(period("2016-12-30", TODAY)), len(period("2017-01-01", TODAY))],
        f"{N_LET}; decision date from 2016-12-30 or 2017-01-01 to TODAY", "letters")
    rel("how many items were overturned last year", cnt(items_of(year(2016)), "overturned"), f"{N_ITEM}; decision date in 2016 (0)")
    rel("decisions from the first quarter of this year: how many items were overturned?", cnt(items_of(period("2017-01-01", "2017-03-31")), "overturned"),
        f"{N_ITEM}; decision date 2017-01-01..2017-03-31; {N_OVT}")
    rel("how many cases were decided in the last 90 days", [len(period("2017-04-01", TODAY))], f"{N_LET}; decision date 2017-04-01..TODAY (0)", "letters")
    rel("how many injuries happened last year, going by date of injury", [len(year(2016, "date_of_injury"))], f"{N_LET}; date of injury in 2016", "letters")
    add(I, "which cases were decided five months ago", E_cases(month(2017, 1)), f"{N_REL}; {N_LET}; decision date in 2017-01 (the calendar month five months back); {N_CASES}")
    rel("how many decisions were issued in the last two quarters", [len(period("2017-01-01", TODAY)), len(period("2016-10-01", "2017-03-31"))],
        f"{N_LET}; Q1+Q2 2017, or Q4 2016+Q1 2017", "letters")
    rel("how many UR denials happened in the last 7 months", [len(period("2016-11-30", TODAY, "ur_denial_date")), len(period("2016-12-01", TODAY, "ur_denial_date"))],
        f"{N_LET}; UR denial date from 2016-11-30 or 2016-12-01 to TODAY", "letters")
    rel("how many decisions this spring?", [len(period("2017-03-01", "2017-05-31")), len(period("2017-03-20", "2017-06-20"))],
        f"{N_LET}; spring 2017 = Mar-May or Mar 20-Jun 20 (0 either way)", "letters")
    rel("how many letters were decided YTD", [len(period("2017-01-01", TODAY))], f"{N_LET}; decision date 2017-01-01..TODAY", "letters")
    rel("last winter, how many items were upheld", cnt(items_of(period("2016-12-01", "2017-02-28")), "upheld") + cnt(items_of(period("2016-12-21", "2017-03-20")), "upheld"),
        f"{N_ITEM}; winter 2016-17 = Dec-Feb or Dec 21-Mar 20; {N_UPH}")
    rel("How many applications were received in the last quarter of last year?", [len(period("2016-10-01", "2016-12-31", "application_received"))],
        f"{N_LET}; application received 2016-10-01..2016-12-31", "letters")

    # ============================================================ threshold
    I = "threshold"
    add(I, "which cases involve a worker older than 55?", E_cases([L for L in Ls() if L.age is not None and L.age > 55]),
        f"{N_LET}; patient age > 55 (strictly); {N_CASES}")
    add(I, "for a young-worker analysis: how many letters have patients under 30", E_num(sum(L.age is not None and L.age < 30 for L in Ls()), unit="letters"),
        f"{N_LET}; patient age < 30")
    add(I, "list the cases with more than 5 disputed items", E_cases([L for L in Ls() if len(L.items) > 5]), f"{N_LET}; letters with > 5 items")
    add(I, "how many decisions had 3 or more items?", E_num(sum(len(L.items) >= 3 for L in Ls()), unit="letters"), f"{N_LET}; letters with >= 3 items")
    add(I, "In which cases did more than 60 days pass between the UR denial and the decision?",
        E_cases([L for L in Ls() if (d := dur(L, F["ur"], F["dec"])) is not None and d > 60]),
        f"{N_LET}; (decision - UR denial) > 60 days; letters lacking a date excluded; {N_CASES}")
    add(I, "how many letters took under 45 days from application received to decision",
        E_num(sum((d := dur(L, F["rcv"], F["dec"])) is not None and d < 45 for L in Ls()), unit="letters"),
        f"{N_LET}; (decision - application received) < 45 days")
    add(I, "which decisions came less than 100 days after the date of injury?",
        E_cases([L for L in Ls() if (d := dur(L, F["inj"], F["dec"])) is not None and d < 100]),
        f"{N_LET}; (decision - injury) < 100 days; {N_CASES}")
    add(I, "how many claimants were 40 or older", E_num(sum(L.age is not None and L.age >= 40 for L in Ls()), unit="letters"), f"{N_LET}; patient age >= 40")
    add(I, "cases where the IMR application came in within a week of the UR denial",
        E_cases([L for L in Ls() if (d := dur(L, F["ur"], F["rcv"])) is not None and d <= 7]),
        f"{N_LET}; (application received - UR denial) <= 7 days; {N_CASES}")
    add(I, "how many letters have exactly one disputed item?", E_num(sum(len(L.items) == 1 for L in Ls()), unit="letters"), f"{N_LET}; letters with 1 item")
    add(I, "Of the 2017 cases, how many had at least 2 items?", E_num(sum(len(L.items) >= 2 for L in dev17()), unit="letters"),
        f"{N_LET}; decided in 2017 with >= 2 items")
    add(I, "which cases were assigned more than 30 days after the application was received",
        E_cases([L for L in Ls() if (d := dur(L, F["rcv"], F["asg"])) is not None and d > 30]),
        f"{N_LET}; (date assigned - application received) > 30 days; {N_CASES}")
    add(I, "how many patients were aged between 40 and 50 inclusive?", E_num(sum(L.age is not None and 40 <= L.age <= 50 for L in Ls()), unit="letters"),
        f"{N_LET}; patient age 40..50")
    add(I, "which letters have fewer than 2 items but a patient over 50", E_cases([L for L in Ls() if len(L.items) < 2 and L.age is not None and L.age > 50]),
        f"{N_LET}; 1 item and patient age > 50; {N_CASES}")

    # ============================================================ drug_class
    I = "drug_class"

    def dcn(q, cls, fn, what):
        vals = [fn(p) for p in drug_readings(cls)]
        add(I, q, E_num(vals), f"{N_ITEM}; {drug_note(cls)}; {what}")

    def dcs(q, cls, fn, what, share=False):
        rs = [fn(p) for p in drug_readings(cls)]
        add(I, q, E_cases(rs[0], rs[1:]), f"{N_LET}; {drug_note(cls)}; {what}; {N_CASES}")

    dcn("how many opioid requests are in the library", "opioid", len, "number of class items")
    dcn("For a piece on opioid prescribing: how many opioid requests did IMR overturn?", "opioid", lambda p: sum(i.overturned for i in p), "overturned items")
    dcs("which cases involved an NSAID, topical or oral?", "NSAID", letters_of, "letters with a class item")
    dcn("NSAIDs: how many were approved on review", "NSAID", lambda p: sum(i.overturned for i in p), "overturned items")
    dcn("how many muscle relaxant requests were upheld", "muscle relaxant", lambda p: sum(i.upheld for i in p), "upheld items")
    dcs("Which decisions involved a proton pump inhibitor (PPI)?", "PPI", letters_of, "letters with a class item (Pepcid and Deprizine are H2 blockers, not PPIs)")
    dcn("how many PPI requests got through IMR", "PPI", lambda p: sum(i.overturned for i in p), "overturned items")
    dcn("count of topical medication requests (creams, gels, patches, lotions)", "topical", len, "number of class items")
    dcn("of the topical analgesics, how many were overturned?", "topical", lambda p: sum(i.overturned for i in p), "overturned items")
    dcs("anticonvulsants like gabapentin or Lyrica — which cases?", "anticonvulsant", letters_of, "letters with a class item")
    add(I, "what share of anticonvulsant requests were approved", E_num([sum(i.overturned for i in p) / len(p) for p in drug_readings("anticonvulsant")], share=True),
        f"{N_ITEM}; {drug_note('anticonvulsant')}; overturned / class items; {N_SHARE}")
    dcn("antidepressants (cymbalta, venlafaxine, bupropion and the like): how many got overturned?", "antidepressant",
        lambda p: sum(i.overturned for i in p), "overturned items")
    dcs("which cases had an antidepressant request", "antidepressant", letters_of, "letters with a class item")
    dcn("were any opioids approved in the 2017 decisions? how many", "opioid", lambda p: sum(i.overturned for i in p if i.letter in dev17()),
        "overturned class items of 2017 letters (0)")

    # ============================================================ jurisdiction
    I = "jurisdiction"
    add(I, "how many Texas IRO decisions are in the library", E_num(len(tx()), unit="letters"), f"{N_LET}; {N_TX}")
    add(I, "How many of the decisions are California DWC IMR letters?", E_num(len(ca()), unit="letters"), f"{N_LET}; {N_TX}")
    add(I, "for the Texas IRO letters only, which cases were upheld", E_cases([L for L in tx() if all_upheld(L)]), f"{N_LET}; {N_TX}; Texas letters whose items are all upheld; {N_CASES}")
    add(I, "compare Texas IRO and California DWC by number of decisions", E_cmp([("Texas", len(tx())), ("California", len(ca()))],
        {"Texas": ["texas", "tx"], "California": ["california", "ca ", "dwc"]}), f"{N_LET}; {N_TX}")
    add(I, "what share of the Texas IRO items were overturned", E_num(g.rate_outcome(items_of(tx()), "overturned"), share=True),
        f"{N_ITEM}; {N_TX}; {N_OVT}; {N_SHARE}")
    add(I, "of the California letters, how many items were overturned?", E_num(cnt(items_of(ca()), "overturned")), f"{N_ITEM}; {N_TX}; {N_OVT}")
    txp = next(i for i in items_of(tx()) if "physical therapy" in i.s)
    add(I, "what outcome did the Texas IRO reach on the ankle physical therapy?", E_outcome(txp.determination),
        f"{N_TX}; the Texas ankle physical therapy item: {txp.determination} (answering overturned is accepted by the grader)")
    add(I, "In the Texas decisions, which services were in dispute?", E_text(["mri", "physical therapy", "carpal tunnel"], all_=True),
        f"{N_TX}; the 3 Texas items: {'; '.join(i.service for i in items_of(tx()))}; each must be named")
    add(I, "how many Texas IRO decisions were issued in 2024", E_num(sum(L in year(2024) for L in tx()), unit="letters"), f"{N_LET}; {N_TX}; decided in 2024")
    add(I, "were any California DWC decisions issued in 2024?", E_bool(any(L in year(2024) for L in ca())), f"{N_TX}; any CA letter decided in 2024")
    add(I, "which Texas IRO cases involve surgery", E_cases([L for L in tx() if any(i.category == "surgery" for i in L.items)]),
        f"{N_LET}; {N_TX}; Texas letters with a surgery item; {N_CASES}")
    add(I, "list the california IMR cases decided in 2021", E_cases([L for L in ca() if L in year(2021)]), f"{N_LET}; {N_TX}; CA letters decided in 2021")
    mri_tx = next(L for L in tx() if fam("MRI", pool=L.items))
    add(I, "for the Texas IRO MRI case, what was the reviewer's specialty", E_text([mri_tx.specialty.lower()]), f"{N_TX}; specialty of {mri_tx.label}")
    add(I, "Texas IRO vs California DWC: overturn rate of items in each (count the Texas partial as not overturned)",
        E_cmp([("Texas", round(sum(i.overturned for i in items_of(tx())) / len(items_of(tx())), 4)),
               ("California", round(sum(i.overturned for i in items_of(ca())) / len(items_of(ca())), 4))],
              {"Texas": ["texas", "tx"], "California": ["california", "dwc"]}),
        f"{N_ITEM}; {N_TX}; overturned (strict, as the question says) / items per format; {N_SHARE}")

    # ============================================================ modified_request
    I = "modified_request"
    mods = modified()
    add(I, "how many disputed items were UR partial certifications, where UR approved part and the rest went to IMR?", E_num(len(mods)), f"{N_MOD}")
    add(I, "which cases involve a request that UR modified?", E_cases(letters_of(mods)), f"{N_MOD}; {N_CASES}")
    acu = item_of("CM16-0248698", r"acupuncture")
    num_in = lambda s: int(re.search(r"(\d+) sessions", s).group(1))
    add(I, "in CM16-0248698, how many acupuncture sessions had UR already authorized", E_num(num_in(acu.authorized_portion)),
        f"{N_MOD}; authorized portion: {acu.authorized_portion}")
    add(I, "how many acupuncture sessions were originally requested in CM16-0248698", E_num(num_in(acu.original_request)),
        f"{N_MOD}; original request: {acu.original_request}")
    cbt = item_of("CM99-0000007", r"cognitive")
    add(I, "What portion of the CBT request in CM99-0000007 was certified before it reached IMR?", E_text(["4 sessions", "four sessions", "4 cbt", "4 cognitive"]),
        f"{N_MOD}; authorized portion: {cbt.authorized_portion}")
    ha = item_of("CM16-0249735", r"home aide")
    add(I, "what was left in dispute for the home aide in CM16-0249735 after UR's modification", E_text(["6 hours", "six hours"]),
        f"{N_MOD}; disputed remainder: {ha.service}")
    add(I, "of the items UR had partially approved, how many did IMR overturn?", E_num(cnt(mods, "overturned")), f"{N_MOD}; {N_OVT}")
    add(I, "which partially-certified items did IMR then approve the remainder of", E_text(["wheelchair", "cognitive behavioral"], all_=True),
        f"{N_MOD}; overturned modified items: {'; '.join(i.service for i in mods if i.overturned)}; both must be named")
    nor = item_of("CM99-0000007", r"norco")
    add(I, "in CM99-0000007 UR modified the Norco; how many tablets did UR authorize", E_num(int(re.search(r"#(\d+)", nor.authorized_portion).group(1))),
        f"{N_MOD}; authorized portion: {nor.authorized_portion}")
    pt = item_of("CM17-0006634", r"physical therapy")
    add(I, "the PT in CM17-0006634 — sessions originally requested vs authorized by UR?", E_text(["12", "6"], all_=True),
        f"{N_MOD}; original: {pt.original_request}; authorized: {pt.authorized_portion}; both figures must be named")
    wc = item_of("CM99-0000008", r"wheelchair")
    add(I, "how long a wheelchair rental had UR already approved in CM99-0000008", E_text(["1 month", "one month"]),
        f"{N_MOD}; authorized portion: {wc.authorized_portion}")
    kn = item_of("CM17-0008633", r"physical therapy")
    add(I, "In CM17-0008633, how many weeks of knee PT did the claims administrator authorize?",
        E_num(int(re.search(r"for (\d+) weeks", kn.authorized_portion).group(1))), f"{N_MOD}; authorized portion: {kn.authorized_portion}")
    add(I, "in what share of UR-modified requests did IMR uphold the remaining denial", E_num(g.rate_outcome(mods, "upheld"), share=True),
        f"{N_MOD}; upheld / modified items; {N_SHARE}")
    hh = item_of("CM99-0000008", r"home health aide")
    add(I, "how many hours a day of home health aide were originally requested in CM99-0000008",
        E_num(int(re.search(r"(\d+) hours", hh.original_request).group(1))), f"{N_MOD}; original request: {hh.original_request}")

    return list(ROWS)


# ---------------------------------------------------------------- writing and checking

def dumps(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _absent(stem: str, text: str) -> bool:
    s = stem.strip().lower()
    if len(s) <= 4:  # short stems: as a word
        return re.search(r"(?<![a-z0-9])" + re.escape(s) + r"(?![a-z0-9])", text) is None
    return s not in text


def check(rows: list[dict]) -> list[str]:
    errs: list[str] = []
    if not OUT.exists():
        return [f"{OUT} missing"]
    if OUT.read_text(encoding="utf-8") != dumps(rows):
        errs.append("dev4.jsonl differs from the recomputed bank (run without --check)")
    ids = [r["id"] for r in rows]
    if len(ids) != len(set(ids)):
        errs.append("duplicate ids")
    qs = [r["question"].strip().lower() for r in rows]
    for q, n in Counter(qs).items():
        if n > 1:
            errs.append(f"duplicate question: {q}")
    known = {c.upper() for c in g.case_numbers()}
    texts = g.letter_texts()
    if len([k for k in texts if k.endswith(".pdf")]) != 25:
        errs.append("the 25 dev PDFs were not found: set IMR_SHARED_DIR=/work/shared")
    by_case = {L.case_number.upper(): texts.get(L.source_file, "") for L in g.all_letters() if L.case_number}
    for r in rows:
        e = r["expected"]
        for c in g.CASE_RE.findall(r["question"]):
            if c.upper() not in known:
                errs.append(f"{r['id']}: unknown case {c}")
        if e["type"] == "cases":
            for s in [e["value"]] + e.get("accept_sets", []):
                for c in s:
                    if c.upper() not in known:
                        errs.append(f"{r['id']}: unknown expected case {c}")
        if not r.get("notes"):
            errs.append(f"{r['id']}: no notes")
        if e["type"] == "none_found":
            for stem in e.get("absent") or []:
                hits = [k for k, t in texts.items() if not _absent(stem, t)]
                if hits:
                    errs.append(f"{r['id']}: '{stem}' occurs in {hits[:3]}")
        if e["type"] == "passage":
            t = by_case.get(e["case"].upper(), "")
            if not t:
                errs.append(f"{r['id']}: no text for {e['case']}")
            elif not any(w.lower() in t for w in e.get("contains") or []):
                errs.append(f"{r['id']}: none of {e['contains']} in {e['case']}")
        if e["type"] == "number":
            vals = e.get("accept_values") or [e["value"]]
            if any(v is None for v in vals):
                errs.append(f"{r['id']}: empty number")
    return errs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="write (or --check) the dev4 question bank")
    ap.add_argument("--check", action="store_true", help="recompute and verify dev4.jsonl")
    args = ap.parse_args(argv)
    rows = build()
    if args.check:
        errs = check(rows)
        for e in errs:
            print("FAIL", e)
        c = Counter(r["intent"] for r in rows)
        t = Counter(r["expected"]["type"] for r in rows)
        print(f"{len(rows)} questions, {len(c)} intents; types: {dict(sorted(t.items()))}")
        print("check " + ("FAILED" if errs else "passed"))
        return 1 if errs else 0
    OUT.write_text(dumps(rows), encoding="utf-8")
    print(f"wrote {len(rows)} questions to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
