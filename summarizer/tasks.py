"""The two tasks, built from an engine and the text functions.

Both take the documents of a whole wave at once and send all their segments to
the engine in one call, so batches are filled across articles.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from .progress import StageProgress
from .records import TaskStats
from .text.segment import SentenceSplitter, chunk_paragraphs, truncate_to_tokens

logger = logging.getLogger(__name__)

#: Chunk-summary rounds before the remaining text is truncated (with the count recorded).
MAX_SUMMARY_ROUNDS = 6


class Engine(Protocol):
    """What the tasks need from a model engine (see models.seq2seq.Seq2SeqEngine)."""

    @property
    def max_input_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def run(self, texts: Sequence[str], on_progress=None) -> list: ...  # noqa: ANN001


@dataclass
class TaskOutput:
    """One document's result for one task."""

    text: str = ""
    stats: TaskStats = field(default_factory=TaskStats)
    error: str | None = None
    empty_segments: int = 0
    """Segments for which the model produced nothing."""
    interrupted: bool = False
    """Some segment was not done because the run was asked to stop."""

    def add(self, results: Sequence) -> None:  # noqa: ANN001 - Generation results
        """Account for a set of engine results belonging to this document."""
        for result in results:
            self.stats.segments += 1
            self.stats.input_tokens += result.input_tokens
            self.stats.generated_tokens += result.generated_tokens
            self.stats.seconds += result.seconds
            if result.interrupted:
                self.interrupted = True
            elif result.error and not self.error:
                self.error = f"generation failed: {result.error}"
            elif not result.error and not result.text:
                self.empty_segments += 1


def summarise(
    documents: Sequence[Sequence[str]],
    engine: Engine,
    splitter: SentenceSplitter,
    long_input: str,
    progress: StageProgress,
) -> list[TaskOutput]:
    """Summarise each document (a list of paragraphs, the title first).

    With ``long_input == "chunk"`` a document over the model's limit is cut
    into chunks, each chunk is summarised, and the joined chunk summaries are
    summarised again until one input fits. With ``"truncate"`` only the lead
    that fits is kept and the dropped tokens are counted.
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
            pending[index] = [kept]
        else:
            pending[index] = chunk_paragraphs(paragraphs, splitter, count, limit)
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
                following[index] = chunk_paragraphs(pieces, splitter, count, limit)
            else:
                kept, dropped = truncate_to_tokens(joined, limit, count)
                output.stats.truncated_tokens += dropped
                following[index] = [kept]
        pending = following
    return outputs


def translate(
    documents: Sequence[Sequence[str]],
    engine: Engine,
    splitter: SentenceSplitter,
    max_input_tokens: int,
    pack_tokens: int,
    progress: StageProgress,
) -> list[TaskOutput]:
    """Translate each document (a list of paragraphs), keeping its paragraphs.

    Each paragraph is cut into sentence chunks (short sentences packed up to
    ``pack_tokens``, none over ``max_input_tokens`` or the model's limit); the
    translated chunks of a paragraph are joined by spaces and paragraphs by a
    blank line.
    """
    limit = min(max_input_tokens, engine.max_input_tokens)
    pack = min(pack_tokens, limit)
    segments: list[str] = []
    layout: list[list[int]] = []
    for paragraphs in documents:
        sizes = []
        for paragraph in paragraphs:
            chunks = chunk_paragraphs([paragraph], splitter, engine.count_tokens, limit, pack)
            segments.extend(chunks)
            sizes.append(len(chunks))
        layout.append(sizes)
    progress.add(len(segments))
    results = engine.run(segments, progress.advance)
    outputs = []
    position = 0
    for sizes in layout:
        output = TaskOutput()
        translated = []
        for size in sizes:
            mine = results[position : position + size]
            position += size
            output.add(mine)
            text = " ".join(r.text for r in mine if r.text)
            if text:
                translated.append(text)
        output.text = "" if output.error else "\n\n".join(translated)
        outputs.append(output)
    return outputs
