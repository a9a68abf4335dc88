"""One run at a time per output location: an OS-level lock (flock).

The kernel releases the lock when the process ends, however it ends, so a lock
file left behind never blocks a later run. The holder writes its pid into the
file so that a second run can say who holds it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Iterable

from .errors import LockHeldError, OutputWriteError

LOCK_NAME = ".summarizer.lock"


class RunLock:
    """Exclusive, non-blocking locks on ``LOCK_NAME`` in each of some folders."""

    def __init__(self, folders: Iterable[Path]) -> None:
        self.paths = sorted({Path(folder) / LOCK_NAME for folder in folders})
        self._fds: list[int] = []

    def acquire(self) -> None:
        """Take every lock or none; LockHeldError names the lock and its holder."""
        try:
            for path in self.paths:
                self._fds.append(self._lock(path))
        except BaseException:
            self.release()
            raise

    @staticmethod
    def _lock(path: Path) -> int:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputWriteError(
                f"cannot create lock file {path}: {exc.strerror or exc}; "
                "check that the output location exists and is writable"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise LockHeldError(
                f"another summarizer run (pid {holder}) holds the lock {path}; exiting"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return fd

    def release(self) -> None:
        """Release every lock taken (the files stay; they mean nothing unlocked)."""
        while self._fds:
            fd = self._fds.pop()
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            os.close(fd)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
