"""Reliability under bad luck: unreadable files, kills at every stage boundary, drift checks.

Kills are real (SIGKILL of a child process), delivered from the library's own progress callback at
the stage boundary under test, so each one lands exactly where the attack found a hole.
"""

from __future__ import annotations

import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from helpers import SYNTHETIC_LETTERS, clean_env, make_settings

from imr_rag.library import Library

NOBODY = 65534


def letters_folder(root: Path, n: int = 3) -> Path:
    folder = root / "letters"
    folder.mkdir(parents=True)
    for source in sorted(SYNTHETIC_LETTERS.glob("dwc_cm99_*.txt"))[:n]:
        (folder / source.name).write_bytes(source.read_bytes())
    return folder


def test_an_unreadable_file_is_reported_and_the_batch_goes_on() -> None:
    """A file the process may not read is one FAILED line; the letters around it are ingested.

    As root every file is readable, so the ingest then runs in a child whose file-system uid is
    `nobody` (setfsuid drops root's permission override for file access).
    """
    root = Path(tempfile.mkdtemp(prefix="imr-unreadable-"))
    try:
        root.chmod(0o755)
        folder = letters_folder(root)
        secret = folder / "dwc_cm99_0000002.txt"
        secret.chmod(0)
        data = root / "data"
        data.mkdir(mode=0o777)
        data.chmod(0o777)
        child = textwrap.dedent(f"""
            import ctypes, os, sys
            import bm25s, encodings.utf_8_sig, encodings.cp1252, imr_rag.faces.cli, imr_rag.library, imr_rag.formats  # loaded while still root (the interpreter may live in a folder nobody cannot enter)
            imr_rag.formats.registered_formats()
            if os.geteuid() == 0:
                libc = ctypes.CDLL(None, use_errno=True)
                libc.setfsgid({NOBODY}); libc.setfsuid({NOBODY})
                assert libc.setfsuid(-1) == {NOBODY}
            sys.exit(imr_rag.faces.cli.main(["ingest", "--no-embed", {str(folder)!r}]))
        """)
        result = subprocess.run(
            [sys.executable, "-c", child], cwd=root, env=clean_env(IMR_DATA_DIR=str(data)),
            capture_output=True, text=True, timeout=300,
        )
        output = result.stdout + result.stderr
        assert "Traceback" not in output, output
        assert result.returncode == 1, output
        assert f"FAILED {secret}: cannot read file: Permission denied" in output
        with Library(make_settings(data)) as lib:
            stats = lib.stats()
            assert stats["documents"] == 2
            assert stats["failures"] == [{"path": str(secret), "reason": "cannot read file: Permission denied"}]
    finally:
        for path in root.rglob("*"):
            if not path.is_symlink():
                path.chmod(stat.S_IRWXU)
        subprocess.run(["rm", "-rf", str(root)], check=False)


KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from imr_rag.library import Library
    from imr_rag.settings import Settings

    data, folder, stage, at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    def progress(name, done, total):
        if name == stage and done == at:
            os.kill(os.getpid(), signal.SIGKILL)  # kill -9 at this stage boundary

    with Library(Settings(_env_file=None, data_dir=Path(data), chroma_url=None)) as lib:
        lib.ingest([Path(folder)], progress=progress)
    sys.exit(3)  # the kill point was never reached
