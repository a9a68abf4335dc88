"""Writing results where the plan says: the one writing policy every executor uses.

An article read from a .txt/.md/.html file is written as soon as its result
arrives: its text files first, its meta file (the "done" marker) last. The
records of a JSONL input share one results file, rewritten whole: it is
written after every ``runtime.wave_articles`` results and when the writer is
closed, so a stopped run keeps what it finished. Each result is written once,
however often it arrives.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .config import JobConfig
from .errors import OutputPathError
from .io.files import read_json_object
from .io.folders import json_text, jsonl_text, with_final_newline, write_text_at
from .io.layout import OutputLocation, expected_outputs, open_output_folder
from .io.meta import article_meta
from .planning import Plan, WorkItem
from .records import ArticleResult, RunStats
from .routing import route

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Written:
    """Results as written (with their files, or failed if they could not be), and the time it took."""

    results: tuple[ArticleResult, ...] = ()
    stats: RunStats = RunStats()


class ResultWriter:
    """Writes the results of one run's plan."""

    def __init__(self, config: JobConfig, plan: Plan) -> None:
        self.config = config
        self.plan = plan
        self._config_file = str(config.source) if config.source else None
        self._items: dict[str, WorkItem] = {item.key: item for item in plan.todo}
        self._done: set[str] = set()
        self._records: dict[Path, dict[str, dict[str, Any]]] = {}
        """JSONL source -> its new result records, by key."""
        self._waiting: list[ArticleResult] = []
        """JSONL results whose file has not been written since they arrived."""
        self._since_flush = 0
        self._flush_every = config.runtime.wave_articles or None
        self.finished: list[ArticleResult] = []
        """Every result final so far (written, or failed), for the report of a run cut short."""

    def prune(self) -> None:
        """Rewrite the results of JSONL inputs that lost records, so that results
        follow their input: a record removed from a feed is removed from its results."""
        for source_path, count in self.plan.pruned_records.items():
            results_file = self.plan.locations[source_path].results
            logger.info("removing %d result(s) of records no longer in %s", count, results_file)
            self._write_jsonl(source_path)

    def restamp(self) -> None:
        """Record the current stamp of done sources whose results hold another (a file
        touched but unchanged, or results written by an older version), so that the
        next run skips them without reading them. Meta files keep everything else."""
        for source_path, stamp in self.plan.restamps.items():
            location = self.plan.locations[source_path]
            if source_path in self.plan.jsonl_order:
                self._write_jsonl(source_path)
                continue
            meta = read_json_object(location.meta)
            if meta is not None:
                with open_output_folder(location) as folder:
                    write_text_at(folder, location.meta_name, json_text({**meta, "source_file": stamp.to_dict()}), location.meta)

    def write(self, results: Iterable[ArticleResult]) -> Written:
        """Write new results (results already written are ignored).

        Returns the results that are final now; those of JSONL records follow
        when their file is written. OutputWriteError stops the run (finished
        files stay); an article whose own output path cannot be written
        (OutputPathError) is returned failed, with the reason."""
        started = time.perf_counter()
        final: list[ArticleResult] = []
        try:
            for result in results:
                if result.key in self._done:
                    continue
                self._done.add(result.key)
                self._since_flush += 1
                item = self._items[result.key]
                if item.source.kind == "jsonl":
                    records = self._records.setdefault(item.source.path, {})
                    target = self.config.target_language
                    records[result.key] = article_meta(
                        result, target_language=target, with_texts=True, config_file=self._config_file
                    )
                    self._waiting.append(result)
                    continue
                try:
                    final.append(self._write_article(item, result))
                except OutputPathError as exc:
                    final.append(result.unwritable(str(exc)))
            if self._flush_every and self._since_flush >= self._flush_every:
                final += self._flush()
        except BaseException:
            self.finished.extend(final)  # written before the error stopped the run
            raise
        return self._finished(final, started)

    def close(self) -> Written:
        """Write what waits (the JSONL results files)."""
        started = time.perf_counter()
        return self._finished(self._flush(), started)

    def _finished(self, results: list[ArticleResult], started: float) -> Written:
        self.finished.extend(results)
        for result in results:
            if result.status == "failed":
                logger.error("failed: %s: %s", result.key, result.error)
            elif result.status == "skipped":
                logger.warning("skipped: %s: %s", result.key, result.reason)
        return Written(tuple(results), RunStats.stage("write", time.perf_counter() - started))

    def _flush(self) -> list[ArticleResult]:
        waiting, self._waiting, self._since_flush = self._waiting, [], 0
        sources = {result.key: self._items[result.key].source.path for result in waiting}
        files: dict[Path, str] = {}
        problems: dict[Path, str] = {}
        try:
            for path in dict.fromkeys(sources.values()):
                try:
                    files[path] = str(self._write_jsonl(path))
                except OutputPathError as exc:
                    problems[path] = str(exc)
        except BaseException:  # the files written before the error are final
            self.finished.extend(r.written([files[sources[r.key]]]) for r in waiting if sources[r.key] in files)
            raise
        return [
            result.unwritable(problems[path]) if path in problems else result.written([files[path]])
            for result, path in ((result, sources[result.key]) for result in waiting)
        ]

    def _write_article(self, item: WorkItem, result: ArticleResult) -> ArticleResult:
        location = self.plan.location(item)
        with open_output_folder(location) as folder:
            return self._write_article_into(folder, location, item, result)

    def _write_article_into(self, folder: int, location: OutputLocation, item: WorkItem, result: ArticleResult) -> ArticleResult:
        """Its text files first, its meta file (the done marker) last, all in the open ``folder``."""
        files: list[Path] = []
        if result.status == "ok":
            target = self.config.target_language
            language = result.language or target
            translated = route(self.config, language).translator is not None
            files = expected_outputs(location, language, target, translated)
            if translated:
                title = result.title_translation
                body = f"{title}\n\n{result.translation}" if title else result.translation
                texts = [result.summary, result.summary_translation, body]
            else:
                texts = [result.summary]
            for path, text in zip(files, texts):
                write_text_at(folder, path.name, with_final_newline(text), path)
        names = [path.name for path in files]
        stamp = self.plan.stamps.get(item.source.path)
        meta = article_meta(
            result,
            target_language=self.config.target_language,
            outputs=names,
            source_file=stamp,
            config_file=self._config_file,
        )
        reader = self.plan.read_failures.get(item.source.path)
        if reader is not None and result.status == "failed":
            meta["reader"] = reader  # the next run fails it again unread while both are unchanged
        write_text_at(folder, location.meta_name, json_text(meta), location.meta)
        return result.written([*map(str, files), str(location.meta)])

    def _write_jsonl(self, source_path: Path) -> Path:
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
