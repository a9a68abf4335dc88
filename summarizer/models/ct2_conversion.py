"""CTranslate2 conversions: which models convert, where a conversion lives, whether it is
there and loads, and making it once.

Each model is converted once with CTranslate2's converter into a cache folder next
to the model cache, keyed by model, revision (or local files) and quantisation, by
``fetch`` or else by a run's first load, under the conversion's lock and with its
manifest written last (``models.conversion.convert_once``). ``check`` says whether the
conversion is there and loads, or that ``fetch`` will make it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..config import RuntimeConfig
from ..errors import ConfigError, ModelLoadError
from .conversion import conversion_problem, convert_once

logger = logging.getLogger(__name__)

#: transformers ``model_type`` values CTranslate2 converts (encoder-decoder ones).
SUPPORTED_MODEL_TYPES = frozenset({"marian", "bart", "mbart", "t5", "mt5", "m2m_100"})


def ctranslate2_cache_root() -> Path:
    """``$SUMMARIZER_CT2_CACHE``, else ``ctranslate2`` beside the Hugging Face cache."""
    if os.environ.get("SUMMARIZER_CT2_CACHE"):
        return Path(os.environ["SUMMARIZER_CT2_CACHE"])
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "summarizer-ctranslate2"


def conversion_key(folder: Path, name: str, revision: str | None, quantization: str) -> str:
    """A folder name unique to the model files and the quantisation."""
    if revision:
        identity = f"{name}@{revision}"
    else:
        files = sorted(
            (entry.name, entry.stat().st_size, entry.stat().st_mtime_ns)
            for entry in os.scandir(folder)
            if entry.is_file()
        )
        identity = json.dumps([str(folder), files])
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in Path(name).name)[:60]
    return f"{slug}-{digest}-{quantization}"


def quantization_of(runtime: RuntimeConfig) -> str:
    """The quantisation a conversion is made with (``runtime.quantize``)."""
    return "int8" if runtime.quantize == "int8" else "none"


def conversion_target(folder: Path, name: str, revision: str | None, quantization: str) -> Path:
    """Where the conversion of the model in ``folder`` lives (whether it exists or not)."""
    return ctranslate2_cache_root() / conversion_key(folder, name, revision, quantization)


def converts(model_config: Mapping[str, Any]) -> bool:
    """Whether CTranslate2's converter takes a model with this config.json (its type)."""
    return model_config.get("model_type") in SUPPORTED_MODEL_TYPES


def refuse_unconvertible(model_config: Mapping[str, Any], config_key: str) -> None:
    """ConfigError when CTranslate2's converter does not take this model (``check``, a
    run's start and the engine's load ask the same)."""
    model_type = model_config.get("model_type")
    if not converts(model_config):
        raise ConfigError(
            f"runtime.engine: ctranslate2 does not support {config_key} (model type {model_type!r}; "
            f"supported: {', '.join(sorted(SUPPORTED_MODEL_TYPES))}); use runtime.engine: transformers"
        )


def require_ctranslate2() -> Any:
    """The ctranslate2 module; ConfigError saying how to install it."""
    try:
        import ctranslate2
    except ImportError:
        raise ConfigError(
            "runtime.engine: ctranslate2 is not installed; `pip install 'summarizer[ctranslate2]'` "
            "or set runtime.engine: transformers"
        ) from None
    return ctranslate2


def ensure_converted(folder: Path, name: str, revision: str | None, quantization: str, config_key: str) -> Path:
    """The converted model for ``folder``, converting it once (under its lock, its
    manifest last; a conversion that no longer matches it is made again)."""
    ctranslate2 = require_ctranslate2()
    refuse_unconvertible(json.loads((folder / "config.json").read_text(encoding="utf-8")), config_key)
    target = conversion_target(folder, name, revision, quantization)
    target.parent.mkdir(parents=True, exist_ok=True)

    def make(staging: Path) -> None:
        started = time.perf_counter()
        converter = ctranslate2.converters.TransformersConverter(str(folder))
        with _layer_norm_placement():
            converter.convert(str(staging), quantization=None if quantization == "none" else quantization, force=True)
        logger.info("converted %s for CTranslate2 in %.1fs: %s", name, time.perf_counter() - started, target)

    try:
        return convert_once(target, make)
    except Exception as exc:  # noqa: BLE001 - the converter raises anything for a model it cannot take
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        label = f"{name}@{revision}" if revision else name
        raise ModelLoadError(
            f"{config_key}: {label}: CTranslate2 conversion failed ({detail}); set runtime.engine: "
            "transformers for this model"
        ) from None


def conversion_state(folder: Path, name: str, revision: str | None, quantization: str) -> tuple[Path, str | None]:
    """Where the conversion of the model in ``folder`` is, and what is wrong with it
    ("is missing", a file that changed...; None: it is there and intact)."""
    target = conversion_target(folder, name, revision, quantization)
    return target, conversion_problem(target)


def compute_type(runtime: RuntimeConfig) -> str:
    """CTranslate2's compute type for ``runtime``'s quantisation and dtype."""
    if quantization_of(runtime) == "int8":
        return "int8"
    return {"float32": "float32", "float16": "float16", "bfloat16": "bfloat16"}.get(runtime.dtype, "default")


def open_translator(converted: Path, runtime: RuntimeConfig, device: str, where: str) -> Any:
    """A ``ctranslate2.Translator`` on the conversion in ``converted``; ModelLoadError naming
    ``where`` (the config key and model) when CTranslate2 cannot load it."""
    ctranslate2 = require_ctranslate2()
    threads = runtime.threads or (os.cpu_count() or 1)
    try:
        return ctranslate2.Translator(
            str(converted), device=device, compute_type=compute_type(runtime), inter_threads=1, intra_threads=threads
        )
    except Exception as exc:  # noqa: BLE001 - CTranslate2 raises RuntimeError and ValueError alike
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        raise ModelLoadError(
            f"{where}: CTranslate2 cannot load its conversion ({detail}); set runtime.engine: transformers "
            "for this model"
        ) from None


@contextlib.contextmanager
def _layer_norm_placement() -> Iterator[None]:
    """CTranslate2's BART and mBART converters read ``config.normalize_before``, which
    transformers 5 configs no longer carry (a checkpoint's config.json may): while
    converting, the classes default it to their architecture's placement, BART's layer
    norms after each block, mBART's before. A value in config.json still wins."""
    from transformers import BartConfig, MBartConfig

    added = [cls for cls in (BartConfig, MBartConfig) if "normalize_before" not in vars(cls)]
    for cls in added:
        cls.normalize_before = cls is MBartConfig
    try:
        yield
    finally:
        for cls in added:
            del cls.normalize_before
