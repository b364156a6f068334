"""One writer at a time per data folder and stage: an advisory lock file holding the writer's pid.

Two ingests of the same folder would both find a letter new and insert it; two of different
folders would embed the same pending chunks. With the lock the second one says which process it
waits for, waits, and then finds the work done. Readers (search, ask, the app) never take it.
The kernel drops the lock when its process dies, so a kill -9 never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from imr_rag.errors import refused_writes

OnWait = Callable[[str, int | None], None]
"""on_wait(stage, pid of the active writer or None): called once before blocking."""


def _no_wait_notice(stage: str, pid: int | None) -> None:
    return None


@contextmanager
def writer_lock(data_dir: Path, stage: str, on_wait: OnWait = _no_wait_notice) -> Iterator[None]:
    """Hold the `stage` writer lock of `data_dir` (waiting for another holder to finish). A data
    folder that cannot take the lock file or its pid (disk full, read-only) raises DataDirNotWritable."""
    path = data_dir / f".writer-{stage}.lock"
    # Unbuffered: a pid write the disk refuses fails here, not again in a later flush or close.
    with refused_writes(data_dir):
        handle = path.open("a+b", buffering=0)
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            on_wait(stage, int(holder) if holder.isdigit() else None)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            with refused_writes(data_dir):
                handle.truncate(0)
                handle.write(str(os.getpid()).encode())
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
