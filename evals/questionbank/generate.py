"""Write the dev question bank (dev.jsonl) from the gold records.

    python -m evals.questionbank.generate            # writes evals/questionbank/dev.jsonl
    python -m evals.questionbank.generate --check    # recomputes everything and verifies it

Questions are written the way analysts type (lower case, abbreviations, typos, fragments, no
question mark); every expected value is computed here from gold.py, never from the tool.
The wording was written blind: without reading the tool's question parser.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from evals.questionbank import gold as G

HERE = Path(__file__).resolve().parent
OUT = HERE / "dev.jsonl"

UNIT_ITEMS = "unit: disputed items (one per decided request/heading)"
UNIT_LETTERS = "unit: decision letters (records with >=1 item; the generic appeal letter is excluded)"


class Bank:
    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.per_intent: Counter = Counter()
        self.seen: set[str] = set()

    def add(self, intent: str, question: str, expected: dict, notes: str = "") -> None:
        q = re.sub(r"\s+", " ", question).strip()
        if q.lower() in self.seen:  # never the same wording twice
            return
        self.seen.add(q.lower())
        self.per_intent[intent] += 1
        self.rows.append({
            "id": f"{intent}-{self.per_intent[intent]:03d}", "intent": intent, "question": q,
            "expected": expected, "notes": notes,
        })


# ------------------------------------------------------------------ expectation builders

def num(values, unit: str, tol: float = 0.0) -> dict:
    values = values if isinstance(values, list) else [values]
    e = {"type": "number", "value": values[0], "tolerance": tol, "unit": unit}
    if len(values) > 1:
        e["accept_values"] = values
    return e


def share(values, unit: str) -> dict:
    values = values if isinstance(values, list) else [values]
    e = {"type": "number", "value": values[0], "tolerance": 0.011, "unit": unit, "share": True}
    if len(values) > 1:
        e["accept_values"] = values
    return e


def cases(ls, alt=None) -> dict:
    labels = sorted(L.label for L in ls)
    e = {"type": "cases", "value": [x for x in labels if not x.startswith("[")],
         "uncased": [x for x in labels if x.startswith("[")]}
    if alt is not None:
        alt_cases = sorted(L.case_number for L in alt if L.case_number)
        if alt_cases != e["value"]:
            e["accept_sets"] = [alt_cases]
    return e


def text(accept, all_of=False) -> dict:
    return {"type": "text", "accept": list(accept), **({"all": True} if all_of else {})}


def date_e(d: str) -> dict:
    return {"type": "date", "value": d}


def boolean(v: bool) -> dict:
    return {"type": "bool", "value": bool(v)}


def ranking(rows, top: int, accept: dict | None = None, ordered: bool = True) -> dict:
    e = {"type": "ranking", "value": rows, "top": top, "accept": accept or {},
         "ties": "rows with equal value form a tie group; any order inside a group is right"}
    if not ordered:  # a comparison: both labels with their values, in any order
        e["ordered"] = False
        e["ties"] = "unordered: every row's label must be given with its value"
    return e


def passage(case: str, contains=None) -> dict:
    e = {"type": "passage", "case": case}
    if contains:
        e["contains"] = list(contains)
    return e


CLARIFY = {"type": "clarify"}


def none_found(term: str, near: list[str]) -> dict:
    return {"type": "none_found", "term": term, "near_forms": near}


# ------------------------------------------------------------------ wording helpers

SURFACE = {  # family -> how people type it (some with typos on purpose)
    "MRI": ["mri", "MRI", "MRIs", "mri's", "magnetic resonance imaging", "mri scans", "mr imaging"],
    "lumbar MRI": ["lumbar mri", "LS MRI", "mri of the low back", "lumbar spine MRI", "lumbar mri's"],
    "shoulder MRI": ["shoulder mri", "MRI shoulder", "shoulder MRIs", "mri of the shoulder"],
    "cervical MRI": ["cervical mri", "c-spine MRI", "neck mri", "MRI cervical spine"],
    "X-ray": ["x-ray", "xrays", "x ray", "X-rays", "radiographs", "xray"],
    "physical therapy": ["PT", "physical therapy", "physcial therapy", "pt visits", "phsyical therapy", "PT sessions"],
    "acupuncture": ["acupuncture", "acupunture", "accupuncture", "acu"],
    "chiropractic": ["chiropractic", "chiropractc", "chiro", "chiropratic care", "chiropractic manipulation"],
    "epidural steroid injection": ["ESI", "ESIs", "epidural steroid injection", "epidural steriod injections", "epidurals"],
    "EMG": ["EMG", "emg", "electromyography", "EMGs"],
    "nerve conduction study": ["NCS", "nerve conduction studies", "ncv", "NCV/NCS"],
    "TENS unit": ["TENS", "tens unit", "TENS units", "tens unti"],
    "Norco": ["norco", "Norco", "norcos", "hydrocodone (norco)"],
    "cyclobenzaprine": ["cyclobenzaprine", "cyclobenzeprine", "flexeril/cyclobenzaprine", "cyclobenzaprin"],
    "tramadol": ["tramadol", "tramadole", "Tramadol"],
    "lidocaine": ["lidocaine", "lidoderm", "lidocane", "lidocaine patches"],
    "functional capacity evaluation": ["FCE", "functional capacity evaluation", "functional capacity evals", "fce's"],
    "home health aide": ["home health aide", "home health aid", "home aide", "HHA"],
    "hospital bed": ["hospital bed", "hospital beds", "hosptial bed"],
    "urine drug screen": ["urine drug screen", "UDS", "urine drug screening", "urine tox screen"],
    "Pantoprazole": ["pantoprazole", "protonix/pantoprazole", "pantoprazol"],
    "arthroscopy": ["arthroscopy", "arthroscopic surgery", "athroscopy", "scopes"],
    "spinal cord stimulator": ["spinal cord stimulator", "SCS", "scs trial", "spinal cord stim"],
    "aquatic therapy": ["aquatic therapy", "aqua therapy", "pool therapy"],
    "Lyrica": ["lyrica", "Lyrica", "lyrica (pregabalin)"],
    "Gabapentin": ["gabapentin", "gabapentine", "Gabapentin"],
    "cognitive behavioral therapy": ["CBT", "cognitive behavioral therapy", "cognitive behavioural therapy"],
    "wheelchair": ["wheelchair", "wheel chair", "wheelchairs"],
    "medial branch block": ["medial branch blocks", "MBB", "medial branch block injections"],
    "functional restoration program": ["FRP", "functional restoration program", "functional restoration"],
    "carpal tunnel release": ["carpal tunnel release", "CTR", "carpal tunnel surgery"],
}

CATEGORY_WORDS = {
    "medication": ["meds", "medication", "medications", "drug requests", "prescriptions", "pharmacy requests"],
    "imaging": ["imaging", "diagnostic imaging", "imaging studies", "scans/imaging"],
    "therapy": ["therapy", "therapy requests", "therapies"],
    "surgery": ["surgery", "surgical requests", "surgeries", "operations"],
    "injection": ["injections", "injection requests", "injection"],
    "DME": ["DME", "durable medical equipment", "dme items", "equipment"],
    "other": ["other services", "'other' category"],
}

OVER = ["overturned", "overturn", "reversed", "overturned (approved)", "overturned by IMR", "flipped"]
UPH = ["upheld", "uphold", "denied", "upheld (denial stands)", "upheld denials", "affirmed"]


def sv(family: str, i: int) -> str:
    return SURFACE[family][i % len(SURFACE[family])]


def cw(cat: str, i: int) -> str:
    return CATEGORY_WORDS[cat][i % len(CATEGORY_WORDS[cat])]


# Periods on the decision date: (wording, start, end, alternative (start, end) or None)
PERIODS = [
    ("in jan 2017", "2017-01-01", "2017-01-31", None),
    ("January 2017", "2017-01-01", "2017-01-31", None),
    ("Jan. 2017", "2017-01-01", "2017-01-31", None),
    ("1/2017", "2017-01-01", "2017-01-31", None),
    ("feb 2017", "2017-02-01", "2017-02-28", None),
    ("February of 2017", "2017-02-01", "2017-02-28", None),
    ("2/2017", "2017-02-01", "2017-02-28", None),
    ("Q1 2017", "2017-01-01", "2017-03-31", None),
    ("in the first quarter of 2017", "2017-01-01", "2017-03-31", None),
    ("between Dec 2016 and Feb 2017", "2016-12-01", "2017-02-28", None),
    ("in 2017", "2017-01-01", "2017-12-31", None),
    ("during 2023", "2023-01-01", "2023-12-31", None),
    ("in 2022", "2022-01-01", "2022-12-31", None),
    ("before Feb 2017", None, "2017-01-31", None),
    ("after 2/14/2017", "2017-02-15", None, ("2017-02-14", None)),
    ("from 1/15/2017 to 2/10/2017", "2017-01-15", "2017-02-10", None),
    ("since Jan 2023", "2023-01-01", None, ("2023-01-01", "2017-06-30")),
    ("in 2024", "2024-01-01", "2024-12-31", None),
    ("in the second half of feb 2017", "2017-02-15", "2017-02-28", ("2017-02-14", "2017-02-28")),
    ("Q4 2023", "2023-10-01", "2023-12-31", None),
]


def letters_in(start, end, field="decision_date"):
    return [L for L in G.letters() if G.in_period(L, start, end, field)]


def items_in(start, end, pool=None):
    ok = {id(L) for L in letters_in(start, end)}
    return [it for it in (pool if pool is not None else G.items()) if id(it.letter) in ok]


def period_note(p) -> str:
    w, s, e, alt = p
    n = f"decision date in [{s or '-inf'}, {e or '+inf'}]"
    if alt:
        n += f" (alternative [{alt[0] or '-inf'}, {alt[1] or '+inf'}] also accepted)"
    return n


def period_values(p, fn):
    """fn(start, end) -> list of acceptable values; merged over the period's readings."""
    w, s, e, alt = p
    vals = list(fn(s, e))
    if alt:
        vals += [v for v in fn(*alt) if v not in vals]
    return vals


# ================================================================== intents

