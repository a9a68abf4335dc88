"""What the tiny family builders share: sentencepiece training, folders, quieting random outputs."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from summarizer.models.tiny import ENGLISH, FRENCH

T5_SMALL_TASK_SPECIFIC_PARAMS: dict[str, dict[str, Any]] = {
    "summarization": {
        "early_stopping": True,
        "length_penalty": 2.0,
        "max_length": 200,
        "min_length": 30,
        "no_repeat_ngram_size": 3,
        "num_beams": 4,
        "prefix": "summarize: ",
    },
    "translation_en_to_de": {
        "early_stopping": True,
        "max_length": 300,
        "num_beams": 4,
        "prefix": "translate English to German: ",
    },
    "translation_en_to_fr": {
        "early_stopping": True,
        "max_length": 300,
        "num_beams": 4,
        "prefix": "translate English to French: ",
    },
    "translation_en_to_ro": {
        "early_stopping": True,
        "max_length": 300,
        "num_beams": 4,
        "prefix": "translate English to Romanian: ",
    },
}

#: Target-language tokens put into the tiny MADLAD vocabulary (the real one holds ~400).
MADLAD_TARGET_TOKENS = ("<2en>", "<2fr>", "<2de>", "<2it>", "<2es>", "<2pt>", "<2nl>")

#: Target-language tokens put into the tiny multi-target opus-mt vocabulary.
MARIAN_TARGET_TOKENS = (">>eng<<", ">>fra<<", ">>deu<<", ">>ita<<", ">>spa<<")


def _train_spm(
    prefix: Path,
    model_type: str = "unigram",
    extra_sentences: tuple[str, ...] = (),
    **special: Any,
) -> Path:
    """Like ``summarizer.models.tiny._train_sentencepiece`` (same sentences, 160
    pieces) but with a choice of model type (NLLB's and M2M100's
    ``sentencepiece.bpe.model`` are BPE models) and extra training sentences."""
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(FRENCH + ENGLISH + list(extra_sentences)),
        model_prefix=str(prefix),
        vocab_size=160,
        character_coverage=1.0,
        model_type=model_type,
        minloglevel=2,
        **special,
    )
    return prefix.parent / f"{prefix.name}.model"


def _fresh_folder(folder: Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _drop_spm_leftovers(folder: Path, stem: str) -> None:
    for leftover in folder.glob(f"{stem}.vocab"):
        leftover.unlink()


def _tokenizer_from_spm(cls: Any, spm_file: Path, name: str, **kwargs: Any) -> Any:
    """``cls.from_pretrained`` on a folder holding only the sentencepiece model
    (as ``name``), so that files left in the target folder by an earlier build
    (a stale tokenizer.json) cannot take precedence."""
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copy(spm_file, Path(scratch) / name)
        tokenizer = cls.from_pretrained(scratch, **kwargs)
        tokenizer.vocab_file = str(spm_file)  # what save_pretrained copies
        return tokenizer


def _quieten(model: Any, token_ids: Any) -> None:
    """Scale down the output-embedding rows of tokens a real checkpoint never
    writes in running text (language codes after the first position, sentinels,
    padding ids past the tokenizer): with random weights they would often win the
    argmax (NLLB's 202 codes are most of a tiny vocabulary) and, being special or
    unknown to the tokenizer, decode to an empty string. Forcing them (as
    ``forced_bos_token_id`` or a CTranslate2 target prefix does) still works."""
    import torch

    ids = sorted(set(int(i) for i in token_ids))
    with torch.no_grad():
        model.get_output_embeddings().weight[ids] *= 0.01


def _fairseq_generation_config(**extra: Any):
    """generation_config.json of the fairseq-born families (bos 0, pad 1, eos 2,
    the decoder starting from eos), with the pad token banned."""
    from transformers import GenerationConfig

    return GenerationConfig(
        bos_token_id=0,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
        bad_words_ids=[[1]],
        **extra,
    )
