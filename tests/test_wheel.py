"""The wheel as a user gets it: built from the checkout, installed into a fresh venv, run elsewhere.

The wheel is built offline (`pip wheel --no-deps --no-build-isolation`) from a copy of the
checkout, installed with `--no-deps` into a new venv whose dependencies come from the test venv's
site-packages (a `.pth` line: fast, no download), and every command runs from an empty temporary
folder, so nothing can be found through the checkout: `imr_rag` itself must import from the new
venv, and app.py, prompts/ and evals/ must come out of the wheel.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import REPO_ROOT, background_server, clean_env, free_port
from llm_server import scripted_llm_server

pytestmark = pytest.mark.slow

SKIP_WHEN_COPYING = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis",
    "imr-data", "test-artifacts", "reports", "tests", "benchmarks",
)


@dataclass
class InstalledWheel:
    wheel: Path
    venv: Path
    work: Path  # an empty folder outside the checkout: every command runs here
    data: Path

    def run(self, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.venv / "bin" / "imr-rag"), *args], cwd=self.work, capture_output=True, text=True,
            timeout=timeout, env=clean_env(IMR_DATA_DIR=str(self.data), **env),
        )


def build_wheel(out: Path, scratch: Path) -> Path:
    """Build from a copy, so the checkout gets no build/ or egg-info folders."""
    source = scratch / "src"
    shutil.copytree(REPO_ROOT, source, ignore=SKIP_WHEN_COPYING)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(out), str(source)], check=True, capture_output=True, text=True, timeout=300)
    (wheel,) = out.glob("imr_rag-*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    target = Path(subprocess.check_output(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True).strip())
    # The dependencies: this venv's site-packages, after the new venv's own (where imr_rag goes).
    (target / "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True, text=True,
                   timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> InstalledWheel:
    base = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(base / "dist", base)
    install(wheel, base / "venv")
    work = base / "work"
    work.mkdir()
    return InstalledWheel(wheel=wheel, venv=base / "venv", work=work, data=base / "data")


def test_wheel_carries_the_package_app_prompts_and_evals(installed: InstalledWheel) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    expected = {f"imr_rag/{p.relative_to(REPO_ROOT / 'imr_rag').as_posix()}"
                for p in (REPO_ROOT / "imr_rag").rglob("*") if p.suffix in {".py", ".json"}}
    expected |= {f"imr_rag/bundle/prompts/{p.name}" for p in (REPO_ROOT / "prompts").glob("*.md")}
    expected |= {f"imr_rag/bundle/{p.relative_to(REPO_ROOT).as_posix()}" for p in (REPO_ROOT / "evals").rglob("*")
                 if p.is_file() and "reports" not in p.parts and "__pycache__" not in p.parts}
    expected.add("imr_rag/bundle/app.py")
    assert expected - names == set(), "files of the checkout missing from the wheel"
    assert not [n for n in names if "/reports/" in n or n.endswith(".pyc")]
    print(f"\nwheel {installed.wheel.name}: {installed.wheel.stat().st_size / 1024:.0f} KiB, {len(names)} files")


def test_imr_rag_imports_from_the_new_venv_not_the_checkout(installed: InstalledWheel) -> None:
    where = subprocess.check_output(
        [str(installed.venv / "bin" / "python"), "-c",
         "import imr_rag.layout as l; print(l.__file__); print(l.project_root()); print(l.is_checkout())"],
        cwd=installed.work, text=True, env=clean_env()).split("\n")
    assert where[0].startswith(str(installed.venv)), where
    assert where[1] == str(Path(where[0]).parent / "bundle") and where[2] == "False"


def test_demo_then_ask_from_any_folder(installed: InstalledWheel) -> None:
    demo = installed.run("demo")
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "dwc_cm99_0000001" in demo.stdout or "samples" in demo.stdout or "== ingest" in demo.stdout
    assert "bundle/evals/fixtures/synthetic/letters" in demo.stdout  # the samples from inside the wheel
    assert "[1]" in demo.stdout, demo.stdout  # the demo's answers cite passages
    log = demo.stdout + demo.stderr  # not a terminal: stage lines, not progress-bar frames
    assert "\r" not in log and len(log.splitlines()) <= 40, log

    ask = installed.run("ask", "Was the request for Lyrica 75mg #60 upheld or overturned?", "--json")
    assert ask.returncode == 0, ask.stderr[-2000:]
    answer = json.loads(ask.stdout)
    assert answer["citations"] and "Lyrica" in json.dumps(answer)


def test_doctor_from_the_wheel_with_an_llm(installed: InstalledWheel) -> None:
    with scripted_llm_server() as llm:
        llm.enqueue(*[{"word": "OK"}] * 4)  # the configured mode, then the three others
        result = installed.run("doctor", IMR_LLM_BASE_URL=llm.base_url, IMR_LLM_MODEL=llm.model)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK    embedding model" in result.stdout and "OK    llm typed call: mode tools" in result.stdout
    assert result.stdout.rstrip().endswith("all checks passed")


def test_eval_extraction_on_the_bundled_fixtures(installed: InstalledWheel) -> None:
    result = installed.run("eval", "--suite", "extraction")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((installed.work / "eval-report" / "report.json").read_text())
    assert any(s["name"] == "synthetic" and s["letters"] >= 12 for s in report["fixture_sets"]), report["fixture_sets"]
    f1 = {k: v for k, v in report["metrics"].items() if k.endswith("/items/f1")}
    assert f1 and min(f1.values()) == 1.0, f1


def test_llm_prompt_renders_from_the_wheel(installed: InstalledWheel) -> None:
    """extract --backend llm --batch-file renders the extraction prompt (prompts/ in the wheel) offline."""
    out = installed.work / "batch.jsonl"
    result = installed.run("extract", "--backend", "llm", "--batch-file", str(out),
                           IMR_LLM_BASE_URL="http://127.0.0.1:9/v1", IMR_LLM_MODEL="m")
    assert result.returncode == 0, result.stderr[-2000:]
    first_line = (REPO_ROOT / "prompts" / "extract_decision.md").read_text().splitlines()[2]
    lines = out.read_text().splitlines()
    assert lines and first_line.strip() in json.loads(lines[0])["body"]["messages"][0]["content"]


def test_serve_answers_http(installed: InstalledWheel) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [str(installed.venv / "bin" / "imr-rag"), "serve", "--port", str(port)]
    with background_server(command, ready_url=url, log=installed.work / "serve.log", timeout=180,
                           name="imr-rag serve (wheel)", cwd=installed.work,
                           env=clean_env(IMR_DATA_DIR=str(installed.data), GRADIO_ANALYTICS_ENABLED="False")):
        with urllib.request.urlopen(url, timeout=10) as response:
            page = response.read().decode("utf-8", "replace")
        with urllib.request.urlopen(f"{url}config", timeout=10) as response:
            config = json.loads(response.read())
    assert "gradio" in page.lower()
    assert "Chat" in json.dumps(config)
