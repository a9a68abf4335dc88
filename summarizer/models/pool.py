"""A pool of engines that holds at most N models loaded at once."""

from __future__ import annotations

import logging
from collections import OrderedDict

from ..config import JobConfig
from ..stopping import StopSignal
from .loading import ModelUse, locate_model
from .base import BaseEngine
from .ct2 import CTranslate2Engine
from .seq2seq import Seq2SeqEngine

logger = logging.getLogger(__name__)


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
