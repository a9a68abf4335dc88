"""The instruct-model backend: AutoModelForCausalLM behind a chat template.

Everything the sequence-to-sequence engine does (lazy load, device and dtype,
CPU int8, stop at the next decoding step, token-budget batches split in halves
on failure) holds; what differs is here:

- the input is the request's prompt (``models.prompts``) rendered by the chat
  template; budgets count the article's tokens, not the prompt's fixed part;
- rows are padded on the left and only the generated part is decoded;
- generation ends at every end id of the model: its generation config's
  ``eos_token_id`` list, the tokenizer's end token and the chat template's
  end-of-turn token; generated tokens are counted up to that stop (a model's
  pad token may be its end token, as SmolLM2's is);
- a batch's budget counts each row's prompt plus its output cap (both sit in
  the key-value cache);
- the reply loses its preamble and quotes (``text.replies.strip_reply``).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..errors import ConfigError
from ..records import EngineStats
from ..text.replies import strip_reply
from .base import Generation, split_by_weight
from .families import Direction, Framing
from .prompts import TEXT_MARKER, end_of_turn_token, render
from .seq2seq import Seq2SeqEngine

#: Settings that transformers applies to a decoder's whole sequence; they are applied to
#: the reply alone (``_reply_processors``).
_REPLY_ONLY = ("repetition_penalty", "no_repeat_ngram_size")
#: The output cap of a summary when the config sets no ``max_new_tokens``.
DEFAULT_SUMMARY_TOKENS = 256
#: Context kept for the prompt's fixed part (instructions, chat markup) when the
#: longest article input is derived from the model's context.
PROMPT_ALLOWANCE = 512


@dataclass(frozen=True)
class _Settings:
    """Generation settings of one framing: the generation config and the prompt's length."""

    config: Any
    prompt_tokens: int
    stop_ids: frozenset[int]
    on_reply: Mapping[str, Any]
    """Repetition settings applied to the generated tokens only (``_REPLY_ONLY``)."""