""")


def ingest_killed_at(data: Path, folder: Path, stage: str, at: int) -> None:
    result = subprocess.run(
        [sys.executable, "-c", KILLER, str(data), str(folder), stage, str(at)],
        env=clean_env(), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == -9, f"expected a kill at {stage} {at}, got {result.returncode}: {result.stderr[-2000:]}"


def assert_consistent(data: Path, folder: Path) -> None:
    """After a normal re-run: no drift, one document per file, every letter findable both ways."""
    from imr_rag.index.boilerplate import count_skipped
    from imr_rag.integrity import check_library

    files = sorted(folder.glob("*.txt"))
    with Library(make_settings(data)) as lib:
        report = check_library(lib)
        assert report.drifts == [], [d.line() for d in report.drifts]
        stats = lib.stats()
        assert stats["documents"] == stats["paths"] == len(files)
        # Every chunk is in the lexical index; every chunk the embed stage did not leave out as
        # boilerplate with nothing of its own (imr_rag.index.boilerplate) is in the dense store.
        skipped = count_skipped(lib.catalog.db)
        assert report.lexical_chunks == stats["chunks"] == stats["chunks_embedded"] + skipped
        assert report.dense_chunks == stats["chunks_embedded"]
        for path in files:
            doc_id = lib.catalog.doc_for_path(str(path))
            words = " ".join(path.read_text().split()[:60])
            for mode in ("lexical", "dense"):
                hits = lib.search(words, k=3, mode=mode, filters=None)
                assert hits and hits[0].doc_id == doc_id, (mode, path.name)


def rerun(data: Path, folder: Path) -> None:
    with Library(make_settings(data)) as lib:
        report = lib.ingest([folder])
        assert report.failed == []


ADDING_KILLS = [("parse", 1), ("parse", 3), ("parse", 5), ("lexical", 1), ("embed", 0)]


@pytest.mark.slow
@pytest.mark.parametrize("stage,at", ADDING_KILLS)
def test_a_kill_while_letters_are_added_is_finished_by_the_rerun(tmp_path: Path, stage: str, at: int) -> None:
    """A library of two letters gets three more; the run adding them is killed at `stage`."""
    folder = letters_folder(tmp_path, n=5)
    later = sorted(folder.glob("*.txt"))[2:]
    held = tmp_path / "held"
    held.mkdir()
    for path in later:
        path.rename(held / path.name)
    data = tmp_path / "data"
    rerun(data, folder)
    for path in later:
        (held / path.name).rename(path)
    ingest_killed_at(data, folder, stage, at)
    rerun(data, folder)
    assert_consistent(data, folder)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("stage", ["parse", "lexical", "embed"])
def test_a_kill_while_a_changed_file_is_reingested_leaves_no_old_version(tmp_path: Path, stage: str, seed: int) -> None:
    """The changed file's old version is gone after the kill (one transaction swaps them)."""
    import random

    folder = letters_folder(tmp_path, n=4)
    data = tmp_path / "data"
    rerun(data, folder)
    files = sorted(folder.glob("*.txt"))
    changed = random.Random(seed).randrange(len(files))
    path = files[changed]
    path.write_text(path.read_text().replace("CM99-", "CM98-"))
    at = {"parse": changed + 1, "lexical": 1, "embed": 0}[stage]
    ingest_killed_at(data, folder, stage, at)
    with Library(make_settings(data)) as lib:
        assert lib.catalog.orphan_documents() == []
        assert lib.stats()["documents"] == len(files)
        case = lib.catalog.document(lib.catalog.doc_for_path(str(path))).case_number
        assert case is not None and case.startswith("CM98-")
    rerun(data, folder)
    assert_consistent(data, folder)


def test_check_reports_and_repairs_every_kind_of_drift(tmp_path: Path) -> None:
    from imr_rag.integrity import check_library, repair_library

    folder = letters_folder(tmp_path, n=3)
    data = tmp_path / "data"
    rerun(data, folder)
    with Library(make_settings(data)) as lib:
        assert check_library(lib).drifts == []
        doc_id = lib.catalog.doc_for_path(str(sorted(folder.glob("*.txt"))[0]))
        # What older versions and crashes left behind: a document without a path, a stale
        # lexical index, a vector the catalog no longer knows, a vector missing.
        with lib.catalog.transaction() as db:
            db.execute("DELETE FROM sources WHERE doc_id = ?", (doc_id,))
        some_chunk = sorted(lib.catalog.chunk_ids())[-1]
        lib.dense.delete_ids([some_chunk])
        lib.dense.collection.upsert(ids=["ghost"], embeddings=[[0.1] * 384], metadatas=[{"doc_id": "gone"}])
        kinds = {d.kind for d in check_library(lib).drifts}
        assert kinds == {"orphan_documents", "dense_missing", "dense_extra"}
        report = check_library(lib)
        done = repair_library(lib, report)
        assert any("orphan" in line for line in done) and any("re-embedded 1" in line for line in done)
        assert check_library(lib).drifts == []
        assert lib.stats()["documents"] == 2


SLOW_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from imr_rag.library import Library
    from imr_rag.settings import Settings

    data, folder, embed = sys.argv[1], sys.argv[2], sys.argv[3] == "embed"

    def progress(stage, done, total):
        if stage == "parse":
            print(f"parsed {done}", flush=True)
            time.sleep(1.0)  # a slow disk: the other writer arrives while this one works (letters are
            # committed in batches, so all the waiting is here, after the batch)

    with Library(Settings(_env_file=None, data_dir=Path(data), chroma_url=None)) as lib:
        report = lib.ingest([Path(folder)], embed=embed, progress=progress)
    print("vectors", report.vectors_computed, "failed", len(report.failed), flush=True)
