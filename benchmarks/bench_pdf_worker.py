"""The bounded PDF worker: what it costs on real letters, and what it holds off.

    python benchmarks/bench_pdf_worker.py [--generated 2000] [--workers 1] [--repeats 3]

1. Overhead. The parse stage (`ingest --no-embed`: read, normalise, chunk, catalog, BM25 index)
   on the dev letters (../shared/corpus/dwc-dev, 25 PDFs) and on `--generated` letters made from
   them (all written as PDFs, so every letter goes through the worker: the worst case), each run
   with PDF text extracted in the bounded child process and, as the baseline in this same
   process, with pdfium called in-process as before. Runs alternate; the median of `--repeats`
   is compared. Checked: both ways store the same documents, chunks and failures. Goal: the
   bounded worker at most 10% slower (ratio <= 1.10).
2. The memory bomb of the reliability issue: one-page PDFs whose form XObjects draw each other 20
   times, 3 to 6 levels deep (evals.make_pdf.nested_xobject_pdf), each ingested in a fresh
   process. Printed: the outcome, wall time and the peak RSS of every process of the ingest.
   Goal: 5 and 6 levels refused, every process under 1.5 GB.

Exit 1 when a check or a goal fails.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

DEV = REPO_ROOT.parent / "shared" / "corpus" / "dwc-dev"
OVERHEAD_GOAL = 1.10
RSS_GOAL_MB = 1536


class InProcessPdf:
    """The baseline: pdfium in this process, as text extraction ran before the bounded worker."""

    def pages(self, name: str, data: bytes, max_chars: int, max_pages: int) -> list[str]:
        from imr_rag.errors import UnreadableDocument
        from imr_rag.ingest.pdf_worker import pdf_pages_text

        try:
            return pdf_pages_text(data, max_chars, max_pages)
        except ValueError as exc:
            raise UnreadableDocument(name, str(exc)) from exc


def parse_stage(corpus: Path, bounded: bool, workers: int) -> tuple[float, tuple[int, int, int]]:
    """Seconds of the parse stage, and (documents, chunks, failures) stored."""
    import imr_rag.ingest.documents as documents
    from imr_rag.library import Library
    from imr_rag.ingest.pdf_worker import worker_for
    from imr_rag.settings import Settings

    documents.worker_for = worker_for if bounded else (lambda bounds: InProcessPdf())
    with tempfile.TemporaryDirectory() as data:
        with Library(Settings(_env_file=None, data_dir=Path(data), chroma_url=None)) as lib:
            report = lib.ingest([corpus], embed=False, workers=workers)
            stats = lib.stats()
    documents.worker_for = worker_for
    return report.seconds["parse"], (stats["documents"], stats["chunks"], len(report.failed))


def overhead(name: str, corpus: Path, repeats: int, workers: int) -> bool:
    parse_stage(corpus, True, workers)  # warm the page cache and start this process's worker
    times: dict[bool, list[float]] = {True: [], False: []}
    stored: dict[bool, set] = {True: set(), False: set()}
    for _ in range(repeats):
        for bounded in (False, True):
            seconds, counts = parse_stage(corpus, bounded, workers)
            times[bounded].append(seconds)
            stored[bounded].add(counts)
    ratio = statistics.median(times[True]) / statistics.median(times[False])
    same = stored[True] == stored[False] and len(stored[True]) == 1
    docs, chunks, failed = next(iter(stored[True]))
    print(f"{name}: {docs} letters, {chunks} chunks, {failed} failed; parse stage in-process "
          f"{statistics.median(times[False]):.2f} s, bounded worker {statistics.median(times[True]):.2f} s: "
          f"x{ratio:.3f} (goal <= {OVERHEAD_GOAL})" + ("" if same else f"  MISMATCH {stored}"))
    return same and failed == 0 and ratio <= OVERHEAD_GOAL


BOMB_SCRIPT = """
import json, resource, sys, time
from pathlib import Path
from imr_rag.library import Library
from imr_rag.ingest.pdf_worker import shutdown
from imr_rag.settings import Settings
started = time.perf_counter()
with Library(Settings(_env_file=None, data_dir=Path(sys.argv[2]), chroma_url=None)) as lib:
    report = lib.ingest([Path(sys.argv[1])], embed=False)
shutdown()  # reaped, so that its peak counts among the children's
# this process: VmHWM (ru_maxrss keeps the forking parent's peak across exec); its children: ru_maxrss
own = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) // 1024
rss = [own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024]
print(json.dumps({"seconds": time.perf_counter() - started, "failed": [r for _, r in report.failed],
                  "ingested": len(report.ingested), "rss_mb": rss}))
"""


def bombs(levels: list[int], fanout: int) -> bool:
    from evals.make_pdf import nested_xobject_pdf

    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for level in levels:
            pdf = Path(tmp, f"xobject-{level}x{fanout}.pdf")
            pdf.write_bytes(nested_xobject_pdf(level, fanout))
            run = subprocess.run([sys.executable, "-c", BOMB_SCRIPT, str(pdf), str(Path(tmp, f"data{level}"))],
                                 capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
            if run.returncode != 0:
                print(f"{level} levels: the ingest process failed\n{run.stderr[-2000:]}")
                ok = False
                continue
            r = json.loads(run.stdout.splitlines()[-1])
            peak = max(r["rss_mb"])
            outcome = f"refused: {r['failed'][0]}" if r["failed"] else f"ingested ({r['ingested']})"
            good = peak < RSS_GOAL_MB and (level < 5 or bool(r["failed"]))
            ok &= good
            print(f"{level} levels x {fanout} ({pdf.stat().st_size:,} bytes): {r['seconds']:.1f} s, peak RSS "
                  f"ingest {r['rss_mb'][0]} MB / extraction process {r['rss_mb'][1]} MB; {outcome}"
                  + ("" if good else "  GOAL MISSED"))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--corpus-root", type=Path, default=Path(tempfile.gettempdir()) / "imr-bench-pdf")
    args = parser.parse_args()
    from bench_year import generate, seed_texts

    ok = bombs([3, 4, 5, 6], 20)
    if not DEV.is_dir():
        print(f"{DEV} is missing: the overhead needs the dev letters")
        return 1
    ok &= overhead("dev letters", DEV, args.repeats, args.workers)
    if args.generated:
        started = time.perf_counter()
        corpus = generate(args.corpus_root / f"pdf-{args.generated}", args.generated, seed_texts(DEV), 1.0)
        print(f"(generated {args.generated} PDF letters in {time.perf_counter() - started:.0f} s, kept in {corpus})")
        ok &= overhead(f"{args.generated} generated PDF letters", corpus, args.repeats, args.workers)
    print("all goals met" if ok else "GOAL MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
