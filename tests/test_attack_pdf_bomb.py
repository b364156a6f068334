"""Attack: a PDF of a few KB whose drawing expands to gigabytes (reliability round 3, item 1).

A page draws a form XObject that draws the next one 20 times, 5 (or 6) levels deep: pdfium
expands the page before any of our limits can count its characters. The text extraction runs in
a bounded child process, so the ingest refuses the file in one line, the batch goes on, and no
process of the ingest grows past 1.5 GB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evals.make_pdf import nested_xobject_pdf
from helpers import REPO_ROOT, synthetic_letter

PEAK_GOAL_MB = 1536

# Ingest a folder in a fresh process and report the peak RSS of it and of every child it ran
# (the reading workers and their PDF extraction processes, reaped before measuring).
INGEST = """
import json, resource, sys
from pathlib import Path
from imr_rag.faces import cli
from imr_rag.ingest.pdf_worker import shutdown
code = cli.main(["ingest", "--no-embed", "--workers", sys.argv[2], sys.argv[1]])
shutdown()
# this process: VmHWM (ru_maxrss keeps the forking parent's peak across exec); its children: ru_maxrss
own = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) // 1024
peaks = [own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024]
print(json.dumps({"code": code, "peaks": peaks}))
"""


def ingest_in_child(folder: Path, data: Path, workers: int, **env: str) -> tuple[dict, list[str]]:
    run = subprocess.run(
        [sys.executable, "-c", INGEST, str(folder), str(workers)], capture_output=True, text=True, timeout=240,
        cwd=data.parent, env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "IMR_DATA_DIR": str(data), **env},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    return json.loads(lines[-1]), lines[:-1] + run.stderr.splitlines()


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_nested_xobject_pdfs_are_refused_in_bounded_memory_and_the_batch_goes_on(tmp_path: Path, workers: int) -> None:
    folder = tmp_path / "letters"
    folder.mkdir()
    for levels in (5, 6):
        (folder / f"bomb-{levels}.pdf").write_bytes(nested_xobject_pdf(levels, 20))
    good = folder / "good.txt"
    good.write_text(synthetic_letter("dwc_cm99_0000001.txt").read_text(encoding="utf-8"), encoding="utf-8")

    report, out = ingest_in_child(folder, tmp_path / "data", workers)

    assert report["code"] == 1
    failed = [line for line in out if line.startswith("FAILED")]
    assert len(failed) == 2 and all("PDF text extraction exceeded the memory limit of 1,024 MB" in f for f in failed), out
    assert any("ingested 1" in line for line in out), out
    assert max(report["peaks"]) < PEAK_GOAL_MB, f"peak RSS {report['peaks']} MB"


@pytest.mark.slow
def test_a_pdf_over_the_time_limit_is_refused_and_the_next_one_is_read(tmp_path: Path) -> None:
    """A page that takes longer than IMR_PDF_TIMEOUT_S to expand (here with the memory limit
    raised so that time is what stops it); the worker is replaced and the next PDF reads."""
    from evals.make_pdf import write_pdf

    folder = tmp_path / "letters"
    folder.mkdir()
    (folder / "a-slow.pdf").write_bytes(nested_xobject_pdf(4, 20))
    write_pdf(synthetic_letter("dwc_cm99_0000001.txt").read_text(encoding="utf-8"), folder / "b-good.pdf")

    report, out = ingest_in_child(folder, tmp_path / "data", 1, IMR_PDF_TIMEOUT_S="0.3", IMR_PDF_MEMORY_MB="8192")

    failed = [line for line in out if line.startswith("FAILED")]
    assert len(failed) == 1 and "a-slow.pdf" in failed[0] and "exceeded the time limit of 0.3 s" in failed[0], out
    assert any("ingested 1" in line for line in out), out


def test_the_extraction_process_is_a_fresh_interpreter_not_a_fork(tmp_path: Path) -> None:
    """Spawned, not forked from a process holding onnxruntime or Chroma: its command line is a new
    Python, and it holds none of this process's modules."""
    from evals.make_pdf import write_pdf
    from imr_rag.ingest.pdf_worker import PdfBounds, PdfWorker

    pdf = tmp_path / "letter.pdf"
    write_pdf("Case Number: CM99-0000001\nSome text.", pdf)
    worker = PdfWorker(PdfBounds())
    try:
        pages = worker.pages(str(pdf), pdf.read_bytes(), 10_000, 10)
        assert "CM99-0000001" in pages[0]
        pid = worker._child.pid
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[0].decode() == sys.executable and b"-I" in cmdline
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert "onnxruntime" not in maps and "chromadb" not in maps
        limits = Path(f"/proc/{pid}/limits").read_text()
        assert str(1024 * 2**20) in next(line for line in limits.splitlines() if "address space" in line)
    finally:
        worker.close()
