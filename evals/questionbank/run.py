"""Ask the question bank of the engine and grade every answer.

    python -m evals.questionbank.run --bank dev [--out FILE] [--show-failures]
    python -m evals.questionbank.run --bank heldout          # totals and per-intent totals only

Builds a fresh library in a temp folder from the 25 dev PDFs ($IMR_SHARED_DIR/corpus/dwc-dev or
../shared/corpus/dwc-dev next to the repo) plus the synthetic letters (rules extraction, no
embeddings), opens ONE engine through engine.open_engine and asks every question of the bank.
Relative dates are anchored by IMR_TODAY=2017-06-30 (set here unless already set).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("IMR_TODAY", "2017-06-30")

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SYN_LETTERS = REPO / "evals" / "fixtures" / "synthetic" / "letters"
SYN_GOLD = REPO / "evals" / "fixtures" / "synthetic" / "gold"
VERDICTS = ("right", "asked_back", "wrong")


def dev_pdf_dir() -> Path:
    base = Path(os.environ["IMR_SHARED_DIR"]) if os.environ.get("IMR_SHARED_DIR") else REPO.parent / "shared"
    return base / "corpus" / "dwc-dev"


def letter_paths() -> list[Path]:
    pdfs = sorted(dev_pdf_dir().glob("*.pdf"))
    if len(pdfs) != 25:
        sys.exit(f"expected 25 dev PDFs in {dev_pdf_dir()}, found {len(pdfs)} (set IMR_SHARED_DIR)")
    syn = sorted(p for p in SYN_LETTERS.iterdir() if p.is_file() and (SYN_GOLD / f"{p.stem}.json").exists())
    return pdfs + syn


def load_bank(name: str) -> list[dict]:
    path = Path(name) if name.endswith(".jsonl") else HERE / f"{name}.jsonl"
    if not path.exists():
        sys.exit(f"no question bank at {path}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def totals(rows: list[dict]) -> dict:
    c = Counter(r["verdict"] for r in rows)
    return {"n": len(rows), **{v: c.get(v, 0) for v in VERDICTS},
            "wrong_cited": sum(r["wrong_cited"] for r in rows)}


def fmt(t: dict) -> str:
    n = max(t["n"], 1)
    return (f"n={t['n']:4d}  right={t['right']:4d} ({t['right'] / n:5.1%})  asked_back={t['asked_back']:4d}  "
            f"wrong={t['wrong']:4d}  wrong_cited={t['wrong_cited']:4d}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="run the question bank against the engine")
    ap.add_argument("--bank", default="dev", help="dev | heldout | path to a .jsonl")
    ap.add_argument("--out", help="JSON report path (default evals/reports/questionbank-<bank>.json)")
    ap.add_argument("--show-failures", action="store_true", help="print wrong/asked_back questions (dev only)")
    args = ap.parse_args(argv)

    from evals.questionbank.engine import build_library, open_engine
    from evals.questionbank.grade import grade

    heldout = Path(args.bank).stem.startswith("heldout")
    bank = load_bank(args.bank)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="imr-qbank-") as tmp:
        data_dir = Path(tmp) / "data"
        build_library(data_dir, letter_paths())
        ingest_s = time.perf_counter() - started
        ask = open_engine(data_dir)
        rows = []
        for q in bank:
            t0 = time.perf_counter()
            try:
                answer = ask(q["question"])
            except Exception as exc:  # an engine crash is a wrong answer, not a crashed run
                answer = {"status": "error", "text": f"{type(exc).__name__}: {exc}", "citations": []}
            g = grade(answer, q["expected"])
            rows.append({
                "id": q["id"], "intent": q["intent"], "question": q["question"], "expected": q["expected"],
                "verdict": g["verdict"], "wrong_cited": g["wrong_cited"], "why": g["why"],
                "kind": answer.get("kind"), "status": answer.get("status"), "value": answer.get("value"),
                "reading": answer.get("reading"), "text": (answer.get("text") or answer.get("answer") or "")[:600],
                "cited_cases": sorted({c.get("case_number") or "" for c in answer.get("citations") or [] if isinstance(c, dict)}),
                "seconds": round(time.perf_counter() - t0, 3),
            })
    elapsed = time.perf_counter() - started

    by_intent = defaultdict(list)
    for r in rows:
        by_intent[r["intent"]].append(r)
    overall = totals(rows)
    per_intent = {k: totals(v) for k, v in sorted(by_intent.items())}

    if args.show_failures and not heldout:
        for r in rows:
            if r["verdict"] != "right":
                print(f"[{r['verdict']}{' cited' if r['wrong_cited'] else ''}] {r['id']}: {r['question']}")
                print(f"    expected {json.dumps(r['expected'])[:220]}")
                print(f"    got ({r['kind']}; {r['why']}) {r['text'][:220]!r}")
    print(f"bank {args.bank}: {len(rows)} questions, ingest {ingest_s:.1f}s, total {elapsed:.1f}s")
    print("OVERALL  " + fmt(overall))
    for k, t in per_intent.items():
        print(f"  {k:26s} " + fmt(t))

    report = {"bank": args.bank, "today": os.environ.get("IMR_TODAY"), "seconds": round(elapsed, 1),
              "overall": overall, "per_intent": per_intent}
    if not heldout:  # never per-question detail for the held-out bank
        report["questions"] = rows
    out = Path(args.out) if args.out else HERE.parent / "reports" / f"questionbank-{Path(args.bank).stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
