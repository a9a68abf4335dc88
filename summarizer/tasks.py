"""The two tasks, built from an engine, the text functions and the quality checks.

Both take the documents of a whole wave (for one model) at once and send all
their segments to the engine in one call, so batches are filled across articles.
How a document is cut for a model is decided here, once (``plan_summary``,
``plan_translation``), and ``inspect`` shows the same plans.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Protocol, Sequence

from .config import JobConfig
from .errors import ConfigError
from .flags import EMPTY_OUTPUT, NUMBER_MISMATCH, REPLY_TRIMMED, TRUNCATED_INPUT, UNSUPPORTED_DATE
from .models.base import Generation, Request
from .models.families import Direction
from .models.loading import FramingChoice
from .progress import StageProgress
from .quality import QualityChecker
from .records import TaskStats
from .text.replies import substantial
from .text.segment import SentenceSplitter, chunk_paragraphs, truncate_to_tokens

logger = logging.getLogger(__name__)

#: Chunk-summary rounds before the remaining text is truncated (with the count recorded).
MAX_SUMMARY_ROUNDS = 6


class Engine(Protocol):
    """What the tasks need from a model engine (see models.base.BaseEngine)."""

    @property
    def max_input_tokens(self) -> int: ...

    def counter(self, direction: Direction) -> Callable[[str], int]: ...

    def run(
        self,
        requests: Sequence[Request],
        on_progress: Callable[[int], None] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> list[Generation]: ...


@dataclass(frozen=True)
class Document:
    """Paragraphs to summarise or translate, with the sentence splitter of their language."""

    paragraphs: tuple[str, ...]
    splitter: SentenceSplitter
    language: str = "und"
    """The paragraphs' language (the source of their requests; the faithfulness checks')."""
    framing: FramingChoice = FramingChoice()
    """The framing overrides of the config entry whose model gets them."""

    def direction(self, target: str | None = None) -> Direction:
        """What requests for these paragraphs ask: into ``target`` (a summary: their own language)."""
        return Direction(self.language, target or self.language, self.framing)


@dataclass(frozen=True)
class TranslationSettings:
    """How documents are cut and checked for a translation model."""

    max_input_tokens: int
    """Hard limit per model input (also bounded by the model's own)."""
    pack_tokens: int
    """Short sentences of a paragraph are packed together up to this many tokens."""
    retry_overrides: Mapping[str, Any] | None = None
    """Generation settings for a second try of each flagged segment; None: no retry."""
    faithfulness_overrides: Mapping[str, Any] | None = None
    """Generation settings for a second try of a segment whose figures or dates its
    source does not back; None: no such retry."""
    target_language: str = "en"

    @classmethod
    def from_config(cls, config: JobConfig) -> TranslationSettings:
        """The settings ``config`` gives the translator (retries only with ``quality.retry``)."""
        quality = config.quality
        return cls(
            config.translation.max_input_tokens,
            config.translation.pack_tokens,
            quality.retry_generation if quality.retry else None,
            faithfulness_retry(config),
            config.target_language,
        )


def faithfulness_retry(config: JobConfig) -> Mapping[str, Any] | None:
    """The settings of the one retry of an output the faithfulness checks flag (a summary,
    a translated chunk); None when ``quality.retry`` or ``quality.faithfulness`` is off."""
    quality = config.quality
    return quality.faithfulness_retry_generation if quality.retry and quality.faithfulness else None


@dataclass
class TaskOutput:
    """One document's result for one task (filled in as its segments come back)."""

    text: str = ""
    stats: TaskStats = field(default_factory=TaskStats)
    error: str | None = None
    interrupted: bool = False
    """Some segment was not done because the run was asked to stop."""
    findings: dict[str, list[str]] = field(default_factory=dict)
    """What the faithfulness checks found in ``text``: flag -> the words."""
    removed: list[str] = field(default_factory=list)
    """What was taken off the model's outputs that make ``text`` (``Generation.removed``)."""

    def keep(self, results: Sequence[Generation]) -> None:
        """Note what was removed from ``results``, the outputs ``text`` is made of; a
        substantial removal is flagged."""
        self.removed = [piece for result in results for piece in result.removed]
        if substantial(self.removed):
            self.stats = self.stats.flagged(REPLY_TRIMMED)

    def add(self, results: Sequence[Generation], *, retry: bool = False) -> None:
        """Account for engine results belonging to this document."""
        for result in results:
            self.stats += TaskStats(
                segments=0 if retry else 1,
                retried_segments=1 if retry else 0,
                input_tokens=result.input_tokens,
                generated_tokens=result.generated_tokens,
                capped_segments=int(result.capped and not retry),
                seconds=result.seconds,
            )
            if result.interrupted:
                self.interrupted = True
            elif result.error and not self.error and not retry:
                self.error = f"generation failed: {result.error}"


@dataclass(frozen=True)
class SummaryInput:
    """What the summariser is given first for one document."""

    chunks: tuple[str, ...]
    """One input when the document fits, else its chunks (or its truncated lead)."""
    truncated_tokens: int = 0
    """Tokens dropped (``long_input: truncate`` only)."""


def plan_summary(document: Document, engine: Engine, long_input: str) -> SummaryInput:
    """How ``document`` (title first) goes to the summariser.

    A document over the model's limit is cut into chunks (``long_input: chunk``)
    or truncated to the lead that fits, with the dropped tokens counted (``truncate``).
    """
    limit, count = engine.max_input_tokens, engine.counter(document.direction())
    text = "\n".join(document.paragraphs)
    if count(text) <= limit:
        return SummaryInput((text,))
    if long_input == "truncate":
        kept, dropped = truncate_to_tokens(text, limit, count)
        return SummaryInput((kept,), dropped)
    return SummaryInput(tuple(chunk_paragraphs(document.paragraphs, document.splitter, count, limit)))


def translation_budget(engine: Engine, settings: TranslationSettings) -> tuple[int, int]:
    """(the limit per input, the packing target) for ``engine`` under ``settings``."""
    limit = min(settings.max_input_tokens, engine.max_input_tokens)
    return limit, min(settings.pack_tokens, limit)


def plan_translation(document: Document, engine: Engine, settings: TranslationSettings) -> list[list[str]]:
    """The translation model's inputs for each paragraph of ``document``: its
    sentences, short ones packed together, none over the limit."""
    limit, pack = translation_budget(engine, settings)
    count = engine.counter(document.direction(settings.target_language))
    return [chunk_paragraphs([paragraph], document.splitter, count, limit, pack) for paragraph in document.paragraphs]


def summarise(
    documents: Sequence[Document],
    engine: Engine,
    long_input: str,
    progress: StageProgress,
    checker: QualityChecker | None = None,
    retry_overrides: Mapping[str, Any] | None = None,
) -> list[TaskOutput]:
    """Summarise each document (its paragraphs, the title first).

    Each document starts from ``plan_summary``; the summaries of a chunked
    document's chunks are joined and summarised again until one input fits
    (after MAX_SUMMARY_ROUNDS what remains is truncated, with the count recorded).
    With a ``checker``, each summary is checked, its faithfulness to the document
    included; with ``retry_overrides``, a summary with figures, names or dates the
    document does not back is generated once more from the same input with those
    settings, and the version with fewer such words is kept.
    """
    limit = engine.max_input_tokens
    outputs = [TaskOutput() for _ in documents]
    pending: dict[int, list[str]] = {}
    final_inputs: dict[int, list[str]] = {}
    """The input each summary was generated from (its last round's)."""
    for index, document in enumerate(documents):
        try:
            planned = plan_summary(document, engine, long_input)
        except ConfigError as exc:  # the model has no code for this document's language
            outputs[index].error = str(exc)
            continue
        if planned.truncated_tokens:
            outputs[index].stats = _truncated(outputs[index].stats, planned.truncated_tokens)
        pending[index] = list(planned.chunks)
    for round_number in range(1, MAX_SUMMARY_ROUNDS + 1):
        if not pending:
            break
        order = list(pending)
        segments = [Request(segment, documents[index].direction()) for index in order for segment in pending[index]]
        progress.add(len(segments))
        results = engine.run(segments, progress.advance)
        following: dict[int, list[str]] = {}
        position = 0
        for index in order:
            mine = results[position : position + len(pending[index])]
            position += len(mine)
            output = outputs[index]
            output.add(mine)
            if output.error or output.interrupted:
                continue
            pieces = [r.text for r in mine if r.text]
            if len(mine) == 1 or not pieces:
                output.text = pieces[0] if pieces else ""
                output.keep(mine)
                final_inputs[index] = pending[index]
                continue
            joined, count = "\n".join(pieces), engine.counter(documents[index].direction())
            if count(joined) <= limit:
                following[index] = [joined]
            elif round_number + 1 < MAX_SUMMARY_ROUNDS:
                following[index] = chunk_paragraphs(pieces, documents[index].splitter, count, limit)
            else:
                kept, dropped = truncate_to_tokens(joined, limit, count)
                output.stats = _truncated(output.stats, dropped)
                following[index] = [kept]
        pending = following
    if checker is None:
        return outputs
    done = [i for i, output in enumerate(outputs) if not (output.error or output.interrupted)]
    for index in done:
        outputs[index].findings = _unfaithful(checker, outputs[index].text, documents[index])
    flagged = [(outputs[i], final_inputs[i], documents[i]) for i in done if outputs[i].findings and i in final_inputs]
    if retry_overrides and flagged:
        _retry_unfaithful(flagged, engine, checker, retry_overrides, progress)
    for index in done:
        output = outputs[index]
        output.stats = output.stats.flagged(*checker.text_flags(output.text), *output.findings)
    return outputs


def _unfaithful(checker: QualityChecker, text: str, document: Document) -> dict[str, list[str]]:
    """What ``text`` (a summary of ``document``, in its language) says that it does not."""
    source = "\n".join(document.paragraphs)
    return checker.faithfulness(text, source, document.language, document.language)


def _retry_unfaithful(
    flagged: list[tuple[TaskOutput, list[str], Document]],
    engine: Engine,
    checker: QualityChecker,
    overrides: Mapping[str, Any],
    progress: StageProgress,
) -> None:
    """Summarise each flagged (output, input, document) once more, from the same input,
    with ``overrides``; keep whichever version backs more of what it says."""
    segments = [Request(segment, document.direction()) for _, inputs, document in flagged for segment in inputs]
    progress.add(len(segments))
    results = iter(engine.run(segments, progress.advance, overrides=overrides))
    for output, inputs, document in flagged:
        mine = [next(results) for _ in inputs]
        output.add(mine, retry=True)
        text = " ".join(r.text for r in mine if r.text and not (r.error or r.interrupted))
        if not text:
            continue
        findings = _unfaithful(checker, text, document)
        if sum(map(len, findings.values())) < sum(map(len, output.findings.values())):
            output.text, output.findings = text, findings
            output.stats = replace(output.stats, flags=output.stats.flags - {REPLY_TRIMMED})
            output.keep(mine)
    logger.debug("summarised %d documents again for faithfulness", len(flagged))


def _truncated(stats: TaskStats, dropped: int) -> TaskStats:
    return (stats + TaskStats(truncated_tokens=dropped)).flagged(TRUNCATED_INPUT)


@dataclass
class _Segment:
    """One translation input on its way: its source, the document it belongs to, its result."""

    source: str
    output: TaskOutput
    direction: Direction
    result: Generation = Generation("", 0)
    flags: frozenset[str] = frozenset()
    unbacked: int = 0
    """Figures and dates of the result that its source does not back (a reason to retry)."""

    @property
    def language(self) -> str:
        return self.direction.source

    @property
    def request(self) -> Request:
        return Request(self.source, self.direction)


def translate(
    documents: Sequence[Document],
    engine: Engine,
    settings: TranslationSettings,
    progress: StageProgress,
    checker: QualityChecker | None = None,
) -> list[TaskOutput]:
    """Translate each document, keeping its paragraphs.

    Each paragraph is cut by ``plan_translation``; the translated chunks of a
    paragraph are joined by spaces and paragraphs by a blank line. With a
    ``checker``, each translated chunk is checked; with retry settings, every
    flagged chunk is generated once more and the better of the two is kept,
    with its remaining flags. A chunk with figures or dates its source does not
    back is generated once more with ``faithfulness_overrides`` the same way
    (the article-level checks then decide the flags).
    """
    outputs = [TaskOutput() for _ in documents]
    layouts: list[list[list[_Segment]]] = []
    for document, output in zip(documents, outputs):
        direction = document.direction(settings.target_language)
        try:
            plan = plan_translation(document, engine, settings)
        except ConfigError as exc:  # the model has no code for this document's language
            output.error, plan = str(exc), []
        layouts.append([[_Segment(chunk, output, direction) for chunk in chunks] for chunks in plan])
    segments = [segment for layout in layouts for paragraph in layout for segment in paragraph]
    progress.add(len(segments))
    for segment, result in zip(segments, engine.run([s.request for s in segments], progress.advance)):
        segment.result = result
        segment.output.add([result])
    if checker is not None:
        check = _SegmentCheck(checker, settings)
        for segment in segments:
            if not (segment.result.error or segment.result.interrupted):
                segment.flags, segment.unbacked = check(segment, segment.result.text)
        retries = (
            (settings.retry_overrides, [s for s in segments if s.flags]),
            (settings.faithfulness_overrides, [s for s in segments if s.unbacked and not s.flags]),
        )
        for overrides, flagged in retries:
            if overrides and flagged:
                _retry_flagged(flagged, engine, check, overrides, progress)
    for output, layout in zip(outputs, layouts):
        translated = []
        output.keep([segment.result for paragraph in layout for segment in paragraph])
        for paragraph in layout:
            for segment in paragraph:
                output.stats = output.stats.flagged(*segment.flags)
            text = " ".join(s.result.text for s in paragraph if s.result.text)
            if text:
                translated.append(text)
        output.text = "" if output.error else "\n\n".join(translated)
    return outputs


class _SegmentCheck:
    """A translated segment's quality flags, and how many of its figures and dates its
    own source does not back (counted only when such a retry is configured)."""

    def __init__(self, checker: QualityChecker, settings: TranslationSettings) -> None:
        self.checker, self.settings = checker, settings

    def __call__(self, segment: _Segment, text: str) -> tuple[frozenset[str], int]:
        flags = frozenset(self.checker.segment_flags(segment.source, text))
        if self.settings.faithfulness_overrides is None:
            return flags, 0
        findings = self.checker.faithfulness(
            text, segment.source, self.settings.target_language, segment.language,
            checks=(NUMBER_MISMATCH, UNSUPPORTED_DATE),
        )
        return flags, sum(map(len, findings.values()))


def _retry_flagged(
    flagged: list[_Segment],
    engine: Engine,
    check: _SegmentCheck,
    overrides: Mapping[str, Any],
    progress: StageProgress,
) -> None:
    """Generate flagged segments again with ``overrides``; keep whichever is better
    (fewer flags, then fewer unbacked figures and dates)."""
    progress.add(len(flagged))
    retries = engine.run([s.request for s in flagged], progress.advance, overrides=overrides)
    for segment, retry in zip(flagged, retries):
        segment.output.add([retry], retry=True)
        if retry.error or retry.interrupted:
            continue
        retry_flags, retry_unbacked = check(segment, retry.text)
        better = (len(retry_flags), retry_unbacked) < (len(segment.flags), segment.unbacked) or (
            EMPTY_OUTPUT in segment.flags and EMPTY_OUTPUT not in retry_flags
        )
        if better:
            segment.result, segment.flags, segment.unbacked = retry, retry_flags, retry_unbacked
    logger.debug("retried %d flagged segments", len(flagged))
