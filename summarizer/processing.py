"""Turning work items into results: clean, route, summarise, translate, check, assemble.

Articles are routed (``routing.route``) to the summariser and translator of
their language; each model gets all of its articles' segments of a wave in one
call. Each step returns what it made and what it cost (``RunStats``); nothing
here writes a file or keeps the run's totals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

from .config import JobConfig
from .flags import (
    ALREADY_TARGET_LANGUAGE,
    CHAT_MARKUP,
    LANGUAGE_UNCERTAIN,
    NUMBER_MISMATCH,
    UNSUPPORTED_DATE,
    UNSUPPORTED_LANGUAGE,
    UNSUPPORTED_NAME,
    UNTRANSLATED,
)
from .errors import ConfigError
from .models.base import BaseEngine
from .models.families import Direction
from .models.loading import ModelUse, release_memory
from .models.pool import ModelPool
from .options import RunOptions
from .planning import Fingerprints, WorkItem
from .progress import StageProgress
from .quality import QualityChecker
from .records import Article, ArticleResult, EngineStats, ModelUsage, ReadFailure, RunStats
from .routing import Route
from .tasks import Document, TaskOutput, TranslationSettings, faithfulness_retry, summarise, translate
from .text.clean import CleanArticle, LineFilter, clean_input, has_chat_markup
from .text.segment import SentenceSplitter, split_paragraphs


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


#: The parts of an article the translator gets: name -> what to translate.
TRANSLATED_PARTS = ("title", "body", "summary")


@dataclass
class ArticleWork:
    """One article on its way through the steps (picklable: it travels between Ray workers)."""

    article: Article
    clean: CleanArticle
    route: Route
    summary: TaskOutput = field(default_factory=TaskOutput)
    translations: dict[str, TaskOutput] = field(default_factory=dict)
    """The translated parts, by name (TRANSLATED_PARTS)."""
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Description of the model that did each task."""

    @property
    def language(self) -> str:
        return self.article.language or "und"

    def parts(self) -> list[TaskOutput]:
        return [self.summary, *self.translations.values()]


@dataclass(frozen=True)
class WaveOutcome:
    """The results of a wave (articles interrupted by a stop are left out) and its cost."""

    results: dict[str, ArticleResult]
    stats: RunStats


