"""Progress that suits where it goes: bars on a terminal, a few plain lines in a log file or CI.

A progress callback is `progress(stage, done, total)` (see `imr_rag.library.Progress`). On a
terminal each stage gets a tqdm bar; anywhere else a bar's carriage-return frames would become
thousands of log lines, so each stage prints one line every few seconds (done/total, rate, ETA)
and one summary line when it completes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

ProgressCallback = Callable[[str, int, int], None]
UNITS = {"embed": "chunks"}  # every other stage counts letters
MIN_RATE_SECONDS = 1.0
"""A stage that ends sooner is reported as a count and a time, without a rate."""


def unit_of(stage: str) -> str:
    return UNITS.get(stage, "docs")


def no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class _Stage:
    started: float
    last_line: float
    finished: bool = False


class LineProgress:
    """One line per stage at most every `every` seconds, and a summary line when it completes."""

    def __init__(self, stream: TextIO, every: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.every = every
        self.clock = clock
        self._stages: dict[str, _Stage] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        state = self._stages.get(stage)
        if state is None or (state.finished and done < total):  # a stage that starts (again)
            state = self._stages[stage] = _Stage(started=now, last_line=now)
        if state.finished:
            return
        if done >= total:
            state.finished = True
            self._write(self.summary(stage, total, now - state.started))
        elif now - state.last_line >= self.every:
            state.last_line = now
            self._write(self.status(stage, done, total, now - state.started))

    @staticmethod
    def status(stage: str, done: int, total: int, elapsed: float) -> str:
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = f"ETA {_clock(max(total - done, 0) / rate)}" if rate > 0 else "ETA unknown"
        share = f" ({done / total:.0%})" if total else ""
        return f"{stage}: {done}/{total}{share}, {rate:.1f} {unit_of(stage)}/s, {eta}"

    @staticmethod
    def summary(stage: str, total: int, elapsed: float) -> str:
        # A rate over a stage that took less than a second measures the clock, not the work
        # ("25/25 done in 0.0 s, 998562.1 docs/s"): give the count and the time only.
        rate = f", {total / elapsed:.1f} {unit_of(stage)}/s" if elapsed >= MIN_RATE_SECONDS and total > 1 else ""
        return f"{stage}: {total}/{total} done in {elapsed:.1f} s{rate}"

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()


@contextmanager
def tqdm_bars(stream: TextIO) -> Iterator[ProgressCallback]:
    """One tqdm bar per stage (for a terminal)."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit=unit_of(stage).rstrip("s"), file=stream,
                                     leave=True, dynamic_ncols=True)
        bar.total = total
        bar.n = done
        if done >= total and bar.format_dict["elapsed"] < MIN_RATE_SECONDS:
            bar.bar_format = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}]"  # no rate for an instant stage
        bar.refresh()
        if done >= total:
            bar.close()

    try:
        yield update
    finally:
        for bar in bars.values():
            bar.close()


@contextmanager
def progress_for(stream: TextIO, *, quiet: bool = False, every: float = 5.0) -> Iterator[ProgressCallback]:
    """Bars when `stream` is a terminal, plain lines otherwise, nothing when quiet."""
    if quiet:
        yield no_progress
    elif stream.isatty():
        with tqdm_bars(stream) as update:
            yield update
    else:
        yield LineProgress(stream, every=every)


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
