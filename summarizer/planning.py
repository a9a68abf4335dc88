"""Deciding what a run has to do: discovery, fingerprint, skip rules, limit.

Nothing here loads a model or imports torch, so a run with nothing new is fast.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Union

from ._version import __version__
from .config import JobConfig
from .models.gguf import gguf_digest
from .models.loading import ModelSpec, is_gguf_spec, summarizer_cache
from .sharing import foreign_writer
from .routing import Route, RouteCache, route, routed_languages
from .skipping import SkipRules, done_record, done_records_unread, remembered_failure, unchanged_stamp
from .io.readers import ReadLimits, discover, read_stamped, reader_signature
from .io.files import printable
from .io.files import MAX_META_BYTES, read_json_object, read_jsonl_objects
from .io.layout import OutputLocation, output_location, output_name_problem
from .records import Article, FileStamp, ReadFailure, SourceFile
from .stopping import StopSignal
from .text.language import LanguageDetector

WorkItem = Union[Article, ReadFailure]


def output_settings(config: JobConfig, language: str, routed: Route | None = None) -> dict[str, Any]:
    """Everything that changes what is written for an article in ``language``.

    Only the models that article uses count, so adding a German model does not
    redo the French articles; runtime settings never count. The framing the config
    sets for a model (codes, prefix) counts; the framing found from the model's files
    is covered by the model's identity.
    """
    target = config.target_language
    routed = routed or route(config, language)  # the plan's route, when it has one
    summarizer, translator = routed.summarizer, routed.translator
    summ, tr = config.summarization, config.translation
    settings = {
        "summarizer_version": __version__,
        "language": language,
        "target_language": target,
        "languages": dataclasses.asdict(config.languages),
        "drop_line_patterns": list(config.cleaning.drop_line_patterns),
        "quality": dataclasses.asdict(config.quality),
        "summarization": None
        if summarizer is None
        else {
            "model": model_identity(summarizer.spec),
            "generation": dict(summarizer.generation),
            "max_input_tokens": summ.max_input_tokens,
            "long_input": summ.long_input,
        },
        "translation": None
        if translator is None
        else {
            "model": model_identity(translator.spec),
            "generation": dict(translator.generation),
            "max_input_tokens": tr.max_input_tokens,
            "pack_tokens": tr.pack_tokens,
            "max_new_tokens_factor": tr.max_new_tokens_factor,
            "max_new_tokens_margin": tr.max_new_tokens_margin,
        },
    }
    for role, use in (("summarization", summarizer), ("translation", translator)):
        if use is not None and use.framing.settings():
            settings[role]["framing"] = use.framing.settings()  # only when set: older fingerprints hold
    return settings


def model_identity(spec: ModelSpec) -> dict[str, Any]:
    """A hub model is its id and revision; a local folder is its files' names, sizes and
    times; a GGUF file its name and SHA-256; weights ``fetch`` had to fall back to also name
    where they came from."""
    if is_gguf_spec(spec):  # the file's content, whatever its time (its conversion follows it)
        identity: dict[str, Any] = {"gguf": Path(spec.name).name, "sha256": gguf_digest(Path(spec.name), summarizer_cache(spec.cache_dir))}
    elif not spec.is_local:
        identity = {"name": spec.name, "revision": spec.revision}
    else:
        files = {}
        with os.scandir(spec.name) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_file() and not entry.name.startswith("."):
                    stat = entry.stat()
                    files[entry.name] = [stat.st_size, stat.st_mtime_ns]
        identity = {"local_files": files}
    if spec.origin:
        identity["origin"] = spec.origin
    return identity


def _digest(data: Any) -> str:
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Fingerprints:
    """Fingerprints by language (cached: a local model folder is listed once)."""

    def __init__(self, config: JobConfig) -> None:
        self.config = config
        self._by_language: dict[str, str] = {}
        self.skip_rules = SkipRules(config, self.for_language)

    def for_language(self, language: str) -> str:
        """sha256 of ``output_settings``: an article is redone when this changes."""
        if language not in self._by_language:
            routed = self.skip_rules.routes.route(language)
            self._by_language[language] = _digest(output_settings(self.config, language, routed))
        return self._by_language[language]

    def of_config(self) -> str:
        """One fingerprint over every configured language, for reports."""
        languages = routed_languages(self.config)
        return _digest({language: self.for_language(language) for language in languages})


@dataclass
class Plan:
    """What a run will do."""

    fingerprints: Fingerprints
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
    stamps: dict[Path, FileStamp] = field(default_factory=dict)
    """Each source file's stamp as read (recorded with its results)."""
    restamps: dict[Path, FileStamp] = field(default_factory=dict)
    """Done sources whose results record no stamp, or an old time: to record anew."""
    pruned_records: dict[Path, int] = field(default_factory=dict)
    """For each JSONL source whose results hold records no longer in it: how many."""
    unread: int = 0
    """Input files not read because the run was asked to stop while reading."""
    foreign: dict[str, int] = field(default_factory=dict)
    """Other config files whose outputs (with other settings) this run would overwrite: how many."""
    read_failures: dict[Path, str] = field(default_factory=dict)
    """Source files that failed to read, with the reader signature recorded in their meta."""
    remembered: int = 0
    """Of those, files not read again: unchanged since they failed the same way."""

    @property
    def fingerprint(self) -> str:
        """The configuration's fingerprint (see Fingerprints.of_config)."""
        return self.fingerprints.of_config()

    def location(self, item: WorkItem) -> OutputLocation:
        """Where ``item``'s outputs go."""
        return self.locations[item.source.path]


