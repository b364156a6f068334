"""Dense index of a year: distinct chunk texts, MiniLM against the static embedder, and the ETA.

One run measures, on the real letters (../shared/corpus/dwc-dev, else the synthetic samples):

1. Distinct share: chunks are cut by the ingest pipeline's own functions (split_sections,
   chunk_sections) and hashed as the catalog hashes them; the embed stage computes one vector per
   distinct text. Reported for the real letters, where boilerplate is the only repetition, and
   for N generated letters (each a real letter with a new case number, shifted dates and a new
   age), where it is a floor: generated letters repeat their source letter's paragraphs.
2. Speed: the same chunks through OnnxEmbedder (all-MiniLM-L6-v2 int8) and StaticEmbedder
   (WordLlama l2_supercat 256), best of --repeats interleaved passes, chunks/s and the ratio.
3. Quality: `imr-rag eval --suite retrieval` once per backend (IMR_EMBEDDING_BACKEND), recall@5
   and MRR of dense and hybrid search.
4. ETA of the dense stage for a year (172,000 letters) at the measured rates and distinct share.

    python benchmarks/bench_embedders.py [--corpus DIR] [--generated 10000 50000] [--chunks 300]
        [--repeats 3] [--threads N] [--no-eval]
Checks: letters and chunks were read, each embedder's eval retrieves something. Exit 1 when a
check fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run as a plain script, installed or not

from verdict import Verdict  # noqa: E402  (benchmarks/, this script's folder)
from imr_rag.ingest.chunking import chunk_sections  # noqa: E402
from imr_rag.ingest.documents import read_document  # noqa: E402
from imr_rag.index.embeddings import OnnxEmbedder, StaticEmbedder  # noqa: E402
from imr_rag.formats import split_sections  # noqa: E402
from imr_rag.settings import Settings  # noqa: E402

DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "dwc-dev"
SAMPLES = REPO_ROOT / "evals" / "fixtures" / "synthetic" / "letters"
YEAR = 172_000
CASE = re.compile(r"\bCM\d{2}-\d{7}\b")
DATE = re.compile(r"\b(\d{2})/(\d{2})/(\d{4})\b")
AGE = re.compile(r"\b\d{2}-year-old\b")


def letters(folder: Path) -> list[tuple[str, str]]:
    """(normalised text, letter format) of each letter, as ingest reads them."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".pdf", ".txt", ".md", ".html"})
    docs = [read_document(p) for p in files]
    return [(d.text, d.letter_format) for d in docs]


def chunk_hashes(text: str, letter_format: str, settings: Settings) -> list[str]:
    """The catalog's text hashes of a letter's chunks (library.text_hash, same chunking settings)."""
    chunks = chunk_sections("x", text, split_sections(text, letter_format),
                            size=settings.chunk_size, overlap=settings.chunk_overlap)
    return [hashlib.sha256(c.text.encode("utf-8")).hexdigest()[:32] for c in chunks]


def variant(text: str, n: int, rng: random.Random) -> str:
    """A real letter as another case: new case number, every date shifted by one offset, new age."""
    shift = rng.randint(-900, 900)

    def move(m: re.Match) -> str:
        month, day, year = int(m[1]), int(m[2]), int(m[3])
        ordinal = (year * 372 + (month - 1) * 31 + day - 1) + shift  # shifting keeps the format valid
        year, rest = divmod(ordinal, 372)
        return f"{rest // 31 + 1:02d}/{min(rest % 31 + 1, 28):02d}/{year}"

    text = CASE.sub(f"CM{rng.randint(13, 24):02d}-{n:07d}", text)
    text = DATE.sub(move, text)
    return AGE.sub(lambda m: f"{rng.randint(22, 70)}-year-old", text)


def distinct_share(hash_lists: Iterator[list[str]]) -> tuple[int, int, int]:
    """(letters, chunks, distinct texts)."""
    seen: set[str] = set()
    count = chunks = 0
    for hashes in hash_lists:
        count += 1
        chunks += len(hashes)
        seen.update(hashes)
    return count, chunks, len(seen)


def timed(embed: Callable[[list[str]], np.ndarray], texts: list[str]) -> float:
    started = time.perf_counter()
    embed(texts)
    return time.perf_counter() - started


def retrieval_eval(backend: str, out: Path) -> dict:
    """`imr-rag eval --suite retrieval` with this embedding backend; the pooled 'all' summary."""
    env = os.environ | {"IMR_EMBEDDING_BACKEND": backend, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "imr_rag.faces.cli", "eval", "--suite", "retrieval", "--output", str(out)],
                   cwd=REPO_ROOT, env=env, check=True, capture_output=True, text=True)
    report = json.loads((out / "report.json").read_text())
    retrieval = report["retrieval"]
    pooled = retrieval.get("all") or next(iter(retrieval.values()))
    return {"seconds": time.perf_counter() - started, **{mode: pooled[mode] for mode in ("dense", "hybrid", "lexical")}}


