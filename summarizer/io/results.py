"""Writing one wave's results: text files first, the meta file (done marker) last."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

from ..config import JobConfig
from ..planning import Plan, WorkItem, expected_outputs
from ..records import ArticleResult
from ..report import JobReport
from .meta import article_meta
from ..errors import OutputPathError
from .writers import (
    atomic_write_json,
    atomic_write_jsonl,
    atomic_write_text,
    make_output_folder,
    with_final_newline,
)

logger = logging.getLogger(__name__)


class ResultWriter:
    """Writes results where the plan says, and records them in the report."""

    def __init__(self, config: JobConfig, plan: Plan, report: JobReport) -> None:
        self.config = config
        self.plan = plan
        self.report = report
        self._jsonl_records: dict[Path, dict[str, dict[str, Any]]] = {}

    def _meta(self, result: ArticleResult, **extra: Any) -> dict[str, Any]:
        return article_meta(result, target_language=self.config.target_language, **extra)

    def write(self, items: Sequence[WorkItem], results: dict[str, ArticleResult]) -> None:
        """Write every item's result; OutputWriteError stops the run (finished files stay).

        An article whose own output path cannot be written (OutputPathError) is
        recorded as failed with the reason, and the others are written."""
        touched: list[Path] = []
        for item in items:
            result = results[item.key]
            if item.source.kind == "jsonl":
                records = self._jsonl_records.setdefault(item.source.path, {})
                records[item.key] = self._meta(result, with_texts=True)
                if item.source.path not in touched:
                    touched.append(item.source.path)
                continue
            try:
                self._write_article(item, result)
            except OutputPathError as exc:
                _unwritable(result, exc)
        for source_path in touched:
            try:
                self._write_jsonl(source_path, results)
            except OutputPathError as exc:
                for key in self._jsonl_records[source_path]:
                    if key in results:
                        _unwritable(results[key], exc)
        for item in items:
            result = results[item.key]
            self.report.results.append(result)
            if result.status == "failed":
                logger.error("failed: %s: %s", result.key, result.error)
            elif result.status == "skipped":
                logger.warning("skipped: %s: %s", result.key, result.reason)

    def prune(self) -> None:
        """Rewrite the results of JSONL inputs that lost records, so that results
        follow their input: a record removed from a feed is removed from its results."""
        for source_path, count in self.plan.pruned_records.items():
            logger.info(
                "removing %d result(s) of records no longer in %s", count, self.plan.locations[source_path].results
            )
            self._write_jsonl(source_path, {})

    def _write_article(self, item: WorkItem, result: ArticleResult) -> None:
        location = self.plan.location(item)
        make_output_folder(location)
        if result.status == "ok":
            target = self.config.target_language
            language = result.language or target
            files = expected_outputs(location, language, target)
            if language == target:
                texts = [result.summary]
            else:
                title = result.title_translation
                body = f"{title}\n\n{result.translation}" if title else result.translation
                texts = [result.summary, result.summary_translation, body]
            for path, text in zip(files, texts):
                atomic_write_text(path, with_final_newline(text))
            result.outputs = [str(path) for path in files]
        names = [Path(path).name for path in result.outputs]
        atomic_write_json(location.meta, self._meta(result, outputs=names))
        result.outputs.append(str(location.meta))

    def _write_jsonl(self, source_path: Path, results: dict[str, ArticleResult]) -> None:
        new = self._jsonl_records.get(source_path, {})
        carried = self.plan.carried_records.get(source_path, {})
        records = []
        for key in self.plan.jsonl_order[source_path]:
            record = new.get(key) or carried.get(key)
            if record is not None:
                records.append(record)
        location = self.plan.locations[source_path]
        make_output_folder(location)
        target = location.results
        atomic_write_jsonl(target, records)
        for key in new:
            if key in results:
                results[key].outputs = [str(target)]


def _unwritable(result: ArticleResult, exc: OutputPathError) -> None:
    """Record that ``result`` could not be written (what was written of it stays
    unmarked as done, so the next run tries it again)."""
    result.status = "failed"
    result.error = f"its outputs cannot be written: {exc}"
    result.outputs = []
