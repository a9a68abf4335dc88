"""The local executor: waves of articles through this process's models."""

from __future__ import annotations

from ..config import JobConfig
from ..options import RunOptions
from ..planning import Plan
from ..processing import ArticleProcessor
from ..records import ArticleResult, RunStats
from ..writing import ResultWriter, Written
from .execution import Execution


def process_waves(config: JobConfig, plan: Plan, options: RunOptions, writer: ResultWriter) -> Execution:
    """Process ``plan.todo`` in waves of ``runtime.wave_articles``, writing each wave's results.

    A stop request ends the run after the current decoding step: the finished
    waves are written, the rest is left for the next run."""
    processor = ArticleProcessor(config, plan.fingerprints, options)
    processor.check_models(plan.todo)
    results: list[ArticleResult] = []
    stats = RunStats()
    left = 0

    def keep(written: Written) -> None:
        nonlocal stats
        results.extend(written.results)
        stats += written.stats

    todo = plan.todo
    size = config.runtime.wave_articles or len(todo)
    try:
        for start in range(0, len(todo), size):
            if options.stop.requested:
                left += len(todo) - start
                break
            wave = todo[start : start + size]
            outcome = processor.process(wave)
            stats += outcome.stats
            left += len(wave) - len(outcome.results)
            keep(writer.write(outcome.results[item.key] for item in wave if item.key in outcome.results))
    except BaseException:
        writer.close()  # what is finished stays finished
        raise
    keep(writer.close())
    return Execution(tuple(results), left, stats)
