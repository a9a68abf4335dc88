"""The model sections, ``summarization`` and ``translation``, and their model entries."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from .checks import at_most as _at_most
from .checks import check as _check
from .checks import not_negative as _not_negative
from .checks import positive as _positive
from .defaults import CONVERTIBLE_BY_DEFAULT, GENERATION_KEYS, KNOWN_SAFETENSORS_REVISIONS
from .prompts import PromptConfig


def _language_code(value: Any) -> str | None:
    if value is None:
        return None
    ok = re.fullmatch(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?", value)
    return None if ok else "must be a language code such as 'fr' or 'en'"


def _language_key(value: str) -> str | None:
    return None if value == "default" else _language_code(value)


def _model_token(value: str | None) -> str | None:
    if value is None or re.fullmatch(r"\S{1,64}", value):
        return None
    return "must be one token of the model's tokenizer, such as 'fra_Latn', 'fr_XX' or '>>fra<<'"


def _prefix_text(value: str | None) -> str | None:
    return None if value is None or len(value) <= 200 else "must be at most 200 characters"


@dataclass(frozen=True)
class ModelChoice:
    """One model, e.g. for one language in ``models``."""

    model: str = field(metadata={"model": True})
    """Hub id (``org/name``), a local folder (absolute, or starting with
    ``./``/``../``, relative to the config file) holding safetensors weights, or a
    ``.gguf`` file (an instruct model in one file, converted once by ``summarizer fetch``)."""

    revision: str | None = None
    """Hub revision (commit hash, branch, tag or ``refs/pr/N``); ignored for local
    folders. Empty: the pinned safetensors revision for a model listed in
    KNOWN_SAFETENSORS_REVISIONS, else the main branch."""

    allow_pickle_weights: bool = False
    """Allow pickle weights (``pytorch_model.bin``) when a model has no
    safetensors. Pickle files can run code when loaded: only for models you trust."""

    convert_pickle_weights: bool | None = None
    """Let ``fetch`` convert the model's pickle weights to safetensors when the hub
    offers no safetensors for it (the configured revision gone, no conversion pull
    request, none on the main branch). The pickle is loaded with torch's restricted
    loader (``weights_only``), which runs no code; only the converted safetensors are
    ever loaded by a run. Empty: on for the two default models, off for others."""

    generation: dict[str, Any] = field(default_factory=dict, metadata={"settings": GENERATION_KEYS})
    """Generation overrides for this model, on top of the section's ``generation``."""

    source_code: str | None = field(default=None, metadata=_check(_model_token))
    """The model's token for the source language, as its tokenizer spells it (NLLB
    ``fra_Latn``, M2M100 ``__fr__``, mBART-50 ``fr_XX``), for the articles this entry serves.
    Empty: the code of each article's language. ``check`` refuses a code the tokenizer does
    not know, and models that take none (docs/models-and-languages.md, "Model families")."""

    target_code: str | None = field(default=None, metadata=_check(_model_token))
    """The model's own token for the output language (``eng_Latn``, ``en_XX``, ``<2en>``,
    ``>>eng<<``). Empty: the code of ``translation.target`` (of the article's language for a
    summariser)."""

    prefix: str | None = field(default=None, metadata={"text": True, **_check(_prefix_text)})
    """Text put before every input, replacing the task prefix of the model's own config
    (T5: ``summarize: ``); ``""``: none. Empty: the model's own, if any."""

    def __post_init__(self) -> None:
        if self.revision is None and self.model in KNOWN_SAFETENSORS_REVISIONS:
            object.__setattr__(self, "revision", KNOWN_SAFETENSORS_REVISIONS[self.model])
        if self.convert_pickle_weights is None:
            object.__setattr__(self, "convert_pickle_weights", self.model in CONVERTIBLE_BY_DEFAULT)


