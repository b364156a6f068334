"""Does ingest stay flat as the folder grows? Parse + BM25 stages on thousands of letters.

    python benchmarks/bench_scale.py [--letters 3000] [--batches 4]

Letters are made from the committed synthetic California letters, each given its own case number
and a distinct sentence (so every one is a new document). They are ingested in equal batches
into one library with `embed=False` (dense embedding is the separate, resumable stage); for each
batch the parse rate, the BM25 rebuild time and the process's resident memory are printed. The
last batch is compared with the first in the same process: flat means a ratio near 1.
Checks: every letter of each batch ingested and counted, the query finds passages. Exit 1 when a
check fails.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from verdict import Verdict  # noqa: E402  (benchmarks/, this script's folder)
from imr_rag.library import Library  # noqa: E402
from imr_rag.settings import Settings  # noqa: E402

TEMPLATES = sorted((REPO_ROOT / "evals" / "fixtures" / "synthetic" / "letters").glob("dwc_cm99_*.txt"))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def write_letters(folder: Path, start: int, count: int) -> None:
    folder.mkdir(parents=True)
    for n in range(start, start + count):
        template = TEMPLATES[n % len(TEMPLATES)].read_text()
        letter = re.sub(r"CM99-\d{7}", f"CM98-{n:07d}", template)
        letter += f"\nLetter {n} of the scale benchmark.\n"
        (folder / f"letter_{n:07d}.txt").write_text(letter)


def main() -> int:
    verdict = Verdict()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=3000)
    parser.add_argument("--batches", type=int, default=4)
    args = parser.parse_args()
    per_batch = args.letters // args.batches
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = []
        with Library(Settings(_env_file=None, data_dir=root / "data")) as lib:
            for b in range(args.batches):
                folder = root / f"batch{b}"
                write_letters(folder, b * per_batch, per_batch)
                started = time.perf_counter()
                report = lib.ingest([folder], embed=False)
                total = time.perf_counter() - started
                query_started = time.perf_counter()
                hits = lib.search("lumbar epidural steroid injection upheld", k=5, mode="lexical")
                query_ms = (time.perf_counter() - query_started) * 1000
                stats = lib.catalog.stats()
                verdict.check(len(report.ingested) == per_batch and not report.failed,
                              f"batch {b}: {len(report.ingested)} of {per_batch} letters ingested, {len(report.failed)} failed")
                verdict.check(stats["documents"] == per_batch * (b + 1), f"{stats['documents']} letters in the catalog")
                verdict.check(len(hits) == 5, f"the lexical query found {len(hits)} passages, not 5")
                rows.append((stats["documents"], per_batch / report.seconds["parse"], report.seconds["lexical"],
                             query_ms, rss_mb(), total))
                print(f"{stats['documents']:>6} letters, {stats['chunks']:>7} chunks: parse "
                      f"{rows[-1][1]:.0f} letters/s, BM25 rebuild {rows[-1][2]:.2f} s, lexical query "
                      f"{query_ms:.1f} ms, RSS {rows[-1][4]:.0f} MB")
        first, last = rows[0], rows[-1]
        print(f"last batch vs first: parse rate x{last[1] / first[1]:.2f}, RSS x{last[4] / first[4]:.2f} "
              f"for x{last[0] / first[0]:.0f} letters; BM25 rebuild grows x{last[2] / first[2]:.1f} "
              "(it re-reads the whole catalog)")
    return verdict.exit_code()


if __name__ == "__main__":
    sys.exit(main())
