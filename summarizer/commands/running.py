"""``summarizer run``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ..config import JobConfig, reports_of, revision_warnings
from ..errors import (
    EXIT_ARTICLES_FAILED,
    EXIT_BUG,
    EXIT_CONFIG,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TEMPFAIL,
    ConfigError,
    LockHeldError,
    OutputWriteError,
    SummarizerError,
    exit_code_for,
)
from ..options import RunOptions
from ..pipeline import run_job
from ..reporting.publish import publish
from ..reporting.report import JobReport
from ..stopping import SignalHandlers
from .common import load_job_config, offline, require_inputs

logger = logging.getLogger("summarizer")


def run_command(args: argparse.Namespace) -> int:
    """``summarizer run``."""
    if not args.download:
        offline()
    try:
        config = load_job_config(args)
    except ConfigError as exc:
        if not args.dry_run:
            _record_config_failure(args.config, exc)
        raise
    require_inputs(config, args)
    for warning in revision_warnings(config):
        logger.info("%s", warning)
    options = RunOptions(
        force=args.force,
        dry_run=args.dry_run,
        limit=args.limit,
        show_progress=sys.stderr.isatty() and not args.quiet,
        allow_download=args.download,
    )
    return run_and_report(config, options)


def run_and_report(config: JobConfig, options: RunOptions) -> int:
    """Run the job under signal handlers, publish what happened (not for a dry run) and
    return the exit code; an error that stops the run is published, then raised."""
    stop = options.stop
    with SignalHandlers(stop) as handlers:
        try:
            report = run_job(config, options)
        except LockHeldError:  # another run's night: that run reports it
            raise
        except SummarizerError as exc:
            if not options.dry_run:
                _publish_quietly(config, exc, exit_code_for(exc), str(exc))
            raise
        except KeyboardInterrupt as exc:
            if not options.dry_run:
                code = getattr(exc, "exit_code", EXIT_INTERRUPTED)
                _publish_quietly(config, exc, code, "stopped at once by a second signal")
            raise
        except Exception as exc:  # a bug: the morning must still show that the night failed
            if not options.dry_run:
                _publish_quietly(config, exc, EXIT_BUG, f"internal error (a bug): {type(exc).__name__}: {exc}")
            raise
        if options.dry_run:
            _print_plan(report)
            return EXIT_OK
        if report.stopped:
            code = stop.exit_code or EXIT_TEMPFAIL
        else:
            code = EXIT_ARTICLES_FAILED if report.failed else EXIT_OK
        handlers.renew_grace()
        try:  # still under the signal handlers: a stop now lets the report be written
            publish(config.reports, report, code, config_path=config.source)
        except OutputWriteError as exc:
            logger.error("%s", exc)
            code = code or EXIT_TEMPFAIL
    if stop.requested and not report.stopped:
        logger.warning("%s after the night's work was done; its report was written", stop.reason)
    logger.log(logging.INFO if code == EXIT_OK else logging.WARNING, "%s", report.summary_line())
    return code


def _publish_quietly(config: JobConfig, exc: BaseException, code: int, error: str) -> None:
    """Publish a run that ``exc`` stopped, with what it had finished (its partial report)."""
    report: JobReport | None = getattr(exc, "partial_report", None)
    try:
        publish(config.reports, report, code, config_path=config.source, error=error)
    except OutputWriteError as failure:
        logger.debug("could not write the failure report: %s", failure)


def _record_config_failure(path: Path, exc: ConfigError) -> None:
    """A night whose config does not load is recorded where its reports go, when the file
    says (the digest and ``status`` then show it failed, not the night before)."""
    reports = reports_of(path)
    if reports is None:
        return
    try:
        publish(reports, None, EXIT_CONFIG, config_path=Path(path).resolve(), error=str(exc))
    except OutputWriteError as failure:
        logger.debug("could not record the failed night: %s", failure)


def _print_plan(report: JobReport) -> None:
    for key in report.planned:
        print(f"would process  {key}")
    for result in report.failed:
        print(f"would fail     {result.key}: {result.error}")
    for key in report.skipped:
        print(f"already done   {key}")
    failing = f", {len(report.failed)} would fail" if report.failed else ""
    print(f"dry run: {len(report.planned)} to process{failing}, {len(report.skipped)} already done")
