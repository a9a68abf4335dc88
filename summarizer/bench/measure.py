"""Measuring one benchmark row: its time and the process's peak resident memory."""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable


class RssSampler:
    """Peak resident memory while a row runs (sampled every 5 ms from /proc)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _current(self) -> int:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * self._page

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._current())
            self._stop.wait(0.005)

    def __enter__(self) -> RssSampler:
        self.peak = self._current()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(row: Any, generate: Callable[[list[Any]], Any], batch: list[Any]) -> Any:
    """``generate(batch)`` after a warm-up on its first inputs, with the row's time and peak memory."""
    generate(batch[:4])
    with RssSampler() as rss:
        started = time.perf_counter()
        results = generate(batch)
        row.seconds = time.perf_counter() - started
    row.peak_rss_mb = rss.peak / 2**20
    row.segments = len(batch)
    return results
