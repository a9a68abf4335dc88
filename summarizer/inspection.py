"""``summarizer inspect``: what the job would feed the models for one article.

Shows the detected language, the cleaned title and text, the dropped lines,
the paragraphs, and the chunks each model would get with their token counts.
Only tokenizers are loaded (from the local cache), never the weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from .config import JobConfig
from .errors import ModelLoadError, UsageError
from .io.readers import discover, read_source
from .models.loading import ModelUse
from .planning import assign_languages, read_limits
from .records import Article, ReadFailure
from .routing import route
from .tasks import Document, TranslationSettings, plan_summary, plan_translation, translation_budget
from .text.clean import CleanArticle, LineFilter, clean_input
from .text.segment import SentenceSplitter

_PREVIEW = 90


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
    yield from _summary_chunks(config, routed.summarizer, clean, splitter)
    if routed.translator is None:
        yield f"translation     none: already in the target language {config.target_language}"
    else:
        yield from _translation_chunks(config, routed.translator, clean, splitter)


def _engine(config: JobConfig, use: ModelUse):  # noqa: ANN202 - a Seq2SeqEngine, tokenizer only
    from .models.seq2seq import Seq2SeqEngine

    return Seq2SeqEngine(use.spec, config.runtime, dict(use.generation))


def _summary_chunks(
    config: JobConfig, use: ModelUse, clean: CleanArticle, splitter: SentenceSplitter
) -> Iterator[str]:
    yield f"summarization   {use.label()}"
    try:
        engine = _engine(config, use)
        limit, count = engine.max_input_tokens, engine.count_tokens
    except ModelLoadError as exc:
        yield f"  tokenizer not available: {exc}"
        return
    document = Document(clean.titled, splitter)
    long_input = config.summarization.long_input
    yield f"  input: {count(chr(10).join(document.paragraphs))} tokens, model limit {limit}, long_input: {long_input}"
    planned = plan_summary(document, engine, long_input)
    if planned.truncated_tokens:
        yield f"  truncated: {planned.truncated_tokens} tokens dropped"
    for number, chunk in enumerate(planned.chunks, 1):
        yield f"  chunk {number}: {count(chunk)} tokens: {_preview(chunk)}"


def _translation_chunks(
    config: JobConfig, use: ModelUse, clean: CleanArticle, splitter: SentenceSplitter
) -> Iterator[str]:
    yield f"translation     {use.label()} -> {config.target_language}"
    settings = TranslationSettings.from_config(config)
    try:
        engine = _engine(config, use)
        limit, pack = translation_budget(engine, settings)
    except ModelLoadError as exc:
        yield f"  tokenizer not available: {exc}"
        return
    yield f"  limit {limit} tokens per input, short sentences packed up to {pack}"
    plans = plan_translation(Document(clean.titled, splitter), engine, settings)
    for number, chunks in enumerate(plans, 0 if clean.title else 1):
        label = "title" if number == 0 else f"paragraph {number}"
        yield f"  {label}: {len(chunks)} chunk(s)"
        for chunk in chunks:
            yield f"    {engine.count_tokens(chunk):>4} tokens: {_preview(chunk)}"