""")


def start_slow_writer(data: Path, folder: Path, embed: bool) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(data), str(folder), "embed" if embed else "no"],
        env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout.readline().startswith("parsed 1"), process.stderr.read()
    return process


@pytest.mark.slow
def test_two_ingests_of_one_folder_at_once_wait_for_each_other(tmp_path: Path) -> None:
    from helpers import run_cli

    folder = letters_folder(tmp_path, n=6)
    data = tmp_path / "data"
    first = start_slow_writer(data, folder, embed=False)
    second = run_cli(["ingest", "--no-embed", str(folder)], data_dir=data, cwd=tmp_path)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0 and "Traceback" not in err, err
    assert second.returncode == 0 and "Traceback" not in second.stderr, second.stderr
    assert "another writer (pid " in second.stderr and "waiting" in second.stderr
    assert "unchanged 6" in second.stdout  # the first one had ingested them all
    with Library(make_settings(data)) as lib:
        assert lib.stats()["documents"] == 6


@pytest.mark.slow
def test_two_ingests_of_different_folders_embed_each_text_once(tmp_path: Path) -> None:
    folder = letters_folder(tmp_path, n=6)
    other = tmp_path / "other"
    other.mkdir()
    for path in sorted(folder.glob("*.txt"))[3:]:
        path.rename(other / path.name)
    data = tmp_path / "data"
    first = start_slow_writer(data, folder, embed=True)
    second = subprocess.run(
        [sys.executable, "-c", SLOW_WRITER, str(data), str(other), "embed"],
        env=clean_env(), capture_output=True, text=True, timeout=300,
    )
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0 and second.returncode == 0, err + second.stderr
    computed = sum(int(text.split("vectors ")[1].split()[0]) for text in (out, second.stdout))
    with Library(make_settings(data)) as lib:
        stats = lib.stats()
        assert stats["documents"] == 6 and stats["chunks_embedded"] == stats["chunks"]
        assert computed == stats["unique_chunk_texts"], "a chunk text was embedded twice"
        assert lib.dense.count() == stats["chunks"]


def test_one_case_number_is_one_decision_and_older_letters_are_kept_as_versions(tmp_path: Path) -> None:
    """The same letter saved twice with different bytes (a re-issued copy) is not counted twice."""
    from imr_rag.catalog.export import table
    from imr_rag.extract.service import ExtractionService

    folder = letters_folder(tmp_path, n=2)
    original = sorted(folder.glob("*.txt"))[0]
    copy = folder / "resaved-copy.txt"
    copy.write_bytes(original.read_bytes() + b"\n\n")  # other bytes, same letter
    data = tmp_path / "data"
    with Library(make_settings(data)) as lib:
        lib.ingest([folder], embed=False)
        service = ExtractionService(lib.settings, lib.catalog, "rules")
        docs = [lib.catalog.load_document(d.doc_id) for d in lib.catalog.documents()]
        results = list(service.run(iter(docs), len(docs)))
        assert all(r.decision is not None for r in results)
        stats = lib.stats()
        assert stats["documents"] == 3 and stats["decisions"] == 2 and stats["decisions_superseded"] == 1
        rows = table(lib.catalog.decisions(), "decision")
        assert len(rows) == 2 and len({r["case_number"] for r in rows}) == 2
        assert len(lib.catalog.decisions(versions=True)) == 3
        # The newer version is current; removing it makes the older one current again.
        newer = lib.catalog.doc_for_path(str(copy))  # ingested last, same decision date
        assert newer in {doc_id for doc_id, _, _ in lib.catalog.decisions()}
        lib.catalog.delete_document(newer)
        assert lib.stats()["decisions"] == 2 and lib.stats()["decisions_superseded"] == 0


@pytest.mark.slow
def test_an_unreachable_llm_leaves_extract_and_ask_working_offline_with_a_note(tmp_path: Path) -> None:
    """With an LLM configured but down, hybrid extraction keeps the rules records and ask answers
    offline; both say the LLM was not reached (and stop calling it after a few letters)."""
    import socket
    import time

    from helpers import VENV_BIN

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    folder = letters_folder(tmp_path, n=6)
    env = clean_env(IMR_DATA_DIR=str(tmp_path / "data"), IMR_LLM_BASE_URL=f"http://127.0.0.1:{port}/v1",
                    IMR_LLM_MAX_RETRIES="0")
    exe = str(VENV_BIN / "imr-rag")
    started = time.monotonic()
    result = subprocess.run([exe, "extract", str(folder)], env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "6 decisions" in result.stdout and "0 failed" in result.stdout
    assert "6 letters have the rules parser's record only" in result.stderr and f"127.0.0.1:{port}" in result.stderr
    assert time.monotonic() - started < 120
    result = subprocess.run([exe, "ask", "Was the request for Lyrica 75mg #60 upheld or overturned?"], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "overturned" in result.stdout.lower() and "Note: the LLM could not be reached" in result.stdout
