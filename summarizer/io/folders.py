"""Folders opened below a root without following links, and atomic writes into them.

A check of a path followed by an open of the same path by name can be raced: the
file, or any folder on the way, swapped for a symbolic link in between. Here every
folder below a root is opened relative to the one above it with ``O_NOFOLLOW``
(``openat``), and files are read, created and renamed relative to that open folder,
so what was checked is what is used: a folder swapped for a link meanwhile is either
refused (the open fails) or changes nothing (the descriptor still names the folder
that was opened). The root itself is the user's (configured, links in it allowed).

Every file is written to a hidden temporary file in its folder, flushed, fsynced
and renamed over the target, so a reader never sees half a file. OSError becomes
OutputWriteError (the run stops) or OutputPathError (only the article whose path
it is fails).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
from pathlib import Path, PurePath
from typing import Any, Iterable, Iterator

from ..errors import OutputPathError, OutputWriteError

#: errno values that concern one output path rather than the whole output location
#: (ENOENT: its folder was removed while written).
_PATH_ERRNOS = frozenset({errno.EISDIR, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP, errno.EEXIST, errno.ENOENT})

TEMP_SUFFIX = ".summarizer.tmp"

_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def write_error(path: Path, exc: OSError, *, stops: bool = False) -> OutputWriteError:
    """The error a failed write of ``path`` fails one article with (OutputPathError), or
    stops the run with (OutputWriteError: always when ``stops``)."""
    if exc.errno in _PATH_ERRNOS and not stops:
        return OutputPathError(f"cannot write {path}: {exc.strerror or exc}")
    return OutputWriteError(
        f"cannot write {path}: {exc.strerror or exc}; the run stops: finished articles are "
        "kept and the rest is left for the next run (free disk space or fix permissions)"
    )


def open_folder_below(root: Path, relative: PurePath, *, create: bool = False) -> int:
    """A descriptor of the folder ``root/relative`` (the caller closes it): ``root`` opened
    as given, each part of ``relative`` opened relative to the one above it without
    following a link (created first when ``create``). OSError otherwise: ELOOP or
    ENOTDIR when a part is a link or not a folder."""
    if create:
        os.makedirs(root, exist_ok=True)
    fd = os.open(root, _FOLDER_FLAGS)
    current = root
    try:
        for part in relative.parts:
            current = current / part
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, dir_fd=fd)
            inner = os.open(part, _FOLDER_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = inner
    except OSError as exc:
        os.close(fd)
        raise OSError(exc.errno, exc.strerror, str(current)) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def output_folder(root: Path, relative: PurePath) -> Iterator[int]:
    """``open_folder_below`` for writing, creating what is missing: OutputPathError names
    the part that is a link or not a folder, OutputWriteError any other failure."""
    try:
        fd = open_folder_below(root, relative, create=True)
    except OSError as exc:
        if not os.path.isdir(root):  # the output root itself is gone or unusable: nothing can be written
            raise write_error(root, exc, stops=True) from None
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EEXIST):
            raise OutputPathError(
                f"cannot write into {exc.filename}: it is a symbolic link or not a folder; "
                "summarizer does not follow links inside its output location"
            ) from None
        if exc.errno == errno.ENOENT:
            raise OutputPathError(f"cannot write into {exc.filename}: it was moved away while opened") from None
        raise write_error(root / relative, exc) from None
    try:
        yield fd
    finally:
        os.close(fd)


def write_at(folder_fd: int, name: str, data: bytes, shown: Path) -> None:
    """Write ``data`` to ``name`` in the open folder ``folder_fd``, atomically; on any error
    the old file is untouched. ``shown``: the path named in errors. A link in the way is
    replaced, never followed."""
    tmp_name: str | None = None
    try:
        mode = _file_mode(folder_fd, name)
        tmp_name = f".{secrets.token_hex(8)}{TEMP_SUFFIX}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(tmp_name, flags, 0o600, dir_fd=folder_fd)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        tmp_name = None
    except OSError as exc:
        raise write_error(shown, exc) from None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name, dir_fd=folder_fd)
    with contextlib.suppress(OSError):
        os.fsync(folder_fd)


def _file_mode(folder_fd: int, name: str) -> int:
    """Keep the mode of the file being replaced; new files get 0666 minus the umask
    (a private 0600 would hide the outputs from the people who read them)."""
    try:
        info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
        if stat.S_ISREG(info.st_mode):
            return stat.S_IMODE(info.st_mode)
    except OSError:
        pass
    return new_file_mode()


def new_file_mode() -> int:
    """The mode of a new file: 0666 minus the umask (what ``open`` gives; safetensors and
    temporary files get 0600, which hides them from every other account)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_text_at(folder_fd: int, name: str, text: str, shown: Path) -> None:
    """``write_at`` for text."""
    write_at(folder_fd, name, _encoded(text), shown)


def _encoded(text: str) -> bytes:
    """UTF-8; text that is not valid Unicode (a path's undecodable bytes) is written with
    backslash escapes rather than not at all."""
    return text.encode("utf-8", "backslashreplace")


def json_text(data: Any) -> str:
    """``data`` as indented UTF-8 JSON."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def jsonl_text(records: Iterable[dict[str, Any]]) -> str:
    """One JSON object per line."""
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (its folder, the caller's, is created when missing)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.parent, _FOLDER_FLAGS)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        write_at(fd, path.name, data, path)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """``atomic_write_bytes`` for text (as ``write_text_at`` encodes it)."""
    atomic_write_bytes(path, _encoded(text))


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented UTF-8 JSON, atomically."""
    atomic_write_text(path, json_text(data))


def with_final_newline(text: str) -> str:
    """Text files end with exactly one newline."""
    return text.rstrip("\n") + "\n"


def remove_stale_temp_files(folders: Iterable[tuple[Path, PurePath]]) -> int:
    """Delete temporary files a killed run left in ``folders`` (each a root and a folder
    below it); returns how many. A folder reached through a symbolic link is left alone (the job
    never follows a link it did not create), and entries are removed relative to the
    open folder, so swapping it for a link meanwhile changes nothing."""
    removed = 0
    for root, folder in folders:
        try:
            fd = open_folder_below(root, folder)
        except OSError:
            continue
        try:
            for name in os.listdir(fd):
                if name.startswith(".") and name.endswith(TEMP_SUFFIX):
                    with contextlib.suppress(OSError):
                        os.unlink(name, dir_fd=fd)
                        removed += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed
