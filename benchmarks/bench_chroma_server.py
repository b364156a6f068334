"""Ingest into a Chroma server (`chroma run` on 127.0.0.1) against the embedded store, in one run.

Both sides get the same chunk rows (real letters' chunks, repeated under new document ids) and the
same precomputed unit vectors, written through imr_rag's own DenseStore.upsert in batches of the
embed stage's size, so only the store differs: embedded PersistentClient under a data folder vs
HttpClient to a server process. Then the server with --writers processes upserting at once (several
ingest machines sharing one server), and query latency (k=10, 100 queries) on each.

    python benchmarks/bench_chroma_server.py [--chunks 20000] [--writers 2] [--queries 100]

Embedding is left out on purpose: at ~40 chunks/s per CPU core it would hide the store entirely.
Checks: every chunk stored on each side, every query answered (10 nearest; some of a filtered
letter's chunks). Exit 1 when a check fails.
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run as a plain script, installed or not

from verdict import Verdict  # noqa: E402  (benchmarks/, this script's folder)
from imr_rag.catalog import ChunkRow  # noqa: E402
from imr_rag.ingest.chunking import chunk_sections  # noqa: E402
from imr_rag.ingest.documents import read_document  # noqa: E402
from imr_rag.index.embeddings import EMBEDDING_DIM  # noqa: E402
from imr_rag.formats import case_number_of, split_sections  # noqa: E402
from imr_rag.schema import SearchFilters  # noqa: E402
from imr_rag.settings import Settings  # noqa: E402
from imr_rag.index.store import DenseStore  # noqa: E402

DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "dwc-dev"
SAMPLES = REPO_ROOT / "evals" / "fixtures" / "synthetic" / "letters"
BATCH = 256  # library.EMBED_BATCH: chunks per upsert in the embed stage
MODEL = "bench-vectors"

VERDICT = Verdict()


def chunk_rows(folder: Path, count: int) -> list[ChunkRow]:
    """`count` chunk rows: the letters' real chunks, repeated under new doc ids."""
    settings = Settings(_env_file=None)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".pdf", ".txt"})
    templates = []
    for path in files:
        doc = read_document(path)
        sections = split_sections(doc.text, doc.letter_format)
        chunks = chunk_sections(doc.doc_id, doc.text, sections, size=settings.chunk_size, overlap=settings.chunk_overlap)
        templates.append((doc, case_number_of(doc.text, doc.letter_format), chunks))
    rows: list[ChunkRow] = []
    copy = 0
    while len(rows) < count:
        doc, case, chunks = templates[copy % len(templates)]
        doc_id = f"{copy:016x}"
        for n, chunk in enumerate(chunks):
            moved = chunk.model_copy(update={"doc_id": doc_id, "chunk_id": f"{doc_id}:{n:04d}"})
            rows.append(ChunkRow(moved, case, doc.letter_format, f"{doc.path}#{copy}", "h"))
        copy += 1
    return rows[:count]


def unit_vectors(count: int, seed: int = 5) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, EMBEDDING_DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def store(settings: Settings) -> DenseStore:
    return DenseStore(settings, MODEL)


def ingest(settings: Settings, rows: list[ChunkRow], vectors: np.ndarray) -> tuple[float, float]:
    """(start, end) wall-clock time of upserting every row in embed-stage batches (store opened first)."""
    dense = store(settings)
    started = time.time()
    for start in range(0, len(rows), BATCH):
        dense.upsert(rows[start : start + BATCH], vectors[start : start + BATCH])
    ended = time.time()
    dense.close()
    return started, ended


def _writer(args: tuple[Settings, list[ChunkRow], np.ndarray]) -> tuple[float, float]:
    return ingest(*args)


def span(*intervals: tuple[float, float]) -> float:
    """Seconds from the first writer's start to the last one's end."""
    return max(end for _, end in intervals) - min(start for start, _ in intervals)


