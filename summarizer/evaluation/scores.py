"""Metrics from maintained libraries, and paired bootstrap intervals for differences.

Summaries: ROUGE-1/2/L F1 (rouge-score) with a tokenizer that suits French:
Unicode-aware, lowercased with accents kept (``été`` is not ``ete``), typographic
apostrophes made plain and elisions split (``l’énergie`` -> ``l`` + ``énergie``),
no stemming (rouge-score's Porter stemmer is English-only). rouge-score's own
tokenizer would drop every accented letter. Translations: chrF++ and BLEU
(sacrebleu, default settings: 13a tokenization). Scores are on a 0-100 scale.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

if TYPE_CHECKING:
    import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
RESOLUTION = 0.005
"""Differences smaller than this (half the 0.01 points printed) count as none."""


class FrenchAwareTokenizer:
    """The tokenizer rouge-score calls (it needs a ``tokenize`` method)."""

    def tokenize(self, text: str) -> list[str]:
        """Lowercased words, accents kept, elisions split."""
        text = unicodedata.normalize("NFC", text).casefold().replace("’", "'").replace("ʼ", "'")
        return _WORD.findall(text)


def rouge_per_article(hypotheses: Sequence[str], references: Sequence[str]) -> list[dict[str, float]]:
    """ROUGE-1/2/L F1 (0-100) of each hypothesis against its reference."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), tokenizer=FrenchAwareTokenizer())
    scores = []
    for hypothesis, reference in zip(hypotheses, references):
        result = scorer.score(reference, hypothesis)
        scores.append({name: 100 * result[name].fmeasure for name in ROUGE_TYPES})
    return scores


def mean(values: Sequence[float]) -> float:
    """Average (0 for nothing)."""
    return sum(values) / len(values) if values else 0.0


class CorpusMetric:
    """A sacrebleu corpus metric (``"bleu"`` or ``"chrf++"``) that can score any
    subset of the articles from per-article statistics computed once, as sacrebleu's
    own significance tests do: a bootstrap then costs a sum, not a re-tokenisation."""

    def __init__(self, name: str) -> None:
        from sacrebleu.metrics import BLEU, CHRF

        if name not in ("bleu", "chrf++"):
            raise ValueError(f"unknown corpus metric {name!r}")
        self.name = name
        self._metric = BLEU() if name == "bleu" else CHRF(word_order=2)

    def statistics(self, hypotheses: Sequence[str], references: Sequence[str]) -> "np.ndarray":
        """One row of match statistics per article."""
        import numpy as np

        if not hypotheses:
            return np.zeros((0, 0))
        rows = self._metric._extract_corpus_statistics(list(hypotheses), [list(references)])
        return np.asarray(rows, dtype="float64")

    def score(self, statistics: "np.ndarray") -> float:
        """The corpus score (0-100) of the articles whose rows are given."""
        return float(self._metric._compute_score_from_stats(statistics.sum(0)).score)

    def corpus_score(self, hypotheses: Sequence[str], references: Sequence[str]) -> float:
        """The corpus score (0-100) of these hypotheses against their references."""
        return self.score(self.statistics(hypotheses, references))


def bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (sacrebleu)."""
    return CorpusMetric("bleu").corpus_score(hypotheses, references)


def chrf_plus_plus(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus chrF++ (sacrebleu's CHRF with word bigrams)."""
    return CorpusMetric("chrf++").corpus_score(hypotheses, references)


def sentence_bleu(hypothesis: str, reference: str) -> float:
    """BLEU of one article (effective order, as sacrebleu recommends for sentences)."""
    from sacrebleu.metrics import BLEU

    return BLEU(effective_order=True).sentence_score(hypothesis, [reference]).score


def sentence_chrf(hypothesis: str, reference: str) -> float:
    """chrF++ of one article."""
    from sacrebleu.metrics import CHRF

    return CHRF(word_order=2).sentence_score(hypothesis, [reference]).score


@dataclass(frozen=True)
class Difference:
    """B minus A for one metric, with a paired bootstrap 95% confidence interval."""

    delta: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        """True when the interval excludes 0 by at least the 0.01 points shown."""
        return self.low >= RESOLUTION or self.high <= -RESOLUTION


def paired_bootstrap(
    score: Callable[[list[int]], tuple[float, float]],
    size: int,
    samples: int = 1000,
    seed: int = 12345,
) -> Difference:
    """Resample the articles with replacement ``samples`` times (the same sample for
    both systems: a paired test) and return the observed B - A with the 2.5th and
    97.5th percentiles of the resampled differences.

    ``score(indices)`` returns (A, B) on those articles.
    """
    everything = list(range(size))
    a, b = score(everything)
    rng = random.Random(seed)
    deltas = []
    for _ in range(samples):
        picked = [rng.randrange(size) for _ in range(size)]
        sample_a, sample_b = score(picked)
        deltas.append(sample_b - sample_a)
    deltas.sort()
    low = deltas[int(0.025 * (samples - 1))]
    high = deltas[int(round(0.975 * (samples - 1)))]
    return Difference(b - a, low, high)
