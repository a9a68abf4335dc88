"""Running configs over reference articles, in memory, and scoring them.

Nothing is written: the articles go through the same cleaning, routing,
models and quality checks as ``run``, and the outputs are compared with the
references (``summary`` in the article's language, ``translation`` in the
target language) of the REFS file.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..config import JobConfig
from ..errors import UsageError
from ..io.readers import discover, read_source
from ..models.loading import locate_model
from ..planning import Fingerprints, assign_languages
from ..flags import untrusted
from ..records import Article, ArticleResult
from .scores import (
    ROUGE_TYPES,
    CorpusMetric,
    Difference,
    mean,
    paired_bootstrap,
    rouge_per_article,
    sentence_bleu,
    sentence_chrf,
)

METRICS = ("rouge1", "rouge2", "rougeL", "chrf++", "bleu")
LABELS = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "chrf++": "chrF++", "bleu": "BLEU"}


@dataclass
class SystemRun:
    """One config's outputs and costs on the references."""

    name: str
    results: list[ArticleResult]
    seconds: float
    generated_tokens: int
    tokens_per_second: float
    model_mb: float
    scores: dict[str, float] = field(default_factory=dict)
    """Corpus scores by metric."""
    per_article: list[dict[str, Any]] = field(default_factory=list)
    in_target_language: frozenset[str] = frozenset()
    """Keys of the articles routed as already in the target language (their own translation)."""

    @property
    def flags(self) -> Counter[str]:
        """Quality flags raised, by name."""
        return Counter(f for r in self.results for f in untrusted(r.flags))

    @property
    def flag_rates(self) -> dict[str, float]:
        """Share of the articles that raised each quality flag (a model change that
        invents more numbers shows here)."""
        total = len(self.results) or 1
        return {flag: count / total for flag, count in sorted(self.flags.items())}

    @property
    def failed(self) -> int:
        """Articles that could not be processed."""
        return sum(1 for r in self.results if r.status == "failed")

    @property
    def flagged(self) -> int:
        """Articles with at least one quality flag."""
        return sum(1 for r in self.results if untrusted(r.flags))


@dataclass
class Evaluation:
    """Every config's scores, and each config's differences from the first one."""

    references: int
    summaries: int
    translations: int
    systems: list[SystemRun]
    differences: dict[str, dict[str, Difference]]
    """config name -> metric -> B minus the first config."""


def read_references(path: Path) -> list[Article]:
    """The articles of a REFS file (JSONL: ``id``, ``text``, optional ``title``,
    ``summary``, ``translation``); UsageError names a bad line."""
    if path.suffix.lower() != ".jsonl" or not path.is_file():
        raise UsageError(f"--refs {path}: expected a .jsonl file")
    sources = discover([path], [".jsonl"])
    if len(sources) != 1:
        raise UsageError(f"--refs {path}: this name is one of summarizer's own output files; rename it")
    articles = []
    for item in read_source(sources[0]):
        if not isinstance(item, Article):
            raise UsageError(f"--refs {path}: {item.error}")
        for name in ("summary", "translation"):
            if name in item.metadata and not isinstance(item.metadata[name], str):
                raise UsageError(f"--refs {path}: record {item.record_id!r}: '{name}' must be a string")
        articles.append(item)
    if not any(a.metadata.get("summary") or a.metadata.get("translation") for a in articles):
        raise UsageError(f"--refs {path}: no record has a reference 'summary' or 'translation'")
    return articles


