"""The offline ONNX embedder and the OpenAI-compatible one, without any network."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from imr_rag.index import embeddings
from imr_rag.index.embeddings import (
    EMBEDDING_DIM,
    MODEL_SHA256,
    EmbeddingUnavailable,
    OnnxEmbedder,
    OpenAIEmbedder,
    check_sha256,
    length_sorted_batches,
    make_embedder,
)
from imr_rag.settings import Settings

VARIED_TEXTS = [
    "Denied.",
    "The request for a lumbar MRI is medically necessary and appropriate. " * 6,
    "Baclofen pump refill every three months.",
    "Physical therapy, 12 sessions, for the cervical spine, is not medically necessary "
    "because the guidelines allow 9 to 10 visits over 8 weeks for myalgia and myositis.",
    "",
    "Upheld: the reviewer found no documentation of functional improvement.",
]


def make_settings(**overrides: object) -> Settings:
    """Settings that ignore any .env file and IMR_* variables of the machine running the tests."""
    return Settings(_env_file=None, **overrides)


@pytest.fixture(scope="module")
def onnx() -> OnnxEmbedder:
    return OnnxEmbedder(batch_size=2, threads=1)


def test_model_checksum_is_verified_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []

    def counting_check(path: Path, expected: str) -> None:
        calls.append(path)
        check_sha256(path, expected)

    monkeypatch.setattr(embeddings, "check_sha256", counting_check)
    embeddings.model_path.cache_clear()
    first, second = embeddings.model_path(), embeddings.model_path()
    assert first == second
    assert first.name == "model.onnx" and first.is_file()
    assert calls == [first]


def test_checksum_mismatch_names_the_file_and_reason(tmp_path: Path) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a model")
    with pytest.raises(EmbeddingUnavailable) as caught:
        check_sha256(fake, MODEL_SHA256)
    assert caught.value.source == str(fake)
    assert str(fake) in str(caught.value)
    assert "sha256" in caught.value.reason and MODEL_SHA256 in caught.value.reason


def test_vectors_are_unit_length_float32(onnx: OnnxEmbedder) -> None:
    vectors = onnx.embed(VARIED_TEXTS)
    assert vectors.shape == (len(VARIED_TEXTS), EMBEDDING_DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_order_is_preserved_across_length_sorted_batches(onnx: OnnxEmbedder) -> None:
    together = onnx.embed(VARIED_TEXTS)
    alone = np.vstack([onnx.embed([text]) for text in VARIED_TEXTS])
    cosines = (together * alone).sum(axis=1)
    assert cosines.min() > 0.999, cosines


def test_semantic_neighbours(onnx: OnnxEmbedder) -> None:
    query, near, far = onnx.embed(
        [
            "The request for a lumbar MRI without contrast is not medically necessary.",
            "MRI of the lower back",
            "baclofen pump refill",
        ]
    )
    assert query @ near > query @ far + 0.2


def test_long_text_is_truncated_at_256_tokens(onnx: OnnxEmbedder) -> None:
    long_text = "The injured worker reports chronic low back pain radiating to the left leg. " * 40
    same_start, other_ending = onnx.embed([long_text, long_text + " Acupuncture was denied."])
    assert same_start @ other_ending > 0.9999


def test_empty_input_gives_empty_matrix(onnx: OnnxEmbedder) -> None:
    assert onnx.embed([]).shape == (0, EMBEDDING_DIM)


def test_length_sorted_batches_covers_every_index_once() -> None:
    batches = length_sorted_batches([3, 9, 1, 7, 5], batch_size=2)
    assert batches == [[1, 3], [4, 0], [2]]
    assert length_sorted_batches([], batch_size=4) == []


def test_make_embedder_defaults_to_onnx_with_settings() -> None:
    embedder = make_embedder(make_settings(embedding_batch_size=8, embedding_threads=1))
    assert isinstance(embedder, OnnxEmbedder)
    assert (embedder.batch_size, embedder.threads, embedder.dim) == (8, 1, EMBEDDING_DIM)


class ScriptedEmbeddings(BaseHTTPRequestHandler):
    """Answers POST /v1/embeddings with unnormalised vectors in reversed order, or fails."""

    fail_with: int | None = None
    requests: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - name fixed by http.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body})
        if self.fail_with:
            self._reply(self.fail_with, {"error": {"message": "model overloaded"}})
            return
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(text)), 3.0, 4.0]}
            for i, text in enumerate(body["input"])
        ]
        self._reply(200, {
            "object": "list",
            "data": data[::-1],
            "model": body["model"],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        })

    def _reply(self, status: int, payload: dict) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output clean
        pass


@pytest.fixture()
def embeddings_server() -> Iterator[str]:
    ScriptedEmbeddings.fail_with = None
    ScriptedEmbeddings.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedEmbeddings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def openai_settings(base_url: str) -> Settings:
    return make_settings(
        embedding_backend="openai",
        embedding_model="text-embedding-test",
        embedding_base_url=base_url,
        embedding_batch_size=2,
        llm_api_key="test-key",
        llm_http_retries=0,
    )


def test_openai_embedder_batches_reorders_and_normalises(embeddings_server: str) -> None:
    embedder = make_embedder(openai_settings(embeddings_server))
    assert isinstance(embedder, OpenAIEmbedder) and embedder.name == "text-embedding-test"

    vectors = embedder.embed(["a", "bbbb", "cc"])

    assert vectors.dtype == np.float32 and vectors.shape == (3, 3)
    expected = np.array([[1, 3, 4], [4, 3, 4], [2, 3, 4]], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(vectors, expected, rtol=1e-6)
    assert embedder.dim == 3
    sent = [r["body"]["input"] for r in ScriptedEmbeddings.requests]
    assert sent == [["a", "bbbb"], ["cc"]]
    assert {r["path"] for r in ScriptedEmbeddings.requests} == {"/v1/embeddings"}
    assert embedder.embed([]).shape == (0, 3)


def test_openai_endpoint_failure_is_typed(embeddings_server: str) -> None:
    ScriptedEmbeddings.fail_with = 503
    embedder = make_embedder(openai_settings(embeddings_server))
    with pytest.raises(EmbeddingUnavailable) as caught:
        embedder.embed(["a"])
    assert caught.value.source == embeddings_server
    assert "503" in caught.value.reason and "overloaded" in caught.value.reason
