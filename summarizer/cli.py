"""The ``summarizer`` command: a thin client of the library.

This is the only module that configures logging and the only place where
errors become exit codes (``EXIT_CODES``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Callable, Sequence

from ._version import __version__
from .errors import ConfigError, ModelLoadError, SummarizerError
from .io.readers import InputPathError

logger = logging.getLogger("summarizer")

EXIT_OK = 0
EXIT_ARTICLES_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_INPUT = 66
EXIT_BUG = 70
EXIT_CONFIG = 78
EXIT_INTERRUPTED = 130

#: Exit code for each kind of error that stops a run (first match wins).
EXIT_CODES: tuple[tuple[type[SummarizerError], int], ...] = (
    (ConfigError, EXIT_CONFIG),
    (ModelLoadError, EXIT_CONFIG),
    (InputPathError, EXIT_NO_INPUT),
)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for all commands."""
    parser = argparse.ArgumentParser(
        prog="summarizer",
        description="Summarise and translate French news articles with Hugging Face models.",
    )
    parser.add_argument("--version", action="version", version=f"summarizer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="summarise and translate the articles not done yet",
        description="Summarise and translate every new or changed article; skip the rest.",
    )
    run.add_argument("-c", "--config", required=True, type=Path, help="YAML job config")
    run.add_argument(
        "--input",
        nargs="+",
        action="extend",
        type=Path,
        metavar="DIR_OR_FILE",
        help="read these files/folders instead of the config's inputs.paths",
    )
    run.add_argument(
        "--output-dir", type=Path, metavar="DIR", help="write results here, mirroring the inputs"
    )
    run.add_argument(
        "--limit", type=_positive_int, metavar="N", help="process at most N new articles"
    )
    run.add_argument("--force", action="store_true", help="redo articles already done")
    run.add_argument(
        "--dry-run", action="store_true", help="list what would be done; load no model, write nothing"
    )
    run.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    run.set_defaults(handler=_run_command)
    return parser


def configure_logging(verbose: bool) -> None:
    """Log lines to stderr; keep library chatter (transformers, hub, warnings) out of cron mail."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S")
    )
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
    logging.captureWarnings(True)
    warnings_logger = logging.getLogger("py.warnings")
    warnings_logger.handlers[:] = [handler]
    warnings_logger.setLevel(logging.WARNING if verbose else logging.ERROR)
    warnings_logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see README, "Exit codes")."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:  # --help, --version, or a usage error (already printed)
        return int(exit_request.code or 0)
    configure_logging(args.verbose)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except SummarizerError as exc:
        print(f"summarizer: error: {exc}", file=sys.stderr)
        return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), EXIT_BUG)
    except KeyboardInterrupt:
        print("summarizer: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:  # noqa: BLE001 - a bug: show the traceback
        traceback.print_exc()
        print("summarizer: internal error (this is a bug; please report it)", file=sys.stderr)
        return EXIT_BUG


def _run_command(args: argparse.Namespace) -> int:
    from .config import load_config
    from .pipeline import RunOptions, run_job

    config = load_config(args.config)
    config = config.with_overrides(
        input_paths=[p.absolute() for p in args.input] if args.input else None,
        output_dir=args.output_dir.absolute() if args.output_dir else None,
    )
    if not config.inputs.paths:
        raise ConfigError(f"{args.config}: inputs.paths: no inputs; set it or pass --input")
    options = RunOptions(
        force=args.force,
        dry_run=args.dry_run,
        limit=args.limit,
        show_progress=sys.stderr.isatty(),
    )
    report = run_job(config, options)
    if args.dry_run:
        for key in report.planned:
            print(f"would process  {key}")
        for key in report.skipped:
            print(f"already done   {key}")
        print(f"dry run: {len(report.planned)} to process, {len(report.skipped)} already done")
        return EXIT_OK
    logger.info(report.summary_line())
    return EXIT_ARTICLES_FAILED if report.failed else EXIT_OK
