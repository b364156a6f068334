"""A year of letters on one machine: the staged pipeline without embedding, per stage, at growing sizes.

    python benchmarks/bench_year.py --sizes 2000,10000 [--pdf-share 0.2] [--workers 1] [--profile] [--tracemalloc]

Letters are generated from the real dev letters (`../shared/corpus/dwc-dev`, or `--seeds DIR`):
each copy gets a new case number, its disputed items in another order and its dates shifted by a
random number of days; `--pdf-share` of them are written as PDFs (see `write_pdf`) so PDF reading is in the
measure. The generated folder is kept under `--corpus-root` and reused by later runs.

Each size runs in a fresh child process (so peak RSS is that size's own) into a fresh data folder:
ingest without embedding (read, normalise, chunk, catalog, BM25 index, and rules extraction — in
the same pass when the library can, otherwise as the separate `extract` stage over stored text),
then timed queries: 100 lexical searches (3 in 5 with a case, format or section filter) and 100 mixed analyst
questions through the answer engine (catalog plan in SQL, or passages), p50/p95 in ms.
For `--dense-sizes`, then the embed stage (`--embedder`; identical chunk texts embedded once)
and the same searches and questions in hybrid mode (BM25 + Chroma, fused).
Printed per stage: letters/s, chunks/s, disk per letter, the machine load while it ran (the
machine is shared), and peak memory with every process counted (this one, the ingest workers and
their PDF readers: RSS and PSS summed over the process tree, sampled every 50 ms; `--tracemalloc`
adds what each stage kept in Python, by line). The year command's stages (parse + extract, lexical
append and merge) must stay under `--max-rss-mb` (512) at every size and grow at most
`--max-growth` (x1.25) from one size to the next: otherwise the run exits 1.

    python benchmarks/bench_year.py --sizes 10000,50000 --workers 2 --dense-sizes 10000 --keep
    python benchmarks/bench_year.py --sizes 10000,50000 --workers 2 --reuse   # queries again, same data
    python benchmarks/bench_year.py --sizes 5000,20000,172000 --workers 2     # the memory bound of a year

Checks: each run's catalog holds the letters generated for it, with extracted decisions. Exit 1
when a check fails or the memory bound is broken.
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Self

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from verdict import Verdict  # noqa: E402  (benchmarks/, this script's folder)

DEFAULT_SEEDS = REPO_ROOT.parent / "shared" / "corpus" / "dwc-dev"
DATE = re.compile(r"\b(\d{2})/(\d{2})/(\d{4})\b")
CASE = re.compile(r"\bCM\d{2}-\d{7}\b")
# An item heading: "Norflex 100mg #60: Upheld" followed by the claims administrator's guideline line.
ITEM = re.compile(
    r"(?:(?<=\n)|(?<=\.))[^\n.]{2,120}?: (?:Upheld|Overturned|Partially Overturned)\s*\n(?=Claims Administrator)"
)


# -- corpus generation --------------------------------------------------------------------------
def seed_texts(seeds: Path) -> list[str]:
    from imr_rag.ingest.documents import iter_letter_files, read_document

    return [read_document(p).source_text for p in iter_letter_files([seeds])]


def shuffle_items(text: str, rng: random.Random) -> str:
    """The disputed items (heading to the next heading) in another order; the last item keeps its
    place (it runs on into the letter's closing text)."""
    starts = [m.start() for m in ITEM.finditer(text)]
    if len(starts) < 3:
        return text
    blocks = [text[a:b] for a, b in zip(starts, starts[1:])]
    blocks = [b if b.endswith("\n") else b + "\n" for b in blocks]
    rng.shuffle(blocks)
    return text[: starts[0]] + "".join(blocks) + text[starts[-1]:]


def shift_dates(text: str, days: int) -> str:
    def shifted(m: re.Match) -> str:
        try:
            d = dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2))) + dt.timedelta(days=days)
        except ValueError:
            return m.group(0)
        return d.strftime("%m/%d/%Y")

    return DATE.sub(shifted, text)


def make_letter(seed: str, n: int, rng: random.Random) -> str:
    text = CASE.sub(f"CM{17 + n // 1_000_000:02d}-{n % 10_000_000:07d}", seed)
    return shift_dates(shuffle_items(text, rng), rng.randint(-700, 700))


