"""Writing results where the plan says: the one writing policy every executor uses.

An article read from a .txt/.md/.html file is written as soon as its result
arrives: its text files first, its meta file (the "done" marker) last. The
records of a JSONL input share one results file, rewritten whole: it is
written after every ``runtime.wave_articles`` results, before an article that
may take long (``before_long_work``) and when the writer is closed, so a
stopped run keeps what it finished, and so does a run killed during a long
article. Each result is written once, however often it arrives. What goes
where is the sinks' (``sinks``); the night's dataset (``writer.export``) gets a
row for every result once it is final.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from .config import JobConfig
from .errors import OutputPathError
from .io.layout import output_texts
from .planning import Plan, WorkItem
from .records import ArticleResult, RunStats
from .sinks import ArticleFiles, Entry, FeedResults, NightExport, ResultSink

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Written:
    """Results as written (with their files, or failed if they could not be), and the time it took."""

    results: tuple[ArticleResult, ...] = ()
    stats: RunStats = RunStats()


class ResultWriter:
    """Writes the results of one run's plan through the sinks (``sinks``)."""

    def __init__(self, config: JobConfig, plan: Plan) -> None:
        self.config = config
        self.plan = plan
        config_file = str(config.source) if config.source else None
        self._items: dict[str, WorkItem] = {item.key: item for item in plan.todo}
        self._done: set[str] = set()
        self._since_flush = 0
        self._flush_every = config.runtime.wave_articles or None
        self.finished: list[ArticleResult] = []
        """Every result final so far (written, or failed), for the report of a run cut short."""
        self._now: list[ArticleResult] = []
        """Results final since the current ``write`` or ``close`` began."""
        self.export = NightExport(plan, config_file)
        """The night's dataset: a row per result final so far."""
        self._files = ArticleFiles(plan, config_file, self._stored)
        self._feeds = FeedResults(plan, config_file, self._stored)

    def _sink(self, item: WorkItem) -> ResultSink:
        """Where an item's result is stored: its feed's results file, or its own files."""
        return self._feeds if item.source.kind == "jsonl" else self._files

    def prune(self) -> None:
        """Rewrite the results of JSONL inputs that lost records, so that results
        follow their input: a record removed from a feed is removed from its results."""
        for source_path, count in self.plan.pruned_records.items():
            results_file = self.plan.locations[source_path].results
            logger.info("removing %d result(s) of records no longer in %s", count, results_file)
            self._unless_unwritable(self._feeds.rewrite, source_path)

    def restamp(self) -> None:
        """Record the current stamp of done sources whose results hold another (a file
        touched but unchanged, or results written by an older version), so that the
        next run skips them without reading them. Meta files keep everything else."""
        for source_path, stamp in self.plan.restamps.items():
            if source_path in self.plan.jsonl_order:
                self._unless_unwritable(self._feeds.rewrite, source_path)
            else:
                self._unless_unwritable(self._files.restamp, self.plan.locations[source_path], stamp.to_dict())

    @staticmethod
    def _unless_unwritable(update: Callable[..., object], *args: Any) -> None:
        """Upkeep of done outputs (a new stamp, records removed): saves work later, so a path
        that cannot be written (a folder now a link, say) is reported, never a reason to stop."""
        try:
            update(*args)
        except OutputPathError as exc:
            logger.warning("%s; left as it is", exc)

    def write(self, results: Iterable[ArticleResult]) -> Written:
        """Write new results (results already written are ignored).

        Returns the results that are final now; those of JSONL records follow
        when their file is written. OutputWriteError stops the run (finished
        files stay, their results in ``finished``); an article whose own output path
        cannot be written (OutputPathError) is returned failed, with the reason."""
        started, self._now = time.perf_counter(), []
        for result in results:
            if result.key in self._done:
                continue
            self._done.add(result.key)
            self._since_flush += 1
            item = self._items[result.key]
            self._sink(item).write(self._entry(item, result))
        if self._flush_every and self._since_flush >= self._flush_every:
            self._flush()
        return self._finished(started)

    def before_long_work(self) -> Written:
        """Write what waits (the JSONL results files) before work that may take long
        (an article done by itself): a run killed during it keeps what came before."""
        return self.close()

    def close(self) -> Written:
        """Write what waits (the JSONL results files)."""
        started, self._now = time.perf_counter(), []
        self._flush()
        return self._finished(started)

    def unwritable(self, failures: Iterable[tuple[WorkItem, ArticleResult]]) -> None:
        """Failures whose outputs would overwrite another input's: final (reported and
        exported as failed), never written."""
        for item, result in failures:
            location = self.plan.locations.get(item.source.path)
            self._stored(Entry(item, result, location, (), _now()))

    def _entry(self, item: WorkItem, result: ArticleResult) -> Entry:
        location = self.plan.location(item)
        files: tuple[tuple[str, str], ...] = ()
        if result.status == "ok":  # the route planning decided, carried (else the plan's, for its language)
            routed = getattr(item, "route", None) or self.plan.fingerprints.skip_rules.routes.route(result.language or "und")
            translated = routed.translator is not None
            files = tuple(output_texts(location, routed.language, self.config.target_language, translated))
        return Entry(item, result, location, files, _now())

    def _stored(self, entry: Entry) -> None:
        self.finished.append(entry.result)
        self._now.append(entry.result)
        self.export.write(entry)

    def _flush(self) -> None:
        self._since_flush = 0
        self._feeds.flush()

    def _finished(self, started: float) -> Written:
        results, self._now = self._now, []
        for result in results:
            if result.status == "failed":
                logger.error("failed: %s: %s", result.key, result.error)
            elif result.status == "skipped":
                logger.warning("skipped: %s: %s", result.key, result.reason)
        return Written(tuple(results), RunStats.stage("write", time.perf_counter() - started))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
