"""Tiny random-weight models built on the spot: the tests and ``summarizer demo`` need no hub.

A sentencepiece model is trained on a few French and English sentences written
for this purpose; a Marian translation model and a T5 summariser of a few
thousand parameters are saved (safetensors) into a folder and then loaded by
path through the project's own engine, exactly like a real local model. Their
weights are random: what they write is gibberish.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

FRENCH = [
    "Le conseil municipal a voté le budget de la ville mardi soir.",
    "Les syndicats appellent à une nouvelle journée de grève jeudi prochain.",
    "À Lyon, la mairie prévoit d’ouvrir trois nouvelles pistes cyclables.",
    "« Nous n’avons pas le choix », a déclaré la ministre devant les députés.",
    "La conférence internationale a réuni plus de cent pays à Genève.",
    "Il a beaucoup plu en Bretagne cet automne, selon Météo-France.",
    "Le match s’est terminé par une victoire de Marseille, deux buts à un.",
    "Les prix de l’énergie ont augmenté de 12 % en un an.",
    "M. Dupont, maire de la commune, a refusé de commenter l’affaire.",
    "Une enquête a été ouverte par le parquet de Paris.",
    "Qu’est-ce que la sécurité collective ? Personne ne le sait vraiment.",
    "Le gouvernement présentera sa réforme des retraites en janvier.",
]
ENGLISH = [
    "The city council voted on the budget on Tuesday evening.",
    "Unions are calling for another day of strikes next Thursday.",
    "In Lyon, the city plans to open three new cycle lanes.",
    "We have no choice, the minister told the members of parliament.",
    "The international conference brought together more than a hundred countries.",
    "It rained a lot in Brittany this autumn, according to the weather service.",
    "The match ended with a victory for Marseille, two goals to one.",
    "Energy prices rose by 12% in one year.",
    "The prosecutor opened an investigation.",
]


def _train_sentencepiece(prefix: Path, **special: Any) -> Path:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(FRENCH + ENGLISH),
        model_prefix=str(prefix),
        vocab_size=160,
        character_coverage=1.0,
        model_type="unigram",
        minloglevel=2,
        **special,
    )
    return prefix.with_suffix(".model")


def build_tiny_marian(
    folder: Path, max_positions: int = 128, target_tokens: tuple[str, ...] = (), target_lang: str = "en"
) -> Path:
    """A Marian fr->en model with the real tokenizer layout (source.spm, target.spm, vocab.json).
    ``target_tokens`` (``>>eng<<``...) make it a multi-target model: each is one piece of the
    vocabulary, right after ``</s>`` and ``<unk>``."""
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    extra = {"user_defined_symbols": list(target_tokens)} if target_tokens else {}
    spm_file = _train_sentencepiece(
        folder / "spm", pad_id=-1, eos_id=0, unk_id=1, bos_id=-1, eos_piece="</s>", **extra
    )
    for name in ("source.spm", "target.spm"):
        shutil.copy(spm_file, folder / name)
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(spm_file))
    vocab = {"</s>": 0, "<unk>": 1}
    for piece in (processor.id_to_piece(i) for i in range(processor.get_piece_size())):
        vocab.setdefault(piece, len(vocab))
    vocab["<pad>"] = len(vocab)  # last, as in the real opus-mt vocabularies
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    for leftover in folder.glob("spm.*"):
        leftover.unlink()
    tokenizer = MarianTokenizer(
        str(folder / "source.spm"),
        str(folder / "target.spm"),
        str(folder / "vocab.json"),
        source_lang="fr",
        target_lang=target_lang,
    )
    tokenizer.save_pretrained(folder)
    config = MarianConfig(
        vocab_size=len(vocab),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=max_positions,
        pad_token_id=vocab["<pad>"],
        eos_token_id=0,
        decoder_start_token_id=vocab["<pad>"],
        forced_eos_token_id=0,
    )
    torch.manual_seed(0)
    model = MarianMTModel(config)
    model.generation_config.bad_words_ids = [[vocab["<pad>"]]]  # as opus-mt ships
    model.save_pretrained(folder)
    return folder


def build_tiny_t5(folder: Path, max_input_tokens: int = 256) -> Path:
    """A T5 summariser with a bare sentencepiece tokenizer (``spiece.model``)."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    spm_file = _train_sentencepiece(
        folder / "spm",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        pad_piece="<pad>",
        eos_piece="</s>",
        unk_piece="<unk>",
    )
    shutil.move(spm_file, folder / "spiece.model")
    for leftover in folder.glob("spm.*"):
        leftover.unlink()
    tokenizer = T5Tokenizer.from_pretrained(folder, extra_ids=0)
    tokenizer.model_max_length = max_input_tokens
    tokenizer.save_pretrained(folder)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=2,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(config)
    # Random weights favour the pad token; real checkpoints never emit it, and
    # opus-mt ships the same guard (bad_words_ids = [[pad]]).
    model.generation_config.bad_words_ids = [[config.pad_token_id]]
    model.save_pretrained(folder)
    return folder


#: SmolLM2's chat template (ChatML, with its default system turn), as its GGUF carries it.
CHATML_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def build_tiny_chat_llm(folder: Path, *, chat_template: str | None = CHATML_TEMPLATE, max_positions: int = 2048) -> Path:
    """A Llama decoder-only model laid out like SmolLM2-135M-Instruct: a byte-level BPE
    tokenizer with ``<|endoftext|>``, ``<|im_start|>``, ``<|im_end|>`` as ids 0, 1, 2,
    ``<|im_end|>`` its end and pad token, a ChatML template (None: a base model without
    one), tied embeddings."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(FRENCH + ENGLISH, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
        model_max_length=max_positions,
    )
    if chat_template:
        tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(folder)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=max_positions,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    # Random weights favour a few tokens; keep them off the markup tokens that decode to
    # nothing (a real model writes text), but leave the end of turn reachable.
    model.generation_config.bad_words_ids = [[0], [1]]
    model.save_pretrained(folder)
    return folder
