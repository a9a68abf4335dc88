"""Finding input files and reading them into Articles.

Readers never raise for a bad article: they return a ReadFailure naming the
problem, and the run records it and goes on.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import importlib.metadata
import json
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path, PurePath, PurePosixPath
from typing import Any, Iterable, Iterator

from .._version import __version__
from ..errors import InputPathError
from ..flags import ENCODING_FALLBACK
from ..records import Article, FileStamp, ReadFailure, SourceFile, file_key, line_key, record_key
from .files import parse_json, printable, read_regular_file_stat, unicode_problem
from .folders import open_folder_below
from .layout import is_output_file

logger = logging.getLogger(__name__)

JSONL_EXTENSIONS = (".jsonl",)
HTML_EXTENSIONS = (".html", ".htm")
#: Bigger pages are not extracted: their extraction takes minutes (4.9 MB took 66 s on 2
#: cores), and no news article's page needs it.
MAX_HTML_BYTES = 2 * 1024 * 1024
# A page's text must have at least one paragraph this long to count as an article.
_MIN_HTML_PARAGRAPH_WORDS = 8


def _check_input_path(path: Path, wanted: set[str]) -> None:
    problem = unicode_problem(str(path))
    if problem:
        raise InputPathError(f"{printable(str(path))}: the path is not valid UTF-8; rename it")
    if not os.path.exists(path):
        raise InputPathError(f"{path}: input path does not exist")
    if not os.path.isdir(path) and path.suffix.lower() not in wanted:
        raise InputPathError(
            f"{path}: not an article file (expected a folder or one of {', '.join(sorted(wanted))})"
        )


def require_input_paths(paths: Iterable[Path], extensions: Iterable[str]) -> None:
    """InputPathError for the first of ``paths`` that cannot be an input (see InputPathError).

    Runs before anything is created, so a bad argument leaves no trace."""
    wanted = {ext.lower() for ext in extensions}
    for path in paths:
        _check_input_path(Path(path), wanted)


def discover(paths: Iterable[Path], extensions: Iterable[str]) -> list[SourceFile]:
    """All article files under ``paths``, in a stable order, each once.

    Folders are walked recursively without following symlinked folders; hidden
    files and folders (name starting with ".") and this job's own output files
    are skipped, also when named directly. A file given directly is taken if its
    extension is known. A file reached twice (overlapping inputs) is kept once.
    InputPathError as ``require_input_paths``.
    """
    wanted = {ext.lower() for ext in extensions}
    found: dict[str, SourceFile] = {}
    for path in paths:
        path = Path(path)
        _check_input_path(path, wanted)
        if os.path.isdir(path):
            candidates = list(_walk(path.resolve(), wanted))
        else:
            if is_output_file(path.name):
                logger.info("skipping %s: it is one of summarizer's own output files", path)
                continue
            path = Path(os.path.realpath(path.parent)) / path.name
            candidates = [_source(path, path.parent)]
        for source in candidates:
            found.setdefault(str(source.path), source)
    return _unique_keys(list(found.values()))


def _unique_keys(sources: list[SourceFile]) -> list[SourceFile]:
    """Qualify keys that two input folders share (``a.txt`` -> ``d1/a.txt``)."""
    counts = Counter(source.key for source in sources)
    if all(count == 1 for count in counts.values()):
        return sources
    qualified = [
        replace(s, key=f"{file_key(s.root.name)}/{s.key}") if counts[s.key] > 1 else s for s in sources
    ]
    counts = Counter(source.key for source in qualified)
    return [replace(s, key=file_key(str(s.path))) if counts[s.key] > 1 else s for s in qualified]


def _walk(root: Path, wanted: set[str]) -> Iterator[SourceFile]:
    top = str(root)
    for folder, subfolders, files in os.walk(top):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        inside = folder[len(top) + 1 :]  # the folder relative to the root ("" for the root)
        folder_path = Path(folder)
        for name in sorted(files):
            if name.startswith(".") or "." + name.rpartition(".")[2].lower() not in wanted or is_output_file(name):
                continue
            relative = f"{inside}/{name}" if inside else name
            yield _source(folder_path / name, root, relative.replace(os.sep, "/"), folder_path)


def _source(path: Path, root: Path, relative_text: str | None = None, folder: Path | None = None) -> SourceFile:
    relative = PurePosixPath(relative_text or path.relative_to(root).as_posix())
    suffix = path.suffix.lower()
    kind = "jsonl" if suffix in JSONL_EXTENSIONS else "html" if suffix in HTML_EXTENSIONS else "text"
    return SourceFile(path=path, root=root, relative=relative, kind=kind, folder=folder)


@dataclass(frozen=True)
class ReadLimits:
    """Size limits that keep one huge or hostile file from sinking a night."""

    max_file_bytes: int = 25 * 1024 * 1024
    max_article_chars: int = 200_000


def reader_signature(limits: ReadLimits) -> str:
    """What decides whether an input can be read (this version's readers, the HTML
    extractor's version, the size limits): a file that failed to read fails again
    while it and this are unchanged (``skipping.remembered_failure``)."""
    try:
        extractor = importlib.metadata.version("trafilatura")
    except importlib.metadata.PackageNotFoundError:
        extractor = "none"
    return (
        f"summarizer {__version__}; trafilatura {extractor}; max_file_bytes {limits.max_file_bytes}; "
        f"max_article_chars {limits.max_article_chars}"
    )


def read_source(source: SourceFile, limits: ReadLimits = ReadLimits()) -> list[Article | ReadFailure]:
    """The articles (or failures) held by one input file.

    Never follows a symlink out of its input folder, never opens anything but a
    regular file (a FIFO would block the night), never reads past the size limit.
    """
    return read_stamped(source, limits)[0]


def read_stamped(
    source: SourceFile, limits: ReadLimits = ReadLimits()
) -> tuple[list[Article | ReadFailure], FileStamp | None]:
    """``read_source``, with the file's stamp as read (None when it could not be read)."""
    key = source.key
    try:
        data, stamp = read_input_file(source, limits.max_file_bytes)
    except ValueError as exc:
        return [ReadFailure(key, source, str(exc))], None
    if source.kind == "jsonl":
        return list(_read_jsonl(source, data, limits)), stamp
    if source.kind == "html":
        return [_read_html_article(source, data, limits)], stamp
    return [_read_text_article(source, data, limits)], stamp


def read_input_file(source: SourceFile, max_bytes: int) -> tuple[bytes, FileStamp]:
    """The raw bytes of an input file and its stamp; ValueError says why it cannot be read."""
    relative = PurePath(source.relative)
    if source.path.is_symlink():  # a link inside the input folder is read through its target, checked once
        try:
            target = Path(os.path.realpath(source.path))
        except (OSError, RuntimeError) as exc:  # changed while resolved, or a loop
            raise ValueError(f"symbolic link that cannot be resolved ({exc}): not followed") from None
        if not target.is_relative_to(source.root):
            raise ValueError("symbolic link to a file outside the input folder: not followed")
        relative = target.relative_to(source.root)
    try:  # each folder below the input folder, then the file, opened without following a link
        folder = open_folder_below(source.root, relative.parent)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise ValueError("a folder on the way is a symbolic link (it was not one when found): not followed") from None
        raise ValueError(f"cannot open its folder: {exc.strerror or exc}") from None
    try:
        data, info = read_regular_file_stat(relative.name, max_bytes, "inputs.max_file_mb", dir_fd=folder)
    finally:
        os.close(folder)
    return data, FileStamp.as_read(info.st_size, info.st_mtime_ns, hashlib.sha256(data).hexdigest())


_BINARY_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode article bytes; returns (text, encoding). ValueError says why not.

    UTF-8 (BOM accepted) and UTF-16 with a BOM are read as such. Anything else
    that is not UTF-8 is read as Windows-1252 (a superset of Latin-1 common in
    older French CMS exports) and the article gets the ``encoding_fallback``
    flag. Text that still looks binary is refused.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text, encoding = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise ValueError("starts with a UTF-16 byte-order mark but is not valid UTF-16") from None
    elif b"\x00" in data:
        raise ValueError("file contains NUL bytes (binary data?); save it as UTF-8 text")
    else:
        try:
            text, encoding = data.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError:
            try:
                text, encoding = data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError:
                raise ValueError(
                    "neither UTF-8 nor Windows-1252 text; convert the file to UTF-8"
                ) from None
    controls = len(_BINARY_CONTROL.findall(text))
    if controls > max(2, len(text) // 100):
        raise ValueError(f"looks like binary data ({controls} control characters); not read")
    return text, encoding


def _read_text_article(source: SourceFile, data: bytes, limits: ReadLimits) -> Article | ReadFailure:
    key = source.key
    digest = hashlib.sha256(data).hexdigest()
    try:
        text, encoding = decode_text(data)
    except ValueError as exc:
        return ReadFailure(key, source, str(exc), digest)
    too_long = _too_long("", text, limits)  # the title is the text's first line
    if too_long:
        return ReadFailure(key, source, too_long, digest)
    if not text.strip():
        reason = "file is empty" if not data else "file has no text (only whitespace)"
        return ReadFailure(key, source, reason, digest)
    flags = (ENCODING_FALLBACK,) if encoding == "cp1252" else ()
    return Article(
        key=key, source=source, title=None, text=text, input_sha256=digest,
        encoding=encoding, flags=flags,
    )


def _read_html_article(source: SourceFile, data: bytes, limits: ReadLimits) -> Article | ReadFailure:
    """The main text of a saved web page, extracted with trafilatura.

    Navigation, ads, scripts, styles, comments and tables are left out;
    paragraphs stay one per line. Title, date and canonical URL come from the
    page's metadata; the extractor and its version are recorded.
    """
    key = source.key
    digest = hashlib.sha256(data).hexdigest()
    if len(data) > MAX_HTML_BYTES:  # extraction time grows with the markup: about 13 s per MB here
        return ReadFailure(
            key,
            source,
            f"page is {len(data) / 2**20:.1f} MB of HTML, over the {MAX_HTML_BYTES // 2**20} MB the extractor "
            "is given (a news page is far smaller): not extracted; save the article itself",
            digest,
        )
    try:
        import trafilatura
    except ImportError as exc:
        return ReadFailure(key, source, html_reader_unavailable(exc), digest, lasting=False)
    try:
        document = trafilatura.bare_extraction(
            data,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            favor_precision=True,
        )
    except ImportError as exc:  # a part of lxml that trafilatura imports on first use
        return ReadFailure(key, source, html_reader_unavailable(exc), digest, lasting=False)
    except Exception as exc:  # noqa: BLE001 - lxml/trafilatura errors on broken pages
        lasting = not isinstance(exc, (MemoryError, OSError))  # the machine's fault: try again next run
        return ReadFailure(key, source, f"cannot parse the HTML page ({type(exc).__name__})", digest, lasting=lasting)
    text = (document.text or "") if document is not None else ""
    if max((len(line.split()) for line in text.split("\n")), default=0) < _MIN_HTML_PARAGRAPH_WORDS:
        # Nothing but menus or captions: the extractor's fallbacks return those.
        return ReadFailure(key, source, "no article text found in the HTML page", digest)
    title = " ".join((document.title or "").split())
    lines = text.split("\n")
    if title and lines and " ".join(lines[0].split()) == title:
        text = "\n".join(lines[1:])  # the page's <h1> repeats the title
    too_long = _too_long(title, text, limits)
    if too_long:
        return ReadFailure(key, source, too_long, digest)
    metadata = {"date": document.date, "url": document.url}
    metadata = {k: v for k, v in metadata.items() if v}
    metadata["extractor"] = f"trafilatura {trafilatura.__version__}"
    return Article(key=key, source=source, title=title, text=text, input_sha256=digest, metadata=metadata)


def html_reader_unavailable(exc: ImportError) -> str:
    """The failure reason of an HTML page when the extractor's libraries are missing."""
    return (
        f"cannot read HTML pages: a library is missing ({exc}); the installation is broken: "
        "reinstall summarizer (pip install -e . or make install), then `summarizer check`"
    )


_PROBE_PAGE = (
    b"<html><head><title>Essai</title></head><body><article><p>"
    + b"Ceci est un paragraphe assez long pour que l'extracteur le garde. " * 3
    + b"</p></article></body></html>"
)


def reader_library_problems() -> list[str]:
    """Why a reader cannot work in this installation (``check`` runs this): each
    reader's libraries are imported and the HTML extractor is run on a tiny page."""
    try:
        import trafilatura

        trafilatura.bare_extraction(_PROBE_PAGE, with_metadata=True, favor_precision=True)
    except ImportError as exc:
        return [html_reader_unavailable(exc)]
    except Exception as exc:  # noqa: BLE001 - any failure here is a broken install
        return [f"the HTML extractor fails on a test page ({type(exc).__name__}: {exc}); reinstall summarizer"]
    return []


def _too_long(title: str, text: str, limits: ReadLimits) -> str | None:
    """Why an article is too long to process, or None; the title counts (it is translated too)."""
    chars = len(title) + len(text)
    if chars <= limits.max_article_chars:
        return None
    return f"article is {chars} characters, over inputs.max_article_chars ({limits.max_article_chars}): not processed"


def _read_jsonl(
    source: SourceFile, data: bytes, limits: ReadLimits
) -> Iterator[Article | ReadFailure]:
    base = source.key
    seen: set[str] = set()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        line = line_key(base, number)
        digest = hashlib.sha256(raw.strip()).hexdigest()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield ReadFailure(line, source, f"line {number}: not valid UTF-8", digest)
            continue
        try:
            record = parse_json(text)
        except ValueError as exc:
            yield ReadFailure(line, source, f"line {number}: invalid JSON ({exc})", digest)
            continue
        if not isinstance(record, dict):
            yield ReadFailure(line, source, f"line {number}: not a JSON object", digest)
            continue
        record_id = record.get("id")
        if isinstance(record_id, bool) or not isinstance(record_id, (str, int)) or record_id == "":
            yield ReadFailure(line, source, f"line {number}: missing or invalid 'id'", digest)
            continue
        record_id = str(record_id)
        key = record_key(base, record_id)
        if record_id in seen:
            yield ReadFailure(
                line, source, f"line {number}: duplicate id {record_id!r}", digest
            )
            continue
        seen.add(record_id)
        digest = hashlib.sha256(
            json.dumps(record, sort_keys=True, ensure_ascii=False).encode("utf-8")
        ).hexdigest()
        problem = _jsonl_problem(record)
        if not problem:
            problem = _too_long(record.get("title") or "", record["text"], limits)
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
