"""The dense stage's options side by side: which chunks to embed, how long a text, which encoder,
which batch size and threads; speed, a year's ETA and retrieval quality for each.

    python benchmarks/bench_dense_options.py [--corpus DIR] [--speed-chunks 2000] [--repeats 2]
        [--rate-chunks 50000] [--no-eval] [--no-rate]

1. Boilerplate (option a): the near-duplicate filter (`imr_rag.index.boilerplate`) learned from
   the real dev letters; by section, the chunks it embeds as their own words only (specialty,
   dates) and those it leaves out of the dense store, the tokens saved, beside the exact-duplicate
   share; the boilerplate share of generated letters (real letters with new case numbers, dates
   and ages), which repeat far more.
2. Speed: every option embeds the same `--speed-chunks` chunk texts of real letters (generated
   copies of the 25 dev letters: their wording and lengths, other dates and numbers), interleaved,
   best of `--repeats`; an option that skips boilerplate embeds only the chunks it keeps, and its
   letter-chunk rate counts every chunk it covered. The machine's load is printed: timings taken
   while other jobs run are ratios first.
3. Year ETA (172,000 letters, ~1.7 M chunks): texts to embed = chunks x 0.83 (the distinct share
   measured on real letters; with the skip too: the chunks it leaves out are exact repeats, and it
   embeds boilerplate as a few own words, which shows in its rate), divided by the encoder rate on
   what the option embeds. Extrapolated, never measured at that size.
4. Quality: `imr-rag eval --suite retrieval` in this process once per option that changes the
   vectors (batch size and threads do not): recall@5 and MRR, dense and hybrid, on the generated
   queries (`generated:all`, several hundred) and on the small hand-made sets (`all`).
5. The default (Settings()) embeds `--rate-chunks` chunk texts in the embed stage's batches and
   stores them in a Chroma collection: the measured rate behind its ETA.

Checks: letters and chunks were read, every eval retrieved something, the boilerplate skip keeps
hybrid recall@5 within 0.01 of embedding every chunk, and the default meets the goal (ETA <= 2 h,
hybrid recall@5 within 0.01 of today's MiniLM-L6 on every chunk). Exit 1 when one fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench_embedders import letters, variant  # noqa: E402  (benchmarks/, this script's folder)
from verdict import Verdict  # noqa: E402
from imr_rag.formats import split_sections  # noqa: E402
from imr_rag.index.boilerplate import BoilerplateFilter  # noqa: E402
from imr_rag.index.embeddings import L3_MODEL_NAME, ONNX_MODEL_NAME, OnnxEmbedder, StaticEmbedder  # noqa: E402
from imr_rag.ingest.chunking import chunk_sections  # noqa: E402
from imr_rag.settings import Settings  # noqa: E402

DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "dwc-dev"
YEAR_LETTERS = 172_000
YEAR_CHUNKS = 1_700_000
DISTINCT_SHARE = 0.83
"""Distinct chunk texts among a year's chunks without the skip (issue 23, measured on real letters)."""
GOAL_HOURS = 2.0
QUALITY_SLACK = 0.01
STAGE_BATCH = 256  # library.EMBED_BATCH: rows per pass of the embed stage


@dataclass
class Option:
    """One way to run the dense stage."""

    name: str
    settings: dict
    """Settings fields that select it (the eval builds a library with them)."""
    make: Callable[[], object]
    """Its embedder, built fresh."""
    vectors_as: str | None = None
    """Another option whose vectors this one computes too (same model, texts and truncation)."""
    rates: list[float] = field(default_factory=list)

    @property
    def skip(self) -> bool:
        return bool(self.settings.get("embed_skip_boilerplate"))


