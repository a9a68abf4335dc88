"""``summarizer export``: a day's or a date range's dataset, rebuilt from the outputs on disk.

For nights before the nightly export existed, or after its files were lost. The rows are
those the nights would have exported (``reporting.rebuild``), in one JSONL or Parquet file.
"""

from __future__ import annotations

import argparse
import logging
from datetime import date, datetime
from pathlib import Path

from ..config import load_config
from ..config.checks import parquet_unavailable
from ..errors import EXIT_ARTICLES_FAILED, EXIT_OK, ConfigError, UsageError
from ..reporting.export import EXPORT_FILE, write_export
from ..reporting.rebuild import rebuild_rows

logger = logging.getLogger("summarizer")


def export_command(args: argparse.Namespace) -> int:
    """``summarizer export``: exit 0, or 1 when some meta or results files could not be read."""
    config = load_config(args.config)
    if args.until and not args.since:
        raise UsageError("--until needs --since (the first day of the range)")
    first, last = args.since or args.day, args.until or args.since or args.day
    if first > last:
        raise UsageError(f"--since {first} is after --until {last}; give the earlier day first")
    suffix = args.output.suffix.lstrip(".") if args.output else ""
    export_format = args.format or (suffix if suffix in EXPORT_FILE else None) or (
        config.reports.export if config.reports.export != "none" else "jsonl"
    )
    parquet_problem = parquet_unavailable() if export_format == "parquet" else None
    if parquet_problem:
        raise UsageError(f"--format parquet: {parquet_problem}")
    target = args.output or _default_target(config.reports.dir, first, last, export_format, args.config)
    rebuilt = rebuild_rows(config, first, last)
    write_export(target, rebuilt.rows, export_format)
    print(f"{len(rebuilt.rows)} article(s) finished {_days(first, last)}: {target}")
    for path in rebuilt.unreadable:
        logger.error("cannot read %s: no readable JSON in it; its articles are left out", path)
    return EXIT_ARTICLES_FAILED if rebuilt.unreadable else EXIT_OK


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` argument (argparse type)."""
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day as YYYY-MM-DD") from None


def _default_target(reports: Path | None, first: date, last: date, export_format: str, config: Path) -> Path:
    if reports is None:
        raise ConfigError(f"{config}: reports.dir is not set, so the export has no default place; pass --output FILE")
    days = first.isoformat() if first == last else f"{first.isoformat()}_{last.isoformat()}"
    return reports / "exports" / f"export-{days}.{EXPORT_FILE[export_format].rsplit('.', 1)[1]}"


def _days(first: date, last: date) -> str:
    return f"on {first}" if first == last else f"from {first} to {last}"

