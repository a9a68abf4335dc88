"""One engine over AutoTokenizer + AutoModelForSeq2SeqLM.

The tokenizer and the model load lazily, once. ``run`` takes every segment a
task has for the run, sorts them by length, cuts them into batches under a
budget of padded tokens, generates, and returns the results in input order. A
batch that fails is split in halves and retried, down to single segments, so
one bad input (or a CUDA out-of-memory error) never loses the others.
"""

from __future__ import annotations

import copy
import gc
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from ..config import RuntimeConfig
from ..records import EngineStats
from ..stopping import StopSignal
from ..errors import ConfigError
from .loading import ModelSpec, from_pretrained, locate_model, resolve_device, resolve_dtype

logger = logging.getLogger(__name__)

# Tokenizers report absurd maximums (1e30) when they do not know their model's.
_SANE_TOKENIZER_MAX = 100_000
_FALLBACK_MAX_INPUT_TOKENS = 512
# Sentences and chunks are counted more than once; long prefixes probed while
# splitting are not worth keeping.
_CACHED_TEXT_CHARS = 4000
_TOKEN_CACHE_ENTRIES = 100_000


@dataclass(frozen=True)
class Generation:
    """The result of one segment."""

    text: str
    input_tokens: int
    generated_tokens: int = 0
    seconds: float = 0.0
    """This segment's share of its batch's time (by tokens)."""
    error: str | None = None
    interrupted: bool = False
    """The run was asked to stop before this segment was done."""


