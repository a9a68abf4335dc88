"""Default values and fixed tables of the configuration."""

from __future__ import annotations

from typing import Any

#: Lines dropped from scraped French news by default (each is a Python regex
#: matched, case-insensitively, against the whole stripped line).
DEFAULT_DROP_LINE_PATTERNS: tuple[str, ...] = (
    r"(?:À|A) lire (?:aussi|également)\b.*",
    r"Lire (?:aussi|également)\b.*",
    r"(?:https?://|www\.)\S+",
    r"Publicité",
)

#: Popular models described (when pinned, not checked from here: the hub is unreachable)
#: as keeping only pickle weights on their main branch, with the commit recorded for the
#: hub's safetensors conversion pull request; used when the config names the model
#: without a revision. ``fetch`` verifies each pin and falls back when one is gone.
KNOWN_SAFETENSORS_REVISIONS: dict[str, str] = {
    # refs/pr/2, "Adding `safetensors` variant of this model"
    "moussaKam/barthez-orangesum-abstract": "d297ebaa84d61a069a0cd6922271c4a47ba2554e",
    # refs/pr/4, conversion of main b4a9a38
    "Helsinki-NLP/opus-mt-fr-en": "d1e0695bb7088571b5fdc25e950f415ad45c8ff1",
    # refs/pr/4, "Adding `safetensors` variant of this model"
    "Helsinki-NLP/opus-mt-de-en": "8be33f00bcaf451dc5ed05fdd94282649696b8e7",
}

#: Generation settings that YAML may override, with their types. They are
#: applied key by key on top of the model's own ``generation_config``.
GENERATION_KEYS: dict[str, type] = {
    "num_beams": int,
    "max_new_tokens": int,
    "min_new_tokens": int,
    "no_repeat_ngram_size": int,
    "encoder_no_repeat_ngram_size": int,
    "length_penalty": float,
    "repetition_penalty": float,
    "early_stopping": bool,
    "do_sample": bool,
    "temperature": float,
    "top_k": int,
    "top_p": float,
}

#: Largest value accepted for each numeric generation setting.
GENERATION_MAXIMA: dict[str, float] = {
    "num_beams": 64,
    "max_new_tokens": 65_536,
    "min_new_tokens": 65_536,
    "no_repeat_ngram_size": 100,
    "encoder_no_repeat_ngram_size": 100,
    "length_penalty": 100,
    "repetition_penalty": 100,
    "temperature": 100,
    "top_k": 1_000_000,
}


#: Settings for the one retry of a summary the faithfulness checks flag: more beams
#: make the summariser stay closer to the article.
DEFAULT_FAITHFULNESS_RETRY_GENERATION: dict[str, Any] = {
    "num_beams": 6,
    "no_repeat_ngram_size": 3,
}

#: Settings for the retry of a flagged translation segment.
DEFAULT_RETRY_GENERATION: dict[str, Any] = {
    "num_beams": 4,
    "no_repeat_ngram_size": 3,
    "repetition_penalty": 1.3,
}

DEFAULT_SUMMARIZER = "moussaKam/barthez-orangesum-abstract"
DEFAULT_TRANSLATOR = "Helsinki-NLP/opus-mt-fr-en"

#: Models whose pickle weights ``fetch`` may convert to safetensors unless the config
#: says otherwise (``convert_pickle_weights``): the two default models.
CONVERTIBLE_BY_DEFAULT = frozenset({DEFAULT_SUMMARIZER, DEFAULT_TRANSLATOR})
