"""A pool of engines that holds at most N models loaded at once."""

from __future__ import annotations

import importlib.util
import logging
from collections import OrderedDict

from ..config import JobConfig
from ..errors import ModelLoadError
from ..stopping import StopSignal
from .loading import ModelUse, locate_model
from .base import BaseEngine
from ..io.files import read_json_object
from .ct2 import SUPPORTED_MODEL_TYPES, CTranslate2Engine
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
        self._warned_auto = False

    def _engine_class(self, use: ModelUse) -> type[BaseEngine]:
        """The backend ``runtime.engine`` asks for (``auto``: CTranslate2 where it can)."""
        choice = self.config.runtime.engine
        if choice != "auto":
            return CTranslate2Engine if choice == "ctranslate2" else Seq2SeqEngine
        if importlib.util.find_spec("ctranslate2") is None:
            if not self._warned_auto:
                self._warned_auto = True
                logger.warning(
                    "runtime.engine: auto: CTranslate2 is not installed, so the models run on the "
                    "transformers engine%s; `pip install 'summarizer[ctranslate2]'` for the faster one",
                    " with torch's int8" if self.config.runtime.quantize == "int8" else "",
                )
            return Seq2SeqEngine
        folder, _ = locate_model(use.spec)
        model_type = read_json_object(folder / "config.json") or {}
        return CTranslate2Engine if model_type.get("model_type") in SUPPORTED_MODEL_TYPES else Seq2SeqEngine

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
            engine = self.engines[use] = self._new_engine(use, self._engine_class(use))
        if use in self._loaded:
            self._loaded.move_to_end(use)
            return engine
        while len(self._loaded) >= self.max_loaded:
            oldest, _ = self._loaded.popitem(last=False)
            logger.debug("unloading %s", oldest.label())
            self.engines[oldest].unload()
        try:
            engine.load()
        except ModelLoadError as exc:
            if self.config.runtime.engine != "auto" or not isinstance(engine, CTranslate2Engine):
                raise
            logger.warning("runtime.engine: auto: %s; this model runs on the transformers engine instead", exc)
            engine = self.engines[use] = self._new_engine(use, Seq2SeqEngine)
            engine.load()
        self._loaded[use] = None
        return engine

    def _new_engine(self, use: ModelUse, engine_class: type[BaseEngine]) -> BaseEngine:
        translation = self.config.translation
        cap = (translation.max_new_tokens_factor, translation.max_new_tokens_margin)
        return engine_class(
            use.spec,
            self.config.runtime,
            dict(use.generation),
            relative_cap=cap if use.role == "translation" else None,
            stop=self.stop,
            allow_download=self.allow_download,
        )
