"""Reading and writing files, safely.

Reading: only regular files are opened (a FIFO would block the night), never
past a size limit, and JSON is parsed so that no document, however deep or odd,
can raise anything but ``ValueError``.

Writing is ``io.folders``'s.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from pathlib import Path
from typing import Any


#: Deepest nesting accepted in a JSON document read by the job (a record's
#: metadata, a meta file): far beyond any real feed, far below Python's limits.
MAX_JSON_DEPTH = 32


def file_kind(mode: int) -> str:
    """What a non-regular file is, for messages."""
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "a special file"


def read_regular_file(path: Path, max_bytes: int, limit_name: str = "", *, follow: bool = False) -> bytes:
    """The bytes of ``path``; ValueError (with the reason) unless it is a regular
    file of at most ``max_bytes``. ``limit_name`` names the setting in messages. A
    symbolic link is not followed (it fails as one) unless ``follow``: what was checked
    is what is opened, so no check can be raced by swapping the file for a link."""
    return read_regular_file_stat(path, max_bytes, limit_name, follow=follow)[0]


def read_regular_file_stat(
    path: Path | str, max_bytes: int, limit_name: str = "", *, follow: bool = False, dir_fd: int | None = None
) -> tuple[bytes, os.stat_result]:
    """``read_regular_file``, with the file's status as it was opened; ``path`` relative
    to the open folder ``dir_fd`` when given (``io.folders.open_folder_below``)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        raise ValueError("file disappeared or is a broken symbolic link") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise ValueError("a symbolic link (it was not one when found): not followed") from None
        raise ValueError(f"cannot open file: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"not a regular file ({file_kind(info.st_mode)}): not opened")
        if info.st_size > max_bytes:
            raise ValueError(
                f"file is {_size(info.st_size, max_bytes, limit_name)}, over {_limit(max_bytes, limit_name)}: not read"
            )
        try:
            data = _read_all(fd, max_bytes + 1, info.st_size)
        except OSError as exc:
            raise ValueError(f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise ValueError(f"file grew past {_limit(max_bytes, limit_name)} while read")
    return data, info


def _read_all(fd: int, limit: int, expected: int) -> bytes:
    """Up to ``limit`` bytes of ``fd``: one read for the size the file said it has
    (the common case), more while it keeps growing."""
    chunks = [os.read(fd, min(limit, expected + 1))]
    total = len(chunks[0])
    if total <= expected:  # a regular file reads whole: this was all of it
        return chunks[0]
    while chunks[-1] and total < limit:
        chunks.append(os.read(fd, min(limit - total, 1 << 20)))
        total += len(chunks[-1])
    return b"".join(chunks)


def _unit(max_bytes: int, limit_name: str) -> tuple[str, int]:
    """The unit a limit was configured in: MB (of 1024 x 1024 bytes) for ``*_mb`` keys
    and limits of a MB or more, else KB."""
    if limit_name.endswith("_mb") or max_bytes >= 1024 * 1024:
        return "MB", 1024 * 1024
    return "KB", 1024


def _size(count: int, max_bytes: int, limit_name: str) -> str:
    """``count`` bytes in the limit's unit, with as many decimals as it takes to differ from it."""
    unit, scale = _unit(max_bytes, limit_name)
    for decimals in range(1, 4):
        text = f"{count / scale:.{decimals}f}"
        if float(text) != float(f"{max_bytes / scale:g}"):
            return f"{text} {unit}"
    return f"{count:,} bytes"


def _limit(max_bytes: int, limit_name: str) -> str:
    """The limit in the unit it was configured in."""
    unit, scale = _unit(max_bytes, limit_name)
    size = f"{max_bytes / scale:g} {unit}"
    return f"{limit_name} ({size})" if limit_name else f"the limit of {size}"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:20]} is too large")
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def parse_json(text: str) -> Any:
    """``json.loads`` that refuses NaN and infinite numbers, documents nested
    deeper than MAX_JSON_DEPTH, and strings that are not valid Unicode (lone
    surrogate escapes such as ``\\ud800``): ValueError says which."""
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    # The walk is only needed when the text could hold a problem: a surrogate can only
    # come from a \uD8xx-\uDFxx escape (``text`` itself is valid Unicode or it would
    # not be a str here), and depth needs as many brackets.
    escapes = _SURROGATE_ESCAPE.search(text) is not None or unicode_problem(text) is not None
    brackets = text.count("[") + text.count("{") > MAX_JSON_DEPTH
    problem = json_value_problem(value) if escapes or brackets else None
    if problem:
        raise ValueError(problem)
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def json_value_problem(value: Any) -> str | None:
    """Why a parsed JSON value cannot be kept (too deep, not valid Unicode), or None."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            problem = unicode_problem(item)
            if problem:
                return problem
        elif isinstance(item, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                return f"nested deeper than {MAX_JSON_DEPTH} levels"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return None


def unicode_problem(text: str) -> str | None:
    """Why ``text`` cannot be written as UTF-8 (a lone surrogate), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        return f"contains \\u{code:04x}, a lone surrogate that is not valid Unicode"
    return None


def printable(text: str) -> str:
    """``text`` with anything that is not valid Unicode (the undecodable bytes of a
    file name) shown as ``\\xNN`` escapes."""
    try:
        raw = text.encode("utf-8", "surrogateescape")  # a file name's undecodable bytes
    except UnicodeEncodeError:  # other lone surrogates
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def file_sha256(path: Path) -> str:
    """The SHA-256 of a (possibly large) file, read in blocks; OSError if it cannot be read."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: Largest meta file read back (they hold a few kilobytes).
MAX_META_BYTES = 16 * 1024 * 1024


def read_json_object(path: Path, max_bytes: int = MAX_META_BYTES, *, follow: bool = False) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None if it is missing, unreadable, too big
    or not a JSON object (whatever its content: it may have been tampered with). A link
    is not followed unless ``follow`` (a model's files: the Hugging Face cache links a
    snapshot's files to its blobs)."""
    try:
        data = parse_json(read_regular_file(path, max_bytes, follow=follow).decode("utf-8"))
    except ValueError:  # also UnicodeDecodeError
        return None
    return data if isinstance(data, dict) else None


def read_jsonl_objects(path: Path, max_line_bytes: int = MAX_META_BYTES) -> list[dict[str, Any]]:
    """The JSON objects of the job's own JSONL file ``path`` (a results file), read line
    by line whatever its size: what the job wrote is never bounded by the input limits.
    Invalid lines and lines over ``max_line_bytes`` are ignored; a missing or unreadable
    file, a link or a special file: empty."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return []
    records = []
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return []
        try:
            while line := stream.readline(max_line_bytes + 1):
                if len(line) > max_line_bytes and not line.endswith(b"\n"):
                    while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                        pass  # skip the rest of an oversized line
                    continue
                try:
                    record = parse_json(line.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    continue
                if isinstance(record, dict):
                    records.append(record)
        except OSError:
            return records
    return records