class ArticleProcessor:
    """Processes work items with the configured models (held in its pool)."""

    def __init__(self, config: JobConfig, fingerprints: Fingerprints, options: RunOptions) -> None:
        self.config = config
        self.fingerprints = fingerprints
        self.options = options
        self.line_filter = LineFilter(config.cleaning.drop_line_patterns)
        self.checker = QualityChecker(config.quality)
        self.pool = ModelPool(config, options.stop, options.allow_download)
        self._splitters: dict[str, SentenceSplitter] = {}
        self._loading = 0.0
        self._reported: dict[str, EngineStats] = {}

    def splitter(self, language: str) -> SentenceSplitter:
        """The sentence splitter for ``language`` (built once)."""
        if language not in self._splitters:
            self._splitters[language] = SentenceSplitter(language)
        return self._splitters[language]

    def check_models(self, todo: Sequence[WorkItem]) -> None:
        """Before any output: ModelLoadError if a model some article needs is missing,
        ConfigError if one cannot be driven or cannot frame any of its articles."""
        needs: dict[ModelUse, set[Direction]] = {}
        for item in todo:
            if isinstance(item, Article) and item.route is not None and item.route.skip_reason is None:
                for use, direction in item.route.directions():
                    needs.setdefault(use, set()).add(direction)
        self.pool.check_available(needs)

    def process(self, wave: Sequence[WorkItem]) -> WaveOutcome:
        """Results by key for the wave; articles interrupted by a stop are left out."""
        results, work = self.prepare(wave)
        if not work:
            return WaveOutcome(results, RunStats())
        stats = self.summarise(work)
        if self.options.stop.requested:
            return WaveOutcome(results, stats)
        stats += self.translate(work)
        return WaveOutcome({**results, **self.assemble(work)}, stats)

    def prepare(self, wave: Sequence[WorkItem]) -> tuple[dict[str, ArticleResult], list[ArticleWork]]:
        """Clean and route: results of the items that need no model (unreadable,
        empty, unsupported language), and the work for the rest."""
        results: dict[str, ArticleResult] = {}
        work: list[ArticleWork] = []
        for item in wave:
            outcome = self._prepare_one(item)
            if isinstance(outcome, ArticleWork):
                work.append(outcome)
            else:
                results[item.key] = outcome
        return results, work

    def summarise(self, work: list[ArticleWork]) -> RunStats:
        """Summarise every article of ``work``, one model after the other; returns the cost."""
        return self._step("summarise", lambda: self._summarise(work))

    def translate(self, work: list[ArticleWork]) -> RunStats:
        """Translate the title, body and summary of every summarised article that needs it."""
        todo = [w for w in work if w.route.translator is not None and not w.summary.error]
        return self._step("translate", lambda: self._translate(todo))

    def assemble(self, work: list[ArticleWork]) -> dict[str, ArticleResult]:
        """Results by key; articles interrupted by a stop are left out."""
        return {
            item.article.key: self._assemble(item)
            for item in work
            if not any(part.interrupted for part in item.parts())
        }

    def failed(self, item: ArticleWork, error: str) -> ArticleResult:
        """The result of an article whose processing failed with ``error``."""
        return self._result(item.article, item.clean, "failed", error=error)

    def _step(self, stage: str, step: Callable[[], None]) -> RunStats:
        """Run ``step``: its wall time (model loading apart), and the models' usage during it."""
        started, loading_before = time.perf_counter(), self._loading
        step()
        release_memory()
        loading = self._loading - loading_before
        stats = RunStats(
            stage_seconds={stage: time.perf_counter() - started - loading, "load_models": loading}
        )
        return stats + RunStats(models=self._usage_since_last_step())

    def _usage_since_last_step(self) -> dict[str, ModelUsage]:
        usage = {}
        for engine in self.pool.engines.values():
            key = engine.spec.config_key
            spent = engine.stats - self._reported.get(key, EngineStats())
            self._reported[key] = engine.stats
            if spent != EngineStats():
                usage[key] = ModelUsage(engine.describe(), spent)
        return usage

    def _engine(self, use: ModelUse) -> BaseEngine:
        """The pool's engine for ``use``; time spent loading is kept apart."""
        started = time.perf_counter()
        engine = self.pool.engine(use)
        self._loading += time.perf_counter() - started
        return engine

    def _prepare_one(self, item: WorkItem) -> ArticleWork | ArticleResult:
        if isinstance(item, ReadFailure):
            return failed_result(item, self.fingerprints.of_config())
        clean = clean_input(item, self.line_filter)
        if not clean.has_text:
            reason = "no body text" + (" (only a title line)" if clean.title and not clean.paragraphs else "")
            if clean.paragraphs:
                reason += " once chat markup is set aside (the article holds nothing else)"
            if clean.dropped_lines:
                reason += f" left after cleaning ({len(clean.dropped_lines)} boilerplate lines dropped)"
            failure = ReadFailure(item.key, item.source, reason, item.input_sha256, item.record_id)
            return failed_result(failure, self.fingerprints.for_language(item.language or "und"))
        routed = item.route or self.fingerprints.skip_rules.routes.route(item.language or "und")  # planned, or now
        if routed.skip_reason:
            flags = (UNSUPPORTED_LANGUAGE,)
            return self._result(item, clean, "skipped", flags=flags, reason=routed.skip_reason)
        return ArticleWork(item, clean, routed)

    def _result(self, article: Article, clean: CleanArticle, status: str, **fields: Any) -> ArticleResult:
        flags = [*article.flags, *fields.pop("flags", ())]
        confidence = article.language_confidence
        if confidence is not None and confidence < self.config.languages.min_confidence:
            flags.insert(len(article.flags), LANGUAGE_UNCERTAIN)
        return ArticleResult(
            key=article.key,
            status=status,  # type: ignore[arg-type]
            input_sha256=article.input_sha256,
            fingerprint=self.fingerprints.for_language(article.language or "und"),
            title=clean.title,
            flags=tuple(flags),
            dropped_lines=len(clean.dropped_lines),
            record_id=article.record_id,
            metadata=article.metadata,
            encoding=article.encoding,
            language=article.language,
            language_confidence=confidence,
            detected_language=article.detected_language,
            **fields,
        )

    def _summarise(self, work: list[ArticleWork]) -> None:
        with StageProgress("summarise", self.options.show_progress) as progress:
            for use, items in _by_engine(work, "summarization"):
                if self.options.stop.requested:
                    break
                engine = self._engine(use)
                documents = []
                for item in items:
                    framing = item.route.summarizer.framing  # type: ignore[union-attr]
                    document = Document(item.clean.titled, self.splitter(item.language), item.language, framing)
                    item.models["summarization"] = _described(engine, document.direction())
                    documents.append(document)
                long_input = self.config.summarization.long_input
                retry = faithfulness_retry(self.config)
                outputs = summarise(documents, engine, long_input, progress, self.checker, retry)
                for item, output in zip(items, outputs):
                    item.summary = output

    def _translate(self, work: list[ArticleWork]) -> None:
        settings = TranslationSettings.from_config(self.config)
        with StageProgress("translate", self.options.show_progress) as progress:
            for use, items in _by_engine(work, "translation"):
                if self.options.stop.requested:
                    for item in items:
                        item.translations["body"] = TaskOutput(interrupted=True)
                    continue
                engine = self._engine(use)
                parts: list[tuple[ArticleWork, str, Document]] = []
                for item in items:
                    splitter, framing = self.splitter(item.language), item.route.translator.framing  # type: ignore[union-attr]
                    direction = Document((), splitter, item.language, framing).direction(self.config.target_language)
                    item.models["translation"] = _described(engine, direction)
                    texts = {
                        "title": (item.clean.title,) if item.clean.title else (),
                        "body": item.clean.paragraphs,
                        "summary": tuple(split_paragraphs(item.summary.text)),
                    }
                    parts += [
                        (item, name, Document(texts[name], splitter, item.language, framing)) for name in TRANSLATED_PARTS
                    ]
                outputs = translate([doc for _, _, doc in parts], engine, settings, progress, self.checker)
                for (item, name, _), output in zip(parts, outputs):
                    item.translations[name] = output
                for item in items:
                    self._check_translations(item)

    def _check_translations(self, item: ArticleWork) -> None:
        """The English texts against the article: the translation and the English summary
        each flagged when still in the article's language; the translation's numbers and
        dates (names are often translated); the English summary's numbers and dates (backed
        by the article or its translation, whose own are checked) and its names (backed by
        the article alone: a name the translation invented must not back the summary)."""
        title, body, summary = (item.translations[name] for name in TRANSLATED_PARTS)
        source = "\n".join(item.clean.titled)
        target, language = self.config.target_language, item.language
        translated = f"{title.text}\n{body.text}"
        figures = (NUMBER_MISMATCH, UNSUPPORTED_DATE)
        body.findings = self.checker.faithfulness(translated, source, target, language, checks=figures)
        summary.findings = {
            **self.checker.faithfulness(summary.text, f"{source}\n{translated}", target, language, checks=figures),
            **self.checker.faithfulness(summary.text, source, target, language, checks=(UNSUPPORTED_NAME,)),
        }
        for part in (body, summary):
            untranslated = {UNTRANSLATED} if self.checker.is_untranslated(part.text, language) else set()
            part.stats = part.stats.flagged(*part.findings, *untranslated)

    def _assemble(self, item: ArticleWork) -> ArticleResult:
        article, clean = item.article, item.clean
        error = next((part.error for part in item.parts() if part.error), None)
        tasks = {"summary": item.summary.stats}
        flags: list[str] = []
        translated = {name: item.translations.get(name) or TaskOutput() for name in TRANSLATED_PARTS}
        if item.route.translator is None:
            flags.append(ALREADY_TARGET_LANGUAGE)
        else:
            tasks["translation"] = translated["title"].stats + translated["body"].stats
            tasks["summary_translation"] = translated["summary"].stats
        for stats in tasks.values():
            flags += sorted(stats.flags - set(flags) - set(article.flags))
        outputs = [item.summary.text, *(part.text for part in translated.values())]
        if any(has_chat_markup(text) for text in [*clean.titled, *outputs]):
            flags.append(CHAT_MARKUP)  # fed as text, but the model may have obeyed it (or echoed it)
        texts: dict[str, str] = {}
        if not error:
            texts["summary"] = item.summary.text
            if item.route.translator is None:
                texts.update(title_translation=clean.title, summary_translation=item.summary.text)
            else:
                texts.update(
                    title_translation=translated["title"].text,
                    translation=translated["body"].text,
                    summary_translation=translated["summary"].text,
                )
        findings = {
            task: {flag: tuple(values) for flag, values in part.findings.items()}
            for task, part in (
                ("summary", item.summary),
                ("translation", translated["body"]),
                ("summary_translation", translated["summary"]),
            )
            if part.findings
        }
        removed = {
            task: tuple(piece for part in parts for piece in part.removed)
            for task, parts in (
                ("summary", [item.summary]),
                ("translation", [translated["title"], translated["body"]]),
                ("summary_translation", [translated["summary"]]),
            )
            if any(part.removed for part in parts)
        }
        status = "failed" if error else "ok"
        result = self._result(article, clean, status, flags=flags, error=error, models=dict(item.models), tasks=tasks)
        return replace(result, findings=findings, removed=removed, **texts)


def _by_engine(work: list[ArticleWork], role: str) -> list[tuple[ModelUse, list[ArticleWork]]]:
    """The articles of ``work`` grouped by the engine of their ``role``'s model: one model
    serving several languages gets all their articles (each keeps its own framing)."""
    groups: dict[Any, tuple[ModelUse, list[ArticleWork]]] = {}
    for item in work:
        use = item.route.summarizer if role == "summarization" else item.route.translator
        assert use is not None, "routed work has its models"
        groups.setdefault(use.engine_key, (use, []))[1].append(item)
    return list(groups.values())


def _described(engine: BaseEngine, direction: Direction) -> dict[str, Any]:
    """The engine's description for a meta file, with how this article was fed."""
    described = engine.describe()
    try:
        framing = engine.framing(direction)
    except ConfigError:
        return described  # the article fails with the reason
    described["framing"] = engine.describe_framing(framing)
    if framing.prompt_id:
        described["prompt"] = framing.prompt_id
    return described
