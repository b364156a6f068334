"""Engine time of `imr-rag ask` on analyst questions over a catalog of N letters (default 20,000).

    python benchmarks/bench_ask.py [--letters 20000] [--questions 100] [--seed-letters DIR] [--json FILE]

How the catalog is built (fast, by direct catalog writes):
1. The seed letters (the 25 dev letters in ../shared/corpus/dwc-dev, else the committed synthetic
   letters) are ingested without embeddings and extracted with the rules backend, as usual.
2. Each new letter copies a seed letter's `documents` row inside SQLite (same text, so every
   evidence span and citation still points at real text; new doc id, path and case number) and
   its `sources` row, then stores a copy of the seed's extracted Decision through
   `Catalog.save_decision` (the same call extraction makes, so the items table, its indexes and
   any index the engine keeps on items are filled as in production) with: a new case number, a
   decision date drawn over 2016-2017 (date of injury 2-9 months before), the items shuffled.
   Chunks are not copied, so passage search still sees only the seed letters: the benchmark
   times questions answered from the catalog, not the passage fallback.

Timing: `Asker.answer` (engine time, after start-up: one warm-up question first) on
`--questions` questions cycling through count (by date range, by service), share, group-by, case
lookups (specialty, date of injury, the outcome of a named item) and no-answer questions.
Baseline in the same process: the catalog is first built at a quarter of the size and the same
questions are timed there; then it is grown to the full size and they are timed again. Reported:
p50/p95 per kind at both sizes and the ratio of the p50s (1.0 = flat in the size of the catalog,
4.0 = linear). Goal (issue 10): a count/share question under 300 ms at 20,000 letters (p95).
Checks: every answer is of its question's kind (a count is a number, a share a fraction, a
group-by a list, a lookup a value, a no-answer question not answered with a value) and the
catalog holds the letters asked for. Exit 1 when a check or the goal fails.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # this checkout's imr_rag and evals, not an installed copy

from evals.analyst_questions import CONCEPTS, _matches, short_name  # noqa: E402
from evals.cases import shared_dir  # noqa: E402
from verdict import Verdict  # noqa: E402  (benchmarks/, this script's folder)
from imr_rag.ask.engine import Asker  # noqa: E402
from imr_rag.extract.service import ExtractionService  # noqa: E402
from imr_rag.library import Library  # noqa: E402
from imr_rag.schema import Decision  # noqa: E402
from imr_rag.settings import Settings  # noqa: E402

VERDICT = Verdict()

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
ABSENT = ["hyperbaric oxygen therapy", "stem cell injection", "kyphoplasty", "cochlear implant"]
FIRST_DAY, DAYS = date(2016, 1, 1), 730


def seed_letters(folder: Path | None) -> list[Path]:
    if folder is None:
        shared = shared_dir()
        dev = shared / "corpus" / "dwc-dev" if shared else None
        folder = dev if dev and dev.is_dir() else REPO_ROOT / "evals" / "fixtures" / "synthetic" / "letters"
    return sorted(p for p in folder.iterdir() if p.is_file())


class CatalogGrower:
    """Adds copies of the seed letters' documents and decisions to a library's catalog."""

    def __init__(self, lib: Library, rng: random.Random):
        self.lib, self.rng, self.added = lib, rng, 0
        db = lib.catalog.db
        self.seeds = [(doc_id, d) for doc_id, _, d in lib.catalog.decisions() if d.items]
        self.doc_cols = [r["name"] for r in db.execute("PRAGMA table_info(documents)")]
        self.src_cols = [r["name"] for r in db.execute("PRAGMA table_info(sources)")]
        self.cases: list[tuple[str, Decision]] = []

    def grow(self, n: int) -> float:
        started = time.perf_counter()
        db = self.lib.catalog.db
        db.execute("PRAGMA synchronous=OFF")
        new = {"doc_id": "?", "path": "?", "case_number": "?", "ingested_at": "?"}
        select = ", ".join(new.get(c, c) for c in self.doc_cols)
        copy_doc = (f"INSERT INTO documents ({', '.join(self.doc_cols)}) SELECT {select} FROM documents "
                    "WHERE doc_id = ?")
        order = [c for c in self.doc_cols if c in new]
        for _ in range(n):
            k = self.added
            seed_id, seed = self.seeds[k % len(self.seeds)]
            doc_id, case = f"bench{k:07d}", f"CM{16 + k % 2}-{9000000 + k:07d}"
            path = f"/bench/letters/{case}.pdf"
            values = {"doc_id": doc_id, "path": path, "case_number": case, "ingested_at": time.time()}
            decided = FIRST_DAY + timedelta(days=self.rng.randrange(DAYS))
            items = list(seed.items)
            self.rng.shuffle(items)
            decision = seed.model_copy(update={
                "case_number": case, "decision_date": decided.isoformat(),
                "date_of_injury": (decided - timedelta(days=self.rng.randint(60, 270))).isoformat(),
                "items": items, "source": seed.source.model_copy(update={"path": path, "doc_id": doc_id}),
            })
            with self.lib.catalog.transaction():
                db.execute(copy_doc, [values[c] for c in order] + [seed_id])
                db.execute(f"INSERT INTO sources ({', '.join(self.src_cols)}) VALUES "
                           f"({', '.join('?' for _ in self.src_cols)})",
                           [{"path": path, "doc_id": doc_id}[c] for c in self.src_cols])
            self.lib.catalog.save_decision(doc_id, "rules", decision)
            self.cases.append((case, decision))
            self.added += 1
        db.execute("PRAGMA synchronous=NORMAL")
        return time.perf_counter() - started


def make_questions(rng: random.Random, cases: list[tuple[str, Decision]], n: int) -> list[tuple[str, str]]:
    items = [i.service for _, d in cases for i in d.items]
    services = [display for display, pattern, _ in CONCEPTS.values() if any(_matches(pattern, s) for s in items)]

    def case_item() -> str:
        case, decision = rng.choice(cases)
        return f"Was the request for {short_name(rng.choice(decision.items).service)} in case {case} upheld or overturned?"

    year = lambda: rng.choice([2016, 2017])  # noqa: E731
    makers = [
        ("count", lambda: f"How many disputed items were overturned in letters decided in {rng.choice(MONTHS)} {year()}?"),
        ("count", lambda: f"How many requests for {rng.choice(services)} were overturned?"),
        ("count", lambda: f"How many requests were upheld in Q{rng.randint(1, 4)} {year()}?"),
        ("share", lambda: f"What share of the requests for {rng.choice(services)} were overturned?"),
        ("share", lambda: f"What percentage of {rng.choice(services)} requests were upheld in {year()}?"),
        ("group", lambda: f"What share of items were overturned by {rng.choice(['month', 'reviewer specialty', 'category', 'year', 'guideline family'])}?"),
        ("lookup", lambda: f"What is the specialty of the physician reviewer in case {rng.choice(cases)[0]}?"),
        ("lookup", lambda: f"What was the date of injury in case {rng.choice(cases)[0]}?"),
        ("lookup", case_item),
        ("no_answer", lambda: rng.choice([f"Was the request for {rng.choice(ABSENT)} upheld or overturned?",
                                          "What is the decision date of case CM18-0000001?"])),
    ]
    return [(kind, make()) for kind, make in (makers[i % len(makers)] for i in range(n))]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def time_questions(lib: Library, settings: Settings, asked: list[tuple[str, str]]) -> dict[str, list[float]]:
    engine = Asker(lib, settings)
    engine.answer("How many requests were overturned?")  # start-up: caches, vocabulary, first pages
    times: dict[str, list[float]] = {}
    for kind, question in asked:
        started = time.perf_counter()
        answer = engine.answer(question)
        times.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        VERDICT.check(answer.text != "" and answered_as(kind, answer), f"{kind} question {question!r} answered as "
                      f"status={answer.status} kind={answer.kind} value={str(answer.value)[:60]!r}")
    return times


def answered_as(kind: str, answer) -> bool:
    """Whether an answer has the shape its question's kind asks for."""
    value, answered = answer.value, answer.status == "answered"
    if kind == "count":
        return answered and isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "share":
        return answered and isinstance(value, (int, float)) and 0 <= value <= 1
    if kind == "group":
        return answered and isinstance(value, list) and len(value) > 0
    if kind == "lookup":
        return answered and (value not in (None, "", []) or answer.kind == "decision")  # a decision: its text
    return not answered or answer.kind == "none" or value in (None, [], 0)  # no_answer


