"""Quality checks on generated text: what they find becomes flags, never silence.

``repetition``: a word n-gram loop, a low share of distinct n-grams, or a
character repeated many times. ``empty_output``: nothing generated.
``length_ratio``: a translated segment much shorter or longer than its source.
``untranslated``: a "translation" (or translated summary) still detected as the source language.
``number_mismatch``, ``unsupported_name``, ``unsupported_date``: a figure, a name,
a weekday or month the article does not back (``text.faithfulness``), with the words.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

from .config import QualityConfig
from .flags import EMPTY_OUTPUT, FAITHFULNESS_FLAGS, LENGTH_RATIO, REPETITION
from .text.faithfulness import faithfulness_findings
from .text.language import LanguageDetector


_WORD = re.compile(r"\w+", re.UNICODE)
# Long enough that the distinct-n-gram share means something.
_MIN_WORDS_FOR_DISTINCT_RATIO = 16


class QualityChecker:
    """Applies the configured thresholds."""

    def __init__(self, config: QualityConfig, detector: LanguageDetector | None = None) -> None:
        self.config = config
        self.detector = detector or LanguageDetector()
        self._char_run = re.compile(r"(.)\1{%d,}" % config.max_char_run, re.DOTALL)

    def is_repetitive(self, text: str) -> bool:
        """True for a degenerate loop (see module docstring)."""
        if self._char_run.search(text):
            return True
        words = _WORD.findall(text.lower())
        size = self.config.repetition_ngram
        grams = [tuple(words[i : i + size]) for i in range(len(words) - size + 1)]
        if not grams:
            return False
        if Counter(grams).most_common(1)[0][1] > self.config.repetition_max_count:
            return True
        if len(words) >= _MIN_WORDS_FOR_DISTINCT_RATIO:
            return len(set(grams)) / len(grams) < self.config.min_distinct_ratio
        return False

    def text_flags(self, text: str) -> set[str]:
        """Flags for any generated text (summary or translation)."""
        if not text.strip():
            return {EMPTY_OUTPUT}
        return {REPETITION} if self.is_repetitive(text) else set()

    def segment_flags(self, source: str, output: str) -> set[str]:
        """Flags for one translated segment, including the length check."""
        flags = self.text_flags(output)
        if output.strip() and len(source) >= self.config.length_ratio_min_chars:
            ratio = len(output) / len(source)
            if not self.config.length_ratio_min <= ratio <= self.config.length_ratio_max:
                flags.add(LENGTH_RATIO)
        return flags

    def faithfulness(
        self,
        generated: str,
        source: str,
        generated_language: str,
        source_language: str,
        checks: Iterable[str] = FAITHFULNESS_FLAGS,
    ) -> dict[str, list[str]]:
        """The figures, names and dates of ``generated`` that ``source`` does not back,
        by flag (only the ``checks`` asked for); nothing when ``quality.faithfulness`` is off."""
        if not self.config.faithfulness or not generated.strip():
            return {}
        return faithfulness_findings(
            generated, source, generated_language=generated_language, source_language=source_language, checks=checks
        )

    def is_untranslated(self, translation: str, source_language: str) -> bool:
        """True when ``translation`` is still, surely, in ``source_language``."""
        if not translation.strip():
            return False
        detection = self.detector.detect(translation)
        return (
            detection.language == source_language
            and detection.confidence >= self.config.untranslated_confidence
        )