def read_limits(config: JobConfig) -> ReadLimits:
    """The configured input size limits."""
    return ReadLimits(
        max_file_bytes=int(config.inputs.max_file_mb * 1024 * 1024),
        max_article_chars=config.inputs.max_article_chars,
    )


def make_plan(
    config: JobConfig, *, force: bool = False, limit: int | None = None, stop: StopSignal | None = None
) -> Plan:
    """Find inputs, skip what is done (without reading it when its stamp says it
    is unchanged), read the rest, and split it into work and already-done. A ``stop``
    requested meanwhile ends the reading between two files (the rest waits, counted)."""
    plan = Plan(fingerprints=Fingerprints(config))
    limits = read_limits(config)
    reader = reader_signature(limits)
    claimed: dict[tuple[Path, str, str], SourceFile] = {}
    new: list[WorkItem] = []
    for source in discover(config.inputs.paths, config.inputs.extensions):
        if stop is not None and stop.requested:
            plan.unread += 1
            continue
        location = output_location(source, config.outputs.dir)
        problem = output_name_problem(source, location)
        if problem:
            plan.found += 1
            plan.unwritable.append(ReadFailure(printable(source.key), source, problem))
            continue
        family = "results" if source.kind == "jsonl" else "files"
        owner = claimed.setdefault((location.folder, location.name, family), source)
        if owner is source and not force:
            if _done_unread(plan, source, location, limits):
                continue
            remembered = _failed_unread(plan, source, location, limits, reader)
            if remembered is not None:
                new.append(remembered)
                continue
        items, stamp = read_stamped(source, limits)
        plan.found += len(items)
        if owner is not source:
            message = f"its outputs would overwrite those of {owner.path}; rename one of them"
            plan.unwritable.extend(ReadFailure(i.key, source, message) for i in items)
            continue
        plan.locations[source.path] = location
        if stamp is not None:
            plan.stamps[source.path] = stamp
            if source.kind != "jsonl" and isinstance(items[0], ReadFailure) and items[0].lasting:
                plan.read_failures[source.path] = reader  # read, and failed: remembered with its stamp
        if source.kind == "jsonl":
            new.extend(_plan_jsonl(plan, source, location, items, force, result_line_bytes(limits)))
        else:
            new.extend(i for i in items if force or not _is_done(i, location, plan))
    todo = new if limit is None else new[:limit]
    plan.deferred = len(new) - len(todo)
    plan.todo = group_by_model(assign_languages(todo, config, plan.fingerprints.skip_rules.routes), config)
    return plan


def result_line_bytes(limits: ReadLimits) -> int:
    """The longest result line read back: far more than any record's result can be (a
    record is at most the input limit), a bound only against a damaged file."""
    return max(MAX_META_BYTES, 32 * limits.max_file_bytes)


def _done_unread(plan: Plan, source: SourceFile, location: OutputLocation, limits: ReadLimits) -> bool:
    """Skip ``source`` without reading it, if its results say it is done and unchanged."""
    rules = plan.fingerprints.skip_rules
    if source.kind == "jsonl":
        records = read_jsonl_objects(location.results, result_line_bytes(limits))  # not bounded by the input limit
        found = done_records_unread(source, records, rules, limits.max_file_bytes)
        if found is None:
            return False
        records, stamp = found
        recorded = next(iter(records.values())).get("source_file")
        plan.jsonl_order[source.path] = list(records)
        plan.carried_records[source.path] = {key: {**r, "key": key} for key, r in records.items()}
        plan.skipped.extend(records)
        plan.found += len(records)
    else:
        folder = str(location.folder)
        if location.meta_name not in rules.files_in(folder):
            return False  # never done: no meta file to read
        meta = read_json_object(os.path.join(folder, location.meta_name))
        recorded = meta.get("source_file") if meta else None
        stamp = unchanged_stamp(source, recorded, limits.max_file_bytes)
        if stamp is None or not done_record(meta, stamp.sha256, rules, location):
            return False
        plan.skipped.append(source.key)
        plan.found += 1
    plan.locations[source.path] = location
    plan.stamps[source.path] = stamp
    if FileStamp.from_dict(recorded) != stamp:
        plan.restamps[source.path] = stamp  # touched but unchanged: record the new time
    return True


