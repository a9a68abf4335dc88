"""Every flag an article's result can carry: its name, what it means, and whether
it makes the output untrusted ("check before use" in the digest).

Flags are stored by name (in meta files, results and reports); this table is
the one place that says what each name means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

REPETITION = "repetition"
EMPTY_OUTPUT = "empty_output"
LENGTH_RATIO = "length_ratio"
UNTRANSLATED = "untranslated"
TRUNCATED_INPUT = "truncated_input"
LANGUAGE_UNCERTAIN = "language_uncertain"
ENCODING_FALLBACK = "encoding_fallback"
ALREADY_TARGET_LANGUAGE = "already_target_language"
UNSUPPORTED_LANGUAGE = "unsupported_language"
NUMBER_MISMATCH = "number_mismatch"
UNSUPPORTED_NAME = "unsupported_name"
UNSUPPORTED_DATE = "unsupported_date"
REPLY_TRIMMED = "reply_trimmed"
CHAT_MARKUP = "chat_markup"
FAITHFULNESS_FLAGS = (NUMBER_MISMATCH, UNSUPPORTED_NAME, UNSUPPORTED_DATE)
"""Flags of the faithfulness checks, whose values (the offending words) are kept too."""


@dataclass(frozen=True)
class Flag:
    """One flag."""

    name: str
    meaning: str
    """What it says about the article, as the digest puts it."""
    untrusted: bool
    """The output should be checked before use (else the flag is informative)."""


FLAGS: dict[str, Flag] = {
    flag.name: flag
    for flag in (
        Flag(TRUNCATED_INPUT, "the summariser saw only the start of the article", True),
        Flag(EMPTY_OUTPUT, "a model produced nothing for part of it", True),
        Flag(REPETITION, "a model output repeats itself (degenerate loop)", True),
        Flag(LENGTH_RATIO, "part of the translation is much shorter or longer than the original", True),
        Flag(UNTRANSLATED, "the translation or the translated summary is still in the original language", True),
        Flag(LANGUAGE_UNCERTAIN, "the article's language was hard to tell", True),
        Flag(ENCODING_FALLBACK, "the file was not UTF-8 and was read as Windows-1252", True),
        Flag(ALREADY_TARGET_LANGUAGE, "already in the target language: summarised, not translated", False),
        Flag(UNSUPPORTED_LANGUAGE, "no model for the article's language: not processed", True),
        Flag(NUMBER_MISMATCH, "a number the article does not contain", True),
        Flag(UNSUPPORTED_NAME, "a name the article does not contain", True),
        Flag(UNSUPPORTED_DATE, "a weekday or month the article does not mention", True),
        Flag(REPLY_TRIMMED, "more than a few words the model wrote around its text were removed", True),
        Flag(CHAT_MARKUP, "chat markup in the article or an output: a model may have obeyed the article's text", True),
    )
}


def meaning(name: str) -> str:
    """What the flag ``name`` means (an unknown name, from a newer version, stands for itself)."""
    flag = FLAGS.get(name)
    return flag.meaning if flag else name


def untrusted(names: Iterable[str]) -> list[str]:
    """The flags among ``names`` that make an output untrusted (unknown ones count)."""
    return [name for name in names if name not in FLAGS or FLAGS[name].untrusted]


def informative(names: Iterable[str]) -> list[str]:
    """The flags among ``names`` that say nothing against the text."""
    return [name for name in names if name in FLAGS and not FLAGS[name].untrusted]
