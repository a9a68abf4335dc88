"""``run_job``: the nightly job from configuration to written files.

lock -> discover -> skip what is done -> (per wave) clean -> segment ->
summarise -> translate -> write (text files first, meta last) -> report.
Models are loaded only when there is work, and (locally) before anything is
written, so a model problem leaves no partial output; every file is written
atomically in any case. A stop request (signal or time budget) ends the run
after the current decoding step; finished articles are written and the rest
is left for the next run.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .config import JobConfig
from .io.readers import require_input_paths
from .io.results import ResultWriter
from .io.writers import remove_stale_temp_files
from .locking import RunLock
from .planning import Plan, make_plan
from .processing import ArticleProcessor, failed_result
from .report import JobReport
from .stopping import StopSignal, TimeBudget

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    """Per-run choices that are not configuration."""

    force: bool = False
    """Redo articles even when they are already done."""
    dry_run: bool = False
    """Only plan: read inputs and report what would be done; load no model, write nothing."""
    limit: int | None = None
    """Process at most this many new articles; the rest wait for the next run."""
    show_progress: bool = False
    """Show progress bars (the CLI turns them on when stderr is a terminal)."""
    allow_download: bool = False
    """Let hub models missing from the local cache be downloaded (normally only ``fetch`` does)."""
    stop: StopSignal = field(default_factory=StopSignal)
    """Set it (from a signal handler, say) to stop the run cleanly."""


def lock_folders(config: JobConfig) -> list[Path]:
    """The output locations a run locks: the output folder, or each input folder."""
    if config.outputs.dir is not None:
        return [config.outputs.dir]
    return [path if path.is_dir() else path.parent for path in config.inputs.paths]


Executor = Callable[[JobConfig, Plan, RunOptions, JobReport, ResultWriter], None]
"""Does a plan's work and writes each result with the writer."""


def run_job(config: JobConfig, options: RunOptions | None = None, executor: Executor | None = None) -> JobReport:
    """Run the job described by ``config`` and return what happened.

    ``executor`` does the work once planned: by default the one
    ``runtime.executor`` names (this process, or a Ray cluster).

    Raises ConfigError/ModelLoadError (nothing written, except by a Ray run that
    met it on a worker), LockHeldError (another run is busy here),
    OutputWriteError (disk full, read-only: the run stops, what was finished is
    kept) or ServiceUnavailableError (the Ray cluster cannot be reached or failed).
    """
    options = options or RunOptions()
    report = JobReport(
        config_path=str(config.source) if config.source else None,
        dry_run=options.dry_run,
        target_language=config.target_language,
    )
    require_input_paths(config.inputs.paths, config.inputs.extensions)
    lock = contextlib.nullcontext() if options.dry_run else RunLock(lock_folders(config))
    with lock:
        started = time.perf_counter()
        plan = make_plan(config, force=options.force, limit=options.limit)
        report.record_plan(plan)
        report.stage_seconds["read"] = time.perf_counter() - started
        if options.dry_run:
            return report.finish()
        remove_stale_temp_files({location.folder for location in plan.locations.values()})
        writer = ResultWriter(config, plan, report)
        writer.prune()
        for failure in plan.unwritable:
            logger.error("failed: %s: %s", failure.key, failure.error)
            report.results.append(failed_result(failure, plan.fingerprint))
        if plan.todo:
            with TimeBudget(config.runtime.time_budget_minutes, options.stop):
                (executor or _configured_executor(config))(config, plan, options, report, writer)
    if options.stop.requested:
        report.stopped = options.stop.reason
    return report.finish()


def _configured_executor(config: JobConfig) -> Executor:
    if config.runtime.executor == "ray":
        from .ray_executor import process_on_ray

        return process_on_ray
    return process_waves


def process_waves(
    config: JobConfig, plan: Plan, options: RunOptions, report: JobReport, writer: ResultWriter
) -> None:
    """The local executor: waves of articles through this process's models."""
    processor = ArticleProcessor(config, plan.fingerprints, options, report)
    try:
        processor.check_models(plan.todo)
        todo = plan.todo
        size = config.runtime.wave_articles or len(todo)
        for start in range(0, len(todo), size):
            if options.stop.requested:
                report.left += len(todo) - start
                break
            wave = todo[start : start + size]
            results = processor.process(wave)
            report.left += len(wave) - len(results)
            started = time.perf_counter()
            done = [item for item in wave if item.key in results]
            writer.write(done, results)
            report.add_stage_time("write", time.perf_counter() - started)
    finally:
        processor.record_model_usage()
