"""One run at a time per write location: OS-level locks (flock).

A run takes an exclusive lock on ``LOCK_NAME`` at the root of each folder it
writes into. Two runs whose write locations overlap (the same folder, or a
folder and one of its subfolders) must not both go on, so after taking its own
locks a run also tests the locks already present above and below its roots: a
lock held there means another run writes into part of the same tree. Both runs
take their own lock before they look, so whatever the timing at least one of
two overlapping runs sees the other and stops.

The kernel releases a lock when the process ends, however it ends, so a lock
file left behind never blocks a later run. The holder writes its pid into the
file so that a second run can say who holds it. A lock path is never followed
if it is a symbolic link, and only a regular file is ever locked. The same pieces
(``open_lock_file``, ``take_lock``, ``lock_holder``) lock conversions (``models.conversion``).
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path
from typing import Iterable

from .errors import LockHeldError, OutputWriteError

LOCK_NAME = ".summarizer.lock"

_OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def lock_roots(folders: Iterable[Path]) -> list[Path]:
    """The folders to lock: each given folder, minus those inside another one."""
    unique = sorted({Path(os.path.realpath(folder)) for folder in folders})
    roots: list[Path] = []
    for folder in unique:
        if not any(folder.is_relative_to(root) for root in roots):
            roots.append(folder)
    return roots


class RunLock:
    """Exclusive, non-blocking locks on the write locations of one run."""

    def __init__(self, folders: Iterable[Path]) -> None:
        self.roots = lock_roots(folders)
        self.paths = [root / LOCK_NAME for root in self.roots]
        self._fds: list[int] = []
        self._held: set[tuple[int, int]] = set()

    def acquire(self) -> None:
        """Take every lock or none; LockHeldError names the lock and its holder."""
        try:
            for path in self.paths:
                fd = _take(path)
                self._fds.append(fd)
                info = os.fstat(fd)
                self._held.add((info.st_dev, info.st_ino))
            for root in self.roots:
                self._check_overlaps(root)
        except BaseException:
            self.release()
            raise

    def _check_overlaps(self, root: Path) -> None:
        """LockHeldError when another run holds a lock above or below ``root``."""
        for other in (*_locks_above(root), *_locks_below(root)):
            holder = _holder_if_locked(other, self._held)
            if holder is not None:
                raise LockHeldError(
                    f"another summarizer run (pid {holder}) holds the lock {other}, "
                    f"which overlaps this run's output location {root}; exiting"
                )

    def release(self) -> None:
        """Release every lock taken (the files stay; they mean nothing unlocked)."""
        while self._fds:
            fd = self._fds.pop()
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            os.close(fd)
        self._held.clear()

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _refuse(path: Path, problem: str) -> OutputWriteError:
    return OutputWriteError(
        f"cannot use lock file {path}: {problem}; summarizer locks only a regular file it "
        "creates itself: remove it and run again"
    )


def _take(path: Path) -> int:
    """An exclusive lock on ``path`` (created if missing), never through a symlink."""
    fd = open_lock_file(path)
    try:
        if not take_lock(fd, wait=False):
            raise LockHeldError(
                f"another summarizer run (pid {lock_holder(fd)}) holds the lock {path}; exiting"
            )
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_lock_file(path: Path) -> int:
    """A descriptor of the lock file ``path`` (created if missing, with its folder): never
    through a symbolic link, only a regular file with one link; OutputWriteError otherwise."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | _OPEN_FLAGS, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refuse(path, "it is a symbolic link") from None
        raise OutputWriteError(
            f"cannot create lock file {path}: {exc.strerror or exc}; "
            "check that its folder exists and is writable"
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(path, "it is not a regular file")
        if info.st_nlink != 1:  # a hard link: writing the pid would overwrite another file
            raise _refuse(path, "it is a hard link to another file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def take_lock(fd: int, *, wait: bool) -> bool:
    """Lock the open lock file ``fd`` exclusively and write this process's pid into it;
    False when another holds it (with ``wait``: wait until it is free)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        if not wait:
            return False
        fcntl.flock(fd, fcntl.LOCK_EX)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return True


def lock_holder(fd: int) -> str:
    """The pid written in the lock file ``fd`` ("unknown" when there is none)."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return text if text.isdigit() else "unknown"


def _locks_above(root: Path) -> list[Path]:
    return [parent / LOCK_NAME for parent in root.parents]


def _locks_below(root: Path) -> list[Path]:
    """Lock files in the folders under ``root`` (symlinked folders are not entered)."""
    found = []
    for folder, subfolders, files in os.walk(root):
        if folder != str(root) and LOCK_NAME in files:
            found.append(Path(folder) / LOCK_NAME)
        subfolders.sort()
    return found


def _holder_if_locked(path: Path, held: set[tuple[int, int]]) -> str | None:
    """The pid of the run holding ``path`` locked, or None (missing, free, or ours).

    The file is opened read-only and never created or followed through a link.
    """
    try:
        fd = os.open(path, os.O_RDONLY | _OPEN_FLAGS)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) in held:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return lock_holder(fd)
        except OSError:
            return None
        return None
    finally:
        os.close(fd)
