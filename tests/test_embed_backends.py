"""The opt-in static embedder, the CUDA device selection, and the embed stage's distinct-text count."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from helpers import SYNTHETIC_LETTERS

from imr_rag.faces.cli import main
from imr_rag.index.embeddings import (
    CPU_PROVIDER,
    CUDA_PROVIDER,
    EMBEDDING_DIM,
    STATIC_DIM,
    EmbeddingUnavailable,
    OnnxEmbedder,
    StaticEmbedder,
    execution_providers,
    make_embedder,
)
from imr_rag.library import Library
from imr_rag.settings import Settings


def test_static_embedder_gives_unit_vectors_that_rank_related_text_first() -> None:
    texts = ["Lyrica 75mg #60 for neuropathic pain is medically necessary.", "",
             "Pregabalin (Lyrica) for neuropathic pain", "A semi-electric hospital bed rental"]
    vectors = StaticEmbedder().embed(texts)
    assert vectors.shape == (4, STATIC_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[[0, 2, 3]], axis=1), 1.0, atol=1e-5)
    assert not vectors[1].any()  # an empty text has no tokens: a zero vector, not NaN
    assert vectors[0] @ vectors[2] > vectors[0] @ vectors[3] + 0.2
    one_by_one = np.stack([StaticEmbedder().embed([t])[0] for t in texts])
    assert np.allclose(one_by_one, vectors, atol=1e-6)  # batching does not change a vector


def test_backend_setting_selects_the_embedder_and_its_vector_space() -> None:
    static = make_embedder(Settings(_env_file=None, embedding_backend="static"))
    onnx = make_embedder(Settings(_env_file=None))
    assert isinstance(static, StaticEmbedder) and isinstance(onnx, OnnxEmbedder)
    assert static.name != onnx.name and (static.dim, onnx.dim) == (STATIC_DIM, EMBEDDING_DIM)


def test_cpu_and_cuda_provider_selection() -> None:
    assert execution_providers("cpu", [CUDA_PROVIDER, CPU_PROVIDER]) == [CPU_PROVIDER]
    assert execution_providers("cuda", [CUDA_PROVIDER, CPU_PROVIDER]) == [CUDA_PROVIDER, CPU_PROVIDER]
    with pytest.raises(EmbeddingUnavailable, match="no CUDAExecutionProvider .*offers CPUExecutionProvider"):
        execution_providers("cuda", [CPU_PROVIDER])
    with pytest.raises(EmbeddingUnavailable, match="unknown device 'tpu'"):
        execution_providers("tpu", [CPU_PROVIDER])


def test_cuda_asked_for_on_this_onnxruntime() -> None:
    """Here (no GPU, CPU onnxruntime) asking for CUDA fails saying why; with CUDA it is used."""
    embedder = make_embedder(Settings(_env_file=None, embedding_device="cuda"))
    if CUDA_PROVIDER in onnxruntime.get_available_providers():
        assert embedder.embed(["knee MRI"]).shape == (1, EMBEDDING_DIM)
        return
    with pytest.raises(EmbeddingUnavailable, match="IMR_EMBEDDING_DEVICE=cuda.*install onnxruntime-gpu"):
        embedder.embed(["knee MRI"])


def test_cuda_is_refused_for_backends_it_does_not_apply_to() -> None:
    with pytest.raises(EmbeddingUnavailable, match="onnx backend only"):
        make_embedder(Settings(_env_file=None, embedding_backend="static", embedding_device="cuda"))


def test_embed_computes_each_distinct_text_once_and_reports_its_rate(tmp_path: Path, monkeypatch, capsys) -> None:
    letters = tmp_path / "letters"
    letters.mkdir()
    for name in ("dwc_cm99_0000001.txt", "dwc_cm99_0000006.txt", "dwc_cm99_0000008.txt"):
        shutil.copy(SYNTHETIC_LETTERS / name, letters / name)
    data = tmp_path / "data"
    monkeypatch.setenv("IMR_EMBEDDING_BACKEND", "static")
    assert main(["--data-dir", str(data), "ingest", str(letters), "--no-embed"]) == 0
    with Library(Settings(_env_file=None, data_dir=data, embedding_backend="static")) as lib:
        chunks = lib.catalog.count_pending()
        distinct = lib.catalog.count_pending_texts(lib.embedder.name)
    assert 0 < distinct < chunks  # the letters share boilerplate paragraphs
    capsys.readouterr()

    assert main(["--data-dir", str(data), "embed", "--json"]) == 0
    out = capsys.readouterr()
    summary = json.loads(out.out)
    assert (summary["chunks_embedded"], summary["vectors_computed"]) == (chunks, distinct)
    assert summary["chunks_per_second"] > 0 and summary["texts_per_second"] > 0
    assert f"{chunks} chunks pending, {distinct} distinct texts to compute with wordllama-l2-supercat-256" in out.err

    # A copy of a letter under a new name adds chunks but no text to compute.
    shutil.copy(letters / "dwc_cm99_0000001.txt", letters / "copy.txt")
    (letters / "copy.txt").write_text((letters / "copy.txt").read_text() + "\nFax page 2 of 2\n")
    assert main(["--data-dir", str(data), "ingest", str(letters), "--no-embed"]) == 0
    with Library(Settings(_env_file=None, data_dir=data, embedding_backend="static")) as lib:
        assert lib.catalog.count_pending() > lib.catalog.count_pending_texts(lib.embedder.name) >= 1
