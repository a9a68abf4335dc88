"""Which model serves which article, and a pool that holds at most N of them loaded."""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

from ..config import JobConfig, ModelChoice
from ..stopping import StopSignal
from .loading import ModelSpec, locate_model
from .base import BaseEngine
from .ct2 import CTranslate2Engine
from .seq2seq import Seq2SeqEngine

logger = logging.getLogger(__name__)

Role = Literal["summarization", "translation"]


@dataclass(frozen=True)
class ModelUse:
    """A model in a role, with the generation settings it runs with."""

    role: Role
    spec: ModelSpec
    generation: tuple[tuple[str, Any], ...] = ()
    """Section settings merged with the model's own, as sorted pairs (hashable)."""

    def label(self) -> str:
        """``name@revision``."""
        return self.spec.label()


def _use(config: JobConfig, role: Role, entry: str, choice: ModelChoice) -> ModelUse:
    section = getattr(config, role)
    key = f"{role}.models.{entry}" if section.models else f"{role}.model"
    spec = ModelSpec(
        name=choice.model,
        revision=choice.revision,
        max_input_tokens=config.summarization.max_input_tokens if role == "summarization" else None,
        config_key=key,
        allow_pickle=choice.allow_pickle_weights,
        cache_dir=str(config.hub.cache_dir) if config.hub.cache_dir else None,
    )
    generation = {**section.generation, **choice.generation}
    return ModelUse(role, spec, tuple(sorted(generation.items())))


def summarization_use(config: JobConfig, language: str) -> ModelUse | None:
    """The summariser for ``language`` (its own, else ``default``), if any."""
    choices = config.summarizers()
    entry = language if language in choices else "default"
    return _use(config, "summarization", entry, choices[entry]) if entry in choices else None


def translation_use(config: JobConfig, language: str) -> ModelUse | None:
    """The translator from ``language``; None for the target language or when there is none."""
    choice = config.translator_for(language)
    return _use(config, "translation", language, choice) if choice else None


def configured_uses(config: JobConfig) -> list[tuple[str, ModelUse]]:
    """Every configured model with the config entry naming it (``summarization.models.fr``)."""
    uses = []
    for entry, choice in config.summarizers().items():
        use = _use(config, "summarization", entry, choice)
        uses.append((use.spec.config_key, use))
    for entry, choice in config.translators().items():
        use = _use(config, "translation", entry, choice)
        uses.append((use.spec.config_key, use))
    return uses


class ModelPool:
    """Engines by use; at most ``max_loaded`` hold their weights at once (least recently used go)."""

    def __init__(
        self, config: JobConfig, stop: StopSignal | None = None, allow_download: bool = False
    ) -> None:
        self.config = config
        self.stop = stop
        self.allow_download = allow_download
        self.max_loaded = config.runtime.max_models_in_memory
        self.engines: dict[ModelUse, BaseEngine] = {}
        self._loaded: OrderedDict[ModelUse, None] = OrderedDict()

    def check_available(self, uses: set[ModelUse]) -> None:
        """ModelLoadError now, before any output, for any model missing locally."""
        if self.allow_download:
            return
        for use in sorted(uses, key=lambda u: u.spec.config_key):
            locate_model(use.spec)

    def engine(self, use: ModelUse) -> BaseEngine:
        """The loaded engine for ``use`` (loading it, unloading others if needed)."""
        engine = self.engines.get(use)
        if engine is None:
            tr = self.config.translation
            engine_class = CTranslate2Engine if self.config.runtime.engine == "ctranslate2" else Seq2SeqEngine
            engine = engine_class(
                use.spec,
                self.config.runtime,
                dict(use.generation),
                relative_cap=(tr.max_new_tokens_factor, tr.max_new_tokens_margin)
                if use.role == "translation"
                else None,
                stop=self.stop,
                allow_download=self.allow_download,
            )
            self.engines[use] = engine
        if use in self._loaded:
            self._loaded.move_to_end(use)
        else:
            while len(self._loaded) >= self.max_loaded:
                oldest, _ = self._loaded.popitem(last=False)
                logger.debug("unloading %s", oldest.label())
                self.engines[oldest].unload()
            engine.load()
            self._loaded[use] = None
        return engine