def summary(times: dict[str, list[float]]) -> dict:
    every = [t for ts in times.values() for t in ts]
    cs = times.get("count", []) + times.get("share", [])
    out = {"all": {"n": len(every), "p50": statistics.median(every), "p95": pct(every, 0.95)},
           "count+share": {"n": len(cs), "p50": statistics.median(cs), "p95": pct(cs, 0.95), "max": max(cs)}}
    for kind, ts in sorted(times.items()):
        out[kind] = {"n": len(ts), "p50": statistics.median(ts), "p95": pct(ts, 0.95)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=20000)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--seed-letters", type=Path, help="folder of letters to copy (default: the dev letters)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rng = random.Random(10)
    with tempfile.TemporaryDirectory(prefix="bench-ask-") as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "data", chroma_url=None)
        with Library(settings) as lib:
            seeds = seed_letters(args.seed_letters)
            started = time.perf_counter()
            lib.ingest(seeds, embed=False)
            ids = [d for (d,) in lib.catalog.db.execute("SELECT doc_id FROM documents")]
            list(ExtractionService(settings, lib.catalog, "rules").run((lib.catalog.load_document(d) for d in ids), len(ids)))
            print(f"seed: {len(ids)} letters ingested and extracted in {time.perf_counter() - started:.1f} s")
            grower = CatalogGrower(lib, rng)
            quarter = args.letters // 4
            built = grower.grow(quarter - len(ids))
            asked = make_questions(random.Random(5), grower.cases, args.questions)
            small = time_questions(lib, settings, asked)
            size_small = lib.catalog.stats()
            built += grower.grow(args.letters - quarter)
            full = time_questions(lib, settings, asked)
            size_full = lib.catalog.stats()
    result = {
        "letters": [size_small["decisions"], size_full["decisions"]],
        "items": [size_small["items"], size_full["items"]],
        "build_seconds": round(built, 1),
        "small": summary(small), "full": summary(full),
    }
    print(f"catalog grown by direct writes in {built:.0f} s; {args.questions} questions at each size")
    print(f"{'kind':12s} {'n':>4s} {'p50 ' + str(result['letters'][0]):>12s} {'p95':>8s} "
          f"{'p50 ' + str(result['letters'][1]):>12s} {'p95':>8s} {'ratio p50':>10s}")
    for kind in result["full"]:
        a, b = result["small"][kind], result["full"][kind]
        print(f"{kind:12s} {b['n']:4d} {a['p50']:10.1f}ms {a['p95']:6.1f}ms {b['p50']:10.1f}ms {b['p95']:6.1f}ms "
              f"{b['p50'] / a['p50']:9.2f}x")
    VERDICT.check(result["letters"][1] >= args.letters, f"{result['letters'][1]} letters in the catalog, "
                  f"{args.letters} asked for")
    cs = result["full"]["count+share"]
    verdict = "meets" if VERDICT.goal(cs["p95"] < 300, f"count/share p95 {cs['p95']:.1f} ms >= 300 ms") else "misses"
    print(f"count/share at {result['letters'][1]} letters: p50 {cs['p50']:.1f} ms, p95 {cs['p95']:.1f} ms, "
          f"max {cs['max']:.1f} ms ({verdict} the 300 ms goal at p95)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return VERDICT.exit_code()


if __name__ == "__main__":
    sys.exit(main())
