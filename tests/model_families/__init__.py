"""Tiny random-weight models laid out like popular hub checkpoints, for tests.

Each ``build_tiny_*`` function writes, into the folder it is given, a model of a
few thousand parameters whose files follow the conventions of one real family:
the tokenizer class and files it ships, where its special and language tokens
sit in the vocabulary, its special token ids, what ``config.json`` and
``generation_config.json`` carry (and, as importantly, what they do not carry:
the language-code families' builders set no ``forced_bos_token_id``, since none of
those real checkpoints ships one; the caller has to force the target language;
:func:`build_tiny_bart_cnn` ships one, as bart-large-cnn does). Everything is saved
with ``save_pretrained`` (safetensors), so the project's engine loads the folder
by path exactly like a downloaded model, and CTranslate2's
``TransformersConverter(folder)`` converts the families it supports.

The sentencepiece models are trained on the French and English sentences of
:mod:`summarizer.models.tiny` (160 pieces); every model has ``d_model`` <= 32 and
two layers, so one builds in a few seconds on two CPU cores. Weights are drawn
after ``torch.manual_seed(0)``: what the models write is gibberish, but
reproducible. Random weights favour the pad token, which a real checkpoint
never emits, so every generation_config bans it (``bad_words_ids = [[pad]]``,
as opus-mt ships and :func:`summarizer.models.tiny.build_tiny_t5` does). For the
same reason the output rows of language codes, T5 sentinels, padding ids past
the tokenizer and T5's pad are scaled down (see ``_quieten``; CTranslate2 does
not read bad_words_ids), so that a tiny model's output does not decode to an
empty string; forcing those tokens still works.

Values of the real checkpoints that are quoted in the builders' docstrings from memory and were not
checked against the hub here are marked "(unverified)".
"""

from .common import MADLAD_TARGET_TOKENS, MARIAN_TARGET_TOKENS, T5_SMALL_TASK_SPECIFIC_PARAMS
from .fairseq import build_tiny_m2m100, build_tiny_mbart50, build_tiny_nllb
from .others import (
    build_tiny_bart_cnn,
    build_tiny_decoder_only,
    build_tiny_encoder_only,
    build_tiny_madlad,
    build_tiny_marian_multi,
    build_tiny_marian_separate_vocabs,
    build_tiny_t5_prefixed,
)
from .spying import first_generated_tokens

__all__ = [
    "MADLAD_TARGET_TOKENS",
    "MARIAN_TARGET_TOKENS",
    "T5_SMALL_TASK_SPECIFIC_PARAMS",
    "build_tiny_bart_cnn",
    "build_tiny_decoder_only",
    "build_tiny_encoder_only",
    "build_tiny_m2m100",
    "build_tiny_madlad",
    "build_tiny_marian_multi",
    "build_tiny_marian_separate_vocabs",
    "build_tiny_mbart50",
    "build_tiny_nllb",
    "build_tiny_t5_prefixed",
    "first_generated_tokens",
]
