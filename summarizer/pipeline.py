"""``run_job``: the nightly job from configuration to written files.

discover -> skip what is done -> clean -> segment -> summarise -> translate ->
write (text files first, meta last) -> report. Models are loaded only when
there is work, and before anything is written, so a model problem never leaves
partial output.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .config import JobConfig
from .io.meta import article_meta
from .io.writers import atomic_write_json, atomic_write_jsonl, atomic_write_text, with_final_newline
from .planning import Plan, WorkItem, expected_outputs, make_plan
from .progress import StageProgress
from .records import Article, ArticleResult, ReadFailure, TaskStats
from .report import JobReport, ModelUsage
from .tasks import TaskOutput, summarise, translate
from .text.clean import CleanArticle, LineFilter, clean_article
from .text.segment import SentenceSplitter, split_paragraphs

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    """Per-run choices that are not configuration."""

    force: bool = False
    """Redo articles even when they are already done."""
    dry_run: bool = False
    """Only plan: read inputs and report what would be done; load no model, write nothing."""
    limit: int | None = None
    """Process at most this many new articles; the rest wait for the next run."""
    show_progress: bool = False
    """Show progress bars (the CLI turns them on when stderr is a terminal)."""


def run_job(config: JobConfig, options: RunOptions | None = None) -> JobReport:
    """Run the job described by ``config`` and return what happened."""
    options = options or RunOptions()
    plan = make_plan(config, force=options.force, limit=options.limit)
    report = JobReport(
        config_path=str(config.source) if config.source else None,
        fingerprint=plan.fingerprint,
        dry_run=options.dry_run,
        found=plan.found,
        skipped=list(plan.skipped),
        planned=[item.key for item in plan.todo],
        deferred=plan.deferred,
    )
    for failure in plan.unwritable:
        logger.warning("failed: %s: %s", failure.key, failure.error)
        report.results.append(_failed(failure.key, failure.input_sha256, failure.error, plan))
    if not options.dry_run and plan.todo:
        _Runner(config, plan, options, report).run()
    return report.finish()


def _failed(
    key: str, input_sha256: str | None, error: str, plan: Plan, record_id: str | None = None
) -> ArticleResult:
    return ArticleResult(
        key=key,
        status="failed",
        input_sha256=input_sha256,
        fingerprint=plan.fingerprint,
        error=error,
        record_id=record_id,
    )


class _Runner:
    """Processes the plan wave by wave with one engine per task."""

    def __init__(self, config: JobConfig, plan: Plan, options: RunOptions, report: JobReport):
        self.config = config
        self.plan = plan
        self.options = options
        self.report = report
        self.line_filter = LineFilter(config.cleaning.drop_line_patterns)
        self.splitter = SentenceSplitter(config.language)
        self.engines: dict[str, Any] = {}
        self.jsonl_results: dict[Path, dict[str, dict[str, Any]]] = {}

    def run(self) -> None:
        if any(isinstance(item, Article) for item in self.plan.todo):
            self._load_models()
        todo = self.plan.todo
        size = self.config.runtime.wave_articles or len(todo)
        try:
            for start in range(0, len(todo), size):
                wave = todo[start : start + size]
                self._write(wave, self._process(wave))
        finally:
            self._record_model_usage()

    def _load_models(self) -> None:
        from .models.loading import ModelSpec
        from .models.seq2seq import Seq2SeqEngine

        summ, tr = self.config.summarization, self.config.translation
        self.engines["summarization"] = Seq2SeqEngine(
            ModelSpec(summ.model, summ.revision, summ.max_input_tokens, "summarization.model"),
            self.config.runtime,
            summ.generation,
        )
        self.engines["translation"] = Seq2SeqEngine(
            ModelSpec(tr.model, tr.revision, None, "translation.model"),
            self.config.runtime,
            tr.generation,
            relative_cap=(tr.max_new_tokens_factor, tr.max_new_tokens_margin),
        )
        for engine in self.engines.values():
            engine.load()

    def _record_model_usage(self) -> None:
        for task, engine in self.engines.items():
            self.report.models[task] = ModelUsage(engine.describe(), engine.stats)

    # -- processing ----------------------------------------------------------

    def _process(self, wave: Sequence[WorkItem]) -> dict[str, ArticleResult]:
        results: dict[str, ArticleResult] = {}
        prepared: list[tuple[Article, CleanArticle]] = []
        for item in wave:
            if isinstance(item, ReadFailure):
                results[item.key] = _failed(
                    item.key, item.input_sha256, item.error, self.plan, item.record_id
                )
                continue
            clean = clean_article(item.title, item.text, self.line_filter)
            if not clean.paragraphs:
                dropped = len(clean.dropped_lines)
                reason = "no body text" + (
                    f" left after cleaning ({dropped} boilerplate lines dropped)" if dropped else ""
                )
                results[item.key] = _failed(
                    item.key, item.input_sha256, reason, self.plan, item.record_id
                )
                continue
            prepared.append((item, clean))
        if not prepared:
            return results
        show = self.options.show_progress
        with StageProgress("summarise", show) as progress:
            summaries = summarise(
                [[c.title, *c.paragraphs] if c.title else list(c.paragraphs) for _, c in prepared],
                self.engines["summarization"],
                self.splitter,
                self.config.summarization.long_input,
                progress,
            )
        documents: list[list[str]] = []
        for (_, clean), summary in zip(prepared, summaries):
            documents.append([clean.title] if clean.title else [])
            documents.append(list(clean.paragraphs))
            documents.append([] if summary.error else split_paragraphs(summary.text))
        tr = self.config.translation
        with StageProgress("translate", show) as progress:
            translations = translate(
                documents,
                self.engines["translation"],
                self.splitter,
                tr.max_input_tokens,
                tr.pack_tokens,
                progress,
            )
        for index, ((article, clean), summary) in enumerate(zip(prepared, summaries)):
            title, body, summary_translation = translations[3 * index : 3 * index + 3]
            results[article.key] = self._assemble(
                article, clean, summary, title, body, summary_translation
            )
        return results

    def _assemble(
        self,
        article: Article,
        clean: CleanArticle,
        summary: TaskOutput,
        title: TaskOutput,
        body: TaskOutput,
        summary_translation: TaskOutput,
    ) -> ArticleResult:
        translation_stats = TaskStats()
        for part in (title.stats, body.stats):
            translation_stats.segments += part.segments
            translation_stats.input_tokens += part.input_tokens
            translation_stats.generated_tokens += part.generated_tokens
            translation_stats.seconds += part.seconds
        outputs = (summary, title, body, summary_translation)
        flags = []
        if summary.stats.truncated_tokens:
            flags.append("truncated_input")
        if any(o.empty_segments for o in outputs) or not summary.text:
            flags.append("empty_output")
        error = next((o.error for o in outputs if o.error), None)
        result = ArticleResult(
            key=article.key,
            status="failed" if error else "ok",
            input_sha256=article.input_sha256,
            fingerprint=self.plan.fingerprint,
            title=clean.title,
            tasks={
                "summary": summary.stats,
                "translation": translation_stats,
                "summary_translation": summary_translation.stats,
            },
            flags=flags,
            error=error,
            dropped_lines=len(clean.dropped_lines),
            record_id=article.record_id,
            metadata=article.metadata,
        )
        if not error:
            result.summary = summary.text
            result.title_translation = title.text
            result.translation = body.text
            result.summary_translation = summary_translation.text
        return result

    # -- writing -------------------------------------------------------------

    def _meta(self, result: ArticleResult, **extra: Any) -> dict[str, Any]:
        return article_meta(
            result,
            language=self.config.language,
            target_language=self.config.translation.target_language,
            models={task: engine.describe() for task, engine in self.engines.items()},
            **extra,
        )

    def _write(self, wave: Sequence[WorkItem], results: dict[str, ArticleResult]) -> None:
        touched_jsonl: list[Path] = []
        for item in wave:
            result = results[item.key]
            self.report.results.append(result)
            if result.status == "failed":
                logger.warning("failed: %s: %s", result.key, result.error)
            if item.source.kind == "jsonl":
                records = self.jsonl_results.setdefault(item.source.path, {})
                records[item.key] = self._meta(result, with_texts=True)
                if item.source.path not in touched_jsonl:
                    touched_jsonl.append(item.source.path)
                continue
            location = self.plan.location(item)
            written = []
            if result.status == "ok":
                summary_path, summary_translation_path, translation_path = expected_outputs(
                    location, self.config
                )
                title = result.title_translation
                body = f"{title}\n\n{result.translation}" if title else result.translation
                atomic_write_text(summary_path, with_final_newline(result.summary))
                atomic_write_text(
                    summary_translation_path, with_final_newline(result.summary_translation)
                )
                atomic_write_text(translation_path, with_final_newline(body))
                written = [summary_path.name, summary_translation_path.name, translation_path.name]
            atomic_write_json(location.meta, self._meta(result, outputs=written))
        for path in touched_jsonl:
            self._write_jsonl(path)

    def _write_jsonl(self, source_path: Path) -> None:
        new = self.jsonl_results.get(source_path, {})
        carried = self.plan.carried_records.get(source_path, {})
        records = []
        for key in self.plan.jsonl_order[source_path]:
            record = new.get(key) or carried.get(key)
            if record is not None:
                records.append(record)
        atomic_write_jsonl(self.plan.locations[source_path].results, records)
