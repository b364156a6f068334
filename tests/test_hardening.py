"""The 'other defects' of the attack run (issue 13), each reproduced as the attack did it.

Secrets in messages, negation-flipped LLM quotes, CLI and reader hygiene (unwritable data folder,
hostile file names, unreadable folders, dangling links, odd arguments), the chunk limit, and a
refused upload that must not stay on disk.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from helpers import REPO_ROOT, SYNTHETIC_LETTERS, clean_env, make_settings
from llm_server import HTTPError, scripted_llm_server
from test_llm_extract import LETTER, MRI_ITEM, answer, item

from imr_rag.faces import cli
from imr_rag.faces.app_service import AppService, answer_markdown, escape_markdown
from imr_rag.errors import redact
from imr_rag.library import Library
from imr_rag.schema import Answer
from imr_rag.textutil import printable

NOBODY = 65534


@pytest.fixture
def no_imr_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env file is read
    for key in [k for k in os.environ if k.startswith("IMR_")]:
        monkeypatch.delenv(key)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def as_nobody(code: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run `code` in a child whose file-system uid is `nobody` (as root, permissions would not
    apply). imr_rag is imported while still root: the interpreter's folder may be closed to nobody."""
    child = textwrap.dedent("""
        import ctypes, os, sys
        import bm25s, encodings.utf_8_sig, encodings.cp1252, imr_rag.faces.cli, imr_rag.library, imr_rag.formats
        imr_rag.formats.registered_formats()
        if os.geteuid() == 0:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.setfsgid({nobody}); libc.setfsuid({nobody})
            assert libc.setfsuid(-1) == {nobody}
    """).format(nobody=NOBODY) + textwrap.dedent(code)
    env = {**env, "PYTHONPATH": str(REPO_ROOT)}  # this checkout's imr_rag, not the installed one
    return subprocess.run([sys.executable, "-c", child], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def open_root() -> Path:
    """A temporary folder every user may enter (the test's tmp_path is closed to nobody)."""
    root = Path(tempfile.mkdtemp(prefix="imr-hardening-"))
    root.chmod(0o755)
    yield root
    for path in root.rglob("*"):
        if not path.is_symlink():
            path.chmod(stat.S_IRWXU)
    shutil.rmtree(root, ignore_errors=True)


# -- 3. an LLM quote with its negation flipped -----------------------------------------------
NEGATION_DROPPED = answer(
    item(),
    MRI_ITEM | {
        "determination": "overturned",
        "medically_necessary": True,
        # the letter: "... the request for a repeat MRI of the lumbar spine without contrast is not
        # medically necessary." -- 4 characters off, within the fuzzy threshold, meaning reversed
        "determination_quote": "the request for a repeat MRI of the lumbar spine without contrast is medically necessary",
    },
)


def test_llm_backend_never_stores_an_item_from_a_negation_flipped_quote(
    tmp_path: Path, capsys, monkeypatch, no_imr_env
) -> None:
    letter = tmp_path / "CM99-0000042.txt"
    letter.write_text(LETTER, encoding="utf-8")
    data = tmp_path / "data"
    with scripted_llm_server() as server:
        server.enqueue(NEGATION_DROPPED, NEGATION_DROPPED)  # the first answer, and the re-ask's
        monkeypatch.setenv("IMR_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("IMR_LLM_MAX_RETRIES", "1")
        code, out, err = run(capsys, "--data-dir", str(data), "extract", str(letter), "--backend", "llm")
        # the re-ask told the model which quote is not in the letter
        assert len(server.requests) == 2
        assert "quote not found in the letter" in str(server.requests[1]["messages"])
    assert code == 1
    assert f"FAILED {letter}: " in err and "quote not found in the letter" in err
    with Library(make_settings(data)) as lib:
        assert lib.catalog.decisions() == []
        (reason,) = [r[0] for r in lib.catalog.db.execute("SELECT reason FROM extraction_failures")]
        assert "medically necessary" in reason


# -- 4. secrets in messages -------------------------------------------------------------------
SECRET = "s3cr3t-Passw0rd"
API_KEY = "key-8c1f0e5d2b7a4d19"


def test_credentials_never_reach_cli_output_the_catalog_or_web_users(
    tmp_path: Path, capsys, monkeypatch, no_imr_env
) -> None:
    letter = tmp_path / "CM99-0000042.txt"
    letter.write_text(LETTER, encoding="utf-8")
    data = tmp_path / "data"
    with scripted_llm_server() as server:
        url = server.base_url.replace("http://", f"http://admin:{SECRET}@")
        # The endpoint fails, and its error message echoes the key (as some proxies do).
        server.enqueue(*[HTTPError(500, f"upstream refused key {API_KEY} for {url}")] * 2)
        monkeypatch.setenv("IMR_LLM_BASE_URL", url)
        monkeypatch.setenv("IMR_LLM_API_KEY", API_KEY)
        monkeypatch.setenv("IMR_LLM_HTTP_RETRIES", "1")
        code, out, err = run(capsys, "--data-dir", str(data), "extract", str(letter), "--backend", "llm")
        assert code == 1 and "FAILED" in err and "unavailable" in err
        assert "admin:***@" not in err and "***@127.0.0.1" in err
        stored = sqlite3.connect(data / "catalog.sqlite").execute("SELECT reason FROM extraction_failures").fetchall()
        assert stored and "***@127.0.0.1" in stored[0][0]

        settings = make_settings(tmp_path / "app-data", llm_base_url=url, llm_api_key=API_KEY, llm_http_retries=0)
        server.enqueue(*[HTTPError(500, f"upstream refused key {API_KEY} for {url}")] * 4)
        with AppService(settings, seed=False) as svc:
            svc.add_paths([letter], backend="rules")
            markdown, _ = svc.ask("Was the MRI of the lumbar spine upheld?")
            summary = svc.upload([letter], upload_root=tmp_path)
            shown = markdown + repr(summary.failures) + repr(svc.stats())
    for where, text in {"CLI": out + err, "catalog": repr(stored), "app": shown}.items():
        assert SECRET not in text, where
        assert API_KEY not in text, where


def test_redact_removes_url_credentials_keys_and_given_secrets() -> None:
    text = ("GET http://user:pw@host:8080/v1?api_key=abc123&x=1 failed; Authorization: Bearer tok_0123456789; "
            "key sk-proj-ABCDEFGHIJKLMNOP; also hunter22")
    cleaned = redact(text, ["hunter22", None, ""])
    for secret in ("user:pw", "abc123", "tok_0123456789", "sk-proj-ABCDEFGHIJKLMNOP", "hunter22"):
        assert secret not in cleaned
    assert "http://***@host:8080/v1?api_key=***&x=1" in cleaned


# -- 2. letter text in the rendered answer (the browser test is in test_app_browser.py) --------
def test_answer_markdown_shows_letter_markup_as_text() -> None:
    hostile = ('The request is upheld [1]. <img src="http://127.0.0.1:9/b.png"> ![x](http://127.0.0.1:9/c.png) '
               "[re-authenticate](http://127.0.0.1:9/login) <http://127.0.0.1:9/auto> www.example.com\n"
               "[1]: http://127.0.0.1:9/ref")
    from markdown_it import MarkdownIt

    rendered = answer_markdown(Answer(question="q", text=hostile, kind="lookup", mode="offline"))
    html = MarkdownIt("commonmark").render(rendered)
    assert "<img" not in html and "<a " not in html
    # what the reader sees is the letter's text, character for character
    assert "&lt;img src=&quot;http://127.0.0.1:9/b.png&quot;&gt;" in html
    assert "[re-authenticate](http://127.0.0.1:9/login)" in html and "[1]: http://127.0.0.1:9/ref" in html
    assert escape_markdown("a_b*c") == "a\\_b\\*c"


# -- 5. CLI and reader hygiene ------------------------------------------------------------------
def test_unwritable_data_folder_is_one_clear_line(open_root: Path) -> None:
    data = open_root / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)  # owned by root: nobody may not write in it
    letters = open_root / "letters"
    letters.mkdir()
    shutil.copy(SYNTHETIC_LETTERS / "dwc_cm99_0000001.txt", letters)
    letters.chmod(0o755)
    result = as_nobody(f"sys.exit(imr_rag.faces.cli.main(['--data-dir', {str(data)!r}, 'ingest', {str(letters)!r}]))",
                       open_root, clean_env())
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert f"imr-rag ingest: cannot use the data folder {data}: Permission denied" in result.stderr


def test_data_folder_under_a_file_is_one_clear_line(tmp_path: Path, capsys, no_imr_env) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = run(capsys, "--data-dir", str(blocker / "data"), "stats")
    assert code == 1 and err.startswith(f"imr-rag stats: cannot use the data folder {blocker / 'data'}: ")
    assert "Traceback" not in err


def test_hostile_file_names_are_printed_escaped(tmp_path: Path, capsys, no_imr_env) -> None:
    folder = tmp_path / "letters"
    folder.mkdir()
    fake_line = "x\ningested 999, replaced 0, unchanged 0, failed 0\n\x1b[2K\x1b[32m.pdf"
    (folder / fake_line).write_bytes(b"no PDF header here")
    code, out, err = run(capsys, "--data-dir", str(tmp_path / "data"), "ingest", str(folder), "--no-embed")
    assert code == 1
    assert "\x1b" not in out + err
    assert [line for line in (out + err).splitlines() if line.startswith("ingested")] == [
        "ingested 0, replaced 0, unchanged 0, failed 1; 0 chunks added, 0 embedded (0 distinct texts computed)"
    ]
    assert "x\\ningested 999, replaced 0, unchanged 0, failed 0\\n\\x1b[2K\\x1b[32m.pdf: not a PDF" in err
    code, out, _ = run(capsys, "--data-dir", str(tmp_path / "data"), "stats")
    assert "\x1b" not in out and "ingested 999" not in out.replace("\\ningested 999", "")


def test_printable_escapes_controls_and_keeps_text() -> None:
    assert printable("plain café #60") == "plain café #60"
    assert printable("a\r\nb\x1b[31m\u202e") == "a\\r\\nb\\x1b[31m\\u202e"


def test_unreadable_subfolder_and_dangling_link_are_reported(open_root: Path) -> None:
    letters = open_root / "letters"
    (letters / "closed").mkdir(parents=True)
    shutil.copy(SYNTHETIC_LETTERS / "dwc_cm99_0000001.txt", letters)
    shutil.copy(SYNTHETIC_LETTERS / "dwc_cm99_0000002.txt", letters / "closed")
    (letters / "gone.txt").symlink_to(open_root / "moved-away.txt")
    letters.chmod(0o755)
    (letters / "closed").chmod(0o700)  # root's: nobody cannot list it
    data = open_root / "data"
    data.mkdir()
    data.chmod(0o777)
    result = as_nobody(f"sys.exit(imr_rag.faces.cli.main(['--data-dir', {str(data)!r}, 'ingest', '--no-embed', "
                       f"{str(letters)!r}]))", open_root, clean_env())
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert f"FAILED {letters / 'closed'}: cannot read folder: Permission denied" in result.stderr
    assert (f"FAILED {letters / 'gone.txt'}: dangling symbolic link (its target {open_root / 'moved-away.txt'} "
            "is missing)") in result.stderr
    assert "ingested 1, replaced 0, unchanged 0, failed 2" in result.stdout


@pytest.mark.parametrize("args", [
    ["ask", "any question", "--date-from", "2017-13-45"],
    ["ask", "any question", "--date-to", "2017-02-30"],
    ["ask", "any question", "--date-from", "yesterday"],
    ["search", ""],
    ["search", "   "],
    ["ask", " \t"],
    ["show", ""],
])
def test_bad_arguments_are_usage_errors(args: list[str], tmp_path: Path, capsys, no_imr_env) -> None:
    code, out, err = run(capsys, "--data-dir", str(tmp_path / "data"), *args)
    assert code == 2
    assert out == "" and "usage:" in err


@pytest.fixture
def two_letters(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    with Library(make_settings(data)) as lib:
        lib.ingest([SYNTHETIC_LETTERS / "dwc_cm99_0000001.txt", SYNTHETIC_LETTERS / "tx_iro_upheld.txt"], embed=False)
    return data


@pytest.mark.parametrize("ref", ["%", "_", "%.txt", "dwc_cm99_000000_.txt", "\\"])
def test_show_takes_like_wildcards_literally(ref: str, two_letters: Path, tmp_path: Path, capsys, no_imr_env) -> None:
    code, out, err = run(capsys, "--data-dir", str(two_letters), "show", ref, "--output", str(tmp_path / "x.html"))
    assert code == 2 and "no ingested document matches" in err
    assert not (tmp_path / "x.html").exists()
    code, out, _ = run(capsys, "--data-dir", str(two_letters), "show", "dwc_cm99_0000001.txt",
                       "--output", str(tmp_path / "y.html"))
    assert code == 0 and (tmp_path / "y.html").exists()


def test_a_letter_over_the_chunk_limit_is_refused_and_the_batch_goes_on(tmp_path: Path) -> None:
    big, small = SYNTHETIC_LETTERS / "dwc_cm99_0000001.txt", tmp_path / "short.txt"
    small.write_text("Case Number: CM99-0000777\nA short note about a request.\n", encoding="utf-8")
    with Library(make_settings(tmp_path / "data", max_chunks_per_document=3)) as lib:
        report = lib.ingest([big, small], embed=False)
        assert report.ingested == [str(small)]
        ((path, reason),) = report.failed
        assert path == str(big)
        assert "more than the limit of 3 per document (IMR_MAX_CHUNKS_PER_DOCUMENT)" in reason
        assert lib.stats()["documents"] == 1


def test_a_refused_60_mb_upload_does_not_stay_in_uploads(tmp_path: Path) -> None:
    gradio_tmp = tmp_path / "gradio"
    gradio_tmp.mkdir()
    huge = gradio_tmp / "huge.txt"
    with huge.open("wb") as f:  # sparse: 60 MB on paper, nothing written
        f.truncate(60 * 2**20)
    good = gradio_tmp / "good.txt"
    shutil.copy(SYNTHETIC_LETTERS / "dwc_cm99_0000001.txt", good)
    settings = make_settings(tmp_path / "data")
    with AppService(settings, seed=False) as svc:
        summary = svc.upload([huge, good], upload_root=gradio_tmp)
    assert summary.ingested == ["good.txt"]
    assert [(name, stage) for name, stage, _ in summary.failures] == [("huge.txt", "ingest")]
    assert "60.0 MB" in summary.failures[0][2]
    kept = [p.name for p in (settings.data_dir / "uploads").rglob("*") if p.is_file()]
    assert kept == ["good.txt"]