def pdf_lines(text: str, width: int = 110, per_page: int = 64) -> list[list[str]]:
    """The letter's lines as printed: wrapped at `width` characters, `per_page` to a page, a new page
    at each form feed."""
    pages: list[list[str]] = []
    for page_text in text.split("\f"):
        lines = [part for line in page_text.split("\n") for part in textwrap.wrap(line, width) or [""]]
        pages += [lines[i:i + per_page] for i in range(0, max(len(lines), 1), per_page)]
    return pages


def pdf_string(line: str) -> bytes:
    raw = line.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def write_pdf(path: Path, text: str) -> None:
    """A text PDF of the letter (Helvetica 9 pt, WinAnsi, Flate-compressed page streams), written
    directly: fpdf2 took 84 ms a letter on an idle core, which made a year's 34,000 PDFs 48 minutes
    of generation; this takes ~2 ms and pypdfium2 reads it the same way (a text object per line;
    the rules extraction of 100 letters was identical from the text and from these PDFs)."""
    from evals.make_pdf import assemble_pdf

    pages = pdf_lines(text)
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"",
               b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>"]
    kids = []
    for lines in pages:
        body = b"BT /F1 9 Tf 11 TL 40 756 Td " + b" T* ".join(pdf_string(x) + b" Tj" for x in lines) + b" ET"
        stream = zlib.compress(body, 1)
        objects.append(b"<</Length %d/Filter/FlateDecode>>stream\n" % len(stream) + stream + b"\nendstream")
        objects.append(b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<</Font<</F1 3 0 R>>>>"
                       b"/Contents %d 0 R>>" % (len(objects)))
        kids.append(len(objects))
    objects[1] = b"<</Type/Pages/Kids[%s]/Count %d>>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    path.write_bytes(assemble_pdf(objects))


def generate(folder: Path, count: int, seeds: list[str], pdf_share: float) -> Path:
    """`count` letters in `folder` (kept, and reused when complete)."""
    done = folder / ".complete"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(count)
    for n in range(count):
        text = make_letter(seeds[n % len(seeds)], n, rng)
        sub = folder / f"{n // 1000:03d}"
        sub.mkdir(exist_ok=True)
        if rng.random() < pdf_share:
            write_pdf(sub / f"letter_{n:07d}.pdf", text)
        else:
            (sub / f"letter_{n:07d}.txt").write_text(text, encoding="utf-8")
    done.write_text(str(count))
    return folder


# -- measuring ------------------------------------------------------------------------------------
def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _descendants(root: int) -> list[int]:
    """`root` and every process below it (worker processes, their helpers), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def _resident_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of one process in MB; PSS shares each page among the processes mapping it (a
    forked worker's pages shared with its parent are counted once in the sum)."""
    rss = pss = 0.0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return rss, pss


class MemoryWatch:
    """Peak resident memory of this process and all its descendants together (every process
    counted), per stage: a thread sums their RSS (and PSS) every `interval` seconds and keeps the
    highest sum seen while each stage ran. Summed RSS counts pages a forked worker still shares
    with its parent twice: an upper bound, which is what the bound is checked on."""

    def __init__(self, interval: float = 0.05, trace: bool = False):
        self.interval = interval
        self.current = "open, between stages"
        self.peaks: dict[str, dict[str, float]] = {}
        self.trace = trace  # tracemalloc: what this process allocated and kept, by line, per traced stage
        self.growth: dict[str, list[str]] = {}
        self._snapshot = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        if self.trace:
            import tracemalloc

            tracemalloc.start()
            self._snapshot = tracemalloc.take_snapshot()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @contextmanager
    def stage(self, name: str, traced: bool = False):
        """Samples taken until the block ends count for stage `name` (then the enclosing one again).
        `traced` (with `trace`): the Python allocations the stage left, and its traced peak, by line."""
        outer, self.current = self.current, name
        self.sample()
        if self.trace and traced:
            import tracemalloc

            tracemalloc.reset_peak()
        try:
            yield
        finally:
            self.sample()
            self.current = outer
            if self.trace and traced:
                self._trace_growth(name)

    def _trace_growth(self, name: str) -> None:
        import tracemalloc

        current, peak = tracemalloc.get_traced_memory()
        snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        lines = [f"traced now {current / 2**20:.0f} MB, peak {peak / 2**20:.0f} MB; kept since the last traced stage:"]
        lines += [f"  {d.size_diff / 2**20:+8.1f} MB {d.count_diff:+9d} blocks  {d.traceback}"
                  for d in snapshot.compare_to(self._snapshot, "lineno")[:10]]
        self.growth[name] = lines
        self._snapshot = snapshot

    def wrap(self, owner: object, method: str, name: str) -> None:
        """Count the time inside `owner.method` as stage `name`."""
        inner = getattr(owner, method)

        def staged(*args, **kwargs):
            with self.stage(name):
                return inner(*args, **kwargs)

        setattr(owner, method, staged)

    def sample(self) -> None:
        pids = _descendants(os.getpid())
        sizes = [_resident_mb(pid) for pid in pids]
        peak = self.peaks.setdefault(self.current, {"rss": 0.0, "pss": 0.0, "processes": 0})
        peak["rss"] = max(peak["rss"], sum(r for r, _ in sizes))
        peak["pss"] = max(peak["pss"], sum(p for _, p in sizes))
        peak["processes"] = max(peak["processes"], len(pids))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()


