"""Turning a wave of articles into results: clean, route by language, summarise,
translate, check quality, assemble.

Articles are routed to the summariser and translator of their language; each
model gets all of its articles' segments of the wave in one call.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any, Sequence

from .config import JobConfig
from .models.base import release_memory
from .models.pool import ModelPool, ModelUse, summarization_use, translation_use
from .planning import Fingerprints, WorkItem
from .progress import StageProgress
from .quality import UNTRANSLATED, QualityChecker
from .records import Article, ArticleResult, ReadFailure, TaskStats
from .report import JobReport, ModelUsage
from .tasks import TaskOutput, summarise, translate
from .text.clean import CleanArticle, LineFilter, clean_article
from .text.segment import SentenceSplitter, split_paragraphs

if TYPE_CHECKING:
    from .pipeline import RunOptions

UNSUPPORTED_LANGUAGE = "unsupported_language"
ALREADY_TARGET_LANGUAGE = "already_target_language"
LANGUAGE_UNCERTAIN = "language_uncertain"


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


class ArticleWork:
    """One article on its way through the wave (picklable: it travels between Ray workers)."""

    def __init__(self, article: Article, clean: CleanArticle, summarizer: ModelUse, translator: ModelUse | None):
        self.article = article
        self.clean = clean
        self.summarizer = summarizer
        self.translator = translator
        self.summary = TaskOutput()
        self.title = TaskOutput()
        self.body = TaskOutput()
        self.summary_translation = TaskOutput()
        self.models: dict[str, dict[str, Any]] = {}
        """Description of the model that did each task."""

    @property
    def language(self) -> str:
        return self.article.language or "und"

    def parts(self) -> tuple[TaskOutput, ...]:
        return (self.summary, self.title, self.body, self.summary_translation)


class ArticleProcessor:
    """Processes waves of work items with the configured models."""

    def __init__(
        self, config: JobConfig, fingerprints: Fingerprints, options: RunOptions, report: JobReport
    ) -> None:
        self.config = config
        self.fingerprints = fingerprints
        self.options = options
        self.report = report
        self.line_filter = LineFilter(config.cleaning.drop_line_patterns)
        self.checker = QualityChecker(config.quality)
        self.pool = ModelPool(config, options.stop, options.allow_download)
        self._splitters: dict[str, SentenceSplitter] = {}
        self._loading_seconds = 0.0

    def splitter(self, language: str) -> SentenceSplitter:
        """The sentence splitter for ``language`` (built once)."""
        if language not in self._splitters:
            self._splitters[language] = SentenceSplitter(language)
        return self._splitters[language]

    def _engine(self, use: ModelUse) -> Any:
        """The pool's engine for ``use``; time spent loading goes to the load_models stage."""
        started = time.perf_counter()
        engine = self.pool.engine(use)
        spent = time.perf_counter() - started
        self.report.add_stage_time("load_models", spent)
        self._loading_seconds += spent
        return engine

    def _stage_time(self, stage: str, started: float, loading_before: float) -> None:
        loading = self._loading_seconds - loading_before
        self.report.add_stage_time(stage, time.perf_counter() - started - loading)

    def check_models(self, todo: Sequence[WorkItem]) -> None:
        """ModelLoadError before any output if a model some article needs is missing."""
        uses: set[ModelUse] = set()
        for item in todo:
            if isinstance(item, Article) and item.language:
                for use in (summarization_use(self.config, item.language), translation_use(self.config, item.language)):
                    if use is not None:
                        uses.add(use)
        self.pool.check_available(uses)

    def record_model_usage(self) -> None:
        """Copy each engine's statistics into the report."""
        for use, engine in self.pool.engines.items():
            self.report.models[use.spec.config_key] = ModelUsage(engine.describe(), engine.stats)

    def process(self, wave: Sequence[WorkItem]) -> dict[str, ArticleResult]:
        """Results by key for the wave; articles interrupted by a stop are left out."""
        results, work = self.prepare(wave)
        if not work:
            return results
        self.summarise(work)
        if self.options.stop.requested:
            return results
        self.translate(work)
        results.update(self.assemble(work))
        return results

    def prepare(self, wave: Sequence[WorkItem]) -> tuple[dict[str, ArticleResult], list[ArticleWork]]:
        """Clean and route: results of the items that need no model (unreadable,
        empty, unsupported language), and the work for the rest."""
        results: dict[str, ArticleResult] = {}
        work: list[ArticleWork] = []
        for item in wave:
            outcome = self._route(item)
            if isinstance(outcome, ArticleWork):
                work.append(outcome)
            else:
                results[item.key] = outcome
        return results, work

    def summarise(self, work: list[ArticleWork]) -> None:
        """Summarise every article of ``work``, grouped by model."""
        self._summarise(work)
        release_memory()

    def translate(self, work: list[ArticleWork]) -> None:
        """Translate the title, body and summary of every summarised article that needs it."""
        self._translate([w for w in work if w.translator is not None and not w.summary.error])
        release_memory()

    def assemble(self, work: list[ArticleWork]) -> dict[str, ArticleResult]:
        """Results by key; articles interrupted by a stop are left out."""
        return {
            item.article.key: self._assemble(item)
            for item in work
            if not any(part.interrupted for part in item.parts())
        }

    def _route(self, item: WorkItem) -> ArticleWork | ArticleResult:
        if isinstance(item, ReadFailure):
            return failed_result(item, self.fingerprints.of_config())
        clean = clean_article(
            item.title, item.text, self.line_filter, markdown=item.source.path.suffix.lower() in (".md",)
        )
        language = item.language or "und"
        fingerprint = self.fingerprints.for_language(language)
        if not clean.paragraphs:
            reason = "no body text" + (" (only a title line)" if clean.title else "")
            if clean.dropped_lines:
                reason += f" left after cleaning ({len(clean.dropped_lines)} boilerplate lines dropped)"
            failure = ReadFailure(item.key, item.source, reason, item.input_sha256, item.record_id)
            return failed_result(failure, fingerprint)
        summarizer = summarization_use(self.config, language)
        translator = translation_use(self.config, language)
        missing = []
        if summarizer is None:
            missing.append("summarization")
        if translator is None and language != self.config.target_language:
            missing.append("translation")
        if missing:
            result = self._result(item, clean, "skipped", fingerprint)
            result.flags.append(UNSUPPORTED_LANGUAGE)
            result.reason = (
                f"no {' or '.join(missing)} model for language {language!r} "
                f"(add one under {missing[0]}.models)"
            )
            return result
        return ArticleWork(item, clean, summarizer, translator)

    def failed(self, item: ArticleWork, error: str) -> ArticleResult:
        """The result of an article whose processing failed with ``error``."""
        result = self._result(item.article, item.clean, "failed", self.fingerprints.for_language(item.language))
        result.error = error
        return result

    def _result(self, article: Article, clean: CleanArticle, status: str, fingerprint: str) -> ArticleResult:
        flags = list(article.flags)
        confidence = article.language_confidence
        if confidence is not None and confidence < self.config.languages.min_confidence:
            flags.append(LANGUAGE_UNCERTAIN)
        return ArticleResult(
            key=article.key,
            status=status,  # type: ignore[arg-type]
            input_sha256=article.input_sha256,
            fingerprint=fingerprint,
            title=clean.title,
            flags=flags,
            dropped_lines=len(clean.dropped_lines),
            record_id=article.record_id,
            metadata=article.metadata,
            encoding=article.encoding,
            language=article.language,
            language_confidence=confidence,
            detected_language=article.detected_language,
        )

    def _summarise(self, work: list[ArticleWork]) -> None:
        started, loading = time.perf_counter(), self._loading_seconds
        groups: dict[ModelUse, list[ArticleWork]] = defaultdict(list)
        for item in work:
            groups[item.summarizer].append(item)
        with StageProgress("summarise", self.options.show_progress) as progress:
            for use, items in groups.items():
                if self.options.stop.requested:
                    break
                engine = self._engine(use)
                for item in items:
                    item.models["summarization"] = engine.describe()
                outputs = summarise(
                    [[i.clean.title, *i.clean.paragraphs] if i.clean.title else list(i.clean.paragraphs) for i in items],
                    [self.splitter(i.language) for i in items],
                    engine,
                    self.config.summarization.long_input,
                    progress,
                    self.checker,
                )
                for item, output in zip(items, outputs):
                    item.summary = output
        self._stage_time("summarise", started, loading)

    def _translate(self, work: list[ArticleWork]) -> None:
        started, loading = time.perf_counter(), self._loading_seconds
        groups: dict[ModelUse, list[ArticleWork]] = defaultdict(list)
        for item in work:
            groups[item.translator].append(item)  # type: ignore[index]
        tr, quality = self.config.translation, self.config.quality
        with StageProgress("translate", self.options.show_progress) as progress:
            for use, items in groups.items():
                if self.options.stop.requested:
                    for item in items:
                        item.body.interrupted = True
                    continue
                documents: list[list[str]] = []
                for item in items:
                    documents.append([item.clean.title] if item.clean.title else [])
                    documents.append(list(item.clean.paragraphs))
                    documents.append(split_paragraphs(item.summary.text))
                engine = self._engine(use)
                for item in items:
                    item.models["translation"] = engine.describe()
                outputs = translate(
                    documents,
                    [self.splitter(i.language) for i in items for _ in range(3)],
                    engine,
                    tr.max_input_tokens,
                    tr.pack_tokens,
                    progress,
                    self.checker,
                    quality.retry_generation if quality.retry else None,
                )
                for index, item in enumerate(items):
                    item.title, item.body, item.summary_translation = outputs[3 * index : 3 * index + 3]
                    if self.checker.is_untranslated(item.body.text, item.language):
                        item.body.stats.flags.add(UNTRANSLATED)
        self._stage_time("translate", started, loading)

    def _assemble(self, item: ArticleWork) -> ArticleResult:
        article, clean = item.article, item.clean
        error = next((part.error for part in item.parts() if part.error), None)
        result = self._result(
            article, clean, "failed" if error else "ok", self.fingerprints.for_language(item.language)
        )
        result.error = error
        result.models = dict(item.models)
        result.tasks = {"summary": item.summary.stats}
        if item.translator is None:
            result.flags.append(ALREADY_TARGET_LANGUAGE)
        else:
            result.tasks["translation"] = _combined(item.title.stats, item.body.stats)
            result.tasks["summary_translation"] = item.summary_translation.stats
        for stats in result.tasks.values():
            result.flags.extend(sorted(stats.flags - set(result.flags)))
        if not error:
            result.summary = item.summary.text
            if item.translator is None:
                result.title_translation, result.summary_translation = clean.title, item.summary.text
            else:
                result.title_translation = item.title.text
                result.translation = item.body.text
                result.summary_translation = item.summary_translation.text
        return result


def _combined(*parts: TaskStats) -> TaskStats:
    total = TaskStats()
    for part in parts:
        total.segments += part.segments
        total.retried_segments += part.retried_segments
        total.input_tokens += part.input_tokens
        total.generated_tokens += part.generated_tokens
        total.truncated_tokens += part.truncated_tokens
        total.seconds += part.seconds
        total.flags |= part.flags
    return total
