"""The perturbation corpus (evals/perturb.py) and the `imr-rag eval --suite perturbation` measures.

The corpus is built from the committed synthetic letters here (the real letters are used when
the shared folder is present, by `imr-rag eval` itself).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evals import perturb
from evals.cases import load_fixture_set
from helpers import EVALS, REPO_ROOT, clean_env

SYNTHETIC = EVALS / "fixtures" / "synthetic"


@pytest.fixture(scope="module")
def synthetic_set():
    return load_fixture_set(SYNTHETIC, [])


def test_corpus_is_deterministic_and_carries_the_gold(synthetic_set, tmp_path: Path) -> None:
    a = perturb.build([synthetic_set], tmp_path / "a")
    b = perturb.build([synthetic_set], tmp_path / "b")
    assert [p.name for p in a.letters] == [p.name for p in b.letters]
    assert all(p.read_bytes() == q.read_bytes() for p, q in zip(a.letters, b.letters))
    kinds = {g["perturbation"] for g in a.gold.values()}
    assert kinds == set(perturb.KINDS)  # every kind applies to some synthetic letter
    for name, gold in a.gold.items():
        original = synthetic_set.gold[name.split("__")[1] + _suffix(synthetic_set, name.split("__")[1])]
        assert gold["items"] == original["items"] and gold["case_number"] == original["case_number"]


def _suffix(fixture, stem: str) -> str:
    return next(Path(n).suffix for n in fixture.gold if Path(n).stem == stem)


def test_held_out_set_uses_other_wordings_and_combinations(synthetic_set, tmp_path: Path) -> None:
    held = perturb.build([synthetic_set], tmp_path, held_out=True)
    assert held.name == perturb.HELD_OUT_SET_NAME
    assert any("+" in g["perturbation"] for g in held.gold.values())
    texts = "\n".join(p.read_text(encoding="utf-8") for p in held.letters)
    assert "portion remaining eligible for IMR" in texts or "rest of the original request" in texts


def test_texas_renderings_keep_the_outcome_readable(synthetic_set, tmp_path: Path) -> None:
    fixture = perturb.build([synthetic_set], tmp_path)
    boxes = [p.read_text(encoding="utf-8") for p in fixture.letters if p.name.endswith("__tx_checkbox.txt")]
    assert boxes and all("[ X ]" not in t for t in boxes)
    prose = [p.read_text(encoding="utf-8") for p in fixture.letters if p.name.endswith("__tx_prose_only.txt")]
    assert prose and all(not __import__("re").search(r"\[\s*[Xx]\s*\]\s*(Upheld|Overturned|Partially)", t)
                         for t in prose)


def test_eval_prints_the_robustness_measures(tmp_path: Path) -> None:
    out = tmp_path / "report"
    # `python -m imr_rag.faces.cli` with this checkout first on the path (the console script may belong
    # to another checkout sharing the venv).
    proc = subprocess.run(
        [sys.executable, "-m", "imr_rag.faces.cli", "eval", "--suite", "perturbation", "--fixtures", str(SYNTHETIC),
         "--output", str(out)],
        cwd=tmp_path, env=clean_env(IMR_DATA_DIR=str(tmp_path / "unused"), PYTHONPATH=str(REPO_ROOT)),
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    sets = report["perturbation"]["rules"]
    assert set(sets) >= {perturb.SET_NAME, perturb.HELD_OUT_SET_NAME}
    for summary in sets.values():
        for key in ("item_f1", "determination_accuracy", "exact_match_rate", "silent_error_rate"):
            assert summary[key] is not None
    dev = sets[perturb.SET_NAME]
    assert dev["silent_errors"] == 0, dev["silent_letters"]
    assert dev["item_f1"] >= 0.99 and dev["determination_accuracy"] >= 0.99
    assert "silent error rate" in proc.stdout
    assert "perturbation/rules/perturbation/silent_error_rate" in report["metrics"]
