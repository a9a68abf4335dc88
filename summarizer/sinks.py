"""Where results go: the sinks ``writing.ResultWriter`` drives, one protocol for all.

A sink takes each result with what was planned for it (an ``Entry``) and hands every
entry it has stored to the writer's ``stored`` callback, its result final (written, or
failed because it could not be); ``flush`` stores what waits. A run stopped meanwhile
has reported every entry already stored, however far the sink got. Two sinks hold the done markers:
``ArticleFiles`` (an article's text files first, its meta file last) and
``FeedResults`` (a JSONL input's one results file, rewritten whole). ``NightExport``
is fed by the writer with what those stored (it stores at once, in memory) and keeps one
row per article for the night's dataset (``reporting.export``, written into the run
folder when the run is reported).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Protocol

from .errors import OutputPathError
from .io.files import read_json_object
from .io.folders import json_text, jsonl_text, with_final_newline, write_text_at
from .io.layout import OutputLocation, open_output_folder, translation_file_text
from .io.meta import article_meta
from .planning import Plan, WorkItem
from .records import ArticleResult
from .reporting.export import export_row


@dataclass(frozen=True)
class Entry:
    """One result on its way to the sinks, with what the plan decided for its article."""

    item: WorkItem
    result: ArticleResult
    location: OutputLocation | None
    """None for a failure whose outputs would overwrite another's (never written)."""
    files: tuple[tuple[str, str], ...]
    """Its text files, (text, file name) (``io.layout.output_texts`` for the article's
    route, decided once at planning); empty unless its result is ``ok``."""
    finished_at: str
    """When it was finished: the same in each record of it (meta, results, export)."""

    def texts(self) -> dict[str, str]:
        """The texts its files hold, by text (the translation without its title)."""
        return {text: getattr(self.result, text).rstrip("\n") for text, _ in self.files}

    def record(self, plan: Plan, config_file: str | None, *, with_texts: bool, outputs: list[str] | None = None) -> dict[str, Any]:
        """Its meta file or result record (``io.meta.article_meta``)."""
        reader = plan.read_failures.get(self.item.source.path) if self.result.status == "failed" else None
        return article_meta(
            self.result,
            target_language=plan.fingerprints.config.target_language,
            outputs=outputs,
            with_texts=with_texts,
            source_file=None if with_texts else plan.stamps.get(self.item.source.path),
            config_file=config_file,
            source=str(self.item.source.path),
            finished_at=self.finished_at,
            reader=reader,
        )


Stored = Callable[[Entry], None]
"""What a sink calls with each entry it has stored."""


class ResultSink(Protocol):
    """Takes results and says, through ``stored``, which it has stored."""

    def write(self, entry: Entry) -> None:
        """Take ``entry`` (stored now, or when flushed)."""

    def flush(self) -> None:
        """Store what waits."""


class ArticleFiles:
    """An article's own files beside it (or mirrored): texts first, meta file last."""

    def __init__(self, plan: Plan, config_file: str | None, stored: Stored) -> None:
        self.plan, self.config_file, self.stored = plan, config_file, stored

    def write(self, entry: Entry) -> None:
        try:
            with open_output_folder(entry.location) as folder:
                written = self._write_into(folder, entry)
        except OutputPathError as exc:
            written = replace(entry, result=entry.result.unwritable(str(exc)))
        self.stored(written)

    def flush(self) -> None:
        pass

    def _write_into(self, folder: int, entry: Entry) -> Entry:
        location, texts = entry.location, entry.texts()
        paths = [location.folder / name for _, name in entry.files]
        for (text_name, name), path in zip(entry.files, paths):
            text = texts[text_name]
            if text_name == "translation":
                text = translation_file_text(entry.result.title_translation, text)
            write_text_at(folder, name, with_final_newline(text), path)
        meta = entry.record(self.plan, self.config_file, with_texts=False, outputs=[path.name for path in paths])
        write_text_at(folder, location.meta_name, json_text(meta), location.meta)
        return replace(entry, result=entry.result.written([*map(str, paths), str(location.meta)]))

    def restamp(self, location: OutputLocation, stamp: dict[str, Any]) -> None:
        """Record a new stamp in a done article's meta file, keeping everything else."""
        meta = read_json_object(location.meta)
        if meta is not None:
            with open_output_folder(location) as folder:
                write_text_at(folder, location.meta_name, json_text({**meta, "source_file": stamp}), location.meta)


class FeedResults:
    """A JSONL input's results file: every record's result, in input order, rewritten
    whole when flushed; results carried from earlier runs keep their place."""

    def __init__(self, plan: Plan, config_file: str | None, stored: Stored) -> None:
        self.plan, self.config_file, self.stored = plan, config_file, stored
        self._records: dict[Path, dict[str, dict[str, Any]]] = {}
        """JSONL source -> its new result records, by key."""
        self._waiting: dict[Path, list[Entry]] = {}
        """Entries whose file has not been written since they arrived, by source."""

    def write(self, entry: Entry) -> None:
        records = self._records.setdefault(entry.item.source.path, {})
        records[entry.result.key] = entry.record(self.plan, self.config_file, with_texts=True)
        self._waiting.setdefault(entry.item.source.path, []).append(entry)

    def flush(self) -> None:
        while self._waiting:
            path, entries = next(iter(self._waiting.items()))
            try:
                written = str(self.rewrite(path))
                results = [entry.result.written([written]) for entry in entries]
            except OutputPathError as exc:
                results = [entry.result.unwritable(str(exc)) for entry in entries]
            del self._waiting[path]
            for entry, result in zip(entries, results):
                self.stored(replace(entry, result=result))

    def rewrite(self, source_path: Path) -> Path:
        """Write the results file of ``source_path`` from what is known now."""
        new = self._records.get(source_path, {})
        carried = self.plan.carried_records.get(source_path, {})
        found = [new.get(key) or carried.get(key) for key in self.plan.jsonl_order[source_path]]
        records = [record for record in found if record is not None]
        # The file they all came from, recorded only when every record has its result: results
        # cut short by a stop must not let the next run skip the file without reading it.
        # The count lets a later run see a results file that lost a line (edited, or damaged).
        stamp = self.plan.stamps.get(source_path) if len(records) == len(found) else None
        recorded = {**stamp.to_dict(), "records": len(records)} if stamp else None
        records = [{**record, "source_file": recorded} for record in records]
        location = self.plan.locations[source_path]
        with open_output_folder(location) as folder:
            write_text_at(folder, location.results.name, jsonl_text(records), location.results)
        return location.results


class NightExport:
    """One row per article stored this run (``reporting.export.export_row``), failed ones
    too, as such, in the order they were stored; built from the records the other sinks
    write, so that ``summarizer export`` rebuilds the same rows from the files."""

    def __init__(self, plan: Plan, config_file: str | None) -> None:
        self.plan, self.config_file = plan, config_file
        self.rows: list[dict[str, Any]] = []

    def write(self, entry: Entry) -> None:
        if entry.item.source.kind == "jsonl":  # a result record holds its texts
            self.rows.append(export_row(entry.record(self.plan, self.config_file, with_texts=True)))
        else:
            self.rows.append(export_row(entry.record(self.plan, self.config_file, with_texts=False), entry.texts()))

    def flush(self) -> None:
        pass