def intent_count_outcome_service(b: Bank) -> None:
    forms = [
        "how many {s} requests were {o}",
        "number of {s} {o} by imr",
        "# of {o} {s}",
        "count {s} that got {o}",
        "{s} {o} count",
        "how many times was {s} {o}",
        "total {o} {s} requests across all letters",
        "how many {s} did the reviewers end up {o2}",
        "{s} - how many {o}?",
        "tell me how many {s} requests imr {o2}",
    ]
    fams = ["MRI", "physical therapy", "X-ray", "acupuncture", "chiropractic", "epidural steroid injection",
            "TENS unit", "Norco", "lidocaine", "functional capacity evaluation", "hospital bed", "shoulder MRI",
            "lumbar MRI", "EMG", "home health aide", "cyclobenzaprine", "tramadol", "cervical MRI", "wheelchair",
            "Gabapentin", "urine drug screen", "aquatic therapy"]
    for i, f in enumerate(fams):
        outcome = "overturned" if i % 3 != 1 else "upheld"
        o = (OVER if outcome == "overturned" else UPH)[i % 6]
        o2 = "overturning" if outcome == "overturned" else "upholding"
        q = forms[i % len(forms)].format(s=sv(f, i), o=o, o2=o2)
        pool = G.fam_items(f)
        vals = G.count_outcome(pool, outcome)
        if FAMILIES_ALT(f):
            vals = sorted(set(vals + G.count_outcome(G.fam_items(f, alt=True), outcome)))
        b.add("count_outcome_service", q, num(vals, "items"),
              f"{UNIT_ITEMS}; {G.family_predicate_note(f)}; outcome={outcome}")


def FAMILIES_ALT(f: str) -> bool:
    return G.FAMILIES[f][1] is not None


