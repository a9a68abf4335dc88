"""Writing what people and monitoring read: report.json, the daily digest, metrics."""

from __future__ import annotations

import logging
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .._version import __version__
from ..config import ReportsConfig
from ..errors import EXIT_ARTICLES_FAILED, EXIT_OK
from ..io.files import atomic_write_json, atomic_write_text, read_json_object
from .digest import day_articles, render_html, render_markdown
from .prometheus import metrics_path, write_metrics
from .report import JobReport, is_idle, outcome

logger = logging.getLogger(__name__)

RUN_FOLDER_FORMAT = "%Y-%m-%dT%H-%M-%SZ"
#: Article counts exported as ``summarizer_last_run_articles{status=...}``.
ARTICLE_STATUSES = ("done", "skipped", "unsupported", "failed", "deferred", "left")
#: Largest report.json read back (for the digest and ``status``).
MAX_REPORT_BYTES = 256 * 1024 * 1024


def publish(
    reports: ReportsConfig,
    report: JobReport | None,
    exit_code: int,
    *,
    config_path: Path | None,
    error: str | None = None,
) -> list[Path]:
    """Write the run's report, the day's digest and the metrics; returns the files written.

    ``report`` is None when the run failed before it started (``error`` says why).
    OutputWriteError if a file cannot be written.
    """
    now = datetime.now(timezone.utc)
    if report is not None:
        data = report.to_dict(exit_code)
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
    if reports.dir is not None:
        run_folder = _new_run_folder(reports.dir, started)
        atomic_write_json(run_folder / "report.json", data)
        written.append(run_folder / "report.json")
        written += write_day_digest(reports.dir, started)
        _prune(reports.dir, reports.keep_runs)
    config_name = config_path.stem if config_path else "summarizer"
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


def _new_run_folder(root: Path, started: datetime) -> Path:
    name = started.astimezone(timezone.utc).strftime(RUN_FOLDER_FORMAT)
    folder, number = root / name, 1
    while folder.exists():
        number += 1
        folder = root / f"{name}-{number}"
    return folder


def run_reports(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every run's report under ``root``, oldest first (unreadable ones are left out)."""
    found = []
    for report_file in sorted(root.glob("*/report.json")):
        data = read_json_object(report_file, MAX_REPORT_BYTES)
        if data is None:
            logger.debug("unreadable run report %s", report_file)
        else:
            found.append((report_file.parent, data))
    return found


def write_day_digest(root: Path, when: datetime) -> list[Path]:
    """(Re)write ``digest-YYYY-MM-DD.md`` and ``.html`` from all runs of that local day."""
    day = when.astimezone().date()
    nearby = {(day + timedelta(days=d)).isoformat() for d in (-1, 0, 1)}
    reports = []
    for folder, data in run_reports(root):
        if folder.name[:10] not in nearby or not data.get("started_at"):
            continue
        if datetime.fromisoformat(data["started_at"]).astimezone().date() == day:
            reports.append(data)
    entries = day_articles(reports)
    last = _last_run_line(reports[-1]) if reports else "No run recorded this day."
    markdown_path = root / f"digest-{day.isoformat()}.md"
    html_path = root / f"digest-{day.isoformat()}.html"
    atomic_write_text(markdown_path, render_markdown(day.isoformat(), last, entries, root))
    atomic_write_text(html_path, render_html(day.isoformat(), last, entries, root))
    return [markdown_path, html_path]


def _last_run_line(data: dict[str, Any]) -> str:
    """How the night ended: the day's last run, as its outcome says."""
    finished = data.get("finished_at") or data.get("started_at") or ""
    try:
        when = datetime.fromisoformat(finished).astimezone(timezone.utc).strftime("%H:%M UTC")
    except ValueError:
        when = "time unknown"
    return f"Last run ({when}): {data.get('outcome') or outcome(data)}"


def _prune(root: Path, keep: int) -> None:
    """Keep the ``keep`` latest runs that did something, and the ``keep`` latest runs
    that found nothing to do (they record the nights without pushing work out)."""
    reports = run_reports(root)
    busy = [folder for folder, data in reports if not data.get("idle")]
    idle = [folder for folder, data in reports if data.get("idle")]
    for folder in busy[:-keep] + idle[:-keep]:
        shutil.rmtree(folder, ignore_errors=True)
