"""Gold records of the dev library, and plain-Python functions that compute expected answers.

Independent of imr_rag on purpose: the bank's expectations come from the hand-checked gold JSON
files only (25 real DWC letters in evals/fixtures/dwc-dev, 13 synthetic letters in
evals/fixtures/synthetic/gold), never from the tool.

Conventions used by every expectation (repeated in each question's "notes"):
- "letters"/"cases"/"decisions" = decision letters, i.e. gold records with at least one item
  (the generic appeal letter is not an IMR decision and is never counted). 37 in all.
- "items"/"requests"/"treatments"/"services" = disputed items (one per heading of a letter).
- "overturned" strictly means determination == overturned; the one Texas partial overturn
  (determination partially_overturned) is accepted either way: number expectations carry both
  values in "accept_values" when the two readings differ.
- Service families are regular expressions on the lower-cased gold `service` string (FAMILIES).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEV_GOLD = REPO / "evals" / "fixtures" / "dwc-dev"
SYN_GOLD = REPO / "evals" / "fixtures" / "synthetic" / "gold"
SYN_LETTERS = REPO / "evals" / "fixtures" / "synthetic" / "letters"
TODAY = date(2017, 6, 30)
CASE_RE = re.compile(r"\b(?:CM\d{2}-\d{7}|\d{4}-\d{5})\b", re.I)

DATE_FIELDS = {
    "decision_date": "decision date",
    "date_of_injury": "date of injury",
    "date_assigned": "date assigned",
    "ur_denial_date": "UR denial date",
    "application_received": "application received",
}


@dataclass
class Item:
    letter: "Letter"
    index: int
    service: str
    category: str
    determination: str
    original_request: str | None
    authorized_portion: str | None
    guidelines: list[str]

    @property
    def s(self) -> str:
        return self.service.lower()

    @property
    def overturned(self) -> bool:
        return self.determination == "overturned"

    @property
    def overturned_loose(self) -> bool:
        return self.determination in ("overturned", "partially_overturned")

    @property
    def upheld(self) -> bool:
        return self.determination == "upheld"


@dataclass
class Letter:
    stem: str
    source_file: str
    case_number: str | None
    letter_format: str
    dates: dict[str, str | None]
    priority: str | None
    specialty: str | None
    licensure: list[str]
    age: int | None
    sex: str | None
    items: list[Item] = field(default_factory=list)
    dev: bool = False

    @property
    def decision(self) -> str | None:
        return self.dates["decision_date"]

    @property
    def label(self) -> str:
        return self.case_number or f"[{self.source_file}]"


def _load_one(path: Path, dev: bool) -> Letter:
    g = json.loads(path.read_text())
    letter = Letter(
        stem=path.stem, source_file=g["source_file"], case_number=g.get("case_number"),
        letter_format=g.get("letter_format"), dates={k: g.get(k) for k in DATE_FIELDS},
        priority=g.get("priority"), specialty=(g.get("reviewer") or {}).get("specialty"),
        licensure=list((g.get("reviewer") or {}).get("licensure") or []),
        age=(g.get("patient") or {}).get("age"), sex=(g.get("patient") or {}).get("sex"), dev=dev,
    )
    for i, it in enumerate(g.get("items") or []):
        letter.items.append(Item(
            letter=letter, index=i, service=it["service"], category=it["category"],
            determination=it["determination"], original_request=it.get("original_request"),
            authorized_portion=it.get("authorized_portion"),
            guidelines=sorted({x["source"] for x in it.get("guidelines") or []}),
        ))
    return letter


_CACHE: list[Letter] | None = None


def all_letters() -> list[Letter]:
    """Every gold record (including the non-decision appeal letter)."""
    global _CACHE
    if _CACHE is None:
        _CACHE = [_load_one(p, True) for p in sorted(DEV_GOLD.glob("*.json"))]
        _CACHE += [_load_one(p, False) for p in sorted(SYN_GOLD.glob("*.json"))]
    return _CACHE


def letters() -> list[Letter]:
    """Decision letters (at least one disputed item)."""
    return [L for L in all_letters() if L.items]


def items() -> list[Item]:
    return [it for L in letters() for it in L.items]


def by_case(case_number: str) -> Letter:
    for L in all_letters():
        if L.case_number and L.case_number.lower() == case_number.lower():
            return L
    raise KeyError(case_number)


def case_numbers() -> set[str]:
    return {L.case_number for L in all_letters() if L.case_number}


# ---------------------------------------------------------------- service families
# label -> (regex on lower-cased service, alternative regex or None, accept labels)
# The alternative is a second defensible reading; when it changes a figure both are accepted.
FAMILIES: dict[str, tuple[str, str | None, list[str]]] = {
    "MRI": (r"\bmri\b|magnetic resonance", None, ["mri", "magnetic resonance"]),
    "lumbar MRI": (r"(\bmri\b|magnetic resonance).*(lumb)", None, ["mri", "magnetic resonance"]),
    "shoulder MRI": (r"(\bmri\b|magnetic resonance).*shoulder", None, ["mri"]),
    "cervical MRI": (r"(\bmri\b|magnetic resonance).*cervical", None, ["mri"]),
    "X-ray": (r"x-ray", None, ["x-ray", "xray", "radiograph"]),
    "physical therapy": (r"physical therapy", r"physical therapy(?!.*evaluation)", ["physical therapy", "pt"]),
    "acupuncture": (r"acupuncture", None, ["acupuncture"]),
    "chiropractic": (r"chiropract|manipulation", r"chiropract", ["chiropract", "manipulation"]),
    "epidural steroid injection": (r"epidural steroid", None, ["epidural", "esi"]),
    "EMG": (r"\bemg\b", None, ["emg", "electromyo"]),
    "nerve conduction study": (r"\bncs\b|\bncv\b", None, ["ncs", "ncv", "nerve conduction"]),
    "TENS unit": (r"\btens\b", None, ["tens"]),
    "Norco": (r"norco", None, ["norco", "hydrocodone"]),
    "cyclobenzaprine": (r"cyclobenzaprine", None, ["cyclobenzaprine", "flexeril"]),
    "tramadol": (r"tramadol", None, ["tramadol"]),
    "lidocaine": (r"lidocaine|lidoderm", None, ["lidocaine", "lidoderm"]),
    "functional capacity evaluation": (r"functional capacity", None, ["functional capacity", "fce"]),
    "home health aide": (r"home (health )?aide", None, ["home", "aide"]),
    "hospital bed": (r"hospital bed", None, ["hospital bed"]),
    "urine drug screen": (r"urine drug", None, ["urine drug", "uds"]),
    "Pantoprazole": (r"pantoprazole", None, ["pantoprazole", "protonix"]),
    "arthroscopy": (r"arthroscop", None, ["arthroscop"]),
    "spinal cord stimulator": (r"spinal cord stimulator", r"spinal cord stimulator trial", ["spinal cord stimulator", "scs"]),
    "aquatic therapy": (r"aquatic", None, ["aquatic"]),
    "Percocet": (r"percocet", None, ["percocet"]),
    "Lyrica": (r"lyrica", None, ["lyrica", "pregabalin"]),
    "Gabapentin": (r"gabapentin", None, ["gabapentin"]),
    "cognitive behavioral therapy": (r"cognitive behavioral", None, ["cognitive", "cbt"]),
    "wheelchair": (r"wheelchair", None, ["wheelchair"]),
    "medial branch block": (r"medial branch", None, ["medial branch"]),
    "functional restoration program": (r"functional restoration", None, ["functional restoration", "frp"]),
    "carpal tunnel release": (r"carpal tunnel", None, ["carpal tunnel"]),
}


def fam_items(family: str, alt: bool = False, pool: list[Item] | None = None) -> list[Item]:
    rx, alt_rx, _ = FAMILIES[family]
    pattern = re.compile(alt_rx if (alt and alt_rx) else rx)
    return [it for it in (items() if pool is None else pool) if pattern.search(it.s)]


def family_predicate_note(family: str) -> str:
    rx, alt_rx, _ = FAMILIES[family]
    note = f"service family '{family}': items whose lower-cased service matches /{rx}/"
    if alt_rx:
        note += f" (alternative reading /{alt_rx}/ also accepted)"
    return note


# Ranking of disputed services: each item gets the first family (in RANK_FAMILIES order) that
# matches, else its own service string.
RANK_FAMILIES = [
    ("MRI", r"\bmri\b|magnetic resonance"),
    ("physical therapy", r"physical therapy"),
    ("X-ray", r"x-ray"),
    ("acupuncture", r"acupuncture"),
    ("epidural steroid injection", r"epidural steroid"),
    ("EMG", r"\bemg\b"),
    ("nerve conduction study", r"\bncs\b|\bncv\b"),
    ("TENS unit", r"\btens\b"),
    ("Norco", r"norco"),
    ("cyclobenzaprine", r"cyclobenzaprine"),
    ("tramadol", r"tramadol"),
    ("lidocaine", r"lidocaine|lidoderm"),
    ("functional capacity evaluation", r"functional capacity"),
    ("home health aide", r"home (health )?aide"),
    ("hospital bed", r"hospital bed"),
    ("pantoprazole", r"pantoprazole"),
    ("chiropractic", r"chiropract|manipulation"),
]


def rank_label(it: Item) -> str:
    for label, rx in RANK_FAMILIES:
        if re.search(rx, it.s):
            return label
    return it.service


# ---------------------------------------------------------------- generic helpers

def in_period(L: Letter, start: str | None, end: str | None, field_name: str = "decision_date") -> bool:
    d = L.dates.get(field_name)
    if not d:
        return False
    return (start is None or d >= start) and (end is None or d <= end)


def days_between(a: str, b: str) -> int:
    return (date.fromisoformat(b) - date.fromisoformat(a)).days


def month_key(d: str) -> str:
    return d[:7]


def count_outcome(pool: list[Item], outcome: str) -> list[int]:
    """Count of `outcome` items, as the list of acceptable values (strict, loose)."""
    if outcome == "overturned":
        vals = [sum(i.overturned for i in pool), sum(i.overturned_loose for i in pool)]
    elif outcome == "upheld":
        vals = [sum(i.upheld for i in pool), sum(i.upheld or i.determination == "partially_overturned" for i in pool)]
    else:
        vals = [sum(i.determination == outcome for i in pool)]
    return sorted(set(vals))


def rate_outcome(pool: list[Item], outcome: str) -> list[float]:
    if not pool:
        return []
    return sorted({round(c / len(pool), 4) for c in count_outcome(pool, outcome)})


def case_set(ls: list[Letter]) -> list[str]:
    return sorted(L.label for L in ls)


def ranking(counter: dict[str, float], top: int | None = None) -> list[list]:
    """Ordered [label, value] by value desc, then label; ties flagged by the grader via values."""
    rows = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0].lower()))
    return [[k, v] for k, v in (rows[:top] if top else rows)]


def specialties(L: Letter) -> list[str]:
    """The reviewer's specialty split into its comma-separated parts, '&' spelled 'and'."""
    if not L.specialty:
        return []
    return [p.strip().replace("&", "and").replace("Orthopaedic", "Orthopedic") for p in L.specialty.split(",")]


def letter_texts() -> dict[str, str]:
    """Lower-cased full text of every letter: synthetic files as read, dev PDFs via pypdfium2."""
    import os

    out: dict[str, str] = {}
    for p in sorted(SYN_LETTERS.iterdir()):
        if p.is_file():
            out[p.name] = p.read_text(errors="replace").lower()
    shared = Path(os.environ.get("IMR_SHARED_DIR") or REPO.parent / "shared")
    pdf_dir = shared / "corpus" / "dwc-dev"
    if pdf_dir.is_dir():
        import pypdfium2 as pdfium

        for p in sorted(pdf_dir.glob("*.pdf")):
            doc = pdfium.PdfDocument(str(p))
            out[p.name] = "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc))).lower()
            doc.close()
    return out
