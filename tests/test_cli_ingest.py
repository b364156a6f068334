"""The `imr-rag` console script on the 25 real dev letters, as a user runs it (subprocesses)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from helpers import require_shared, run_cli

pytestmark = pytest.mark.slow
HIT_KEYS = {"doc_id", "case_number", "source", "section", "start", "end", "score", "text"}
QUESTIONS = {
    "Was the Slingshot sling after the Bankart repair of the left shoulder medically necessary?": "CM16-0246487",
    "Why was the hospital bed rental denied?": "CM17-0009996",
    "Is transportation to and from medical appointments covered?": "CM17-0009883",
}


@pytest.fixture(scope="module")
def corpus() -> Path:
    folder = require_shared("corpus", "dwc-dev")
    pdfs = sorted(folder.glob("*.pdf"))
    if len(pdfs) != 25:
        pytest.skip(f"expected the 25 dev PDFs in {folder}, found {len(pdfs)}")
    return folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    return {"cwd": root, "data": root / "isolated-data"}


@pytest.fixture(scope="module")
def first_ingest(corpus: Path, workspace: dict[str, Path]) -> subprocess.CompletedProcess:
    return run_cli(["ingest", str(corpus), "--json"], data_dir=workspace["data"], cwd=workspace["cwd"])


def cli(workspace: dict[str, Path], *args: str) -> subprocess.CompletedProcess:
    return run_cli(list(args), data_dir=workspace["data"], cwd=workspace["cwd"])


def test_ingest_of_the_dev_corpus(first_ingest: subprocess.CompletedProcess, workspace: dict[str, Path]) -> None:
    assert first_ingest.returncode == 0, first_ingest.stderr[-2000:]
    report = json.loads(first_ingest.stdout)
    assert len(report["ingested"]) == 25
    assert report["failed"] == [] and report["replaced"] == [] and report["unchanged"] == []
    # One chunk per letter, "IMR ISSUES, DECISIONS AND RATIONALES ...", is boilerplate with nothing of
    # its own: left to BM25, not embedded (docs/embedders.md).
    assert report["chunks_embedded"] == report["chunks_added"] - 25 > 25
    assert 0 < report["vectors_computed"] <= report["chunks_embedded"]
    assert (workspace["data"] / "catalog.sqlite").exists()
    assert not (workspace["cwd"] / "imr-data").exists(), "IMR_DATA_DIR was ignored"


def test_reingest_is_all_unchanged(first_ingest, corpus: Path, workspace: dict[str, Path]) -> None:
    assert first_ingest.returncode == 0
    again = cli(workspace, "ingest", str(corpus), "--json")
    assert again.returncode == 0, again.stderr[-2000:]
    report = json.loads(again.stdout)
    assert len(report["unchanged"]) == 25
    assert report["ingested"] == report["replaced"] == report["failed"] == []
    assert report["chunks_added"] == report["chunks_embedded"] == 0


@pytest.mark.parametrize("question,case_number", QUESTIONS.items(), ids=list(QUESTIONS.values()))
def test_search_a_question_returns_that_letter_first(first_ingest, workspace, question: str, case_number: str) -> None:
    assert first_ingest.returncode == 0
    result = cli(workspace, "search", question, "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    hits = json.loads(result.stdout)
    assert len(hits) == 5
    for hit in hits:
        assert HIT_KEYS <= set(hit)
        assert hit["end"] > hit["start"] and hit["text"]
    assert hits[0]["case_number"] == case_number
    assert Path(hits[0]["source"]).name == f"{case_number}.pdf"


def test_search_for_a_case_number(first_ingest, workspace) -> None:
    assert first_ingest.returncode == 0
    result = cli(workspace, "search", "CM17-0009996", "--json")
    assert result.returncode == 0
    hits = json.loads(result.stdout)
    assert hits and hits[0]["case_number"] == "CM17-0009996"
    assert all(h["case_number"] == "CM17-0009996" for h in hits)


def test_search_text_output_and_filters(first_ingest, workspace) -> None:
    assert first_ingest.returncode == 0
    result = cli(workspace, "search", "hospital bed", "-k", "2", "--section", "item")
    assert result.returncode == 0
    assert result.stdout.startswith("[1] ") and "[2] " in result.stdout and "[3] " not in result.stdout
    assert " item " in result.stdout.splitlines()[0] + " "
    none = cli(workspace, "search", "hospital bed", "--format", "tx_iro", "--json")
    assert none.returncode == 0 and json.loads(none.stdout) == []


def test_stats(first_ingest, workspace) -> None:
    assert first_ingest.returncode == 0
    result = cli(workspace, "stats", "--json")
    assert result.returncode == 0
    stats = json.loads(result.stdout)
    assert stats["documents"] == 25 and stats["paths"] == 25
    assert stats["formats"] == {"ca_dwc_imr": 25}
    assert stats["chunks"] == stats["chunks_embedded"] + 25  # the boilerplate left to BM25, one per letter
    assert stats["failures"] == []


def test_embed_with_nothing_pending(first_ingest, workspace) -> None:
    assert first_ingest.returncode == 0
    result = cli(workspace, "embed", "--json")
    assert result.returncode == 0
    summary = json.loads(result.stdout)
    assert (summary["chunks_embedded"], summary["vectors_computed"]) == (0, 0)


@pytest.mark.parametrize(
    "args",
    [[], ["ingest"], ["search"], ["search", "knee", "-k", "0"], ["search", "knee", "--mode", "fuzzy"],
     ["ingest", "/no/such/folder/anywhere"], ["frobnicate"]],
    ids=["no-args", "ingest-no-path", "search-no-query", "k-zero", "bad-mode", "missing-path", "bad-command"],
)
def test_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    result = run_cli(args, data_dir=tmp_path / "data", cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.strip(), "a usage error must say what is wrong"
    if args[-1:] == ["/no/such/folder/anywhere"]:
        assert "/no/such/folder/anywhere" in result.stderr
