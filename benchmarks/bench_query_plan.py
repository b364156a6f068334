"""Engine time of analyst questions at a year of letters: the typed plan executed in SQL.

    python benchmarks/bench_query_plan.py [--letters 20000] [--questions 100] [--keep DIR]

Writes `--letters` synthetic California letters (tests/analyst_letters.py: 1-4 items each,
decided over 2016-2017, eight reviewer specialties), ingests them (parse stage, no dense
embedding) and extracts them with the rules backend, then times `ChatEngine.answer` on
`--questions` questions of every kind (count, share, group-by, comparison, list, a field of a
case, the outcome of a named item, a service no letter mentions). Reported: p50/p95 in ms.
Baseline in the same process: the engine before the plan, which read every current item row of
the catalog into Python for each counting question (`Catalog.item_rows`) and filtered there;
timed on the same count questions.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))

from analyst_letters import SCALE_SERVICES, scaled_library, write_library  # noqa: E402

from imr_rag.chat import ChatEngine  # noqa: E402
from imr_rag.extract.service import ExtractionService  # noqa: E402
from imr_rag.library import Library  # noqa: E402
from imr_rag.settings import Settings  # noqa: E402

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def questions(rng: random.Random, cases: list[str], n: int) -> list[tuple[str, str]]:
    services = [s.split()[0] for s, _ in SCALE_SERVICES]
    makers = [
        ("count", lambda: f"How many {rng.choice(services)} requests were overturned in {rng.choice(MONTHS)} {rng.choice([2016, 2017])}?"),
        ("count", lambda: f"How many disputed items were upheld in Q{rng.randint(1, 4)} {rng.choice([2016, 2017])}?"),
        ("share", lambda: f"What share of the requests for {rng.choice(services)} were overturned?"),
        ("share", lambda: f"What percentage of {rng.choice(services)} requests citing ODG were upheld in 2017?"),
        ("group", lambda: f"What is the overturn rate by {rng.choice(['specialty', 'month', 'guideline family', 'year'])}?"),
        ("compare", lambda: f"{rng.choice(services)} vs {rng.choice(services)} overturn rate"),
        ("field", lambda: f"What is the specialty of the reviewer in case {rng.choice(cases)}?"),
        ("field", lambda: f"What was the date of injury in case {rng.choice(cases)}?"),
        ("decision", lambda: f"Was the request for {rng.choice(SCALE_SERVICES)[0]} in case {rng.choice(cases)} upheld or overturned?"),
        ("none", lambda: "Was the request for hyperbaric oxygen therapy upheld or overturned?"),
    ]
    return [(kind, make()) for kind, make in (makers[i % len(makers)] for i in range(n))]


def baseline_count(lib: Library, question: str) -> int:
    """What the engine did before the plan: every current item row read, then filtered in Python."""
    words = set(re.findall(r"[a-z0-9]+", question.lower()))
    rows = lib.catalog.item_rows()
    return sum(1 for r in rows if words & set(re.findall(r"[a-z0-9]+", r["service"].lower()))
               and r["determination"] == "overturned")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=20000)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the library in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        settings = Settings(_env_file=None, data_dir=root / "data")
        with Library(settings) as lib:
            if lib.catalog.stats()["decisions"] < args.letters:
                letters = scaled_library(args.letters)
                started = time.perf_counter()
                lib.ingest([write_library(root / "letters", letters)], embed=False)
                ids = [d for (d,) in lib.catalog.db.execute("SELECT doc_id FROM documents")]
                docs = (lib.catalog.load_document(d) for d in ids)
                list(ExtractionService(settings, lib.catalog, "rules").run(docs, len(ids)))
                print(f"built {args.letters} letters in {time.perf_counter() - started:.0f} s")
            stats = lib.catalog.stats()
            cases = [r[0] for r in lib.catalog.db.execute("SELECT case_number FROM decisions LIMIT 500")]
            engine = ChatEngine(lib, settings)
            rng = random.Random(5)
            asked = questions(rng, cases, args.questions)
            engine.answer("How many requests were overturned?")  # warm caches (first SQLite pages, vocabulary)
            times: dict[str, list[float]] = {}
            for kind, question in asked:
                started = time.perf_counter()
                answer = engine.answer(question)
                times.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
                assert answer.text, question
            every = [t for ts in times.values() for t in ts]
            counts = [q for k, q in asked if k == "count"][:10]
            base = []
            for question in counts:
                started = time.perf_counter()
                baseline_count(lib, question)
                base.append((time.perf_counter() - started) * 1000)
            ours = times["count"][:10]
            print(f"{stats['decisions']} letters, {stats['items']} items; {len(every)} questions")
            print(f"engine time: p50 {statistics.median(every):.1f} ms, p95 {pct(every, 0.95):.1f} ms, max {max(every):.1f} ms")
            for kind, ts in sorted(times.items()):
                print(f"  {kind:9s} n={len(ts):3d} p50 {statistics.median(ts):7.1f} ms  p95 {pct(ts, 0.95):7.1f} ms")
            print(f"count questions: plan in SQL p50 {statistics.median(ours):.1f} ms vs reading every item row "
                  f"p50 {statistics.median(base):.1f} ms: x{statistics.median(base) / statistics.median(ours):.1f}")


if __name__ == "__main__":
    main()
