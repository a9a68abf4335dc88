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
from .writers import atomic_write_json, atomic_write_jsonl, atomic_write_text, with_final_newline

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
        """Write every item's result; OutputWriteError stops the run (finished files stay)."""
        touched: list[Path] = []
        for item in items:
            result = results[item.key]
            self.report.results.append(result)
            if result.status == "failed":
                logger.error("failed: %s: %s", result.key, result.error)
            elif result.status == "skipped":
                logger.warning("skipped: %s: %s", result.key, result.reason)
            if item.source.kind == "jsonl":
                records = self._jsonl_records.setdefault(item.source.path, {})
                records[item.key] = self._meta(result, with_texts=True)
                if item.source.path not in touched:
                    touched.append(item.source.path)
                continue
            self._write_article(item, result)
        for source_path in touched:
            self._write_jsonl(source_path, results)

    def _write_article(self, item: WorkItem, result: ArticleResult) -> None:
        location = self.plan.location(item)
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
        target = self.plan.locations[source_path].results
        atomic_write_jsonl(target, records)
        for key in new:
            if key in results:
                results[key].outputs = [str(target)]
