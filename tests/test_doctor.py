"""`imr-rag doctor` against real parts: a real catalog and indexes, the packaged embedding model,
embedded Chroma, an unreachable Chroma server, and the scripted OpenAI-compatible server.

Runs the CLI in-process (main(argv)) with the environment cleaned of IMR_* settings and the
working folder in tmp_path (so no .env file is read).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import SYNTHETIC_LETTERS, free_port
from llm_server import ScriptedLLMServer, scripted_llm_server

from imr_rag.faces.cli import main
from imr_rag.faces.doctor import shown_key, shown_url

SECRET_KEY = "sk-test-0123456789abcdefSECRET9876"
URL_PASSWORD = "hunter2pass"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in os.environ if k.startswith("IMR_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def doctor(capsys: pytest.CaptureFixture, data: Path, *extra: str) -> tuple[int, str]:
    code = main(["--data-dir", str(data), "doctor", *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


def line(output: str, name: str) -> str:
    (found,) = [row for row in output.splitlines() if row[6:].startswith(name + ":")]
    return found


@pytest.fixture()
def library(tmp_path: Path, capsys: pytest.CaptureFixture) -> Path:
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "--quiet", "ingest", str(SYNTHETIC_LETTERS), "--no-embed"]) == 0
    capsys.readouterr()
    return data


def test_fresh_install_passes_without_creating_the_data_folder(tmp_path: Path, capsys) -> None:
    code, output = doctor(capsys, tmp_path / "not-yet")
    assert code == 0, output
    assert line(output, "data directory").startswith("OK    data directory: ")
    assert "does not exist yet" in output and not (tmp_path / "not-yet").exists()
    embedding = line(output, "embedding model")
    assert embedding.startswith("OK") and "sha256 matches the pinned" in embedding and "384 dimensions" in embedding
    assert line(output, "llm").startswith("SKIP") and "IMR_LLM_BASE_URL" in output
    assert output.rstrip().endswith("all checks passed")


def test_counts_then_a_missing_bm25_index_fails_and_repair_fixes_it(library: Path, capsys) -> None:
    code, output = doctor(capsys, library)
    assert code == 0, output
    data = line(output, "data directory")
    assert "writable; catalog schema current (record schema" in data and "13 documents, 115 chunks (0 embedded)" in data
    assert "all 115 of the catalog" in line(output, "bm25 index")
    assert "115 chunks wait for embedding" in line(output, "chroma store")

    shutil.rmtree(library / "lexical")
    code, output = doctor(capsys, library)
    assert code == 1
    assert line(output, "bm25 index").startswith("FAIL") and "-> run imr-rag check --repair" in output
    assert output.rstrip().endswith("1 check(s) failed")

    assert main(["--data-dir", str(library), "--quiet", "check", "--repair"]) == 0
    capsys.readouterr()
    assert doctor(capsys, library)[0] == 0


def test_a_catalog_from_another_version_is_named(library: Path, capsys) -> None:
    import sqlite3

    db = sqlite3.connect(library / "catalog.sqlite")
    db.executescript("DROP TABLE dense_deletes; CREATE TABLE dense_deletes (doc_id TEXT PRIMARY KEY);")
    db.close()
    code, output = doctor(capsys, library)
    assert code == 1
    data = line(output, "data directory")
    assert data.startswith("FAIL") and "catalog schema differs from this version's: dense_deletes lacks at" in data
    assert "ingest into a new IMR_DATA_DIR" in output


def test_data_folder_that_is_a_file_fails(tmp_path: Path, capsys) -> None:
    (tmp_path / "file").write_text("x")
    code, output = doctor(capsys, tmp_path / "file")
    assert code == 1
    assert line(output, "data directory").startswith("FAIL") and "is not a folder" in output
    assert "--data-dir or IMR_DATA_DIR" in output


def test_unreachable_chroma_server_fails_with_what_to_do(library: Path, capsys) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code = main(["--data-dir", str(library), "--chroma-url", url, "doctor"])
    output = capsys.readouterr().out
    assert code == 1
    chroma = line(output, "chroma store")
    assert chroma.startswith("FAIL") and url in chroma
    assert "chroma run --path DIR --port 8000" in output
    assert line(output, "bm25 index").startswith("OK")  # the lexical index is still compared


def configure_llm(monkeypatch: pytest.MonkeyPatch, llm: ScriptedLLMServer, model: str = "scripted-model",
                  mode: str = "tools") -> str:
    url = llm.base_url.replace("http://", f"http://doctor:{URL_PASSWORD}@")
    monkeypatch.setenv("IMR_LLM_BASE_URL", url + "?api_key=" + SECRET_KEY)
    monkeypatch.setenv("IMR_LLM_MODEL", model)
    monkeypatch.setenv("IMR_LLM_MODE", mode)
    monkeypatch.setenv("IMR_LLM_API_KEY", SECRET_KEY)
    return url


def test_llm_configured_and_working(tmp_path: Path, capsys, monkeypatch) -> None:
    with scripted_llm_server() as llm:
        configure_llm(monkeypatch, llm)
        llm.enqueue({"word": "OK"}, {"word": "OK"}, {"word": "OK"}, {"word": "OK"})
        code, output = doctor(capsys, tmp_path / "data")
        requests = llm.requests
    assert code == 0, output
    assert "reachable, 1 models listed" in line(output, "llm endpoint")
    assert line(output, "llm model") == "OK    llm model: scripted-model is listed"
    call = line(output, "llm typed call")
    assert call.startswith("OK    llm typed call: mode tools: a typed reply in ") and " prompt + " in call
    assert "other modes that work: json, json_schema, md_json" in call
    assert [("tools" in r) for r in requests] == [True, False, False, False]  # one call per mode
    assert all(r["model"] == "scripted-model" for r in requests)
    # The key's last 4 characters at most; nothing of the URL's credentials or query.
    assert SECRET_KEY not in output and SECRET_KEY[:-4] not in output and URL_PASSWORD not in output
    assert "API key ...9876" in output and "(credentials in the URL not shown)" in output


def test_llm_wrong_model_and_a_mode_the_server_cannot_do(tmp_path: Path, capsys, monkeypatch) -> None:
    with scripted_llm_server() as llm:
        configure_llm(monkeypatch, llm, model="gpt-unknown")
        # tools: plain text instead of a tool call; json works; json_schema and md_json get prose.
        llm.enqueue("Sure! OK.", {"word": "OK"}, "no json here", "no json here")
        code = main(["--data-dir", str(tmp_path / "data"), "doctor", "--json"])
        report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["ok"] is False
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["llm model"]["status"] == "fail" and "scripted-model" in checks["llm model"]["detail"]
    assert checks["llm model"]["fix"] == "set IMR_LLM_MODEL to one of the listed ids"
    call = checks["llm typed call"]
    assert call["status"] == "fail" and "mode tools failed" in call["detail"]
    assert "other modes that work: json;" in call["detail"]
    assert call["fix"] == "set IMR_LLM_MODE=json (it works with this server)"
    assert SECRET_KEY not in json.dumps(report) and URL_PASSWORD not in json.dumps(report)


def test_llm_endpoint_down_fails_at_once(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("IMR_LLM_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("IMR_LLM_API_KEY", SECRET_KEY)
    code, output = doctor(capsys, tmp_path / "data")
    assert code == 1
    endpoint = line(output, "llm endpoint")
    assert endpoint.startswith("FAIL") and "cannot be reached" in endpoint
    assert "start the server, or fix IMR_LLM_BASE_URL" in output
    assert "llm typed call" not in output and SECRET_KEY not in output


@pytest.mark.parametrize(("key", "shown"), [
    (SECRET_KEY, "API key ...9876"), ("not-needed", "no API key set"), ("", "no API key set"),
    ("short-key", "API key set (too short to show any of it)"),
])
def test_shown_key(key: str, shown: str) -> None:
    assert shown_key(key) == shown


def test_shown_url_drops_credentials_and_query() -> None:
    assert shown_url("https://u:p@example.com:8443/v1?key=abc") == (
        "https://example.com:8443/v1 (credentials in the URL not shown)")
    assert shown_url("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"
