"""Whether an article is already done: the skip rules, the cheapest check first.

Results record the source file's stamp (size, modification time, SHA-256;
``source_file`` in meta files and result records). A done article then costs a
directory entry, a stat and a small read of its meta: when size and time match
the stamp, the article is not opened; when only the time changed, its raw bytes
are hashed, not parsed, and compared. After that come the rules that always
applied: the recorded status is ``ok`` (or ``skipped``: no model for the
language), the fingerprint of the article's language is unchanged, and (for an
article with its own files) every text file is there.
"""

from __future__ import annotations

import hashlib
import os
import stat
from typing import Any, Callable, Mapping

from .config import JobConfig
from .io.files import read_regular_file
from .io.layout import OutputLocation, expected_names
from .records import FileStamp, ReadFailure, SourceFile, record_key
from .routing import RouteCache


def unchanged_stamp(source: SourceFile, recorded: Any, max_bytes: int) -> FileStamp | None:
    """The file's stamp now, when it provably holds the bytes ``recorded`` describes; else None.

    Never follows a symbolic link (the full reading decides about those)."""
    stamp = FileStamp.from_dict(recorded)
    if stamp is None:
        return None
    try:
        info = os.stat(source.path, follow_symlinks=False)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size != stamp.size:
        return None
    if info.st_mtime_ns == stamp.mtime_ns:
        return stamp
    try:
        data = read_regular_file(source.path, max_bytes)  # touched: compare the bytes, do not parse
    except ValueError:
        return None
    digest = hashlib.sha256(data).hexdigest()
    return FileStamp.as_read(len(data), info.st_mtime_ns, digest) if digest == stamp.sha256 else None


def remembered_failure(
    source: SourceFile, meta: Mapping[str, Any] | None, reader: str, max_bytes: int
) -> tuple[ReadFailure, FileStamp] | None:
    """The failure ``meta`` records for ``source`` when reading it would fail the same way
    again (it failed to read, e.g. an HTML page with no article text, and neither the
    file nor ``reader``, the ``io.readers.reader_signature``, changed since), with the
    file's stamp; else None (read it). Saves extracting a slow page night after night."""
    if meta is None or meta.get("status") != "failed" or meta.get("reader") != reader:
        return None
    error, digest = meta.get("error"), meta.get("input_sha256")
    if not isinstance(error, str) or not isinstance(digest, str):
        return None
    stamp = unchanged_stamp(source, meta.get("source_file"), max_bytes)
    if stamp is None or stamp.sha256 != digest:
        return None
    return ReadFailure(source.key, source, error, digest), stamp


class SkipRules:
    """The configuration's side of the skip rules, worked out once per language."""

    def __init__(self, config: JobConfig, fingerprint_for: Callable[[str], str]) -> None:
        self.config = config
        self.fingerprint_for = fingerprint_for
        self.routes = RouteCache(config)
        """The plan's routes, one per language."""
        self._files: dict[str, frozenset[str]] = {}

    def files_in(self, folder: str) -> frozenset[str]:
        """The names of the files in ``folder`` (listed once per plan: one directory read
        tells whether each article's outputs are there, instead of a stat per file)."""
        if folder not in self._files:
            try:
                with os.scandir(folder) as entries:
                    self._files[folder] = frozenset(entry.name for entry in entries if entry.is_file())
            except OSError:
                self._files[folder] = frozenset()
        return self._files[folder]

    def translated(self, language: str) -> bool:
        """Whether an article in ``language`` gets a translation (``routing.route`` decides)."""
        return self.routes.route(language).translator is not None


def done_record(
    record: Mapping[str, Any] | None,
    input_sha256: str | None,
    rules: SkipRules,
    location: OutputLocation | None,
) -> bool:
    """True when ``record`` (a meta file or JSONL result) says the input hashed
    ``input_sha256`` needs no work. ``location``: check the article's own text files."""
    if record is None or input_sha256 is None or record.get("input_sha256") != input_sha256:
        return False
    language = record.get("language")
    if not isinstance(language, str) or record.get("status") not in ("ok", "skipped"):
        return False
    if record.get("fingerprint") != rules.fingerprint_for(language):
        return False
    if location is not None and record["status"] == "ok":
        target = rules.config.target_language
        present = rules.files_in(str(location.folder))
        return all(name in present for name in expected_names(location, language, target, rules.translated(language)))
    return True


def done_records_unread(
    source: SourceFile, records: list[dict[str, Any]], rules: SkipRules, max_bytes: int
) -> tuple[dict[str, dict[str, Any]], FileStamp] | None:
    """For a JSONL input whose every record is done and whose file is unchanged since:
    its records by key, in input order, and the file's stamp; else None (read it).

    The stamp counts the records written with it: a results file that lost a line
    (edited, or damaged and left out when read) is read again, never taken as done."""
    recorded = [record.get("source_file") for record in records]
    if not records or not isinstance(recorded[0], dict) or any(r != recorded[0] for r in recorded):
        return None
    if recorded[0].get("records") != len(records):
        return None
    stamp = unchanged_stamp(source, recorded[0], max_bytes)
    if stamp is None:
        return None
    by_key: dict[str, dict[str, Any]] = {}
    for record in records:
        record_id = record.get("id")
        if not isinstance(record_id, str) or not done_record(record, record.get("input_sha256"), rules, None):
            return None
        by_key[record_key(source.key, record_id)] = record
    return by_key, stamp
