"""What every command shares: exit codes, progress bars, log and output settings, redaction of secrets."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from imr_rag.errors import redact


EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2


EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE, what a Unix tool ends with when its reader closes the pipe


MAX_LISTED_WAITING = 20  # batch-requested letters without an answer, listed by name


def say_waiting(stage: str, pid: int | None) -> None:
    who = f"pid {pid}" if pid else "another process"
    print(f"imr-rag: another writer ({who}) is active on the {stage} stage; waiting", file=sys.stderr, flush=True)


OUTPUT = {"quiet": False, "verbose": False}
"""Set once by main() from --quiet / --verbose."""


def progress_bars():
    """A progress callback: bars on a terminal, a line every few seconds otherwise, none with --quiet."""
    from imr_rag.faces.progress import progress_for

    return progress_for(sys.stderr, quiet=OUTPUT["quiet"], every=1.0 if OUTPUT["verbose"] else 5.0)


def configure_output(args: argparse.Namespace) -> None:
    OUTPUT.update(quiet=args.quiet, verbose=args.verbose)
    level = logging.ERROR if args.quiet else logging.INFO if args.verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)  # also for libraries that set their own logger to DEBUG (bm25s)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(hide_url_credentials)  # --verbose logs request URLs
    logging.basicConfig(level=level, handlers=[handler])
    if not args.verbose:
        # instructor logs every failed attempt at ERROR; our typed errors already report them once.
        logging.getLogger("instructor").addHandler(logging.NullHandler())
        logging.getLogger("instructor").propagate = False


def hide_url_credentials(record: logging.LogRecord) -> bool:
    """A log filter: credentials in the message (user:password in URLs, key=... values) become ***."""
    message = record.getMessage()
    hidden = redact(message)
    if hidden != message:
        record.msg, record.args = hidden, ()
    return True


def end_quietly_on_closed_pipe() -> int:
    """The reader of stdout went away (`imr-rag stats --json | head -1`): stop without a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush must not fail again
    return EXIT_CLOSED_PIPE


class _RedactingStream:
    """stdout/stderr with every write passed through `redact`: no message the CLI prints (a
    FAILED line, an error, a traceback) can show the API key or a URL's password."""

    def __init__(self, stream, secrets: list[str]):
        self._stream = stream
        self._secrets = secrets

    def write(self, text: str) -> int:
        self._stream.write(redact(text, self._secrets))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextmanager
def redacted_output(secrets: list[str]) -> Iterator[None]:
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _RedactingStream(sys.stdout, secrets), _RedactingStream(sys.stderr, secrets)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
