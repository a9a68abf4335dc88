"""``run_job``: the nightly job from configuration to written files.

check inputs -> lock -> plan (discover, skip what is done) -> execute (clean,
summarise, translate, write: text files first, meta last) -> report.
Models are loaded only when there is work, and (locally) before anything is
written, so a model problem leaves no partial output; every file is written
atomically in any case. A stop request (signal or time budget) ends the run
after the current decoding step; finished articles are written and the rest
is left for the next run. Stages return their results and costs; this module
alone assembles the report.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .config import JobConfig
from .errors import ConfigError
from .executors import Execution, Executor, configured_executor
from .io.folders import remove_stale_temp_files
from .io.readers import require_input_paths
from .locking import RunLock
from .options import RunOptions
from .planning import Plan, make_plan
from .sharing import foreign_writers_problem
from .processing import failed_result
from .records import ArticleResult, RunStats
from .reporting.report import JobReport
from .stopping import TimeBudget
from .writing import ResultWriter

logger = logging.getLogger(__name__)


def lock_folders(config: JobConfig) -> list[Path]:
    """The output locations a run locks: the output folder, or each input folder."""
    if config.outputs.dir is not None:
        return [config.outputs.dir]
    return [path if path.is_dir() else path.parent for path in config.inputs.paths]


def run_job(config: JobConfig, options: RunOptions | None = None, executor: Executor | None = None) -> JobReport:
    """Run the job described by ``config`` and return what happened.

    ``executor`` does the work once planned: by default the one
    ``runtime.executor`` names (this process, or a Ray cluster).

    Raises InputPathError (nothing created), ConfigError/ModelLoadError
    (nothing written, except by a Ray run that met it on a worker),
    LockHeldError (another run is busy here), OutputWriteError (disk full,
    read-only: the run stops, what was finished is kept) or
    ServiceUnavailableError (the Ray cluster cannot be reached or failed).

    An error that stops the run after planning carries, as ``partial_report``,
    the report of what the run had finished by then.
    """
    options = options or RunOptions()
    started_at, clock = datetime.now(timezone.utc), time.perf_counter()
    require_input_paths(config.inputs.paths, config.inputs.extensions)
    execution = Execution((), 0, RunStats())
    lock = contextlib.nullcontext() if options.dry_run else RunLock(lock_folders(config))
    budget = TimeBudget(config.runtime.time_budget_minutes, options.stop)  # reading counts too
    with lock, budget:
        plan = make_plan(config, force=options.force, limit=options.limit, stop=options.stop)
        if plan.remembered:
            logger.info(
                "%d input(s) that failed to read are unchanged since: failed again without reading "
                "them (--force reads them)",
                plan.remembered,
            )
        problem = foreign_writers_problem(plan.foreign, config)
        if problem:
            raise ConfigError(problem)
        read = RunStats.stage("read", time.perf_counter() - clock)
        exported: list[dict[str, Any]] = []  # the night's dataset, a row per final result
        if options.dry_run:  # what the run would fail at once (outputs that would collide) is shown too
            execution = Execution(_unwritable(plan), 0, RunStats())
        else:
            writer = ResultWriter(config, plan)
            exported = writer.export.rows
            try:
                execution = _execute(config, plan, options, executor, writer)
            except BaseException as exc:
                finished = tuple(writer.finished)
                keys = {result.key for result in finished}
                unfinished = Execution(finished, sum(item.key not in keys for item in plan.todo), read)
                with contextlib.suppress(AttributeError):  # a few built-in exceptions take no attributes
                    exc.partial_report = _report(config, options, plan, unfinished, started_at, clock, exported)  # type: ignore[attr-defined]
                raise
    execution = Execution(execution.results, execution.left, read + execution.stats)
    return _report(config, options, plan, execution, started_at, clock, exported)


def _report(
    config: JobConfig,
    options: RunOptions,
    plan: Plan,
    execution: Execution,
    started_at: datetime,
    clock: float,
    exported: list[dict[str, Any]],
) -> JobReport:
    """The one place a JobReport is assembled."""
    return JobReport(
        config_path=str(config.source) if config.source else None,
        started_at=started_at,
        finished_at=datetime.now(timezone.utc),
        seconds=time.perf_counter() - clock,
        dry_run=options.dry_run,
        target_language=config.target_language,
        fingerprint=plan.fingerprint,
        found=plan.found,
        skipped=tuple(plan.skipped),
        planned=tuple(item.key for item in plan.todo),
        deferred=plan.deferred,
        left=execution.left + plan.unread,
        stopped=options.stop.reason if options.stop.requested else None,
        results=execution.results,
        stats=execution.stats,
        export=tuple(exported),
    )


def _unwritable(plan: Plan) -> tuple[ArticleResult, ...]:
    """The failures of inputs whose outputs would overwrite another's: failed at once."""
    return tuple(failed_result(failure, plan.fingerprint) for failure in plan.unwritable)


def _execute(
    config: JobConfig, plan: Plan, options: RunOptions, executor: Executor | None, writer: ResultWriter
) -> Execution:
    """Write what the plan already knows, then have the executor do the rest."""
    remove_stale_temp_files({(location.root, location.below_root) for location in plan.locations.values()})
    writer.prune()
    writer.restamp()
    unwritable = _unwritable(plan)
    writer.unwritable(zip(plan.unwritable, unwritable))
    for result in unwritable:
        logger.error("failed: %s: %s", result.key, result.error)
    if not plan.todo:
        return Execution(unwritable, 0, RunStats())
    done = (executor or configured_executor(config))(config, plan, options, writer)
    return Execution(unwritable + done.results, done.left, done.stats)
