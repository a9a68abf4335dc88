"""The CTranslate2 backend (``runtime.engine: ctranslate2``, extra ``summarizer[ctranslate2]``).

Each model is converted once with CTranslate2's converter into a cache folder
next to the model cache, keyed by model, revision (or local files) and
quantisation, and then run with ``ctranslate2.Translator`` under the same
length-sorted token-budget batching, stop requests and statistics as the
transformers backend. Tokenization stays with the model's own tokenizer.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError
from ..records import EngineStats
from .base import GPU_BATCH_TOKENS, BaseEngine, Generation
from .batching import split_by_weight
from .conversion import conversion_digest
from .ct2_conversion import compute_type, ensure_converted, open_translator, quantization_of
from .families import Framing
from .loading import locate_model, resolve_device

logger = logging.getLogger(__name__)

CT2_CPU_BATCH_TOKENS = 8192
_PREFIX = "_target_prefix"
"""The key of the target prefix in this engine's settings (not a translate_batch option)."""

#: transformers generation settings and their CTranslate2 translate_batch names.
_OPTION_NAMES = {
    "num_beams": "beam_size",
    "max_new_tokens": "max_decoding_length",
    "min_new_tokens": "min_decoding_length",
    "no_repeat_ngram_size": "no_repeat_ngram_size",
    "repetition_penalty": "repetition_penalty",
    "length_penalty": "length_penalty",
    "top_k": "sampling_topk",
    "top_p": "sampling_topp",
    "temperature": "sampling_temperature",
}


