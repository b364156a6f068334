"""Write `retrieval.jsonl` in each fixture set: several hundred search queries with known answers,
generated from the gold records of the dev letters (dwc-dev, seeds) and the synthetic letters.

A query describes a letter the way an analyst would, without its case number: a disputed
service (as the letter names it, or shortened to its words without doses and counts), a body
part, a date (injury, decision, UR denial, application; written in several ways), the reviewer
(specialty, licensure), the patient (age, sex), and combinations of these. Each query carries
the constraints it was built from; the expected letters are *every* letter whose gold record
(and, for a body part, whose text) meets all of them. A query that more than `MAX_EXPECTED`
letters meet is dropped: it has no defined answer. Where one letter is expected and the query
names a service (or reviewer) whose heading (or specialty) the letter prints, that text is the
expected passage too.

    python evals/make_retrieval_queries.py           # write the files (needs the shared letters)
    python evals/make_retrieval_queries.py --check   # only check the written files are current
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from evals.cases import FIXTURES_DIR, load_fixture_set, shared_dir  # noqa: E402
from evals.make_questions import heading  # noqa: E402
from evals.metrics import quote_span  # noqa: E402

SETS = ("dwc-dev", "seeds", "synthetic")
OUTPUT_NAME = "retrieval.jsonl"
MAX_EXPECTED = 3
SEED = 23

STOP = {"a", "an", "the", "of", "for", "to", "and", "or", "with", "per", "in", "on", "at", "by", "be", "is",
        "x", "times", "time", "week", "weeks", "day", "days", "month", "months", "hours", "hour", "session",
        "sessions", "one", "two", "three", "four", "five", "six", "twelve", "tabs", "tablets", "refill",
        "mg", "mcg", "ml", "grams", "apply", "area", "affected", "dos", "unspecified", "possible", "only",
        "both", "done", "doctor", "prior", "associated", "surgical", "service", "all"}
BODY_PARTS = ("lumbar spine", "low back", "lower back", "cervical spine", "neck", "thoracic spine", "shoulder",
              "knee", "hip", "wrist", "hand", "elbow", "ankle", "foot", "pelvis", "carpal tunnel",
              "upper extremity", "lower extremity", "head", "groin", "buttock")
LAY_WORDS = (  # the letter's term -> how a person might say it (longest first when applied)
    ("magnetic resonance imaging", "MRI scan"), ("mri", "magnetic resonance scan"), ("x-rays", "radiographs"),
    ("x-ray", "radiograph"), ("physical therapy", "physio sessions"), ("acupuncture", "needle therapy"),
    ("chiropractic manipulation", "spinal adjustments"), ("spinal manipulation therapy", "spinal adjustments"),
    ("chiropractor", "spine adjuster"), ("epidural steroid injection", "spinal steroid shot"), ("injection", "shot"),
    ("emg", "muscle electrical test"), ("ncs", "nerve conduction test"), ("tens unit", "electrical nerve stimulator"),
    ("functional capacity evaluation", "assessment of ability to work"), ("home health aide", "in-home caregiver"),
    ("home aide", "in-home caregiver"), ("transportation", "rides"), ("hospital bed", "medical bed at home"),
    ("cognitive behavioral therapy", "talk therapy"), ("psychological evaluation", "mental health assessment"),
    ("arthroscopy", "keyhole surgery"), ("meniscectomy", "meniscus removal"),
    ("carpal tunnel release", "wrist nerve release surgery"), ("spinal cord stimulator", "implanted spine stimulator"),
    ("norco", "hydrocodone painkiller"), ("tramadol", "opioid painkiller"), ("oxycodone", "opioid painkiller"),
    ("cyclobenzaprine", "muscle relaxant"), ("norflex", "muscle relaxant"), ("orphenadrine citrate", "muscle relaxant"),
    ("baclofen", "muscle relaxant"), ("pepcid", "heartburn medicine"), ("omeprazole", "heartburn medicine"),
    ("pantoprazole", "heartburn medicine"), ("lidoderm", "numbing"), ("lidocaine", "numbing"),
    ("voltaren gel", "anti-inflammatory gel"), ("naproxen sodium", "anti-inflammatory pills"),
    ("naproxen", "anti-inflammatory pills"), ("gabapentin", "nerve pain medicine"), ("lyrica", "nerve pain medicine"),
    ("cymbalta", "antidepressant"), ("bupropion hcl", "antidepressant"), ("zofran", "anti-nausea medicine"),
    ("continuous passive motion machine", "motion machine"), ("functional restoration program", "pain rehab program"),
    ("medial branch block", "facet nerve block"), ("lumbar spine", "lower back"), ("lumbosacral spine", "lower back"),
    ("lumbar", "low back"), ("cervical spine", "neck"), ("cervical", "neck"), ("upper extremity", "arm"),
    ("lower extremity", "leg"), ("bilateral", "both sides"), ("evaluation", "assessment"),
)
OUTCOME_WORDS = {"upheld": ("denied", "denial upheld", "not medically necessary"),
                 "overturned": ("approved", "denial overturned", "found medically necessary"),
                 "partially_overturned": ("partly approved", "partially overturned", "partially approved")}


def words(text: str) -> frozenset[str]:
    """Content words of a phrase: lower case, no digits, no stop words, plural 's' dropped."""
    found = set()
    for w in re.findall(r"[a-z][a-z'\-]+", text.lower()):
        w = w.strip("-'")
        if len(w) > 2 and w not in STOP:
            found.add(w[:-1] if w.endswith("s") and len(w) > 4 else w)
    return frozenset(found)


def short_service(service: str) -> str:
    """The service without doses, counts, frequencies and trailing qualifiers: 'Norflex 100mg #60'
    -> 'Norflex'; 'Physical therapy two times a week for three weeks for lumbar' -> 'Physical therapy
    for lumbar'."""
    text = re.split(r"[,(;]| - ", service)[0]
    text = re.sub(r"\b(?:one|two|three|four|five|six|\d+)\s+(?:times|x)\s+(?:a|per)\s+(?:week|day)\b", " ", text, flags=re.I)
    text = re.sub(r"\bfor\s+(?:one|two|three|four|five|six|\d+)\s+(?:weeks?|days?|months?)\b", " ", text, flags=re.I)
    text = re.sub(r"#\s*\d+|\b\d[\w./%-]*\b|\b(?:mg|mcg|ml|tabs?|tablets?|grams?)\b", " ", text, flags=re.I)
    return re.sub(r"\s+", " ", text).strip(" .:-")


