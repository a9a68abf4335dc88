"""The transformers backend: AutoTokenizer + AutoModelForSeq2SeqLM + generate.

Lazy loading, device and dtype, optional CPU int8 dynamic quantisation, the
attention implementation that measured fastest, and a stopping criterion that
ends generation at the next decoding step when the run is asked to stop.
"""

from __future__ import annotations

import copy
import gc
import logging
import time
import warnings
from typing import Any, Callable, Mapping

from ..errors import ConfigError
from ..records import EngineStats
from .base import GPU_BATCH_TOKENS, BaseEngine, Generation
from .batching import split_by_weight
from .families import Framing
from .loading import from_pretrained, locate_model, resolve_device, resolve_dtype

logger = logging.getLogger(__name__)

__all__ = ["Generation", "Seq2SeqEngine", "quantize_int8"]


def quantize_int8(model: Any) -> Any:
    """CPU dynamic int8 quantisation of every Linear layer (weights int8, activations
    quantised on the fly), with the fbgemm kernels where available.

    Measured here (benchmarks in docs/benchmarks.md) it is 2.5-3x faster than
    float32 and much faster than torchao's int8 dynamic quantisation on CPU.
    """
    import torch
    from torch.ao.quantization import quantize_dynamic

    if "fbgemm" in torch.backends.quantized.supported_engines:
        torch.backends.quantized.engine = "fbgemm"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's notice that torchao is the future
        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


