"""T5 with task prefixes, MADLAD-400, multi-target Marian, and models that are not seq2seq."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

from summarizer.models.tiny import ENGLISH, FRENCH, _train_sentencepiece

from .common import (
    MADLAD_TARGET_TOKENS,
    MARIAN_TARGET_TOKENS,
    T5_SMALL_TASK_SPECIFIC_PARAMS,
    _fresh_folder,
    _quieten,
    _tokenizer_from_spm,
    _train_spm,
)

# ----------------------------------------------------------------------------- T5


def _t5_sentencepiece(folder: Path, extra_sentences: tuple[str, ...] = (), **extra: Any) -> Path:
    """spiece.model with T5's layout: <pad> 0, </s> 1, <unk> 2, no <s>."""
    spm_file = _train_spm(
        folder / "spm",
        extra_sentences=extra_sentences,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        pad_piece="<pad>",
        eos_piece="</s>",
        unk_piece="<unk>",
        **extra,
    )
    shutil.move(spm_file, folder / "spiece.model")
    for leftover in folder.glob("spm.*"):
        leftover.unlink()
    return folder / "spiece.model"


def build_tiny_t5_prefixed(folder: Path, task_specific_params: dict | None = None) -> Path:
    """Imitates t5-small / google/flan-t5-small: a T5 that expects a task prefix.

    Tokenizer: ``T5Tokenizer`` from ``spiece.model`` (``<pad>`` 0, ``</s>`` 1,
    ``<unk>`` 2), with T5's 100 sentinel tokens ``<extra_id_99>`` ...
    ``<extra_id_0>`` appended, ``model_max_length`` 512. Encoding appends
    ``</s>`` only (no language or bos token).

    Model: ``T5ForConditionalGeneration`` in t5-small's form (relu feed-forward,
    tied embeddings), pad 0, eos 1, ``decoder_start_token_id`` 0 (pad), and
    ``config.vocab_size`` rounded up past the tokenizer's length, as the real
    ones (32128 for 32100 tokens; here to the next multiple of 8).

    ``config.json`` carries ``task_specific_params`` exactly in t5-small's form
    (:data:`T5_SMALL_TASK_SPECIFIC_PARAMS`: ``summarization`` with prefix
    ``"summarize: "``, ``translation_en_to_de`` / ``_fr`` / ``_ro`` with
    ``"translate English to German: "`` etc.); pass ``task_specific_params`` to
    replace it (e.g. a copy with ``"translation_fr_to_en"`` added).
    """
    import torch
    from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer

    folder = _fresh_folder(folder)
    params = copy.deepcopy(
        T5_SMALL_TASK_SPECIFIC_PARAMS if task_specific_params is None else task_specific_params
    )
    # The prefixes join the training text so that they tokenize without <unk>
    # (the news sentences have no "z" or ":"), as with the real vocabulary.
    prefixes = tuple(
        p["prefix"] for p in params.values() if isinstance(p, dict) and p.get("prefix")
    )
    spm_file = _t5_sentencepiece(folder, extra_sentences=prefixes)
    tokenizer = _tokenizer_from_spm(
        T5Tokenizer, spm_file, spm_file.name, extra_ids=100, model_max_length=512
    )
    tokenizer.save_pretrained(folder)
    config = T5Config(
        vocab_size=-(-len(tokenizer) // 8) * 8,
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=2,
        feed_forward_proj="relu",
        tie_word_embeddings=True,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
        task_specific_params=params,
    )
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(config)
    # (T5Tokenizer.get_sentinel_token_ids() raises AttributeError in transformers 5.24)
    sentinels = tokenizer.convert_tokens_to_ids([f"<extra_id_{i}>" for i in range(100)])
    # pad too: CTranslate2 ignores generation_config's bad_words_ids
    _quieten(model, [0, *sentinels, *range(len(tokenizer), config.vocab_size)])
    model.generation_config.bad_words_ids = [[config.pad_token_id]]
    model.save_pretrained(folder)
    return folder


def build_tiny_madlad(folder: Path) -> Path:
    """Imitates google/madlad400-3b-mt: a T5 translating into the language named by
    a ``<2xx>`` token at the start of the input ("<2en> Bonjour").

    Tokenizer: ``T5Tokenizer`` from ``spiece.model`` whose sentencepiece
    vocabulary holds the target tokens of :data:`MADLAD_TARGET_TOKENS`
    (``<2en>``, ``<2fr>``, ``<2de>``, ``<2it>``, ...) as user-defined pieces, so
    "<2en> Bonjour" tokenizes "<2en>" as one token; no ``<extra_id_*>`` sentinels.
    Special ids follow T5's layout (``<pad>`` 0, ``</s>`` 1, ``<unk>`` 2); the
    real MADLAD special ids were not checked here.

    Model: ``T5ForConditionalGeneration`` (``model_type: t5``) in MADLAD's (T5
    v1.1) form: gated-gelu feed-forward and no scaling of the decoder output,
    which the real config.json says with ``tie_word_embeddings: false``.
    transformers 5.24 turns that into ``scale_decoder_outputs: false``, forces
    ``tie_word_embeddings`` to true and saves one shared embedding matrix, so this
    folder's config.json reads ``tie_word_embeddings: true`` (CTranslate2's T5
    converter takes that as "scale the outputs": its logits then differ from
    transformers' by a factor d_model**-0.5; greedy argmax is unaffected).
    ``decoder_start_token_id`` 0. No ``task_specific_params``: MADLAD wants no
    text prefix.
    """
    import torch
    from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer

    folder = _fresh_folder(folder)
    spm_file = _t5_sentencepiece(folder, user_defined_symbols=list(MADLAD_TARGET_TOKENS))
    tokenizer = _tokenizer_from_spm(T5Tokenizer, spm_file, spm_file.name, extra_ids=0)
    tokenizer.save_pretrained(folder)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=2,
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(config)
    # pad too: CTranslate2 ignores generation_config's bad_words_ids
    _quieten(model, [0, *tokenizer.convert_tokens_to_ids(list(MADLAD_TARGET_TOKENS))])
    model.generation_config.bad_words_ids = [[config.pad_token_id]]
    model.save_pretrained(folder)
    return folder


# ------------------------------------------------------------------------- Marian


def build_tiny_marian_multi(folder: Path, max_positions: int = 128) -> Path:
    """Imitates a multi-target opus-mt model (e.g. Helsinki-NLP/opus-mt-en-roa),
    whose input starts with a ``>>xxx<<`` target token.

    Tokenizer: ``MarianTokenizer`` with the real layout (``source.spm``,
    ``target.spm``, ``vocab.json``); the sentencepiece models hold the
    :data:`MARIAN_TARGET_TOKENS` (``>>eng<<``, ``>>fra<<``, ``>>deu<<``,
    ``>>ita<<``, ``>>spa<<``) as user-defined pieces, so vocab.json has them right
    after ``</s>`` 0 and ``<unk>`` 1, and ``<pad>`` last. Hence
    ``tokenizer.supported_language_codes`` lists them and ">>eng<< Bonjour"
    encodes with ``>>eng<<`` as its first token. Source "fr", target "mul"
    (illustrative names).

    Model: as :func:`summarizer.models.tiny.build_tiny_marian`: ``MarianMTModel``,
    eos 0, pad = ``decoder_start_token_id`` = last id, ``forced_eos_token_id`` 0,
    ``bad_words_ids = [[pad]]`` as opus-mt ships.
    """
    from transformers import MarianMTModel, MarianTokenizer

    from summarizer.models.tiny import build_tiny_marian

    folder = build_tiny_marian(_fresh_folder(folder), max_positions, MARIAN_TARGET_TOKENS, target_lang="mul")
    model = MarianMTModel.from_pretrained(folder)
    _quieten(model, MarianTokenizer.from_pretrained(folder).convert_tokens_to_ids(list(MARIAN_TARGET_TOKENS)))
    model.save_pretrained(folder)
    return folder


# ------------------------------------------------------------- not seq2seq at all


def build_tiny_decoder_only(folder: Path) -> Path:
    """A tiny causal LM in the layout of a Llama checkpoint (``LlamaForCausalLM``,
    ``model_type: llama``, ``LlamaTokenizer`` from ``tokenizer.model`` with
    ``<unk>`` 0, ``<s>`` 1, ``</s>`` 2). ``AutoModelForSeq2SeqLM`` refuses it
    (its config class is not a seq2seq one); ``AutoModelForCausalLM`` loads it."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, LlamaTokenizer

    folder = _fresh_folder(folder)
    spm_file = _train_sentencepiece(folder / "spm")  # <unk> 0, <s> 1, </s> 2
    shutil.move(spm_file, folder / "tokenizer.model")
    for leftover in folder.glob("spm.*"):
        leftover.unlink()
    tokenizer = _tokenizer_from_spm(LlamaTokenizer, folder / "tokenizer.model", "tokenizer.model")
    tokenizer.save_pretrained(folder)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=1024,  # room for a prompt, the reply and a sentence
        bos_token_id=1,
        eos_token_id=2,
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    return folder


def build_tiny_encoder_only(folder: Path) -> Path:
    """A tiny ``BertForMaskedLM`` (``model_type: bert``) with a ``BertTokenizer``
    reading a ``vocab.txt`` in bert-base-uncased's layout (``[PAD]`` 0, then
    ``[UNK]``, ``[CLS]``, ``[SEP]``, ``[MASK]``, then lower-cased words, single
    characters and ``##`` continuations from the tiny corpus).
    ``AutoModelForSeq2SeqLM`` refuses it."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertTokenizer

    folder = _fresh_folder(folder)
    words: dict[str, None] = {}
    chars: dict[str, None] = {}
    for sentence in FRENCH + ENGLISH:
        # roughly BERT's basic tokenization: lower case, words and punctuation apart
        for word in re.findall(r"\w+|[^\w\s]", sentence.lower()):
            words.setdefault(word, None)
            for char in word:
                chars.setdefault(char, None)
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += sorted(chars) + [f"##{c}" for c in sorted(chars)]
    tokens += [w for w in words if w not in chars]
    (folder / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(str(folder / "vocab.txt"), do_lower_case=True, model_max_length=512)
    tokenizer.save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        pad_token_id=0,
    )
    torch.manual_seed(0)
    model = BertForMaskedLM(config)
    model.save_pretrained(folder)
    return folder


def build_tiny_marian_separate_vocabs(folder: Path) -> Path:
    """A multi-target opus-mt model whose tokenizer has ``separate_vocabs: true``: a source
    ``vocab.json`` holding the :data:`MARIAN_TARGET_TOKENS` (``>>eng<<``...) and a
    ``target_vocab.json``, with decoder embeddings of their own (``decoder_vocab_size``,
    ``share_encoder_decoder_embeddings: false``). transformers' ``MarianTokenizer`` leaves
    ``supported_language_codes`` empty for such a tokenizer although ``get_vocab()`` (the
    source vocabulary) has the codes. Here the target vocabulary holds the same tokens as
    the source one (a real one has its own pieces; transformers 5.25 then skips special
    tokens by their source ids when decoding, which this model keeps out of the way).
    Which real opus-mt checkpoints ship separate vocabularies was not checked here."""
    import json

    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    folder = build_tiny_marian_multi(_fresh_folder(folder))
    source = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    target = dict(source)
    (folder / "target_vocab.json").write_text(json.dumps(target), encoding="utf-8")
    config_path = folder / "tokenizer_config.json"
    tokenizer_config = json.loads(config_path.read_text(encoding="utf-8"))
    tokenizer_config["separate_vocabs"] = True
    config_path.write_text(json.dumps(tokenizer_config, indent=2), encoding="utf-8")
    tokenizer = MarianTokenizer.from_pretrained(folder)
    assert tokenizer.separate_vocabs and tokenizer.supported_language_codes == []
    old = MarianConfig.from_pretrained(folder).to_dict()
    config = MarianConfig(
        **{k: old[k] for k in ("d_model", "encoder_layers", "decoder_layers", "encoder_attention_heads",
                              "decoder_attention_heads", "encoder_ffn_dim", "decoder_ffn_dim",
                              "max_position_embeddings")},
        vocab_size=len(source),
        decoder_vocab_size=len(target),
        share_encoder_decoder_embeddings=False,
        pad_token_id=target["<pad>"],
        eos_token_id=target["</s>"],
        decoder_start_token_id=target["<pad>"],
        forced_eos_token_id=target["</s>"],
    )
    torch.manual_seed(0)
    model = MarianMTModel(config)
    model.generation_config.bad_words_ids = [[target["<pad>"]]]
    model.save_pretrained(folder)
    return folder


def build_tiny_bart_cnn(folder: Path, forced_in: str = "generation_config.json") -> Path:
    """Imitates facebook/bart-large-cnn, a summariser whose checkpoint forces its own first
    output token: ``forced_bos_token_id`` 0 (``<s>``) after the decoder start ``</s>`` (2).

    Tokenizer: ``RobertaTokenizer`` (transformers 5's ``BartTokenizer`` is an alias of it;
    ``model_type: bart`` maps to it), a byte-level BPE trained on the tiny corpus with
    ``<s>`` 0, ``<pad>`` 1, ``</s>`` 2, ``<unk>`` 3 first and ``<mask>`` last, as BART's
    vocabulary has them. Model: ``BartForConditionalGeneration``, bos 0, pad 1, eos 2,
    ``decoder_start_token_id`` 2, ``forced_eos_token_id`` 2. ``forced_in`` says where the
    forced token is written: ``generation_config.json`` (as transformers 5 saves it) or
    ``config.json`` with no generation_config.json (older checkpoints; transformers then
    reads it from config.json). The forced token is the one bart-large-cnn is described
    to ship (unverified: its files were not checked against the hub here). The
    output row of ``<s>`` is scaled down, so that only forcing puts it first.
    """
    import json

    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import BartConfig, BartForConditionalGeneration, RobertaTokenizer

    folder = _fresh_folder(folder)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(FRENCH + ENGLISH, trainer)
    state = json.loads(bpe.to_str())
    vocab = dict(state["model"]["vocab"])
    vocab["<mask>"] = len(vocab)
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in state["model"]["merges"]]
    tokenizer = RobertaTokenizer(vocab=vocab, merges=merges, model_max_length=1024)
    tokenizer.save_pretrained(folder)
    config = BartConfig(
        vocab_size=len(tokenizer), d_model=32, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
        max_position_embeddings=1024, bos_token_id=0, pad_token_id=1, eos_token_id=2,
        decoder_start_token_id=2, forced_eos_token_id=2,
    )
    torch.manual_seed(0)
    model = BartForConditionalGeneration(config)
    _quieten(model, [0, 1])
    model.generation_config.forced_bos_token_id = 0
    model.generation_config.bad_words_ids = [[1]]
    model.save_pretrained(folder)
    if forced_in == "config.json":
        (folder / "generation_config.json").unlink()
        written = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        written.update(forced_bos_token_id=0, forced_eos_token_id=2)
        (folder / "config.json").write_text(json.dumps(written, indent=2), encoding="utf-8")
    return folder