def query_latencies(settings: Settings, queries: np.ndarray, doc_ids: list[str]) -> tuple[float, float, float, float]:
    """(p50, p95) ms of plain top-10 queries and of top-10 filtered to one letter."""
    dense = store(settings)
    plain, filtered = [], []
    for n, vector in enumerate(queries):
        started = time.perf_counter()
        nearest = dense.query(vector, 10, SearchFilters())
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        one_letter = dense.query(vector, 10, SearchFilters(doc_id=doc_ids[n % len(doc_ids)]))
        filtered.append(time.perf_counter() - started)
        VERDICT.check(len(nearest) == 10, f"a top-10 query found {len(nearest)} chunks")
        VERDICT.check(len(one_letter) > 0, "a query filtered to one letter found none of its chunks")
    dense.close()
    p = lambda xs, q: float(np.percentile(xs, q)) * 1000  # noqa: E731
    return p(plain, 50), p(plain, 95), p(filtered, 50), p(filtered, 95)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root: Path) -> tuple[subprocess.Popen, str]:
    exe = Path(sys.executable).parent / "chroma"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "server.log").open("wb")
    process = subprocess.Popen([str(exe), "run", "--path", str(root / "db"), "--host", "127.0.0.1", "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"chroma run exited with {process.returncode}; see {root / 'server.log'}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.25)
    process.terminate()
    raise SystemExit("chroma run did not answer within 60 s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--writers", type=int, default=2, help="concurrent writer processes against the server")
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args(argv)

    corpus = args.corpus if args.corpus.is_dir() else SAMPLES
    rows = chunk_rows(corpus, args.chunks)
    vectors = unit_vectors(len(rows))
    queries = unit_vectors(args.queries, seed=9)
    doc_ids = sorted({r.chunk.doc_id for r in rows})
    print(f"{len(rows)} chunks ({len(doc_ids)} letters' worth from {corpus}), {EMBEDDING_DIM}-d vectors, "
          f"upserts of {BATCH}")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        embedded = Settings(_env_file=None, data_dir=root / "embedded", collection="bench")
        seconds = {"embedded": span(ingest(embedded, rows, vectors))}
        latency = {"embedded": query_latencies(embedded, queries, doc_ids)}

        (root / "server").mkdir()
        process, url = start_server(root / "server")
        try:
            server = Settings(_env_file=None, data_dir=root / "client", chroma_url=url, collection="bench")
            seconds["server"] = span(ingest(server, rows, vectors))
            latency["server"] = query_latencies(server, queries, doc_ids)
            parallel = Settings(_env_file=None, data_dir=root / "client", chroma_url=url, collection="bench_parallel")
            shares = np.array_split(np.arange(len(rows)), args.writers)
            jobs = [(parallel, [rows[i] for i in share], vectors[share]) for share in shares]
            with multiprocessing.get_context("spawn").Pool(args.writers) as pool:  # start-up not timed
                seconds[f"server, {args.writers} writers"] = span(*pool.map(_writer, jobs))
            server_rss = rss_mb(process.pid)
            for name, settings in (("embedded", embedded), ("server", server), ("server, parallel writers", parallel)):
                dense = store(settings)
                VERDICT.check(len(dense.ids()) == len(rows), f"{name}: {len(dense.ids())} chunks stored of {len(rows)}")
                dense.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
        disk = {name: sum(f.stat().st_size for f in (root / folder).rglob("*") if f.is_file()) / 2**20
                for name, folder in (("embedded", "embedded"), ("server", "server/db"))}

    base = len(rows) / seconds["embedded"]
    print("\n| store | chunks/s | vs embedded | query p50 ms | query p95 ms | one-letter query p50/p95 ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, secs in seconds.items():
        rate = len(rows) / secs
        lat = latency.get(name.split(",")[0]) if "writers" not in name else None
        cols = f"{lat[0]:.1f} | {lat[1]:.1f} | {lat[2]:.1f} / {lat[3]:.1f}" if lat else " | | "
        print(f"| {name} | {rate:,.0f} | {rate / base:.2f}x | {cols} |")
    print(f"\nserver RSS after {len(rows) * 2:,} chunks in two collections: {server_rss:,.0f} MB; "
          f"disk: embedded {disk['embedded']:.0f} MB for {len(rows):,} chunks, server {disk['server']:.0f} MB "
          f"for {len(rows) * 2:,}")
    return VERDICT.exit_code()


if __name__ == "__main__":
    sys.exit(main())