@dataclass
class Letter:
    """What the queries may say about one letter: its gold record and its text."""

    set_name: str
    file: str
    record: dict
    text: str
    services: list[frozenset[str]] = field(default_factory=list)

    def has_service(self, wanted: frozenset[str]) -> bool:
        return any(wanted <= s for s in self.services)

    def mentions(self, phrase: str) -> bool:
        return re.search(rf"\b{re.escape(phrase)}", self.text, re.I) is not None


Constraint = Callable[[Letter], bool]


def date_words(iso: str, style: int) -> str:
    day = dt.date.fromisoformat(iso)
    return (f"{day:%B} {day.day}, {day.year}", f"{day:%m/%d/%Y}", iso, f"{day:%b} {day.day} {day.year}",
            f"{day.day} {day:%B} {day.year}")[style % 5]


def lay_wording(service: str) -> str | None:
    """The service in lay words (`LAY_WORDS`), or None when none of its terms has one."""
    text, changed = service.lower(), False
    for term, lay in LAY_WORDS:
        new = re.sub(rf"\b{re.escape(term)}\b", lay, text)
        changed |= new != text
        text = new
    return text if changed else None


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def specialty_parts(record: dict) -> list[str]:
    return [p.strip() for p in (record["reviewer"].get("specialty") or "").split(",") if p.strip()]


