"""The segments a benchmark feeds the model: the user's articles or the synthetic corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..config import JobConfig
from ..io.readers import discover, read_source
from ..records import Article
from ..text.clean import LineFilter, clean_article
from ..text.segment import SentenceSplitter, chunk_paragraphs
from .corpus import synthetic_sentences


def bench_segments(
    task: str,
    count: int,
    engine: Any,
    config: JobConfig,
    inputs: Sequence[Path] = (),
) -> list[str]:
    """``count`` model inputs, cut the way the job cuts them for ``task``.

    From ``inputs`` (article files/folders) when given, else from the synthetic
    corpus; repeated if there are too few.
    """
    splitter = SentenceSplitter(config.language)
    if inputs:
        line_filter = LineFilter(config.cleaning.drop_line_patterns)
        documents = []
        for source in discover(inputs, config.inputs.extensions):
            for item in read_source(source):
                if isinstance(item, Article):
                    clean = clean_article(item.title, item.text, line_filter)
                    documents.append(([clean.title] if clean.title else []) + list(clean.paragraphs))
    else:
        sentences = synthetic_sentences(max(count * 8, 64))
        size = 1 if task == "translation" else 8
        documents = [sentences[i : i + size] for i in range(0, len(sentences), size)]
    limit = engine.max_input_tokens
    segments: list[str] = []
    for paragraphs in documents:
        if task == "translation":
            budget = min(config.translation.max_input_tokens, limit)
            pack = min(config.translation.pack_tokens, budget)
            for paragraph in paragraphs:
                segments += chunk_paragraphs([paragraph], splitter, engine.count_tokens, budget, pack)
        else:
            segments += chunk_paragraphs(paragraphs, splitter, engine.count_tokens, limit)
    if not segments:
        raise ValueError("no text found in the benchmark inputs")
    while len(segments) < count:
        segments += segments
    return segments[:count]