def options(threads: int | None) -> list[Option]:
    # Every option names its encoder and skip: the defaults change, an option must not.
    l6 = {"embedding_onnx_model": ONNX_MODEL_NAME}
    base = l6 | {"embed_skip_boilerplate": False}
    skip = l6 | {"embed_skip_boilerplate": True}
    l3 = {"embedding_onnx_model": L3_MODEL_NAME}
    return [
        Option("MiniLM-L6 int8, every chunk whole, 256 tokens, batch 32 (before)", base,
               lambda: OnnxEmbedder(threads=threads)),
        Option("(a) MiniLM-L6, boilerplate as its own words", skip, lambda: OnnxEmbedder(threads=threads)),
        Option("(b) MiniLM-L6, 128 tokens", base | {"embedding_max_tokens": 128},
               lambda: OnnxEmbedder(threads=threads, max_tokens=128)),
        Option("(c) MiniLM-L3 (128 tokens)", base | l3, lambda: OnnxEmbedder(threads=threads, model=L3_MODEL_NAME)),
        Option("(c) WordLlama static", base | {"embedding_backend": "static"}, StaticEmbedder),
        Option("(a+c) MiniLM-L3, boilerplate as own words", skip | l3,
               lambda: OnnxEmbedder(threads=threads, model=L3_MODEL_NAME)),
        Option("(a+c+d) MiniLM-L3, own words, batch 8", skip | l3 | {"embedding_batch_size": 8},
               lambda: OnnxEmbedder(batch_size=8, threads=threads, model=L3_MODEL_NAME), vectors_as="(a+c)"),
        Option("(a+c+d) MiniLM-L3, own words, batch 128", skip | l3 | {"embedding_batch_size": 128},
               lambda: OnnxEmbedder(batch_size=128, threads=threads, model=L3_MODEL_NAME), vectors_as="(a+c)"),
        Option("(a+c+d) MiniLM-L3, own words, 1 thread", skip | l3 | {"embedding_threads": 1},
               lambda: OnnxEmbedder(threads=1, model=L3_MODEL_NAME), vectors_as="(a+c)"),
    ]


def chunk_rows(text: str, letter_format: str, settings: Settings) -> list[tuple[str, str]]:
    """(section, text) of a letter's chunks, cut as ingest cuts them."""
    chunks = chunk_sections("x", text, split_sections(text, letter_format),
                            size=settings.chunk_size, overlap=settings.chunk_overlap)
    return [(c.section, c.text) for c in chunks]


def load() -> float:
    return os.getloadavg()[0]


def boilerplate_report(real: list[tuple[str, str]], settings: Settings, generated: int) -> tuple[BoilerplateFilter, float]:
    """Learn the filter on the real letters; print what it embeds of them and of generated letters.
    Returns the filter and the share of the real letters' chunks the skip embeds (whole or in part)."""
    from imr_rag.index.embeddings import load_tokenizer

    tokenizer = load_tokenizer()
    per_letter = [(str(n), fmt, chunk_rows(text, fmt, settings)) for n, (text, fmt) in enumerate(real)]
    skip = BoilerplateFilter.learn([(d, f, [t for _, t in rows]) for d, f, rows in per_letter],
                                   settings.boilerplate_containment)
    total = sum(len(rows) for _, _, rows in per_letter)
    distinct = len({t for _, _, rows in per_letter for _, t in rows})
    by_section: Counter[str] = Counter()
    cut: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    tokens = Counter()
    for _, f, rows in per_letter:
        for section, text in rows:
            own = skip.specific_text(text, f)
            by_section[section] += 1
            cut[section] += own is not None and own != ""
            dropped[section] += own == ""
            full = len(tokenizer.encode(text).ids)
            tokens["all"] += full
            tokens["kept"] += full if own is None else len(tokenizer.encode(own).ids) if own else 0
    left_out = sum(dropped.values())
    print(f"## (a) boilerplate on the real dev letters ({len(real)} letters, {total} chunks)")
    print(f"exact duplicates: {total - distinct} chunks ({1 - distinct / total:.1%}); near-duplicate boilerplate: "
          f"{sum(cut.values()) + left_out} chunks ({(sum(cut.values()) + left_out) / total:.1%}), of which "
          f"{sum(cut.values())} embedded as their own words only and {left_out} left out; "
          f"tokens to encode {tokens['kept']:,} of {tokens['all']:,} ({1 - tokens['kept'] / tokens['all']:.1%} saved)")
    print("| section | chunks | embedded as own words | left out |\n| --- | --- | --- | --- |")
    for section, count in by_section.most_common():
        print(f"| {section} | {count} | {cut.get(section, 0)} | {dropped.get(section, 0)} |")
    rng = random.Random(7)
    g_total = g_boiler = 0
    g_texts: set[str] = set()
    for i in range(generated):
        text, fmt = real[i % len(real)]
        rows = chunk_rows(variant(text, i, rng), fmt, settings)
        g_total += len(rows)
        g_texts.update(t for _, t in rows)
        g_boiler += sum(skip.is_boilerplate(t, fmt) for _, t in rows)
    if generated:
        print(f"generated letters: {generated}, {g_total} chunks, {len(g_texts) / g_total:.1%} distinct, "
              f"{g_boiler / g_total:.1%} boilerplate (copies of {len(real)} letters repeat far more)")
    return skip, (total - left_out) / total