class QueryBuilder:
    """Collects queries for the letters, each with the letters meeting its constraints."""

    def __init__(self, letters: list[Letter]):
        self.letters = letters
        self.rng = random.Random(SEED)
        self.queries: dict[str, dict] = {}
        self.dropped = 0

    def add(self, source: Letter, kind: str, query: str, constraints: list[Constraint], quote: str | None = None) -> None:
        query = re.sub(r"\s+", " ", query).strip()
        key = query.lower()
        if key in self.queries or not query:
            return
        expected = [letter for letter in self.letters if all(c(letter) for c in constraints)]
        assert source in expected, f"{source.file}: its own query does not match it: {query}"
        if len(expected) > MAX_EXPECTED:
            self.dropped += 1
            return
        if case := source.record.get("case_number"):
            assert case not in query
        keep_quote = quote if len(expected) == 1 and quote and quote_span(source.text, quote) else None
        self.queries[key] = {
            "set": source.set_name,
            "kind": kind,
            "question": query,
            "expected_source_files": sorted(letter.file for letter in expected),
            "expected_case_numbers": sorted({c for x in expected if (c := x.record.get("case_number"))}),
            "expected_quote": keep_quote,
        }

    def service_queries(self, letter: Letter) -> None:
        record = letter.record
        age, sex = record["patient"].get("age"), record["patient"].get("sex")
        parts = specialty_parts(record)
        for n, item in enumerate(record["items"]):
            service, outcome = item["service"], item["determination"]
            short = short_service(service) or service
            wanted, full = words(short), words(service)
            if not wanted:
                continue
            has = (lambda w: lambda x: x.has_service(w))
            quote = heading(item) if outcome in ("upheld", "overturned") else None
            said = OUTCOME_WORDS.get(outcome, ("decided",))[n % 3]
            self.add(letter, "service", f"IMR decision on {service}", [has(full)], quote)
            self.add(letter, "service", self.rng.choice([f"was {short.lower()} {said}", f"{short} request {said}",
                                                         f"appeal of denied {short.lower()}"]), [has(wanted)], quote)
            if age and sex:
                self.add(letter, "service", f"{short} for a {age}-year-old {sex}",
                         [has(wanted), lambda x, a=age: x.record["patient"].get("age") == a,
                          lambda x, s=sex: x.record["patient"].get("sex") == s], quote)
            if lay := lay_wording(short):
                # Few words in common with the letter: the dense side has to carry these. A second
                # fact (patient, or decision month) keeps a drug class from naming several letters.
                extra = ([f"for a {age}-year-old {sex}", [lambda x, a=age: x.record["patient"].get("age") == a,
                                                          lambda x, s=sex: x.record["patient"].get("sex") == s]]
                         if age and sex and n % 2 == 0 else [f"({said})", []])
                same_lay = (lambda x, w=lay: any(lay_wording(short_service(i["service"]) or i["service"]) == w
                                                 for i in x.record["items"]))
                self.add(letter, "paraphrase", f"{lay} {extra[0]}", [same_lay, *extra[1]], quote)
            if parts:
                part = parts[n % len(parts)]
                self.add(letter, "reviewer", f"{short} reviewed by {article(part)} {part} specialist",
                         [has(wanted), lambda x, p=part: p in specialty_parts(x.record)], quote)
            if decided := record.get("decision_date"):
                day = dt.date.fromisoformat(decided)
                self.add(letter, "date", f"{short.lower()} decision {day:%B %Y}",
                         [has(wanted), lambda x, m=decided[:7]: (x.record.get("decision_date") or "").startswith(m)], quote)

    def letter_queries(self, letter: Letter, style: int) -> None:
        record = letter.record
        age, sex = record["patient"].get("age"), record["patient"].get("sex")
        same = (lambda key: lambda x, v=record.get(key): x.record.get(key) == v)
        patient = (lambda key: lambda x, v=record["patient"].get(key): x.record["patient"].get(key) == v)
        if record.get("date_of_injury"):
            self.add(letter, "date", f"injured on {date_words(record['date_of_injury'], style)}", [same("date_of_injury")])
            if sex:
                self.add(letter, "date", f"{sex} worker, date of injury {date_words(record['date_of_injury'], style + 1)}",
                         [same("date_of_injury"), patient("sex")])
        if record.get("decision_date"):
            self.add(letter, "date", f"final determination dated {date_words(record['decision_date'], style + 2)}",
                     [same("decision_date")])
        if record.get("ur_denial_date"):
            self.add(letter, "date", f"utilization review denial of {date_words(record['ur_denial_date'], style + 3)}",
                     [same("ur_denial_date")])
        if record.get("application_received"):
            self.add(letter, "date", f"IMR application received {date_words(record['application_received'], style + 4)}",
                     [same("application_received")])
        specialty, licensure = record["reviewer"].get("specialty"), record["reviewer"].get("licensure") or []
        if specialty:
            states = " and ".join(licensure)
            has_states = (lambda x, s=frozenset(licensure): s <= set(x.record["reviewer"].get("licensure") or []))
            by = (lambda x, s=specialty: x.record["reviewer"].get("specialty") == s)
            self.add(letter, "reviewer", f"expert reviewer board certified in {specialty}"
                     + (f", licensed in {states}" if states else ""), [by, has_states], specialty)
            if age and sex:
                self.add(letter, "reviewer", f"{specialty_parts(record)[0]} reviewer, {age}-year-old {sex} patient",
                         [lambda x, p=specialty_parts(record)[0]: p in specialty_parts(x.record), patient("age"), patient("sex")])
        body = [b for b in BODY_PARTS if letter.mentions(b)]
        for b in body[:3]:
            mention = (lambda x, b=b: x.mentions(b))
            if age and sex:
                self.add(letter, "body_part", f"{age}-year-old {sex} with {b} pain", [mention, patient("age"), patient("sex")])
            if record.get("date_of_injury"):
                self.add(letter, "body_part", f"{b} injury of {date_words(record['date_of_injury'], style + 1)}",
                         [mention, same("date_of_injury")])


