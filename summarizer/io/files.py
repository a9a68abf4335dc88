"""Reading files the job did not write itself, safely.

Only regular files are opened (a FIFO would block the night), never past a
size limit, and JSON is parsed so that no document, however deep or odd, can
raise anything but ``ValueError``.
"""

from __future__ import annotations

import json
import os
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


def read_regular_file(path: Path, max_bytes: int, limit_name: str = "") -> bytes:
    """The bytes of ``path``; ValueError (with the reason) unless it is a regular
    file of at most ``max_bytes``. ``limit_name`` names the setting in messages."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ValueError("file disappeared or is a broken symbolic link") from None
    except OSError as exc:
        raise ValueError(f"cannot open file: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"not a regular file ({file_kind(info.st_mode)}): not opened")
        if info.st_size > max_bytes:
            raise ValueError(f"file is {_size(info.st_size)}, over {_limit(max_bytes, limit_name)}: not read")
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise ValueError(f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise ValueError(f"file grew past {_limit(max_bytes, limit_name)} while read")
    return data


def _size(count: int) -> str:
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / (1024 * 1024):.1f} MB"


def _limit(max_bytes: int, limit_name: str) -> str:
    """The limit in the unit it was configured in (MB of 1024 x 1024 bytes, or KB)."""
    if max_bytes < 1024 * 1024:
        size = f"{max_bytes / 1024:g} KB"
    else:
        size = f"{max_bytes / (1024 * 1024):g} MB"
    return f"{limit_name} ({size})" if limit_name else f"the limit of {size}"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:20]} is too large")
    return value


def parse_json(text: str) -> Any:
    """``json.loads`` that refuses NaN and infinite numbers, documents nested
    deeper than MAX_JSON_DEPTH, and strings that are not valid Unicode (lone
    surrogate escapes such as ``\\ud800``): ValueError says which."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    problem = json_value_problem(value)
    if problem:
        raise ValueError(problem)
    return value


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


def read_json_file(path: Path, max_bytes: int) -> Any:
    """The JSON value in ``path``, or None if it is missing, unreadable, too big or invalid."""
    try:
        return parse_json(read_regular_file(path, max_bytes).decode("utf-8"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
