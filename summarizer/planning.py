"""Deciding what a run has to do: discovery, fingerprint, skip rules, limit.

Nothing here loads a model or imports torch, so a run with nothing new is fast.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from ._version import __version__
from .config import JobConfig, is_local_model
from .io.readers import ReadLimits, discover, read_source
from .io.writers import OutputLocation, output_location, read_json_object, read_jsonl_objects
from .records import Article, ReadFailure, SourceFile

WorkItem = Union[Article, ReadFailure]


def output_settings(config: JobConfig) -> dict[str, Any]:
    """Everything that changes what is written for an article (runtime settings do not)."""
    summ, tr = config.summarization, config.translation
    return {
        "summarizer_version": __version__,
        "language": config.language,
        "drop_line_patterns": list(config.cleaning.drop_line_patterns),
        "summarization": {
            "model": model_identity(summ.model, summ.revision),
            "max_input_tokens": summ.max_input_tokens,
            "long_input": summ.long_input,
            "generation": summ.generation,
        },
        "translation": {
            "model": model_identity(tr.model, tr.revision),
            "target_language": tr.target_language,
            "max_input_tokens": tr.max_input_tokens,
            "pack_tokens": tr.pack_tokens,
            "max_new_tokens_factor": tr.max_new_tokens_factor,
            "max_new_tokens_margin": tr.max_new_tokens_margin,
            "generation": tr.generation,
        },
    }


def model_identity(model: str, revision: str | None) -> dict[str, Any]:
    """A hub model is its id and revision; a local folder is its files' names, sizes and times."""
    if not is_local_model(model):
        return {"name": model, "revision": revision}
    files = {}
    with os.scandir(model) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.is_file() and not entry.name.startswith("."):
                stat = entry.stat()
                files[entry.name] = [stat.st_size, stat.st_mtime_ns]
    return {"local_files": files}


def fingerprint(config: JobConfig) -> str:
    """sha256 of ``output_settings``: an article is redone when this changes."""
    blob = json.dumps(output_settings(config), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class Plan:
    """What a run will do."""

    fingerprint: str
    found: int = 0
    """Articles (and unreadable inputs) found."""
    todo: list[WorkItem] = field(default_factory=list)
    """Work for this run, in discovery order (after ``limit``)."""
    deferred: int = 0
    """New articles left for a later run by ``limit``."""
    skipped: list[str] = field(default_factory=list)
    """Keys of articles already done with the same input and fingerprint."""
    unwritable: list[ReadFailure] = field(default_factory=list)
    """Failures whose outputs would overwrite another input's: reported, never written."""
    locations: dict[Path, OutputLocation] = field(default_factory=dict)
    """Output location of every source file."""
    jsonl_order: dict[Path, list[str]] = field(default_factory=dict)
    """For each JSONL source: its record keys in input order."""
    carried_records: dict[Path, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """For each JSONL source: previous results still valid, by record key."""

    def location(self, item: WorkItem) -> OutputLocation:
        """Where ``item``'s outputs go."""
        return self.locations[item.source.path]


def expected_outputs(location: OutputLocation, config: JobConfig) -> list[Path]:
    """The text files a finished .txt/.md article has besides its meta file."""
    language, target = config.language, config.translation.target_language
    return [location.summary(language), location.summary(target), location.translation(target)]


def make_plan(config: JobConfig, *, force: bool = False, limit: int | None = None) -> Plan:
    """Find inputs, read them, and split them into work and already-done."""
    plan = Plan(fingerprint=fingerprint(config))
    limits = ReadLimits(
        max_file_bytes=int(config.inputs.max_file_mb * 1024 * 1024),
        max_article_chars=config.inputs.max_article_chars,
    )
    claimed: dict[tuple[Path, str, str], SourceFile] = {}
    new: list[WorkItem] = []
    for source in discover(config.inputs.paths, config.inputs.extensions):
        location = output_location(source, config.outputs.dir)
        items = read_source(source, limits)
        plan.found += len(items)
        owner = claimed.setdefault((location.folder, location.name, source.kind), source)
        if owner is not source:
            message = f"its outputs would overwrite those of {owner.path}; rename one of them"
            plan.unwritable.extend(ReadFailure(i.key, source, message) for i in items)
            continue
        plan.locations[source.path] = location
        if source.kind == "jsonl":
            new.extend(_plan_jsonl(plan, source, location, items, force))
        else:
            new.extend(i for i in items if force or not _is_done(i, location, plan, config))
    plan.todo = new if limit is None else new[:limit]
    plan.deferred = len(new) - len(plan.todo)
    return plan


def _is_done(item: WorkItem, location: OutputLocation, plan: Plan, config: JobConfig) -> bool:
    if isinstance(item, ReadFailure):
        return False
    meta = read_json_object(location.meta)
    done = (
        meta is not None
        and meta.get("status") == "ok"
        and meta.get("input_sha256") == item.input_sha256
        and meta.get("fingerprint") == plan.fingerprint
        and all(path.is_file() for path in expected_outputs(location, config))
    )
    if done:
        plan.skipped.append(item.key)
    return done


def _plan_jsonl(
    plan: Plan, source: SourceFile, location: OutputLocation, items: list[WorkItem], force: bool
) -> list[WorkItem]:
    previous = {r.get("id"): r for r in read_jsonl_objects(location.results) if r.get("id")}
    plan.jsonl_order[source.path] = [item.key for item in items]
    carried = plan.carried_records.setdefault(source.path, {})
    todo = []
    for item in items:
        record = previous.get(item.record_id) if item.record_id else None
        if (
            not force
            and isinstance(item, Article)
            and record is not None
            and record.get("status") == "ok"
            and record.get("input_sha256") == item.input_sha256
            and record.get("fingerprint") == plan.fingerprint
        ):
            carried[item.key] = {**record, "key": item.key}
            plan.skipped.append(item.key)
        else:
            todo.append(item)
    return todo