class CTranslate2Engine(BaseEngine):
    """A model run by CTranslate2, with the same interface as the transformers engine."""

    backend = "ctranslate2"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As ``BaseEngine``; engines are built by ``models.factory``."""
        super().__init__(*args, **kwargs)
        self._translator: Any = None
        self._converted: Path | None = None
        self._options: dict[str, Any] = {}
        self._output_limit: int | None = None
        self._start: list[str] | None = None
        """The decoder start each input needs, when the conversion leaves it to the caller."""
        self.device = "cpu"
        self.compute_type = "default"

    @property
    def loaded(self) -> bool:
        return self._translator is not None

    @property
    def batch_tokens(self) -> int:
        """CTranslate2 gains from bigger batches than PyTorch here (docs/benchmarks.md)."""
        if self.runtime.batch_tokens is not None:
            return self.runtime.batch_tokens
        return GPU_BATCH_TOKENS if self.device == "cuda" else CT2_CPU_BATCH_TOKENS

    def load(self) -> None:
        if self._translator is not None:
            return
        started = time.perf_counter()
        folder, _ = locate_model(self.spec)
        quantization = quantization_of(self.runtime)
        self.tokenizer  # noqa: B018
        self.family  # noqa: B018 - a model the job cannot drive is refused before converting it
        converted = ensure_converted(folder, self.spec.name, self.spec.revision, quantization, self.spec.config_key)
        self.device = resolve_device(self.runtime.device).type
        self.compute_type = compute_type(self.runtime)
        self._translator = open_translator(converted, self.runtime, self.device, f"{self.spec.config_key}: {self.spec.label()}")
        self._converted = converted
        self._options = self._base_options(folder)
        self._start = self._decoder_start(folder, converted)
        positions = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("max_position_embeddings")
        self._output_limit = positions - 1 if isinstance(positions, int) and positions > 1 else None
        self.stats += EngineStats(loads=1, load_seconds=time.perf_counter() - started)
        logger.info("loaded %s with CTranslate2 (%s, %s)", self.spec.label(), self.device, self.compute_type)

    def _decoder_start(self, folder: Path, converted: Path) -> list[str] | None:
        """None when the converted model starts the decoder itself; else the start each
        input needs (mBART-25-style conversions leave it to the caller): the model's own."""
        if json.loads((converted / "config.json").read_text(encoding="utf-8")).get("decoder_start_token"):
            return None
        start = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("decoder_start_token_id")
        return [self.tokenizer.convert_ids_to_tokens(start)] if isinstance(start, int) else []

    def _target_prefix(self, framing: Framing) -> list[str]:
        """What each hypothesis is forced to start with: the decoder start where the
        conversion leaves it to the caller (the framing's, else the model's), then the
        framing's forced first token: the target code, or the checkpoint's own
        ``forced_bos_token_id``, which CTranslate2's converter does not carry over (the
        framing says it, as on transformers)."""
        if framing.decoder_start and self._start is None:
            raise ConfigError(
                f"runtime.engine: ctranslate2: the conversion of {self.spec.label()} fixes its decoder "
                f"start token, and this model needs {framing.decoder_start}; set runtime.engine: transformers"
            )
        start = [framing.decoder_start] if framing.decoder_start else list(self._start or [])
        return start + ([framing.forced_first] if framing.forced_first else [])

    def _base_options(self, folder: Path) -> dict[str, Any]:
        options: dict[str, Any] = {"beam_size": 1}
        generation_file = folder / "generation_config.json"
        if generation_file.is_file():
            defaults = json.loads(generation_file.read_text(encoding="utf-8"))
            options.update(_translate_options({k: v for k, v in defaults.items() if k in _OPTION_NAMES}))
        options.update(_translate_options(self.overrides))
        return options

    def unload(self) -> None:
        self._translator = None

    def describe(self) -> dict[str, Any]:
        described = self._described(device=self.device, dtype=self.compute_type)
        if self._converted is not None:  # the conversion CTranslate2 ran (its manifest's digest)
            described["ctranslate2_conversion_sha256"] = conversion_digest(self._converted)
        return described

    def _beams(self, settings: dict[str, Any]) -> int:
        return int(settings.get("beam_size", 1))

    def _settings(self, overrides: Mapping[str, Any] | None, framing: Framing) -> dict[str, Any]:
        return {**self._options, **_translate_options(overrides or {}), _PREFIX: self._target_prefix(framing)}

    def _generate_batch(
        self, indices: list[int], encoded: list[list[int]], settings: dict[str, Any]
    ) -> dict[int, Generation]:
        tokenizer = self.tokenizer
        batch = [tokenizer.convert_ids_to_tokens(encoded[i]) for i in indices]
        options = dict(settings)
        prefix = options.pop(_PREFIX)
        longest = max(len(encoded[i]) for i in indices)
        cap = self._output_cap(longest, options.get("max_decoding_length"), self._output_limit)
        if cap is not None:
            options["max_decoding_length"] = cap
        if prefix:
            options["target_prefix"] = [prefix] * len(batch)
        if self.stop is not None:
            options["callback"] = lambda step: self.stop.requested  # type: ignore[union-attr]
            if options.get("beam_size", 1) > 1:
                options.pop("callback")  # CTranslate2 only calls back for greedy search
        started = time.perf_counter()
        results = self._translator.translate_batch(batch, **options)
        seconds = time.perf_counter() - started
        self.stats += EngineStats(batches=1, generate_seconds=seconds)
        outputs = []
        for result in results:
            tokens = result.hypotheses[0][len(prefix) :]
            ids = tokenizer.convert_tokens_to_ids(tokens)
            count = len(tokens) + (1 if cap is None or len(tokens) < cap else 0)  # + end token
            outputs.append((tokenizer.decode(ids, skip_special_tokens=True).strip(), count))
        shares = split_by_weight(seconds, [len(encoded[i]) + n for i, (_, n) in zip(indices, outputs)])
        return {
            index: Generation(text, len(encoded[index]), count, share)
            for index, (text, count), share in zip(indices, outputs, shares)
        }


def _translate_options(settings: Mapping[str, Any]) -> dict[str, Any]:
    """transformers generation settings as CTranslate2 translate_batch options."""
    options = {}
    for key, value in settings.items():
        name = _OPTION_NAMES.get(key)
        if name is not None and value is not None:
            options[name] = value
    if settings.get("do_sample") is True:
        options.setdefault("sampling_topk", 0)  # 0: sample from the whole distribution
    elif settings.get("do_sample") is False:
        options["sampling_topk"] = 1
    return options