def _failed_unread(
    plan: Plan, source: SourceFile, location: OutputLocation, limits: ReadLimits, reader: str
) -> ReadFailure | None:
    """The failure of a file that failed to read and is unchanged since (and so is the
    reader): failed again without reading it (``skipping.remembered_failure``)."""
    if source.kind == "jsonl" or location.meta_name not in plan.fingerprints.skip_rules.files_in(str(location.folder)):
        return None
    found = remembered_failure(source, read_json_object(location.meta), reader, limits.max_file_bytes)
    if found is None:
        return None
    failure, stamp = found
    plan.found += 1
    plan.remembered += 1
    plan.locations[source.path] = location
    plan.stamps[source.path] = stamp
    plan.read_failures[source.path] = reader
    return failure


def assign_languages(items: list[WorkItem], config: JobConfig, routes: RouteCache | None = None) -> list[WorkItem]:
    """Articles with their language: forced by the config, or detected on title and
    text; a detection less sure than ``languages.min_confidence`` falls back to the
    job's main ``language`` (short texts are where detectors guess). Each carries its
    route from then on (from ``routes``, the plan's, when given)."""
    detector = LanguageDetector()
    routes = routes or RouteCache(config)
    assigned: list[WorkItem] = []
    for item in items:
        if isinstance(item, Article):
            if config.languages.force:
                item = replace(item, language=config.languages.force, language_confidence=None)
            else:
                found = detector.detect(f"{item.title or ''}\n{item.text}")
                language = found.language
                if found.confidence < config.languages.min_confidence:
                    language = config.language  # too unsure: the feed's main language
                item = replace(
                    item,
                    language=language,
                    language_confidence=found.confidence,
                    detected_language=found.language,
                )
            item = replace(item, route=routes.route(item.language or "und"))  # routed once, carried
        assigned.append(item)
    return assigned


def group_by_model(items: list[WorkItem], config: JobConfig) -> list[WorkItem]:
    """Failures first, then articles grouped by (summariser, translator), so that a
    run loads each model once; discovery order is kept within a group."""

    def model_group(item: WorkItem) -> tuple[str, str]:
        if not isinstance(item, Article) or item.route is None:
            return ("", "")
        return item.route.model_group()

    return sorted(items, key=model_group)


def _is_done(item: WorkItem, location: OutputLocation, plan: Plan) -> bool:
    if isinstance(item, ReadFailure):
        return False
    meta = read_json_object(location.meta)
    done = done_record(meta, item.input_sha256, plan.fingerprints.skip_rules, location)
    if done:
        plan.skipped.append(item.key)
        _restamp_if_needed(plan, item.source.path, meta)
    else:
        _note_foreign_writer(plan, meta)
    return done


def _note_foreign_writer(plan: Plan, record: dict[str, Any] | None) -> None:
    other = foreign_writer(record, plan.fingerprints.config)
    if other is None or record is None or record.get("summarizer_version") != __version__:
        return  # a new version redoes every config's articles once: no ping-pong in that
    language = record.get("language")
    if isinstance(language, str) and record.get("fingerprint") != plan.fingerprints.for_language(language):
        plan.foreign[other] = plan.foreign.get(other, 0) + 1


def _restamp_if_needed(plan: Plan, path: Path, record: dict[str, Any] | None, records: int | None = None) -> None:
    """A done source whose results record another stamp (or none, from an older version;
    for a JSONL feed: not its count of ``records``) gets its stamp recorded, so that the
    next run need not read it."""
    stamp = plan.stamps.get(path)
    if stamp is None or record is None:
        return
    recorded = record.get("source_file")
    if FileStamp.from_dict(recorded) != stamp or (
        records is not None and (not isinstance(recorded, dict) or recorded.get("records") != records)
    ):
        plan.restamps[path] = stamp


def _plan_jsonl(
    plan: Plan,
    source: SourceFile,
    location: OutputLocation,
    items: list[WorkItem],
    force: bool,
    max_line: int,
) -> list[WorkItem]:
    previous = {r.get("id"): r for r in read_jsonl_objects(location.results, max_line) if r.get("id")}
    plan.jsonl_order[source.path] = [item.key for item in items]
    gone = set(previous) - {item.record_id for item in items}
    if gone:
        plan.pruned_records[source.path] = len(gone)
    carried = plan.carried_records.setdefault(source.path, {})
    todo = []
    rules = plan.fingerprints.skip_rules
    for item in items:
        record = previous.get(item.record_id) if item.record_id else None
        if not force and isinstance(item, Article) and done_record(record, item.input_sha256, rules, None):
            carried[item.key] = {**record, "key": item.key}  # type: ignore[dict-item]
            plan.skipped.append(item.key)
            _restamp_if_needed(plan, source.path, record, len(items))
        else:
            if not force:
                _note_foreign_writer(plan, record)
            todo.append(item)
    return todo
