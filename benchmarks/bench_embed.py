"""How much length-sorted, dynamically padded batching buys over Chroma-style embedding.

The baseline copies what Chroma's ``ONNXMiniLM_L6_V2`` does: every text padded to 256 tokens,
batches of 32 in input order, one ``encode`` per text. Both sides use the same packaged model
and the same onnxruntime session, so the only difference is padding and ordering.

    python benchmarks/bench_embed.py [--corpus DIR] [--chunks 200] [--threads N] [--repeats 3]

The corpus folder's .pdf/.txt files are cut into ~800-character chunks; without a corpus folder,
medical-letter-like text is generated deterministically.
Checks: both sides embed every chunk to the same vectors (cosine > 0.999); goal: ours is faster.
Exit 1 when a check or the goal fails.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run as a plain script, installed or not

from verdict import Verdict  # noqa: E402  (benchmarks/, this script's folder)
from imr_rag.index.embeddings import (  # noqa: E402
    MAX_TOKENS,
    OnnxEmbedder,
    load_session,
    mean_pool,
    tokenizer_path,
)

DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "dwc-dev"
CHUNK_CHARS = 800
BASELINE_BATCH = 32  # Chroma's ONNXMiniLM_L6_V2._forward default

SENTENCES = [
    "The injured worker is a {age}-year-old {job} who sustained an industrial injury on {date}.",
    "The disputed item is {item}, which was denied by the claims administrator.",
    "The Expert Reviewer found that {item} is not medically necessary and appropriate.",
    "The Expert Reviewer found that {item} is medically necessary and appropriate.",
    "Per the MTUS Chronic Pain Medical Treatment Guidelines, {item} is recommended only when "
    "there is documentation of objective functional improvement.",
    "The medical records reviewed include progress reports from {date} documenting {complaint}.",
    "Physical examination revealed tenderness to palpation over the {site} with decreased range "
    "of motion and a positive straight leg raise on the left.",
    "Diagnoses include {complaint}, myofascial pain syndrome and sleep disturbance.",
    "There is no indication that prior conservative care, including physical therapy and "
    "NSAIDs, has failed.",
    "HOW THE IMR FINAL DETERMINATION WAS MADE: MAXIMUS Federal Services sent the case file to a "
    "medical doctor board certified in {specialty}.",
    "Therefore, the Final Determination upholds the decision of the claims administrator.",
]
FILLERS = {
    "age": [str(n) for n in range(24, 67)],
    "job": ["warehouse worker", "bus driver", "nurse", "carpenter", "clerk", "firefighter"],
    "date": ["January 3, 2013", "May 21, 2014", "October 9, 2015", "March 30, 2016"],
    "item": [
        "a lumbar MRI without contrast",
        "12 sessions of physical therapy",
        "Baclofen 10 mg #60",
        "an intrathecal pump refill",
        "a cervical epidural steroid injection at C5-C6",
        "Norco 10/325 mg #120",
        "acupuncture, 6 visits",
    ],
    "complaint": ["chronic low back pain", "neck pain radiating to the right arm", "knee pain"],
    "site": ["lumbar paraspinals", "cervical spine", "right shoulder", "left knee"],
    "specialty": ["Orthopedic Surgery", "Pain Medicine", "Physical Medicine and Rehabilitation"],
}


def split_chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """Cut at the last whitespace before ``size`` characters, like a simple character splitter."""
    chunks = []
    text = text.strip()
    while text:
        cut = len(text) if len(text) <= size else (text.rfind(" ", 0, size) + 1 or size)
        chunks.append(text[:cut].strip())
        text = text[cut:].lstrip()
    return [chunk for chunk in chunks if chunk]


def generated_letters(count: int, seed: int = 7) -> list[str]:
    """Deterministic letter-like texts of 3-7k characters (the real median is ~5.2k)."""
    rng = random.Random(seed)
    letters = []
    for _ in range(count):
        target, parts = rng.randint(3000, 7000), []
        while sum(map(len, parts)) < target:
            values = {key: rng.choice(options) for key, options in FILLERS.items()}
            parts.append(rng.choice(SENTENCES).format(**values))
        letters.append(" ".join(parts))
    return letters


def pdf_text(path: Path) -> str:
    """All page text of a PDF; DWC letters encrypted with an empty password open without one."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        return "\n".join(page.get_textpage().get_text_bounded() for page in document)
    finally:
        document.close()