class CausalEngine(Seq2SeqEngine):
    """A Hugging Face decoder-only (instruct) model with the same batching and guarantees."""

    decoder_only = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As ``BaseEngine``; engines are built by ``models.factory``."""
        super().__init__(*args, **kwargs)
        self._prompt_tokens: dict[Framing, int] = {}
        self._stops: set[int] | None = None

    def _auto_class(self) -> Any:
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM

    # -- inputs ----------------------------------------------------------------

    def _encode(self, texts: Sequence[str], framing: Framing) -> list[list[int]]:
        tokenizer = self.tokenizer
        prompts = [render(tokenizer, framing.system or "", framing.prompt or TEXT_MARKER, text, chat=framing.chat) for text in texts]
        # A chat template writes its own begin-of-text token; a plain prompt gets the tokenizer's.
        return tokenizer(prompts, add_special_tokens=not framing.chat, truncation=False)["input_ids"]

    def framing(self, direction: Direction) -> Framing:
        """As ``BaseEngine.framing``; ConfigError for a prompt longer than the room kept for it."""
        framing = super().framing(direction)
        tokens = self.prompt_tokens(framing)
        if tokens > PROMPT_ALLOWANCE:
            section = (direction.choice.entry or self.spec.config_key).split(".", 1)[0]
            raise ConfigError(
                f"{section}.prompt: the prompt takes {tokens} tokens of {self.spec.label()}, over the "
                f"{PROMPT_ALLOWANCE} the job keeps for it next to the article; shorten it"
            )
        return framing

    def prompt_tokens(self, framing: Framing) -> int:
        if framing not in self._prompt_tokens:
            self._prompt_tokens[framing] = len(self._encode([""], framing)[0])
        return self._prompt_tokens[framing]

    def _model_input_limit(self) -> int:
        """The model's context, less the output cap and room for the prompt."""
        context = super()._model_input_limit()
        if self.relative_cap is not None:  # output = factor x input + margin
            factor, margin = self.relative_cap
            return max(1, int((context - PROMPT_ALLOWANCE - margin) / (1 + factor)))
        return max(1, context - PROMPT_ALLOWANCE - self._configured_cap())

    def _configured_cap(self) -> int:
        value = self.overrides.get("max_new_tokens")
        return int(value) if value else DEFAULT_SUMMARY_TOKENS

    def _cap(self, text_tokens: int) -> int:
        """The output cap for an input of ``text_tokens`` article tokens."""
        if self.relative_cap is not None:
            factor, margin = self.relative_cap
            return int(factor * text_tokens + 0.999999) + margin
        return self._configured_cap()

    def _row_tokens(self, length: int, overhead: int, settings: Any) -> int:
        return length + self._cap(length - overhead)

    # -- generation --------------------------------------------------------------

    def _settings(self, overrides: Mapping[str, Any] | None, framing: Framing) -> Any:
        config = copy.deepcopy(self._generation_config)
        config.update(**(overrides or {}))
        # transformers applies these to the whole sequence, prompt included: a decoder would be
        # kept from repeating the article's names and dates. Here they see the reply alone.
        on_reply = {key: getattr(config, key, None) for key in _REPLY_ONLY}
        for key in _REPLY_ONLY:
            setattr(config, key, None)
        stops = self._stop_ids()
        config.eos_token_id = sorted(stops)
        config.pad_token_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else min(stops)
        return _Settings(config, self.prompt_tokens(framing), frozenset(stops), on_reply)

    def _stop_ids(self) -> set[int]:
        """Every id that ends a reply: the generation config's, the tokenizer's end token
        and the chat template's end-of-turn token."""
        if self._stops is not None:
            return self._stops
        tokenizer = self.tokenizer
        configured = self._generation_config.eos_token_id
        stops = set(configured if isinstance(configured, list) else [configured] if configured is not None else [])
        if tokenizer.eos_token_id is not None:
            stops.add(int(tokenizer.eos_token_id))
        end = end_of_turn_token(tokenizer)
        if end is not None:
            stops.add(int(tokenizer.convert_tokens_to_ids(end)))
        self._stops = {int(i) for i in stops if i is not None}
        return self._stops

    def _beams(self, settings: Any) -> int:
        return int(getattr(settings.config, "num_beams", None) or 1)

    def _generate_batch(
        self, indices: list[int], encoded: list[list[int]], settings: Any
    ) -> dict[int, Generation]:
        import torch

        rows = [encoded[i] for i in indices]
        width = max(len(row) for row in rows)
        pad = settings.config.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(row)) + row for row in rows], device=self.device)
        attention = torch.tensor([[0] * (width - len(row)) + [1] * len(row) for row in rows], device=self.device)
        cap = self._cap(width - settings.prompt_tokens)
        if self._output_limit is not None:  # the position table holds prompt and reply
            cap = max(1, min(cap, self._output_limit + 1 - width))
        config = copy.copy(settings.config)
        config.max_new_tokens = cap
        started = time.perf_counter()
        with torch.inference_mode():
            output = self._model.generate(
                input_ids=input_ids,
                attention_mask=attention,
                generation_config=config,
                stopping_criteria=self._stopping_criteria,
                logits_processor=_reply_processors(settings.on_reply, width),
            )
        seconds = time.perf_counter() - started
        self.stats += EngineStats(batches=1, generate_seconds=seconds)
        replies = output[:, width:].cpu().tolist()
        counted = [_until_stop(reply, settings.stop_ids) for reply in replies]
        texts = self.tokenizer.batch_decode([kept for kept, _ in counted], skip_special_tokens=True)
        shares = split_by_weight(seconds, [len(row) + len(kept) for row, (kept, _) in zip(rows, counted)])
        results = {}
        for index, row, text, (kept, stopped), share in zip(indices, rows, texts, counted, shares):
            generated = len(kept) + int(stopped)
            results[index] = Generation(
                strip_reply(text),
                len(row) - settings.prompt_tokens,
                generated,
                share,
                capped=not stopped and generated >= cap,
            )
        return results


def _reply_processors(settings: Mapping[str, Any], prompt_width: int) -> Any:
    """``repetition_penalty`` and ``no_repeat_ngram_size`` as logits processors that see
    only the generated tokens (after the ``prompt_width`` columns of the prompt)."""
    from transformers import (
        LogitsProcessor,
        LogitsProcessorList,
        NoRepeatNGramLogitsProcessor,
        RepetitionPenaltyLogitsProcessor,
    )

    class OnReply(LogitsProcessor):
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            return self.inner(input_ids[:, prompt_width:], scores)

    processors = []
    penalty = settings.get("repetition_penalty")
    if penalty is not None and penalty != 1.0:
        processors.append(OnReply(RepetitionPenaltyLogitsProcessor(penalty=float(penalty))))
    ngram = settings.get("no_repeat_ngram_size")
    if ngram:
        processors.append(OnReply(NoRepeatNGramLogitsProcessor(int(ngram))))
    return LogitsProcessorList(processors)


def _until_stop(reply: list[int], stop_ids: frozenset[int]) -> tuple[list[int], bool]:
    """The reply's tokens before its first end id, and whether it had one."""
    for position, token in enumerate(reply):
        if token in stop_ids:
            return reply[:position], True
    return reply, False