def run_system(config: JobConfig, articles: Sequence[Article], show_progress: bool = False) -> SystemRun:
    """Process ``articles`` with ``config``, in memory."""
    from ..options import RunOptions
    from ..processing import ArticleProcessor

    items = assign_languages(list(articles), config)
    processor = ArticleProcessor(config, Fingerprints(config), RunOptions(show_progress=show_progress))
    processor.check_models(items)
    started = time.perf_counter()
    outcome = processor.process(items)
    results, stats = outcome.results, outcome.stats
    seconds = time.perf_counter() - started - stats.stage_seconds.get("load_models", 0.0)
    model_bytes = 0
    for engine in processor.pool.engines.values():
        folder, _ = locate_model(engine.spec)
        weights = [p for p in folder.iterdir() if p.suffix == ".safetensors"] or [
            p for p in folder.iterdir() if p.suffix == ".bin"
        ]
        model_bytes += sum(p.stat().st_size for p in weights)
    name = config.source.name if config.source else "config"
    return SystemRun(
        name=name,
        results=[results[a.key] for a in articles if a.key in results],
        seconds=seconds,
        generated_tokens=stats.generated_tokens,
        tokens_per_second=stats.tokens_per_second,
        model_mb=model_bytes / 1e6,
        in_target_language=frozenset(
            item.key for item in items if isinstance(item, Article) and item.route and item.route.in_target_language
        ),
    )


def evaluate(
    configs: Sequence[JobConfig], references: Sequence[Article], samples: int = 1000, show_progress: bool = False
) -> Evaluation:
    """Run and score every config; bootstrap each one's differences from the first."""
    systems = [run_system(config, references, show_progress) for config in configs]
    _name_uniquely(systems, configs)
    keyed = [{r.key: r for r in system.results} for system in systems]
    with_summary = [a for a in references if a.metadata.get("summary")]
    with_translation = [a for a in references if a.metadata.get("translation")]

    def outputs(index: int, articles: list[Article], attribute: str) -> list[str]:
        found = []
        for article in articles:
            result = keyed[index].get(article.key)
            in_target = (
                result is not None and result.status != "skipped" and article.key in systems[index].in_target_language
            )
            if attribute == "translation" and in_target:
                found.append(article.text)  # left as it is: the original is its own translation
            else:
                found.append(getattr(result, attribute, "") or "")
        return found

    summary_refs = [a.metadata["summary"] for a in with_summary]
    translation_refs = [a.metadata["translation"] for a in with_translation]
    corpus_metrics = [CorpusMetric("chrf++"), CorpusMetric("bleu")]
    rouge: list[list[dict[str, float]]] = []
    statistics: list[dict[str, Any]] = []
    """Per system, per corpus metric: the per-article statistics (scores and bootstrap use them)."""
    for index, system in enumerate(systems):
        summaries = outputs(index, with_summary, "summary")
        translations = outputs(index, with_translation, "translation")
        rouge.append(rouge_per_article(summaries, summary_refs))
        statistics.append({m.name: m.statistics(translations, translation_refs) for m in corpus_metrics})
        if with_summary:
            for name in ROUGE_TYPES:
                system.scores[name] = mean([s[name] for s in rouge[index]])
        if with_translation:
            for metric in corpus_metrics:
                system.scores[metric.name] = metric.score(statistics[index][metric.name])
        system.per_article = _per_article(with_summary, rouge[index], with_translation, translations, translation_refs)
    differences: dict[str, dict[str, Difference]] = {}
    for index in range(1, len(systems)):
        found: dict[str, Difference] = {}
        if with_summary:
            for name in ROUGE_TYPES:
                a_scores = [s[name] for s in rouge[0]]
                b_scores = [s[name] for s in rouge[index]]
                found[name] = paired_bootstrap(
                    lambda picked, a=a_scores, b=b_scores: (mean([a[i] for i in picked]), mean([b[i] for i in picked])),
                    len(with_summary),
                    samples,
                )
        if with_translation:
            for metric in corpus_metrics:
                a_rows, b_rows = statistics[0][metric.name], statistics[index][metric.name]
                found[metric.name] = paired_bootstrap(
                    lambda picked, m=metric, a=a_rows, b=b_rows: (m.score(a[picked]), m.score(b[picked])),
                    len(with_translation),
                    samples,
                )
        differences[systems[index].name] = found
    return Evaluation(len(references), len(with_summary), len(with_translation), systems, differences)


def _name_uniquely(systems: list[SystemRun], configs: Sequence[JobConfig]) -> None:
    """Configs with the same file name are told apart by their path, then by position."""
    if len({system.name for system in systems}) == len(systems):
        return
    for position, (system, config) in enumerate(zip(systems, configs), start=1):
        system.name = f"{config.source or system.name} (#{position})"