def load_letters(shared: Path | None) -> list[Letter]:
    from imr_rag.ingest.documents import read_document

    letters = []
    for name in SETS:
        fixture = load_fixture_set(FIXTURES_DIR / name, [shared] if shared else [])
        if fixture.missing:
            raise SystemExit(f"{name}: {len(fixture.missing)} letters not found (set IMR_SHARED_DIR)")
        for path in fixture.letters:
            record = fixture.gold[path.name]
            letter = Letter(name, path.name, record, read_document(path).text)
            letter.services = [words(i["service"]) for i in record["items"]]
            letters.append(letter)
    return letters


def build(letters: list[Letter]) -> QueryBuilder:
    builder = QueryBuilder(letters)
    for n, letter in enumerate(letters):
        builder.service_queries(letter)
        builder.letter_queries(letter, n)
    return builder


def rows_by_set(builder: QueryBuilder) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {name: [] for name in SETS}
    for query in builder.queries.values():
        rows = out[query["set"]]
        rows.append({"id": f"{query['set']}-r{len(rows) + 1:03d}", **{k: v for k, v in query.items() if k != "set"}})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a written file differs")
    args = parser.parse_args(argv)
    builder = build(load_letters(shared_dir()))
    stale = []
    for name, rows in rows_by_set(builder).items():
        path = FIXTURES_DIR / name / OUTPUT_NAME
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        if args.check:
            stale += [] if path.is_file() and path.read_text(encoding="utf-8") == text else [str(path)]
        else:
            path.write_text(text, encoding="utf-8")
        kinds = {k: sum(r["kind"] == k for r in rows) for k in sorted({r["kind"] for r in rows})}
        print(f"{name}: {len(rows)} queries {kinds}, {sum(bool(r['expected_quote']) for r in rows)} with a passage")
    print(f"total {len(builder.queries)}, dropped {builder.dropped} matching more than {MAX_EXPECTED} letters")
    if stale:
        print("stale: " + ", ".join(stale))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
