"""Ingest + rules extraction of a full-size DMHC IMR determinations CSV, and question time over it.

    python benchmarks/bench_dmhc.py [--rows 42700] [--questions 50] [--workers 1] [--keep DIR] [--json FILE]

1. Writes a CSV of `--rows` rows in the published layout (default 42,700, the size of the
   published file), varied from the 20 real rows of ../shared/corpus/dmhc-dev and the 14 written
   rows of evals/fixtures/dmhc: new ReferenceIDs, report years 2001-2026, about half overturned
   (the findings' outcome wording turned to the other outcome: "the Health Plan's denial should be
   overturned/upheld", "is (not) medically necessary", "is (not) likely to be more beneficial"),
   the three review types, the final result in several wordings, other ages, genders and days.
2. Runs `imr-rag ingest --no-embed --extract FILE` in a subprocess and measures its wall time and
   the peak resident memory of every process it runs: VmHWM from /proc/<pid>/status of the child
   and of each worker process (sampled every 20 ms while they live; the peaks are summed, an upper
   bound). ru_maxrss is not used: across fork/exec it keeps the forking parent's peak.
3. Asks `--questions` questions through the engine in this process (`imr_rag.ask.engine.Asker`,
   after one warm-up question) and reports p50/p95 of the engine time.

Checks (exit 1 when one fails): every row is a document and has an extracted decision; each
row's outcome read from its findings and its Determination column agree as written (no
determination_column flag beyond the seed rows written to disagree); the counts by year and
outcome in the catalog are those written; every question is answered with a value of its kind,
and a count by report year ("How many requests were overturned in 2024?") with the catalog's.
Goals (issue 21): the whole file searchable and extracted in under 5 minutes on 2 cores, peak RSS
under 512 MB, engine ask p95 under 300 ms. The machine's cores may be shared with other jobs:
the load average before and after the run is printed with the results.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # this checkout's imr_rag and evals, not an installed copy

from evals.cases import shared_dir  # noqa: E402
from verdict import Verdict  # noqa: E402  (benchmarks/, this script's folder)
from imr_rag.formats.ca_dmhc_imr import COLUMNS  # noqa: E402

VERDICT = Verdict()
GOAL_SECONDS, GOAL_RSS_MB, GOAL_P95_MS = 300.0, 512.0, 300.0
WRITTEN = REPO_ROOT / "evals" / "fixtures" / "dmhc" / "rows.csv"
OVERTURNED, UPHELD = "Overturned Decision of Health Plan", "Upheld Decision of Health Plan"
TYPES = {"MN": "Medical Necessity", "EI": "Experimental/Investigational", "UC": "Urgent Care"}
AGES = ["0 to 10", "11 to 20", "21 to 30", "31 to 40", "41 to 50", "51 to 64", "65+"]
# Final results in the wordings published over the years (the outcome word is filled in).
FINAL_RESULTS = [
    "Therefore, the Health Plan’s denial should be {word}.",
    "Therefore, the Health Plan's denial should be {word}.",
    "The Health Plan’s denial is {word}.",
    "Therefore, the Plan’s denial of the requested services should be {word}.",
]
DENIAL = re.compile(r"((?:Health\s+)?Plan(?:['’]s)?\s+denial(?:\s+of\s+[^.]{1,200}?)?\s+(?:should\s+be|is|was|must\s+be))\s+"
                    r"(overturned|reversed|upheld|affirmed|sustained)\b", re.IGNORECASE)
NEGATED = re.compile(r"\b(is|are|was|were)\s+not\s+(?:and\s+(?:is|are)\s+not\s+)?(medically\s+necessary|likely\s+to\s+be\s+more\s+beneficial)\b")
AFFIRMED = re.compile(r"\b(is|are|was|were)\s+(medically\s+necessary|likely\s+to\s+be\s+more\s+beneficial)\b")


# -- writing the CSV ----------------------------------------------------------------------------
def seed_rows() -> list[dict[str, str]]:
    shared = shared_dir()
    real = shared / "corpus" / "dmhc-dev" / "dmhc-imr-sample.csv" if shared else None
    rows = []
    for path in (WRITTEN, real):
        if path and path.is_file():
            with path.open(encoding="utf-8-sig", newline="") as handle:
                rows += list(csv.DictReader(handle))
    return rows


def outcome_of(row: dict[str, str]) -> str:
    return OVERTURNED if "overturn" in row["Determination"].lower() else UPHELD


def turned(findings: str, to: str) -> str:
    """The findings with every outcome statement turned to `to` (OVERTURNED or UPHELD)."""
    word = "overturned" if to == OVERTURNED else "upheld"
    findings = DENIAL.sub(lambda m: f"{m.group(1)} {word}", findings)
    if to == OVERTURNED:
        return NEGATED.sub(lambda m: f"{m.group(1)} {m.group(2)}", findings)
    return AFFIRMED.sub(lambda m: f"{m.group(1)} not {m.group(2)}", findings)


def reworded(findings: str, rng: random.Random) -> str:
    """Another published wording of the final sentence, when the findings end with one."""
    m = list(DENIAL.finditer(findings))
    if not m or rng.random() < 0.5:
        return findings
    last = m[-1]
    start = max(findings.rfind(". ", 0, last.start()) + 2, findings.rfind("\n", 0, last.start()) + 1, 0)
    end = findings.find(".", last.end())
    end = len(findings) if end < 0 else end + 1
    word = last.group(2).lower()
    word = "overturned" if word in ("overturned", "reversed") else "upheld"
    return findings[:start] + rng.choice(FINAL_RESULTS).format(word=word) + findings[end:]


def write_rows(path: Path, count: int, seeds: list[dict[str, str]], rng: random.Random) -> Counter:
    """Write `count` rows; returns what was written, by (year, outcome) and by review type."""
    written: Counter = Counter()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for n in range(count):
            seed = dict(seeds[n % len(seeds)])
            year = 2001 + n % 26
            to = OVERTURNED if rng.random() < 0.53 else UPHELD
            findings = seed["Findings"]
            if outcome_of(seed) != to or "MN99-90011" == seed["ReferenceID"]:  # 90011 is written to disagree
                findings = turned(findings, to)
            kind = rng.choices(list(TYPES), weights=[74, 24, 2])[0] if seed["Type"] == "Medical Necessity" else \
                next(k for k, t in TYPES.items() if t == seed["Type"])
            if kind == "EI" and seed["Type"] != TYPES["EI"]:
                kind = "MN"  # a medical-necessity finding stays one: its wording is the necessity standard
            row = {**seed, "ReferenceID": f"{kind}{year % 100:02d}-{500000 + n}", "ReportYear": str(year),
                   "Determination": to, "Type": TYPES[kind], "Findings": reworded(findings, rng),
                   "AgeRange": rng.choice(AGES), "PatientGender": rng.choice(["Male", "Female"]),
                   "IMRType": "Expedited" if kind == "UC" else rng.choice(["Standard"] * 9 + ["Expedited"]),
                   "DaysToReview": str(rng.randint(3, 45)) if rng.random() < 0.6 else "",
                   "DaysToAdopt": str(rng.randint(1, 20)) if rng.random() < 0.4 else ""}
            writer.writerow([row[c] for c in COLUMNS])
            written[(year, "overturned" if to == OVERTURNED else "upheld")] += 1
            written[TYPES[kind]] += 1
    return written


# -- measuring the ingest ------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far (from /proc/<pid>/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run_measured(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float, dict, dict]:
    """Run a command; (result, wall seconds, peak RSS in MB of each process it ran by pid, CPU
    seconds of each by pid: the last sample before it ended, so a little low)."""
    peaks: dict[int, float] = {}
    cpu: dict[int, float] = {}
    started = time.perf_counter()
    child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            todo = [child.pid]
            while todo:
                pid = todo.pop()
                hwm, used = _vm_hwm_mb(pid), _cpu_seconds(pid)
                if hwm is not None:
                    peaks[pid] = max(peaks.get(pid, 0.0), hwm)
                if used is not None:
                    cpu[pid] = max(cpu.get(pid, 0.0), used)
                todo += _children(pid)
            done.wait(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, err = child.communicate()
    seconds = time.perf_counter() - started
    done.set()
    watcher.join()
    return subprocess.CompletedProcess(args, child.returncode, out, err), seconds, peaks, cpu


# -- questions -----------------------------------------------------------------------------------
def make_questions(rng: random.Random, cases: list[str], services: list[str], n: int) -> list[tuple[str, str]]:
    """Questions of the analyst kinds over the rows' own cases and services; every seventh asks
    for a count by report year (a row's only date), whose value is checked against the catalog."""
    makers = [
        ("count", lambda: "How many requests were overturned?"),
        ("count", lambda: f"How many requests for {rng.choice(services)} were upheld?"),
        ("share", lambda: "What share of the requests were overturned?"),
        ("share", lambda: f"What percentage of {rng.choice(services)} requests were overturned?"),
        ("group", lambda: f"What share of items were overturned by {rng.choice(['category', 'reviewer specialty'])}?"),
        ("lookup", lambda: rng.choice([f"What was the outcome in case {rng.choice(cases)}?",
                                       f"What is the specialty of the reviewer in case {rng.choice(cases)}?"])),
        ("year", lambda: f"How many requests were overturned in {rng.randint(2001, 2026)}?"),
    ]
    return [(kind, make()) for kind, make in (makers[i % len(makers)] for i in range(n))]


def answered_as(kind: str, answer) -> bool:
    value, answered = answer.value, answer.status == "answered"
    if kind in ("count", "year"):
        return answered and isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "share":
        return answered and isinstance(value, (int, float)) and 0 <= value <= 1
    if kind == "group":
        return answered and isinstance(value, list) and len(value) > 0
    return answered and (value not in (None, "", []) or answer.kind == "decision")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def ask_questions(data_dir: Path, questions: int, rng: random.Random) -> dict:
    from imr_rag.ask.engine import Asker
    from imr_rag.library import Library
    from imr_rag.settings import Settings

    settings = Settings(_env_file=None, data_dir=data_dir, chroma_url=None)
    with Library(settings) as lib:
        db = lib.catalog.db
        cases = [r[0] for r in db.execute(
            "SELECT case_number FROM decisions WHERE superseded_by IS NULL ORDER BY random() LIMIT 200")]
        services = [r[0] for r in db.execute(
            "SELECT service FROM items WHERE current = 1 AND length(service) < 40 AND service NOT GLOB '*[^A-Za-z ]*'"
            " GROUP BY lower(service)"
            " ORDER BY COUNT(*) DESC LIMIT 12")]
        by_year = dict(db.execute(
            "SELECT d.report_year, COUNT(*) FROM items i JOIN decisions d ON d.doc_id = i.doc_id"
            " WHERE i.current = 1 AND i.determination = 'overturned' GROUP BY 1").fetchall())
        started = time.perf_counter()
        engine = Asker(lib, settings)
        engine.answer("How many requests were overturned?")
        warm = time.perf_counter() - started
        times: dict[str, list[float]] = {}
        for kind, question in make_questions(rng, cases, services, questions):
            started = time.perf_counter()
            answer = engine.answer(question)
            times.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
            VERDICT.check(answered_as(kind, answer), f"{kind} question {question!r} answered as status={answer.status}"
                          f" kind={answer.kind} value={str(answer.value)[:60]!r}")
            if kind == "year" and answered_as(kind, answer):
                year = int(question.rstrip("?").split()[-1])
                VERDICT.check(answer.value == by_year.get(year, 0), f"{question!r} answered {answer.value}, the "
                              f"catalog holds {by_year.get(year, 0)} overturned items of rows reported in {year}")
    every = [t for ts in times.values() for t in ts]
    return {"warm_up_s": round(warm, 2), "n": len(every), "p50_ms": round(statistics.median(every), 1),
            "p95_ms": round(pct(every, 0.95), 1), "max_ms": round(max(every), 1),
            "by_kind": {k: {"n": len(v), "p50_ms": round(statistics.median(v), 1), "p95_ms": round(pct(v, 0.95), 1)}
                        for k, v in sorted(times.items())}}


# -- checks --------------------------------------------------------------------------------------
def check_catalog(data_dir: Path, rows: int, written: Counter) -> dict:
    import sqlite3

    db = sqlite3.connect(data_dir / "catalog.sqlite")
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    documents, decisions = one("SELECT COUNT(*) FROM documents"), one("SELECT COUNT(*) FROM decisions")
    flagged = Counter(dict(db.execute(
        "SELECT substr(review_reasons, 1, instr(review_reasons || ':', ':') - 1), COUNT(*) FROM decisions"
        " WHERE needs_review = 1 GROUP BY 1")))
    by_year = Counter({(y, o): n for y, o, n in db.execute(
        "SELECT report_year, published_determination, COUNT(*) FROM decisions GROUP BY 1, 2")})
    read = Counter({(y, o): n for y, o, n in db.execute(
        "SELECT d.report_year, i.determination, COUNT(DISTINCT d.doc_id) FROM decisions d"
        " JOIN items i ON i.doc_id = d.doc_id GROUP BY 1, 2")})
    types = Counter(dict(db.execute("SELECT review_type, COUNT(*) FROM decisions GROUP BY 1")))
    chunks, lexical = one("SELECT COUNT(*) FROM chunks"), one("SELECT value FROM meta WHERE key = 'generation'")
    db.close()
    wanted = Counter({k: v for k, v in written.items() if isinstance(k, tuple)})
    disagree = flagged.get("determination_column", 0)
    VERDICT.check(documents == rows, f"{documents} documents for {rows} rows")
    VERDICT.check(decisions == rows, f"{decisions} decisions extracted for {rows} rows")
    VERDICT.check(by_year == wanted, "the Determination column by year and outcome is the one written")
    missed = sum((wanted - read).values())
    VERDICT.check(missed <= rows * 0.01, f"{missed} rows whose findings were not read as the outcome written (1% allowed)")
    VERDICT.check(disagree <= rows * 0.01, f"{disagree} rows flagged determination_column (1% allowed)")
    VERDICT.check(types["medical_necessity"] > 0 and types["experimental_investigational"] > 0
                  and types["urgent_care"] > 0, f"the three review types were read: {dict(types)}")
    return {"documents": documents, "decisions": decisions, "chunks": chunks, "catalog_generation": lexical,
            "flags": dict(flagged.most_common()), "review_types": dict(types), "outcome_misread": missed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=42700)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="imr-rag ingest --workers (default 2: the goal is on 2 cores)")
    parser.add_argument("--keep", type=Path, help="write the CSV and the data folder here and keep them")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rng = random.Random(21)
    seeds = seed_rows()
    VERDICT.check(len(seeds) >= 14, f"{len(seeds)} seed rows (the written fixtures at least)")
    with tempfile.TemporaryDirectory(prefix="bench-dmhc-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        table, data_dir = root / "dmhc-imr-bench.csv", root / "data"
        started = time.perf_counter()
        written = write_rows(table, args.rows, seeds, rng)
        print(f"wrote {args.rows:,} rows ({table.stat().st_size / 2**20:.0f} MB) from {len(seeds)} seed rows "
              f"in {time.perf_counter() - started:.1f} s")
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMR_")} | {"IMR_DATA_DIR": str(data_dir)}
        load_before = os.getloadavg()
        command = [sys.executable, "-m", "imr_rag.faces.cli", "ingest", "--no-embed", "--extract", "--json",
                   "--workers", str(args.workers), str(table)]
        result, seconds, peaks, cpu = run_measured(command, env)
        load_after = os.getloadavg()
        VERDICT.check(result.returncode == 0, f"ingest exit code {result.returncode}: {result.stderr[-500:]}")
        report = json.loads(result.stdout) if result.returncode == 0 else {}
        peak = sum(peaks.values())
        cpu_main = next(iter(cpu.values()), 0.0)  # the child itself was sampled first
        cpu_total = sum(cpu.values())
        # On 2 free cores the run could not be shorter than its busiest process nor than half its CPU time.
        floor = max(cpu_main, max(cpu.values(), default=0.0), cpu_total / 2)
        ingest = {"cpu_s_by_process": [round(v, 1) for v in cpu.values()], "cpu_s_total": round(cpu_total, 1),
                  "uncontended_floor_s": round(floor, 1),"seconds": round(seconds, 1), "rows_per_second": round(args.rows / seconds, 1),
                  "peak_rss_mb_sum": round(peak, 1), "peak_rss_mb_by_process": [round(v, 1) for v in peaks.values()],
                  "processes": len(peaks), "stages_s": report.get("seconds"), "extracted": report.get("extracted"),
                  "load_average_before": load_before, "load_average_after": load_after, "cpus": os.cpu_count()}
        print(f"ingest --no-embed --extract: {seconds:.1f} s ({args.rows / seconds:.0f} rows/s), peak RSS "
              f"{peak:.0f} MB over {len(peaks)} process(es), stages {report.get('seconds')}; load average "
              f"{load_before[0]:.2f} before, {load_after[0]:.2f} after, {os.cpu_count()} cpus")
        print(f"CPU seconds by process {[round(v, 1) for v in cpu.values()]} (the first is the writer), "
              f"{cpu_total:.1f} in all: on {os.cpu_count()} idle cores the run takes at least {floor:.0f} s")
        catalog = check_catalog(data_dir, args.rows, written)
        print(f"catalog: {catalog}")
        asked = ask_questions(data_dir, args.questions, rng)
        print(f"ask: p50 {asked['p50_ms']} ms, p95 {asked['p95_ms']} ms, max {asked['max_ms']} ms over {asked['n']} "
              f"questions (warm-up {asked['warm_up_s']} s); by kind {asked['by_kind']}")
    VERDICT.goal(seconds < GOAL_SECONDS, f"ingest + extraction {seconds:.0f} s < {GOAL_SECONDS:.0f} s")
    VERDICT.goal(peak < GOAL_RSS_MB, f"peak RSS {peak:.0f} MB < {GOAL_RSS_MB:.0f} MB")
    VERDICT.goal(asked["p95_ms"] < GOAL_P95_MS, f"ask p95 {asked['p95_ms']} ms < {GOAL_P95_MS:.0f} ms")
    if args.json:
        args.json.write_text(json.dumps({"rows": args.rows, "ingest": ingest, "catalog": catalog, "ask": asked,
                                         "failed": VERDICT.failed}, indent=2, default=str))
    return VERDICT.exit_code()


if __name__ == "__main__":
    sys.exit(main())
