"""The segments a benchmark feeds the model: the user's articles or the synthetic corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..config import JobConfig
from ..models.families import Direction
from ..io.readers import discover, read_source
from ..records import Article
from ..tasks import Document, TranslationSettings, plan_summary, plan_translation
from ..text.clean import LineFilter, clean_input
from ..text.segment import SentenceSplitter
from .corpus import synthetic_sentences


def bench_segments(
    count: int,
    engine: Any,
    direction: Direction,
    config: JobConfig,
    inputs: Sequence[Path] = (),
) -> list[str]:
    """``count`` model inputs, cut the way the job cuts them for requests in ``direction``
    (``tasks.plan_translation`` into another language, else the chunks of ``tasks.plan_summary``).

    From ``inputs`` (article files/folders) when given, else from the synthetic
    corpus; repeated if there are too few.
    """
    task = "summarization" if direction.source == direction.target else "translation"
    splitter = SentenceSplitter(direction.source)
    if inputs:
        line_filter = LineFilter(config.cleaning.drop_line_patterns)
        documents = []
        for source in discover(inputs, config.inputs.extensions):
            for item in read_source(source):
                if isinstance(item, Article):
                    clean = clean_input(item, line_filter)
                    documents.append(list(clean.titled))
    else:
        sentences = synthetic_sentences(max(count * 8, 64))
        size = 1 if task == "translation" else 8
        documents = [sentences[i : i + size] for i in range(0, len(sentences), size)]
    settings = TranslationSettings.from_config(config)
    segments: list[str] = []
    for paragraphs in documents:
        document = Document(tuple(paragraphs), splitter, direction.source, direction.choice)
        if task == "translation":
            segments += [chunk for chunks in plan_translation(document, engine, settings) for chunk in chunks]
        else:
            segments += plan_summary(document, engine, "chunk").chunks
    if not segments:
        raise ValueError("no text found in the benchmark inputs")
    while len(segments) < count:
        segments += segments
    return segments[:count]
