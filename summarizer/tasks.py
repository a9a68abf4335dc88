"""The two tasks, built from an engine, the text functions and the quality checks.

Both take the documents of a whole wave (for one model) at once and send all
their segments to the engine in one call, so batches are filled across articles.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, Sequence

from .progress import StageProgress
from .quality import EMPTY_OUTPUT, QualityChecker
from .records import TaskStats
from .text.segment import SentenceSplitter, chunk_paragraphs, truncate_to_tokens

logger = logging.getLogger(__name__)

#: Chunk-summary rounds before the remaining text is truncated (with the count recorded).
MAX_SUMMARY_ROUNDS = 6

TRUNCATED_INPUT = "truncated_input"


class Engine(Protocol):
    """What the tasks need from a model engine (see models.seq2seq.Seq2SeqEngine)."""

    @property
    def max_input_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def run(
        self, texts: Sequence[str], on_progress: Any = None, overrides: Any = None
    ) -> list[Any]: ...


@dataclass
class TaskOutput:
    """One document's result for one task."""

    text: str = ""
    stats: TaskStats = field(default_factory=TaskStats)
    error: str | None = None
    interrupted: bool = False
    """Some segment was not done because the run was asked to stop."""

    def add(self, results: Sequence[Any], *, retry: bool = False) -> None:
        """Account for engine results (``Generation``) belonging to this document."""
        for result in results:
            if retry:
                self.stats.retried_segments += 1
            else:
                self.stats.segments += 1
            self.stats.input_tokens += result.input_tokens
            self.stats.generated_tokens += result.generated_tokens
            self.stats.seconds += result.seconds
            if result.interrupted:
                self.interrupted = True
            elif result.error and not self.error and not retry:
                self.error = f"generation failed: {result.error}"


def summarise(
    documents: Sequence[Sequence[str]],
    splitters: Sequence[SentenceSplitter],
    engine: Engine,
    long_input: str,
    progress: StageProgress,
    checker: QualityChecker | None = None,
) -> list[TaskOutput]:
    """Summarise each document (a list of paragraphs, the title first).

    With ``long_input == "chunk"`` a document over the model's limit is cut
    into chunks, each chunk is summarised, and the joined chunk summaries are
    summarised again until one input fits. With ``"truncate"`` only the lead
    that fits is kept and the dropped tokens are counted (flag ``truncated_input``).
    ``splitters[i]`` splits document i into sentences.
    """
    limit = engine.max_input_tokens
    count = engine.count_tokens
    outputs = [TaskOutput() for _ in documents]
    pending: dict[int, list[str]] = {}
    for index, paragraphs in enumerate(documents):
        text = "\n".join(paragraphs)
        if count(text) <= limit:
            pending[index] = [text]
        elif long_input == "truncate":
            kept, dropped = truncate_to_tokens(text, limit, count)
            outputs[index].stats.truncated_tokens += dropped
            outputs[index].stats.flags.add(TRUNCATED_INPUT)
            pending[index] = [kept]
        else:
            pending[index] = chunk_paragraphs(paragraphs, splitters[index], count, limit)
    for round_number in range(1, MAX_SUMMARY_ROUNDS + 1):
        if not pending:
            break
        order = list(pending)
        segments = [segment for index in order for segment in pending[index]]
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
                continue
            joined = "\n".join(pieces)
            if count(joined) <= limit:
                following[index] = [joined]
            elif round_number + 1 < MAX_SUMMARY_ROUNDS:
                following[index] = chunk_paragraphs(pieces, splitters[index], count, limit)
            else:
                kept, dropped = truncate_to_tokens(joined, limit, count)
                output.stats.truncated_tokens += dropped
                output.stats.flags.add(TRUNCATED_INPUT)
                following[index] = [kept]
        pending = following
    for output in outputs:
        if checker is not None and not (output.error or output.interrupted):
            output.stats.flags |= checker.text_flags(output.text)
    return outputs


def translate(
    documents: Sequence[Sequence[str]],
    splitters: Sequence[SentenceSplitter],
    engine: Engine,
    max_input_tokens: int,
    pack_tokens: int,
    progress: StageProgress,
    checker: QualityChecker | None = None,
    retry_overrides: Mapping[str, Any] | None = None,
) -> list[TaskOutput]:
    """Translate each document (a list of paragraphs), keeping its paragraphs.

    Each paragraph is cut into sentence chunks (short sentences packed up to
    ``pack_tokens``, none over ``max_input_tokens`` or the model's limit); the
    translated chunks of a paragraph are joined by spaces and paragraphs by a
    blank line. With a ``checker``, each translated chunk is checked; with
    ``retry_overrides``, every flagged chunk is generated once more with those
    settings and the better of the two is kept, with its remaining flags.
    """
    limit = min(max_input_tokens, engine.max_input_tokens)
    pack = min(pack_tokens, limit)
    segments: list[str] = []
    owners: list[int] = []
    layout: list[list[int]] = []
    for doc_index, (paragraphs, splitter) in enumerate(zip(documents, splitters)):
        sizes = []
        for paragraph in paragraphs:
            chunks = chunk_paragraphs([paragraph], splitter, engine.count_tokens, limit, pack)
            segments.extend(chunks)
            owners.extend([doc_index] * len(chunks))
            sizes.append(len(chunks))
        layout.append(sizes)
    progress.add(len(segments))
    results = list(engine.run(segments, progress.advance))
    outputs = [TaskOutput() for _ in documents]
    for output, result in zip((outputs[i] for i in owners), results):
        output.add([result])
    flags = [set() for _ in segments]
    if checker is not None:
        flags = [
            set() if r.error or r.interrupted else checker.segment_flags(source, r.text)
            for source, r in zip(segments, results)
        ]
        if retry_overrides:
            _retry_flagged(segments, owners, results, flags, outputs, engine, checker, retry_overrides, progress)
    position = 0
    for output, sizes in zip(outputs, layout):
        translated = []
        for size in sizes:
            mine = range(position, position + size)
            position += size
            for index in mine:
                output.stats.flags |= flags[index]
            text = " ".join(results[i].text for i in mine if results[i].text)
            if text:
                translated.append(text)
        output.text = "" if output.error else "\n\n".join(translated)
    return outputs


def _retry_flagged(
    segments: list[str],
    owners: list[int],
    results: list[Any],
    flags: list[set[str]],
    outputs: list[TaskOutput],
    engine: Engine,
    checker: QualityChecker,
    overrides: Mapping[str, Any],
    progress: StageProgress,
) -> None:
    """Generate flagged segments again with stricter settings; keep whichever is better."""
    flagged = [i for i, found in enumerate(flags) if found]
    if not flagged:
        return
    progress.add(len(flagged))
    retries = engine.run([segments[i] for i in flagged], progress.advance, overrides=overrides)
    for index, retry in zip(flagged, retries):
        outputs[owners[index]].add([retry], retry=True)
        if retry.error or retry.interrupted:
            continue
        retry_flags = checker.segment_flags(segments[index], retry.text)
        better = len(retry_flags) < len(flags[index]) or (
            EMPTY_OUTPUT in flags[index] and EMPTY_OUTPUT not in retry_flags
        )
        if better:
            results[index], flags[index] = retry, retry_flags
    logger.debug("retried %d flagged segments", len(flagged))
