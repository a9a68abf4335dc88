"""Output naming (in one place) and atomic writes.

Every file is written to a hidden temporary file in the same folder, flushed,
fsynced and renamed over the target, so a reader never sees half a file. For
one article the text files are written first and the meta file last: the meta
file is the "done" marker that the next run checks.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..errors import OutputPathError, OutputWriteError
from ..records import SourceFile
from .files import parse_json, read_regular_file, unicode_problem

_OUTPUT_NAME = re.compile(
    r".+(?:\.(?:summary|translation)\.[A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?\.txt"
    r"|\.meta\.json|\.results\.jsonl)"
)


def is_output_file(name: str) -> bool:
    """True for file names this job writes, so they are never read back as articles."""
    return _OUTPUT_NAME.fullmatch(name) is not None


@dataclass(frozen=True)
class OutputLocation:
    """The output files of one input file: ``FOLDER/NAME.<what>``."""

    folder: Path
    name: str
    """The input file name without its extension."""
    root: Path | None = None
    """The folder ``folder`` lies in that the job may write into (the output folder
    or the input folder); folders between the two are never symbolic links."""

    def summary(self, language: str) -> Path:
        """``NAME.summary.<language>.txt``."""
        return self.folder / f"{self.name}.summary.{language}.txt"

    def translation(self, language: str) -> Path:
        """``NAME.translation.<language>.txt``."""
        return self.folder / f"{self.name}.translation.{language}.txt"

    @property
    def meta(self) -> Path:
        """``NAME.meta.json``: the done marker of a .txt/.md article."""
        return self.folder / f"{self.name}.meta.json"

    @property
    def results(self) -> Path:
        """``NAME.results.jsonl``: all results of a JSONL input."""
        return self.folder / f"{self.name}.results.jsonl"


def output_location(source: SourceFile, output_dir: Path | None) -> OutputLocation:
    """Where the outputs of ``source`` go: next to it, or mirrored under ``output_dir``."""
    folder = source.path.parent if output_dir is None else output_dir / source.relative.parent
    stem = source.relative.name.rsplit(".", 1)[0]
    return OutputLocation(folder=folder, name=stem, root=source.root if output_dir is None else output_dir)


#: Longest language code an output name can hold (``xx-Yyyyyyyy``), for the name length check.
_LONGEST_LANGUAGE = 12
_NAME_MAX = 255


def output_name_problem(source: SourceFile, location: OutputLocation) -> str | None:
    """Why the outputs of ``source`` cannot be written under their names, or None:
    a name that is not valid UTF-8, or one too long for the file system once the
    output suffix is added."""
    if unicode_problem(source.relative.as_posix()):
        return "its name is not valid UTF-8; rename it"
    longest = location.translation("x" * _LONGEST_LANGUAGE).name
    size = len(longest.encode("utf-8"))
    if size > _NAME_MAX:
        return (
            f"its name is too long: its output names would be {size} bytes, over the "
            f"file system's {_NAME_MAX}; shorten it"
        )
    return None


#: errno values that concern one output path rather than the whole output location.
_PATH_ERRNOS = frozenset({errno.EISDIR, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP, errno.EEXIST})


def make_output_folder(location: OutputLocation) -> None:
    """Create ``location.folder`` below its root, one folder at a time, refusing
    any symbolic link on the way (OutputPathError); OutputWriteError otherwise."""
    root = location.root or location.folder
    current = root
    try:
        root.mkdir(parents=True, exist_ok=True)
        for part in location.folder.relative_to(root).parts:
            current = current / part
            with contextlib.suppress(FileExistsError):
                os.mkdir(current)
            if os.path.islink(current) or not os.path.isdir(current):
                raise OutputPathError(
                    f"cannot write into {current}: it is a symbolic link or not a folder; "
                    "summarizer does not follow links inside its output location"
                )
    except OSError as exc:
        raise _write_error(current, exc) from None


def _write_error(path: Path, exc: OSError) -> OutputWriteError:
    if exc.errno in _PATH_ERRNOS:
        return OutputPathError(f"cannot write {path}: {exc.strerror or exc}")
    return OutputWriteError(
        f"cannot write {path}: {exc.strerror or exc}; the run stops: finished articles are "
        "kept and the rest is left for the next run (free disk space or fix permissions)"
    )


TEMP_SUFFIX = ".summarizer.tmp"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; on any error the old file is untouched.

    OSError (disk full, read-only, permissions) becomes OutputWriteError, and
    OutputPathError when only this path is at fault (a folder in its place, say).
    Text that is not valid Unicode (a path's undecodable bytes) is written with
    backslash escapes rather than not at all.
    """
    tmp_name: str | None = None
    data = text.encode("utf-8", "backslashreplace")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=TEMP_SUFFIX)
        os.fchmod(fd, _file_mode(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
    except OSError as exc:
        raise _write_error(path, exc) from None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
    _fsync_folder(path.parent)


def _file_mode(path: Path) -> int:
    """Keep the mode of the file being replaced; new files get 0666 minus the umask
    (mkstemp's 0600 would hide the outputs from the people who read them)."""
    try:
        info = path.lstat()
        if stat.S_ISREG(info.st_mode):
            return stat.S_IMODE(info.st_mode)
    except OSError:
        pass
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def remove_stale_temp_files(folders: Iterable[Path]) -> int:
    """Delete temporary files a killed run left in ``folders``; returns how many."""
    removed = 0
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def with_final_newline(text: str) -> str:
    """Text files end with exactly one newline."""
    return text.rstrip("\n") + "\n"


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented UTF-8 JSON, atomically."""
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def atomic_write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Write one JSON object per line, atomically."""
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    atomic_write_text(path, "".join(line + "\n" for line in lines))


#: Largest meta file read back (they hold a few kilobytes).
MAX_META_BYTES = 16 * 1024 * 1024


def read_json_object(path: Path, max_bytes: int = MAX_META_BYTES) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None if it is missing, unreadable, too big
    or not a JSON object (whatever its content: it may have been tampered with)."""
    try:
        data = parse_json(read_regular_file(path, max_bytes).decode("utf-8"))
    except ValueError:  # also UnicodeDecodeError
        return None
    return data if isinstance(data, dict) else None


def read_jsonl_objects(path: Path, max_bytes: int) -> list[dict[str, Any]]:
    """The JSON objects in ``path`` (invalid lines are ignored; missing, unreadable
    or bigger than ``max_bytes``: empty)."""
    try:
        text = read_regular_file(path, max_bytes).decode("utf-8")
    except ValueError:
        return []
    records = []
    for line in text.splitlines():
        try:
            record = parse_json(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
