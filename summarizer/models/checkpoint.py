"""What a model's own files tell the framing: the language codes its vocabulary holds, the
token its checkpoint forces first, and a generic tokenizer's saved language tag.

``models.families`` decides from them; nothing here decides how a model is fed.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ConfigError, ModelLoadError
from .language_codes import CODE_PATTERNS
from .loading import ModelSpec, from_pretrained


def vocabulary_codes(tokenizer: Any, family: str) -> tuple[str, ...]:
    """The language-code tokens of ``family`` that ``tokenizer`` knows (its vocabulary,
    added tokens included, and mBART's / M2M100's own code tables), sorted."""
    pattern = re.compile(CODE_PATTERNS[family])
    candidates = set(tokenizer.get_vocab())
    for name in ("lang_code_to_id", "lang_code_to_token"):  # mBART: code -> id; M2M100: fr -> __fr__
        known = getattr(tokenizer, name, None)
        if isinstance(known, dict):
            candidates |= {str(token) for token in (known if name == "lang_code_to_id" else known.values())}
    unknown = getattr(tokenizer, "unk_token_id", None)
    return tuple(
        sorted(
            token
            for token in candidates
            if pattern.fullmatch(token) and tokenizer.convert_tokens_to_ids(token) != unknown
        )
    )


def untag_template(tokenizer: Any, codes: tuple[str, ...]) -> None:
    """Take the language codes out of a generic tokenizer's template. Such a tokenizer
    (a re-saved ``tokenizer.json``) writes the code it was saved with (``eng_Latn``)
    before every input; the framing puts each request's own code first, by id."""
    import json

    from tokenizers import Tokenizer

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or backend.post_processor is None:
        return
    state = json.loads(backend.to_str())
    untagged = _without_codes(state.get("post_processor"), set(codes))
    if untagged != state.get("post_processor"):
        state["post_processor"] = untagged
        backend.post_processor = Tokenizer.from_str(json.dumps(state)).post_processor


def _without_codes(processor: Any, codes: set[str]) -> Any:
    """A tokenizers post-processor (as JSON) with the special tokens in ``codes`` left out."""
    if not isinstance(processor, dict):
        return processor
    if processor.get("type") == "Sequence":
        return {**processor, "processors": [_without_codes(p, codes) for p in processor.get("processors", [])]}
    if processor.get("type") != "TemplateProcessing":
        return processor
    kept = {
        side: [piece for piece in processor[side] if piece.get("SpecialToken", {}).get("id") not in codes]
        for side in ("single", "pair")
    }
    specials = {name: value for name, value in processor.get("special_tokens", {}).items() if name not in codes}
    return {**processor, **kept, "special_tokens": specials}


def own_forced_token(spec: ModelSpec, tokenizer: Any, where: str) -> str | None:
    """The token the checkpoint forces first (``forced_bos_token_id``), read where
    transformers reads it: generation_config.json, else config.json."""
    from transformers import GenerationConfig

    for name in ("generation_config.json", "config.json"):
        try:
            forced = from_pretrained(spec, GenerationConfig.from_pretrained, config_file_name=name).forced_bos_token_id
        except ModelLoadError:
            continue
        if forced is None:
            return None
        token = tokenizer.convert_ids_to_tokens(int(forced))
        if not isinstance(token, str) or tokenizer.convert_tokens_to_ids(token) != forced:
            raise ConfigError(
                f"{where}: its {name} forces token id {forced} (forced_bos_token_id), which its "
                "tokenizer does not have; correct or delete that key in the model's files"
            )
        return token
    return None
