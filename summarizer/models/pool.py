"""A pool of engines that holds at most N models loaded at once."""

from __future__ import annotations

import importlib.util
import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from ..config import JobConfig
from ..errors import ConfigError, ModelLoadError
from ..stopping import StopSignal
from .base import BaseEngine
from .factory import engine_for_use, require_convertible
from .families import Direction, refuse_unsupported
from .loading import ModelUse, locate_model, model_config_json

logger = logging.getLogger(__name__)


class ModelPool:
    """Engines by use; at most ``max_loaded`` hold their weights at once (least recently used go).

    Uses that differ only in the config entry naming them (one model for several
    languages) share one engine (``ModelUse.engine_key``): the model loads once."""

    def __init__(
        self, config: JobConfig, stop: StopSignal | None = None, allow_download: bool = False
    ) -> None:
        self.config = config
        self.stop = stop
        self.allow_download = allow_download
        self.max_loaded = config.runtime.max_models_in_memory
        self.engines: dict[Any, BaseEngine] = {}
        self._loaded: OrderedDict[Any, None] = OrderedDict()
        self._warned_auto = False

    def check_available(self, needs: Mapping[ModelUse, set[Direction]]) -> None:
        """Now, before any output: ModelLoadError for any model missing locally; ConfigError
        for one the job cannot drive (its config.json says so) or that can frame none of
        the directions its articles ask (a code or prefix override it does not know, a
        target it has no code for: every one of its articles would fail). A direction only
        some articles ask fails those articles alone, later."""
        if self.allow_download:
            return
        for use in sorted(needs, key=lambda u: u.spec.config_key):
            folder, _ = locate_model(use.spec)
            model_config = model_config_json(folder)
            refuse_unsupported(model_config, use.spec)
            require_convertible(self.config.runtime, use.spec, model_config, self._engine(use).decoder_only)
            refusals = []
            for direction in sorted(needs[use], key=lambda d: (d.source, d.target)):
                try:
                    self._engine(use).framing(direction)
                except ConfigError as exc:
                    refusals.append(exc)
            if refusals and len(refusals) == len(needs[use]):
                raise refusals[0]

    def _engine(self, use: ModelUse) -> BaseEngine:
        """The engine for ``use``, made on first use (nothing loaded)."""
        key = use.engine_key
        if key not in self.engines:
            self.engines[key] = engine_for_use(self.config, use, stop=self.stop, allow_download=self.allow_download)
            if not self.engines[key].decoder_only:  # CTranslate2 would not run an instruct model anyway
                self._warn_once_without_ctranslate2()
        return self.engines[key]

    def engine(self, use: ModelUse) -> BaseEngine:
        """The loaded engine for ``use`` (loading it, unloading others if needed)."""
        key = use.engine_key
        engine = self._engine(use)
        if key in self._loaded:
            self._loaded.move_to_end(key)
            return engine
        while len(self._loaded) >= self.max_loaded:
            oldest, _ = self._loaded.popitem(last=False)
            logger.debug("unloading %s", self.engines[oldest].spec.label())
            self.engines[oldest].unload()
        try:
            engine.load()
        except ModelLoadError as exc:
            if self.config.runtime.engine != "auto" or engine.backend != "ctranslate2":
                raise
            logger.warning("runtime.engine: auto: %s; this model runs on the transformers engine instead", exc)
            engine = self.engines[key] = engine_for_use(
                self.config, use, stop=self.stop, allow_download=self.allow_download, backend="transformers"
            )
            engine.load()
        self._loaded[key] = None
        return engine

    def _warn_once_without_ctranslate2(self) -> None:
        if self.config.runtime.engine != "auto" or self._warned_auto:
            return
        if importlib.util.find_spec("ctranslate2") is None:
            self._warned_auto = True
            logger.warning(
                "runtime.engine: auto: CTranslate2 is not installed, so the models run on the "
                "transformers engine%s; `pip install 'summarizer[ctranslate2]'` for the faster one",
                " with torch's int8" if self.config.runtime.quantize == "int8" else "",
            )
