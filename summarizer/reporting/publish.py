"""Writing what people, monitoring and data teams read: the night's export, report.json,
the daily digest, metrics."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .._version import __version__
from ..config import ReportsConfig
from ..errors import EXIT_ARTICLES_FAILED, EXIT_OK, OutputWriteError
from ..io.folders import atomic_write_text
from .export import export_night, point_latest
from .digest import day_articles, render_html, render_markdown
from .history import RunEntry, prune, record_run, recorded_runs
from .prometheus import metrics_path, write_metrics
from .report import JobReport, is_idle, outcome

logger = logging.getLogger(__name__)

#: Article counts exported as ``summarizer_last_run_articles{status=...}``.
ARTICLE_STATUSES = ("done", "skipped", "unsupported", "failed", "deferred", "left")


def publish(
    reports: ReportsConfig,
    report: JobReport | None,
    exit_code: int,
    *,
    config_path: Path | None,
    error: str | None = None,
) -> list[Path]:
    """Write the run's export and report, the day's digest, the latest-export pointer and
    the metrics; returns the files written.

    ``report`` is None when the run failed before it planned its work; ``error``
    says why a run failed as a whole (with or without a report of what it finished).
    OutputWriteError if a file cannot be written (not the export or its pointer: those are
    logged, and the export's failure recorded in the report).
    """
    now = datetime.now(timezone.utc)
    if report is not None:
        data = report.to_dict(exit_code)
        data["error"] = error
        started = report.started_at
    else:
        started = now
        data = {
            "summarizer_version": __version__,
            "started_at": now.isoformat(timespec="seconds"),
            "finished_at": now.isoformat(timespec="seconds"),
            "exit_code": exit_code,
            "config": {"path": str(config_path) if config_path else None},
            "error": error,
            "articles": [],
        }
    data["outcome"] = outcome(data)
    data["idle"] = is_idle(data)
    written: list[Path] = []
    config_name = config_path.stem if config_path else "summarizer"
    if reports.dir is not None:
        rows = report.export if report is not None and reports.export != "none" else ()
        exports: list[Path] = []

        def export(folder: Path) -> dict[str, Any]:  # into the run folder, before its report
            if not rows:
                return {}
            recorded = export_night(folder, rows, reports.export)
            exports.extend(folder / name for name in [recorded.get("export", {}).get("file")] if name)
            return recorded

        written.append(record_run(reports.dir, data, export))
        written += exports
        written += write_day_digest(reports.dir, started)
        prune(reports.dir, reports.keep_runs, str(config_path) if config_path else None)
        try:  # a pointer that cannot be written must not cost the metrics below
            pointer = point_latest(reports.dir, config_name, str(config_path) if config_path else None)
            written += [pointer] if pointer else []
        except OutputWriteError as exc:
            logger.error("the latest-export pointer could not be written: %s", exc)
    path = metrics_path(reports, config_name)
    if path is not None:
        counts = data.get("counts", {})
        write_metrics(
            path,
            config_name=config_name,
            finished_at=time.time(),
            duration_seconds=float(data.get("seconds", 0.0)),
            exit_code=exit_code,
            articles={k: counts.get(k, 0) for k in ARTICLE_STATUSES},
            tokens_per_second=float(data.get("tokens_per_second", 0.0)),
            completed=exit_code in (EXIT_OK, EXIT_ARTICLES_FAILED),
        )
        written.append(path)
    return written


def write_day_digest(root: Path, when: datetime) -> list[Path]:
    """(Re)write ``digest-YYYY-MM-DD.md`` and ``.html`` from all runs of that local day."""
    day = when.astimezone().date()
    runs = [entry for entry in recorded_runs(root) if entry.started_at.astimezone().date() == day]
    reports = [report for report in (entry.report() for entry in runs) if report is not None]
    entries = day_articles(reports)
    last = last_runs_line(runs) if runs else "No run recorded this day."
    markdown_path = root / f"digest-{day.isoformat()}.md"
    html_path = root / f"digest-{day.isoformat()}.html"
    atomic_write_text(markdown_path, render_markdown(day.isoformat(), last, entries, root))
    atomic_write_text(html_path, render_html(day.isoformat(), last, entries, root))
    return [markdown_path, html_path]


def last_runs_line(runs: list[RunEntry]) -> str:
    """How the night ended: the last run's outcome, or with several configs sharing the
    reports folder, the last run of each, those that did not end 0 first."""
    last: dict[str | None, RunEntry] = {}
    for entry in runs:
        last[entry.config] = entry
    mark = "" if all(entry.exit_code == EXIT_OK for entry in last.values()) else ATTENTION
    if len(last) == 1:
        (entry,) = last.values()
        return f"{mark}Last run ({_clock(entry)}): {entry.outcome}"
    ordered = sorted(last.values(), key=lambda e: (e.exit_code == EXIT_OK, e.config or ""))
    return f"{mark}Last runs: " + "; ".join(
        f"{Path(entry.config).stem if entry.config else '?'} ({_clock(entry)}): {entry.outcome}" for entry in ordered
    )


#: How the first line of a digest starts when a night did not end 0.
ATTENTION = "⚠ NOT OK: "


def _clock(entry: RunEntry) -> str:
    """The time a run ended, in UTC and, where it differs, in the machine's own zone."""
    when = entry.finished_at or entry.started_at
    utc, local = when.strftime("%H:%M UTC"), when.astimezone()
    if local.utcoffset() == when.utcoffset():
        return utc
    return f"{utc}, {local.strftime('%H:%M')} {local.tzname() or 'local'}"
