"""NLLB-200, M2M100 and mBART-50: language codes as tokens, the target forced first."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from summarizer.models.tiny import _train_sentencepiece

from .common import (
    _drop_spm_leftovers,
    _fairseq_generation_config,
    _fresh_folder,
    _quieten,
    _tokenizer_from_spm,
    _train_spm,
)

# --------------------------------------------------------------------------- NLLB


def _m2m100_config(vocab_size: int) -> Any:
    """A tiny M2M100 architecture with the fairseq ids NLLB and M2M100 share: bos 0, pad 1,
    eos 2, the decoder starting from eos; scaled embeddings, relu."""
    from transformers import M2M100Config

    return M2M100Config(
        vocab_size=vocab_size,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=1024,
        scale_embedding=True,
        activation_function="relu",
        bos_token_id=0,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
    )


def build_tiny_nllb(folder: Path) -> Path:
    """Imitates facebook/nllb-200-distilled-600M.

    Tokenizer: ``NllbTokenizer`` (transformers' own class, named in
    tokenizer_config.json), saved as ``sentencepiece.bpe.model`` (a BPE
    sentencepiece model) plus ``tokenizer.json``. The vocabulary has the fairseq
    layout: ``<s>`` 0, ``<pad>`` 1, ``</s>`` 2, ``<unk>`` 3, the sentencepiece
    pieces, then all 202 language codes of transformers' ``FAIRSEQ_LANGUAGE_CODES``
    (``ace_Arab`` ... ``zul_Latn``) as special tokens, then ``<mask>`` last, as in
    the real vocabulary (where ``eng_Latn`` is 256047). Framing is transformers'
    non-legacy one: with ``tokenizer.src_lang = "fra_Latn"`` a text encodes as
    ``[fra_Latn, ..., </s>]``. ``model_max_length`` 1024.

    Model: ``M2M100ForConditionalGeneration`` (``model_type: m2m_100``), bos 0,
    pad 1, eos 2, ``decoder_start_token_id`` 2 (eos), ``scale_embedding``, relu,
    and ``config.vocab_size`` two larger than the tokenizer, as the real one
    (256206 for a 256204-token tokenizer; CTranslate2 fills the gap with
    ``madeupword`` tokens). generation_config: bos/pad/eos/decoder start and
    ``max_length`` 200 (unverified) and NO ``forced_bos_token_id``: the real one
    ships none, the caller must force the target code.

    ``config.json`` does not name a ``tokenizer_class``: whether the real one
    does was not verified here, so it is left out (AutoTokenizer finds the class
    in tokenizer_config.json anyway).
    """
    import torch
    from transformers import M2M100ForConditionalGeneration, NllbTokenizer
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES

    folder = _fresh_folder(folder)
    # fairseq's sentencepiece layout: <unk> 0, <s> 1, </s> 2 (no pad); the
    # tokenizer shifts it to <s> 0, <pad> 1, </s> 2, <unk> 3.
    spm_file = _train_spm(folder / "sentencepiece.bpe", model_type="bpe")
    _drop_spm_leftovers(folder, "sentencepiece.bpe")
    codes = list(FAIRSEQ_LANGUAGE_CODES)

    # First let transformers convert the sentencepiece model (fairseq reordering,
    # BPE merges), then rebuild the tokenizer with the language codes *before*
    # <mask>, where the real vocabulary has them.
    converted = _tokenizer_from_spm(NllbTokenizer, spm_file, "sentencepiece.bpe.model")
    backend = json.loads(converted.backend_tokenizer.to_str())
    vocab = dict(backend["model"]["vocab"])
    merges = [
        tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in backend["model"]["merges"]
    ]
    for token in [*codes, "<mask>"]:
        vocab.setdefault(token, len(vocab))
    from transformers.convert_slow_tokenizer import SentencePieceExtractor

    proto = SentencePieceExtractor(str(spm_file)).proto
    charsmap = proto.normalizer_spec.precompiled_charsmap or None
    tokenizer = NllbTokenizer(
        vocab=vocab,
        merges=merges,
        _spm_precompiled_charsmap=charsmap,
        extra_special_tokens=codes,
        vocab_file=str(spm_file),
        model_max_length=1024,
    )
    tokenizer.save_pretrained(folder)

    config = _m2m100_config(len(tokenizer) + 2)
    torch.manual_seed(0)
    model = M2M100ForConditionalGeneration(config)
    code_ids = tokenizer.convert_tokens_to_ids(codes)
    _quieten(model, [*code_ids, *range(len(tokenizer), config.vocab_size)])
    model.generation_config = _fairseq_generation_config(max_length=200)
    model.save_pretrained(folder)
    return folder


# ------------------------------------------------------------------------- M2M100


def build_tiny_m2m100(folder: Path) -> Path:
    """Imitates facebook/m2m100_418M.

    Tokenizer: ``M2M100Tokenizer`` (the sentencepiece-python class), with the real
    files ``vocab.json`` + ``sentencepiece.bpe.model``. vocab.json has the fairseq
    layout ``<s>`` 0, ``<pad>`` 1, ``</s>`` 2, ``<unk>`` 3, then the pieces; the
    tokenizer itself appends the 100 language tokens ``__af__`` ... ``__zu__`` of
    its ``FAIRSEQ_LANGUAGE_CODES["m2m100"]`` after them, and the model's vocabulary
    has 8 more ids (``num_madeup_words``) beyond those, as the real one
    (128112 = 128004 + 100 + 8). With ``tokenizer.src_lang = "fr"`` a text
    encodes as ``[__fr__, ..., </s>]``. ``model_max_length`` 1024. The language
    tokens are passed as ``additional_special_tokens``, as the real
    tokenizer_config.json lists them: transformers 5's class does not register
    them by itself (then ``len(tokenizer)`` and ``get_vocab()`` would miss them
    and ``skip_special_tokens`` would keep them).

    Model: ``M2M100ForConditionalGeneration``, bos 0, pad 1, eos 2,
    ``decoder_start_token_id`` 2, ``scale_embedding``, relu. generation_config:
    ``max_length`` 200, ``num_beams`` 5, ``early_stopping`` (unverified), NO
    ``forced_bos_token_id``. No ``tokenizer_class`` in config.json (unverified
    whether the real one has it).
    """
    import torch
    from transformers import M2M100ForConditionalGeneration, M2M100Tokenizer
    from transformers.models.m2m_100.tokenization_m2m_100 import FAIRSEQ_LANGUAGE_CODES

    folder = _fresh_folder(folder)
    spm_file = _train_spm(folder / "sentencepiece.bpe", model_type="bpe")
    _drop_spm_leftovers(folder, "sentencepiece.bpe")
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(spm_file))
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for index in range(3, processor.get_piece_size()):  # skip spm's <unk> <s> </s>
        vocab.setdefault(processor.id_to_piece(index), len(vocab))
    (folder / "vocab.json").write_text(
        json.dumps(vocab, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    # The real tokenizer_config.json lists the language tokens as
    # additional_special_tokens; without them transformers 5's M2M100Tokenizer
    # leaves them out of len(), get_vocab() and the special tokens.
    lang_tokens = [f"__{code}__" for code in FAIRSEQ_LANGUAGE_CODES["m2m100"]]
    tokenizer = M2M100Tokenizer(
        str(folder / "vocab.json"),
        str(spm_file),
        additional_special_tokens=lang_tokens,
        model_max_length=1024,
    )
    tokenizer.save_pretrained(folder)

    config = _m2m100_config(tokenizer.encoder_size + len(lang_tokens) + tokenizer.num_madeup_words)
    torch.manual_seed(0)
    model = M2M100ForConditionalGeneration(config)
    # language tokens and madeup words
    _quieten(model, range(tokenizer.encoder_size, config.vocab_size))
    model.generation_config = _fairseq_generation_config(
        max_length=200, num_beams=5, early_stopping=True
    )
    model.save_pretrained(folder)
    return folder


# ------------------------------------------------------------------------ mBART-50


def build_tiny_mbart50(folder: Path) -> Path:
    """Imitates facebook/mbart-large-50-many-to-many-mmt.

    Tokenizer: ``MBart50Tokenizer`` (a tokenizers-backed Unigram class in
    transformers 5), saved as ``sentencepiece.bpe.model`` (despite the name a
    unigram sentencepiece model, as mBART's) plus ``tokenizer.json``. Vocabulary:
    ``<s>`` 0, ``<pad>`` 1, ``</s>`` 2, ``<unk>`` 3, the pieces, the 52 codes
    ``ar_AR`` ... ``sl_SI`` (``en_XX``, ``fr_XX``, ...), then ``<mask>`` last, as
    the real one. With ``tokenizer.src_lang = "fr_XX"`` a text encodes as
    ``[fr_XX, ..., </s>]``. ``model_max_length`` 1024.

    Model: ``MBartForConditionalGeneration`` (``model_type: mbart``), bos 0,
    pad 1, eos 2, ``decoder_start_token_id`` 2, ``forced_eos_token_id`` 2,
    ``scale_embedding``, gelu; ``config.vocab_size`` equals the tokenizer's length
    (250054 in the real one). generation_config: ``forced_eos_token_id`` 2,
    ``max_length`` 200, ``num_beams`` 5, ``early_stopping`` (unverified) and NO
    ``forced_bos_token_id``, as the real one ships.

    config.json names ``"tokenizer_class": "MBart50Tokenizer"``: CTranslate2's
    mBART converter reads it to choose the decoder start token (eos for
    mBART-50, none for mBART-25). Whether the real config.json carries it was not
    checked here. ``normalize_before`` is deliberately not written (transformers
    5 configs lack it; the project's ``_layer_norm_placement`` supplies it).
    """
    import torch
    from transformers import MBart50Tokenizer, MBartConfig, MBartForConditionalGeneration

    folder = _fresh_folder(folder)
    # Unigram, fairseq's sentencepiece layout <unk> 0, <s> 1, </s> 2.
    _train_sentencepiece(folder / "spm")
    spm_file = folder / "sentencepiece.bpe.model"
    shutil.move(folder / "spm.model", spm_file)
    _drop_spm_leftovers(folder, "spm")
    # bos_token as the real tokenizer's files name it (the class itself has no
    # bos default; CTranslate2's converter needs one).
    tokenizer = _tokenizer_from_spm(
        MBart50Tokenizer, spm_file, spm_file.name, bos_token="<s>", model_max_length=1024
    )
    tokenizer.save_pretrained(folder)

    config = MBartConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=1024,
        scale_embedding=True,
        activation_function="gelu",
        bos_token_id=0,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_eos_token_id=2,
        tokenizer_class="MBart50Tokenizer",
    )
    torch.manual_seed(0)
    model = MBartForConditionalGeneration(config)
    _quieten(model, tokenizer.lang_code_to_id.values())
    model.generation_config = _fairseq_generation_config(
        forced_eos_token_id=2, max_length=200, num_beams=5, early_stopping=True
    )
    model.save_pretrained(folder)
    return folder