@dataclass(frozen=True)
class _ModelSection:
    """What both model sections share: one model (``model``) or one per language (``models``)."""

    model: str | None = field(default=None, metadata={"model": True})
    """A single model, for the articles in the job's ``language`` (the older form of ``models``)."""

    revision: str | None = None
    """Revision of ``model``; see ModelChoice.revision."""

    allow_pickle_weights: bool = False
    """For ``model``; see ModelChoice.allow_pickle_weights."""

    convert_pickle_weights: bool | None = None
    """For ``model``; see ModelChoice.convert_pickle_weights."""

    source_code: str | None = field(default=None, metadata=_check(_model_token))
    """For ``model``; see ModelChoice.source_code."""

    target_code: str | None = field(default=None, metadata=_check(_model_token))
    """For ``model``; see ModelChoice.target_code."""

    prefix: str | None = field(default=None, metadata={"text": True, **_check(_prefix_text)})
    """For ``model``; see ModelChoice.prefix."""

    models: dict[str, ModelChoice] = field(
        default_factory=dict, metadata={"choices": ModelChoice, "key_check": _language_key}
    )
    """Language code -> model (a hub id/folder, or a mapping with ``model``,
    ``revision``, ``allow_pickle_weights``, ``convert_pickle_weights``, ``generation``,
    ``source_code``, ``target_code``, ``prefix``)."""

    generation: dict[str, Any] = field(
        default_factory=dict, metadata={"settings": GENERATION_KEYS}
    )
    """Overrides of the model's generation_config (see GENERATION_KEYS)."""

    prompt: PromptConfig = field(default_factory=PromptConfig)
    """For instruct (decoder-only) models: the messages the article is put in."""

    def model_map(self, language: str, default_model: str) -> dict[str, ModelChoice]:
        """Language -> model: ``models``, else ``model`` (or the default) for ``language``."""
        if self.models:
            return dict(self.models)
        choice = ModelChoice(
            self.model or default_model,
            self.revision,
            self.allow_pickle_weights,
            self.convert_pickle_weights,
            source_code=self.source_code,
            target_code=self.target_code,
            prefix=self.prefix,
        )
        return {language: choice}


@dataclass(frozen=True)
class SummarizationConfig(_ModelSection):
    """The summarisation models and how they are used. ``models`` may have a
    ``default`` entry for languages without their own model."""

    max_input_tokens: int | None = field(default=None, metadata=_check(_positive, _at_most(1_000_000)))
    """Longest input given to the model, in its tokens; empty uses the model's
    own limit (its position embeddings or tokenizer maximum, else 512)."""

    long_input: Literal["chunk", "truncate"] = "chunk"
    """For articles over the limit: ``chunk`` summarises each chunk then the
    joined chunk summaries (recursively); ``truncate`` keeps the lead and records
    the number of dropped tokens."""


@dataclass(frozen=True)
class TranslationConfig(_ModelSection):
    """The translation models (by source language) and how articles are cut for them."""

    target: str | None = field(default=None, metadata=_check(_language_code))
    """Language translated into (also accepted as ``target_language``)."""

    target_language: str = field(default="en", metadata=_check(_language_code))
    """The older name of ``target``."""

    max_input_tokens: int = field(default=256, metadata=_check(_positive, _at_most(1_000_000)))
    """Hard limit per model input: a longer sentence is split at clause
    punctuation, then at word or character boundaries. Never truncated."""

    pack_tokens: int = field(default=64, metadata=_check(_positive, _at_most(1_000_000)))
    """Consecutive short sentences of a paragraph are packed into one input up
    to this many tokens (sentence-level models translate best this way)."""

    max_new_tokens_factor: float = field(default=1.5, metadata=_check(_positive, _at_most(100)))
    """When ``generation.max_new_tokens`` is not set, outputs are capped at
    factor x input tokens + margin, so a degenerate loop stops early."""

    max_new_tokens_margin: int = field(default=16, metadata=_check(_not_negative, _at_most(100_000)))
    """See ``max_new_tokens_factor``."""

    def __post_init__(self) -> None:
        if self.target is not None:
            object.__setattr__(self, "target_language", self.target)