def corpus_letters(folder: Path) -> list[str]:
    """Text of every .pdf and .txt in the folder, in name order so runs are comparable."""
    readers: dict[str, Callable[[Path], str]] = {".pdf": pdf_text, ".txt": Path.read_text}
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in readers)
    return [readers[p.suffix.lower()](p) for p in files]


def load_chunks(corpus: Path | None, count: int) -> tuple[list[str], str]:
    """Up to ``count`` chunks and a note saying where they came from."""
    if corpus is not None and corpus.is_dir():
        letters, source = corpus_letters(corpus), f"corpus {corpus}"
    else:
        letters, source = generated_letters(count // 6 + 1), "generated letters"
    chunks = [chunk for letter in letters for chunk in split_chunks(letter)]
    return chunks[:count], source


def chroma_style_embedder(threads: int | None) -> Callable[[list[str]], np.ndarray]:
    """The baseline: pad everything to 256 tokens, fixed batches in input order."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_path()))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]", length=MAX_TOKENS)
    session = load_session(threads)

    def embed(texts: list[str]) -> np.ndarray:
        vectors = []
        for start in range(0, len(texts), BASELINE_BATCH):
            encoded = [tokenizer.encode(text) for text in texts[start : start + BASELINE_BATCH]]
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            (hidden,) = session.run(["last_hidden_state"], inputs)
            vectors.append(mean_pool(hidden, mask))
        return np.concatenate(vectors)

    return embed


def timed_pass(embed: Callable[[list[str]], np.ndarray], texts: list[str]) -> tuple[float, np.ndarray]:
    """Wall time of one full pass, and its vectors."""
    start = time.perf_counter()
    vectors = embed(texts)
    return time.perf_counter() - start, vectors


def main(argv: list[str] | None = None) -> int:
    verdict = Verdict()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="folder of .pdf/.txt letters (generated text if missing)")
    parser.add_argument("--chunks", type=int, default=200)
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime threads")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many passes")
    args = parser.parse_args(argv)

    texts, source = load_chunks(args.corpus, args.chunks)
    lengths = [len(text) for text in texts]
    print(f"{len(texts)} chunks from {source}; chars min/median/max "
          f"{min(lengths)}/{int(np.median(lengths))}/{max(lengths)}; threads {args.threads or 'all'}")

    contenders = {
        "chroma-style (pad 256, input order)": chroma_style_embedder(args.threads),
        "imr_rag OnnxEmbedder (sorted, dynamic pad)": OnnxEmbedder(args.batch_size, args.threads).embed,
    }
    for embed in contenders.values():
        embed(texts[:4])  # load the session and tokenizer outside the timing

    timings: dict[str, list[float]] = {name: [] for name in contenders}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):  # interleaved so drift in machine load hits both sides alike
        for name, embed in contenders.items():
            seconds, vectors[name] = timed_pass(embed, texts)
            timings[name].append(seconds)

    rates = {name: len(texts) / min(seconds) for name, seconds in timings.items()}
    for name, rate in rates.items():
        print(f"{name:45s} {rate:7.1f} chunks/s  (best of {args.repeats}: {min(timings[name]):.2f} s)")
    baseline, ours = rates.values()
    print(f"speed-up: {ours / baseline:.2f}x")
    cosines = np.sum(np.multiply(*vectors.values()), axis=1)
    print(f"cosine agreement: min {cosines.min():.6f}, mean {cosines.mean():.6f}")
    verdict.check(all(len(v) == len(texts) for v in vectors.values()), "a vector for every chunk on both sides")
    verdict.check(float(cosines.min()) > 0.999, f"the same vectors on both sides (min cosine {cosines.min():.6f})")
    verdict.goal(ours > baseline, f"the sorted, dynamically padded embedder is not faster ({ours / baseline:.2f}x)")
    return verdict.exit_code()


if __name__ == "__main__":
    sys.exit(main())
