"""``summarizer inspect``: what the job would feed the models for one article.

Shows the detected language, the cleaned title and text, the dropped lines,
the paragraphs, and for each model: how its inputs are framed (the first input
as tokens, language tag or prefix visible; the output tokens forced), and the
chunks it would get with their token counts. Only tokenizers and configs are
loaded (from the local cache), never the weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from .config import JobConfig
from .errors import ConfigError, ModelLoadError, UsageError
from .io.readers import discover, read_source
from .models.base import BaseEngine
from .models.factory import engine_for_use
from .models.families import Direction
from .models.loading import ModelUse
from .planning import assign_languages, read_limits
from .records import Article, ReadFailure
from .routing import route
from .tasks import Document, TranslationSettings, plan_summary, plan_translation, translation_budget
from .text.clean import CleanArticle, LineFilter, clean_input
from .text.segment import SentenceSplitter

_PREVIEW = 90
_TOKENS_SHOWN = 12
"""Tokens shown at each end of a framed input."""


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _PREVIEW else flat[: _PREVIEW - 1] + "…"


def inspect_file(config: JobConfig, path: Path, record_id: str | None = None) -> Iterator[str]:
    """Lines describing every article in ``path`` (or only the JSONL record ``record_id``)."""
    (source,) = discover([path], config.inputs.extensions)
    items = read_source(source, read_limits(config))
    if record_id is not None:
        items = [i for i in items if i.record_id == record_id]
        if not items:
            raise UsageError(f"{source.key}: no record with id {record_id!r}")
    for item in assign_languages(items, config):
        yield from _inspect_item(config, item)
        yield ""


def _inspect_item(config: JobConfig, item: Article | ReadFailure) -> Iterator[str]:
    yield f"== {item.key}"
    if isinstance(item, ReadFailure):
        yield f"cannot be processed: {item.error}"
        return
    clean = clean_input(item, LineFilter(config.cleaning.drop_line_patterns))
    language = item.language or "und"
    how = "forced by languages.force" if item.language_confidence is None else f"detected, confidence {item.language_confidence:.2f}"
    yield f"language        {language} ({how})"
    if item.encoding != "utf-8":
        yield f"encoding        {item.encoding}"
    for name, value in item.metadata.items():
        yield f"{name:<15} {value}"
    yield f"title           {clean.title or '(none)'}"
    yield f"dropped lines   {len(clean.dropped_lines)}"
    for line in clean.dropped_lines:
        yield f"  - {_preview(line)}"
    yield f"paragraphs      {len(clean.paragraphs)}"
    for number, paragraph in enumerate(clean.paragraphs, 1):
        yield f"  [{number}] {_preview(paragraph)}"
    splitter = SentenceSplitter(language)
    routed = route(config, language)
    if routed.skip_reason or routed.summarizer is None:
        yield f"models          none for language {language!r}: the article would be skipped"
        return
    yield from _summary_chunks(config, routed.summarizer, clean, splitter, language)
    if routed.translator is None:
        yield f"translation     none: already in the target language {config.target_language}"
    else:
        yield from _translation_chunks(config, routed.translator, clean, splitter, language)


def _engine(config: JobConfig, use: ModelUse) -> BaseEngine:
    """An engine for ``use`` whose tokenizer is all ``inspect`` loads."""
    return engine_for_use(config, use, backend="transformers")


def _framing_lines(engine: BaseEngine, direction: Direction, first: str) -> Iterator[str]:
    """How ``first`` (the model's first input) goes in: the framing, the input as tokens
    (language tag or prefix visible), and the first output tokens forced."""
    framing = engine.framing(direction)
    yield f"  framing: {engine.describe_framing(framing)} ({direction.source} -> {direction.target})"
    ids = engine.token_ids([first], framing)[0]
    tokens = engine.tokenizer.convert_ids_to_tokens(ids)
    shown = tokens if len(tokens) <= 2 * _TOKENS_SHOWN else [*tokens[:_TOKENS_SHOWN], "…", *tokens[-_TOKENS_SHOWN:]]
    yield f"  first input as tokens ({len(ids)}): {' '.join(shown)}"
    forced = [token for token in (framing.decoder_start, framing.forced_first) if token]
    yield f"  output forced to start with: {' '.join(forced) if forced else 'nothing (the model decides)'}"


def _summary_chunks(
    config: JobConfig, use: ModelUse, clean: CleanArticle, splitter: SentenceSplitter, language: str
) -> Iterator[str]:
    yield f"summarization   {use.label()}"
    document = Document(clean.titled, splitter, language, use.framing)
    try:
        engine = _engine(config, use)
        limit, count = engine.max_input_tokens, engine.counter(document.direction())
        planned = plan_summary(document, engine, config.summarization.long_input)
    except (ModelLoadError, ConfigError) as exc:
        yield f"  cannot be fed: {exc}"
        return
    long_input = config.summarization.long_input
    yield f"  input: {count(chr(10).join(document.paragraphs))} tokens, model limit {limit}, long_input: {long_input}"
    yield from _framing_lines(engine, document.direction(), planned.chunks[0])
    if planned.truncated_tokens:
        yield f"  truncated: {planned.truncated_tokens} tokens dropped"
    for number, chunk in enumerate(planned.chunks, 1):
        yield f"  chunk {number}: {count(chunk)} tokens: {_preview(chunk)}"


def _translation_chunks(
    config: JobConfig, use: ModelUse, clean: CleanArticle, splitter: SentenceSplitter, language: str
) -> Iterator[str]:
    yield f"translation     {use.label()} -> {config.target_language}"
    settings = TranslationSettings.from_config(config)
    document = Document(clean.titled, splitter, language, use.framing)
    direction = document.direction(config.target_language)
    try:
        engine = _engine(config, use)
        limit, pack = translation_budget(engine, settings)
        plans = plan_translation(document, engine, settings)
        count = engine.counter(direction)
    except (ModelLoadError, ConfigError) as exc:
        yield f"  cannot be fed: {exc}"
        return
    yield f"  limit {limit} tokens per input, short sentences packed up to {pack}"
    yield from _framing_lines(engine, direction, next((c for chunks in plans for c in chunks), ""))
    for number, chunks in enumerate(plans, 0 if clean.title else 1):
        label = "title" if number == 0 else f"paragraph {number}"
        yield f"  {label}: {len(chunks)} chunk(s)"
        for chunk in chunks:
            yield f"    {count(chunk):>4} tokens: {_preview(chunk)}"
