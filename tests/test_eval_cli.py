"""`imr-rag eval` end to end on the committed synthetic fixtures, through the console script.

One full run (extraction, retrieval and answers) is shared by the
module; the baseline tests re-run the quick extraction suite, once on a deliberately worse copy
of the fixtures. The LLM accounting runs the real LLM extractor against the scripted server.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import EVALS, REPO_ROOT, VENV_BIN, clean_env, run_cli
from llm_server import scripted_llm_server

SYNTHETIC = EVALS / "fixtures" / "synthetic"


def eval_cli(args: list[str], tmp: Path, **env: str) -> subprocess.CompletedProcess:
    """Run `imr-rag eval ...` with extra environment (run_cli's env has no room for it)."""
    exe = VENV_BIN / "imr-rag"
    if not exe.exists():
        pytest.skip(f"imr-rag console script not found next to {sys.executable}")
    return subprocess.run([str(exe), "eval", *args], cwd=tmp, env=clean_env(**env),
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, dict, Path]:
    tmp = tmp_path_factory.mktemp("eval-full")
    out = tmp / "report"
    proc = run_cli(["eval", "--fixtures", str(SYNTHETIC), "--output", str(out)], data_dir=tmp / "unused", cwd=tmp)
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads((out / "report.json").read_text()), out


def test_full_run_writes_json_and_markdown_reports(full_run) -> None:
    proc, report, out = full_run
    assert [s["name"] for s in report["fixture_sets"]] == ["synthetic"]
    assert report["fixture_sets"][0]["letters"] >= 10
    markdown = (out / "report.md").read_text()
    assert "## Extraction" in markdown and "## Retrieval" in markdown
    assert "| field | precision | recall | F1 |" in markdown
    assert "| mode | recall@1 | recall@5 |" in markdown
    assert "## Extraction" in proc.stdout  # the tables are printed too
    # The eval used a fresh temporary library, not the data dir from the environment.
    assert not (out.parent / "unused").exists()


def test_extraction_suite_scores_every_field_per_backend(full_run) -> None:
    _, report, _ = full_run
    summary = report["extraction"]["rules"]["synthetic"]
    assert set(summary["fields"]) == {
        "items", "determination", "category", "guidelines", "original_request", "authorized_portion",
        "dates", "case_number", "reviewer_specialty",
    }
    assert summary["letters"] == report["fixture_sets"][0]["letters"]
    assert summary["fields"]["items"]["f1"] >= 0.9
    assert summary["fields"]["determination"]["f1"] >= 0.9
    assert summary["grounding_rate"] >= 0.9
    assert 0.0 <= summary["exact_match_rate"] <= 1.0
    rows = summary["per_letter"]
    assert {r["letter"] for r in rows} >= {"dwc_cm99_0000001.txt", "tx_iro_partial.txt"}
    assert all(r["llm_calls"] == 0 and r["seconds"] >= 0 for r in rows)
    usage = report["llm_usage"]["rules"]
    assert usage["llm_calls"] == 0 and usage["cost_per_1000_letters"] is None
    assert report["metrics"]["extraction/rules/synthetic/items/f1"] == summary["fields"]["items"]["f1"]
    # The self-checks pass every correct synthetic record: a flag here would be noise.
    assert summary["flagged_letters"] == 0 and report["metrics"]["extraction/rules/synthetic/flag_rate"] == 0.0


def test_retrieval_suite_reports_three_modes(full_run) -> None:
    _, report, _ = full_run
    per_mode = report["retrieval"]["synthetic"]
    assert {"hybrid", "dense", "lexical"} <= set(per_mode)
    for mode in ("hybrid", "dense", "lexical"):
        s = per_mode[mode]
        assert s["questions"] > 0 and s["passage_questions"] > 0
        assert 0.0 <= s["recall@1"] <= s["recall@5"] <= s["recall@10"] <= 1.0
        assert s["recall@10"] >= 0.8, mode
        assert 0.0 < s["mrr"] <= 1.0
    by_kind = per_mode["hybrid"]["by_kind"]
    assert set(by_kind) == {"determination", "case", "count", "passage"}
    assert sum(k["questions"] for k in by_kind.values()) == per_mode["hybrid"]["questions"]
    assert "retrieval/synthetic/dense/kind=passage/passage_mrr" in report["metrics"]
    ranks = per_mode["per_question"]
    assert len(ranks) == per_mode["hybrid"]["questions"]
    assert "hybrid_rank" in ranks[0] and "lexical_rank" in ranks[0]


def test_answers_suite_scores_offline_answers(full_run) -> None:
    _, report, out = full_run
    s = report["answers"]["synthetic"]
    assert s["questions"] == report["fixture_sets"][0]["questions"]
    for key in ("correctness", "citation_precision", "citation_recall", "no_valid_citation_rate"):
        assert 0.0 <= s[key] <= 1.0, key
    assert s["correctness"] >= 0.8
    assert s["no_valid_citation_rate"] <= 0.1
    assert s["faithfulness"] == "n/a"  # offline answers, no judge
    assert "## Answers" in (out / "report.md").read_text()
    assert all(row["mode"] == "offline" for row in s["per_question"])


def test_same_run_against_its_own_report_passes(full_run, tmp_path: Path) -> None:
    _, _, out = full_run
    proc = run_cli(["eval", "--suite", "extraction", "--fixtures", str(SYNTHETIC), "--output", str(tmp_path / "r"),
                    "--baseline", str(out / "report.json")], data_dir=tmp_path / "d", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["baseline"]["compared"] > 0 and report["baseline"]["regressions"] == []


def test_worse_run_than_baseline_exits_1(full_run, tmp_path: Path) -> None:
    """Copy the fixtures, flip one gold determination, so this run scores worse than the baseline."""
    _, _, out = full_run
    worse = tmp_path / "synthetic"
    shutil.copytree(SYNTHETIC, worse)
    gold_path = worse / "gold" / "dwc_cm99_0000001.json"
    gold = json.loads(gold_path.read_text())
    for item in gold["items"]:
        item["determination"] = "upheld" if item["determination"] == "overturned" else "overturned"
    gold_path.write_text(json.dumps(gold))
    proc = run_cli(["eval", "--suite", "extraction", "--fixtures", str(worse), "--output", str(tmp_path / "r"),
                    "--baseline", str(out / "report.json"), "--tolerance", "0.01"],
                   data_dir=tmp_path / "d", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    dropped = {r["name"] for r in report["baseline"]["regressions"]}
    assert "extraction/rules/synthetic/determination/f1" in dropped
    assert "REGRESSION" in proc.stdout
    assert "dropped more than 0.01" in proc.stderr
    # A tolerance larger than the drop lets the same run pass.
    proc = run_cli(["eval", "--suite", "extraction", "--fixtures", str(worse), "--output", str(tmp_path / "r2"),
                    "--baseline", str(out / "report.json"), "--tolerance", "0.5"],
                   data_dir=tmp_path / "d", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--tolerance", "-1"], "--tolerance"),
    (["--fixtures", "/no/such/folder"], "no such fixtures folder"),
    (["--baseline", "/no/such/report.json"], "cannot read baseline"),
    (["--backend", "llm"], "needs an LLM"),
    (["--suite", "nonsense"], "invalid choice"),
])
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    proc = run_cli(["eval", *args, "--output", str(tmp_path / "r")], data_dir=tmp_path / "d", cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not (tmp_path / "r").exists()


def test_llm_backend_records_calls_retries_tokens_and_cost(tmp_path: Path) -> None:
    """One Texas letter through the real LLM extractor: a rejected quote, a re-ask, then a valid record."""
    fixtures = tmp_path / "one"
    (fixtures / "letters").mkdir(parents=True)
    (fixtures / "gold").mkdir()
    shutil.copy(SYNTHETIC / "letters" / "tx_iro_upheld.txt", fixtures / "letters")
    shutil.copy(SYNTHETIC / "gold" / "tx_iro_upheld.json", fixtures / "gold")
    record = {
        "case_number": "2024-99010", "decision_date": "2024-02-19",
        "reviewer": {"specialty": "Orthopaedic Surgery", "licensure": []},
        "patient": {"age": 38, "sex": "female"},
        "items": [{
            "service": "Outpatient right endoscopic carpal tunnel release (CPT 29848)", "category": "surgery",
            "determination": "upheld", "medically_necessary": False,
            "guidelines": [{"source": "ODG", "citation": "ODG", "cited_by": "reviewer"}],
            "service_quote": "Outpatient right endoscopic carpal tunnel",
            "determination_quote": "[ X ] Upheld (Agree)",
            "rationale_quote": None,
        }],
    }
    invented = json.loads(json.dumps(record))
    invented["items"][0]["determination_quote"] = "The reviewer upholds every denial in this file."
    with scripted_llm_server() as llm:
        llm.enqueue(invented, record)
        proc = eval_cli(
            ["--backend", "llm", "--suite", "extraction", "--fixtures", str(fixtures), "--output", str(tmp_path / "r"),
             "--price-per-1k-tokens", "0.5"],
            tmp_path, IMR_LLM_BASE_URL=llm.base_url, IMR_LLM_MODEL=llm.model, IMR_LLM_HTTP_RETRIES="0",
            IMR_LLM_MAX_RETRIES="2", IMR_LLM_TIMEOUT="30",
        )
        reported = llm.total_reported_usage()
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    row = report["extraction"]["llm"]["one"]["per_letter"][0]
    assert (row["llm_calls"], row["llm_retries"]) == (2, 1)
    assert row["tokens"]["total_tokens"] == reported["total_tokens"] > 0
    assert row["seconds"] > 0 and row["error"] is None
    usage = report["llm_usage"]["llm"]
    assert usage["tokens_per_letter"] == reported["total_tokens"]
    assert usage["cost_per_1000_letters"] == pytest.approx(reported["total_tokens"] * 0.5)
    summary = report["extraction"]["llm"]["one"]
    assert summary["fields"]["items"]["f1"] == 1.0 and summary["fields"]["determination"]["f1"] == 1.0
    assert summary["grounding_rate"] == 1.0
    assert "## LLM usage and cost" in proc.stdout and "at 0.5 per 1,000 tokens" in proc.stdout


def test_judge_scores_the_share_of_supported_sentences() -> None:
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from evals.judge import JudgeSettings, make_judge

    from imr_rag.settings import Settings

    assert make_judge(Settings(_env_file=None), JudgeSettings(_env_file=None)) is None  # no endpoint: n/a
    with scripted_llm_server() as llm:
        judge = make_judge(Settings(_env_file=None, llm_base_url=llm.base_url),
                           JudgeSettings(_env_file=None, model="judge-model"))
        llm.enqueue({"verdicts": [{"sentence": 1, "supported": True}, {"sentence": 2, "supported": False}]})
        score = judge.faithfulness("Was Lyrica overturned?", ["Lyrica was overturned.", "It costs 5 dollars."],
                                   ["Lyrica 75mg #60: Overturned"])
        request = llm.requests[0]
    assert score == 0.5
    assert request["model"] == "judge-model"
    prompt = request["messages"][-1]["content"]
    assert "1. Lyrica was overturned." in prompt and "[1] Lyrica 75mg #60: Overturned" in prompt
