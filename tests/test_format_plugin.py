"""A third letter format installed from a small package is detected, chunked and parsed.

The plugin package (tests/plugin_pkg) is pip-installed into a temporary target folder and the
CLI runs in a subprocess with that folder on PYTHONPATH, so the test environment is not changed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import VENV_BIN

PLUGIN = Path(__file__).resolve().parent / "plugin_pkg"
LETTER = """NEW YORK STATE EXTERNAL APPEAL DETERMINATION
Appeal Number: NY-2024-00042
The external appeal agent reviewed the denial.
Service: Lumbar discectomy at L4-L5
Determination: Overturned
"""


@pytest.mark.slow
def test_third_format_plugin_is_detected_and_parsed(tmp_path: Path) -> None:
    source, target = tmp_path / "plugin_pkg", tmp_path / "site"
    shutil.copytree(PLUGIN, source)  # setuptools writes build/ next to the sources: keep it out of the repo
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target",
         str(target), str(source)],
        check=True, capture_output=True, text=True,
    )
    letter = tmp_path / "ny.txt"
    letter.write_text(LETTER)
    env = {**os.environ, "PYTHONPATH": str(target), "IMR_DATA_DIR": str(tmp_path / "data")}
    out = tmp_path / "out.jsonl"
    run = subprocess.run(
        [str(VENV_BIN / "imr-rag"), "extract", str(letter), "--output", str(out)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    record = json.loads(out.read_text().splitlines()[0])
    decision = record["decision"]
    assert decision["letter_format"] == "ny_external_appeal"
    assert decision["case_number"] == "NY-2024-00042"
    assert [(i["service"], i["determination"]) for i in decision["items"]] == [
        ("Lumbar discectomy at L4-L5", "overturned")
    ]
    stats = subprocess.run([str(VENV_BIN / "imr-rag"), "stats", "--json"], env=env, capture_output=True,
                           text=True, timeout=120)
    assert json.loads(stats.stdout)["formats"] == {"ny_external_appeal": 1}
