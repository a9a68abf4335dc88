"""Re-saved checkpoints: the tiny NLLB, M2M100 and mBART-50 with a generic tokenizer class.

Fine-tunes and re-uploads often ship the tokenizer as a bare ``tokenizer.json`` whose
``tokenizer_config.json`` names a generic class: ``PreTrainedTokenizerFast`` (what
transformers 4 writes for ``PreTrainedTokenizerFast.from_pretrained(...).save_pretrained``)
or ``TokenizersBackend`` (what transformers 5.25 writes for the same, as seen here).
AutoTokenizer then loads ``TokenizersBackend``: the same vocabulary, the language codes as
added special tokens, but no ``src_lang``: its ``tokenizer.json`` template writes the code
it was saved with (``eng_Latn``, ``en_XX``, ``__en__``) before every input.

transformers has no converter from M2M100's sentencepiece files to ``tokenizer.json``;
:func:`resave_m2m100_generic` writes the ``tokenizer.json`` such a re-save would need (the
vocabulary of ``vocab.json``, the BPE merges of ``sentencepiece.bpe.model``, the language
tokens after the pieces, the template ``__en__ $A </s>``): how real re-saves of M2M100
look was not checked against the hub.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .common import _fresh_folder

_MODEL_FILES = ("config.json", "generation_config.json", "model.safetensors")


def _copy_model(original: Path, folder: Path) -> Path:
    folder = _fresh_folder(folder)
    for name in _MODEL_FILES:
        if (original / name).is_file():
            shutil.copy(original / name, folder / name)
    return folder


def _name_class(folder: Path, tokenizer_class: str) -> None:
    path = folder / "tokenizer_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["tokenizer_class"] = tokenizer_class
    path.write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")


def resave_generic(original: Path, folder: Path, tokenizer_class: str = "PreTrainedTokenizerFast") -> Path:
    """``original`` (the tiny NLLB or mBART-50) with its tokenizer re-saved through
    ``PreTrainedTokenizerFast`` and ``tokenizer_config.json`` naming ``tokenizer_class``."""
    from transformers import PreTrainedTokenizerFast

    folder = _copy_model(original, folder)
    PreTrainedTokenizerFast.from_pretrained(original).save_pretrained(folder)
    _name_class(folder, tokenizer_class)
    return folder


def resave_m2m100_generic(original: Path, folder: Path, tokenizer_class: str = "PreTrainedTokenizerFast") -> Path:
    """The tiny M2M100 with a ``tokenizer.json`` of the same ids as its ``M2M100Tokenizer``."""
    from tokenizers import Tokenizer
    from transformers import M2M100Tokenizer, NllbTokenizer, PreTrainedTokenizerFast

    from .common import _tokenizer_from_spm

    folder = _copy_model(original, folder)
    slow = M2M100Tokenizer.from_pretrained(original)
    # NLLB's converter reads a BPE sentencepiece model into fairseq's layout (<s> <pad> </s>
    # <unk>, then the pieces), the layout of M2M100's vocab.json.
    converted = _tokenizer_from_spm(NllbTokenizer, original / "sentencepiece.bpe.model", "sentencepiece.bpe.model")
    state = json.loads(converted.backend_tokenizer.to_str())
    vocab = json.loads((original / "vocab.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in state["model"]["vocab"].items() if k in vocab} == vocab
    state["model"]["vocab"] = vocab
    languages = sorted(slow.lang_token_to_id, key=slow.lang_token_to_id.get)
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    state["added_tokens"] = [
        {"id": vocab[token] if token in vocab else slow.convert_tokens_to_ids(token), "content": token,
         "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
        for token in [*specials, *languages]
    ]
    english = slow.convert_tokens_to_ids("__en__")
    state["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "__en__", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                   {"SpecialToken": {"id": "</s>", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "__en__", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
        "special_tokens": {"__en__": {"id": "__en__", "ids": [english], "tokens": ["__en__"]},
                           "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}},
    }
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(state)),
        bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
        extra_special_tokens=languages, model_max_length=slow.model_max_length,
    )
    tokenizer.save_pretrained(folder)
    _name_class(folder, tokenizer_class)
    return folder


def without_language_codes(resaved: Path, folder: Path) -> Path:
    """A generic re-save (of :func:`resave_generic`) whose tokenizer lost its language codes,
    as a tokenizer rebuilt for a fine-tune might: the model type still says NLLB."""
    folder = _copy_model(resaved, folder)
    state = json.loads((resaved / "tokenizer.json").read_text(encoding="utf-8"))
    config = json.loads((resaved / "tokenizer_config.json").read_text(encoding="utf-8"))
    codes = set(config.pop("extra_special_tokens", []))
    state["added_tokens"] = [t for t in state["added_tokens"] if t["content"] not in codes]
    state["model"]["vocab"] = {k: v for k, v in state["model"]["vocab"].items() if k not in codes}
    eos = {"SpecialToken": {"id": "</s>", "type_id": 0}}
    state["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"Sequence": {"id": "A", "type_id": 0}}, eos],
        "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 0}}, eos],
        "special_tokens": {"</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}},
    }
    (folder / "tokenizer.json").write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
    return folder
