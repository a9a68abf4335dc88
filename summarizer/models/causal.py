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
- the reply loses the announcement, label and quotes around its text, and what was
  removed is kept with it (``text.replies.strip_reply``).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

from ..errors import ConfigError
from ..records import EngineStats
from ..text.replies import strip_reply
from .base import Generation, remembered
from .batching import relative_cap, split_by_weight
from .families import Direction, Framing
from .prompts import TEXT_MARKER, PromptParts, prompt_parts
from .seq2seq import Seq2SeqEngine

#: Settings that transformers applies to a decoder's whole sequence; they are applied to
#: the reply alone (``_reply_processors``).
_REPLY_ONLY = ("repetition_penalty", "no_repeat_ngram_size")
#: The output cap of a summary when the config sets no ``max_new_tokens``.
DEFAULT_SUMMARY_TOKENS = 256
#: Context kept for the prompt's fixed part (instructions, chat markup) when the
#: longest article input is derived from the model's context.
PROMPT_ALLOWANCE = 512
#: Fewest article tokens a model's context must leave room for (a long sentence, with room).
MIN_ARTICLE_TOKENS = 128


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
        self._parts: dict[Framing, PromptParts | ConfigError] = {}

    def _auto_class(self) -> Any:
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM

    # -- inputs ----------------------------------------------------------------

    def _encode(self, texts: Sequence[str], framing: Framing) -> list[list[int]]:
        before, after = self._prompt_ids(framing)
        return [[*before, *ids, *after] for ids in self.text_tokens.text(texts, first=not before)]

    def prompt_parts(self, framing: Framing) -> PromptParts:
        """The framing's prompt rendered around the place of the text (once per framing;
        ConfigError, remembered, when it cannot be)."""
        where = f"{self.spec.config_key}: {self.spec.label()}"
        return remembered(
            self._parts,
            framing,
            lambda: prompt_parts(self.tokenizer, framing.system or "", framing.prompt or TEXT_MARKER, chat=framing.chat, where=where),
        )

    def describe_framing(self, framing: Framing) -> str:
        """As ``BaseEngine.describe_framing``, with what the job did to fit the chat template."""
        parts = self.prompt_parts(framing)
        notes = [
            "the system message in the user turn (the template takes none)" if parts.folded else "",
            "the reply's turn header added by the job (the template writes no generation prompt)" if parts.header_added else "",
        ]
        return ", ".join([framing.describe(), *filter(None, notes)])

    def _prompt_ids(self, framing: Framing) -> tuple[list[int], list[int]]:
        """The ids before and after the text: the prompt's markup parsed (a chat template
        writes its own begin-of-text token; a plain prompt gets the tokenizer's)."""
        parts = self.prompt_parts(framing)
        head, tail = ([], []) if framing.chat else self.text_tokens.around()
        before = [*head, *self.text_tokens.markup(parts.before, first=not head)]
        return before, [*self.text_tokens.markup(parts.after, first=False), *tail]

    def framing(self, direction: Direction) -> Framing:
        """As ``BaseEngine.framing``; ConfigError for a prompt the chat template cannot
        render, a prompt longer than the room kept for it, or a context that leaves no room
        for the article."""
        framing = super().framing(direction)
        tokens = self.prompt_tokens(framing)
        section = (direction.choice.entry or self.spec.config_key).split(".", 1)[0]
        if tokens > PROMPT_ALLOWANCE:
            raise ConfigError(
                f"{section}.prompt: the prompt takes {tokens} tokens of {self.spec.label()}, over the "
                f"{PROMPT_ALLOWANCE} the job keeps for it next to the article; shorten it"
            )
        self._require_article_room(section)
        return framing

    def _require_article_room(self, section: str) -> None:
        """ConfigError when the model's context, less the prompt's room and the reply's
        cap, leaves fewer article tokens than a long sentence needs."""
        context = super()._model_input_limit()
        room = self._article_room(context)
        if room >= MIN_ARTICLE_TOKENS:
            return
        if self.relative_cap is not None:
            factor, margin = self.relative_cap
            reply, fix = f"up to {factor:g} x the input + {margin}", f"{section}.max_new_tokens_factor or {section}.max_new_tokens_margin"
        else:
            reply, fix = str(self._configured_cap()), f"{section}.generation.max_new_tokens"
        raise ConfigError(
            f"{self.spec.config_key}: {self.spec.label()}: its context of {context} tokens, less "
            f"{PROMPT_ALLOWANCE} kept for the prompt and {reply} for the reply, leaves {max(room, 0)} "
            f"tokens for the article, fewer than the {MIN_ARTICLE_TOKENS} a long sentence needs; lower "
            f"{fix}, or choose a model with a longer context"
        )

    def prompt_tokens(self, framing: Framing) -> int:
        if framing not in self._prompt_tokens:
            self._prompt_tokens[framing] = len(self._encode([""], framing)[0])
        return self._prompt_tokens[framing]

    def _model_input_limit(self) -> int:
        """The model's context, less the output cap and room for the prompt."""
        return max(1, self._article_room(super()._model_input_limit()))

    def _article_room(self, context: int) -> int:
        """Article tokens a context leaves beside the prompt's room and the reply's cap (for a
        relative cap, the input that ``batching.relative_cap`` fits in the rest)."""
        if self.relative_cap is not None:  # output = factor x input + margin
            factor, margin = self.relative_cap
            return int((context - PROMPT_ALLOWANCE - margin) / (1 + factor))
        return context - PROMPT_ALLOWANCE - self._configured_cap()

    def _configured_cap(self) -> int:
        value = self.overrides.get("max_new_tokens")
        return int(value) if value else DEFAULT_SUMMARY_TOKENS

    def _cap(self, text_tokens: int) -> int:
        """The output cap for an input of ``text_tokens`` article tokens."""
        if self.relative_cap is not None:
            return relative_cap(self.relative_cap, text_tokens)
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
        stops = self._stop_ids(framing)
        config.eos_token_id = sorted(stops)
        config.pad_token_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else min(stops)
        return _Settings(config, self.prompt_tokens(framing), frozenset(stops), on_reply)

    def _stop_ids(self, framing: Framing) -> set[int]:
        """Every id that ends a reply: the generation config's, the tokenizer's end token
        and the end-of-turn token the chat template writes after a reply."""
        tokenizer = self.tokenizer
        configured = self._generation_config.eos_token_id
        stops = set(configured if isinstance(configured, list) else [configured] if configured is not None else [])
        if tokenizer.eos_token_id is not None:
            stops.add(int(tokenizer.eos_token_id))
        end = self.text_tokens.first_control(self.prompt_parts(framing).reply_end or "")
        if end is not None:
            stops.add(end)
        return {int(i) for i in stops if i is not None}

    def _beams(self, settings: Any) -> int:
        return int(getattr(settings.config, "num_beams", None) or 1)

    def _reply(self, result: Generation, source: str) -> Generation:
        """The reply without the announcement, label or quotes around its text, and what
        was removed (``text.replies.strip_reply``)."""
        if result.error or result.interrupted or not result.text:
            return result
        reply = strip_reply(result.text, source)
        return replace(result, text=reply.text, removed=reply.removed)

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
                text.strip(),
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
