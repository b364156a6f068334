"""PDF text extraction in a bounded child process.

pdfium expands a page completely before any limit of ours can look at it: a 2 KB page whose form
XObjects draw each other 20 times, 5 levels deep, takes 20+ GB. So the extraction runs in a
separate Python process started fresh (a new interpreter, never a fork of a process that already
holds onnxruntime, Chroma or a catalog connection) with an address-space limit (RLIMIT_AS) and a
wall-clock deadline. Going over either costs that one file, reported as "PDF text extraction
exceeded ..."; the process is replaced and the batch goes on.

Each process that reads letters (the ingest process, or each of its `--workers`) keeps one such
child for its lifetime and hands it one PDF at a time over a pipe: the interpreter and pdfium
start once, not once per letter.

The child runs `_serve`: it limits itself, then answers requests on stdin until stdin closes.
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass

from imr_rag.errors import UnreadableDocument

_HEADER = struct.Struct("<Q")


@dataclass(frozen=True)
class PdfBounds:
    """What one PDF's text extraction may take."""

    memory_mb: int = 1024
    seconds: float = 30.0


# -- the child: pdfium, under the limits ---------------------------------------------------------
def pdf_pages_text(data: bytes, max_chars: int, max_pages: int) -> list[str]:
    """Each page's text, counting characters before extracting them: a page count or a text size
    over the limits is refused before it is held. Raises ValueError with the reason."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise ValueError("PDF is encrypted with a password") from exc
        raise ValueError(f"corrupt or truncated PDF ({reason})") from exc
    try:
        if len(pdf) > max_pages:
            raise ValueError(f"PDF has {len(pdf):,} pages, more than the limit of {max_pages:,} (IMR_MAX_PAGES)")
        pages: list[str] = []
        total = 0
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            try:
                total += textpage.count_chars()
                if total > max_chars:
                    raise ValueError(f"text is over {total:,} characters, more than the limit of {max_chars:,} "
                                     f"(IMR_MAX_TEXT_CHARS) by page {index + 1}")
                pages.append(textpage.get_text_range())
            finally:
                textpage.close()
                page.close()
        return pages
    except pdfium.PdfiumError as exc:
        raise ValueError(f"cannot extract text from PDF ({exc})") from exc
    finally:
        pdf.close()


def _serve(memory_mb: int) -> None:
    """The child's loop: one request (pdf bytes, limits) in, one reply out, until stdin closes."""
    import resource

    limit = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        data, max_chars, max_pages = pickle.loads(stdin.read(_HEADER.unpack(header)[0]))
        try:
            reply = ("ok", pdf_pages_text(data, max_chars, max_pages))
        except ValueError as exc:
            reply = ("refused", str(exc))
        except MemoryError:
            reply = ("memory", "")
        del data
        body = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.write(_HEADER.pack(len(body)) + body)
        stdout.flush()


# -- the parent: one child per process, replaced when it breaks -----------------------------------
class PdfWorker:
    """A child process extracting PDF text under `bounds`, reused across letters."""

    def __init__(self, bounds: PdfBounds):
        self.bounds = bounds
        self._child: subprocess.Popen | None = None

    def pages(self, name: str, data: bytes, max_chars: int, max_pages: int) -> list[str]:
        """The text of each page of the PDF `data`, or UnreadableDocument naming `name`."""
        child = self._running()
        request = pickle.dumps((data, max_chars, max_pages), protocol=pickle.HIGHEST_PROTOCOL)
        deadline = time.monotonic() + self.bounds.seconds
        try:
            _write_all(child.stdin.fileno(), _HEADER.pack(len(request)) + request)
            header = self._read(child, _HEADER.size, deadline)
            status, payload = pickle.loads(self._read(child, _HEADER.unpack(header)[0], deadline))
        except TimeoutError:
            self.close()
            raise UnreadableDocument(name, f"PDF text extraction exceeded the time limit of "
                                     f"{self.bounds.seconds:g} s (IMR_PDF_TIMEOUT_S)") from None
        except (EOFError, BrokenPipeError):
            raise UnreadableDocument(name, self._death_reason()) from None
        if status == "memory":
            self.close()  # a process that ran out of memory may be left in any state
            raise UnreadableDocument(name, self._over_memory())
        if status == "refused":
            raise UnreadableDocument(name, payload)
        return payload

    def close(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        if child.poll() is None:
            child.kill()
        child.wait()
        for stream in (child.stdin, child.stdout):
            try:
                stream.close()
            except OSError:  # the pipe of a killed child
                pass

    def _running(self) -> subprocess.Popen:
        if self._child is None or self._child.poll() is not None:
            self.close()
            # -I: isolated from the user's environment and site (the child imports only pypdfium2);
            # the path of this package is handed over so it works from a checkout as from a wheel.
            package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            code = f"import sys; sys.path.insert(0, {package_root!r}); from imr_rag.ingest.pdf_worker import _serve; _serve({self.bounds.memory_mb})"
            self._child = subprocess.Popen(
                [sys.executable, "-I", "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, close_fds=True, bufsize=0,
            )
        return self._child

    def _read(self, child: subprocess.Popen, size: int, deadline: float) -> bytes:
        fd, chunks, left = child.stdout.fileno(), [], size
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _death_reason(self) -> str:
        child = self._child
        code = child.wait() if child is not None else None
        self.close()
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            return self._over_memory(f"; the extraction process ended with {name}")
        return f"PDF text extraction failed (the extraction process exited with code {code})"

    def _over_memory(self, detail: str = "") -> str:
        return (f"PDF text extraction exceeded the memory limit of {self.bounds.memory_mb:,} MB "
                f"(IMR_PDF_MEMORY_MB{detail})")


_worker: PdfWorker | None = None


def _forget_after_fork() -> None:
    # A forked ingest worker must not share its parent's child (the pipes would interleave): it
    # starts its own on first use. The inherited pipe ends are left alone, the parent owns them.
    global _worker
    _worker = None


os.register_at_fork(after_in_child=_forget_after_fork)


def shutdown() -> None:
    """End this process's PDF worker (at exit, and before a benchmark reads its peak memory)."""
    global _worker
    if _worker is not None:
        _worker.close()
        _worker = None


atexit.register(shutdown)


def worker_for(bounds: PdfBounds) -> PdfWorker:
    """This process's PDF worker for `bounds` (a new one when the bounds changed)."""
    global _worker
    if _worker is None or _worker.bounds != bounds:
        if _worker is not None:
            _worker.close()
        _worker = PdfWorker(bounds)
    return _worker



def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
