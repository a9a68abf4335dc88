"""The one place engines are built: which backend runs a model, and with what.

The pool, ``inspect``, ``bench`` and ``eval`` ask here for an engine; nothing
else constructs an engine class.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any, Literal, Mapping

from ..config import JobConfig, RuntimeConfig
from ..errors import ModelLoadError
from ..stopping import StopSignal
from .base import BaseEngine
from .families import is_decoder_only
from .loading import ModelSpec, ModelUse, Role, from_pretrained, is_gguf_spec, locate_model, model_config_json

logger = logging.getLogger(__name__)

Backend = Literal["transformers", "ctranslate2", "auto"]


def build_engine(
    spec: ModelSpec,
    runtime: RuntimeConfig,
    *,
    role: Role = "translation",
    generation: Mapping[str, Any] | None = None,
    relative_cap: tuple[float, int] | None = None,
    stop: StopSignal | None = None,
    allow_download: bool = False,
    backend: Backend | None = None,
) -> BaseEngine:
    """An engine for ``spec`` on ``backend`` (default: ``runtime.engine``; ``auto``:
    CTranslate2 for a model it converts when it is installed, else transformers).
    Nothing is loaded yet."""
    from .causal import CausalEngine
    from .ct2 import CTranslate2Engine
    from .seq2seq import Seq2SeqEngine

    chosen = engine_backend(spec, runtime, backend=backend, allow_download=allow_download)
    if chosen == "instruct":
        asked = backend or runtime.engine
        if asked != "transformers":  # asked for by name, it is worth a warning; under auto, a note
            level = logging.WARNING if asked == "ctranslate2" else logging.INFO
            logger.log(level, "%s: an instruct model: it runs on the transformers engine", spec.config_key)
    engine_class: type[BaseEngine] = {"instruct": CausalEngine, "ctranslate2": CTranslate2Engine}.get(chosen, Seq2SeqEngine)
    return engine_class(spec, runtime, role, generation, relative_cap, stop, allow_download)


def engine_backend(
    spec: ModelSpec, runtime: RuntimeConfig, *, backend: Backend | None = None, allow_download: bool = False
) -> Literal["instruct", "transformers", "ctranslate2"]:
    """Which backend runs ``spec``: an instruct model the transformers instruct engine;
    else ``backend`` (default ``runtime.engine``), ``auto`` giving CTranslate2 a model it
    converts when it is installed."""
    if decoder_only(spec, allow_download=allow_download):
        return "instruct"
    chosen = backend or runtime.engine
    if chosen == "auto":
        chosen = "ctranslate2" if ctranslate2_runs(spec) else "transformers"
    return "ctranslate2" if chosen == "ctranslate2" else "transformers"


def decoder_only(spec: ModelSpec, *, allow_download: bool = False) -> bool:
    """Whether ``spec`` names a decoder-only model (a GGUF file always does). A model not
    available locally is asked for its config.json when downloads are allowed; else it is
    not: its engine then says what is missing when it loads."""
    if is_gguf_spec(spec):
        return True
    if spec.is_local:  # what its config.json says, whether or not the folder can be loaded
        return is_decoder_only(model_config_json(Path(spec.name)))
    try:
        folder, _ = locate_model(spec)
    except ModelLoadError:
        if not allow_download:
            return False
        from transformers import AutoConfig

        try:
            config = from_pretrained(spec, AutoConfig.from_pretrained, allow_download=True)
        except ModelLoadError:
            return False
        return is_decoder_only(config.to_dict())
    return is_decoder_only(model_config_json(folder))


def ctranslate2_runs(spec: ModelSpec) -> bool:
    """Whether ``runtime.engine: auto`` gives ``spec`` to CTranslate2: it is installed and
    converts the model's type."""
    from .ct2_conversion import converts

    if importlib.util.find_spec("ctranslate2") is None:
        return False
    folder, _ = locate_model(spec)
    return converts(model_config_json(folder))


def require_convertible(runtime: RuntimeConfig, spec: ModelSpec, model_config: Mapping[str, Any], decoder_only: bool) -> None:
    """ConfigError when ``runtime.engine: ctranslate2`` is asked of a model CTranslate2 does
    not convert (``auto`` runs it on transformers; instruct models always run there)."""
    if runtime.engine == "ctranslate2" and not decoder_only:
        from .ct2_conversion import refuse_unconvertible

        refuse_unconvertible(model_config, spec.config_key)


def engine_for_use(
    config: JobConfig,
    use: ModelUse,
    *,
    stop: StopSignal | None = None,
    allow_download: bool = False,
    backend: Backend | None = None,
) -> BaseEngine:
    """The engine a job runs ``use`` with: its generation settings, and for translation
    the output cap relative to each input (``translation.max_new_tokens_*``)."""
    translation = config.translation
    cap = (translation.max_new_tokens_factor, translation.max_new_tokens_margin)
    return build_engine(
        use.spec,
        config.runtime,
        role=use.role,
        generation=dict(use.generation),
        relative_cap=cap if use.role == "translation" else None,
        stop=stop,
        allow_download=allow_download,
        backend=backend,
    )
