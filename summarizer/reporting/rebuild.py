"""A day's (or a date range's) dataset rebuilt from the outputs already on disk.

For nights before the export existed, or after the reports folder was lost: every meta
file and results file under the config's output locations (``outputs.dir``, else the
input folders) is read, and an article whose record says it finished on one of those
local days becomes a row, by the same ``export_row`` the nightly export uses; records
another config wrote are left out. Links are never followed; a meta or results file that
cannot be read is left out and listed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Iterator

from ..config import JobConfig
from ..io.files import MAX_META_BYTES, read_json_object, read_jsonl_objects, read_regular_file
from ..io.layout import OutputLocation, output_location_of, output_stem, output_texts, translation_body
from ..planning import read_limits, result_line_bytes
from .export import export_row

@dataclass
class Rebuilt:
    """The rows found, and how many output files could not be read."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def rebuild_rows(config: JobConfig, first: date, last: date) -> Rebuilt:
    """The rows of the articles that finished between ``first`` and ``last`` (local days,
    both included), ordered by finish time and key."""
    found = Rebuilt()
    seen: set[tuple[int, int]] = set()  # input paths may overlap: each file once
    since = _start_of(first)
    line_bytes = result_line_bytes(read_limits(config))
    ours = str(config.source) if config.source else None

    def wanted(record: dict[str, Any]) -> bool:
        return record.get("config") in (None, ours) and _finished_between(record, first, last)

    for root, folder, names in _output_files(config):
        for name in names:
            path, location = folder / name, output_location_of(folder / name, root)
            try:
                info = os.stat(path, follow_symlinks=False)
            except OSError:
                continue
            if location is None or (info.st_dev, info.st_ino) in seen or info.st_mtime < since:
                continue  # seen, or last written before the first day: nothing in it finished since
            seen.add((info.st_dev, info.st_ino))
            if name == location.meta_name:
                record = read_json_object(path)
                if record is None:
                    found.unreadable.append(str(path))
                elif wanted(record):
                    found.rows.append(export_row(record, _texts(location, record)))
            else:
                records = read_jsonl_objects(path, line_bytes)
                if not records and info.st_size:
                    found.unreadable.append(str(path))
                found.rows += [export_row(r) for r in records if wanted(r)]
    found.rows.sort(key=lambda row: (str(row.get("finished_at")), str(row.get("key"))))
    return found


def _output_files(config: JobConfig) -> Iterator[tuple[Path, Path, list[str]]]:
    """(root, folder, meta and results file names) of every folder outputs may be in."""
    roots = [config.outputs.dir] if config.outputs.dir is not None else list(config.inputs.paths)
    for given in roots:
        root = Path(given)
        if root.is_file():  # an input named directly: its own outputs only
            stem = output_stem(root.name)
            names = [n for n in os.listdir(root.parent) if (found := output_location_of(root.parent / n, root.parent)) and found.name == stem]
            yield root.parent, root.parent, sorted(names)
            continue
        for folder, subfolders, files in os.walk(root):  # never into a linked folder
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
            yield root, Path(folder), sorted(n for n in files if not n.startswith("."))


def _start_of(day: date) -> float:
    """The POSIX time at which local ``day`` begins; minus infinity when it cannot be
    converted (0001-01-01: the calendar has no day before it): no file is older."""
    try:
        return datetime.combine(day, time.min).astimezone().timestamp()
    except (ValueError, OverflowError, OSError):
        return float("-inf")


def _finished_between(record: dict[str, Any], first: date, last: date) -> bool:
    text = record.get("finished_at")
    if not isinstance(text, str):
        return False
    try:
        finished = datetime.fromisoformat(text)
    except ValueError:
        return False
    try:
        day = finished.astimezone().date()
    except (ValueError, OverflowError):  # the local day would be outside the calendar: its own
        day = finished.date()
    return first <= day <= last


def _texts(location: OutputLocation, record: dict[str, Any]) -> dict[str, str | None]:
    """An article's texts read back from its text files (as the writer wrote them)."""
    language, target = record.get("language"), record.get("target_language")
    if record.get("status") != "ok" or not isinstance(language, str) or not isinstance(target, str):
        return {}
    written = record.get("outputs") or []
    translated = location.translation_name(target) in written
    texts: dict[str, str | None] = {}
    for name, file_name in output_texts(location, language, target, translated):
        try:
            text = read_regular_file(location.folder / file_name, MAX_META_BYTES).decode("utf-8").rstrip("\n")
        except (ValueError, UnicodeDecodeError):
            text = None
        if name == "translation" and text is not None:
            text = translation_body(text, record.get("title_translation"))
        texts[name] = text
    return texts