def plan_batches(lengths: Sequence[int], batch_tokens: int, max_batch_size: int) -> list[list[int]]:
    """Indices of ``lengths`` sorted longest first and cut into batches.

    A batch's padded size (its size times its longest input) stays within
    ``batch_tokens`` and its size within ``max_batch_size``; an input longer
    than the budget goes alone. Longest first makes any memory problem show up
    on the first batch.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for index in order:
        width = max(longest, lengths[index])
        if current and (width * (len(current) + 1) > batch_tokens or len(current) >= max_batch_size):
            batches.append(current)
            current, width = [], lengths[index]
        current.append(index)
        longest = width
    if current:
        batches.append(current)
    return batches


class Seq2SeqEngine:
    """A sequence-to-sequence model with length-sorted, token-budget batching."""

    def __init__(
        self,
        spec: ModelSpec,
        runtime: RuntimeConfig,
        generation: Mapping[str, Any] | None = None,
        relative_cap: tuple[float, int] | None = None,
        stop: StopSignal | None = None,
        allow_download: bool = False,
    ) -> None:
        """``generation`` overrides the model's generation_config key by key.
        ``relative_cap`` = (factor, margin): without a configured
        ``max_new_tokens``, each batch may generate at most factor x its longest
        input + margin tokens. ``stop`` ends generation at the next decoding
        step; unfinished segments come back ``interrupted``. ``allow_download``
        lets a hub model missing from the cache be downloaded."""
        self.spec = spec
        self.stop = stop
        self.allow_download = allow_download
        self._stopping_criteria: Any = None
        self.runtime = runtime
        self.overrides = dict(generation or {})
        self.relative_cap = None if "max_new_tokens" in self.overrides else relative_cap
        self.stats = EngineStats()
        self.device: Any = None
        self.dtype: Any = None
        self._tokenizer: Any = None
        self._model: Any = None
        self._generation_config: Any = None
        self._max_input_tokens: int | None = None
        self._output_limit: int | None = None
        self._token_counts: dict[str, int] = {}

    # -- loading -------------------------------------------------------------

    @property
    def tokenizer(self) -> Any:
        """The model's tokenizer (loaded on first use)."""
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = from_pretrained(
                self.spec, AutoTokenizer.from_pretrained, allow_download=self.allow_download
            )
        return self._tokenizer

    @property
    def loaded(self) -> bool:
        """True once the model weights are in memory."""
        return self._model is not None

    def load(self) -> None:
        """Load tokenizer and model onto the configured device (idempotent)."""
        if self._model is not None:
            return
        import torch
        from transformers import AutoModelForSeq2SeqLM

        started = time.perf_counter()
        self.device = resolve_device(self.runtime.device)
        self.dtype = resolve_dtype(self.runtime.dtype, self.device)
        if self.runtime.threads:
            torch.set_num_threads(self.runtime.threads)
        if self.spec.is_local or not self.allow_download:
            locate_model(self.spec)  # clear errors for missing files before transformers tries
        self.tokenizer  # noqa: B018 - load the tokenizer first: its errors are clearer
        model = from_pretrained(
            self.spec,
            AutoModelForSeq2SeqLM.from_pretrained,
            allow_download=self.allow_download,
            use_safetensors=None if self.spec.allow_pickle else True,
            dtype=self.dtype,
        )
        model.to(self.device)
        model.eval()
        self._generation_config = self._build_generation_config(model)
        if self.stop is not None:
            self._stopping_criteria = _stopping_criteria(self.stop)
        positions = getattr(model.config, "max_position_embeddings", None)
        # Decoders with learned or fixed position tables cannot go past them.
        self._output_limit = positions - 1 if isinstance(positions, int) and positions > 1 else None
        self._model = model
        self.stats.loads += 1
        self.stats.load_seconds += time.perf_counter() - started
        logger.info(
            "loaded %s on %s (%s) in %.1fs",
            self.spec.label(),
            self.device,
            str(self.dtype).replace("torch.", ""),
            time.perf_counter() - started,
        )

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
        """Free the model's memory (the tokenizer stays)."""
        if self._model is None:
            return
        self._model = None
        gc.collect()
        if self.device is not None and self.device.type == "cuda":
            import torch

            torch.cuda.empty_cache()

    def describe(self) -> dict[str, Any]:
        """Model identity and placement, for meta files and reports."""
        return {
            "name": self.spec.name,
            "revision": None if self.spec.is_local else self.spec.revision,
            "device": str(self.device) if self.device is not None else None,
            "dtype": str(self.dtype).replace("torch.", "") if self.dtype is not None else None,
        }

    # -- tokens --------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """Model input tokens for ``text``, special tokens included (cached)."""
        count = self._token_counts.get(text)
        if count is None:
            count = len(self.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])
            if len(text) <= _CACHED_TEXT_CHARS:
                if len(self._token_counts) >= _TOKEN_CACHE_ENTRIES:
                    self._token_counts.clear()
                self._token_counts[text] = count
        return count

    @property
    def max_input_tokens(self) -> int:
        """Longest input the model takes: the configured limit, else the model's own."""
        if self._max_input_tokens is None:
            self._max_input_tokens = self.spec.max_input_tokens or self._model_input_limit()
        return self._max_input_tokens

    def _model_input_limit(self) -> int:
        from transformers import AutoConfig

        config = from_pretrained(
            self.spec, AutoConfig.from_pretrained, allow_download=self.allow_download
        )
        limits = [
            value
            for value in (
                getattr(config, "max_position_embeddings", None),
                getattr(config, "n_positions", None),
                getattr(self.tokenizer, "model_max_length", None),
            )
            if isinstance(value, int) and 0 < value < _SANE_TOKENIZER_MAX
        ]
        return min(limits) if limits else _FALLBACK_MAX_INPUT_TOKENS

    # -- generation ----------------------------------------------------------

    def generate(self, texts: Sequence[str]) -> list[str]:
        """Generated text for each input, in input order ("" where generation failed)."""
        return [result.text for result in self.run(texts)]

    def run(
        self,
        texts: Sequence[str],
        on_progress: Callable[[int], None] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> list[Generation]:
        """Generate for all ``texts`` in length-sorted token-budget batches.

        ``on_progress`` is called with the number of segments finished after
        each batch. ``overrides`` change generation settings for this call only
        (e.g. stricter settings for a retry). Inputs over ``max_input_tokens`` are
        not truncated: they get an error result (callers chunk their text first).
        """
        if not texts:
            return []
        self.load()
        settings = self._generation_config
        if overrides:
            settings = copy.deepcopy(settings)
            settings.update(**overrides)
        encoded = self.tokenizer(list(texts), add_special_tokens=True, truncation=False)["input_ids"]
        limit = self.max_input_tokens
        results: list[Generation | None] = [None] * len(texts)
        runnable = []
        for index, ids in enumerate(encoded):
            if len(ids) > limit:
                results[index] = Generation(
                    "", len(ids), error=f"input of {len(ids)} tokens exceeds the limit of {limit}"
                )
            else:
                runnable.append(index)
        lengths = [len(encoded[i]) for i in runnable]
        for batch in plan_batches(lengths, self.runtime.batch_tokens, self.runtime.max_batch_size):
            indices = [runnable[i] for i in batch]
            if self.stop is not None and self.stop.requested:
                for index in indices:
                    results[index] = Generation("", len(encoded[index]), interrupted=True)
                continue
            for index, result in self._generate_batch(indices, encoded, settings).items():
                results[index] = result
            if on_progress:
                on_progress(len(indices))
        for result in results:
            assert result is not None
            self.stats.segments += 1
            self.stats.input_tokens += result.input_tokens
            self.stats.generated_tokens += result.generated_tokens
        return results  # type: ignore[return-value]

    def _max_new_tokens(self, longest_input: int, settings: Any) -> int | None:
        """The output cap for a batch: configured, or relative to its longest input;
        never past the decoder's position table."""
        if self.relative_cap is not None and settings.max_new_tokens is None:
            factor, margin = self.relative_cap
            cap = math.ceil(factor * longest_input) + margin
        else:
            cap = settings.max_new_tokens
        if self._output_limit is not None:
            cap = self._output_limit if cap is None else min(cap, self._output_limit)
        return cap

    def _generate_batch(
        self, indices: list[int], encoded: list[list[int]], settings: Any
    ) -> dict[int, Generation]:
        import torch

        try:
            padded = self.tokenizer.pad(
                [{"input_ids": encoded[i]} for i in indices], return_tensors="pt"
            )
            input_ids = padded["input_ids"].to(self.device)
            generation_config = settings
            cap = self._max_new_tokens(input_ids.shape[1], settings)
            if cap is not None and cap != generation_config.max_new_tokens:
                generation_config = copy.copy(generation_config)
                generation_config.max_new_tokens = cap
            started = time.perf_counter()
            with torch.inference_mode():
                output = self._model.generate(
                    input_ids=input_ids,
                    attention_mask=padded["attention_mask"].to(self.device),
                    generation_config=generation_config,
                    stopping_criteria=self._stopping_criteria,
                )
            seconds = time.perf_counter() - started
            if self.stop is not None and self.stop.requested:
                return {i: Generation("", len(encoded[i]), interrupted=True) for i in indices}
        except Exception as exc:  # noqa: BLE001 - isolate the failing input, keep the others
            if isinstance(exc, torch.OutOfMemoryError) and self.device.type == "cuda":
                torch.cuda.empty_cache()
            if len(indices) == 1:
                message = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
                logger.debug("generation failed for one segment: %s", message)
                return {indices[0]: Generation("", len(encoded[indices[0]]), error=message)}
            half = len(indices) // 2
            logger.debug("batch of %d failed (%s); retrying in halves", len(indices), exc)
            return self._generate_batch(indices[:half], encoded, settings) | self._generate_batch(
                indices[half:], encoded, settings
            )
        self.stats.batches += 1
        self.stats.generate_seconds += seconds
        output = output.cpu()
        texts = self.tokenizer.batch_decode(output, skip_special_tokens=True)
        pad_id = self.tokenizer.pad_token_id
        generated = [int((row[1:] != pad_id).sum()) for row in output]
        weights = [len(encoded[i]) + g for i, g in zip(indices, generated)]
        total = sum(weights) or 1
        return {
            index: Generation(
                text=text.strip(),
                input_tokens=len(encoded[index]),
                generated_tokens=count,
                seconds=seconds * weight / total,
            )
            for index, text, count, weight in zip(indices, texts, generated, weights)
        }




def _stopping_criteria(stop: StopSignal) -> Any:
    """Generation stops at the next decoding step once ``stop`` is requested."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class StopWhenRequested(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full(
                (input_ids.shape[0],), stop.requested, dtype=torch.bool, device=input_ids.device
            )

    return StoppingCriteriaList([StopWhenRequested()])
