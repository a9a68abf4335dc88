"""Random-weight models with the real shape of known checkpoints, built offline.

Speed depends on a model's shape (layers, widths, vocabulary), not on its
weights, so a random model shaped like opus-mt-fr-en or a BART-base summariser
measures what the real one would. The tokenizer is a sentencepiece model
trained on the synthetic corpus, its vocabulary padded to the model's size.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from .corpus import synthetic_sentences

logger = logging.getLogger(__name__)

#: name -> (architecture, config values, what it stands for)
RANDOM_LIKE: dict[str, tuple[str, dict[str, Any], str]] = {
    "opus-mt-fr-en": (
        "marian",
        {
            "vocab_size": 59514,
            "d_model": 512,
            "encoder_layers": 6,
            "decoder_layers": 6,
            "encoder_attention_heads": 8,
            "decoder_attention_heads": 8,
            "encoder_ffn_dim": 2048,
            "decoder_ffn_dim": 2048,
            "activation_function": "swish",
            "max_position_embeddings": 512,
            "scale_embedding": True,
        },
        "Helsinki-NLP/opus-mt-fr-en (Marian, 75M parameters)",
    ),
    "bart-base": (
        "bart",
        {
            "vocab_size": 50002,
            "d_model": 768,
            "encoder_layers": 6,
            "decoder_layers": 6,
            "encoder_attention_heads": 12,
            "decoder_attention_heads": 12,
            "encoder_ffn_dim": 3072,
            "decoder_ffn_dim": 3072,
            "max_position_embeddings": 1024,
        },
        "a BART-base-sized summariser such as BARThez (140M parameters)",
    ),
}

_SPM_VOCAB = 2000
_BUILD_MARK = ".summarizer-shape"
#: Bumped when the way a shape is built changes, so that cached builds are made again.
_BUILD_VERSION = "2"


def bench_cache() -> Path:
    """Where random-like models are kept between benchmark runs."""
    if os.environ.get("SUMMARIZER_BENCH_CACHE"):
        return Path(os.environ["SUMMARIZER_BENCH_CACHE"])
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "summarizer-bench"


def build_random_like(name: str, root: Path | None = None) -> Path:
    """The folder of the random-like model ``name`` (built once, then reused)."""
    if name not in RANDOM_LIKE:
        raise ValueError(f"unknown shape {name!r}; known: {', '.join(RANDOM_LIKE)}")
    folder = (root or bench_cache()) / name
    if (folder / "model.safetensors").is_file() and (folder / _BUILD_MARK).is_file():
        if (folder / _BUILD_MARK).read_text(encoding="utf-8").strip() == _BUILD_VERSION:
            return folder
    staging = folder.with_name(f".{name}.building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    architecture, values, _ = RANDOM_LIKE[name]
    logger.info("building a random model shaped like %s in %s", name, folder)
    _build(staging, architecture, values)
    (staging / _BUILD_MARK).write_text(_BUILD_VERSION + "\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(staging, folder)
    return folder


def build_shape(folder: Path, architecture: str, values: dict[str, Any]) -> Path:
    """A random model of ``architecture`` (``marian``, ``bart``, ``mbart``) with ``values``,
    built into ``folder`` (the tests use tiny ones)."""
    folder.mkdir(parents=True, exist_ok=True)
    _build(folder, architecture, values)
    return folder


def _build(folder: Path, architecture: str, values: dict[str, Any]) -> None:
    import sentencepiece as spm
    import torch
    from transformers import (
        BartConfig,
        BartForConditionalGeneration,
        MarianConfig,
        MarianMTModel,
        MarianTokenizer,
        MBartConfig,
        MBartForConditionalGeneration,
    )

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(synthetic_sentences(4000, seed=1)),
        model_prefix=str(folder / "spm"),
        vocab_size=_SPM_VOCAB,
        hard_vocab_limit=False,
        character_coverage=1.0,
        model_type="unigram",
        minloglevel=2,
        pad_id=-1,
        bos_id=-1,
        eos_id=0,
        unk_id=1,
        eos_piece="</s>",
    )
    for target in ("source.spm", "target.spm"):
        shutil.copy(folder / "spm.model", folder / target)
    for leftover in folder.glob("spm.*"):
        leftover.unlink()
    processor = spm.SentencePieceProcessor(model_file=str(folder / "source.spm"))
    size = values["vocab_size"]
    if architecture == "marian":
        vocab = {"</s>": 0, "<unk>": 1}
    else:
        vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for index in range(processor.get_piece_size()):
        vocab.setdefault(processor.id_to_piece(index), len(vocab))
    while len(vocab) < size - (1 if architecture == "marian" else 0):
        vocab[f"<extra_{len(vocab)}>"] = len(vocab)
    if architecture == "marian":
        vocab["<pad>"] = size - 1
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    special = {} if architecture == "marian" else {"bos_token": "<s>"}  # as BART checkpoints have
    MarianTokenizer(
        str(folder / "source.spm"),
        str(folder / "target.spm"),
        str(folder / "vocab.json"),
        model_max_length=values["max_position_embeddings"],
        **special,
    ).save_pretrained(folder)
    torch.manual_seed(0)
    if architecture == "marian":
        pad = size - 1
        config = MarianConfig(**values, pad_token_id=pad, eos_token_id=0, decoder_start_token_id=pad)
        model = MarianMTModel(config)
        model.generation_config.bad_words_ids = [[pad]]
    else:
        config_class, model_class = {
            "bart": (BartConfig, BartForConditionalGeneration),
            "mbart": (MBartConfig, MBartForConditionalGeneration),  # BARThez's architecture
        }[architecture]
        config = config_class(**values, pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2)
        model = model_class(config)
        # Keep generation off the vocabulary's padding entries, so that what it writes is real
        # sentencepiece text, about as long as a real summary once read back by a translator.
        padding = [index for token, index in vocab.items() if token.startswith("<extra_")]
        with torch.no_grad():
            model.final_logits_bias[0, padding] = -100.0
    model.save_pretrained(folder)


def flops_per_segment(config: Any, source_tokens: int, generated_tokens: int) -> float:
    """Floating-point operations to encode ``source_tokens`` and generate
    ``generated_tokens`` greedily (2 per multiply-add; attention included). For a
    decoder-only model, ``source_tokens`` is the prompt."""
    if not getattr(config, "is_encoder_decoder", False) and hasattr(config, "hidden_size"):
        return _decoder_only_flops(config, source_tokens, generated_tokens)
    d = getattr(config, "d_model")
    inner = getattr(config, "num_heads", 0) * getattr(config, "d_kv", 0) or d
    enc_layers = getattr(config, "encoder_layers", None) or getattr(config, "num_layers")
    dec_layers = getattr(config, "decoder_layers", None) or getattr(config, "num_decoder_layers", None) or enc_layers
    enc_ffn = getattr(config, "encoder_ffn_dim", None) or getattr(config, "d_ff")
    dec_ffn = getattr(config, "decoder_ffn_dim", None) or getattr(config, "d_ff")
    vocab = config.vocab_size
    per_source = enc_layers * (4 * d * inner + 2 * d * enc_ffn + 2 * inner * source_tokens)
    per_source += dec_layers * 2 * d * inner  # cross-attention keys and values
    middle = source_tokens + generated_tokens / 2
    per_generated = dec_layers * (6 * d * inner + 2 * d * dec_ffn + 2 * inner * middle) + d * vocab
    return 2.0 * (source_tokens * per_source + generated_tokens * per_generated)


def _decoder_only_flops(config: Any, prompt_tokens: int, generated_tokens: int) -> float:
    """A Llama-style decoder: grouped-query attention, a gated feed-forward, tied or not."""
    d, layers = config.hidden_size, config.num_hidden_layers
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or d // heads
    kv = (getattr(config, "num_key_value_heads", None) or heads) * head_dim
    ffn = config.intermediate_size
    projections = d * heads * head_dim * 2 + d * kv * 2 + 3 * d * ffn  # q, o; k, v; gate, up, down
    per_prompt = layers * (projections + heads * head_dim * prompt_tokens)
    middle = prompt_tokens + generated_tokens / 2
    per_generated = layers * (projections + 2 * heads * head_dim * middle) + d * config.vocab_size
    return 2.0 * (prompt_tokens * per_prompt + generated_tokens * per_generated)