def speed_texts(real: list[tuple[str, str]], settings: Settings, skip: BoilerplateFilter, wanted: int,
                seed: int = 11) -> tuple[list[str], list[str]]:
    """Chunk texts of generated copies of the real letters until `wanted`; and what the skip
    embeds of each ('' for a chunk it leaves out)."""
    rng = random.Random(seed)
    texts: list[str] = []
    own: list[str] = []
    i = 0
    while len(texts) < wanted:
        text, fmt = real[i % len(real)]
        for _, t in chunk_rows(variant(text, i, rng), fmt, settings):
            texts.append(t)
            specific = skip.specific_text(t, fmt)
            own.append(t if specific is None else specific)
        i += 1
    return texts[:wanted], own[:wanted]


def measure_speed(opts: list[Option], texts: list[str], own: list[str], repeats: int) -> None:
    """Each option's encoder rate (texts/s) and letter-chunk rate (chunks covered/s), best of `repeats`."""
    subset = [t for t in own if t]
    embedders = {o.name: o.make() for o in opts}
    for e in embedders.values():
        e.embed(texts[:4])  # load the model outside the timing
    loads = []
    for _ in range(repeats):  # interleaved: load drift hits every option alike
        for o in opts:
            batch = subset if o.skip else texts
            loads.append(load())
            started = time.perf_counter()
            embedders[o.name].embed(batch)
            seconds = time.perf_counter() - started
            o.rates.append((len(batch) / seconds, len(texts) / seconds))
    print(f"\nspeed: {len(texts)} chunks ({len(subset)} embedded by the skip, boilerplate as its own words), "
          f"best of {repeats}, 1-min load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores"
          + (" (contended: other jobs ran; read the ratios)" if max(loads) > (os.cpu_count() or 2) * 0.75 else ""))


def year_hours(o: Option, kept_share: float, rate: float) -> float:
    """Hours to embed a year's distinct chunk texts at `rate` texts/s. With the skip as without it:
    a left-out chunk ('IMR ISSUES, DECISIONS ...') is one of the exact repeats the cache already
    computes once, and the own words of a boilerplate chunk are cached under its text's hash (an
    exact repeat is embedded once); what the skip changes is the mix, its short texts are in the rate."""
    return YEAR_CHUNKS * DISTINCT_SHARE / rate / 3600


def quality(opts: list[Option], log: Callable[[str], None]) -> dict[str, dict]:
    """Retrieval eval per option that computes its own vectors."""
    from evals.cases import resolve_fixture_sets, shared_dir
    from evals.runner import EvalOptions, run_eval

    sets, notes = resolve_fixture_sets(None, shared_dir())
    for note in notes:
        log(note)
    out = {}
    for o in opts:
        if o.vectors_as:
            continue
        with tempfile.TemporaryDirectory(prefix="imr-dense-") as tmp:
            settings = Settings(_env_file=None, data_dir=Path(tmp), **o.settings)
            started = time.perf_counter()
            report = run_eval(EvalOptions(sets=sets, suites=("retrieval",)), settings)["retrieval"]
            out[o.name] = {"small": report["all"], "generated": report["generated:all"],
                           "seconds": time.perf_counter() - started}
        log(f"eval {o.name}: {out[o.name]['seconds']:.0f} s")
    return out


