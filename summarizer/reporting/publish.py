"""Writing what people and monitoring read: report.json, the daily digest, metrics."""

from __future__ import annotations

import json
import logging
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .._version import __version__
from ..config import ReportsConfig
from ..io.files import atomic_write_json, atomic_write_text
from .digest import day_articles, render_html, render_markdown
from .prometheus import merge_metrics, previous_completed, render_metrics
from .report import JobReport

logger = logging.getLogger(__name__)

RUN_FOLDER_FORMAT = "%Y-%m-%dT%H-%M-%SZ"
#: Article counts exported as ``summarizer_last_run_articles{status=...}``.
ARTICLE_STATUSES = ("done", "skipped", "unsupported", "failed", "deferred", "left")


def metrics_path(reports: ReportsConfig) -> Path | None:
    """Where the Prometheus textfile goes, if anywhere."""
    if reports.prometheus_file is not None:
        return reports.prometheus_file
    return reports.dir / "summarizer.prom" if reports.dir is not None else None


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
    written: list[Path] = []
    if reports.dir is not None:
        run_folder = _new_run_folder(reports.dir, started)
        atomic_write_json(run_folder / "report.json", data)
        written.append(run_folder / "report.json")
        written += write_day_digest(reports.dir, started)
        _prune(reports.dir, reports.keep_runs)
    path = metrics_path(reports)
    if path is not None:
        config_name = config_path.stem if config_path else "summarizer"
        try:
            existing = path.read_text(encoding="utf-8")
        except OSError:
            existing = ""
        counts = data.get("counts", {})
        rendered = render_metrics(
            config_name=config_name,
            finished_at=time.time(),
            duration_seconds=float(data.get("seconds", 0.0)),
            exit_code=exit_code,
            articles={k: counts.get(k, 0) for k in ARTICLE_STATUSES},
            tokens_per_second=float(data.get("tokens_per_second", 0.0)),
            last_completed=time.time() if exit_code in (0, 1) else previous_completed(existing, config_name),
        )
        atomic_write_text(path, merge_metrics(existing, rendered, config_name))
        written.append(path)
    return written


def _new_run_folder(root: Path, started: datetime) -> Path:
    name = started.astimezone(timezone.utc).strftime(RUN_FOLDER_FORMAT)
    folder, number = root / name, 1
    while folder.exists():
        number += 1
        folder = root / f"{name}-{number}"
    return folder


def _run_reports(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for report_file in sorted(root.glob("*/report.json")):
        try:
            found.append((report_file.parent, json.loads(report_file.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            logger.debug("unreadable run report %s", report_file)
    return found


def write_day_digest(root: Path, when: datetime) -> list[Path]:
    """(Re)write ``digest-YYYY-MM-DD.md`` and ``.html`` from all runs of that local day."""
    day = when.astimezone().date()
    nearby = {(day + timedelta(days=d)).isoformat() for d in (-1, 0, 1)}
    reports = []
    for folder, data in _run_reports(root):
        if folder.name[:10] not in nearby or not data.get("started_at"):
            continue
        if datetime.fromisoformat(data["started_at"]).astimezone().date() == day:
            reports.append(data)
    entries = day_articles(reports)
    markdown_path = root / f"digest-{day.isoformat()}.md"
    html_path = root / f"digest-{day.isoformat()}.html"
    atomic_write_text(markdown_path, render_markdown(day.isoformat(), entries, root))
    atomic_write_text(html_path, render_html(day.isoformat(), entries, root))
    return [markdown_path, html_path]


def _prune(root: Path, keep: int) -> None:
    folders = sorted(p for p in root.iterdir() if p.is_dir() and (p / "report.json").exists())
    for folder in folders[:-keep]:
        shutil.rmtree(folder, ignore_errors=True)
