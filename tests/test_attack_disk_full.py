"""A data folder that runs out of room or turns read-only (issue 18, item 4).

The attack filled the disk under `ingest` (a raw `sqlite3.OperationalError` traceback, or "no such
savepoint: unit") and under `check --repair` (`OSError: [Errno 28]` from the writer lock). Each
must be one line naming the folder and the reason, exit 1, and leave the catalog and indexes so
that a later run with room finishes the work: nothing lost, nothing twice.

Three ways to run out of room: a small tmpfs (needs root and mount; skipped otherwise), a child
process with a file-size limit (RLIMIT_FSIZE, anywhere), and SQLite's max_page_count (in process).
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import SYNTHETIC_LETTERS, VENV_BIN, clean_env, make_settings

from imr_rag.errors import DataDirNotWritable
from imr_rag.integrity import check_library
from imr_rag.library import Library
from imr_rag.ingest.writelock import writer_lock

LETTERS = 200  # two commit batches of 100, several times what a 2 MB disk holds


def make_letters(folder: Path, count: int = LETTERS) -> Path:
    """`count` distinct letters (the synthetic ones, each with its own closing note)."""
    folder.mkdir()
    sources = sorted(SYNTHETIC_LETTERS.glob("*.txt"))
    for n in range(count):
        text = sources[n % len(sources)].read_text(encoding="utf-8")
        (folder / f"letter-{n:04d}.txt").write_text(f"{text}\nFiling note {n}: " + "copy " * (n % 40), encoding="utf-8")
    return folder


def imr_rag(data: Path, *args: str, preexec_fn=None) -> subprocess.CompletedProcess:
    exe = VENV_BIN / "imr-rag"
    if not exe.exists():
        pytest.skip(f"imr-rag console script not found in {VENV_BIN}")
    return subprocess.run([str(exe), "-q", *args], env=clean_env(IMR_DATA_DIR=str(data)), cwd=data.parent,
                          capture_output=True, text=True, timeout=600, preexec_fn=preexec_fn)


def assert_one_line(result: subprocess.CompletedProcess, command: str, data: Path, reason: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "savepoint" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [f"imr-rag {command}: cannot write to the data folder {data}: {reason}"], result.stderr


def assert_complete(data: Path, reference: Path) -> None:
    """`data` holds exactly what an ingest with room made in `reference`, and nothing drifts."""
    with Library(make_settings(data)) as lib, Library(make_settings(reference)) as ref:
        assert check_library(lib).drifts == []
        got, want = lib.catalog.stats(), ref.catalog.stats()
        assert (got["documents"], got["chunks"]) == (want["documents"], want["chunks"])
        assert sorted(d.path.rsplit("/", 1)[1] for d in lib.catalog.documents()) == sorted(
            d.path.rsplit("/", 1)[1] for d in ref.catalog.documents())


@pytest.fixture(scope="module")
def letters(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_letters(tmp_path_factory.mktemp("disk-full") / "letters")


@pytest.fixture(scope="module")
def reference(letters: Path) -> Path:
    """The same letters ingested with room to spare."""
    data = letters.parent / "reference"
    assert imr_rag(data, "ingest", "--no-embed", str(letters)).returncode == 0
    return data


# -- a small tmpfs --------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def remount(mnt: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(mnt)], check=True)


def half_ingested_with_drift(mnt: Path, letters: Path) -> Path:
    """A data folder on `mnt` holding the first half of `letters`, its lexical index deleted (so
    `check --repair` has work to do)."""
    data = mnt / "data"
    first_half = [str(p) for p in sorted(letters.iterdir())[: LETTERS // 2]]
    assert imr_rag(data, "ingest", "--no-embed", *first_half).returncode == 0
    shutil.rmtree(data / "lexical")
    return data


def fill(mnt: Path) -> Path:
    """Take every free byte of `mnt` with one file (shorten or delete it to give room back)."""
    filler = mnt / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


@pytest.mark.slow
def test_a_full_disk_stops_ingest_and_repair_in_one_line_and_a_later_run_finishes(
    small_disk: Path, letters: Path, reference: Path
) -> None:
    data = half_ingested_with_drift(small_disk, letters)
    filler = fill(small_disk)
    assert_one_line(imr_rag(data, "check", "--repair"), "check", data, "no space left on device")
    with pytest.raises(DataDirNotWritable, match="no space left on device"), writer_lock(data, "catalog"):
        pass  # the lock's pid is the first write `check --repair` makes

    # Room for the lexical catch-up, not for the new letters: the batch commit fails.
    os.truncate(filler, filler.stat().st_size - (1 << 20))
    assert_one_line(imr_rag(data, "ingest", "--no-embed", str(letters)), "ingest", data, "no space left on device")

    filler.unlink()  # room again: the next run finishes the work
    assert imr_rag(data, "ingest", "--no-embed", str(letters)).returncode == 0
    assert imr_rag(data, "check").returncode == 0
    assert_complete(data, reference)


@pytest.mark.slow
def test_a_read_only_data_folder_is_one_line_and_nothing_is_lost(
    small_disk: Path, letters: Path, reference: Path
) -> None:
    data = half_ingested_with_drift(small_disk, letters)
    remount(small_disk, "ro")
    assert_one_line(imr_rag(data, "ingest", "--no-embed", str(letters)), "ingest", data, "read-only file system")
    assert_one_line(imr_rag(data, "check", "--repair"), "check", data, "read-only file system")

    remount(small_disk, "rw")
    assert imr_rag(data, "ingest", "--no-embed", str(letters)).returncode == 0
    assert_complete(data, reference)


# -- a file-size limit (no mount needed) ------------------------------------------------------
def limit_file_size(limit: int):
    def apply() -> None:  # in the child, before exec: a write past the limit fails with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.slow
def test_a_file_size_limit_mid_ingest_is_one_line_and_a_later_run_finishes(
    tmp_path: Path, letters: Path, reference: Path
) -> None:
    data = tmp_path / "data"
    result = imr_rag(data, "ingest", "--no-embed", str(letters), preexec_fn=limit_file_size(1_500_000))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "savepoint" not in result.stderr, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"imr-rag ingest: cannot write to the data folder {data}: "), line

    assert imr_rag(data, "ingest", "--no-embed", str(letters)).returncode == 0
    assert_complete(data, reference)


# -- SQLite's page limit: the savepoint path in process ---------------------------------------
def test_a_full_catalog_rolls_back_the_batch_whole_and_names_the_cause(tmp_path: Path) -> None:
    letters = make_letters(tmp_path / "letters", 30)
    settings = make_settings(tmp_path / "data")
    with Library(settings) as lib:
        pages = lib.catalog.db.execute("PRAGMA page_count").fetchone()[0]
        lib.catalog.db.execute(f"PRAGMA max_page_count = {pages + 20}")  # room for a few letters only
        with pytest.raises(DataDirNotWritable) as caught:
            lib.ingest([letters], embed=False)
        assert str(caught.value) == f"cannot write to the data folder {settings.data_dir}: no space left on device"
        assert not lib.catalog.db.in_transaction  # no batch left open behind the error
        lib.catalog.db.execute("PRAGMA max_page_count = 1073741823")
        report = lib.ingest([letters], embed=False)
        assert len(report.ingested) + len(report.unchanged) == 30 and report.failed == []
        assert check_library(lib).drifts == []
        assert lib.catalog.stats()["documents"] == 30
