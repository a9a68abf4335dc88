"""Stopping a run cleanly: on SIGTERM/SIGINT, or when its time budget is used up.

A StopSignal is requested once (the first reason wins) and checked between
batches and at every decoding step, so the run stops within one step, writes
what is finished and leaves the rest for the next run.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Callable


class StopSignal:
    """A one-way flag with a reason and the exit code it should end the run with."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self.reason: str | None = None
        self.exit_code: int | None = None
        self._callbacks: list[Callable[[StopSignal], None]] = []

    @property
    def requested(self) -> bool:
        """True once a stop has been requested."""
        return self._event.is_set()

    def request(self, reason: str, exit_code: int) -> None:
        """Ask the run to stop; later requests keep the first reason."""
        with self._lock:
            if self._event.is_set():
                return
            self.reason, self.exit_code = reason, exit_code
            self._event.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback(self)

    def on_request(self, callback: Callable[[StopSignal], None]) -> None:
        """Call ``callback(self)`` when a stop is requested (at once if it already was)."""
        with self._lock:
            self._callbacks.append(callback)
            already = self._event.is_set()
        if already:
            callback(self)


class TimeBudget:
    """Requests a stop (exit code 75) after ``minutes``; a context manager."""

    EXIT_CODE = 75

    def __init__(self, minutes: float | None, stop: StopSignal) -> None:
        self._timer: threading.Timer | None = None
        if minutes:
            message = f"time budget of {minutes:g} minutes (runtime.time_budget_minutes) used up"
            self._timer = threading.Timer(minutes * 60, stop.request, (message, self.EXIT_CODE))
            self._timer.daemon = True

    def __enter__(self) -> TimeBudget:
        if self._timer is not None:
            self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._timer is not None:
            self._timer.cancel()


#: A second signal this soon after the first is the same request, delivered twice.
DUPLICATE_SIGNAL_SECONDS = 3.0


class ForcedStop(KeyboardInterrupt):
    """A second signal: stop at once (exit 128 + signal number)."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(exit_code)
        self.exit_code = exit_code


class SignalHandlers:
    """While active, SIGTERM, SIGINT and SIGHUP request a clean stop (exit 143 / 130 / 129).

    A second signal (more than a few seconds after the first: process managers
    often deliver the same stop twice) stops at once (ForcedStop). If the run has not ended
    ``grace_seconds`` after the stop was requested (a generation stuck outside
    Python, say), ``hard_exit`` ends the process: every file is written
    atomically, so nothing half-written can remain.
    """

    def __init__(
        self,
        stop: StopSignal,
        grace_seconds: float = 120.0,
        hard_exit: Callable[[int], None] | None = None,
    ) -> None:
        self.stop = stop
        self.grace_seconds = grace_seconds
        self.hard_exit = hard_exit or _hard_exit
        self._previous: dict[int, object] = {}
        self._watchdog: threading.Timer | None = None
        self._active = False
        self._first_signal = 0.0
        stop.on_request(self._start_watchdog)

    def _handle(self, signum: int, frame: object) -> None:
        now = time.monotonic()
        if not self.stop.requested:
            self._first_signal = now
            self.stop.request(f"received {signal.Signals(signum).name}", 128 + signum)
            return
        if now - self._first_signal < DUPLICATE_SIGNAL_SECONDS:
            return  # the same stop sent twice (systemd and the wrapper both forward it)
        raise ForcedStop(128 + signum)

    def _start_watchdog(self, stop: StopSignal) -> None:
        if not self._active or self._watchdog is not None:
            return
        code = stop.exit_code or 1
        self._watchdog = threading.Timer(self.grace_seconds, self.hard_exit, (code,))
        self._watchdog.daemon = True
        self._watchdog.start()

    def renew_grace(self) -> None:
        """Give the end of the run (writing its report) a fresh grace period, when a stop
        has started the watchdog: a stop that took long must not cut the report short."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
            self._start_watchdog(self.stop)

    def __enter__(self) -> SignalHandlers:
        self._active = True
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # a closed terminal stops it like SIGTERM
            if signum == signal.SIGHUP and signal.getsignal(signum) is signal.SIG_IGN:
                continue  # started under nohup: a closed terminal must not stop it
            self._previous[signum] = signal.signal(signum, self._handle)
        if self.stop.requested:
            self._start_watchdog(self.stop)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._active = False
        if self._watchdog is not None:
            self._watchdog.cancel()
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)  # type: ignore[arg-type]


def _hard_exit(code: int) -> None:
    logging.getLogger("summarizer").error(
        "the run did not stop within its grace period; exiting now (finished files are complete)"
    )
    logging.shutdown()
    os._exit(code)
