"""The local executor: waves of articles through this process's models."""

from __future__ import annotations

import logging
import time

from ..config import JobConfig
from ..options import RunOptions
from ..planning import Plan
from ..processing import ArticleProcessor
from ..records import ArticleResult, RunStats
from ..writing import ResultWriter, Written
from .execution import Execution, left_alone, model_chars, wave_plan

logger = logging.getLogger(__name__)


def process_waves(config: JobConfig, plan: Plan, options: RunOptions, writer: ResultWriter) -> Execution:
    """Process ``plan.todo`` in the waves ``execution.wave_plan`` cuts, writing each wave's results.

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

    waves = wave_plan(config, plan.todo)
    budget = config.runtime.wave_chars
    try:
        for index, wave in enumerate(waves):
            if options.stop.requested:
                left += sum(len(later.items) for later in waves[index:])
                break
            if wave.alone:
                keep(writer.before_long_work())
                item = wave.items[0]
                logger.info(
                    "%s: %s characters, over runtime.wave_chars (%s): done by itself",
                    item.key, f"{model_chars(item):,}", f"{budget:,}",
                )
            started = time.perf_counter()
            outcome = processor.process(wave.items)
            stats += outcome.stats
            left += len(wave.items) - len(outcome.results)
            keep(writer.write(outcome.results[item.key] for item in wave.items if item.key in outcome.results))
            message = left_alone(wave, outcome.results, budget, time.perf_counter() - started)
            if message:
                logger.warning("%s", message)
    except BaseException:
        writer.close()  # what is finished stays finished
        raise
    keep(writer.close())
    return Execution(tuple(results), left, stats)
