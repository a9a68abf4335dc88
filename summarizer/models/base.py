"""What every engine shares: tokens, length-sorted token-budget batching, stop
requests, failure isolation and statistics.

An engine takes every segment a task has for a wave, sorts them by length,
cuts them into batches under a budget of padded tokens, generates, and returns
the results in input order. A batch that fails is split in halves and retried,
down to single segments, so one bad input (or an out-of-memory error) never
loses the others. Backends (transformers, CTranslate2) only load a model and
generate one batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from ..config import RuntimeConfig
from ..errors import ConfigError
from ..records import EngineStats
from ..stopping import StopSignal
from .batching import plan_batches, relative_cap
from .families import Direction, Framing, ModelFamily, detect_family, frame, refuse_unsupported
from .loading import ModelSpec, Role, conversion_sha256, from_pretrained
from .tokens import TextTokens

logger = logging.getLogger(__name__)

# Tokenizers report absurd maximums (1e30) when they do not know their model's.
_SANE_TOKENIZER_MAX = 100_000
_FALLBACK_MAX_INPUT_TOKENS = 512
# Sentences and chunks are tokenized while chunking, then again for generation:
# their ids are kept. Long prefixes probed while splitting are not worth keeping.
_CACHED_TEXT_CHARS = 4000
_TOKEN_CACHE_ENTRIES = 100_000
CPU_BATCH_TOKENS = 4096
GPU_BATCH_TOKENS = 32768


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
    capped: bool = False
    """Generation reached the output cap instead of ending by itself."""
    removed: tuple[str, ...] = ()
    """What was taken off the model's output around its text (an instruct model's
    announcement, label or quotes: ``text.replies``)."""


@dataclass(frozen=True)
class Request:
    """One input for an engine: its text and what it asks for (languages, overrides)."""

    text: str
    direction: Direction


def remembered(cache: dict[Any, Any], key: Any, make: Callable[[], Any]) -> Any:
    """``make()``, once per ``key`` of ``cache``; a ConfigError it raised is remembered and
    raised again (a framing that cannot be stays so for the engine's life)."""
    if key not in cache:
        try:
            cache[key] = make()
        except ConfigError as exc:
            cache[key] = exc
    value = cache[key]
    if isinstance(value, ConfigError):
        raise value
    return value


class BaseEngine:
    """A sequence-to-sequence model behind a tokenizer, with batching."""

    backend = "base"
    decoder_only = False
    """An instruct (decoder-only) model's engine."""

    def __init__(
        self,
        spec: ModelSpec,
        runtime: RuntimeConfig,
        role: Role = "translation",
        generation: Mapping[str, Any] | None = None,
        relative_cap: tuple[float, int] | None = None,
        stop: StopSignal | None = None,
        allow_download: bool = False,
    ) -> None:
        """``role`` decides how inputs are framed (``models.families``).
        ``generation`` overrides the model's generation settings key by key.
        ``relative_cap`` = (factor, margin): without a configured
        ``max_new_tokens``, each batch may generate at most factor x its longest
        input + margin tokens. ``stop`` ends generation at the next decoding
        step; unfinished segments come back ``interrupted``. ``allow_download``
        lets a hub model missing from the cache be downloaded."""
        self.spec = spec
        self.runtime = runtime
        self.role = role
        self.overrides = dict(generation or {})
        self.relative_cap = None if "max_new_tokens" in self.overrides else relative_cap
        self.stop = stop
        self.allow_download = allow_download
        self.stats = EngineStats()
        self._tokenizer: Any = None
        self._model_config: dict[str, Any] | None = None
        self._family: ModelFamily | None = None
        self._framings: dict[Direction, Framing | ConfigError] = {}
        self._max_input_tokens: int | None = None
        self._token_ids: dict[tuple[Framing, str], list[int]] = {}
        self._text_tokens: TextTokens | None = None
        self._conversion: str | None = None

    # -- backend interface ---------------------------------------------------

    @property
    def loaded(self) -> bool:
        """True once the model is in memory."""
        raise NotImplementedError

    def load(self) -> None:
        """Load the model (idempotent)."""
        raise NotImplementedError

    def unload(self) -> None:
        """Free the model's memory (the tokenizer stays)."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Model identity and placement, for meta files and reports."""
        raise NotImplementedError

    def _described(self, *, device: str | None, dtype: str | None) -> dict[str, Any]:
        described = {
            "name": self.spec.name,
            "revision": None if self.spec.is_local else self.spec.revision,
            "engine": self.backend,
            "device": device,
            "dtype": dtype,
        }
        if self.spec.origin:
            described["origin"] = self.spec.origin
        if self._conversion is None:
            self._conversion = conversion_sha256(self.spec) or ""
        if self._conversion:  # the conversion loaded (a GGUF file's, or one fetch made)
            described["conversion_sha256"] = self._conversion
        return described

    @property
    def batch_tokens(self) -> int:
        """The budget of padded tokens per batch, beams included."""
        return self.runtime.batch_tokens or CPU_BATCH_TOKENS

    def _settings(self, overrides: Mapping[str, Any] | None, framing: Framing) -> Any:
        """Backend generation settings for inputs framed so, with ``overrides`` for one call."""
        raise NotImplementedError

    def _generate_batch(
        self, indices: list[int], encoded: list[list[int]], settings: Any
    ) -> dict[int, Generation]:
        """Generate for one batch; may raise (the batch is then split)."""
        raise NotImplementedError

    def _after_failure(self, error: BaseException) -> None:
        """Hook after a failed batch (e.g. free GPU memory)."""

    def _reply(self, result: Generation, source: str) -> Generation:
        """The result of a request for ``source`` as it is kept (as generated, here)."""
        return result

    def _row_tokens(self, length: int, overhead: int, settings: Any) -> int:
        """What one input of ``length`` tokens holds in a batch, for the batch budget."""
        return length

    def _beams(self, settings: Any) -> int:
        """Beams used with these settings."""
        return int(getattr(settings, "num_beams", None) or 1)

    # -- tokens and framing ---------------------------------------------------

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
    def model_config(self) -> dict[str, Any]:
        """The model's configuration (``config.json``, as transformers reads it)."""
        if self._model_config is None:
            from transformers import AutoConfig

            config = from_pretrained(self.spec, AutoConfig.from_pretrained, allow_download=self.allow_download)
            self._model_config = config.to_dict()
        return self._model_config

    @property
    def family(self) -> ModelFamily:
        """The model's family; ConfigError when the job cannot drive the model."""
        if self._family is None:
            refuse_unsupported(self.model_config, self.spec)  # before the tokenizer: it may have none
            self._family = detect_family(self.model_config, self.tokenizer, self.role, self.spec)
        return self._family

    def framing(self, direction: Direction) -> Framing:
        """How requests in ``direction`` are framed; ConfigError when they cannot be."""
        return remembered(self._framings, direction, lambda: frame(self.family, self.role, direction, self.spec))

    def describe_framing(self, framing: Framing) -> str:
        """How ``framing`` feeds this model, in words (``check``, ``inspect``, meta files)."""
        return framing.describe()

    def token_ids(self, texts: Sequence[str], framing: Framing) -> list[list[int]]:
        """Input ids of each text framed so (special tokens included), tokenizing only
        what is not cached."""
        missing = [text for text in dict.fromkeys(texts) if (framing, text) not in self._token_ids]
        fresh: dict[str, list[int]] = {}
        if missing:
            fresh = dict(zip(missing, self._encode(missing, framing)))
            if len(self._token_ids) + len(fresh) > _TOKEN_CACHE_ENTRIES:
                self._token_ids.clear()
            self._token_ids.update(
                ((framing, text), ids) for text, ids in fresh.items() if len(text) <= _CACHED_TEXT_CHARS
            )
        return [self._token_ids.get((framing, text)) or fresh[text] for text in texts]

    @property
    def text_tokens(self) -> TextTokens:
        """Tokenizes an article's text as text (``models.tokens``)."""
        if self._text_tokens is None:
            self._text_tokens = TextTokens(self.tokenizer, self.family.codes)
        return self._text_tokens

    def _encode(self, texts: Sequence[str], framing: Framing) -> list[list[int]]:
        """Input ids of ``texts`` framed so (a sequence-to-sequence model's: tagged, prefixed),
        the text always as text."""
        tokenizer = self.tokenizer
        if framing.src_lang is not None:
            tokenizer.src_lang = framing.src_lang  # the tokenizer tags the input itself
        head, tail = self.text_tokens.around()
        if framing.first_token is not None:
            head = [tokenizer.convert_tokens_to_ids(framing.first_token), *head]
        body = self.text_tokens.text([framing.text_prefix + text for text in texts], first=True)
        return [[*head, *ids, *tail] for ids in body]

    def prompt_tokens(self, framing: Framing) -> int:
        """Tokens the framing adds that budgets do not count (an instruct model's prompt)."""
        return 0

    def counter(self, direction: Direction) -> Callable[[str], int]:
        """Counts a text's model input tokens in ``direction``, framing and special tokens
        included, an instruct prompt's fixed part excepted (cached): what chunk budgets
        and ``max_input_tokens`` are measured with."""
        framing = self.framing(direction)
        overhead = self.prompt_tokens(framing)
        return lambda text: len(self.token_ids([text], framing)[0]) - overhead

    @property
    def max_input_tokens(self) -> int:
        """Longest input the model takes: the configured limit, else the model's own."""
        if self._max_input_tokens is None:
            self._max_input_tokens = self.spec.max_input_tokens or self._model_input_limit()
        return self._max_input_tokens

    def _model_input_limit(self) -> int:
        config = self.model_config
        limits = [
            value
            for value in (
                config.get("max_position_embeddings"),
                config.get("n_positions"),
                getattr(self.tokenizer, "model_max_length", None),
            )
            if isinstance(value, int) and 0 < value < _SANE_TOKENIZER_MAX
        ]
        return min(limits) if limits else _FALLBACK_MAX_INPUT_TOKENS

    # -- generation ----------------------------------------------------------

    def generate(self, texts: Sequence[str], direction: Direction) -> list[str]:
        """Generated text for each input, in input order ("" where generation failed)."""
        return [result.text for result in self.run([Request(text, direction) for text in texts])]

    def run(
        self,
        requests: Sequence[Request],
        on_progress: Callable[[int], None] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> list[Generation]:
        """Generate for all ``requests`` in length-sorted token-budget batches.

        Requests are grouped by framing (a batch never mixes two). ``on_progress`` is
        called with the number of segments finished after each batch. ``overrides``
        change generation settings for this call only (e.g. stricter settings for a
        retry). Inputs over ``max_input_tokens`` are not truncated: they get an error
        result (callers chunk their text first), as do requests the model cannot frame.
        """
        if not requests:
            return []
        self.load()
        results: list[Generation | None] = [None] * len(requests)
        groups: dict[Framing, list[int]] = {}
        for index, request in enumerate(requests):
            try:
                groups.setdefault(self.framing(request.direction), []).append(index)
            except ConfigError as exc:
                results[index] = Generation("", 0, error=str(exc))
        encoded: list[list[int]] = [[] for _ in requests]
        for framing, members in groups.items():
            try:
                settings = self._settings(overrides, framing)
            except ConfigError as exc:
                for index in members:
                    results[index] = Generation("", 0, error=str(exc))
                continue
            for index, ids in zip(members, self.token_ids([requests[i].text for i in members], framing)):
                encoded[index] = ids
            self._run_group(members, encoded, settings, self.prompt_tokens(framing), results, on_progress)
        done = [self._reply(result, request.text) for result, request in zip(results, requests) if result is not None]
        assert len(done) == len(results), "every segment has a result"
        self.stats += EngineStats(
            segments=len(done),
            input_tokens=sum(r.input_tokens for r in done),
            generated_tokens=sum(r.generated_tokens for r in done),
        )
        return done

    def _run_group(
        self,
        members: list[int],
        encoded: list[list[int]],
        settings: Any,
        overhead: int,
        results: list[Generation | None],
        on_progress: Callable[[int], None] | None,
    ) -> None:
        """Generate for the requests ``members`` (one framing, whose prompt takes
        ``overhead`` tokens) in token-budget batches."""
        limit = self.max_input_tokens
        runnable = []
        for index in members:
            length = len(encoded[index]) - overhead
            if length > limit:
                results[index] = Generation("", length, error=f"input of {length} tokens exceeds the limit of {limit}")
            else:
                runnable.append(index)
        lengths = [self._row_tokens(len(encoded[i]), overhead, settings) for i in runnable]
        beams = max(1, self._beams(settings))
        # Beam search holds num_beams sequences per input: the budget counts them all,
        # which keeps memory (the decoder caches) bounded as well as time per batch.
        budget = max(1, self.batch_tokens // beams)
        size_limit = max(1, self.runtime.max_batch_size // beams)
        for batch in plan_batches(lengths, budget, size_limit):
            indices = [runnable[i] for i in batch]
            if self.stop is not None and self.stop.requested:
                for index in indices:
                    results[index] = Generation("", len(encoded[index]), interrupted=True)
                continue
            for index, result in self._generate_isolated(indices, encoded, settings).items():
                results[index] = result
            if on_progress:
                on_progress(len(indices))

    def _generate_isolated(
        self, indices: list[int], encoded: list[list[int]], settings: Any
    ) -> dict[int, Generation]:
        """``_generate_batch``, splitting a failing batch in halves down to single segments."""
        try:
            results = self._generate_batch(indices, encoded, settings)
        except Exception as exc:  # noqa: BLE001 - isolate the failing input, keep the others
            self._after_failure(exc)
            if len(indices) == 1:
                message = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
                logger.debug("generation failed for one segment: %s", message)
                return {indices[0]: Generation("", len(encoded[indices[0]]), error=message)}
            half = len(indices) // 2
            logger.debug("batch of %d failed (%s); retrying in halves", len(indices), exc)
            first = self._generate_isolated(indices[:half], encoded, settings)
            return first | self._generate_isolated(indices[half:], encoded, settings)
        if self.stop is not None and self.stop.requested:
            return {i: Generation("", len(encoded[i]), interrupted=True) for i in indices}
        return results

    def _output_cap(self, longest_input: int, configured: int | None, position_limit: int | None) -> int | None:
        """The output cap for a batch: configured, or relative to its longest input;
        never past the decoder's position table."""
        if self.relative_cap is not None and configured is None:
            cap: int | None = relative_cap(self.relative_cap, longest_input)
        else:
            cap = configured
        if position_limit is not None:
            cap = position_limit if cap is None else min(cap, position_limit)
        return cap
