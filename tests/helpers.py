"""Shared test helpers: where the fixtures live, free ports, PDF writing, CLI runs, settings.

Everything here is plain functions; fixtures that use them are in conftest.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from imr_rag.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
EVALS = REPO_ROOT / "evals"
SYNTHETIC_LETTERS = EVALS / "fixtures" / "synthetic" / "letters"
SYNTHETIC_GOLD = EVALS / "fixtures" / "synthetic" / "gold"
SEED_GOLD = EVALS / "fixtures" / "seeds"
DEV_GOLD = EVALS / "fixtures" / "dwc-dev"
VENV_BIN = Path(sys.executable).parent
LETTER_SUFFIXES = {".txt", ".md", ".html", ".htm", ".pdf"}


def shared_dir() -> Path | None:
    """The shared fixtures folder (seeds, real corpus): $IMR_SHARED_DIR or ../shared next to the repo."""
    env = os.environ.get("IMR_SHARED_DIR")
    path = Path(env) if env else REPO_ROOT.parent / "shared"
    return path if path.is_dir() else None


def require_shared(*parts: str) -> Path:
    """A folder under the shared fixtures, or skip the test saying what is missing."""
    base = shared_dir()
    if base is None:
        pytest.skip("shared fixtures not found: set IMR_SHARED_DIR or put them at ../shared next to the repo")
    path = base.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared fixture {path} is absent")
    return path


def seed_files() -> list[Path]:
    base = shared_dir()
    return sorted((base / "seeds").glob("*.txt")) if base and (base / "seeds").is_dir() else []


def dev_pdfs() -> list[Path]:
    base = shared_dir()
    folder = base / "corpus" / "dwc-dev" if base else None
    return sorted(folder.glob("*.pdf")) if folder and folder.is_dir() else []


def synthetic_letters() -> list[Path]:
    """Synthetic letters that have a gold file (a letter still being written has none yet)."""
    if not SYNTHETIC_LETTERS.is_dir():
        return []
    return sorted(
        p for p in SYNTHETIC_LETTERS.iterdir()
        if p.suffix.lower() in LETTER_SUFFIXES and (SYNTHETIC_GOLD / f"{p.stem}.json").exists()
    )


def synthetic_letter(name: str) -> Path:
    """One committed synthetic letter by file name, or skip saying it is absent."""
    path = SYNTHETIC_LETTERS / name
    if not path.exists():
        pytest.skip(f"synthetic letter {name} is absent")
    return path


def gold_for(letter: Path) -> dict:
    """The gold JSON of a seed, a dev PDF or a synthetic letter."""
    for folder in (SYNTHETIC_GOLD, SEED_GOLD, DEV_GOLD):
        candidate = folder / f"{letter.stem}.json"
        if candidate.exists() and json.loads(candidate.read_text())["source_file"] == letter.name:
            return json.loads(candidate.read_text())
    raise FileNotFoundError(f"no gold JSON for {letter}")


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings isolated from the machine: no .env file, explicit data dir, embedded Chroma."""
    values: dict[str, object] = {"data_dir": data_dir, "chroma_url": None}
    values.update(overrides)
    return Settings(_env_file=None, **values)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _load_make_pdf():
    path = EVALS / "make_pdf.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("imr_evals_make_pdf", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_pdf(text: str, path: Path, password: str | None = None) -> Path:
    """A real PDF of `text` (evals/make_pdf.py; a minimal fpdf2 writer if that file is absent)."""
    module = _load_make_pdf()
    if module is not None:
        module.write_pdf(text, path, password=password)
        return path
    from fpdf import FPDF

    pdf = FPDF()
    if password is not None:
        pdf.set_encryption(owner_password=password or "owner", user_password=password)
    pdf.set_font("Helvetica", size=10)
    for page in text.split("\f"):
        pdf.add_page()
        for line in page.split("\n"):
            safe = line.encode("latin-1", "replace").decode("latin-1")
            pdf.multi_cell(0, 4.6, safe.rstrip() or " ", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def squash(text: str) -> str:
    """Text without any whitespace (to compare content independent of line layout)."""
    return re.sub(r"\s+", "", text)


def words(text: str) -> list[str]:
    return text.split()


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without IMR_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMR_")}
    env.update(extra)
    return env


def run_cli(args: list[str], *, data_dir: Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the installed `imr-rag` console script with an isolated data dir and working dir."""
    exe = VENV_BIN / "imr-rag"
    if not exe.exists():
        pytest.skip(f"imr-rag console script not found next to {sys.executable}")
    return subprocess.run(
        [str(exe), *args],
        cwd=cwd,
        env=clean_env(IMR_DATA_DIR=str(data_dir)),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def log_tail(log: Path, lines: int = 25) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextmanager
def background_server(
    command: list[str], *, ready_url: str, log: Path, timeout: float, name: str, **popen: object
) -> Iterator[subprocess.Popen]:
    """Run a server process (output to `log`) until `ready_url` answers HTTP 200; stop it after.

    Fails the test, with the log's tail, if the process exits or does not answer within `timeout`.
    """
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **popen)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                pytest.fail(f"{name} exited with code {process.returncode}:\n{log_tail(log)}", pytrace=False)
            try:
                with urllib.request.urlopen(ready_url, timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer {ready_url} within {timeout:g} s:\n{log_tail(log)}", pytrace=False)
            time.sleep(0.25)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def flagged_letter_text(case_number: str = "CM99-0000002") -> str:
    """The synthetic letter CM99-0000002 made to fail two self-checks, as a correct parser reads
    it: its injury date falls after its decision date (a letter-wide flag), and the heading of
    its second item names the service with sentence machinery ('... was requested')."""
    text = (SYNTHETIC_LETTERS / "dwc_cm99_0000002.txt").read_text(encoding="utf-8")
    text = text.replace("Date of Injury: 11/17/2018", "Date of Injury: 11/17/2023", 1)
    text = text.replace(
        "Spinal cord stimulator trial, percutaneous, lumbar: Overturned",
        "Spinal cord stimulator trial, percutaneous, lumbar was requested: Overturned", 1,
    )
    return text.replace("CM99-0000002", case_number)