class Seq2SeqEngine(BaseEngine):
    """A Hugging Face sequence-to-sequence model with length-sorted, token-budget batching."""

    backend = "transformers"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As ``BaseEngine``; engines are built by ``models.factory``."""
        super().__init__(*args, **kwargs)
        self.device: Any = None
        self.dtype: Any = None
        self.quantized = False
        self._model: Any = None
        self._generation_config: Any = None
        self._framed_settings: dict[Framing, Any] = {}
        self._stopping_criteria: Any = None
        self._output_limit: int | None = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def model(self) -> Any:
        """The loaded torch model (None until ``load``)."""
        return self._model

    def transform_model(self, transform: Callable[[Any], Any], *, quantized: bool) -> None:
        """Load, then replace the model by ``transform(model)`` (another quantisation,
        for the benchmark); ``quantized`` says what ``describe`` reports."""
        self.load()
        self._model = transform(self._model)
        self.quantized = quantized

    @property
    def batch_tokens(self) -> int:
        if self.runtime.batch_tokens is None and self.device is not None and self.device.type == "cuda":
            return GPU_BATCH_TOKENS
        return super().batch_tokens

    def load(self) -> None:
        """Load tokenizer and model onto the configured device (idempotent)."""
        if self._model is not None:
            return
        import torch

        started = time.perf_counter()
        self.device = resolve_device(self.runtime.device)
        self.dtype = resolve_dtype(self.runtime.dtype, self.device)
        if self.runtime.threads:
            torch.set_num_threads(self.runtime.threads)
        if self.spec.is_local or not self.allow_download:
            locate_model(self.spec)  # clear errors for missing files before transformers tries
        self.tokenizer  # noqa: B018 - load the tokenizer first: its errors are clearer
        self.family  # noqa: B018 - a model the job cannot drive is refused before its weights load
        attention = "sdpa" if self.runtime.attention == "auto" else self.runtime.attention
        model = from_pretrained(
            self.spec,
            self._auto_class().from_pretrained,
            allow_download=self.allow_download,
            use_safetensors=None if self.spec.allow_pickle else True,
            dtype=self.dtype,
            attn_implementation=attention,
        )
        model.to(self.device)
        model.eval()
        self.quantized = False
        if self.runtime.quantize == "int8":
            if self.device.type == "cpu":
                model = quantize_int8(model)
                self.quantized = True
            else:
                logger.warning("runtime.quantize: int8 is for CPU runs; ignored on %s", self.device)
        self._generation_config = self._build_generation_config(model)
        self._framed_settings = {}
        if self.stop is not None:
            self._stopping_criteria = _stopping_criteria(self.stop)
        positions = getattr(model.config, "max_position_embeddings", None)
        # Decoders with learned or fixed position tables cannot go past them.
        self._output_limit = positions - 1 if isinstance(positions, int) and positions > 1 else None
        self._model = model
        self.stats += EngineStats(loads=1, load_seconds=time.perf_counter() - started)
        logger.info(
            "loaded %s on %s (%s%s) in %.1fs",
            self.spec.label(),
            self.device,
            str(self.dtype).replace("torch.", ""),
            ", int8" if self.quantized else "",
            time.perf_counter() - started,
        )

    def _auto_class(self) -> Any:
        """The transformers class that loads the weights."""
        from transformers import AutoModelForSeq2SeqLM

        return AutoModelForSeq2SeqLM

    def _build_generation_config(self, model: Any) -> Any:
        section = self.spec.config_key.rsplit(".", 1)[0]
        config = copy.deepcopy(model.generation_config)
        try:
            config.update(**self.overrides)
            config.validate(strict=False)
        except ValueError as exc:
            raise ConfigError(f"{section}.generation: {' '.join(str(exc).split())[:300]}") from None
        try:
            config.validate(strict=True)
        except ValueError as exc:
            message = " ".join(str(exc).split())
            if any(f"`{key}`" in message for key in self.overrides):
                logger.warning("%s.generation: %s", section, message)
            else:
                logger.debug("%s generation_config: %s", self.spec.label(), message)
        return config

    def unload(self) -> None:
        if self._model is None:
            return
        self._model = None
        gc.collect()
        if self.device is not None and self.device.type == "cuda":
            import torch

            torch.cuda.empty_cache()

    def describe(self) -> dict[str, Any]:
        dtype = str(self.dtype).replace("torch.", "") if self.dtype is not None else None
        return self._described(
            device=str(self.device) if self.device is not None else None,
            dtype=f"{dtype}+int8" if self.quantized else dtype,
        )

    def _settings(self, overrides: Mapping[str, Any] | None, framing: Framing) -> Any:
        """The generation config, forcing exactly the token the framing forces (the target
        code, the checkpoint's own ``forced_bos_token_id``, or none: never another one the
        checkpoint saved), as CTranslate2 does; cached without overrides."""
        if not overrides and framing in self._framed_settings:
            return self._framed_settings[framing]
        settings = copy.deepcopy(self._generation_config)
        settings.update(**(overrides or {}))
        forced = framing.forced_first
        settings.forced_bos_token_id = self.tokenizer.convert_tokens_to_ids(forced) if forced else None
        if framing.decoder_start:
            settings.decoder_start_token_id = self.tokenizer.convert_tokens_to_ids(framing.decoder_start)
        if not overrides:
            self._framed_settings[framing] = settings
        return settings

    def _after_failure(self, error: BaseException) -> None:
        import torch

        if isinstance(error, torch.OutOfMemoryError) and self.device.type == "cuda":
            torch.cuda.empty_cache()

    def _generate_batch(
        self, indices: list[int], encoded: list[list[int]], settings: Any
    ) -> dict[int, Generation]:
        import torch

        padded = self.tokenizer.pad([{"input_ids": encoded[i]} for i in indices], return_tensors="pt")
        input_ids = padded["input_ids"].to(self.device)
        cap = self._output_cap(input_ids.shape[1], settings.max_new_tokens, self._output_limit)
        if cap is not None and cap != settings.max_new_tokens:
            settings = copy.copy(settings)
            settings.max_new_tokens = cap
        started = time.perf_counter()
        with torch.inference_mode():
            output = self._model.generate(
                input_ids=input_ids,
                attention_mask=padded["attention_mask"].to(self.device),
                generation_config=settings,
                stopping_criteria=self._stopping_criteria,
            )
        seconds = time.perf_counter() - started
        self.stats += EngineStats(batches=1, generate_seconds=seconds)
        output = output.cpu()
        texts = self.tokenizer.batch_decode(output, skip_special_tokens=True)
        pad_id = self.tokenizer.pad_token_id
        generated = [int((row[1:] != pad_id).sum()) for row in output]
        shares = split_by_weight(seconds, [len(encoded[i]) + g for i, g in zip(indices, generated)])
        limit = settings.max_new_tokens
        ends = settings.eos_token_id if isinstance(settings.eos_token_id, list) else [settings.eos_token_id]
        capped = [bool(limit and count >= limit and int(row[-1]) not in ends) for row, count in zip(output, generated)]
        return {
            index: Generation(text.strip(), len(encoded[index]), count, share, capped=cut)
            for index, text, count, share, cut in zip(indices, texts, generated, shares, capped)
        }


def _stopping_criteria(stop: Any) -> Any:
    """Generation stops at the next decoding step once ``stop`` is requested."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class StopWhenRequested(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full(
                (input_ids.shape[0],), stop.requested, dtype=torch.bool, device=input_ids.device
            )

    return StoppingCriteriaList([StopWhenRequested()])