def _per_article(
    with_summary: list[Article],
    rouge: list[dict[str, float]],
    with_translation: list[Article],
    translations: list[str],
    references: list[str],
) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for article, scores in zip(with_summary, rouge):
        rows.setdefault(article.record_id or article.key, {}).update({k: round(v, 2) for k, v in scores.items()})
    for article, hypothesis, reference in zip(with_translation, translations, references):
        rows.setdefault(article.record_id or article.key, {}).update(
            {"chrf++": round(sentence_chrf(hypothesis, reference), 2), "bleu": round(sentence_bleu(hypothesis, reference), 2)}
        )
    return [{"id": key, **scores} for key, scores in rows.items()]


def render(evaluation: Evaluation, fmt: str = "table") -> str:
    """The scores as an aligned table, Markdown or JSON."""
    if fmt == "json":
        return json.dumps(_as_dict(evaluation), indent=2, ensure_ascii=False)
    columns = ["config", *[LABELS[m] for m in METRICS], "flagged", "flags", "failed", "tokens/s", "seconds",
               "model MB"]
    rows = []
    for system in evaluation.systems:
        rows.append(
            [system.name]
            + [f"{system.scores[m]:.2f}" if m in system.scores else "-" for m in METRICS]
            + [str(system.flagged), _flag_cells(system) or "-",
               str(system.failed), f"{system.tokens_per_second:.1f}", f"{system.seconds:.1f}",
               f"{system.model_mb:.1f}"]
        )
    intro = (
        f"{evaluation.references} articles: {evaluation.summaries} with a reference summary, "
        f"{evaluation.translations} with a reference translation"
    )
    blocks = [intro, _table(columns, rows, fmt)]
    if evaluation.differences:
        first = evaluation.systems[0].name
        diff_rows = []
        for name, found in evaluation.differences.items():
            cells = []
            for metric in METRICS:
                d = found.get(metric)
                cells.append("-" if d is None else f"{d.delta:+.2f} [{d.low:+.2f}, {d.high:+.2f}]{' *' if d.significant else ''}")
            diff_rows.append([f"{name} - {first}", *cells])
        blocks.append(
            "Differences from the first config, with paired bootstrap 95% intervals "
            "(* : the interval excludes 0, the difference is unlikely to be chance):"
        )
        blocks.append(_table(["", *[LABELS[m] for m in METRICS]], diff_rows, fmt))
    return "\n\n".join(blocks)


def _flag_cells(system: SystemRun) -> str:
    """Each flag's count and rate, ``number_mismatch 2 (50%)``."""
    rates = system.flag_rates
    return ", ".join(f"{flag} {count} ({rates[flag]:.0%})" for flag, count in sorted(system.flags.items()))


def _table(columns: list[str], rows: list[list[str]], fmt: str) -> str:
    if fmt == "markdown":
        lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    return "\n".join(lines + ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows])


def _as_dict(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "references": evaluation.references,
        "with_summary": evaluation.summaries,
        "with_translation": evaluation.translations,
        "systems": [
            {
                "config": s.name,
                "scores": {k: round(v, 3) for k, v in s.scores.items()},
                "flags": dict(s.flags),
                "flag_rates": {flag: round(rate, 4) for flag, rate in s.flag_rates.items()},
                "flagged_articles": s.flagged,
                "failed": s.failed,
                "generated_tokens": s.generated_tokens,
                "tokens_per_second": round(s.tokens_per_second, 1),
                "seconds": round(s.seconds, 2),
                "model_mb": round(s.model_mb, 1),
                "per_article": s.per_article,
            }
            for s in evaluation.systems
        ],
        "differences": {
            name: {m: {"delta": round(d.delta, 3), "low": round(d.low, 3), "high": round(d.high, 3),
                       "significant": d.significant} for m, d in found.items()}
            for name, found in evaluation.differences.items()
        },
    }