def stage_rate(settings: Settings, real: list[tuple[str, str]], skip: BoilerplateFilter, chunks: int) -> tuple[float, int, int]:
    """The default's embed stage on `chunks` letter chunks: embed what it keeps, in batches of the
    stage's size, and store the vectors in Chroma. (letter chunks/s, chunks, texts embedded)."""
    from imr_rag.index.embeddings import make_embedder
    from imr_rag.index.store import DenseStore
    from imr_rag.schema import Chunk, ChunkRow

    texts, own = speed_texts(real, settings, skip, chunks, seed=99)
    if not settings.embed_skip_boilerplate:
        own = texts
    embedder = make_embedder(settings)
    embedder.embed(texts[:4])
    embedded = 0
    with tempfile.TemporaryDirectory(prefix="imr-rate-") as tmp:
        store = DenseStore(Settings(_env_file=None, data_dir=Path(tmp)), embedder.name)
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(texts), STAGE_BATCH):
            batch = [(i, own[i]) for i in range(start, min(start + STAGE_BATCH, len(texts))) if own[i]]
            if not batch:
                continue
            vectors = embedder.embed([t for _, t in batch])
            rows = [ChunkRow(chunk=Chunk(chunk_id=f"c{i}", doc_id=f"d{i // 11}", text=t, section="item", item_index=None,
                                         start=0, end=len(t)), case_number=None, letter_format="ca_dwc_imr",
                             source="x", text_hash=str(i)) for i, t in batch]
            store.upsert(rows, vectors)
            embedded += len(batch)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        print(f"stage: {len(texts):,} letter chunks, {embedded:,} embedded and stored in {seconds:.0f} s wall, "
              f"{cpu:.0f} CPU-s in this process (load {load():.1f})", flush=True)
        stored = store.count()
        store.close()
    assert stored == embedded, f"stored {stored} of {embedded} vectors"
    return len(texts) / seconds, len(texts), embedded


def default_option(opts: list[Option], settings: Settings) -> Option:
    """The option the default settings select."""
    chosen = {"embed_skip_boilerplate": settings.embed_skip_boilerplate,
              "embedding_onnx_model": settings.embedding_onnx_model,
              "embedding_max_tokens": settings.embedding_max_tokens,
              "embedding_backend": settings.embedding_backend,
              "embedding_batch_size": settings.embedding_batch_size,
              "embedding_threads": settings.embedding_threads}
    plain = Settings(_env_file=None, data_dir=Path("unused"))
    for o in opts:
        fields = {k: getattr(plain, k) for k in chosen} | o.settings
        if fields == chosen:
            return o
    raise SystemExit(f"the default settings {chosen} are none of the benchmarked options")


