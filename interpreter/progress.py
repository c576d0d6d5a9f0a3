"""The progress display of a caseload on a terminal: cases done, total when known, rate and time left."""
from __future__ import annotations

import os
import threading
import time

import click

__all__ = ["BatchProgress", "count_cases"]


def count_cases(path: str, kind: str) -> int | None:
    """The number of cases in a caseload when it can be known without reading it as cases: lines of a
    JSON Lines file, files of a directory; None for CSV (a cell may span lines) and standard input."""
    from .batch import FACTS_SUFFIXES
    try:
        if kind == "dir":
            return sum(1 for e in os.scandir(path) if e.is_file() and os.path.splitext(e.name)[1] in FACTS_SUFFIXES)
        if kind == "jsonl" and path != "-" and os.path.isfile(path):
            lines, last = 0, b"\n"
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    lines += chunk.count(b"\n")
                    last = chunk[-1:]
            return lines + (last != b"\n")
    except OSError:
        return None
    return None


class BatchProgress:
    """A click progress bar on standard error, redrawn at least twice a second by a timer thread (so that
    the rate and time left move even while a slow block of cases is evaluated), and by every update."""

    def __init__(self, total: int | None, stream, interval: float = 0.5):
        self.total, self.done, self.started, self.drawn = total, 0, time.monotonic(), 0.0
        self.lock = threading.Lock()
        self.bar = click.progressbar(iterable=iter(()), length=total, file=stream, show_eta=False,
                                     show_percent=total is not None, item_show_func=self._info, width=20)
        self.stop = threading.Event()
        self.timer = threading.Thread(target=self._tick, args=(interval,), daemon=True)

    def _info(self, _item) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        shown = f"{self.done:,}/{self.total:,} cases" if self.total is not None else f"{self.done:,} cases"
        shown += f"  {rate:,.0f} cases/s"
        if self.total is not None and rate > 0 and self.done < self.total:
            left = int((self.total - self.done) / rate)
            shown += f"  {left // 3600:02}:{left // 60 % 60:02}:{left % 60:02} left"
        return shown

    def _tick(self, interval: float):
        while not self.stop.wait(interval):
            with self.lock:
                self.bar.render_progress()

    def __enter__(self) -> "BatchProgress":
        self.bar.__enter__()
        self.timer.start()
        return self

    def __call__(self, done: int):
        """Called by the batch with the number of cases done so far; draws at most ten times a second."""
        with self.lock:
            step, self.done = done - self.done, done
            if step > 0:
                self.bar.make_step(step)
            now = time.monotonic()
            if now - self.drawn >= 0.1:
                self.drawn = now
                self.bar.render_progress()

    def __exit__(self, *exc):
        self.stop.set()
        self.timer.join()
        with self.lock:
            self.bar.render_progress()
            self.bar.render_finish()
        return False