def main(argv: list[str] | None = None) -> int:
    verdict = Verdict()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--generated", type=int, nargs="*", default=[10_000, 50_000])
    parser.add_argument("--chunks", type=int, default=300, help="chunks in the speed test")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime threads (default all cores)")
    parser.add_argument("--no-eval", action="store_true", help="skip the retrieval eval")
    args = parser.parse_args(argv)
    settings = Settings(_env_file=None)
    corpus = args.corpus if args.corpus.is_dir() else SAMPLES

    real = letters(corpus)
    hashes = [chunk_hashes(text, fmt, settings) for text, fmt in real]
    n, chunks, distinct = distinct_share(iter(hashes))
    per_letter = chunks / n
    real_share = distinct / chunks
    print(f"## distinct chunk texts ({corpus})")
    print(f"real letters: {n} letters, {chunks} chunks ({per_letter:.1f} per letter), {distinct} distinct "
          f"= {real_share:.1%}")
    rng = random.Random(11)
    for size in args.generated:
        started = time.perf_counter()
        gen = (chunk_hashes(variant(real[i % n][0], i, rng), real[i % n][1], settings) for i in range(size))
        g_letters, g_chunks, g_distinct = distinct_share(gen)
        print(f"generated: {g_letters} letters, {g_chunks} chunks, {g_distinct} distinct = {g_distinct / g_chunks:.1%}"
              f" (a floor: {n} source letters' paragraphs repeat; {time.perf_counter() - started:.0f} s)")

    texts = [t for text, fmt in real for t in _chunk_texts(text, fmt, settings)][: args.chunks]
    contenders = {"MiniLM int8 (onnx)": OnnxEmbedder(threads=args.threads).embed,
                  "WordLlama static": StaticEmbedder().embed}
    for embed in contenders.values():
        embed(texts[:4])  # load models outside the timing
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.repeats):  # interleaved so machine-load drift hits both
        for name, embed in contenders.items():
            times[name].append(timed(embed, texts))
    rates = {name: len(texts) / min(t) for name, t in times.items()}
    print(f"\n## speed ({len(texts)} chunks, best of {args.repeats}, threads {args.threads or 'all'})")
    for name, rate in rates.items():
        print(f"{name:20s} {rate:10.1f} chunks/s")
    minilm, static = rates.values()
    verdict.check(n > 0 and 0 < distinct <= chunks, f"{n} letters, {distinct} distinct of {chunks} chunks")
    verdict.check(len(texts) > 0, "chunks to time")
    print(f"static / MiniLM: {static / minilm:.0f}x")

    year_texts = YEAR * per_letter * real_share
    print(f"\n## a year ({YEAR:,} letters, ~{YEAR * per_letter:,.0f} chunks, ~{year_texts:,.0f} distinct texts "
          f"at the real letters' share)")
    for name, rate in rates.items():
        print(f"{name:20s} {year_texts / rate / 3600:8.2f} h of embedding")

    if args.no_eval:
        return verdict.exit_code()
    print("\n## retrieval eval (imr-rag eval --suite retrieval, all fixture sets pooled)")
    print("| embedder | dense recall@5 | dense MRR | hybrid recall@5 | hybrid MRR | eval wall s |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for backend, name in (("onnx", "MiniLM int8"), ("static", "WordLlama static")):
            r = retrieval_eval(backend, Path(tmp) / backend)
            print(f"| {name} | {r['dense']['recall@5']:.3f} | {r['dense']['mrr']:.3f} | "
                  f"{r['hybrid']['recall@5']:.3f} | {r['hybrid']['mrr']:.3f} | {r['seconds']:.0f} |")
            verdict.check(r["dense"]["recall@5"] > 0 and r["hybrid"]["recall@5"] > 0, f"{name}: the eval retrieved nothing")
        print(f"| (lexical only) | | | {r['lexical']['recall@5']:.3f} | {r['lexical']['mrr']:.3f} | |")
    return verdict.exit_code()


def _chunk_texts(text: str, letter_format: str, settings: Settings) -> list[str]:
    sections = split_sections(text, letter_format)
    return [c.text for c in chunk_sections("x", text, sections, size=settings.chunk_size, overlap=settings.chunk_overlap)]


if __name__ == "__main__":
    sys.exit(main())