def main(argv: list[str] | None = None) -> int:
    verdict = Verdict()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--speed-chunks", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--generated", type=int, default=2000, help="generated letters for the repeat shares")
    parser.add_argument("--rate-chunks", type=int, default=50_000)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-eval", action="store_true")
    parser.add_argument("--no-rate", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the measures here")
    args = parser.parse_args(argv)
    settings = Settings(_env_file=None, data_dir=Path("unused"))
    real = letters(args.corpus)
    verdict.check(len(real) > 0, f"letters in {args.corpus}")
    skip, kept_share = boilerplate_report(real, settings, args.generated)

    opts = options(args.threads)
    texts, own = speed_texts(real, settings, skip, args.speed_chunks)
    verdict.check(len(texts) == args.speed_chunks and any(own), f"{len(texts)} chunks to time")
    measure_speed(opts, texts, own, args.repeats)
    before = opts[0]
    quality_by = {} if args.no_eval else quality(opts, lambda m: print(f"  [{m}]", flush=True))
    by_prefix = {o.name.split(" ")[0]: o.name for o in opts}

    def q(o: Option) -> dict | None:
        """Its eval, or that of the option whose vectors it computes too."""
        return quality_by.get(by_prefix[o.vectors_as] if o.vectors_as else o.name)

    print("\n| option | encoder chunks/s | letter chunks/s | x before | year ETA h (extrapolated) | "
          "hybrid R@5 | hybrid MRR | dense R@5 | dense MRR | small-set hybrid R@5 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    base_rate = max(r for _, r in before.rates)
    rows = {}
    for o in opts:
        rate, letter_rate = max(o.rates, key=lambda r: r[1])
        hours = year_hours(o, kept_share, rate)
        qq = q(o)
        g = (qq or {}).get("generated", {})
        cells = [f"{g[m][k]:.3f}" if g else "" for m, k in
                 (("hybrid", "recall@5"), ("hybrid", "mrr"), ("dense", "recall@5"), ("dense", "mrr"))]
        small = f"{qq['small']['hybrid']['recall@5']:.3f}" if qq else ""
        print(f"| {o.name} | {rate:.1f} | {letter_rate:.1f} | {letter_rate / base_rate:.2f} | {hours:.1f} | "
              + " | ".join(cells) + f" | {small} |")
        rows[o.name] = {"rate": rate, "letter_rate": letter_rate, "year_hours": hours, "quality": qq}
        if qq:
            verdict.check(g["hybrid"]["recall@5"] > 0 and g["dense"]["recall@5"] > 0, f"{o.name}: the eval retrieved something")
    if quality_by:
        ref = quality_by[before.name]["generated"]["hybrid"]["recall@5"]
        skip_q = quality_by[opts[1].name]["generated"]["hybrid"]["recall@5"]
        print(f"\nthe skip's hybrid recall@5 {skip_q:.3f} vs every chunk whole {ref:.3f}")
        verdict.goal(skip_q >= ref - QUALITY_SLACK, "the boilerplate skip keeps hybrid recall@5 within 0.01")
    print(f"\nyear: {YEAR_LETTERS:,} letters, {YEAR_CHUNKS:,} chunks; texts to embed = chunks x {DISTINCT_SHARE} "
          f"(distinct; the skip embeds {kept_share:.3f} of the real dev letters' chunks, whole or as own words)")

    chosen = default_option(opts, Settings(_env_file=None))
    print(f"\n## the default: {chosen.name}")
    hours = year_hours(chosen, kept_share, max(chosen.rates, key=lambda r: r[1])[0])
    if not args.no_rate:
        rate, n, embedded = stage_rate(Settings(_env_file=None, data_dir=Path("unused")), real, skip, args.rate_chunks)
        encoder_rate = embedded * rate / n
        hours = year_hours(chosen, kept_share, encoder_rate)
        print(f"measured: {n:,} letter chunks ({embedded:,} embedded and stored in Chroma) at {rate:.1f} letter chunks/s "
              f"({encoder_rate:.1f} texts/s), load {load():.1f}; a year extrapolated: {hours:.2f} h")
        verdict.check(n >= 50_000 or args.rate_chunks < 50_000, "the rate is measured on at least 50,000 chunks")
        rows["stage"] = {"letter_rate": rate, "chunks": n, "embedded": embedded, "year_hours": hours}
    verdict.goal(hours <= GOAL_HOURS, f"the default's year ETA {hours:.2f} h <= {GOAL_HOURS} h")
    if quality_by:
        mine = q(chosen)["generated"]["hybrid"]["recall@5"]
        ref = quality_by[before.name]["generated"]["hybrid"]["recall@5"]
        verdict.goal(mine >= ref - QUALITY_SLACK, f"the default's hybrid recall@5 {mine:.3f} within 0.01 of {ref:.3f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))
    return verdict.exit_code()


if __name__ == "__main__":
    sys.exit(main())