def cpu_seconds() -> float:
    """CPU time of this process and its (finished) worker processes: unlike wall time, it does not
    grow when other jobs share the cores."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def disk_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


SERVICES = ["norflex", "pepcid", "x-ray pelvis", "lumbar epidural steroid injection", "physical therapy",
            "tramadol", "MRI of the lumbar spine", "acupuncture", "urine drug screen", "gabapentin",
            "chiropractic", "naproxen", "omeprazole", "cyclobenzaprine", "home exercise kit"]
SEARCHES = ["muscle relaxants for acute low back pain", "proton pump inhibitor gastrointestinal risk",
            "lack of objective functional improvement", "x-ray red flags serious spinal pathology",
            "official disability guidelines recommend", "opioid ongoing management urine drug screen",
            "physical therapy visits exceed guideline", "not medically necessary", "lumbar spine sprain strain"]


def questions(rng: random.Random, cases: list[str], n: int) -> list[str]:
    makers = [
        lambda: f"How many {rng.choice(SERVICES)} requests were overturned in {rng.choice(['2016', '2017', '2018'])}?",
        lambda: f"What share of the requests for {rng.choice(SERVICES)} were overturned?",
        lambda: f"What is the overturn rate by {rng.choice(['specialty', 'month', 'guideline family', 'year'])}?",
        lambda: f"{rng.choice(SERVICES)} vs {rng.choice(SERVICES)} overturn rate",
        lambda: f"What is the specialty of the reviewer in case {rng.choice(cases)}?",
        lambda: f"Was the request for {rng.choice(SERVICES)} in case {rng.choice(cases)} upheld or overturned?",
        lambda: f"Why was {rng.choice(SERVICES)} denied?",
        lambda: f"What do the guidelines say about {rng.choice(SERVICES)}?",
    ]
    return [makers[i % len(makers)]() for i in range(n)]


def timed_queries(lib, settings, n: int = 100, mode: str = "lexical") -> dict:
    """`n` searches (`mode`) and `n` mixed questions through the answer engine, p50/p95 in ms."""
    from imr_rag.ask.engine import Asker
    from imr_rag.schema import SearchFilters

    rng = random.Random(7)
    cases = [r[0] for r in lib.catalog.db.execute("SELECT case_number FROM documents ORDER BY random() LIMIT 300")]
    formats = [r[0] for r in lib.catalog.db.execute("SELECT DISTINCT letter_format FROM documents")]
    sections = [r[0] for r in lib.catalog.db.execute("SELECT DISTINCT section FROM chunks LIMIT 20")]
    searches = []
    for i in range(n):  # 1 in 5 within a case, 1 in 5 in one format, 1 in 5 in one section, the rest unfiltered
        query = rng.choice(SEARCHES + SERVICES)
        filters = [SearchFilters(case_number=rng.choice(cases)), SearchFilters(letter_format=rng.choice(formats)),
                   SearchFilters(section=rng.choice(sections)), SearchFilters(), SearchFilters()][i % 5]
        searches.append((query, filters))
    lib.search("warm up", k=5, mode=mode)
    search_ms = []
    for query, filters in searches:
        started = time.perf_counter()
        lib.search(query, k=5, mode=mode, filters=filters)
        search_ms.append((time.perf_counter() - started) * 1000)
    engine = Asker(lib, settings)
    engine.answer("How many requests were overturned?")  # warm-up: the catalog plan and the passage path
    engine.answer("What do the guidelines say about physical therapy?")
    ask_ms, kinds = [], {}
    for question in questions(rng, cases, n):
        started = time.perf_counter()
        engine.answer(question)
        ask_ms.append((time.perf_counter() - started) * 1000)
        kinds.setdefault(question_kind(question), []).append(ask_ms[-1])
    return {"search_p50": statistics.median(search_ms), "search_p95": pct(search_ms, 0.95),
            "ask_p50": statistics.median(ask_ms), "ask_p95": pct(ask_ms, 0.95),
            "ask_by_kind": {k: (statistics.median(v), max(v)) for k, v in kinds.items()}}


def question_kind(question: str) -> str:
    for word, kind in (("How many", "count"), ("What share", "share"), ("rate by", "group-by"), (" vs ", "compare"),
                       ("specialty of", "case field"), ("upheld or", "case item"), ("Why", "why"),
                       ("guidelines say", "passages")):
        if word in question:
            return kind
    return "other"


def ingest(lib, corpus: Path, workers: int, settings, profile: Path | None) -> dict:
    """Ingest (+ extract) the corpus into an empty library; rates, RSS and disk."""
    from imr_rag.extract.service import ExtractionService

    out: dict = {}
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    params = inspect.signature(lib.ingest).parameters
    kwargs = {"embed": False}
    if "extract" in params:
        kwargs["extract"] = "rules"
    if "workers" in params:
        kwargs["workers"] = workers
    started, cpu_started = time.perf_counter(), cpu_seconds()
    report = lib.ingest([corpus], **kwargs)
    ingest_s = time.perf_counter() - started
    out["seconds"] = dict(report.seconds)
    if "extract" not in params:  # the library extracts in a separate stage, from stored text
        started = time.perf_counter()
        ids = [d for (d,) in lib.catalog.db.execute("SELECT doc_id FROM documents")]
        docs = (lib.catalog.load_document(d) for d in ids)
        list(ExtractionService(settings, lib.catalog, "rules").run(docs, len(ids)))
        out["seconds"]["extract"] = time.perf_counter() - started
    out["total_s"] = ingest_s + (out["seconds"]["extract"] if "extract" not in params else 0.0)
    out["cpu_s"] = cpu_seconds() - cpu_started
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile))
    out.update(failed=len(report.failed), rss_ingest=peak_rss_mb(), rss_workers=peak_rss_mb(resource.RUSAGE_CHILDREN))
    lib.catalog.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    out["disk"] = disk_bytes(settings.data_dir)
    return out


def embed(lib, settings) -> dict:
    """The dense stage over every chunk: distinct texts computed, chunks stored per second."""
    started = time.perf_counter()
    chunks, computed = lib.embed_pending()
    seconds = time.perf_counter() - started
    return {"embed_s": seconds, "embedded": chunks, "vectors": computed, "rss_embed": peak_rss_mb(),
            "disk_dense": disk_bytes(settings.chroma_path)}


def run_size(corpus: Path, data: Path, workers: int, profile: Path | None, *, dense: bool, embedder: str,
             reuse: bool, trace: bool = False) -> dict:
    """One size in this (fresh) process: ingest (+ extract), lexical queries; with `dense`, the
    embed stage and hybrid queries. `reuse`: the data folder of an earlier --keep run, queries only.
    Peak memory of every process (this one and the workers) is taken per stage."""
    from imr_rag.library import Library
    from imr_rag.settings import Settings

    settings = Settings(_env_file=None, data_dir=data, chroma_url=None, embedding_backend=embedder)
    fresh = not (reuse and settings.catalog_path.exists())
    if fresh:
        shutil.rmtree(data, ignore_errors=True)
    load_before = os.getloadavg()[0]
    out: dict = {"reused": not fresh}
    with MemoryWatch(trace=trace) as watch, Library(settings) as lib:
        if fresh:
            watch.wrap(lib.lexical, "update", "lexical: append segment")
            watch.wrap(lib.lexical, "merge", "lexical: merge")
            with watch.stage("parse + extract", traced=True):
                out.update(ingest(lib, corpus, workers, settings, profile))
        stats = lib.catalog.stats()
        out.update(letters=stats["documents"], chunks=stats["chunks"], decisions=stats["decisions"])
        with watch.stage("lexical queries", traced=True):
            out["lexical"] = timed_queries(lib, settings)
        if dense:
            if lib.catalog.count_pending():
                with watch.stage("embed"):
                    out.update(embed(lib, settings))
            with watch.stage("hybrid queries"):
                out["hybrid"] = timed_queries(lib, settings, mode="hybrid")
    out["rss_peak"] = peak_rss_mb()
    out["memory"] = watch.peaks
    out["traced"] = watch.growth
    out["load"] = (load_before, os.getloadavg()[0])
    return out


def print_size(n: int, r: dict, workers: int) -> None:
    letters, chunks = r["letters"], r["chunks"]
    print(f"\n== {n} letters ({letters} in the catalog, {chunks} chunks, {r['decisions']} decisions, "
          f"{r.get('failed', 0)} failed), workers {workers}, load avg {r['load'][0]:.1f} -> {r['load'][1]:.1f} "
          f"on {os.cpu_count()} cores" + (" (data of an earlier run: queries only)" if r["reused"] else ""))
    if "seconds" in r:
        print(f"{'stage':34s} {'seconds':>8s} {'letters/s':>10s} {'chunks/s':>10s}")
        for stage, seconds in r["seconds"].items():
            print(f"{stage:34s} {seconds:8.1f} {letters / seconds:10.1f} {chunks / seconds:10.0f}")
        print(f"{'end to end (no embedding)':34s} {r['total_s']:8.1f} {letters / r['total_s']:10.1f} "
              f"{chunks / r['total_s']:10.0f}")
        print(f"{'CPU time (all processes)':34s} {r['cpu_s']:8.1f} {letters / r['cpu_s']:10.1f} "
              f"{chunks / r['cpu_s']:10.0f}   (letters per CPU-second: robust to other load)")
        print(f"peak RSS of the ingest: {r['rss_ingest']:.0f} MB (workers {r['rss_workers']:.0f} MB); "
              f"disk {r['disk'] / 2**20:.0f} MB = {r['disk'] / max(letters, 1) / 1024:.1f} KB/letter")
    if "embed_s" in r:
        print(f"{'embed (dense stage)':34s} {r['embed_s']:8.1f} {letters / r['embed_s']:10.1f} "
              f"{r['embedded'] / r['embed_s']:10.0f}   {r['vectors']} distinct texts computed "
              f"({r['vectors'] / max(r['embedded'], 1):.1%} of the chunks); peak RSS {r['rss_embed']:.0f} MB; "
              f"dense store {r['disk_dense'] / 2**20:.0f} MB")
    for name, q in (("lexical", r["lexical"]), ("hybrid", r.get("hybrid"))):
        if q:
            kinds = ", ".join(f"{k} {p50:.0f}/{top:.0f}" for k, (p50, top) in sorted(q["ask_by_kind"].items()))
            print(f"{name:7s} search p50 {q['search_p50']:.1f} ms p95 {q['search_p95']:.1f} ms; ask (engine) "
                  f"p50 {q['ask_p50']:.1f} ms p95 {q['ask_p95']:.1f} ms  [p50/max ms by kind: {kinds}]")
    print(f"peak RSS of the run: {r['rss_peak']:.0f} MB (this process alone)")
    print(f"{'peak memory by stage':34s} {'RSS MB':>8s} {'PSS MB':>8s} {'processes':>10s}   (all processes summed)")
    for stage, peak in r["memory"].items():
        print(f"{stage:34s} {peak['rss']:8.0f} {peak['pss']:8.0f} {peak['processes']:10d}")
    for stage, lines in r.get("traced", {}).items():
        print(f"tracemalloc, {stage} (this process): " + "\n".join(lines))


INGEST_STAGES = ("parse + extract", "lexical: append segment", "lexical: merge", "extract")
"""The stages of the year command (`ingest --no-embed --extract`): what the bound is checked on."""


def bound_broken(results: list[dict], max_mb: float, max_growth: float) -> list[str]:
    """What breaks the memory bound of the year command: a size whose ingest stages (every
    process summed) peak above `max_mb`, or a peak that grows more than `max_growth` times from
    one measured size to the next larger one."""
    broken, peaks = [], {}
    for r in results:
        if r.get("reused"):
            continue
        peak = max((p["rss"] for stage, p in r["memory"].items() if stage in INGEST_STAGES), default=0.0)
        peaks[r["size"]] = max(peaks.get(r["size"], 0.0), peak)
        if peak > max_mb:
            broken.append(f"{r['size']} letters (workers {r['workers']}): peak RSS {peak:.0f} MB > {max_mb:.0f} MB")
    sizes = sorted(peaks)
    for small, large in pairwise(sizes):
        if peaks[large] > max_growth * peaks[small]:
            broken.append(f"peak RSS grew x{peaks[large] / peaks[small]:.2f} from {small} to {large} letters "
                          f"(at most x{max_growth})")
    return broken


def main() -> int:
    verdict = Verdict()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2000,10000", help="comma-separated letter counts")
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS, help="folder of real letters to vary")
    parser.add_argument("--pdf-share", type=float, default=0.2)
    parser.add_argument("--workers", default="1", help="comma-separated worker counts to compare")
    parser.add_argument("--corpus-root", type=Path, default=Path("/tmp/imr-bench-year"))
    parser.add_argument("--profile", action="store_true", help="cProfile each run; print the top entries")
    parser.add_argument("--dense-sizes", default="", help="sizes that also run the embed stage and hybrid queries")
    parser.add_argument("--embedder", default="onnx", choices=["onnx", "static"], help="embedder of the dense stage")
    parser.add_argument("--keep", action="store_true", help="keep each size's data folder (for --reuse)")
    parser.add_argument("--reuse", action="store_true",
                        help="queries only, on the data folder a --keep run left (and kept again)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--tag", default="", help="name of the data folders (runs of two checkouts side by side)")
    parser.add_argument("--max-rss-mb", type=float, default=512.0,
                        help="bound on the ingest's peak RSS, every process summed (exit 1 above it)")
    parser.add_argument("--max-growth", type=float, default=1.25,
                        help="bound on the peak's growth from one size to the next (exit 1 above it)")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="trace Python allocations: what each stage kept, by line (slow)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        job = json.loads(args.child)
        result = run_size(Path(job["corpus"]), Path(job["data"]), job["workers"],
                          Path(job["profile"]) if job["profile"] else None, dense=job["dense"],
                          embedder=job["embedder"], reuse=job["reuse"], trace=job.get("trace", False))
        print("RESULT " + json.dumps(result))
        return 0
    if not args.seeds.is_dir():
        sys.exit(f"bench_year: no seed letters in {args.seeds} (give --seeds DIR)")
    seeds = seed_texts(args.seeds)
    dense_sizes = {int(s) for s in args.dense_sizes.split(",") if s}
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        started = time.perf_counter()
        corpus = generate(args.corpus_root / f"letters-{n}-pdf{args.pdf_share}", n, seeds, args.pdf_share)
        print(f"corpus of {n} letters ({args.pdf_share:.0%} PDF) ready in {time.perf_counter() - started:.0f} s: {corpus}",
              flush=True)
        for workers in (int(w) for w in args.workers.split(",")):
            profile = args.corpus_root / f"profile-{n}-w{workers}{args.tag}.prof" if args.profile else None
            data = args.corpus_root / f"data-{n}{args.tag}"
            job = {"corpus": str(corpus), "data": str(data), "workers": workers,
                   "profile": str(profile) if profile else None, "dense": n in dense_sizes,
                   "embedder": args.embedder, "reuse": args.reuse, "trace": args.tracemalloc}
            child = subprocess.run([sys.executable, __file__, "--child", json.dumps(job)], capture_output=True, text=True)
            line = [x for x in child.stdout.splitlines() if x.startswith("RESULT ")]
            if child.returncode or not line:
                sys.exit(f"bench_year: the run of {n} letters failed:\n{child.stderr[-3000:]}")
            result = json.loads(line[0][7:])
            print_size(n, result, workers)
            verdict.check(result["letters"] == n, f"{result['letters']} letters in the catalog of the run of {n}")
            verdict.check(result["decisions"] > 0, f"no decision extracted in the run of {n}")
            sys.stdout.flush()
            results.append({"size": n, "workers": workers, **result})
            if profile:
                import pstats

                print("profile, top 15 by own time:")
                pstats.Stats(str(profile)).sort_stats("tottime").print_stats(15)
            if not (args.keep or args.reuse):  # a reused folder is an earlier run's, kept for more queries
                shutil.rmtree(data, ignore_errors=True)
            if args.json:
                args.json.write_text(json.dumps(results, indent=2))
    for line in bound_broken(results, args.max_rss_mb, args.max_growth):
        verdict.goal(False, f"memory bound: {line}")
    return verdict.exit_code()


if __name__ == "__main__":
    sys.exit(main())
