"""Output that suits where it goes: bars on a terminal, a few lines in a log, quiet on a closed pipe.

The CLI runs as `python -m imr_rag.faces.cli` from the checkout, so the code under test is this tree's.
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from helpers import REPO_ROOT, SYNTHETIC_LETTERS, clean_env

from imr_rag.faces.progress import LineProgress


def cli(*args: str, data: Path, **popen) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "imr_rag.faces.cli", *args], cwd=REPO_ROOT, text=True,
                          env=clean_env(IMR_DATA_DIR=str(data)), timeout=300, **popen)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_line_progress_prints_every_few_seconds_and_a_summary() -> None:
    out, clock = io.StringIO(), FakeClock()
    progress = LineProgress(out, every=5.0, clock=clock)
    for done in range(0, 1000):
        clock.now = 100.0 + done * 0.02  # 50 letters a second, 20 s in all
        progress("parse", done, 1000)
    clock.now = 120.0
    progress("parse", 1000, 1000)
    progress("parse", 1000, 1000)  # a repeated final call prints nothing more
    lines = out.getvalue().splitlines()
    assert len(lines) == 4, lines  # at 5, 10, 15 s and the summary
    assert lines[0] == "parse: 250/1000 (25%), 50.0 docs/s, ETA 0:15"
    assert lines[-1] == "parse: 1000/1000 done in 20.0 s, 50.0 docs/s"
    assert "\r" not in out.getvalue()


def test_line_progress_names_chunks_for_the_embed_stage_and_hours_in_the_eta() -> None:
    out, clock = io.StringIO(), FakeClock()
    progress = LineProgress(out, every=5.0, clock=clock)
    progress("embed", 0, 1_000_000)
    clock.now += 10
    progress("embed", 100, 1_000_000)
    assert out.getvalue() == "embed: 100/1000000 (0%), 10.0 chunks/s, ETA 27:46:30\n"


def test_log_file_gets_stage_lines_not_bar_frames(tmp_path: Path) -> None:
    result = cli("ingest", str(SYNTHETIC_LETTERS), "--no-embed", data=tmp_path / "d", capture_output=True)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    assert "parse: 13/13 done in" in result.stderr and "lexical: 1/1 done in" in result.stderr
    assert len(result.stderr.splitlines()) <= 3, result.stderr


def test_terminal_gets_bars(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
    try:
        result = cli("ingest", str(SYNTHETIC_LETTERS), "--no-embed", data=tmp_path / "d",
                     stdout=subprocess.PIPE, stderr=follower)
        os.close(follower)
        follower = -1
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert result.returncode == 0
    frames = seen.replace(b"\r\n", b"\n").count(b"\r")  # the terminal itself turns \n into \r\n
    assert frames >= 2 and b"parse: 100%" in seen and b"13/13" in seen, seen  # tqdm's redrawn bar


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_prints_no_progress(tmp_path: Path, where: str) -> None:
    args = ["ingest", str(SYNTHETIC_LETTERS), "--no-embed"]
    args = ["--quiet", *args] if where == "before" else [*args, "-q"]
    result = cli(*args, data=tmp_path / "d", capture_output=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("ingested 13")


def test_quiet_and_verbose_together_are_a_usage_error(tmp_path: Path) -> None:
    result = cli("stats", "--quiet", "--verbose", data=tmp_path / "d", capture_output=True)
    assert result.returncode == 2 and "not allowed with" in result.stderr


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    data = tmp_path / "d"
    assert cli("ingest", str(SYNTHETIC_LETTERS), "--no-embed", data=data, capture_output=True).returncode == 0
    # Far more JSON than a pipe buffer holds, so the writer is still writing when the reader leaves.
    process = subprocess.Popen([sys.executable, "-m", "imr_rag.faces.cli", "search", "physical therapy request", "-k",
                                "100", "--mode", "lexical", "--json"], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=clean_env(IMR_DATA_DIR=str(data)))
    assert process.stdout.readline().strip() == b"["
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141  # 128 + SIGPIPE, as a Unix tool whose reader left
    assert stderr == ""

    shell = subprocess.run(f"{sys.executable} -m imr_rag.faces.cli stats --json | head -1", shell=True, cwd=REPO_ROOT,
                           capture_output=True, text=True, env=clean_env(IMR_DATA_DIR=str(data)), timeout=120)
    assert shell.stdout == "{\n" and "Traceback" not in shell.stderr and "Error" not in shell.stderr


def test_verbose_logs_hide_url_credentials() -> None:
    import logging

    from imr_rag.faces.cli import hide_url_credentials

    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, 'HTTP Request: GET %s "200 OK"',
                               ("https://bob:s3cret@llm.example/v1/models?api_key=sk-abcdef123456&x=1",), None)
    assert hide_url_credentials(record)
    assert record.getMessage() == 'HTTP Request: GET https://***@llm.example/v1/models?api_key=***&x=1 "200 OK"'


# -- what a new user reads --------------------------------------------------------------------
def test_help_says_what_the_tool_does_and_ends_with_examples(tmp_path: Path) -> None:
    result = cli("--help", data=tmp_path / "d", capture_output=True)
    assert result.returncode == 0
    text = result.stdout
    assert "decision letters" in text.split("positional arguments")[0]
    assert "No logic of its own" not in text and "parse arguments" not in text
    tail = text.rstrip().split("\n\nexamples:\n", 1)
    assert len(tail) == 2, "--help should end with an examples section"
    assert tail[1].count("imr-rag ") >= 5


def test_every_command_help_ends_with_an_example() -> None:
    import contextlib

    from imr_rag.faces.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name in commands:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            parser.parse_args([name, "--help"])
        last = out.getvalue().rstrip().split("\n\n")[-1]
        assert last.startswith("example"), (name, last)
        assert f"imr-rag {name}" in last or (name == "embed" and "imr-rag embed" in last), (name, last)


def test_serve_on_a_busy_port_says_so_in_one_line_and_names_a_free_one(tmp_path: Path) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = cli("serve", "--port", str(port), data=tmp_path / "d", capture_output=True)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and f"port {port}" in lines[0] and "in use" in lines[0]
    suggested = int(lines[0].rsplit("--port ", 1)[1].split()[0])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", suggested))  # the port it names is free


def test_an_instant_stage_prints_its_count_without_a_rate() -> None:
    out, clock = io.StringIO(), FakeClock()
    progress = LineProgress(out, every=5.0, clock=clock)
    progress("parse", 0, 25)
    clock.now += 0.00002
    progress("parse", 25, 25)
    assert out.getvalue() == "parse: 25/25 done in 0.0 s\n"


def test_an_instant_ingest_prints_no_rate(tmp_path: Path) -> None:
    result = cli("ingest", str(SYNTHETIC_LETTERS), "--no-embed", data=tmp_path / "d", capture_output=True)
    assert result.returncode == 0, result.stderr
    for line in result.stderr.splitlines():
        if " done in 0." in line:
            assert "/s" not in line, line
