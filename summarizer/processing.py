"""Turning a wave of articles into results: clean, summarise, translate, assemble.

One engine per task; all segments of the wave go to each engine in one call.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Sequence

from .config import JobConfig
from .planning import WorkItem
from .progress import StageProgress
from .records import Article, ArticleResult, ReadFailure, TaskStats
from .report import JobReport, ModelUsage
from .tasks import TaskOutput, summarise, translate
from .text.clean import CleanArticle, LineFilter, clean_article
from .text.segment import SentenceSplitter, split_paragraphs

if TYPE_CHECKING:
    from .pipeline import RunOptions


def failed_result(item: ReadFailure, fingerprint: str, error: str | None = None) -> ArticleResult:
    """The result of an input that could not be processed."""
    return ArticleResult(
        key=item.key,
        status="failed",
        input_sha256=item.input_sha256,
        fingerprint=fingerprint,
        error=error or item.error,
        record_id=item.record_id,
    )


class ArticleProcessor:
    """Processes waves of work items with the configured models."""

    def __init__(
        self, config: JobConfig, fingerprint: str, options: RunOptions, report: JobReport
    ) -> None:
        self.config = config
        self.fingerprint = fingerprint
        self.options = options
        self.report = report
        self.line_filter = LineFilter(config.cleaning.drop_line_patterns)
        self.splitter = SentenceSplitter(config.language)
        self.engines: dict[str, Any] = {}

    def load_models(self) -> None:
        """Create and load both engines (ModelLoadError/ConfigError before any output)."""
        from .models.loading import ModelSpec
        from .models.seq2seq import Seq2SeqEngine

        started = time.perf_counter()
        summ, tr = self.config.summarization, self.config.translation
        cache = str(self.config.hub.cache_dir) if self.config.hub.cache_dir else None
        common = {"stop": self.options.stop, "allow_download": self.options.allow_download}
        self.engines["summarization"] = Seq2SeqEngine(
            ModelSpec(
                summ.model, summ.revision, summ.max_input_tokens, "summarization.model",
                summ.allow_pickle_weights, cache,
            ),
            self.config.runtime,
            summ.generation,
            **common,
        )
        self.engines["translation"] = Seq2SeqEngine(
            ModelSpec(
                tr.model, tr.revision, None, "translation.model", tr.allow_pickle_weights, cache
            ),
            self.config.runtime,
            tr.generation,
            relative_cap=(tr.max_new_tokens_factor, tr.max_new_tokens_margin),
            **common,
        )
        for engine in self.engines.values():
            engine.load()
        self.report.add_stage_time("load_models", time.perf_counter() - started)

    def describe_models(self) -> dict[str, Any]:
        """Model identity and placement per task, for meta files."""
        return {task: engine.describe() for task, engine in self.engines.items()}

    def record_model_usage(self) -> None:
        """Copy each engine's statistics into the report."""
        for task, engine in self.engines.items():
            self.report.models[task] = ModelUsage(engine.describe(), engine.stats)

    def process(self, wave: Sequence[WorkItem]) -> dict[str, ArticleResult]:
        """Results by key for the wave; articles interrupted by a stop are left out."""
        results: dict[str, ArticleResult] = {}
        prepared: list[tuple[Article, CleanArticle]] = []
        for item in wave:
            if isinstance(item, ReadFailure):
                results[item.key] = failed_result(item, self.fingerprint)
                continue
            clean = clean_article(
                item.title,
                item.text,
                self.line_filter,
                markdown=item.source.path.suffix.lower() == ".md",
            )
            if not clean.paragraphs:
                dropped = len(clean.dropped_lines)
                reason = "no body text" + (" (only a title line)" if clean.title else "")
                if dropped:
                    reason += f" left after cleaning ({dropped} boilerplate lines dropped)"
                failure = ReadFailure(item.key, item.source, reason, item.input_sha256, item.record_id)
                results[item.key] = failed_result(failure, self.fingerprint)
                continue
            prepared.append((item, clean))
        if not prepared:
            return results
        summaries = self._summarise(prepared)
        if self.options.stop.requested:
            return results
        translations = self._translate(prepared, summaries)
        for index, ((article, clean), summary) in enumerate(zip(prepared, summaries)):
            parts = translations[3 * index : 3 * index + 3]
            if summary.interrupted or any(part.interrupted for part in parts):
                continue
            results[article.key] = self._assemble(article, clean, summary, *parts)
        return results

    def _summarise(self, prepared: list[tuple[Article, CleanArticle]]) -> list[TaskOutput]:
        started = time.perf_counter()
        with StageProgress("summarise", self.options.show_progress) as progress:
            outputs = summarise(
                [[c.title, *c.paragraphs] if c.title else list(c.paragraphs) for _, c in prepared],
                self.engines["summarization"],
                self.splitter,
                self.config.summarization.long_input,
                progress,
            )
        self.report.add_stage_time("summarise", time.perf_counter() - started)
        return outputs

    def _translate(
        self, prepared: list[tuple[Article, CleanArticle]], summaries: list[TaskOutput]
    ) -> list[TaskOutput]:
        documents: list[list[str]] = []
        for (_, clean), summary in zip(prepared, summaries):
            documents.append([clean.title] if clean.title else [])
            documents.append(list(clean.paragraphs))
            documents.append([] if summary.error else split_paragraphs(summary.text))
        tr = self.config.translation
        started = time.perf_counter()
        with StageProgress("translate", self.options.show_progress) as progress:
            outputs = translate(
                documents,
                self.engines["translation"],
                self.splitter,
                tr.max_input_tokens,
                tr.pack_tokens,
                progress,
            )
        self.report.add_stage_time("translate", time.perf_counter() - started)
        return outputs

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
        flags = list(article.flags)
        if summary.stats.truncated_tokens:
            flags.append("truncated_input")
        if any(o.empty_segments for o in outputs) or not summary.text:
            flags.append("empty_output")
        error = next((o.error for o in outputs if o.error), None)
        result = ArticleResult(
            key=article.key,
            status="failed" if error else "ok",
            input_sha256=article.input_sha256,
            fingerprint=self.fingerprint,
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
            encoding=article.encoding,
        )
        if not error:
            result.summary = summary.text
            result.title_translation = title.text
            result.translation = body.text
            result.summary_translation = summary_translation.text
        return result
