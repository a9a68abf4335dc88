"""The meta record of an article: the "done" marker, also the JSONL result record."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .._version import __version__
from ..records import ArticleResult, FileStamp


def article_meta(
    result: ArticleResult,
    *,
    target_language: str,
    outputs: list[str] | None = None,
    with_texts: bool = False,
    source_file: FileStamp | None = None,
    config_file: str | None = None,
    source: str | None = None,
    finished_at: str | None = None,
    reader: str | None = None,
) -> dict[str, Any]:
    """The meta dictionary for one article.

    ``outputs`` lists the text files written beside it (for .txt/.md inputs);
    ``with_texts`` puts the generated texts into the record (for JSONL results);
    ``source_file`` is the input file's stamp as read (lets the next run skip it unread);
    ``config_file`` the config that wrote it (another config with other settings must not
    overwrite it night after night: ``sharing.foreign_writer``); ``source`` the input
    file's path; ``finished_at`` when it was finished (default: now); ``reader`` the
    reader's signature, for an input that failed to read (``skipping.remembered_failure``).
    """
    meta: dict[str, Any] = {
        "status": result.status,
        "key": result.key,
    }
    if result.record_id is not None:
        meta["id"] = result.record_id
    if source is not None:
        meta["source"] = source
    meta.update(
        {
            "input_sha256": result.input_sha256,
            "source_file": source_file.to_dict() if source_file else None,
            "fingerprint": result.fingerprint,
            "config": config_file,
            "summarizer_version": __version__,
            "finished_at": finished_at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "language": result.language,
            "language_confidence": result.language_confidence,
            "detected_language": result.detected_language,
            "target_language": target_language,
            "title": result.title,
        }
    )
    if result.metadata:
        meta["metadata"] = result.metadata
    if result.encoding != "utf-8":
        meta["encoding"] = result.encoding
    if result.status == "ok":
        meta["title_translation"] = result.title_translation
        if with_texts:
            meta["summary"] = result.summary
            meta["summary_translation"] = result.summary_translation
            meta["translation"] = result.translation
        if outputs is not None:
            meta["outputs"] = outputs
    if result.models:
        meta["models"] = result.models
    if result.tasks:
        meta["tasks"] = {name: stats.to_dict() for name, stats in result.tasks.items()}
    meta["dropped_lines"] = result.dropped_lines
    meta["flags"] = list(result.flags)
    if result.findings:
        meta["findings"] = result.findings_dict()
    if result.removed:
        meta["removed"] = {task: list(pieces) for task, pieces in result.removed.items()}
    if result.error:
        meta["error"] = result.error
    if result.reason:
        meta["reason"] = result.reason
    if reader is not None:
        meta["reader"] = reader  # the next run fails it again unread while both are unchanged
    return meta