def intent_count_outcome_category(b: Bank) -> None:
    forms = [
        "how many {c} were {o}", "{c} {o} how many", "count of {o} {c}", "number of {c} requests {o}",
        "how many {c} items did imr {o1}", "total {c} {o}", "{o} {c} - count",
    ]
    combos = [(c, o) for c in ["medication", "imaging", "therapy", "surgery", "injection", "DME", "other"]
              for o in ["overturned", "upheld"]]
    for i, (c, outcome) in enumerate(combos):
        o = (OVER if outcome == "overturned" else UPH)[(i // 2) % 6]
        o1 = "overturn" if outcome == "overturned" else "uphold"
        q = forms[i % len(forms)].format(c=cw(c, i), o=o, o1=o1)
        pool = [it for it in G.items() if it.category == c]
        b.add("count_outcome_category", q, num(G.count_outcome(pool, outcome), "items"),
              f"{UNIT_ITEMS}; gold category == {c}; outcome={outcome}")
    # all-items totals
    b.add("count_outcome_category", "how many requests in total were overturned",
          num(G.count_outcome(G.items(), "overturned"), "items"), UNIT_ITEMS)
    b.add("count_outcome_category", "total number of disputed treatments in the library",
          num(len(G.items()), "items"), UNIT_ITEMS)
    b.add("count_outcome_category", "how many upheld items overall",
          num(G.count_outcome(G.items(), "upheld"), "items"), UNIT_ITEMS)
    b.add("count_outcome_category", "partial overturns how many",
          num([sum(it.determination == "partially_overturned" for it in G.items())], "items"),
          f"{UNIT_ITEMS}; determination == partially_overturned (the Texas partial)")


def intent_count_outcome_period(b: Bank) -> None:
    forms = [
        "how many requests were {o} {p}", "{o} requests {p}", "number of items {o} {p}",
        "count {o} treatments decided {p}", "{p} how many {o}", "how many disputed services got {o} {p}",
        "total {o} decisions {p} (by item)",
    ]
    for i, p in enumerate(PERIODS):
        outcome = "overturned" if i % 2 == 0 else "upheld"
        o = (OVER if outcome == "overturned" else UPH)[i % 6]
        q = forms[i % len(forms)].format(o=o, p=p[0])
        vals = period_values(p, lambda s, e: G.count_outcome(items_in(s, e), outcome))
        b.add("count_outcome_period", q, num(vals, "items"), f"{UNIT_ITEMS}; {period_note(p)}; outcome={outcome}")
    # service + period
    extra = [("MRI", PERIODS[0], "overturned", "mri overturned jan 2017"),
             ("MRI", PERIODS[4], "overturned", "how many MRIs were overturned in feb 2017"),
             ("physical therapy", PERIODS[10], "upheld", "pt denials upheld in 2017 how many"),
             ("physical therapy", PERIODS[11], "overturned", "number of PT requests overturned during 2023"),
             ("X-ray", PERIODS[7], "upheld", "xrays upheld Q1 2017"),
             ("MRI", PERIODS[9], "upheld", "how many mri's were upheld between Dec 2016 and Feb 2017")]
    for f, p, outcome, q in extra:
        vals = period_values(p, lambda s, e: G.count_outcome(items_in(s, e, G.fam_items(f)), outcome))
        b.add("count_outcome_period", q, num(vals, "items"),
              f"{UNIT_ITEMS}; {G.family_predicate_note(f)}; {period_note(p)}; outcome={outcome}")


def intent_rate_service(b: Bank) -> None:
    forms = [
        "overturn rate {s}", "what % of {s} requests were overturned", "{s} overturn rate",
        "share of {s} that imr overturned", "how often is {s} overturned", "percent of {s} upheld",
        "uphold rate for {s}", "what fraction of {s} requests got reversed", "{s} success rate at imr (overturned)",
        "what proportion of {s} denials were upheld",
    ]
    fams = ["MRI", "physical therapy", "X-ray", "TENS unit", "shoulder MRI", "lumbar MRI", "hospital bed",
            "cervical MRI", "acupuncture", "chiropractic", "epidural steroid injection", "Norco", "lidocaine",
            "home health aide", "wheelchair", "functional capacity evaluation", "MRI", "physical therapy"]
    for i, f in enumerate(fams):
        form = forms[i % len(forms)]
        outcome = "upheld" if ("upheld" in form or "uphold" in form) else "overturned"
        q = form.format(s=sv(f, i + 1))
        vals = G.rate_outcome(G.fam_items(f), outcome)
        if FAMILIES_ALT(f):
            vals = sorted(set(vals + G.rate_outcome(G.fam_items(f, alt=True), outcome)))
        b.add("rate_service", q, share(vals, "share of items"),
              f"{UNIT_ITEMS}; {G.family_predicate_note(f)}; share of {outcome} among the family's items")
    # with periods
    for q, f, p in [("overturn rate lumbar mri 2017", "lumbar MRI", PERIODS[10]),
                    ("mri overturn % Q1 2017", "MRI", PERIODS[7]),
                    ("PT overturn rate in 2023", "physical therapy", PERIODS[11]),
                    ("what share of shoulder MRIs got overturned in feb 2017", "shoulder MRI", PERIODS[4])]:
        vals = period_values(p, lambda s, e: G.rate_outcome(items_in(s, e, G.fam_items(f)), "overturned"))
        b.add("rate_service", q, share(vals, "share of items"),
              f"{UNIT_ITEMS}; {G.family_predicate_note(f)}; {period_note(p)}; share overturned")


def intent_rate_segment(b: Bank) -> None:
    rows = []
    for i, c in enumerate(["medication", "imaging", "therapy", "surgery", "injection", "DME", "other"]):
        pool = [it for it in G.items() if it.category == c]
        f = ["overturn rate for {c}", "{c} overturn %", "what percentage of {c} got overturned",
             "uphold rate {c}", "how often are {c} upheld", "share of {c} overturned", "{c}: % overturned"][i]
        outcome = "upheld" if "uphold" in f or "upheld" in f else "overturned"
        rows.append((f.format(c=cw(c, i + 1)), G.rate_outcome(pool, outcome), f"category == {c}; {outcome}"))
    rows.append(("overall overturn rate", G.rate_outcome(G.items(), "overturned"), "all items; overturned"))
    rows.append(("what's the overall uphold rate across all imr decisions", G.rate_outcome(G.items(), "upheld"),
                 "all items; upheld"))
    for i, p in enumerate([PERIODS[1], PERIODS[5], PERIODS[7], PERIODS[12], PERIODS[17], PERIODS[9]]):
        q = ["overturn rate {p}", "% of requests overturned {p}", "uphold rate {p}", "what share of items were overturned {p}",
             "overturn percentage for decisions {p}", "share upheld {p}"][i].format(p=p[0])
        outcome = "upheld" if ("uphold" in q or "upheld" in q) else "overturned"
        rows.append((q, period_values(p, lambda s, e: G.rate_outcome(items_in(s, e), outcome)),
                     f"{period_note(p)}; {outcome}"))
    exp = [it for it in G.items() if it.letter.priority == "Expedited"]
    std = [it for it in G.items() if it.letter.priority == "Standard"]
    rows.append(("overturn rate on expedited reviews", G.rate_outcome(exp, "overturned"), "priority Expedited; overturned"))
    rows.append(("standard priority cases - what pct of requests overturned", G.rate_outcome(std, "overturned"),
                 "priority Standard; overturned"))
    fem = [it for it in G.items() if it.letter.sex == "female"]
    rows.append(("overturn rate for female injured workers", G.rate_outcome(fem, "overturned"), "patient sex female"))
    ortho = [it for it in G.items() if G.letters and any("Orthopedic Surgery" == s for s in G.specialties(it.letter))]
    rows.append(("how often do ortho surgeon reviewers overturn", G.rate_outcome(ortho, "overturned"),
                 "reviewer specialty includes Orthopedic/Orthopaedic Surgery"))
    tx = [it for it in G.items() if it.letter.letter_format == "tx_iro"]
    rows.append(("texas IRO overturn rate", G.rate_outcome(tx, "overturned"), "letter_format tx_iro"))
    for q, vals, n in rows:
        b.add("rate_segment", q, share(vals, "share of items"), f"{UNIT_ITEMS}; {n}")


def intent_count_letters(b: Bank) -> None:
    forms = ["how many decisions {p}", "number of imr letters {p}", "cases decided {p} count",
             "how many cases were decided {p}", "count of letters dated {p}", "how many IMR determinations issued {p}"]
    for i, p in enumerate(PERIODS[:14]):
        q = forms[i % len(forms)].format(p=p[0])
        b.add("count_letters", q, num(period_values(p, lambda s, e: [len(letters_in(s, e))]), "letters"),
              f"{UNIT_LETTERS}; {period_note(p)}")
    L = G.letters()
    extra = [
        ("how many letters are in the library", num([len(L), len(G.all_letters())], "letters"),
         "37 decision letters; 38 files if the generic appeal letter is counted (both accepted)"),
        ("how many cases had at least one request overturned", num([sum(any(i.overturned for i in x.items) for x in L),
                                                                     sum(any(i.overturned_loose for i in x.items) for x in L)], "letters"), ""),
        ("number of letters with an overturn", num([sum(any(i.overturned for i in x.items) for x in L),
                                                   sum(any(i.overturned_loose for i in x.items) for x in L)], "letters"), ""),
        ("how many cases involved an MRI", num(len({id(i.letter) for i in G.fam_items("MRI")}), "letters"),
         G.family_predicate_note("MRI")),
        ("how many letters dispute PT", num(sorted({len({id(i.letter) for i in G.fam_items("physical therapy")}),
                                                    len({id(i.letter) for i in G.fam_items("physical therapy", alt=True)})}), "letters"),
         G.family_predicate_note("physical therapy")),
        ("number of cases with a female patient", num(sum(x.sex == "female" for x in L), "letters"), "patient.sex == female"),
        ("how many texas iro decisions", num(sum(x.letter_format == "tx_iro" for x in L), "letters"), "letter_format tx_iro"),
        ("how many california dwc letters", num(sum(x.letter_format == "ca_dwc_imr" for x in L), "letters"), "letter_format ca_dwc_imr"),
        ("cases injured in oct 2016 how many", num(len(letters_in("2016-10-01", "2016-10-31", "date_of_injury")), "letters"),
         "date_of_injury in October 2016"),
        ("how many files were denied by UR in December 2016", num(len(letters_in("2016-12-01", "2016-12-31", "ur_denial_date")), "letters"),
         "ur_denial_date in December 2016"),
        ("count of cases assigned in jan 2017", num(len(letters_in("2017-01-01", "2017-01-31", "date_assigned")), "letters"),
         "date_assigned in January 2017"),
        ("how many applications were received in dec. 2016", num(len(letters_in("2016-12-01", "2016-12-31", "application_received")), "letters"),
         "application_received in December 2016"),
    ]
    for q, e, n in extra:
        b.add("count_letters", q, e, f"{UNIT_LETTERS}; {n}")


def intent_cases_quantifier(b: Bank) -> None:
    L = G.letters()
    all_up = [x for x in L if all(i.upheld for i in x.items)]
    none_over = [x for x in L if not any(i.overturned_loose for i in x.items)]
    all_over = [x for x in L if all(i.overturned for i in x.items)]
    all_over_loose = [x for x in L if all(i.overturned_loose for i in x.items)]
    mixed = [x for x in L if any(i.overturned_loose for i in x.items) and any(i.upheld for i in x.items)]
    rows = [
        ("letters where every request was upheld", cases(all_up)),
        ("cases with none overturned", cases(none_over)),
        ("which cases had everything overturned", cases(all_over, alt=all_over_loose)),
        ("letters with a mix of upheld and overturned items", cases(mixed)),
        ("split decisions - some overturned some upheld", cases(mixed)),
        ("cases where imr upheld all of the denials", cases(all_up)),
        ("list letters in which not a single treatment was overturned", cases(none_over)),
        ("cases where all requests got approved on review", cases(all_over, alt=all_over_loose)),
    ]
    for n, words in [(4, "at least four"), (3, "3 or more"), (5, "more than 4"), (2, "at least 2"), (6, "6+"),
                     (10, "over 9")]:
        sel = [x for x in L if len(x.items) >= n]
        q = [f"cases disputing {words} treatments", f"letters with {words} disputed items",
             f"which cases had {words} requests", f"cases with {words} issues in dispute",
             f"show letters that have {words} services at issue", f"cases with {words} items"][len(rows) % 6]
        rows.append((q, cases(sel)))
    one = [x for x in L if len(x.items) == 1]
    rows.append(("cases with exactly one disputed item", cases(one)))
    rows.append(("single-issue letters", cases(one)))
    rows.append(("letters with only two requests", cases([x for x in L if len(x.items) == 2])))
    rows.append(("cases with at least 2 overturned requests",
                 cases([x for x in L if sum(i.overturned for i in x.items) >= 2])))
    rows.append(("cases where more than half of the items were overturned",
                 cases([x for x in L if sum(i.overturned for i in x.items) * 2 > len(x.items)],
                       alt=[x for x in L if sum(i.overturned_loose for i in x.items) * 2 > len(x.items)])))
    rows.append(("which letters had every medication denied (upheld)",
                 cases([x for x in L if any(i.category == "medication" for i in x.items)
                        and all(i.upheld for i in x.items if i.category == "medication")])))
    rows.append(("cases with no imaging requests at all and all upheld",
                 cases([x for x in L if not any(i.category == "imaging" for i in x.items) and all(i.upheld for i in x.items)])))
    for q, e in rows:
        b.add("cases_quantifier", q, e, f"{UNIT_LETTERS}; listed by case number; letters without a case number are "
              f"listed in 'uncased' and not required; overturned strict, partial accepted via accept_sets where it differs")


def intent_cases_service(b: Bank) -> None:
    forms = ["which cases had {s}", "cases with {s} requests", "list the letters disputing {s}",
             "case numbers where {s} was at issue", "{s} cases", "show me every case with a {s} request",
             "which claims involved {s}", "letters mentioning a request for {s}"]
    fams = ["acupuncture", "chiropractic", "epidural steroid injection", "TENS unit", "Norco", "lidocaine",
            "functional capacity evaluation", "EMG", "nerve conduction study", "cyclobenzaprine", "tramadol",
            "home health aide", "hospital bed", "shoulder MRI", "cervical MRI", "X-ray", "arthroscopy",
            "Pantoprazole", "urine drug screen", "medial branch block"]
    for i, f in enumerate(fams):
        q = forms[i % len(forms)].format(s=sv(f, i))
        ls = list({id(it.letter): it.letter for it in G.fam_items(f)}.values())
        alt = list({id(it.letter): it.letter for it in G.fam_items(f, alt=True)}.values()) if FAMILIES_ALT(f) else None
        b.add("cases_service", q, cases(ls, alt=alt), f"{UNIT_LETTERS}; {G.family_predicate_note(f)}")
    for q, f, outcome in [("which cases had an mri overturned", "MRI", "overturned"),
                          ("cases where PT was upheld", "physical therapy", "upheld"),
                          ("overturned x-rays - which cases", "X-ray", "overturned"),
                          ("letters where the hospital bed was approved (overturned)", "hospital bed", "overturned"),
                          ("cases with upheld epidurals", "epidural steroid injection", "upheld")]:
        pool = [it for it in G.fam_items(f) if (it.overturned if outcome == "overturned" else it.upheld)]
        ls = list({id(it.letter): it.letter for it in pool}.values())
        b.add("cases_service", q, cases(ls) if ls else none_found(f + " " + outcome, []),
              f"{UNIT_LETTERS}; {G.family_predicate_note(f)}; outcome={outcome}")


def intent_cases_period(b: Bank) -> None:
    rows = [
        ("which cases were decided in Jan 2017", letters_in("2017-01-01", "2017-01-31"), "decision_date in Jan 2017"),
        ("cases decided 2/1/2017 - 2/5/2017", letters_in("2017-02-01", "2017-02-05"), "decision_date 2017-02-01..05"),
        ("list decisions from the week of feb 13 2017", letters_in("2017-02-13", "2017-02-19"), "decision_date 2017-02-13..19"),
        ("cases decided in 2023", letters_in("2023-01-01", "2023-12-31"), "decision_date in 2023"),
        ("letters issued in the second half of 2022", letters_in("2022-07-01", "2022-12-31"), "decision_date 2022-07..12"),
        ("which cases had a DOI in december 2016", letters_in("2016-12-01", "2016-12-31", "date_of_injury"), "date_of_injury Dec 2016"),
        ("workers hurt in november 2016 - which cases", letters_in("2016-11-01", "2016-11-30", "date_of_injury"), "date_of_injury Nov 2016"),
        ("cases where the injury happened before 2020", letters_in(None, "2019-12-31", "date_of_injury"), "date_of_injury < 2020"),
        ("accidents in 2022 - case numbers", letters_in("2022-01-01", "2022-12-31", "date_of_injury"), "date_of_injury in 2022"),
        ("cases denied by UR in January 2017", letters_in("2017-01-01", "2017-01-31", "ur_denial_date"), "ur_denial_date Jan 2017"),
        ("which files had the UR denial before 12/1/2016", letters_in(None, "2016-11-30", "ur_denial_date"), "ur_denial_date < 2016-12-01"),
        ("cases assigned to the reviewer in feb 2017", letters_in("2017-02-01", "2017-02-28", "date_assigned"), "date_assigned Feb 2017"),
        ("which cases were assigned in Dec. 2016", letters_in("2016-12-01", "2016-12-31", "date_assigned"), "date_assigned Dec 2016"),
        ("application received in january 2017 - which cases", letters_in("2017-01-01", "2017-01-31", "application_received"),
         "application_received Jan 2017"),
        ("cases whose IMR application came in before christmas 2016", letters_in(None, "2016-12-24", "application_received"),
         "application_received <= 2016-12-24"),
        ("decided on 2/10/2017", letters_in("2017-02-10", "2017-02-10"), "decision_date == 2017-02-10"),
        ("cases decided the same day as CM17-0009840", [x for x in G.letters() if x.decision == G.by_case("CM17-0009840").decision],
         "decision_date == that of CM17-0009840 (itself included)"),
    ]
    for q, ls, n in rows:
        b.add("cases_period", q, cases(ls), f"{UNIT_LETTERS}; {n}")


FIELD_WORDS = {
    "date_of_injury": ["DOI", "date of injury", "when was the worker hurt", "injury date", "accident date",
                       "when did the injury happen"],
    "ur_denial_date": ["UR denial date", "when was it denied by UR", "date of UR denial", "ur denial",
                       "when did utilization review deny it", "UR decision date"],
    "date_assigned": ["date assigned", "when was it assigned", "assignment date", "assigned to maximus on"],
    "application_received": ["application received", "when was the IMR application received", "app received date",
                             "date the imr application came in"],
    "decision_date": ["decision date", "when was it decided", "date of the imr decision", "determination date"],
}


def intent_case_date_field(b: Bank) -> None:
    cased = [x for x in G.letters() if x.case_number and x.letter_format == "ca_dwc_imr"]
    fields = list(FIELD_WORDS)
    n = 0
    for i, L in enumerate(cased):
        for j in range(1 if i % 3 else 2):
            fld = fields[(i + j * 2) % len(fields)]
            w = FIELD_WORDS[fld][(i + j) % len(FIELD_WORDS[fld])]
            cn = L.case_number if i % 4 else L.case_number.lower()
            form = ["{w} {c}", "{w} for {c}", "{c} {w}", "what is the {w} in case {c}", "{c}: {w}?",
                    "{w} on {c} pls"][(i + j) % 6]
            if w.startswith("when"):
                form = ["{w} in {c}", "{c} - {w}"][(i + j) % 2]
            b.add("case_date_field", form.format(w=w, c=cn), date_e(L.dates[fld]),
                  f"gold {fld} of {L.case_number}")
            n += 1
    L = G.by_case("2024-99011")
    b.add("case_date_field", "date notice sent for IRO case 2024-99011", date_e(L.decision), "Texas decision_date")


def intent_case_clarify(b: Bank) -> None:
    qs = [
        "what date was case CM16-0232543", "date for CM17-0009840", "CM17-0006634 date", "when was CM16-0248698",
        "which date in CM17-0015790", "what's the date on cm16-0246487", "give me the date of CM99-0000006",
        "how old was the patient", "what did the reviewer decide", "was it overturned",
        "what was the outcome for the MRI", "who reviewed it", "what about the PT request",
        "the reviewer's specialty", "dates for the case", "compare them", "and the other one",
        "what happened to the medication request", "same question for last year's letters",
        "is it medically necessary",
    ]
    for q in qs:
        b.add("case_clarify", q, CLARIFY, "ambiguous: which date / which case / which item is meant; "
              "the right behaviour is to ask back (answering is wrong)")


def intent_case_outcome_service(b: Bank) -> None:
    picks = []
    for L in G.letters():
        if not L.case_number:
            continue
        for it in L.items:
            # only services that are unique inside their letter by their first significant word
            picks.append(it)
    picks = picks[::3][:26]
    forms = ["what happened to the {s} in {c}", "{c} {s} outcome", "was the {s} in {c} upheld or overturned",
             "outcome of {s} request, case {c}", "{s} {c} result", "did imr approve {s} for {c}",
             "determination on {s} in {c}", "{c}: {s} - upheld?"]
    for i, it in enumerate(picks):
        short = short_service(it.service)
        q = forms[i % len(forms)].format(s=short, c=it.letter.case_number)
        acc = {"overturned": ["overturn", "approved", "medically necessary"], "upheld": ["upheld", "uphold", "denied", "not medically necessary"],
               "partially_overturned": ["partial"]}[it.determination]
        if "approve" in q:
            e = boolean(it.overturned_loose)
            e["outcome_true"] = "overturned"  # lets a text-only fallback map an outcome sentence to yes/no
        elif "upheld?" in q:
            e = boolean(it.upheld)
            e["outcome_true"] = "upheld"
        else:
            e = text(acc)
            e["value"] = it.determination
        b.add("case_outcome_service", q, e, f"item {it.index} of {it.letter.case_number}: '{it.service}' -> {it.determination}")


def short_service(s: str) -> str:
    """How an analyst would name a gold service in a question: no dose, schedule or quantity."""
    s = re.sub(r"^(associated surgical service:|post-op\b|retrospective( request for)?)\s*", "", s, flags=re.I)
    s = re.sub(r"\s*\((?!mri|fce|lso)[^)]*\)", "", s, flags=re.I)
    s = re.sub(r"[,#].*$", "", s)
    words = []
    for w in s.split():
        if re.match(r"^[\d/.-]+|^(two|three|six|one|qty|dos|times|apply|x)\b", w, re.I):
            break
        words.append(w)
    while words and words[-1].lower() in {"a", "an", "the", "of", "for", "with", "per", "to", "without", "sodium", "hcl", "er"}:
        words.pop()
    words = words[:6]
    while words and words[-1].lower() in {"a", "an", "the", "of", "for", "with", "per", "to", "without"}:
        words.pop()
    return " ".join(words).lower() if words else s.lower()


def intent_case_item_count(b: Bank) -> None:
    forms = ["how many treatments disputed in {c}", "number of items in {c}", "{c} how many requests",
             "how many issues did {c} decide", "count of services at issue, case {c}", "how many decisions in letter {c}",
             "{c} # of disputed services"]
    cased = [x for x in G.letters() if x.case_number]
    for i, L in enumerate(cased[::2]):
        b.add("case_item_count", forms[i % len(forms)].format(c=L.case_number), num(len(L.items), "items"),
              f"{UNIT_ITEMS} in {L.case_number}")
    for i, L in enumerate(cased[1::5]):
        q = [f"how many requests were overturned in {L.case_number}", f"{L.case_number} number upheld",
             f"how many items did imr overturn in {L.case_number}", f"upheld count for {L.case_number}"][i % 4]
        outcome = "upheld" if "upheld" in q else "overturned"
        b.add("case_item_count", q, num(G.count_outcome(L.items, outcome), "items"), f"{UNIT_ITEMS}; outcome={outcome}")


def intent_case_reviewer(b: Bank) -> None:
    cased = [x for x in G.letters() if x.case_number]
    forms_spec = ["reviewer specialty {c}", "what kind of doctor reviewed {c}", "{c} reviewer board cert",
                  "who reviewed {c} - specialty", "specialty of the imr reviewer in {c}", "what specialty decided {c}"]
    forms_lic = ["where is the reviewer licensed in {c}", "{c} reviewer license states", "licensure of the reviewer for {c}",
                 "which states is the {c} reviewer licensed in"]
    for i, L in enumerate(cased[::2]):
        parts = G.specialties(L)
        acc = [p.split(" and ")[0] if "Physical Medicine" in p else p for p in parts]
        acc = ["Orthop" if "Orthop" in a else a for a in acc]
        b.add("case_reviewer", forms_spec[i % len(forms_spec)].format(c=L.case_number), text(acc),
              f"reviewer.specialty = '{L.specialty}'; any listed part accepted (substring)")
    for i, L in enumerate([x for x in cased[1::3] if x.licensure]):
        b.add("case_reviewer", forms_lic[i % len(forms_lic)].format(c=L.case_number), text(L.licensure, all_of=True),
              f"reviewer.licensure = {L.licensure}; all states must be named")


def intent_case_patient(b: Bank) -> None:
    cased = [x for x in G.letters() if x.case_number]
    age_forms = ["patient age {c}", "how old was the injured worker in {c}", "{c} age of applicant", "age in {c}",
                 "how old is the claimant, {c}"]
    sex_forms = ["patient sex {c}", "was the {c} patient male or female", "{c} gender", "is the worker in {c} a man or woman"]
    for i, L in enumerate([x for x in cased if x.age][::2]):
        b.add("case_patient", age_forms[i % len(age_forms)].format(c=L.case_number), num(L.age, "years"),
              f"patient.age of {L.case_number}")
    for i, L in enumerate([x for x in cased if x.sex][1::3]):
        b.add("case_patient", sex_forms[i % len(sex_forms)].format(c=L.case_number),
              text(["female", "woman"] if L.sex == "female" else ["male", "man"]), f"patient.sex of {L.case_number}")
    b.add("case_patient", "age of the patient in CM16-0249170", none_found("age", []),
          "gold patient.age is null for CM16-0249170: the letter does not state it")


def intent_priority(b: Bank) -> None:
    L = G.letters()
    exp = [x for x in L if x.priority == "Expedited"]
    std = [x for x in L if x.priority == "Standard"]
    rows = [
        ("how many expedited reviews", num(len(exp), "letters")),
        ("expedited cases", cases(exp)),
        ("which letters were expedited priority", cases(exp)),
        ("number of standard priority decisions", num(len(std), "letters")),
        ("any expedited imr in jan 2017", boolean(any(G.in_period(x, "2017-01-01", "2017-01-31") for x in exp))),
        ("were there expedited reviews at all", boolean(bool(exp))),
        ("how many expedited requests overturned", num(G.count_outcome([i for x in exp for i in x.items], "overturned"), "items")),
        ("priority of CM99-0000008", text(["expedited"])),
        ("CM17-0021126 priority", text(["standard"])),
        ("was CM16-0239607 expedited", boolean(False)),
        ("is cm99-0000008 an expedited case", boolean(True)),
        ("share of letters that were standard priority", share(round(len(std) / len(L), 4), "share of letters")),
        ("expedited vs standard count", ranking([["Standard", len(std)], ["Expedited", len(exp)]], 2, ordered=False)),
        ("urgent / expedited decisions in 2022", cases([x for x in exp if G.in_period(x, "2022-01-01", "2022-12-31")])),
        ("list standard-priority cases decided in feb 2017", cases([x for x in std if G.in_period(x, "2017-02-01", "2017-02-28")])),
    ]
    for q, e in rows:
        b.add("priority", q, e, "priority from the letter header (Standard/Expedited); letters without a header have none; "
              + (UNIT_LETTERS if e["type"] != "number" or e.get("unit") == "letters" else UNIT_ITEMS))


def intent_duration_avg(b: Bank) -> None:
    pairs = [("ur_denial_date", "decision_date"), ("date_of_injury", "decision_date"), ("application_received", "decision_date"),
             ("date_assigned", "decision_date"), ("ur_denial_date", "application_received"), ("date_of_injury", "ur_denial_date"),
             ("application_received", "date_assigned")]
    words = {
        ("ur_denial_date", "decision_date"): ["avg days from UR denial to decision", "average time from utilization review denial to the imr decision",
                                             "mean days between ur denial and final determination"],
        ("date_of_injury", "decision_date"): ["average days from injury to imr decision", "avg time DOI to decision (days)",
                                             "how long on average from the accident to the IMR decision, in days"],
        ("application_received", "decision_date"): ["avg turnaround from application received to decision",
                                                    "average days between application receipt and decision",
                                                    "mean imr turnaround time (app received -> decision)"],
        ("date_assigned", "decision_date"): ["average days from assignment to decision", "avg days assigned to decided"],
        ("ur_denial_date", "application_received"): ["how long do workers take to apply for imr after the UR denial, on average",
                                                    "avg days ur denial to application received"],
        ("date_of_injury", "ur_denial_date"): ["average days from date of injury to UR denial", "mean gap DOI -> denied by UR"],
        ("application_received", "date_assigned"): ["avg days from application received to assignment",
                                                   "average lag between the imr application and the case being assigned"],
    }
    for a, c in pairs:
        ls = [x for x in G.letters() if x.dates[a] and x.dates[c]]
        avg = round(sum(G.days_between(x.dates[a], x.dates[c]) for x in ls) / len(ls), 2)
        for q in words[(a, c)]:
            b.add("duration_avg", q, num(avg, "days", tol=0.6),
                  f"mean of ({c} - {a}) in days over the {len(ls)} letters with both dates")
    for q, (s, e) in [("avg days from UR denial to decision for 2017 decisions", ("2017-01-01", "2017-12-31")),
                      ("average imr turnaround (application to decision) jan 2017", ("2017-01-01", "2017-01-31")),
                      ("mean days ur denial -> decision, letters decided in feb 2017", ("2017-02-01", "2017-02-28"))]:
        a = "application_received" if "application" in q else "ur_denial_date"
        ls = [x for x in letters_in(s, e) if x.dates[a]]
        avg = round(sum(G.days_between(x.dates[a], x.decision) for x in ls) / len(ls), 2)
        b.add("duration_avg", q, num(avg, "days", tol=0.6), f"mean of (decision_date - {a}) over letters decided in [{s}, {e}]")


def intent_duration_case(b: Bank) -> None:
    cased = [x for x in G.letters() if x.case_number and x.dates["ur_denial_date"]]
    forms = [("days from UR denial to decision in {c}", "ur_denial_date", "decision_date"),
             ("how long between the injury and the imr decision for {c} (days)", "date_of_injury", "decision_date"),
             ("{c} turnaround days application received to decision", "application_received", "decision_date"),
             ("how many days after the DOI was {c} denied by UR", "date_of_injury", "ur_denial_date"),
             ("days between assignment and decision {c}", "date_assigned", "decision_date"),
             ("{c}: days from ur denial to application", "ur_denial_date", "application_received")]
    for i, L in enumerate(cased[::2]):
        f, a, c = forms[i % len(forms)]
        b.add("duration_case", f.format(c=L.case_number), num(G.days_between(L.dates[a], L.dates[c]), "days", tol=1),
              f"{c} - {a} of {L.case_number} in days (+-1 for inclusive counting)")


def intent_extremes(b: Bank) -> None:
    L = G.letters()
    dated = [x for x in L if x.decision]
    gap = lambda x, a, c: G.days_between(x.dates[a], x.dates[c])
    with_ur = [x for x in L if x.dates["ur_denial_date"] and x.decision]
    mx = max(gap(x, "ur_denial_date", "decision_date") for x in with_ur)
    mn = min(gap(x, "ur_denial_date", "decision_date") for x in with_ur)
    with_app = [x for x in L if x.dates["application_received"] and x.decision]
    mxa = max(gap(x, "application_received", "decision_date") for x in with_app)
    inj = [x for x in L if x.dates["date_of_injury"]]
    aged = [x for x in L if x.age]
    rows = [
        ("earliest decision date", date_e(min(x.decision for x in dated)), "min decision_date"),
        ("most recent decision in the library", date_e(max(x.decision for x in dated)), "max decision_date"),
        ("latest 2017 decision date", date_e(max(x.decision for x in dated if x.decision.startswith("2017"))), "max decision_date in 2017"),
        ("first imr decision of feb 2017", date_e(min(x.decision for x in dated if x.decision.startswith("2017-02"))), "min decision_date in Feb 2017"),
        ("which case took the longest from UR denial to decision", cases([x for x in with_ur if gap(x, "ur_denial_date", "decision_date") == mx]), "argmax (decision - ur_denial)"),
        ("fastest case ur denial -> decision", cases([x for x in with_ur if gap(x, "ur_denial_date", "decision_date") == mn]), "argmin (decision - ur_denial)"),
        ("longest turnaround from application to decision - which case", cases([x for x in with_app if gap(x, "application_received", "decision_date") == mxa]), "argmax (decision - application_received)"),
        ("max days from ur denial to decision", num(mx, "days", tol=1), "max over letters"),
        ("oldest injury date", date_e(min(x.dates["date_of_injury"] for x in inj)), "min date_of_injury"),
        ("most recent DOI among the 2017 decisions", date_e(max(x.dates["date_of_injury"] for x in inj if (x.decision or "").startswith("2017"))), "max DOI over letters decided 2017"),
        ("oldest patient - which case", cases([x for x in aged if x.age == max(y.age for y in aged)]), "argmax patient.age"),
        ("youngest injured worker age", num(min(x.age for x in aged), "years"), "min patient.age"),
        ("which letter has the most disputed items", cases([x for x in L if len(x.items) == max(len(y.items) for y in L)]), "argmax item count"),
        ("the case with the most overturned requests", cases([x for x in L if sum(i.overturned for i in x.items) == max(sum(i.overturned for i in y.items) for y in L)]), "argmax overturned items"),
        ("earliest UR denial date on file", date_e(min(x.dates["ur_denial_date"] for x in with_ur)), "min ur_denial_date"),
        ("last application received date in the 2017 letters", date_e(max(x.dates["application_received"] for x in with_app if x.decision.startswith("2017"))), "max application_received, letters decided 2017"),
    ]
    for q, e, n in rows:
        b.add("extremes", q, e, n)


def intent_rank_services(b: Bank) -> None:
    counter = Counter(G.rank_label(i) for i in G.items())
    rows = G.ranking(counter)
    acc = {lab: G.FAMILIES.get(lab, (None, None, [lab.lower()]))[2] for lab, _ in rows if lab in G.FAMILIES}
    acc.update({"pantoprazole": ["pantoprazole"]})
    note = ("unit: items; each item labelled by the first matching family of gold.RANK_FAMILIES "
            "(MRI, physical therapy, X-ray, ...), else its own service string; ties = equal counts")
    for q, top in [("top 5 most disputed services", 5), ("most common treatments in dispute", 3),
                   ("which service is disputed most often", 1), ("top 3 requested services at imr", 3),
                   ("rank services by number of requests", 4), ("most frequently disputed treatment", 1),
                   ("what are the 2 most common requests", 2), ("top ten services by volume", 3)]:
        b.add("rank_services", q, ranking(rows, top, acc), note + ("; only top 3 are checked (ties below)" if "ten" in q else ""))
    over = Counter(G.rank_label(i) for i in G.items() if i.overturned)
    orows = G.ranking(over)
    for q, top in [("which service gets overturned the most", 1), ("top services by number of overturns", 2),
                   ("most overturned treatment type", 1)]:
        b.add("rank_services", q, ranking(orows, top, acc), note + "; counting overturned items only (strict)")
    up = Counter(G.rank_label(i) for i in G.items() if i.upheld)
    urows = G.ranking(up)
    for q, top in [("most upheld service", 1), ("top 3 services where the denial was upheld", 3),
                   ("which treatment is most often upheld by imr", 1)]:
        b.add("rank_services", q, ranking(urows, top, acc), note + "; counting upheld items only")
    med = Counter(G.rank_label(i) for i in G.items() if i.category == "medication")
    b.add("rank_services", "most disputed medication", ranking(G.ranking(med), 1, acc), note + "; medication items only")
    b.add("rank_services", "top medications in dispute", ranking(G.ranking(med), 1, acc), note + "; medication items only; top 1 checked")
    img = Counter(G.rank_label(i) for i in G.items() if i.category == "imaging")
    b.add("rank_services", "most requested imaging study", ranking(G.ranking(img), 1, acc), note + "; imaging items only")
    y17 = Counter(G.rank_label(i) for i in items_in("2017-01-01", "2017-12-31"))
    b.add("rank_services", "top 3 disputed services in 2017", ranking(G.ranking(y17), 3, acc), note + "; letters decided in 2017")


def month_label(m: str) -> list[str]:
    import calendar
    y, mo = m.split("-")
    name = calendar.month_name[int(mo)]
    return [f"{name} {y}", f"{name[:3]} {y}", m, f"{int(mo)}/{y}", f"{mo}/{y}"]


def intent_rank_month(b: Bank) -> None:
    def top_month(pool_fn, letters_mode=False):
        c = Counter()
        if letters_mode:
            for x in G.letters():
                if x.decision:
                    c[x.decision[:7]] += 1
        else:
            for it in G.items():
                if it.letter.decision and pool_fn(it):
                    c[it.letter.decision[:7]] += 1
        best = max(c.values())
        winners = [m for m, v in c.items() if v == best]
        return winners, best, c

    rows = [
        ("which month had the most overturned requests", lambda i: i.overturned, False, "count of overturned items (not a share)"),
        ("month with most overturns", lambda i: i.overturned, False, "count of overturned items"),
        ("busiest month for decisions", None, True, "count of letters by decision month"),
        ("which month had the most imr letters", None, True, "count of letters"),
        ("what month had the most upheld items", lambda i: i.upheld, False, "count of upheld items"),
        ("month w/ highest number of denials upheld", lambda i: i.upheld, False, "count of upheld items"),
        ("which month saw the most disputed requests", lambda i: True, False, "count of items"),
        ("in which month were the most MRIs decided", lambda i: i in G.fam_items("MRI"), False,
         "count of MRI items; " + G.family_predicate_note("MRI")),
        ("top month for PT disputes", lambda i: i in G.fam_items("physical therapy"), False,
         "count of PT items; " + G.family_predicate_note("physical therapy")),
        ("which month in 2017 had the most overturned requests", lambda i: i.overturned and i.letter.decision.startswith("2017"), False,
         "count of overturned items, 2017 only"),
    ]
    for q, fn, lm, n in rows:
        winners, best, c = top_month(fn, lm)
        acc = [a for m in winners for a in month_label(m)]
        e = text(acc)
        e["value"] = winners
        e["count"] = best
        b.add("rank_month", q, e, f"{n}; winner(s) {winners} with {best}; unit {'letters' if lm else 'items'}")
    # least
    c = Counter(x.decision[:7] for x in G.letters() if x.decision and x.decision.startswith("2017"))
    lo = min(c.values())
    acc = [a for m, v in c.items() if v == lo for a in month_label(m)]
    b.add("rank_month", "which month of 2017 had the fewest decisions", text(acc), f"letters by month within 2017: {dict(c)}")
    b.add("rank_month", "decisions per month 2017", ranking(G.ranking({month_label(m)[0]: v for m, v in c.items()}), 2,
                                                             {month_label(m)[0]: month_label(m) for m in c}),
          "count of letters per decision month in 2017")


def intent_rank_specialty(b: Bank) -> None:
    L = G.letters()
    c = Counter(p for x in L for p in dict.fromkeys(G.specialties(x)))
    best = max(c.values())
    winners = sorted(p for p, v in c.items() if v == best)
    full = Counter(x.specialty for x in L if x.specialty)
    fbest = max(full.values())
    fw = [s for s, v in full.items() if v == fbest]
    acc = sorted(set(winners + [w.split(",")[0] for w in fw] + ["Physical Medicine"]))
    note = (f"unit letters; specialty parts (comma split, & = and): top {winners} with {best} letters each; "
            f"whole-string top {fw} with {fbest}; any of these accepted")
    for q in ["which specialty reviewed the most cases", "most common reviewer specialty", "what kind of doctors review most imrs",
              "top reviewer specialty by number of letters", "which specialty shows up most as reviewer"]:
        e = text(acc)
        e["counts"] = sorted({best, fbest})  # letters, by part or by whole specialty string
        b.add("rank_specialty", q, e, note)
    over = Counter(p for x in L for p in dict.fromkeys(G.specialties(x)) for _ in [0] if any(i.overturned for i in x.items))
    ob = max(over.values())
    b.add("rank_specialty", "which reviewer specialty overturned the most cases",
          text(sorted(p for p, v in over.items() if v == ob)), f"letters with >=1 overturned item, per specialty part: {dict(over)}")
    states = Counter(s for x in L for s in x.licensure)
    sb = max(states.values())
    for q in ["which state are most reviewers licensed in", "most common reviewer license state"]:
        b.add("rank_specialty", q, text([s for s, v in states.items() if v == sb]), f"letters per licence state: top {sb}")
    b.add("rank_specialty", "how many cases did family practice reviewers decide",
          num(sum("Family Practice" in G.specialties(x) for x in L), "letters"), "reviewer specialty includes Family Practice")
    b.add("rank_specialty", "number of letters reviewed by an orthopedic surgeon",
          num(sum("Orthopedic Surgery" in G.specialties(x) for x in L), "letters"), "specialty part Orthopedic/Orthopaedic Surgery")
    b.add("rank_specialty", "count of cases reviewed by anesthesiologists",
          num(sum("Anesthesiology" in G.specialties(x) for x in L), "letters"), "specialty part Anesthesiology")


def intent_rank_category(b: Bank) -> None:
    c = Counter(i.category for i in G.items())
    rows = G.ranking(c)
    acc = {"DME": ["dme", "durable"], "medication": ["medication", "drug"], "imaging": ["imaging"], "therapy": ["therapy"],
           "other": ["other"], "surgery": ["surg"], "injection": ["inject"]}
    for q, top in [("which category of treatment is disputed most", 1), ("rank categories by volume", 3),
                   ("top 2 request types", 2), ("category breakdown of disputed items", 4)]:
        b.add("rank_category", q, ranking(rows, top, acc), "unit items; gold category")
    over = Counter(i.category for i in G.items() if i.overturned)
    for q, top in [("which category has the most overturns", 1), ("overturned items by category", 3)]:
        b.add("rank_category", q, ranking(G.ranking(over), top, acc), "unit items; overturned (strict) by gold category")
    up = Counter(i.category for i in G.items() if i.upheld)
    b.add("rank_category", "category with most upheld denials", ranking(G.ranking(up), 1, acc), "unit items; upheld by category")
    rate = {k: round(over.get(k, 0) / v, 4) for k, v in c.items()}
    b.add("rank_category", "which category has the highest overturn rate", ranking(G.ranking(rate), 1, acc),
          f"share overturned per category (strict): {rate}")
    b.add("rank_category", "lowest overturn rate by category", ranking(sorted([[k, v] for k, v in rate.items()], key=lambda r: r[1]), 1, acc),
          f"ascending share overturned per category: {rate}; ties = equal values")
    c17 = Counter(i.category for i in items_in("2017-01-01", "2017-12-31"))
    b.add("rank_category", "most disputed category in 2017", ranking(G.ranking(c17), 1, acc), "unit items; decided 2017")


def intent_compare(b: Bank) -> None:
    def fam_rate(f):
        return round(sum(i.overturned for i in G.fam_items(f)) / len(G.fam_items(f)), 4)

    def fam_n(f, outcome=None):
        p = G.fam_items(f)
        return sum(1 for i in p if outcome is None or (i.overturned if outcome == "overturned" else i.upheld))

    pairs = [
        ("mri vs pt overturn rate", "MRI", "physical therapy", fam_rate),
        ("which gets overturned more often, mri or x-ray", "MRI", "X-ray", fam_rate),
        ("compare overturn rates shoulder mri vs lumbar mri", "shoulder MRI", "lumbar MRI", fam_rate),
        ("more disputes: acupuncture or chiropractic", "acupuncture", "chiropractic", lambda f: fam_n(f)),
        ("PT vs MRI - which is disputed more", "physical therapy", "MRI", lambda f: fam_n(f)),
        ("TENS or hospital bed, which had more overturns", "TENS unit", "hospital bed", lambda f: fam_n(f, "overturned")),
        ("x-rays vs EMG number of requests", "X-ray", "EMG", lambda f: fam_n(f)),
        ("norco vs tramadol disputes count", "Norco", "tramadol", lambda f: fam_n(f)),
    ]
    for q, a, c, fn in pairs:
        va, vc = fn(a), fn(c)
        acc = {a: G.FAMILIES[a][2], c: G.FAMILIES[c][2]}
        b.add("compare", q, ranking(G.ranking({a: va, c: vc}), 2, acc, ordered=False),
              f"{G.family_predicate_note(a)}; {G.family_predicate_note(c)}; values: {a}={va}, {c}={vc}; "
              f"order by value desc; {'share overturned (strict)' if fn is fam_rate else 'item counts'}")
    jan = letters_in("2017-01-01", "2017-01-31")
    feb = letters_in("2017-02-01", "2017-02-28")
    rows2 = [
        ("jan vs feb 2017 number of decisions", {"January 2017": len(jan), "February 2017": len(feb)},
         {"January 2017": month_label("2017-01"), "February 2017": month_label("2017-02")}, "letters per month"),
        ("overturns in january compared to february 2017",
         {"January 2017": sum(i.overturned for x in jan for i in x.items), "February 2017": sum(i.overturned for x in feb for i in x.items)},
         {"January 2017": month_label("2017-01"), "February 2017": month_label("2017-02")}, "overturned items per month"),
        ("male vs female patients - how many cases each",
         {"male": sum(x.sex == "male" for x in G.letters()), "female": sum(x.sex == "female" for x in G.letters())},
         {"male": ["male"], "female": ["female"]}, "letters by patient sex"),
        ("overturn rate medication vs imaging",
         {k: round(sum(i.overturned for i in G.items() if i.category == k) / sum(1 for i in G.items() if i.category == k), 4)
          for k in ("medication", "imaging")}, {"medication": ["medic"], "imaging": ["imag"]}, "share overturned by category"),
        ("MTUS vs ODG - which is cited on more items",
         {g: sum(g in i.guidelines for i in G.items()) for g in ("MTUS", "ODG")}, {"MTUS": ["mtus"], "ODG": ["odg"]},
         "items citing each guideline family"),
        ("texas vs california letters count",
         {"California": sum(x.letter_format == "ca_dwc_imr" for x in G.letters()), "Texas": sum(x.letter_format == "tx_iro" for x in G.letters())},
         {"California": ["california", "ca", "dwc"], "Texas": ["texas", "tx"]}, "letters by format"),
        ("upheld vs overturned items overall",
         {"upheld": sum(i.upheld for i in G.items()), "overturned": sum(i.overturned for i in G.items())},
         {"upheld": ["upheld"], "overturned": ["overturned"]}, "items by outcome"),
    ]
    for q, vals, acc, n in rows2:
        b.add("compare", q, ranking(G.ranking(vals), 2, acc, ordered=False), f"{n}: {vals}; any order, values required")
    b.add("compare", "did mri get overturned more than PT", boolean(fam_n("MRI", "overturned") > fam_n("physical therapy", "overturned")),
          f"overturned item counts MRI={fam_n('MRI', 'overturned')} vs PT={fam_n('physical therapy', 'overturned')} (PT loose 4: still not more)")
    b.add("compare", "were there more decisions in feb 2017 than jan 2017", boolean(len(feb) > len(jan)), f"letters: feb {len(feb)}, jan {len(jan)}")


def intent_guideline(b: Bank) -> None:
    its = G.items()
    L = G.letters()
    rows = []
    for g, words in [("MTUS", ["MTUS", "mtus", "the CA MTUS"]), ("ODG", ["ODG", "odg", "Official Disability Guidelines"]),
                     ("ACOEM", ["ACOEM", "acoem"])]:
        n_items = sum(g in i.guidelines for i in its)
        ls = [x for x in L if any(g in i.guidelines for i in x.items)]
        rows.append((f"how many items cite {words[0]}", num(n_items, "items"), f"{UNIT_ITEMS}; item guidelines include {g}"))
        rows.append((f"cases where the reviewer relied on {words[2]}" if g != "ACOEM" else "which cases cite ACOEM",
                     cases(ls), f"{UNIT_LETTERS}; any item's guidelines include {g}"))
        rows.append((f"{words[1]} citations - number of letters", num(len(ls), "letters"), f"{UNIT_LETTERS}; any item cites {g}"))
        over = [i for i in its if g in i.guidelines]
        rows.append((f"overturn rate when {words[1]} was cited", share(G.rate_outcome(over, "overturned"), "share of items"),
                     f"{UNIT_ITEMS}; items citing {g}; share overturned"))
    rows += [
        ("items decided under ODG only (no MTUS)", num(sum(("ODG" in i.guidelines and "MTUS" not in i.guidelines) for i in its), "items"),
         f"{UNIT_ITEMS}; ODG in guidelines and MTUS not"),
        ("how many requests cited both mtus and odg", num(sum(("ODG" in i.guidelines and "MTUS" in i.guidelines) for i in its), "items"),
         f"{UNIT_ITEMS}; both"),
        ("mri requests decided using odg", num(sum("ODG" in i.guidelines for i in G.fam_items("MRI")), "items"),
         f"{UNIT_ITEMS}; {G.family_predicate_note('MRI')}; ODG cited"),
        ("which guideline was used for the acupuncture in CM16-0248698", text(["MTUS"]), "gold guideline MTUS"),
        ("guideline cited for the pelvis x-ray CM16-0232543", text(["ODG", "Official Disability"]), "gold guideline ODG"),
        ("items with no guideline cited", num(sum(not i.guidelines for i in its), "items"), f"{UNIT_ITEMS}; empty guidelines"),
        ("did any letter cite acoem for imaging", boolean(any("ACOEM" in i.guidelines and i.category == "imaging" for i in its)),
         "an imaging item with ACOEM in guidelines"),
        ("share of items citing the mtus", share(round(sum("MTUS" in i.guidelines for i in its) / len(its), 4), "share of items"),
         f"{UNIT_ITEMS}; MTUS cited / all items"),
    ]
    for q, e, n in rows:
        b.add("guideline", q, e, "guideline families from the gold (MAXIMUS/IRO screening lines only); " + n)


def intent_demographics(b: Bank) -> None:
    L = G.letters()
    aged = [x for x in L if x.age]
    rows = [
        ("average patient age", num(round(sum(x.age for x in aged) / len(aged), 2), "years", tol=0.6), f"mean over {len(aged)} letters with an age"),
        ("avg age of injured workers in the 2017 letters", num(round(sum(x.age for x in aged if (x.decision or '').startswith('2017')) /
                                                                     sum(1 for x in aged if (x.decision or '').startswith('2017')), 2), "years", tol=0.6), "letters decided 2017 with an age"),
        ("how many female patients", num(sum(x.sex == "female" for x in L), "letters"), "patient.sex female"),
        ("number of male claimants", num(sum(x.sex == "male" for x in L), "letters"), "patient.sex male"),
        ("cases with patients over 50", cases([x for x in L if x.age and x.age > 50]), "age > 50"),
        ("patients 60 or older", cases([x for x in L if x.age and x.age >= 60]), "age >= 60"),
        ("workers under 30 - which cases", cases([x for x in L if x.age and x.age < 30]), "age < 30"),
        ("how many patients were in their 40s", num(sum(1 for x in aged if 40 <= x.age <= 49), "letters"), "40 <= age <= 49"),
        ("overturn rate for patients over 55", share(G.rate_outcome([i for x in aged if x.age > 55 for i in x.items], "overturned"), "share of items"),
         "items of letters with age > 55"),
        ("female patients with an overturned request", cases([x for x in L if x.sex == "female" and any(i.overturned_loose for i in x.items)]),
         "sex female and >=1 overturned (loose)"),
        ("how many women had an mri disputed", num(len({id(i.letter) for i in G.fam_items("MRI") if i.letter.sex == "female"}), "letters"),
         G.family_predicate_note("MRI") + "; letters with female patient"),
        ("median age of patients", num(sorted(x.age for x in aged)[len(aged) // 2] if len(aged) % 2 else
                                       (sorted(x.age for x in aged)[len(aged) // 2 - 1] + sorted(x.age for x in aged)[len(aged) // 2]) / 2, "years", tol=0.6),
         "median patient age"),
        ("male 28 year olds - which cases", cases([x for x in L if x.sex == "male" and x.age == 28]), "male and age 28"),
        ("how old is the oldest patient", num(max(x.age for x in aged), "years"), "max age"),
        ("patients whose sex isn't stated", cases([x for x in L if not x.sex]), "sex null (uncased letters listed separately)"),
    ]
    for q, e, n in rows:
        b.add("demographics", q, e, ("unit letters; " if e["type"] in ("cases", "number") and e.get("unit") != "items" else "") + n)


def intent_reviewer_agg(b: Bank) -> None:
    L = G.letters()
    rows = [
        ("cases reviewed by a Texas-licensed reviewer", cases([x for x in L if "Texas" in x.licensure]), "licensure includes Texas"),
        ("how many reviewers were licensed in california", num(sum("California" in x.licensure for x in L), "letters"), "letters whose reviewer licensure includes California"),
        ("letters decided by a family practice doc", cases([x for x in L if "Family Practice" in G.specialties(x)]), "specialty part Family Practice"),
        ("cases reviewed by occupational medicine", cases([x for x in L if "Occupational Medicine" in G.specialties(x)]), "specialty part Occupational Medicine"),
        ("which cases had a pain management reviewer", cases([x for x in L if "Pain Management" in G.specialties(x)]), "specialty part Pain Management"),
        ("pm&r reviewers - which letters", cases([x for x in L if any(p.startswith("Physical Medicine") for p in G.specialties(x))]), "specialty part Physical Medicine and/& Rehabilitation"),
        ("overturn rate when the reviewer was an orthopedic surgeon", share(G.rate_outcome([i for x in L if "Orthopedic Surgery" in G.specialties(x) for i in x.items], "overturned"), "share of items"),
         "items of letters whose specialty includes Orthopedic/Orthopaedic Surgery"),
        ("reviewers licensed in florida - case list", cases([x for x in L if "Florida" in x.licensure]), "licensure Florida"),
        ("cases where the reviewer holds 3 or more state licenses", cases([x for x in L if len(x.licensure) >= 3]), "len(licensure) >= 3"),
        ("internal medicine reviewers: how many items did they overturn", num(G.count_outcome([i for x in L if "Internal Medicine" in G.specialties(x) for i in x.items], "overturned"), "items"),
         "items of letters with specialty part Internal Medicine; overturned"),
        ("emergency medicine reviewer cases", cases([x for x in L if "Emergency Medicine" in G.specialties(x)]), "specialty part Emergency Medicine"),
        ("did an anesthesiologist ever overturn anything", boolean(any(i.overturned for x in L if "Anesthesiology" in G.specialties(x) for i in x.items)),
         "specialty part Anesthesiology with an overturned item"),
        ("any neurology reviewers", boolean(any("Neurology" in G.specialties(x) for x in L)), "specialty Neurology"),
        ("cases reviewed by someone licensed in ohio", cases([x for x in L if "Ohio" in x.licensure]), "licensure Ohio"),
        ("non-california-licensed reviewers - which cases", cases([x for x in L if x.licensure and "California" not in x.licensure]),
         "licensure present and without California (Texas IRO letters have none and are excluded)"),
    ]
    for q, e, n in rows:
        b.add("reviewer_agg", q, e, ("unit letters; " if e["type"] in ("cases", "number") else "") + n)


def intent_passage(b: Bank) -> None:
    cased = [x for x in G.letters() if x.case_number]
    forms = ["why was the {s} denied in {c}", "what did the reviewer say about {s} in {c}", "reason {s} {o} {c}",
             "rationale for {c} {s}", "why did imr {o1} the {s} in {c}", "{c} {s} - reviewer's reasoning",
             "explain the {s} decision in {c}", "quote the reviewer on the {s}, case {c}",
             "on what basis was {s} {o} in {c}"]
    picks = [it for L in cased for it in L.items][1::4][:27]
    for i, it in enumerate(picks):
        s = short_service(it.service)
        o = "overturned" if it.overturned_loose else "upheld"
        q = forms[i % len(forms)].format(s=s, c=it.letter.case_number, o=o, o1="overturn" if o == "overturned" else "uphold")
        if "denied" in q and it.overturned:
            q = q.replace("denied", "approved")
        key = s.split()[0]
        b.add("passage", q, passage(it.letter.case_number, [key]),
              f"must cite a passage of {it.letter.case_number} (item {it.index}: '{it.service}'); contains '{key}' in answer or quotes")
    for q, c in [("what did the reviewer say in CM17-0009883 about transportation", "CM17-0009883"),
                 ("why was the home aide partially approved in CM16-0249735", "CM16-0249735"),
                 ("clinical summary for CM17-0021126", "CM17-0021126")]:
        b.add("passage", q, passage(c), f"must cite a passage of {c}")


def intent_yesno(b: Bank) -> None:
    its = G.items()
    L = G.letters()

    def anyf(f, pred=lambda i: True):
        return any(pred(i) for i in G.fam_items(f))

    rows = [
        ("was any acupuncture request overturned", anyf("acupuncture", lambda i: i.overturned_loose)),
        ("did imr ever approve a TENS unit", anyf("TENS unit", lambda i: i.overturned_loose)),
        ("were all x-rays upheld", all(i.upheld for i in G.fam_items("X-ray"))),
        ("any chiropractc overturned", anyf("chiropractic", lambda i: i.overturned_loose)),
        ("is there a case with an ESI overturned", anyf("epidural steroid injection", lambda i: i.overturned_loose)),
        ("did any MRI get overturned in jan 2017", any(i.overturned for i in items_in("2017-01-01", "2017-01-31", G.fam_items("MRI")))),
        ("was CM17-0009840 overturned", any(i.overturned for i in G.by_case("CM17-0009840").items)),
        ("was everything upheld in CM16-0248698", all(i.upheld for i in G.by_case("CM16-0248698").items)),
        ("any overturns in CM16-0232543", any(i.overturned for i in G.by_case("CM16-0232543").items)),
        ("is the patient in CM16-0237163 female", G.by_case("CM16-0237163").sex == "female"),
        ("was the reviewer in CM17-0009840 an emergency medicine doc", "Emergency Medicine" in G.specialties(G.by_case("CM17-0009840"))),
        ("did any norco request survive imr (overturned)", anyf("Norco", lambda i: i.overturned_loose)),
        ("are there any surgery requests that were overturned", any(i.overturned for i in its if i.category == "surgery")),
        ("any hospital bed approved", anyf("hospital bed", lambda i: i.overturned_loose)),
        ("were any physical therapy requests upheld in 2017", any(i.upheld for i in items_in("2017-01-01", "2017-12-31", G.fam_items("physical therapy")))),
        ("has any decision been made after 2023", any(x.decision and x.decision > "2023-12-31" for x in L)),
        ("were all letters in feb 2017 standard priority", all(x.priority == "Standard" for x in letters_in("2017-02-01", "2017-02-28"))),
        ("did every 2017 case cite MTUS at least once", all(any("MTUS" in i.guidelines for i in x.items) for x in letters_in("2017-01-01", "2017-12-31"))),
        ("is there any letter with more than 20 disputed items", any(len(x.items) > 20 for x in L)),
        ("was the lidocaine ever overturned", anyf("lidocaine", lambda i: i.overturned_loose)),
        ("did the FCE get approved in any case", anyf("functional capacity evaluation", lambda i: i.overturned_loose)),
        ("any wheelchair requests overturned", anyf("wheelchair", lambda i: i.overturned_loose)),
    ]
    for q, v in rows:
        b.add("yesno", q, boolean(v), "yes/no from gold; overturned means overturned or partially overturned where 'approved' is asked")


# Services no letter has. near: word forms searched in every letter text by --check.
ABSENT = [
    ("discectomy", ["discectomy", "diskectomy"], ["how many discectomy requests", "discectomy overturn rate",
                                                  "cases with a diskectomy", "was any discectomy approved"]),
    ("total hip replacement", ["hip replacement", "hip arthroplasty", "total hip"], ["total hip replacement decisions",
                                                                                    "how many hip replacements were upheld"]),
    ("botox", ["botox", "botulinum"], ["botox injections overturned?", "which cases had botox"]),
    ("ketamine", ["ketamine"], ["ketamine infusion requests", "how many ketamine denials upheld"]),
    ("radiofrequency ablation", ["radiofrequency", "rhizotomy", "ablation"], ["radiofrequency ablation cases", "RF ablation overturn rate"]),
    ("shockwave therapy", ["shockwave", "shock wave", "eswt", "extracorporeal"], ["ESWT requests upheld", "shockwave therapy for the shoulder - any"]),
    ("gym membership", ["gym"], ["gym membership requests", "was a gym membership ever approved"]),
    ("medical marijuana", ["marijuana", "cannabis", "cannabinoid"], ["medical marijuana cases", "cannabis requests count"]),
    ("hearing aids", ["hearing aid"], ["hearing aids upheld", "any hearing aid requests"]),
    ("kyphoplasty", ["kyphoplasty", "vertebroplasty"], ["kyphoplasty decisions"]),
    ("fentanyl patch", ["fentanyl", "duragesic"], ["fentanyl patch requests", "how many fentanyl denials"]),
    ("sleep study", ["sleep study", "polysomnogra"], ["sleep study cases"]),
    ("stem cell therapy", ["stem cell"], ["stem cell therapy overturned"]),
    ("dental work", ["dental", "dentist"], ["dental treatment requests", "how many dental claims were decided"]),
    ("H-wave unit", ["h-wave", "h wave", "hwave"], ["h-wave unit requests", "hwave overturn rate"]),
    ("Soma (carisoprodol)", ["soma", "carisoprodol"], ["soma requests upheld", "carisoprodol cases"]),
    ("weight loss program", ["weight loss", "weight-loss"], ["weight loss program requests"]),
]


def intent_none_found(b: Bank) -> None:
    for term, near, qs in ABSENT:
        for q in qs:
            b.add("none_found", q, none_found(term, near), f"'{term}' is in no letter (checked with near forms {near})")


def intent_exclusion(b: Bank) -> None:
    its = G.items()
    L = G.letters()
    mri = set(map(id, G.fam_items("MRI")))
    img_non_mri = [i for i in its if i.category == "imaging" and id(i) not in mri]
    non_jan = [i for i in items_in("2017-01-01", "2017-12-31") if not i.letter.decision.startswith("2017-01")]
    rows = [
        ("imaging requests other than MRIs - how many", num(len(img_non_mri), "items"), "imaging items not in MRI family"),
        ("overturn rate imaging other than MRIs", share(G.rate_outcome(img_non_mri, "overturned"), "share of items"), "imaging minus MRI family"),
        ("2017 decisions except in January - number of letters",
         num(len([x for x in letters_in("2017-01-01", "2017-12-31") if not x.decision.startswith("2017-01")]), "letters"), "decided 2017, not January"),
        ("overturned requests in 2017 except in January", num(G.count_outcome(non_jan, "overturned"), "items"), "items decided 2017 not Jan; overturned"),
        ("how many meds were disputed excluding opioids (norco, percocet, oxycodone, tramadol)",
         num(sum(1 for i in its if i.category == "medication" and not re.search(r"norco|percocet|oxycodone|tramadol", i.s)), "items"),
         "medication items whose service matches none of norco|percocet|oxycodone|tramadol"),
        ("cases without any imaging", cases([x for x in L if not any(i.category == "imaging" for i in x.items)]), "letters with no imaging item"),
        ("letters that don't involve PT", num(sorted({sum(1 for x in L if not any(re.search(r"physical therapy", i.s) for i in x.items)),
                                                      sum(1 for x in L if not any(re.search(r"physical therapy(?!.*evaluation)", i.s) for i in x.items))}), "letters"),
         "count of letters with no PT item; " + G.family_predicate_note("physical therapy")),
        ("non-medication items overturned", num(G.count_outcome([i for i in its if i.category != "medication"], "overturned"), "items"),
         "items with category != medication; overturned"),
        ("all overturned requests except MRIs", num(G.count_outcome([i for i in its if id(i) not in mri], "overturned"), "items"), "non-MRI items overturned"),
        ("upheld items not counting the texas letters", num(sum(i.upheld for i in its if i.letter.letter_format != "tx_iro"), "items"), "upheld, format != tx_iro"),
        ("cases other than the 2017 ones with an overturn", cases([x for x in L if not (x.decision or "").startswith("2017") and any(i.overturned_loose for i in x.items)]),
         "letters not decided in 2017 (incl. undated) with >=1 overturned (loose)"),
        ("overturn rate for everything except medications", share(G.rate_outcome([i for i in its if i.category != "medication"], "overturned"), "share of items"),
         "non-medication items"),
        ("how many therapy requests other than physical therapy",
         num(sorted({sum(1 for i in its if i.category == "therapy" and "physical therapy" not in i.s)}), "items"),
         "therapy-category items whose service lacks 'physical therapy'"),
        ("letters with an MRI but no x-ray", cases([x for x in L if any(id(i) in mri for i in x.items) and not any("x-ray" in i.s for i in x.items)]),
         "MRI family item present and no X-ray family item"),
        ("excluding CM16-0248698 how many items were upheld in 2017",
         num(sum(i.upheld for i in items_in("2017-01-01", "2017-12-31") if i.letter.case_number != "CM16-0248698"), "items"),
         "upheld items decided 2017, that letter excluded"),
        ("decisions not by preventive medicine reviewers in feb 2017",
         num(sum(1 for x in letters_in("2017-02-01", "2017-02-28") if "Preventive Medicine" not in G.specialties(x)), "letters"),
         "letters decided Feb 2017 whose specialty parts lack Preventive Medicine"),
        ("non-expedited overturns", num(G.count_outcome([i for i in its if i.letter.priority != "Expedited"], "overturned"), "items"),
         "items of letters whose priority is not Expedited (incl. unknown); overturned"),
        ("injuries other than in october 2016 - how many cases decided in 2017",
         num(sum(1 for x in letters_in("2017-01-01", "2017-12-31") if not (x.dates["date_of_injury"] or "").startswith("2016-10")), "letters"),
         "letters decided 2017 with DOI not in Oct 2016"),
    ]
    for q, e, n in rows:
        b.add("exclusion", q, e, n)


def intent_relative_dates(b: Bank) -> None:
    # TODAY = 2017-06-30 (IMR_TODAY)
    y17 = letters_in("2017-01-01", "2017-06-30")
    rows = [
        ("how many decisions in the last three months", num(len(letters_in("2017-03-31", "2017-06-30")), "letters"),
         "decision_date in 2017-04-01..2017-06-30 (or from 03-30/31): 0"),
        ("overturned requests last 3 months", num(G.count_outcome(items_in("2017-03-31", "2017-06-30"), "overturned"), "items"), "same window, items"),
        ("how many letters this year", num(len(y17), "letters"), "decided 2017-01-01..2017-06-30"),
        ("overturn rate this year", share(G.rate_outcome(items_in("2017-01-01", "2017-06-30"), "overturned"), "share of items"), "items decided 2017"),
        ("ytd upheld count", num(G.count_outcome(items_in("2017-01-01", "2017-06-30"), "upheld"), "items"), "items decided 2017 (to 06-30); upheld"),
        ("decisions last year", num(len(letters_in("2016-01-01", "2016-12-31")), "letters"), "decided in 2016: 0"),
        ("cases decided in the past 6 months", cases(letters_in("2016-12-30", "2017-06-30")), "decided 2016-12-30..2017-06-30"),
        ("mri overturned in the last 12 months", num(G.count_outcome(items_in("2016-06-30", "2017-06-30", G.fam_items("MRI")), "overturned"), "items"),
         "MRI family items decided in the 12 months to 2017-06-30; overturned"),
        ("how many imr decisions this month", num(len(letters_in("2017-06-01", "2017-06-30")), "letters"), "June 2017: 0"),
        ("letters decided in the last 5 years", num(len(letters_in("2012-06-30", "2017-06-30")), "letters"), "2012-06-30..2017-06-30"),
        ("PT requests decided this year", num(sorted({len(items_in("2017-01-01", "2017-06-30", G.fam_items("physical therapy"))),
                                                    len(items_in("2017-01-01", "2017-06-30", G.fam_items("physical therapy", alt=True)))}), "items"),
         G.family_predicate_note("physical therapy") + "; decided 2017"),
        ("anything decided in the last 30 days", boolean(bool(letters_in("2017-05-31", "2017-06-30"))), "no letter decided 2017-05-31..06-30"),
        ("injuries in the past year - how many cases", num(len(letters_in("2016-06-30", "2017-06-30", "date_of_injury")), "letters"),
         "date_of_injury in the 12 months to 2017-06-30"),
        ("decisions so far in 2017 by month", ranking(G.ranking({month_label(m)[0]: v for m, v in Counter(x.decision[:7] for x in y17).items()}), 2,
                                                    {"January 2017": month_label("2017-01"), "February 2017": month_label("2017-02")}), "letters per month in 2017"),
        ("how many cases were decided in the previous quarter", num(sorted({len(letters_in("2017-01-01", "2017-03-31")), len(letters_in("2017-03-31", "2017-06-30"))}), "letters"),
         "previous calendar quarter Q1 2017 = 25; 'last 3 months' reading (0) also accepted"),
        ("upheld decisions over the last two years", num(G.count_outcome(items_in("2015-06-30", "2017-06-30"), "upheld"), "items"),
         "items decided 2015-06-30..2017-06-30; upheld"),
    ]
    for q, e, n in rows:
        b.add("relative_dates", q, e, "TODAY = 2017-06-30; " + n)


INTENTS = [
    intent_count_outcome_service, intent_count_outcome_category, intent_count_outcome_period, intent_rate_service,
    intent_rate_segment, intent_count_letters, intent_cases_quantifier, intent_cases_service, intent_cases_period,
    intent_case_date_field, intent_case_clarify, intent_case_outcome_service, intent_case_item_count, intent_case_reviewer,
    intent_case_patient, intent_priority, intent_duration_avg, intent_duration_case, intent_extremes, intent_rank_services,
    intent_rank_month, intent_rank_specialty, intent_rank_category, intent_compare, intent_guideline, intent_demographics,
    intent_reviewer_agg, intent_passage, intent_yesno, intent_none_found, intent_exclusion, intent_relative_dates,
]


def build() -> list[dict]:
    b = Bank()
    for fn in INTENTS:
        fn(b)
    return b.rows


# ------------------------------------------------------------------ checks

def check(rows: list[dict]) -> list[str]:
    problems: list[str] = []
    known = G.case_numbers()
    intents = Counter(r["intent"] for r in rows)
    if len(rows) < 600:
        problems.append(f"only {len(rows)} questions (< 600)")
    if len(intents) < 25:
        problems.append(f"only {len(intents)} intents (< 25)")
    ids = Counter(r["id"] for r in rows)
    problems += [f"duplicate id {i}" for i, n in ids.items() if n > 1]
    types = {"number", "date", "text", "cases", "ranking", "bool", "none_found", "passage", "clarify"}
    for r in rows:
        e = r["expected"]
        if e["type"] not in types:
            problems.append(f"{r['id']}: unknown type {e['type']}")
        for cn in G.CASE_RE.findall(r["question"]):
            if cn.upper() not in {k.upper() for k in known}:
                problems.append(f"{r['id']}: case {cn} not in gold")
        if e["type"] == "cases":
            for cn in e["value"] + [c for s in e.get("accept_sets", []) for c in s]:
                if cn not in known:
                    problems.append(f"{r['id']}: expected case {cn} not in gold")
            if not e["value"] and not e.get("uncased"):
                problems.append(f"{r['id']}: empty case set (should be none_found)")
        if e["type"] == "passage" and e["case"] not in known:
            problems.append(f"{r['id']}: passage case {e['case']} not in gold")
        if e["type"] == "ranking" and len(e["value"]) < e["top"]:
            problems.append(f"{r['id']}: ranking shorter than top")
        if e["type"] == "number" and e["value"] is None:
            problems.append(f"{r['id']}: number is None")
    # every service family referenced by a question's notes must have gold items
    for r in rows:
        for fam in re.findall(r"service family '([^']+)'", r["notes"]):
            if not G.fam_items(fam):
                problems.append(f"{r['id']}: family {fam} has no gold item")
    # none_found terms must be absent from every letter text (and from every gold service)
    texts = G.letter_texts()
    if not any(k.endswith(".pdf") for k in texts):
        problems.append("dev PDFs not found: none_found check incomplete (set IMR_SHARED_DIR)")
    for term, near, _ in ABSENT:
        for form in near:
            rx = re.compile(r"\b" + re.escape(form.lower()))
            for name, t in texts.items():
                if rx.search(t):
                    problems.append(f"none_found '{term}': near form '{form}' occurs in {name}")
            for it in G.items():
                if rx.search(it.s):
                    problems.append(f"none_found '{term}': in gold service {it.service}")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="recompute and verify instead of writing")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    rows = build()
    if args.check:
        problems = check(rows)
        out = Path(args.out)
        if out.exists():
            on_disk = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
            if on_disk != json.loads(json.dumps(rows)):
                problems.append(f"{out} differs from a fresh build: rerun generate")
        else:
            problems.append(f"{out} is missing")
        intents = Counter(r["intent"] for r in rows)
        print(f"{len(rows)} questions, {len(intents)} intents")
        for p in problems:
            print("PROBLEM:", p)
        print("OK" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
    with open(args.out, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    intents = Counter(r["intent"] for r in rows)
    print(f"wrote {len(rows)} questions over {len(intents)} intents to {args.out}")
    for k, v in intents.items():
        print(f"  {k:28s} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
