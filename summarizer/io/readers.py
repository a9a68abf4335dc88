"""Finding input files and reading them into Articles.

Readers never raise for a bad article: they return a ReadFailure naming the
problem, and the run records it and goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Iterator

from ..errors import SummarizerError
from ..records import Article, ReadFailure, SourceFile
from .writers import is_output_file

logger = logging.getLogger(__name__)

JSONL_EXTENSIONS = (".jsonl",)
KNOWN_JSONL_FIELDS = ("id", "text", "title", "date", "url")


class InputPathError(SummarizerError):
    """An input path given in the config or on the command line does not exist."""


def discover(paths: Iterable[Path], extensions: Iterable[str]) -> list[SourceFile]:
    """All article files under ``paths``, in a stable order.

    Folders are walked recursively without following symlinked folders; hidden
    files and folders (name starting with ".") and this job's own output files
    are skipped. A file given directly is taken if its extension is known.
    """
    wanted = {ext.lower() for ext in extensions}
    found: list[SourceFile] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend(_walk(path.resolve(), wanted))
        elif path.exists():
            if path.suffix.lower() not in wanted:
                raise InputPathError(
                    f"{path}: not an article file (expected one of {', '.join(sorted(wanted))})"
                )
            path = path.absolute()
            found.append(_source(path, path.parent))
        else:
            raise InputPathError(f"{path}: input path does not exist")
    return found


def _walk(root: Path, wanted: set[str]) -> Iterator[SourceFile]:
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or is_output_file(name):
                continue
            if os.path.splitext(name)[1].lower() in wanted:
                yield _source(Path(folder) / name, root)


def _source(path: Path, root: Path) -> SourceFile:
    relative = PurePosixPath(path.relative_to(root).as_posix())
    kind = "jsonl" if path.suffix.lower() in JSONL_EXTENSIONS else "text"
    return SourceFile(path=path, root=root, relative=relative, kind=kind)


def read_source(source: SourceFile) -> list[Article | ReadFailure]:
    """The articles (or failures) held by one input file."""
    try:
        data = source.path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return [ReadFailure(str(source.relative), source, f"cannot read file: {reason}")]
    if source.kind == "jsonl":
        return list(_read_jsonl(source, data))
    return [_read_text_article(source, data)]


def decode_text(data: bytes) -> str:
    """Decode article bytes as UTF-8 (a BOM is accepted); ValueError says why not."""
    if b"\x00" in data:
        raise ValueError("file contains NUL bytes (binary data?); save it as UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert the file to UTF-8"
        ) from None


def _read_text_article(source: SourceFile, data: bytes) -> Article | ReadFailure:
    key = str(source.relative)
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = decode_text(data)
    except ValueError as exc:
        return ReadFailure(key, source, str(exc), digest)
    title, body = split_title(text, markdown=source.path.suffix.lower() == ".md")
    if not title and not body:
        return ReadFailure(key, source, "file is empty", digest)
    return Article(key=key, source=source, title=title, text=body, input_sha256=digest)


def split_title(text: str, *, markdown: bool = False) -> tuple[str, str]:
    """First non-empty line (without Markdown ``#`` marks) and the rest of the text."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.strip():
            title = line.strip()
            if markdown:
                title = title.lstrip("#").strip()
            return title, "\n".join(lines[index + 1 :])
    return "", ""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in article records")


def _read_jsonl(source: SourceFile, data: bytes) -> Iterator[Article | ReadFailure]:
    base = str(source.relative)
    seen: set[str] = set()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        line_key = f"{base}#line-{number}"
        digest = hashlib.sha256(raw.strip()).hexdigest()
        try:
            record = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except UnicodeDecodeError:
            yield ReadFailure(line_key, source, f"line {number}: not valid UTF-8", digest)
            continue
        except ValueError as exc:
            yield ReadFailure(line_key, source, f"line {number}: invalid JSON ({exc})", digest)
            continue
        if not isinstance(record, dict):
            yield ReadFailure(line_key, source, f"line {number}: not a JSON object", digest)
            continue
        record_id = record.get("id")
        if isinstance(record_id, bool) or not isinstance(record_id, (str, int)) or record_id == "":
            yield ReadFailure(line_key, source, f"line {number}: missing or invalid 'id'", digest)
            continue
        record_id = str(record_id)
        key = f"{base}#{record_id}"
        if record_id in seen:
            yield ReadFailure(
                f"{line_key}", source, f"line {number}: duplicate id {record_id!r}", digest
            )
            continue
        seen.add(record_id)
        digest = hashlib.sha256(
            json.dumps(record, sort_keys=True, ensure_ascii=False).encode("utf-8")
        ).hexdigest()
        problem = _jsonl_problem(record)
        if problem:
            yield ReadFailure(key, source, f"line {number}: {problem}", digest, record_id)
            continue
        metadata = {k: v for k, v in record.items() if k not in ("id", "text", "title")}
        yield Article(
            key=key,
            source=source,
            title=(record.get("title") or "").strip(),
            text=record["text"],
            input_sha256=digest,
            record_id=record_id,
            metadata=metadata,
        )


def _jsonl_problem(record: dict[str, Any]) -> str | None:
    text = record.get("text")
    if not isinstance(text, str):
        return "missing 'text' (a string is required)"
    for name in ("title", "date", "url"):
        if record.get(name) is not None and not isinstance(record[name], str):
            return f"'{name}' must be a string"
    return None
